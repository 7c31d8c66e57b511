"""KVM with ``--sme``: the optional events set_one_reg and vcpu_reset (no longer refused),
and AArch32 vcpus (``--aarch32-guest``).

The events:

arch/arm64/kvm/arm.c kvm_arch_vcpu_ioctl(KVM_SET_ONE_REG) and reset.c kvm_reset_vcpu()
(read in v6.10.0 and v6.18.2) have no SME statement of their own: the ioctl's syscall entry
(SM cleared, ZA kept) and a loaded vcpu's reset, kvm_arch_vcpu_put() then
kvm_arch_vcpu_load() around the memset of the vcpu's fp_regs, are the SME-aware el0_svc,
kvm_arch_vcpu_put_fp and kvm_arch_vcpu_load_fp of the variants' tables
(model/variants/v6_sme.py)."""

from __future__ import annotations

import pytest

from checker.instance import Instance
from checker.native.explore import explore_native
from model.config import Config, kconfig_preset
from model.variants import get_variant
from properties.fp import PROPERTY_NAMES

KVM_SMALL = dict(cpus=1, tasks=0, vmm_threads=1, vcpus=1, preemption="merged", sme=True,
                 **kconfig_preset("preempt"))


def _explore(variant: str, stop_early: bool = False, **cfg):  # noqa: ANN202
    res, _ = explore_native(Instance(Config(**{**KVM_SMALL, **cfg}), get_variant(variant)),
                            list(PROPERTY_NAMES), por=True, stop_early=stop_early)
    assert res.complete or stop_early
    return res


@pytest.mark.parametrize("event", ["set_one_reg", "vcpu_reset"])
@pytest.mark.parametrize("variant", ["v6.8", "v6.10", "v6.16"])
def test_kvm_events_are_accepted_with_sme(variant: str, event: str) -> None:
    inst = Instance(Config(**{**KVM_SMALL, "events": (event,)}), get_variant(variant))
    assert inst.config.sme and event in inst.config.events


@pytest.mark.parametrize("vhe", [False, True])
def test_set_one_reg_with_sme_holds_on_v616(vhe: bool) -> None:
    """v6.16: a VMM thread that may use SME (SMSTART, ZA) and writes its vcpu's FP
    registers with KVM_SET_ONE_REG between runs: every property holds, and the write after
    a run (the guest's state saved by put_fp) is reached."""
    res = _explore("v6.16", vhe=vhe, events=("set_one_reg",))
    assert not res.violations
    assert res.guards_reached.get("set_one_reg_after_run") is not None


def test_set_one_reg_adds_no_sme_finding_on_v610() -> None:
    """v6.10 with set_one_reg: the shortest violation is the KVM+SME finding without the
    event (19 steps, counterexamples/README.md), nothing shorter."""
    res = _explore("v6.10", stop_early=True, events=("set_one_reg",))
    assert set(res.violations) == {"no_loss"}
    assert len(res.violations["no_loss"].steps) == 19


# ------------------------------------------------------------------ AArch32 vcpus
# ``--sme`` with ``--aarch32-guest`` (KVM with AArch32 vcpus on an SME host).
#
# What the kernel does, read in v6.10.0 (arch/arm64/kvm/fpsimd.c, hyp/include/hyp/switch.h)
# and v6.18.2: the host's SME handling around a vcpu (kvm_arch_vcpu_load_fp()'s SVCR test
# and save+flush, put_fp()'s VHE SMEN restore up to v6.13, v6.14+'s unconditional
# save+flush, hyp's SME traps) does not look at the guest's execution state, and the
# AArch32-only FP code (__activate_traps_fpsimd32()'s FPEXC32_EL2 = EN, the FPEXC32 restore
# in the FP trap, __fpsimd_save_fpexc32() on exit, all under vcpu_el1_is_32bit()) does not
# look at SME.  An AArch32 guest cannot execute SME instructions or reach SVCR (AArch64-only
# state).  So the combination is the composition of the two models, which is what the
# variants build: these tests check it on the smallest KVM configuration.


@pytest.mark.parametrize("vhe", [False, True])
def test_v616_sme_with_aarch32_guest_holds(vhe: bool) -> None:
    """v6.16 holds with an AArch32 vcpu as with an AArch64 one (nVHE 42,864 states, VHE
    46,320; 42,703 and 46,159 before p_written's P_ZERO; 35,803 and 39,259 before FPCR had
    its own slice with SME); the AArch32
    configuration has more states (FPEXC32_EL2 is guest FP state)."""
    a32 = _explore("v6.16", vhe=vhe, guest_aarch32=True)
    a64 = _explore("v6.16", vhe=vhe)
    assert not a32.violations and not a64.violations
    assert a32.stats.states > a64.stats.states
    # (46,159 and 42,703 before P_GHOST's P_ZERO, model/state.py)
    assert a32.stats.states == (46_320 if vhe else 42_864)


def test_v610_sme_kvm_finding_is_the_same_with_aarch32_guest() -> None:
    """v6.10's KVM+SME finding (KVM_RUN reloads the VMM thread in streaming mode from a
    stale memory copy, counterexamples/README.md) is a host-side mechanism: the same 19
    steps with an AArch32 vcpu."""
    for a32 in (False, True):
        res = _explore("v6.10", stop_early=True, guest_aarch32=a32)
        assert len(res.violations["no_loss"].steps) == 19
