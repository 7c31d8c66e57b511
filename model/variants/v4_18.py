"""v4.18-rc1 and the v4.18 release: the seed's series as merged, and the fixes after it.

``v4.18-rc1``: the seed plus the rest of its series ("KVM: arm64: Save host SVE context
as appropriate", "Remove eager host SVE state saving"):
* `kvm_arch_vcpu_load_fp` no longer refuses SVE (no BUG_ON(system_supports_sve()));
* `__hyp_switch_fpsimd` saves the host's state in SVE format when the host task had
  TIF_SVE at vcpu load (HOST_SVE_IN_USE): Z registers into the task's sve_state, FPSR/FPCR
  into its uw.fpsimd_state ([P·18]: the v4.18 text, unchanged after rc1);
* the run loop no longer calls kvm_fpsimd_flush_cpu_state();
* `kvm_arch_vcpu_put_fp` is the seed's body ([P]: the v4.18-rc1 text).

``v4.18``: rc1 plus the fixes before the release ([P]: v4.18 arch/arm64/kvm/fpsimd.c,
also read in a stored copy of the file):
* b3eb56b629d1 (fix #2 (docs/fixes.md)): `kvm_arch_vcpu_load_fp` records CPACR_EL1.ZEN_EL0EN in
  HOST_SVE_ENABLED, and `kvm_arch_vcpu_put_fp` restores ZEN_EL0EN from it instead of
  rebinding current's state (hyp's CPACR reset had left a *non-current* task's live SVE
  state with EL0 SVE trapped);
* 2955bcc8c309 (fix #3 (docs/fixes.md)): `kvm_arch_vcpu_put_fp` saves and flushes the guest's
  state *before* restoring TIF_SVE;
* `kvm_arch_vcpu_put_fp` runs under local_irq_save() instead of local_bh_disable() (it is
  called from kvm_sched_out() under rq->lock with IRQs off, where local_bh_enable() may
  run softirqs and, with TRACE_IRQFLAGS, unmasks IRQs; read in
  c4pt000/ps4-4.18-rc7-experimental 68960d82b35a arch/arm64/kvm/fpsimd.c); which commit
  made this change was not checked.
``v4.18-fpexc32-fix``: v4.18 plus the upstream fix "arm64: KVM: Only force FPEXC32_EL2.EN
if trapping FPSIMD" (Marc Zyngier; in the KVM fixes for v4.19-rc3, "Fix a VFP corruption in
32-bit guest"; its hash was not checked): `__activate_traps` forces FPEXC.EN only when it
traps FP.  Without it a 32-bit guest re-entered with its FP state still live (FP_ENABLED
kept by update_fp_enabled()) finds its FPEXC replaced by hyp's EN-only constant (checked in
a v4.19.0 tree, 0x88888888/linux-4.19-comments, arch/arm64/kvm/hyp/switch.c:
activate_traps_vhe()/__activate_traps_nvhe() call __activate_traps_fpsimd32() inside the
!update_fp_enabled() branch).

``v4.18-vcpu-reset-fix``: v4.18 with PSCI CPU_ON as fixed for v5.0 (v5.0-rc7 KVM pull):
"arm/arm64: KVM: Allow a VCPU to fully reset itself" (Marc Zyngier; hash not checked) and
e761a927bc9a "KVM: arm/arm64: Reset the VCPU without preemption and vcpu state loaded"
(Christoffer Dall).  CPU_ON no longer writes the target's registers: it records the reset
and makes a KVM_REQ_VCPU_RESET request; the target vcpu's own thread resets itself in
check_vcpu_requests(), with preemption off and its state put (saved, flushed) before and
loaded after (checked in a v5.19 tree, yishangzhang/linux-5.19: arch/arm64/kvm/reset.c
kvm_reset_vcpu(), arch/arm64/kvm/psci.c kvm_psci_vcpu_on(), arch/arm64/kvm/arm.c
check_vcpu_requests()).

fpsimd_last_state.sve_in_use also went away in the series; it only fed
sve_flush_cpu_state(), which these variants no longer call, so it is not duplicated.
"""

from __future__ import annotations

from model.ctx import Ctx
from model.dsl import Var
from model.kernel import process
from model.kernel.kvm_vcpu_ops import vcpu_fp_context_slots
from model.variant import Variant


def kvm_arch_vcpu_load_fp_rc1(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/fpsimd.c (v4.18-rc1): kvm_arch_vcpu_load_fp(): BUG_ON(!current->mm);
    clear FP_ENABLED and HOST_SVE_IN_USE; set FP_HOST; HOST_SVE_IN_USE from TIF_SVE."""
    v = k.vcpu(vcpu)
    k.check(k.true if k.cur.mm else k.false, "BUG", "kvm_arch_vcpu_load_fp",
            "BUG_ON(!current->mm)")
    k.set(v.fp_enabled, False)
    k.set(v.host_sve_in_use, False)
    k.set(v.fp_host, True)
    with k.If(k.test_thread_flag("TIF_SVE")):
        k.set(v.host_sve_in_use, True)


def __hyp_switch_fpsimd(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/hyp/switch.c (v4.18-rc1 and v4.18): __hyp_switch_fpsimd().

    Enable FP; if FP_HOST: with SVE and HOST_SVE_IN_USE, sve_save_state() into the host
    thread's sve_state (found from host_fpsimd_state with container_of) and FPSR/FPCR into
    host_fpsimd_state, else __fpsimd_save_state(host_fpsimd_state); clear FP_HOST; load the
    guest's registers (and a 32-bit guest's FPEXC32_EL2 from its sys_regs); set
    FP_ENABLED.
    """
    v = k.vcpu(vcpu)
    k.set_fp_trap(False)
    with k.If(v.fp_host.eq(1)):
        if k.config.sve:
            with k.If(v.host_sve_in_use.eq(1)):
                for t in k.S.tasks:
                    if t.mm:
                        with k.If(v.host_fpsimd_state.eq(k.S.task_fpstate(t.index))):
                            k.sve_save_state(t.sve_state, v.host_fpsimd_state)
            with k.Else():
                k.store_through(v.host_fpsimd_state, k.__fpsimd_save_state)
        else:
            k.store_through(v.host_fpsimd_state, k.__fpsimd_save_state)
        k.set(v.fp_host, False)
    k.__fpsimd_restore_state(v.fp_regs)
    k.__fpsimd_restore_fpexc32(vcpu)
    k.set(v.fp_enabled, True)


def kvm_arch_vcpu_ioctl_run_enter_guest(k: Ctx, vcpu: int) -> None:
    """virt/kvm/arm/arm.c (v4.18-rc1): as at the seed, without kvm_fpsimd_flush_cpu_state()."""
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


def kvm_arch_vcpu_load_fp(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/fpsimd.c (v4.18): kvm_arch_vcpu_load_fp(): as in rc1, also clearing
    HOST_SVE_ENABLED and setting it from CPACR_EL1.ZEN_EL0EN when the system has SVE."""
    v = k.vcpu(vcpu)
    k.kvm_arch_vcpu_load_fp_rc1(vcpu)
    if k.config.sve:
        k.set(v.host_sve_enabled, k.this_cpu.zen_el0en)


def kvm_arch_vcpu_put_fp(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/fpsimd.c (v4.18): kvm_arch_vcpu_put_fp().

    local_irq_save(); if FP_ENABLED: fpsimd_save() and fpsimd_flush_cpu_state(); else if
    the system has SVE, restore CPACR_EL1.ZEN_EL0EN from HOST_SVE_ENABLED (hyp reset it to
    CPACR_EL1_DEFAULT); then restore TIF_SVE from HOST_SVE_IN_USE; local_irq_restore().
    """
    v = k.vcpu(vcpu)
    flags = k.local_irq_save()
    with k.If(v.fp_enabled.eq(1)):
        k.fpsimd_save()
        k.fpsimd_flush_cpu_state()
    if k.config.sve:
        with k.Else():
            k.set(k.this_cpu.zen_el0en, v.host_sve_enabled)
    k.update_thread_flag("TIF_SVE", v.host_sve_in_use.eq(1))
    k.local_irq_restore(flags)


def __activate_traps_fpexc32_fix(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/hyp/switch.c: __activate_traps() after "arm64: KVM: Only force
    FPEXC32_EL2.EN if trapping FPSIMD" (v4.19-rc3): as at v4.18, but
    __activate_traps_fpsimd32() is called only where FP gets trapped (inside the
    !update_fp_enabled() branch of activate_traps_vhe() and __activate_traps_nvhe()), so a
    32-bit guest whose FP state is still live keeps its own FPEXC32_EL2."""
    enabled = k.update_fp_enabled(vcpu)
    if k.config.vhe:
        if k.config.sve:
            k.set(k.this_cpu.zen_el0en, False)  # val &= ~CPACR_EL1_ZEN
        with k.If(~enabled.eq(1)):
            k.set_fp_trap(True)
            k.__activate_traps_fpsimd32(vcpu)
    else:
        k.set_fp_trap(False)
        with k.If(~enabled.eq(1)):
            k.set_fp_trap(True)
            k.__activate_traps_fpsimd32(vcpu)


def make_rc1(seed: Variant) -> Variant:
    return seed.derive(
        "v4.18-rc1",
        "v4.18-rc1: the seed's series as merged (host SVE saved by hyp), before the fixes",
        options={"new_functions": ["kvm_arch_vcpu_load_fp_rc1"]},
        kvm_arch_vcpu_load_fp=kvm_arch_vcpu_load_fp_rc1,
        kvm_arch_vcpu_load_fp_rc1=kvm_arch_vcpu_load_fp_rc1,
        __hyp_switch_fpsimd=__hyp_switch_fpsimd,
        kvm_arch_vcpu_ioctl_run_enter_guest=kvm_arch_vcpu_ioctl_run_enter_guest,
        kvm_fpsimd_flush_cpu_state=None,
        sve_flush_cpu_state=None,
    )


def make(rc1: Variant) -> Variant:
    return rc1.derive(
        "v4.18",
        "v4.18 release: put_fp under local_irq_save, saves before restoring TIF_SVE, "
        "restores the EL0 SVE trap",
        kvm_arch_vcpu_load_fp=kvm_arch_vcpu_load_fp,
        kvm_arch_vcpu_put_fp=kvm_arch_vcpu_put_fp,
    )


def make_fpexc32_fix(v418: Variant) -> Variant:
    return v418.derive(
        "v4.18-fpexc32-fix",
        "v4.18 plus 'arm64: KVM: Only force FPEXC32_EL2.EN if trapping FPSIMD' (v4.19-rc3)",
        __activate_traps=__activate_traps_fpexc32_fix,
    )


# ------------------------------------------------------------ fork of an SVE task (a fix)
def arch_dup_task_struct_fork_fix(k: Ctx, child: int) -> None:
    """arch/arm64/kernel/process.c: arch_dup_task_struct() as later kernels have it (the
    v6.18.2 tree: save current's state, then ``fpsimd_sync_from_effective_state(src)``:
    if the saved state is in SVE format, sve_to_fpsimd(src), before ``*dst = *src``),
    written with v4.18's helpers: fpsimd_signal_preserve_current_state() is
    fpsimd_preserve_current_state() followed by sve_to_fpsimd(current) if TIF_SVE, so
    the copied uw.fpsimd_state holds the parent's latest V values even when they were
    only in its sve_state (a tracer's NT_ARM_SVE write at the syscall-entry stop)."""
    k.fpsimd_signal_preserve_current_state()
    process.copy_task_struct(k, child)


# ------------------------------------------------------------ v5.0 vcpu reset (a fix)
def kvm_psci_vcpu_on_v50(k: Ctx, source: int, target: int) -> None:
    """virt/kvm/arm/psci.c: kvm_psci_vcpu_on() after "Allow a VCPU to fully reset itself"
    (v5.0): fill target->arch.reset_state (pc, r0, be; no FP), reset = true,
    kvm_make_request(KVM_REQ_VCPU_RESET, target), smp_wmb(), power_off = false,
    kvm_vcpu_wake_up().  The target's registers are not touched here."""
    k.set(k.vcpu(target).reset_pending, True)
    k.set(k.vcpu(target).power_off, False)


def check_vcpu_requests(k: Ctx, vcpu: int) -> None:
    """virt/kvm/arm/arm.c: check_vcpu_requests() (v5.0): ... if
    kvm_check_request(KVM_REQ_VCPU_RESET): kvm_reset_vcpu(vcpu) (the KVM_REQ_SLEEP part is
    the enter_guest step's power_off condition)."""
    v = k.vcpu(vcpu)
    if not isinstance(v.reset_pending, Var):
        return  # without event vcpu_reset no KVM_REQ_VCPU_RESET is ever made
    with k.If(v.reset_pending.eq(1)):
        k.set(v.reset_pending, False)
        k.kvm_reset_vcpu(vcpu)


def kvm_reset_vcpu_v50(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/reset.c: kvm_reset_vcpu() after e761a927bc9a (v5.0), called by the
    vcpu's own thread from the run loop, where it is loaded (vcpu->cpu != -1):
    preempt_disable(); kvm_arch_vcpu_put() (saves and flushes live guest FP state);
    overwrite core registers (fp_regs) and sys_regs (FPEXC32_EL2); kvm_arch_vcpu_load();
    preempt_enable()."""
    k.preempt_disable()
    k.kvm_arch_vcpu_put(vcpu)
    k.fp_write_memory(k.S.guest_owner(vcpu), vcpu_fp_context_slots(k.vcpu(vcpu)), zhi=False)
    k.kvm_arch_vcpu_load(vcpu)
    k.preempt_enable()


def kvm_arch_vcpu_ioctl_run_enter_guest_v50(k: Ctx, vcpu: int) -> None:
    """virt/kvm/arm/arm.c: kvm_arch_vcpu_ioctl_run() loop iteration (v5.0): after
    cond_resched(), check_vcpu_requests() (which may now reset this vcpu), then as at
    v4.18 (preempt_disable() ... guest entry).  Between the reset's preempt_enable() and
    the loop's preempt_disable() a softirq may run: after the put it finds the state
    flushed (TIF_FOREIGN_FPSTATE set), so its kernel-mode NEON saves nothing and the
    entry traps FP either way: merged into one step."""
    k.check_vcpu_requests(vcpu)
    kvm_arch_vcpu_ioctl_run_enter_guest(k, vcpu)


def make_fork_fix(v418: Variant) -> Variant:
    return v418.derive(
        "v4.18-fork-fix",
        "v4.18 whose fork copies an SVE task's V values from sve_state (later kernels'"
        " arch_dup_task_struct, fpsimd_sync_from_effective_state)",
        arch_dup_task_struct=arch_dup_task_struct_fork_fix,
    )


def make_vcpu_reset_fix(v418: Variant) -> Variant:
    return v418.derive(
        "v4.18-vcpu-reset-fix",
        "v4.18 with v5.0's PSCI CPU_ON: the target vcpu resets itself, state put around it",
        options={"new_functions": ["check_vcpu_requests"]},
        kvm_psci_vcpu_on=kvm_psci_vcpu_on_v50,
        check_vcpu_requests=check_vcpu_requests,
        kvm_reset_vcpu=kvm_reset_vcpu_v50,
        kvm_arch_vcpu_ioctl_run_enter_guest=kvm_arch_vcpu_ioctl_run_enter_guest_v50,
    )
