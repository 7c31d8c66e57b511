"""SVE vcpus (Config.sve_guest, `--sve-guest`) on v6.8, v6.9, v6.10 and v6.12: their KVM SVE
code is v6.13's (compared file by file, model/variants/v6.py "SVE vcpus"), so they have
#20 (59419f10045b "KVM: arm64: Eagerly switch ZCR_EL{1,2}", v5.12-v6.13) and, with an SVE
vcpu too, #17 (fbc7e61195e2): explore finds both at the small configuration of
tests/model/test_v6_sve_guest.py, and v6.13's curated #20 trace replays on v6.10 and
v6.12 (v6.8/v6.9 keep the owner in vcpu->arch.fp_state: another layout, the same 9 steps
found by their own explore)."""

from __future__ import annotations

import pytest

from checker.explicit.explore import explore_bfs
from checker.inspect.load import load
from checker.inspect.replay import build_instance, replay
from checker.instance import Instance
from checker.native.explore import explore_native
from model.config import Config
from model.dsl import ModelError
from model.variants import get_variant
from model.variants.v6 import check_sve_guest_config, handle_host_sve_trap

from .probe import Probe
from .test_v6_sve_guest import CURATED as CURATED_20
from .test_v6_sve_guest import SMALL, WARN

PRE_2025 = ("v6.8", "v6.9", "v6.10", "v6.12")
# the 9 steps of #20 (v6.13's curated trace): the VMM thread enters the guest, the SVE
# guest's first FP access traps, it exits owning the registers and a softirq's
# kernel-mode NEON saves them at the wrong VL
STEPS_20 = ["schedule", "ret_to_user", "ret_to_user", "kvm_run", "vcpu_load", "enter_guest",
            "guest_fp_trap", "guest_exit", "irq"]


# ------------------------------------------------------------------ configuration
@pytest.mark.parametrize("variant", PRE_2025)
def test_sve_vcpus_are_accepted_on_v68_to_v612(variant: str) -> None:
    Instance(Config(**SMALL), get_variant(variant))


@pytest.mark.parametrize("variant", ["seed", "v4.18"])
def test_sve_vcpus_are_refused_where_not_modelled(variant: str) -> None:
    """The 2018 variants have no SVE-vcpu KVM code (`check_sve_guest_config`; v6.1's is
    modelled: tests/model/test_v6_1_sve_guest.py)."""
    assert check_sve_guest_config
    with pytest.raises(ModelError, match="sve-guest"):
        Instance(Config(**SMALL), get_variant(variant))


# ------------------------------------------------------------------ C semantics
@pytest.mark.parametrize("variant", ["v6.9", "v6.10"])
def test_host_sve_trap_restores_the_host_max_in_zcr_el2(variant: str) -> None:
    """handle_trap()'s ESR_ELx_EC_SVE case (v6.8-v6.10: ZCR_EL2 = ZCR_ELx_LEN_MASK, in
    effect the largest length; v6.12/v6.13 kvm_host_sve_max_vl): TZ cleared, ZCR_EL2 =
    256, the guest's ZCR_EL1 left."""
    assert handle_host_sve_trap
    st, viol = Probe(variant, **{k: v for k, v in SMALL.items() if k != "preemption"}).run(
        "handle_host_sve_trap", **{"cpu0.CPTR_EL2.TZ": "1", "cpu0.ZCR_EL2.LEN": "128",
                                   "cpu0.ZCR_EL1.LEN": "128"})
    assert not viol
    assert (st["cpu0.CPTR_EL2.TZ"], st["cpu0.ZCR_EL2.LEN"], st["cpu0.ZCR_EL1.LEN"]) == \
        ("0", "256", "128")


def test_v69_hyp_saves_the_host_through_vcpu_arch_host_fpsimd_state_then_restores_sve() -> None:
    """v6.9 kvm_hyp_handle_fpsimd() for an SVE vcpu: FPEN|ZEN untrapped (CPTR_EL2.TFP/TZ
    cleared), the host's FPSIMD state saved through vcpu->arch.host_fpsimd_state (owner in
    vcpu->arch.fp_state), the guest restored from sve_state at its max VL."""
    p = Probe("v6.9", **{k: v for k, v in SMALL.items() if k != "preemption"})
    st, viol = p.run("fixup_guest_exit_fp", 0, **{
        "vcpu0.arch.fp_state": "HOST_OWNED", "vcpu0.host_fpsimd_state": "vmm0.uw",
        "cpu0.regs.v": "vmm0", "vmm0.uw.v": "vmm0~", "vcpu0.sve_state.zhi": "G0",
        "cpu0.CPTR_EL2.TFP": "1", "cpu0.CPTR_EL2.TZ": "1", "cpu0.ZCR_EL2.LEN": "128"})
    assert not viol
    assert st["vmm0.uw.v"] == "vmm0" and st["cpu0.regs.zhi"] == "G0"
    assert (st["cpu0.CPTR_EL2.TFP"], st["cpu0.CPTR_EL2.TZ"]) == ("0", "0")
    assert st["cpu0.ZCR_EL2.LEN"] == "256" and st["vcpu0.arch.fp_state"] == "GUEST_OWNED"


# ------------------------------------------------------------------ #20 and #17
@pytest.mark.parametrize("variant", PRE_2025)
def test_pre_2025_kvm_has_bug_20_on_nvhe(variant: str) -> None:
    """Explore finds #20's WARN in 9 steps, the steps of v6.13's curated trace."""
    res, _ = explore_bfs(Instance(Config(**SMALL), get_variant(variant)), ["kernel_asserts"],
                         stop_early=True)
    trace = res.violations["kernel_asserts"]
    assert WARN in trace.violation
    assert [s.action for s in trace.steps] == STEPS_20


@pytest.mark.parametrize("variant", ["v6.9", "v6.12"])
def test_pre_2025_kvm_has_bug_17_with_an_sve_vcpu(variant: str) -> None:
    """VHE (no #20 without nested virtualisation): no_loss in 12 steps, #17 (the VMM's V
    registers lost through fpsimd_kvm_prepare()'s stale sve_state), as on v6.13."""
    res, _ = explore_native(Instance(Config(**SMALL, vhe=True), get_variant(variant)),
                            ["no_loss", "kernel_asserts"])
    assert res.complete
    assert "kernel_asserts" not in res.violations
    assert len(res.violations["no_loss"].steps) == 12
    assert "fpsimd_kvm_prepare" in {f for s in res.violations["no_loss"].steps
                                    for f in s.functions}


@pytest.mark.parametrize("variant", ["v6.10", "v6.12"])
def test_curated_bug_20_replays_on_v610_and_v612(variant: str) -> None:
    trace = load(str(CURATED_20))
    assert replay(trace, build_instance(trace, variant, {})).reproduces
