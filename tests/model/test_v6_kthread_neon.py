"""A kernel thread's preemptible task-context kernel-mode NEON (event kthread_kernel_neon,
v6.8+): the task ``kworker`` (`model.state.Layout.kworker`), a kernel thread the scheduler
may run on any CPU, with TIF_KERNEL_FPSTATE, thread.kernel_fpsimd_state and
kernel_fpsimd_cpu.

From v6.8 a kthread's section is saved into its own thread.kernel_fpsimd_state at a
context switch and reloaded when it runs again, on any CPU, as a user task's is; the 2018
argument that it is the softirq path on the idle thread (tests/test_scope_ledger.py) no
longer holds, so it is a step here.  v6.8/v6.9's elided reload (#15, fixed by
e92bee9f861b in v6.10) loses the kworker's own section; v6.10-v6.16 hold and prove."""

from __future__ import annotations

import pytest

from checker.explicit.explore import explore_bfs
from checker.instance import Instance
from checker.smt.bmc import bmc
from checker.smt.induction import prove
from model.config import Config
from model.ctx import Ctx
from model.dsl import ModelError
from model.variants import get_variant
from properties.fp import PROPERTY_NAMES

SMALL = dict(cpus=2, tasks=1, vmm_threads=0, vcpus=0, vhe=False,
             events=("kthread_kernel_neon",))


def _explore(variant, **cfg):  # noqa: ANN001, ANN202
    inst = Instance(Config(**{**SMALL, **cfg}), variant)
    res, _ = explore_bfs(inst, list(PROPERTY_NAMES))
    return inst, res


def test_the_kworker_is_a_migrating_kernel_thread_with_section_state() -> None:
    inst = Instance(Config(**SMALL), get_variant("v6.10"))
    S = inst.layout
    kw = S.tasks[S.kworker]
    assert kw.name == "kworker" and not kw.mm and S.kworker == 1 + 2  # T0, idle0, idle1
    assert kw.kernel_state is not None and S.TASK.labels[S.kworker] == "kworker"
    assert S.FPSTATE_PTR.labels[S.kernel_fpstate(S.kworker)] == "kworker.kernel"
    steps = {a.name for a in inst.actions}
    assert {"kthread_kernel_neon", "kthread_kernel_neon_end"} <= steps
    # it may be switched to on either CPU (it is not an idle thread)
    to_kworker = {dict(a.params)["cpu"] for a in inst.actions
                  if a.name == "schedule" and dict(a.params)["next"] == S.kworker}
    assert to_kworker == {0, 1}
    _, res = _explore(get_variant("v6.10"))
    for step in ("kthread_kernel_neon", "kthread_kernel_neon_end"):
        assert res.coverage.get(step), step
    # without the event there is no such task
    plain = Instance(Config(**{**SMALL, "events": ()}), get_variant("v6.10"))
    assert plain.layout.kworker is None and len(plain.layout.tasks) == 3


def test_kworker_section_is_lost_to_15_on_v69() -> None:
    """v6.8/v6.9: the kworker's section is saved on cpu0 (last->st = its kernel state), T0's
    section is reloaded there without touching last->st, and when the kworker runs again
    on cpu0 its reload is elided: it reads back T0's data (8 steps, shorter than #15's
    11-step trace through a user task's registers)."""
    for v in ("v6.8", "v6.9"):
        _, res = _explore(get_variant(v))
        trace = res.violations["no_loss"]
        actions = [s.action for s in trace.steps]
        assert len(actions) == 8, (v, actions)
        assert actions[-1] == "kthread_kernel_neon_end", (v, actions)


def test_bmc_finds_the_kworker_loss_at_the_same_length() -> None:
    inst = Instance(Config(**SMALL), get_variant("v6.9"))
    r = bmc(inst, ["no_loss"], 8).props["no_loss"]
    assert r.verdict == "VIOLATED" and r.depth == 8


@pytest.mark.parametrize("v", ["v6.10", "v6.14", "v6.16"])
def test_fixed_versions_hold_and_prove_with_a_kworker(v: str) -> None:
    inst, res = _explore(get_variant(v))
    assert res.complete and not res.violations, (v, list(res.violations))
    assert res.stats.states == 7722, res.stats.states
    report = prove(inst, list(PROPERTY_NAMES))
    assert report.verdict == "PROVED", [o.name for o in report.obligations if not o.ok]


def _switch_save_prev_by_mm(k: Ctx) -> None:
    """fpsimd_thread_switch()'s first statement as if it tested current->mm: a kernel
    thread's section is not saved at the switch (the kernel does not do this; a mutant)."""
    if k.cur.mm:
        with k.If(k.test_thread_flag("TIF_KERNEL_FPSTATE")):
            k.fpsimd_save_kernel_state(k.current)
        with k.Else():
            k.fpsimd_save_user_state()
    else:
        k.fpsimd_save_user_state()


def test_an_unsaved_kworker_section_is_caught() -> None:
    """The kworker's section is checked: a mutant that does not save it at a switch
    loses it (no_loss) or trips a kernel assertion."""
    mutant = get_variant("v6.10").derive(
        "v6.10-kthread-unsaved", "v6.10 not saving a kernel thread's section at a switch",
        fpsimd_thread_switch_save_prev=_switch_save_prev_by_mm)
    _, res = _explore(mutant)
    assert "no_loss" in res.violations
    assert res.violations["no_loss"].steps[-1].action == "kthread_kernel_neon_end"


@pytest.mark.parametrize("v", ["v4.18", "v6.1"])
def test_event_is_refused_where_kernel_neon_is_not_preemptible(v: str) -> None:
    with pytest.raises(ModelError, match="kthread_kernel_neon"):
        Instance(Config(**SMALL), get_variant(v))
