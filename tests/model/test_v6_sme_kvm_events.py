"""The optional KVM events set_one_reg and vcpu_reset with ``--sme`` (no longer refused).

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
