"""SVE vcpus (Config.sve_guest, `--sve-guest`) on v6.16, v6.16-rc3 and v6.16-ptrace-fixes:
v6.14's KVM SVE code (model/variants/v6_16.py) with v6.16's host side, where the save
reads fpsimd_last_state.to_save: ctxsync binds an SVE vcpu with FP_STATE_SVE, and
fpsimd_save_user_state() saves it SVE-format at its max VL after the VL check.  #20 (the
VL mismatch of v5.12-v6.13) does not reproduce, and every property holds at the small
configuration of tests/model/test_v6_sve_guest.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.explicit.explore import explore_bfs
from checker.inspect.load import load
from checker.inspect.replay import build_instance, replay
from checker.instance import Instance
from checker.native.explore import explore_native
from checker.smt.induction import prove
from model.config import Config, kconfig_preset
from model.variants import get_variant
from model.variants.v6_16 import fpsimd_bind_state_to_cpu_v616, fpsimd_save_user_state_v616
from properties.fp import PROPERTY_NAMES

from .probe import Probe

PREEMPT = kconfig_preset("preempt")
# One CPU, the VMM thread alone, one SVE vcpu, two VLs (as tests/model/test_v6_sve_guest.py)
SMALL = dict(cpus=1, tasks=0, vmm_threads=1, vcpus=1, sve=True, sve_vls=(128, 256),
             sve_guest=True, **PREEMPT)
V616 = ("v6.16", "v6.16-rc3", "v6.16-ptrace-fixes")
CURATED_20 = Path(__file__).resolve().parents[2] / "counterexamples" / \
    "v6.13-kernel_asserts-nvhe-c1t0v1m1-sveguest-debug-explicit-bfs.json"
WARN = "WARN_ON(sve_get_vl() != vl)"


def probe(variant: str = "v6.16", vhe: bool = False) -> Probe:
    return Probe(variant, **SMALL, vhe=vhe)


# ------------------------------------------------------------------ configuration
@pytest.mark.parametrize("variant", V616)
def test_v616_accepts_sve_vcpus(variant: str) -> None:
    # with --sme too: tests/model/test_v6_sme_sve_guest.py
    Instance(Config(**SMALL, preemption="merged"), get_variant(variant))


def test_to_save_has_fp_state_sve_only_with_sve_vcpus() -> None:
    """fpsimd_last_state.to_save gains FP_STATE_SVE only where an SVE vcpu can be bound, so
    every configuration without --sve-guest keeps its states and traces."""
    S = probe().layout
    assert S.by_name["cpu0.fpsimd_last_state.to_save"].dom.labels == ("CURRENT", "FPSIMD",
                                                                       "SVE")
    plain = Probe("v6.16", cpus=1, tasks=0, vmm_threads=1, vcpus=1, sve=True, vhe=True)
    assert plain.layout.by_name["cpu0.fpsimd_last_state.to_save"].dom.labels == \
        ("CURRENT", "FPSIMD")


# ------------------------------------------------------------------ C semantics
def test_ctxsync_binds_an_sve_vcpu_with_to_save_sve() -> None:
    """kvm_arch_vcpu_ctxsync_fp() (v6.14-v6.18): fp_state.to_save = FP_STATE_SVE for an SVE
    vcpu; fpsimd_bind_state_to_cpu() copies it into fpsimd_last_state."""
    assert fpsimd_bind_state_to_cpu_v616
    st, viol = probe().run("kvm_arch_vcpu_ctxsync_fp", 0, **{
        "cpu0.host_data.fp_owner": "GUEST_OWNED", "cpu0.irqs_disabled": "1",
        "cpu0.fpsimd_last_state.to_save": "CURRENT"})
    assert not viol
    assert st["cpu0.fpsimd_last_state.st"] == "vcpu0.fp_regs"
    assert st["cpu0.fpsimd_last_state.to_save"] == "SVE"
    assert st["vmm0.TIF_FOREIGN_FPSTATE"] == "0"


BOUND = {"cpu0.current": "vmm0", "cpu0.fpsimd_last_state.st": "vcpu0.fp_regs",
         "cpu0.fpsimd_last_state.to_save": "SVE", "vmm0.TIF_FOREIGN_FPSTATE": "0",
         "cpu0.regs.zhi": "G0", "cpu0.regs.p": "G0", "vcpu0.sve_state.zhi": "G0~",
         "vcpu0.sve_state.p": "G0~", "cpu0.preempt_count": "1"}


@pytest.mark.parametrize("vhe", [False, True])
def test_v616_saves_a_bound_sve_vcpu_sve_format_at_its_max_vl(vhe: bool) -> None:
    """fpsimd_save_user_state() (398edaa12f9c): to_save == FP_STATE_SVE saves Z/P/FFR into
    vcpu->arch.sve_state at vl = sve_max_vl (256 here), which the host runs at after
    fpsimd_lazy_switch_to_host() (nVHE ZCR_EL1, VHE ZCR_EL2)."""
    assert fpsimd_save_user_state_v616
    st, viol = probe(vhe=vhe).run("fpsimd_save_user_state",
                                  **BOUND, **{"cpu0.ZCR_EL1.LEN": "256"})
    assert not viol
    assert st["vcpu0.sve_state.zhi"] == "G0" and st["vcpu0.sve_state.p"] == "G0"


def test_v616_save_at_another_vl_warns_and_saves_nothing() -> None:
    """The VL check (WARN_ON(sve_get_vl() != vl), SIGKILL) is v6.16's too: at VL 128 the
    SVE vcpu's state is not saved."""
    st, viol = probe().run("fpsimd_save_user_state", **BOUND, **{"cpu0.ZCR_EL1.LEN": "128"})
    assert any(WARN in v for v in viol)
    assert st["vcpu0.sve_state.zhi"] == "G0~"


def test_v616_save_of_an_sve_vcpu_in_fpsimd_format_when_to_save_says_so() -> None:
    """With to_save FP_STATE_FPSIMD (what fpsimd_syscall_enter() writes) the same binding is
    saved FPSIMD-only: V/FPSR into fp_regs, sve_state left alone (the save follows to_save,
    not the binding's kind)."""
    st, viol = probe().run("fpsimd_save_user_state", **{
        **BOUND, "cpu0.fpsimd_last_state.to_save": "FPSIMD", "cpu0.ZCR_EL1.LEN": "256",
        "cpu0.regs.v": "G0", "vcpu0.fp_regs.v": "G0~"})
    assert not viol
    assert st["vcpu0.fp_regs.v"] == "G0" and st["vcpu0.sve_state.zhi"] == "G0~"


def test_v616_task_save_checks_the_tasks_vl() -> None:
    """A task's SVE save (to_save CURRENT, TIF_SVE) checks RDVL against its thread.sve_vl
    (v6.16 had no VL check in the model before SVE vcpus)."""
    task = {"cpu0.current": "vmm0", "cpu0.fpsimd_last_state.st": "vmm0.uw",
            "vmm0.TIF_FOREIGN_FPSTATE": "0", "vmm0.TIF_SVE": "1", "cpu0.preempt_count": "1",
            "vmm0.sve_vl": "128"}
    st, viol = probe().run("fpsimd_save_user_state", **task, **{"cpu0.ZCR_EL1.LEN": "128"})
    assert not viol and st["vmm0.fp_type"] == "SVE"
    st, viol = probe().run("fpsimd_save_user_state", **task, **{"cpu0.ZCR_EL1.LEN": "256"})
    assert any(WARN in v for v in viol) and st["vmm0.fp_type"] == "FPSIMD"


# ------------------------------------------------------------------ explore
# (13,947, 14,595 and 15,513 before P_GHOST's P_ZERO, model/state.py)
STATES = {("v6.16", False): 14_014, ("v6.16", True): 14_662,
          ("v6.16-rc3", False): 14_014, ("v6.16-rc3", True): 15_580,
          ("v6.16-ptrace-fixes", False): 14_014, ("v6.16-ptrace-fixes", True): 15_580}


@pytest.mark.parametrize("variant", V616)
@pytest.mark.parametrize("vhe", [False, True])
def test_v616_holds_every_property_with_an_sve_vcpu(variant: str, vhe: bool) -> None:
    """Explore (one CPU, the VMM thread, one SVE vcpu, VLs 128/256): every property holds
    in both hyp modes; rc3's VHE CPTR rework (host EL0 SVE untrapped after an exit until
    the next bind) adds states but no violation."""
    cfg = Config(**SMALL, vhe=vhe, preemption="merged")
    res, _ = explore_native(Instance(cfg, get_variant(variant)), list(PROPERTY_NAMES))
    assert res.complete and not res.violations, sorted(res.violations)
    assert res.stats.states == STATES[(variant, vhe)]


@pytest.mark.parametrize("vhe", [False, True])
def test_v616_holds_with_set_one_reg_of_an_sve_vcpu(vhe: bool) -> None:
    """KVM_SET_ONE_REG / GET_ONE_REG of an SVE vcpu (guest.c set_sve_reg(), the same text
    from v6.8 to v6.18.2) with v6.16's host side: every property holds (the other events:
    bench/bench_sve_guest_events.py)."""
    cfg = Config(**SMALL, vhe=vhe, events=("set_one_reg",), preemption="merged")
    res, _ = explore_native(Instance(cfg, get_variant("v6.16-ptrace-fixes")),
                            list(PROPERTY_NAMES))
    assert res.complete and not res.violations, sorted(res.violations)
    # (24,329 and 16,967 before P_GHOST's P_ZERO, model/state.py)
    assert res.stats.states == (24_396 if vhe else 17_034)


def test_curated_bug_20_does_not_reproduce_on_v616() -> None:
    trace = load(str(CURATED_20))
    for variant in V616:
        assert not replay(trace, build_instance(trace, variant, {})).reproduces, variant


def test_v616_binding_an_sve_vcpu_as_fpsimd_loses_its_sve_state() -> None:
    """The to_save of ctxsync's binding matters: v6.16 with an SVE vcpu bound as
    FP_STATE_FPSIMD (as the model had it before SVE vcpus) loses the guest's Z bits above
    127 and P/FFR at the next save (no_loss), so the properties see the difference."""
    from model.variants import v6_16

    def bind_as_fpsimd(k, st) -> None:  # noqa: ANN001
        k.check(k.in_softirq() | k.irqs_disabled(), "WARN", "fpsimd_bind_state_to_cpu",
                "WARN_ON(!in_softirq() && !irqs_disabled())")
        k.set(k.this_cpu.last_st, st)
        v6_16._set_to_save(k, "FPSIMD")

    wrong = get_variant("v6.16-ptrace-fixes").derive(
        "v6.16-sve-vcpu-as-fpsimd", "ctxsync's to_save FP_STATE_FPSIMD for an SVE vcpu",
        fpsimd_bind_state_to_cpu=bind_as_fpsimd)
    res, _ = explore_bfs(Instance(Config(**SMALL, preemption="merged"), wrong), ["no_loss"],
                         stop_early=True)
    assert "no_loss" in res.violations


# ------------------------------------------------------------------ prove
@pytest.mark.parametrize("vhe", [False, True])
def test_v616_ptrace_fixes_is_proved_with_an_sve_vcpu(vhe: bool) -> None:
    """`prove` proves v6.16-ptrace-fixes at the small configuration (the v6.14 SVE-vcpu
    lemmas and v616_sve_vcpu_binding_to_save_sve)."""
    proof = prove(Instance(Config(**SMALL, vhe=vhe, preemption="merged"),
                           get_variant("v6.16-ptrace-fixes")), list(PROPERTY_NAMES))
    bad = [(o.name, o.initiation, o.consecution) for o in proof.obligations if not o.ok]
    assert proof.verdict == "PROVED", bad
