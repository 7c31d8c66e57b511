"""The v4.17 release: the eager FP switch, before the seed's series.

Sources (v4.17.0, read in the tree `SaumyaSachdev/linux-4.17` named in docs/scope.md;
background in docs/background.md): arch/arm64/kernel/fpsimd.c, virt/kvm/arm/arm.c,
arch/arm64/kvm/hyp/switch.c, arch/arm64/kvm/hyp/entry.S, hyp-entry.S.

What differs from the seed, function by function:
* host fpsimd.c: task_fpsimd_save() saves into current's own buffer (no
  fpsimd_last_state.st indirection); fpsimd_thread_switch() saves only if current->mm and
  computes next's TIF_FOREIGN_FPSTATE only if next->mm; kernel_neon_begin() saves and sets
  TIF_FOREIGN_FPSTATE only if current->mm; fpsimd_flush_cpu_state() only clears
  last_state.st; fpsimd_bind_to_cpu() is the (static) bind.
* CPU PM notifier: ENTER saves only if current->mm (with task_fpsimd_save()); EXIT sets
  current's TIF_FOREIGN_FPSTATE if current->mm (its flush does not).
* KVM: no FP hooks in vcpu load/put, no ctxsync after guest exit, no pid-change hook.
* hyp: FP is trapped on every guest entry; the trap (__fpsimd_guest_restore in
  hyp/entry.S) saves whatever is live into this CPU's host_cpu_context and loads the
  guest's registers; the exit path saves the guest's registers back to the vcpu and
  reloads the host's from host_cpu_context if the guest used FP during this run.
"""

from __future__ import annotations

from model.ctx import Ctx
from model.kernel import fpsimd as seed_fpsimd
from model.variant import Variant


def task_fpsimd_save(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v4.17): task_fpsimd_save(): WARN_ON(!in_softirq() &&
    !irqs_disabled()); if current's TIF_FOREIGN_FPSTATE is clear, save the registers into
    current's own buffers: with SVE and TIF_SVE, Z into sve_state and FPSR/FPCR into
    uw.fpsimd_state; otherwise V/FPSR/FPCR into uw.fpsimd_state."""
    k.check(k.in_softirq() | k.irqs_disabled(), "WARN", "task_fpsimd_save",
            "WARN_ON(!in_softirq() && !irqs_disabled())")
    with k.If(~k.test_thread_flag("TIF_FOREIGN_FPSTATE")):
        if k.config.sve and k.cur.mm:  # kernel threads never have TIF_SVE
            with k.If(k.test_thread_flag("TIF_SVE")):
                with k.If(seed_fpsimd.sve_vl_matches(k, "task_fpsimd_save")):
                    k.sve_save_state(k.cur.sve_state, k.const(k.this_cpu.last_st,
                                                              k.S.task_fpstate(k.current)))
            with k.Else():
                k.fpsimd_save_state(k.cur.uw)
        else:
            k.fpsimd_save_state(k.cur.uw)


def task_fpsimd_load(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v4.17): task_fpsimd_load(): the seed's body
    (model.kernel.fpsimd.task_fpsimd_load), then with SVE set CPACR_EL1.ZEN_EL0EN from
    TIF_SVE (sve_user_enable/disable lived here before the seed's series moved it to the
    bind)."""
    seed_fpsimd.task_fpsimd_load(k)
    if k.config.sve and k.cur.mm:  # kernel threads never have TIF_SVE
        k.set(k.this_cpu.zen_el0en, k.test_thread_flag("TIF_SVE"))


def do_sve_acc(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v4.17): do_sve_acc(): as at the seed, saving with
    task_fpsimd_save()."""
    k.sve_alloc()
    k.local_bh_disable()
    k.task_fpsimd_save()
    k.fpsimd_to_sve()
    k.fpsimd_flush_task_state(k.current)
    k.set_thread_flag("TIF_FOREIGN_FPSTATE")
    k.check(~k.test_thread_flag("TIF_SVE"), "WARN", "do_sve_acc",
            "WARN_ON(1): SVE access shouldn't have trapped (TIF_SVE already set)")
    k.set_thread_flag("TIF_SVE")
    k.local_bh_enable()
    k.goto("KERNEL")


def fpsimd_thread_switch(k: Ctx, next_task: int) -> None:
    """arch/arm64/kernel/fpsimd.c (v4.17): fpsimd_thread_switch(next): if current->mm,
    task_fpsimd_save(); if next->mm, set next's TIF_FOREIGN_FPSTATE unless its state is
    still in this CPU's registers.  A kernel thread's flag is left alone."""
    cpu = k.this_cpu
    nxt = k.task(next_task)
    if k.cur.mm:
        k.task_fpsimd_save()
    if nxt.mm:
        wrong_task = cpu.last_st.ne(k.S.task_fpstate(next_task))
        wrong_cpu = nxt.fpsimd_cpu.ne(k.cpu)
        k.update_tsk_thread_flag(next_task, "TIF_FOREIGN_FPSTATE", wrong_task | wrong_cpu)


def fpsimd_bind_to_cpu(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v4.17): fpsimd_bind_to_cpu(): last->st = current's
    uw.fpsimd_state; last->sve_in_use = TIF_SVE; current->thread.fpsimd_cpu = this CPU."""
    cpu = k.this_cpu
    k.set(cpu.last_st, k.S.task_fpstate(k.current))
    k.set(cpu.last_sve_in_use, k.test_thread_flag("TIF_SVE"))
    k.set(k.cur.fpsimd_cpu, k.cpu)


def fpsimd_restore_current_state(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v4.17): as at the seed, binding with fpsimd_bind_to_cpu()."""
    k.local_bh_disable()
    with k.If(k.test_thread_flag("TIF_FOREIGN_FPSTATE")):
        k.clear_thread_flag("TIF_FOREIGN_FPSTATE")
        k.task_fpsimd_load()
        k.fpsimd_bind_to_cpu()
    k.local_bh_enable()


def fpsimd_flush_cpu_state(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v4.17): static inline fpsimd_flush_cpu_state():
    last_state.st = NULL only (it does not set TIF_FOREIGN_FPSTATE)."""
    k.set(k.this_cpu.last_st, "NULL")


def kernel_neon_begin(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v4.17): kernel_neon_begin(): BUG_ON(!may_use_simd());
    local_bh_disable(); kernel_neon_busy = true; if current->mm: task_fpsimd_save() and
    set TIF_FOREIGN_FPSTATE; fpsimd_flush_cpu_state(); preempt_disable(); local_bh_enable()."""
    cpu = k.this_cpu
    k.check(k.may_use_simd(), "BUG", "kernel_neon_begin", "BUG_ON(!may_use_simd())")
    k.local_bh_disable()
    k.set(cpu.kernel_neon_busy, True)
    if k.cur.mm:
        k.task_fpsimd_save()
        k.set_thread_flag("TIF_FOREIGN_FPSTATE")
    k.fpsimd_flush_cpu_state()
    k.preempt_disable()
    k.local_bh_enable()


def fpsimd_preserve_current_state(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v4.17): fpsimd_preserve_current_state():
    local_bh_disable(); task_fpsimd_save(); local_bh_enable()."""
    k.local_bh_disable()
    k.task_fpsimd_save()
    k.local_bh_enable()


def fpsimd_update_current_state(k: Ctx, state) -> None:  # noqa: ANN001 - model.state.Image
    """arch/arm64/kernel/fpsimd.c (v4.17): fpsimd_update_current_state(state):
    local_bh_disable(); uw.fpsimd_state = *state; if SVE and TIF_SVE: fpsimd_to_sve();
    task_fpsimd_load() (which also sets the EL0 SVE trap from TIF_SVE at v4.17); then
    fpsimd_bind_to_cpu() only if test_and_clear_thread_flag(TIF_FOREIGN_FPSTATE);
    local_bh_enable()."""
    uw = k.cur.uw
    k.local_bh_disable()
    k.set(uw.v, state.v)
    k.copy_fpsr_fpcr(uw, state)
    if k.config.sve:
        with k.If(k.test_thread_flag("TIF_SVE")):
            k.fpsimd_to_sve()
    k.task_fpsimd_load()
    with k.If(k.test_thread_flag("TIF_FOREIGN_FPSTATE")):
        k.clear_thread_flag("TIF_FOREIGN_FPSTATE")
        k.fpsimd_bind_to_cpu()
    k.local_bh_enable()
def fpsimd_cpu_pm_notifier(k: Ctx, cmd: str) -> None:
    """arch/arm64/kernel/fpsimd.c (v4.17): fpsimd_cpu_pm_notifier(): CPU_PM_ENTER: if
    current->mm, task_fpsimd_save(); then fpsimd_flush_cpu_state() (v4.17: st = NULL
    only).  CPU_PM_EXIT: if current->mm, set current's TIF_FOREIGN_FPSTATE (the registers
    may have lost power; v4.17's flush does not set the flag).  CPU_PM_ENTER_FAILED and
    the rest: nothing."""
    if cmd == "CPU_PM_ENTER":
        if k.cur.mm:
            k.task_fpsimd_save()
        k.fpsimd_flush_cpu_state()
    elif cmd == "CPU_PM_EXIT":
        if k.cur.mm:
            k.set_thread_flag("TIF_FOREIGN_FPSTATE")


def kvm_arch_vcpu_load(k: Ctx, vcpu: int) -> None:
    """virt/kvm/arm/arm.c (v4.17): kvm_arch_vcpu_load(): no FP work (host_cpu_context is
    set to this CPU's kvm_host_cpu_state, which the model's hyp uses directly)."""


def kvm_arch_vcpu_put(k: Ctx, vcpu: int) -> None:
    """virt/kvm/arm/arm.c (v4.17): kvm_arch_vcpu_put(): no FP work."""


def kvm_arch_vcpu_ioctl_run_guest_exit(k: Ctx, vcpu: int) -> None:
    """virt/kvm/arm/arm.c (v4.17): kvm_arch_vcpu_ioctl_run() after the guest exits: hyp's
    exit path, then vcpu->mode = OUTSIDE_GUEST_MODE, syncs, local_irq_enable().  There is
    no ctxsync: hyp has already put the host's registers back."""
    k.__kvm_vcpu_run_exit(vcpu)
    k.local_irq_enable()
    k.goto("POST_EXIT")


def __activate_traps(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/hyp/switch.c (v4.17): __activate_traps(): __activate_traps_fpsimd32()
    (a 32-bit guest's FPEXC32_EL2 = EN), then FP always trapped (VHE: CPACR_EL1.FPEN and
    ZEN cleared; nVHE: CPTR_EL2.TFP set)."""
    k.__activate_traps_fpsimd32(vcpu)
    k.set_fp_trap(True)
    if k.config.vhe and k.config.sve:
        k.set(k.this_cpu.zen_el0en, False)


def __fpsimd_guest_restore(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/hyp/entry.S (v4.17): __fpsimd_guest_restore, reached from el1_trap
    for ESR_ELx_EC_FP_ASIMD: enable FP; save the live V0-V31/FPSR/FPCR, whoever owns them,
    into this CPU's host_cpu_context; load the guest's from the vcpu; for a 32-bit guest
    (HCR_EL2.RW clear) load FPEXC32_EL2 from the vcpu's sys_regs; eret to the guest."""
    k.set_fp_trap(False)
    k.__fpsimd_save_state(k.this_cpu.host_ctxt)
    k.__fpsimd_restore_state(k.vcpu(vcpu).fp_regs)
    k.__fpsimd_restore_fpexc32(vcpu)


def fixup_guest_exit_fp(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/hyp/hyp-entry.S (v4.17): the FP trap never leaves hyp's assembly."""
    k.__fpsimd_guest_restore(vcpu)


def __kvm_vcpu_run_exit(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/hyp/switch.c (v4.17): kvm_vcpu_run_vhe() / __kvm_vcpu_run_nvhe()
    after the guest loop: fp_enabled = the guest took the FP trap in this run
    (fpsimd_enabled_vhe() / __fpsimd_enabled_nvhe()), sampled before __deactivate_traps();
    then if fp_enabled, save the guest's registers into the vcpu, restore the host's
    from host_cpu_context and __fpsimd_save_fpexc32()."""
    fp_enabled = k.let("fp_enabled", ~k.fp_trapped())
    k.__deactivate_traps(vcpu)
    with k.If(fp_enabled):
        k.__fpsimd_save_state(k.vcpu(vcpu).fp_regs)
        k.__fpsimd_restore_state(k.this_cpu.host_ctxt)
        k.__fpsimd_save_fpexc32(vcpu)


def make(seed: Variant) -> Variant:
    return seed.derive(
        "v4.17",
        "v4.17 release: eager switch; hyp traps FP on every entry and swaps host/guest regs",
        options={
            "HAVE_KVM_VCPU_RUN_PID_CHANGE": False,
            "new_functions": ["task_fpsimd_save", "fpsimd_bind_to_cpu", "__fpsimd_guest_restore"],
            "unreachable_guards": {
                "guest_fp_live_at_irq": "v4.17 restores the host's registers in hyp, before"
                " IRQs are unmasked: guest FP state is never live at an IRQ",
                "softirq_neon_with_vcpu_bound": "v4.17 never binds a vcpu's state to a CPU",
                "aarch32_reenter_fp_live": "v4.17 traps FP on every guest entry: the guest's"
                " FP state is never live when it re-enters",
                "vcpu_reset_fp_live": "v4.17 puts the host's registers back on every guest"
                " exit: a vcpu's FP state is never live outside hyp",
                "kvm_run_neon_vcpu_bound": "v4.17 never binds a vcpu's state to a CPU",
                "efi_with_vcpu_bound": "v4.17 never binds a vcpu's state to a CPU",
            },
        },
        task_fpsimd_save=task_fpsimd_save,
        task_fpsimd_load=task_fpsimd_load,
        do_sve_acc=do_sve_acc,
        fpsimd_thread_switch=fpsimd_thread_switch,
        fpsimd_bind_to_cpu=fpsimd_bind_to_cpu,
        fpsimd_restore_current_state=fpsimd_restore_current_state,
        fpsimd_preserve_current_state=fpsimd_preserve_current_state,
        fpsimd_update_current_state=fpsimd_update_current_state,
        fpsimd_flush_cpu_state=fpsimd_flush_cpu_state,
        kernel_neon_begin=kernel_neon_begin,
        fpsimd_cpu_pm_notifier=fpsimd_cpu_pm_notifier,
        kvm_arch_vcpu_load=kvm_arch_vcpu_load,
        kvm_arch_vcpu_put=kvm_arch_vcpu_put,
        kvm_arch_vcpu_ioctl_run_guest_exit=kvm_arch_vcpu_ioctl_run_guest_exit,
        __activate_traps=__activate_traps,
        __fpsimd_guest_restore=__fpsimd_guest_restore,
        fixup_guest_exit_fp=fixup_guest_exit_fp,
        __kvm_vcpu_run_exit=__kvm_vcpu_run_exit,
        # Functions that do not exist in v4.17:
        fpsimd_save=None,
        fpsimd_bind_task_to_cpu=None,
        fpsimd_bind_state_to_cpu=None,
        kvm_arch_vcpu_run_map_fp=None,
        kvm_arch_vcpu_run_pid_change=None,
        kvm_arch_vcpu_load_fp=None,
        kvm_arch_vcpu_ctxsync_fp=None,
        kvm_arch_vcpu_put_fp=None,
        update_fp_enabled=None,
        __hyp_switch_fpsimd=None,
    )
