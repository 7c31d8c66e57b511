"""arch/arm64/kvm/hyp/switch.c (seed), the hyp side of the FP switch.

Hyp runs with all exceptions masked, so each hyp path is part of one atomic step.

AArch32 guests (Config.guest_aarch32, KVM_ARM_VCPU_EL1_32BIT: vcpu_el1_is_32bit() and
HCR_EL2.RW clear): FPEXC32_EL2 is the guest's FPEXC, part of its FP state (its EN bit is
the guest kernel's own lazy-VFP switch).  Every hyp access to it is modelled: the forced
EN write on entry (__activate_traps_fpsimd32), the restore from
vcpu->arch.ctxt.sys_regs[FPEXC32_EL2] in the FP trap (__hyp_switch_fpsimd) and the save on
exit (__fpsimd_save_fpexc32).  __sysreg32_save_state()/__sysreg32_restore_state()
(sysreg-sr.c) move SPSRs, DACR32, IFSR32 and DBGVCR32 only, never FPEXC32 (read at v4.17,
v4.18).  The constant hyp writes (FPEXC.EN alone, 1 << 30) is the token ``0`` (a value no
context wrote).  For an AArch64 guest none of this code runs (build-time condition).

Abstractions (by data independence and because they never touch the modelled state):
* System registers other than the FP trap controls and FPEXC32_EL2, timers, vgic, debug,
  SSBD.
* ``__guest_enter``/``__guest_exit`` save and restore general-purpose registers only.

The FP trap control is CPTR_EL2.TFP in nVHE (1 = trap) and CPACR_EL1.FPEN in VHE (1 =
enabled; the host runs at EL2 with E2H, where CPACR_EL1.FPEN also gates the host's own
FP use, and __deactivate_traps() writes CPACR_EL1_DEFAULT which has FPEN set).
"""

from __future__ import annotations

from model.ctx import Ctx
from model.dsl import Const, Expr, any_of


def fp_trapped(k: Ctx) -> Expr:
    """Whether an FP/ASIMD access at EL1/EL0 traps to EL2 on this CPU."""
    return k.S.fp_trapped(k.cpu)


def set_fp_trap(k: Ctx, trapped: bool) -> None:
    """Write the FP trap bit of this hyp mode (CPACR_EL1.FPEN or CPTR_EL2.TFP)."""
    k.set(k.this_cpu.fp_trap, (not trapped) if k.config.vhe else trapped)


def __fpsimd_save_state(k: Ctx, dst) -> None:
    """arch/arm64/kvm/hyp/fpsimd.S: __fpsimd_save_state(): the fpsimd_save macro at hyp."""
    k.fpsimd_save_state(dst)


def __fpsimd_restore_state(k: Ctx, src) -> None:
    """arch/arm64/kvm/hyp/fpsimd.S: __fpsimd_restore_state(): the fpsimd_restore macro."""
    k.fpsimd_load_state(src)


def update_fp_enabled(k: Ctx, vcpu: int) -> Expr:
    """arch/arm64/kvm/hyp/switch.c: update_fp_enabled() (seed).

    If the host task's TIF_FOREIGN_FPSTATE (read through vcpu->arch.host_thread_info) is
    set, neither the guest's nor the host's state is in the registers: clear FP_ENABLED
    and FP_HOST.  Returns FP_ENABLED.
    """
    v = k.vcpu(vcpu)
    k.check(v.host_thread_info.ne("NULL"), "BUG", "update_fp_enabled",
            "hyp dereferences vcpu->arch.host_thread_info == NULL")
    foreign = [
        v.host_thread_info.eq(t.name) & k.test_tsk_thread_flag(t.index, "TIF_FOREIGN_FPSTATE")
        for t in k.S.tasks
        if t.mm
    ]
    with k.If(any_of(foreign)):
        k.set(v.fp_enabled, False)
        k.set(v.fp_host, False)
    return k.let("fp_enabled", v.fp_enabled)


def __activate_traps_fpsimd32(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/hyp/switch.c: __activate_traps_fpsimd32() (v4.17, seed, v4.18).

    For a 32-bit guest (and system_supports_fpsimd(), always true here) write FPEXC32_EL2 =
    1 << 30 (EN only): a 32-bit EL1 FP access traps to EL2 only if it would not trap to EL1
    first, so hyp forces FPEXC.EN before it traps FP with CPTR_EL2.TFP/CPACR_EL1.FPEN.
    Whatever FPEXC32_EL2 held is overwritten.
    """
    if k.config.guest_aarch32:
        k.set(k.this_cpu.regs.fpexc, Const(k.S.VALUE, k.S.ZERO))


def __fpsimd_save_fpexc32(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/hyp/switch.c: __fpsimd_save_fpexc32() (v4.17, seed, v4.18): for a
    32-bit guest, vcpu->arch.ctxt.sys_regs[FPEXC32_EL2] = FPEXC32_EL2."""
    if k.config.guest_aarch32:
        k.set(k.vcpu(vcpu).fp_regs.fpexc, k.this_cpu.regs.fpexc)


def __fpsimd_restore_fpexc32(k: Ctx, vcpu: int) -> None:
    """The statement after __fpsimd_restore_state() in __hyp_switch_fpsimd() (seed, v4.18;
    in v4.17 the same three instructions in hyp/entry.S __fpsimd_guest_restore): "Skip
    restoring fpexc32 for AArch64 guests": if HCR_EL2.RW is clear, FPEXC32_EL2 =
    vcpu->arch.ctxt.sys_regs[FPEXC32_EL2].  Inline code in C, a helper here so every
    version's FP trap shares it."""
    if k.config.guest_aarch32:
        k.set(k.this_cpu.regs.fpexc, k.vcpu(vcpu).fp_regs.fpexc)


def __activate_traps(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/hyp/switch.c: __activate_traps() (seed, v4.18).

    __activate_traps_fpsimd32() first, unconditionally (the seed does not touch this
    call); then VHE (activate_traps_vhe): clear CPACR_EL1.FPEN unless update_fp_enabled();
    nVHE (__activate_traps_nvhe): CPTR_EL2 = default | TTA | TZ, plus TFP unless
    update_fp_enabled().  Either way: FP is trapped unless the guest's regs are live.
    """
    k.__activate_traps_fpsimd32(vcpu)
    enabled = k.update_fp_enabled(vcpu)
    if k.config.vhe:
        if k.config.sve:
            k.set(k.this_cpu.zen_el0en, False)  # val &= ~CPACR_EL1_ZEN: guest SVE trapped
        with k.If(~enabled.eq(1)):
            k.set_fp_trap(True)
    else:
        k.set_fp_trap(False)
        with k.If(~enabled.eq(1)):
            k.set_fp_trap(True)


def __deactivate_traps(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/hyp/switch.c: __deactivate_traps(): host FP access re-enabled.

    VHE writes CPACR_EL1 = CPACR_EL1_DEFAULT (FPEN set, ZEN_EL0EN clear: EL0 SVE trapped
    from now on); nVHE writes CPTR_EL2 = CPTR_EL2_DEFAULT (TFP clear).
    """
    k.set_fp_trap(False)
    if k.config.vhe and k.config.sve:
        k.set(k.this_cpu.zen_el0en, False)


def __hyp_switch_fpsimd(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/hyp/switch.c: __hyp_switch_fpsimd() (seed): the guest's first FP
    access traps here (via fixup_guest_exit) and the guest is re-entered.

    Enable FP (CPACR_EL1.FPEN / clear CPTR_EL2.TFP); if FP_HOST, save the live registers
    into vcpu->arch.host_fpsimd_state and clear FP_HOST; load the guest's registers from
    the vcpu (and, for a 32-bit guest, FPEXC32_EL2 from its sys_regs); set FP_ENABLED.
    """
    v = k.vcpu(vcpu)
    k.set_fp_trap(False)
    with k.If(v.fp_host.eq(1)):
        k.store_through(v.host_fpsimd_state, k.__fpsimd_save_state)
        k.set(v.fp_host, False)
    k.__fpsimd_restore_state(v.fp_regs)
    k.__fpsimd_restore_fpexc32(vcpu)
    k.set(v.fp_enabled, True)


def __kvm_vcpu_run_enter(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/hyp/switch.c: kvm_vcpu_run_vhe() / __kvm_vcpu_run_nvhe() up to the
    first __guest_enter(): host sysregs saved, __activate_traps(), guest state restored.
    """
    k.__activate_traps(vcpu)


def __kvm_vcpu_run_exit(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/hyp/switch.c: kvm_vcpu_run_vhe() / __kvm_vcpu_run_nvhe() after the
    last guest exit (seed): guest sysregs saved (__sysreg32_save_state() does not touch
    FPEXC32), __deactivate_traps(), host sysregs restored; the guest's FP regs stay live
    (lazy); if FP_ENABLED, __fpsimd_save_fpexc32().
    """
    k.__deactivate_traps(vcpu)
    with k.If(k.vcpu(vcpu).fp_enabled.eq(1)):
        k.__fpsimd_save_fpexc32(vcpu)


def fixup_guest_exit_fp(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/hyp/switch.c: fixup_guest_exit() for ESR_ELx_EC_FP_ASIMD (seed):
    return __hyp_switch_fpsimd(), i.e. handle the trap and re-enter the guest."""
    k.__hyp_switch_fpsimd(vcpu)


FUNCTIONS = {
    f.__name__: f
    for f in (
        fp_trapped,
        set_fp_trap,
        __fpsimd_save_state,
        __fpsimd_restore_state,
        update_fp_enabled,
        __activate_traps_fpsimd32,
        __fpsimd_save_fpexc32,
        __fpsimd_restore_fpexc32,
        __activate_traps,
        __deactivate_traps,
        __hyp_switch_fpsimd,
        __kvm_vcpu_run_enter,
        __kvm_vcpu_run_exit,
        fixup_guest_exit_fp,
    )
}
