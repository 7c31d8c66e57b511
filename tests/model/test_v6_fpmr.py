"""FPMR (`--fpmr`, `--guest-fpmr`) on the v6 variants (model/variants/v6.py): each FPMR
statement against the C it mirrors, the host FPMR loss of v6.9-v6.13 (#17's FPMR part) and
v6.14's fix."""

from __future__ import annotations

import pytest

from checker.explicit.explore import explore_bfs
from checker.instance import Instance
from checker.smt.induction import prove
from model.config import Config, kconfig_preset
from model.dsl import ModelError
from model.state import Layout
from model.variants import get_variant
from properties.fp import PROPERTY_NAMES
from tests.checker.smt.test_lemmas import check_lemmas_on_reachable_states

from .probe import Probe

PREEMPT = kconfig_preset("preempt")
# One CPU, the VMM thread alone, one vcpu: the smallest setting with a guest.
VMM = dict(cpus=1, tasks=0, vmm_threads=1, vcpus=1, vhe=False, **PREEMPT)


def _explore(variant: str, **cfg):  # noqa: ANN202
    res, _ = explore_bfs(Instance(Config(preemption="merged", **{**VMM, **cfg}),
                                  get_variant(variant)), list(PROPERTY_NAMES))
    assert res.complete
    return res


# ------------------------------------------------------------------ configuration
@pytest.mark.parametrize("variant", ["v4.18", "v6.1", "v6.8"])
def test_fpmr_is_refused_where_the_code_has_none(variant: str) -> None:
    with pytest.raises(ModelError, match="--fpmr is not modelled"):
        Instance(Config(fpmr=True, **VMM), get_variant(variant))


@pytest.mark.parametrize("variant", ["v6.9", "v6.10"])
def test_guest_fpmr_is_refused_before_kvm_supports_it(variant: str) -> None:
    with pytest.raises(ModelError, match="kvm_has_fpmr"):
        Instance(Config(fpmr=True, guest_fpmr=True, **VMM), get_variant(variant))


def test_guest_fpmr_needs_fpmr_and_a_vcpu() -> None:
    with pytest.raises(ValueError, match="needs --fpmr"):
        Config(guest_fpmr=True)
    with pytest.raises(ValueError, match="needs a vcpu"):
        Config(fpmr=True, guest_fpmr=True, vcpus=0, vmm_threads=1)
    # (--sme with --fpmr is a modelled configuration: tests/model/test_v6_sme_fpmr.py)
    assert Config(fpmr=True, sme=True, vcpus=0).fpmr


def test_fpmr_state_exists_only_with_the_option() -> None:
    features = frozenset(get_variant("v6.14").option("state_features", ()))
    names = [v.name for v in Layout(Config(**VMM), features).vars]
    assert not [n for n in names if "FPMR" in n or "fpmr" in n]
    names = [v.name for v in Layout(Config(fpmr=True, **VMM), features).vars]
    assert {"cpu0.regs.fpmr", "vmm0.uw.fpmr", "vcpu0.fp_regs.fpmr"} <= set(names)
    cfg = Config(fpmr=True, guest_fpmr=True, **VMM)
    assert Config.from_json(cfg.to_json()) == cfg
    assert "fpmr" not in Config(**VMM).to_json()


# ------------------------------------------------------------------ C semantics
def probe(variant: str, **cfg) -> Probe:
    return Probe(variant, **{**VMM, "fpmr": True, **cfg})


def test_task_fpsimd_load_writes_fpmr_from_thread_uw() -> None:
    """v6.9+ task_fpsimd_load(): FPMR = current->thread.uw.fpmr (v6.16 as well)."""
    for variant in ("v6.10", "v6.16"):
        out, viol = probe(variant).run(
            "task_fpsimd_load", **{"cpu0.current": "vmm0", "cpu0.preempt_count": "1",
                                   "vmm0.uw.fpmr": "vmm0", "cpu0.regs.fpmr": "0"})
        assert not viol and out["cpu0.regs.fpmr"] == "vmm0"


def test_save_stores_fpmr_through_the_binding() -> None:
    """fpsimd_save_user_state(): *(last->fpmr) = FPMR, for a task's binding its uw.fpmr, for
    a vcpu's (ctxsync's cpu_fp_state) the vcpu's FPMR, whether or not the VM has FPMR."""
    live = {"cpu0.current": "vmm0", "cpu0.preempt_count": "1", "cpu0.regs.fpmr": "vmm0",
            "vmm0.TIF_FOREIGN_FPSTATE": "0", "vmm0.uw.fpmr": "vmm0~"}
    out, _ = probe("v6.13").run("fpsimd_save_user_state",
                                **live, **{"cpu0.fpsimd_last_state.st": "vmm0.uw"})
    assert out["vmm0.uw.fpmr"] == "vmm0"
    out, _ = probe("v6.13").run("fpsimd_save_user_state",
                                **live, **{"cpu0.fpsimd_last_state.st": "vcpu0.fp_regs"})
    assert out["vmm0.uw.fpmr"] == "vmm0~" and out["vcpu0.fp_regs.fpmr"] == "vmm0"
    out, _ = probe("v6.13").run("fpsimd_save_user_state", **{
        **live, "cpu0.fpsimd_last_state.st": "vmm0.uw", "vmm0.TIF_FOREIGN_FPSTATE": "1"})
    assert out["vmm0.uw.fpmr"] == "vmm0~"  # returns before the FPMR statement


def test_hyp_saves_the_host_fpmr_only_for_a_vm_with_fpmr() -> None:
    """kvm_hyp_handle_fpsimd() with the host owning the registers: v6.12/v6.13 save the
    host's FPMR through host_data->fpmr_ptr only if kvm_has_fpmr(), then restore the
    guest's FPMR (same condition); v6.10 has neither statement."""
    state = {"cpu0.current": "vmm0", "cpu0.host_data.fp_owner": "HOST_OWNED",
             "cpu0.host_data.fpsimd_state": "vmm0.uw", "cpu0.regs.fpmr": "vmm0",
             "vmm0.uw.fpmr": "vmm0~", "vcpu0.fp_regs.fpmr": "G0", "vmm0.pc": "IN_GUEST",
             "vcpu0.mutex": "vmm0"}
    out, _ = probe("v6.13", guest_fpmr=True).run("fixup_guest_exit_fp", 0, **state)
    assert out["vmm0.uw.fpmr"] == "vmm0" and out["cpu0.regs.fpmr"] == "G0"
    for variant in ("v6.10", "v6.13"):
        out, _ = probe(variant).run("fixup_guest_exit_fp", 0, **state)
        assert out["vmm0.uw.fpmr"] == "vmm0~" and out["cpu0.regs.fpmr"] == "vmm0"


# ------------------------------------------------------------------ verdicts
def test_host_fpmr_is_lost_for_a_vm_without_fpmr_until_v614() -> None:
    """#17's FPMR part: the VMM thread writes FPMR and runs a guest (whose VM has no FPMR)
    that uses FP; hyp saves the host's V registers but not FPMR (v6.12/v6.13: only if the VM
    has FPMR; v6.9-v6.11: never), ctxsync binds the vcpu's FPMR, and put_fp's save stores
    the live host FPMR into the vcpu: the thread reloads its stale thread.uw.fpmr (no_loss,
    13 steps).  v6.10 has it although fbc7e61195e2's Fixes tag names v6.12's ef3be86021c3.
    v6.13 with a VM that has FPMR, and v6.14 (save+flush at vcpu load) hold."""
    for variant in ("v6.10", "v6.13"):
        res = _explore(variant, fpmr=True)
        assert set(res.violations) == {"no_loss"}
        trace = res.violations["no_loss"]
        assert len(trace.steps) == 13
        assert trace.steps[-1].state["cpu0.regs.fpmr"] == "vmm0~"
    assert not _explore("v6.13", fpmr=True, guest_fpmr=True).violations
    assert not _explore("v6.14", fpmr=True).violations
    assert not _explore("v6.14", fpmr=True, guest_fpmr=True).violations


# ------------------------------------------------------------------ prove
@pytest.mark.parametrize("guest_fpmr", [False, True])
def test_v614_with_fpmr_lemmas_hold_and_prove(guest_fpmr: bool) -> None:
    """The v6.14 lemmas (the guest ones claim FPMR only for a VM with FPMR) hold in every
    reachable state with FPMR, and `prove` proves v6.14 --fpmr there (the CLI proves the
    default sizes, README)."""
    cfg = dict(VMM, fpmr=True, guest_fpmr=guest_fpmr)
    res = check_lemmas_on_reachable_states("v6.14", cfg)
    assert res.stats.states > 0
    proof = prove(Instance(Config(**cfg), get_variant("v6.14")), list(PROPERTY_NAMES))
    bad = [(o.name, o.initiation, o.consecution) for o in proof.obligations if not o.ok]
    assert proof.verdict == "PROVED", bad
