"""arch/arm64/kvm/fpsimd.c as added by the seed patch, and its asm/kvm_host.h hooks.

Each function follows the seed's text statement by statement.  Abstractions:
* ``create_hyp_mappings()`` is assumed to succeed (its failure aborts KVM_RUN before any
  FP state changes); ``kern_hyp_va()`` is the identity on the model's pointers.
"""

from __future__ import annotations

from model.ctx import Ctx


def kvm_arch_vcpu_run_map_fp(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/fpsimd.c: kvm_arch_vcpu_run_map_fp(): map current for hyp.

    Records current's thread_info and uw.fpsimd_state as the ones hyp will use for this
    vcpu (vcpu->arch.host_thread_info, vcpu->arch.host_fpsimd_state), after mapping them
    at hyp with create_hyp_mappings(), which in nVHE takes kvm_hyp_pgd_mutex in
    __create_hyp_mappings() (it may sleep; virt/kvm/arm/mmu.c) and returns at once in VHE.
    """
    v = k.vcpu(vcpu)
    if not k.config.vhe:
        k.might_sleep("create_hyp_mappings(): mutex_lock(&kvm_hyp_pgd_mutex)")
    k.set(v.host_thread_info, k.cur.name)
    k.set(v.host_fpsimd_state, k.S.task_fpstate(k.current))


def kvm_arch_vcpu_run_pid_change(k: Ctx, vcpu: int) -> None:
    """arch/arm64/include/asm/kvm_host.h: kvm_arch_vcpu_run_pid_change() (seed): the
    inline wrapper returning kvm_arch_vcpu_run_map_fp(vcpu)."""
    k.kvm_arch_vcpu_run_map_fp(vcpu)


def kvm_arch_vcpu_load_fp(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/fpsimd.c: kvm_arch_vcpu_load_fp(): assume the host owns the regs.

    BUG_ON(system_supports_sve()); BUG_ON(!current->mm); clear FP_ENABLED and
    HOST_SVE_IN_USE; set FP_HOST; set HOST_SVE_IN_USE if TIF_SVE.
    """
    v = k.vcpu(vcpu)
    k.check(~k.system_supports_sve(), "BUG", "kvm_arch_vcpu_load_fp",
            "BUG_ON(system_supports_sve())")
    k.check(k.true if k.cur.mm else k.false, "BUG", "kvm_arch_vcpu_load_fp",
            "BUG_ON(!current->mm)")
    k.set(v.fp_enabled, False)
    k.set(v.host_sve_in_use, False)
    k.set(v.fp_host, True)
    with k.If(k.test_thread_flag("TIF_SVE")):
        k.set(v.host_sve_in_use, True)


def kvm_arch_vcpu_ctxsync_fp(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/fpsimd.c: kvm_arch_vcpu_ctxsync_fp(): after a guest exit, IRQs off.

    WARN_ON_ONCE(!irqs_disabled()).  If the guest's FP regs are loaded (FP_ENABLED),
    bind the vcpu's fp_regs to this CPU and clear current's TIF_FOREIGN_FPSTATE and
    TIF_SVE, so that a later fpsimd_save() (kernel-mode NEON, context switch) writes
    the guest's registers back into the vcpu.
    """
    v = k.vcpu(vcpu)
    k.check(k.irqs_disabled(), "WARN", "kvm_arch_vcpu_ctxsync_fp",
            "WARN_ON_ONCE(!irqs_disabled())")
    with k.If(v.fp_enabled.eq(1)):
        k.fpsimd_bind_state_to_cpu(k.S.vcpu_fpstate(vcpu))
        k.clear_thread_flag("TIF_FOREIGN_FPSTATE")
        k.clear_thread_flag("TIF_SVE")


def kvm_arch_vcpu_put_fp(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/fpsimd.c: kvm_arch_vcpu_put_fp() (seed).

    Under local_bh_disable(): restore TIF_SVE from HOST_SVE_IN_USE; if the guest's regs
    are loaded, fpsimd_save() them into the vcpu and fpsimd_flush_cpu_state(); else if
    current's TIF_FOREIGN_FPSTATE is clear, fpsimd_bind_task_to_cpu() (to restore the
    user trap controls).  Then local_bh_enable().
    """
    v = k.vcpu(vcpu)
    k.local_bh_disable()
    k.update_thread_flag("TIF_SVE", v.host_sve_in_use.eq(1))
    with k.If(v.fp_enabled.eq(1)):
        k.fpsimd_save()
        k.fpsimd_flush_cpu_state()
    with k.Else():
        with k.If(~k.test_thread_flag("TIF_FOREIGN_FPSTATE")):
            k.fpsimd_bind_task_to_cpu()
    k.local_bh_enable()


def kvm_fpsimd_flush_cpu_state(k: Ctx) -> None:
    """arch/arm64/include/asm/kvm_host.h: kvm_fpsimd_flush_cpu_state(): with SVE,
    sve_flush_cpu_state(); nothing otherwise.  Still called by the run loop at the seed
    (the seed does not remove it; "Remove eager host SVE state saving" does, later)."""
    with k.If(k.system_supports_sve()):
        k.sve_flush_cpu_state()


FUNCTIONS = {
    f.__name__: f
    for f in (
        kvm_arch_vcpu_run_map_fp,
        kvm_arch_vcpu_run_pid_change,
        kvm_arch_vcpu_load_fp,
        kvm_arch_vcpu_ctxsync_fp,
        kvm_arch_vcpu_put_fp,
        kvm_fpsimd_flush_cpu_state,
    )
}
