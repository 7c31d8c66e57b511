"""model.state.WindowFacts: what the build knows at a continuation point (model/ctx.py
`_window_facts`): the vcpu mutexes the waiting task holds and the FP slots its step has
already stored of a new generation.  The lemmas of a task preempted inside a step read
them (properties/lemmas.py mutex_by_pc, _guest_saved_latest,
generation_only_where_stored)."""

from __future__ import annotations

from checker.instance import Instance
from model.config import Config
from model.variants import get_variant


def _facts(variant: str, **cfg) -> dict:  # noqa: ANN003
    inst = Instance(Config(**{"cpus": 1, "vhe": True, **cfg}), get_variant(variant))
    where = dict(inst.layout.pc_where)
    return {pc: (where[pc], f) for pc, f in inst.layout.pc_facts}


def test_set_one_reg_of_an_sve_vcpu_stores_register_by_register() -> None:
    facts = _facts("v6.14", tasks=0, sve=True, sve_guest=True, events=("set_one_reg",))
    g0 = 2 + 2 * 1  # vcpu0's guest is owner 1 (after the VMM thread): its latest token
    by_text = {text.split(": ", 1)[1]: f for text, f in facts.values()
               if text.startswith("kvm_arm_set_reg")}
    before_v = by_text["the write of vcpu0.sve_state.v"]
    before_zhi = by_text["the write of vcpu0.sve_state.zhi"]
    assert before_v.held == {0} and before_zhi.held == {0}
    assert before_v.tokens == {("vcpu0.fp_regs.fpsr", g0)}
    # an IRQ's kernel-mode NEON inlined between the writes does not hide them
    assert before_zhi.tokens == {("vcpu0.fp_regs.fpsr", g0), ("vcpu0.sve_state.v", g0)}
    # before the mutex is taken (el0_svc's windows) nothing is held or stored
    entry = [f for text, f in facts.values() if text.startswith("el0_svc")]
    assert entry and all(not f.held and not f.tokens for f in entry)


def test_facts_are_those_of_every_task_waiting_there() -> None:
    """Two VMM threads share the continuation points (one label per step family): each
    holds the vcpu's mutex there, so `held` survives the intersection; each of them
    stores the same guest's slots."""
    facts = _facts("v4.18", tasks=0, vmm_threads=2, events=("set_one_reg",))
    (text, f), = [v for pc, v in facts.items() if pc.startswith("set_one_reg@")]
    assert text.endswith("the write of vcpu0.fp_regs.fpsr")
    assert f.held == {0} and f.tokens == {("vcpu0.fp_regs.v", 2 + 2 * 2)}


def test_kvm_run_windows_hold_the_vcpu() -> None:
    facts = _facts("v6.14", events=("vcpu_reset",))
    run = [f for pc, (_, f) in facts.items() if pc.startswith("enter_guest@")]
    assert run and all(f.held == {0} for f in run)
