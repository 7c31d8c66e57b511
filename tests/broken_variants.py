"""Deliberately broken copies of the seed, each missing one statement the C has.

Each must be caught by the right property with a short trace (tests/checker/...).
"""

from __future__ import annotations

from model.ctx import Ctx
from model.variants import SEED


def ctxsync_keeps_foreign(k: Ctx, vcpu: int) -> None:
    """kvm_arch_vcpu_ctxsync_fp without clear_thread_flag(TIF_FOREIGN_FPSTATE)."""
    v = k.vcpu(vcpu)
    k.check(k.irqs_disabled(), "WARN", "kvm_arch_vcpu_ctxsync_fp",
            "WARN_ON_ONCE(!irqs_disabled())")
    with k.If(v.fp_enabled.eq(1)):
        k.fpsimd_bind_state_to_cpu(k.S.vcpu_fpstate(vcpu))
        k.clear_thread_flag("TIF_SVE")


def update_fp_enabled_ignores_foreign(k: Ctx, vcpu: int):
    """update_fp_enabled that never looks at the host's TIF_FOREIGN_FPSTATE."""
    return k.let("fp_enabled", k.vcpu(vcpu).fp_enabled)


def hyp_switch_skips_host_save(k: Ctx, vcpu: int) -> None:
    """__hyp_switch_fpsimd that forgets to save the host's live registers."""
    v = k.vcpu(vcpu)
    k.set_fp_trap(False)
    k.set(v.fp_host, False)
    k.__fpsimd_restore_state(v.fp_regs)
    k.set(v.fp_enabled, True)


def put_fp_no_flush(k: Ctx, vcpu: int) -> None:
    """kvm_arch_vcpu_put_fp that saves the guest but leaves it bound to the CPU."""
    v = k.vcpu(vcpu)
    k.local_bh_disable()
    with k.If(v.fp_enabled.eq(1)):
        k.fpsimd_save()
    with k.Else():
        with k.If(~k.test_thread_flag("TIF_FOREIGN_FPSTATE")):
            k.fpsimd_bind_task_to_cpu()
    k.local_bh_enable()


BROKEN = {
    "ctxsync-keeps-foreign": SEED.derive(
        "ctxsync-keeps-foreign", "ctxsync forgets to clear TIF_FOREIGN_FPSTATE",
        kvm_arch_vcpu_ctxsync_fp=ctxsync_keeps_foreign),
    "update-fp-enabled-ignores-foreign": SEED.derive(
        "update-fp-enabled-ignores-foreign", "update_fp_enabled ignores TIF_FOREIGN_FPSTATE",
        update_fp_enabled=update_fp_enabled_ignores_foreign),
    "hyp-switch-skips-host-save": SEED.derive(
        "hyp-switch-skips-host-save", "__hyp_switch_fpsimd skips the host save",
        __hyp_switch_fpsimd=hyp_switch_skips_host_save),
    "put-fp-no-flush": SEED.derive(
        "put-fp-no-flush", "kvm_arch_vcpu_put_fp saves but does not flush",
        kvm_arch_vcpu_put_fp=put_fp_no_flush),
}
