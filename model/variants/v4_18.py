"""The v4.18 release: the seed plus the fixes that landed before v4.18 final.

Source: arch/arm64/kvm/fpsimd.c as released in v4.18 ([P] in the reference notes; the
body was also read in a stored copy of the file).  What differs from the seed, for the
state this model has (no SVE):

* `kvm_arch_vcpu_put_fp` runs under local_irq_save()/local_irq_restore() instead of
  local_bh_disable()/local_bh_enable(), saves and flushes the guest state *before*
  restoring TIF_SVE (2955bcc8c309, history.md #3), and no longer rebinds current's
  state in the else branch (it only restores CPACR_EL1.ZEN_EL0EN with SVE,
  b3eb56b629d1, history.md #2).  Which of those commits made the IRQ-save change was
  not checked.
* The run loop no longer calls kvm_fpsimd_flush_cpu_state() ("KVM: arm64: Remove eager
  host SVE state saving").
* fpsimd_last_state.sve_in_use is gone; without SVE it was always false, so the bind
  functions are not duplicated here.
"""

from __future__ import annotations

from model.ctx import Ctx
from model.variant import Variant


def kvm_arch_vcpu_put_fp(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/fpsimd.c (v4.18): kvm_arch_vcpu_put_fp().

    local_irq_save(); if FP_ENABLED: fpsimd_save() and fpsimd_flush_cpu_state(); else if
    the system has SVE, restore CPACR_EL1.ZEN_EL0EN from HOST_SVE_ENABLED (not modelled:
    no SVE); then restore TIF_SVE from HOST_SVE_IN_USE; local_irq_restore().
    """
    v = k.vcpu(vcpu)
    flags = k.let("flags", k.this_cpu.irqs_disabled)
    k.local_irq_disable()
    with k.If(v.fp_enabled.eq(1)):
        k.fpsimd_save()
        k.fpsimd_flush_cpu_state()
    k.update_thread_flag("TIF_SVE", v.host_sve_in_use.eq(1))
    k.set(k.this_cpu.irqs_disabled, flags)


def kvm_arch_vcpu_ioctl_run_enter_guest(k: Ctx, vcpu: int) -> None:
    """virt/kvm/arm/arm.c (v4.18): as at the seed, without kvm_fpsimd_flush_cpu_state()."""
    k.preempt_disable()
    k.local_irq_disable()
    bail = k.nondet("signal pending: leave the run loop")
    with k.If(bail):
        k.local_irq_enable()
        k.preempt_enable()
        k.goto("LOOP_EXIT")
    with k.Else():
        k.__kvm_vcpu_run_enter(vcpu)
        k.goto("IN_GUEST")


def make(seed: Variant) -> Variant:
    return seed.derive(
        "v4.18",
        "v4.18 release: the seed with put_fp under local_irq_save and the SVE fixes",
        kvm_arch_vcpu_put_fp=kvm_arch_vcpu_put_fp,
        kvm_arch_vcpu_ioctl_run_enter_guest=kvm_arch_vcpu_ioctl_run_enter_guest,
        kvm_fpsimd_flush_cpu_state=None,
        sve_flush_cpu_state=None,
    )
