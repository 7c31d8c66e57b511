"""The optional KVM events with SVE vcpus (`--sve-guest`, v6.13 and v6.14): KVM_SET_ONE_REG
of an SVE vcpu (guest.c set_sve_reg(); its V core registers refused), the vcpu reset's
kvm_vcpu_reset_sve() and ZCR_EL1 reset, the VMM's KVM_GET_ONE_REG of an SVE vcpu, and the
EFI buffer path's SVE instructions under v6.13 nVHE's host SVE trap."""

from __future__ import annotations

import pytest

from checker.instance import Instance
from checker.native.explore import explore_native
from model.config import Config, kconfig_preset
from model.variants import get_variant
from properties.fp import PROPERTY_NAMES, readers

from .probe import Probe

PREEMPT = kconfig_preset("preempt")
# One CPU, the VMM thread alone, one SVE vcpu, two VLs (tests/model/test_v6_sve_guest.py).
SMALL = dict(cpus=1, tasks=0, vmm_threads=1, vcpus=1, sve=True, sve_vls=(128, 256),
             sve_guest=True, **PREEMPT)


def probe(variant: str, events: tuple[str, ...], vhe: bool = False, **kw) -> Probe:
    return Probe(variant, **{**SMALL, **kw}, vhe=vhe, events=events)


# ------------------------------------------------------------------ configuration
@pytest.mark.parametrize("variant", ["v6.13", "v6.14"])
@pytest.mark.parametrize("event", ["set_one_reg", "efi", "cpu_pm", "signal"])
def test_events_with_sve_vcpus_are_no_longer_refused(variant: str, event: str) -> None:
    Instance(Config(**SMALL, events=(event,), preemption="merged"), get_variant(variant))


# ------------------------------------------------------------------ KVM_SET_ONE_REG
def test_set_one_reg_of_an_sve_vcpu_writes_sve_state_and_not_the_v_core_regs() -> None:
    """set_sve_reg(): Z (V slice and the bits above 127) and P/FFR into
    vcpu->arch.sve_state, FPSR/FPCR by set_core_reg(); the V core registers of an SVE
    vcpu are refused (-EINVAL), so fp_regs.vregs keeps its (now older) value.  Without the
    ZCR_EL1 choice ZCR_EL1 is left alone."""
    st, viol = probe("v6.14", ("set_one_reg",)).run("kvm_arm_set_reg", 0, inputs=(False,) * 2,
                                                    **{"vcpu0.sys_regs.ZCR_EL1.LEN": "256"})
    assert not viol
    for name in ("sve_state.v", "sve_state.zhi", "sve_state.p", "fp_regs.fpsr"):
        assert st[f"vcpu0.{name}"] == "G0", name
    assert st["vcpu0.fp_regs.v"] == "G0~"
    assert st["vcpu0.sys_regs.ZCR_EL1.LEN"] == "256"


@pytest.mark.parametrize(("inputs", "vl"), [((True, True), "128"), ((True, False), "256")])
def test_set_one_reg_may_write_the_sve_vcpus_zcr_el1(inputs: tuple[bool, ...], vl: str) -> None:
    """kvm_sys_reg_set_user() stores any ZCR_EL1 value (no set_user hook, sve_visibility()):
    a length up to the vcpu's max."""
    start = "256" if vl == "128" else "128"
    st, _ = probe("v6.13", ("set_one_reg",)).run("kvm_arm_set_reg", 0, inputs=inputs,
                                                 **{"vcpu0.sys_regs.ZCR_EL1.LEN": start})
    assert st["vcpu0.sys_regs.ZCR_EL1.LEN"] == vl


def test_set_one_reg_of_a_vcpu_without_sve_writes_the_v_core_regs() -> None:
    p = Probe("v6.14", cpus=1, tasks=0, vmm_threads=1, vcpus=1, events=("set_one_reg",),
              **PREEMPT)
    st, viol = p.run("kvm_arm_set_reg", 0)
    assert not viol and st["vcpu0.fp_regs.v"] == "G0" and st["vcpu0.fp_regs.fpsr"] == "G0"


def test_vmm_reads_an_sve_vcpus_z_registers_from_sve_state() -> None:
    """KVM_GET_ONE_REG (property reader): get_sve_reg() reads Z and P/FFR from sve_state,
    FPSR/FPCR from fp_regs."""
    S = probe("v6.13", ("set_one_reg",)).layout
    v = S.vcpus[0]
    vmm = [regs for cond, owner, regs in readers(S) if regs.v is v.sve_state.v]
    assert len(vmm) == 1
    assert vmm[0].zhi is v.sve_state.zhi and vmm[0].fpsr is v.fp_regs.fpsr


# ------------------------------------------------------------------ vcpu reset
def test_reset_of_an_sve_vcpu_rewrites_sve_state_and_zcr_el1() -> None:
    """kvm_reset_vcpu() (not loaded: the ONE_REG ioctl's pending reset): kvm_vcpu_reset_sve()'s
    memset of sve_state and fp_regs' memset are a new generation of every slice, P/FFR too;
    kvm_reset_sys_regs() sets ZCR_EL1 to its reset_val 0 (the smallest length)."""
    p = probe("v6.14", ("vcpu_reset",), vmm_threads=2, vcpus=2)
    st, viol = p.run("kvm_reset_vcpu", 0, inputs=(False,) * 8,
                     **{"vcpu0.sys_regs.ZCR_EL1.LEN": "256", "cpu0.regs.p": "G0"})
    assert not viol
    for name in ("sve_state.v", "sve_state.zhi", "sve_state.p", "fp_regs.fpsr", "fp_regs.v"):
        assert st[f"vcpu0.{name}"] == "G0", name
    assert st["cpu0.regs.p"] == "G0~"  # the old P/FFR copy is superseded
    assert st["vcpu0.sys_regs.ZCR_EL1.LEN"] == "128"


def test_reset_of_a_loaded_sve_vcpu_saves_it_first() -> None:
    """A loaded SVE vcpu (the run loop's check_vcpu_requests()) is put first: v6.14's put_fp
    saves the guest-owned registers into sve_state through ctxsync's binding and flushes,
    then the memset makes a new generation."""
    p = probe("v6.14", ("vcpu_reset",), vmm_threads=2, vcpus=2)
    live = {"cpu0.current": "vmm0", "vmm0.pc": "LOOP_TOP", "vcpu0.mutex": "vmm0",
            "vmm0.preempt_notifier": "vcpu0", "cpu0.host_data.fp_owner": "GUEST_OWNED",
            "cpu0.fpsimd_last_state.st": "vcpu0.fp_regs", "vmm0.TIF_FOREIGN_FPSTATE": "0",
            "cpu0.ZCR_EL1.LEN": "256", "cpu0.regs.v": "G0", "cpu0.regs.zhi": "G0",
            "cpu0.regs.p": "G0", "cpu0.regs.fpsr": "G0"}
    st, viol = p.run("kvm_reset_vcpu", 0, inputs=(False,) * 8, **live)
    assert not viol
    assert st["cpu0.fpsimd_last_state.st"] == "NULL"
    assert st["vcpu0.sve_state.p"] == "G0" and st["cpu0.regs.p"] == "G0~"


# ------------------------------------------------------------------ EFI under v6.13's trap
def test_efi_buffer_path_traps_to_hyp_under_v613_nvhe_tz() -> None:
    """__efi_fpsimd_begin()'s buffer path (IRQs off) executes sve_save_state(): with
    CPTR_EL2.TZ left set by an SVE guest's exit (v6.13 nVHE) it traps to hyp first, which
    clears TZ and restores ZCR_EL2 to the host max."""
    st, viol = probe("v6.13", ("efi",)).run("__efi_fpsimd_begin", **{
        "cpu0.CPTR_EL2.TZ": "1", "cpu0.ZCR_EL2.LEN": "128", "cpu0.irqs_disabled": "1",
        "cpu0.preempt_count": "1"})
    assert not viol
    assert st["cpu0.CPTR_EL2.TZ"] == "0" and st["cpu0.ZCR_EL2.LEN"] == "256"
    assert st["cpu0.efi_sve_state_used"] == "1"


# ------------------------------------------------------------------ explore
def test_v614_holds_with_set_one_reg_and_sve_vcpus() -> None:
    """v6.14 (#17 and #20 fixed) holds every property with KVM_SET_ONE_REG/GET_ONE_REG of an
    SVE vcpu, both hyp modes.  (The vcpu reset, v6.13 and the other events: measured by
    bench/bench_sve_guest_events.py.)"""
    # (14,594 and 19,862 before P_GHOST's P_ZERO, model/state.py)
    for vhe, n in ((False, 14_649), (True, 19_917)):
        cfg = Config(**SMALL, vhe=vhe, events=("set_one_reg",), preemption="merged")
        res, _ = explore_native(Instance(cfg, get_variant("v6.14")), list(PROPERTY_NAMES))
        assert res.complete and not res.violations, sorted(res.violations)
        assert res.stats.states == n
