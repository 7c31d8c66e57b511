"""Paths that write a vcpu's FP state from outside its run loop, and kernel-mode NEON
inside KVM_RUN (optional events, model/events.py).

Sources (v4.17: SaumyaSachdev/linux-4.17 @ 4b4a148ccf12; v4.18:
c4pt000/ps4-4.18-rc7-experimental @ 68960d82b35a; identical for what is modelled here
unless noted):
* virt/kvm/arm/psci.c: kvm_psci_vcpu_off(), kvm_psci_vcpu_on() (called from the source
  vcpu's handle_exit -> kvm_hvc_call_handler -> kvm_psci_call, under kvm->lock only: the
  *target* vcpu's mutex is not taken, and the target may be loaded in its own thread);
* arch/arm64/kvm/reset.c: kvm_reset_vcpu() (memcpy of default_regs_reset[32] over
  vcpu_gp_regs(), which includes fp_regs, all FP registers zero; kvm_reset_sys_regs(),
  FPEXC32_EL2 = 0x70 by its sys_reg_descs entry); no preempt_disable, no vcpu_put/load;
* virt/kvm/arm/arm.c: check_vcpu_requests()/vcpu_req_sleep() (KVM_REQ_SLEEP: sleep in
  the run loop, vcpu loaded, until !power_off); kvm_arch_vcpu_ioctl(): KVM_SET_ONE_REG and
  KVM_GET_ONE_REG call kvm_arm_set_reg()/kvm_arm_get_reg() with no vcpu_load() (under
  vcpu->mutex, taken by kvm_vcpu_ioctl() in virt/kvm/kvm_main.c);
* arch/arm64/kvm/guest.c: set_core_reg() copies user data into vcpu->arch.ctxt.gp_regs
  (fp_regs.vregs, fpsr, fpcr are core registers); sys_regs.c: kvm_arm_sys_reg_set_reg()
  writes FPEXC32_EL2 into vcpu->arch.ctxt.sys_regs.

Value abstraction: a reset or a VMM write replaces the guest's FP state with values the
guest did not write itself but must see next: a new generation of the guest's state
(`Ctx.fp_write_memory`), written to every FP slot of the vcpu's saved context at once (by
data independence one write stands for the per-register ioctls and the memcpy).
"""

from __future__ import annotations

from model.ctx import Ctx
from model.dsl import Const
from model.state import VcpuVars


def vcpu_fp_context_slots(v: VcpuVars, *, core_v: bool = True) -> list:
    """Every modelled slot of the vcpu's saved FP context but P/FFR (`vcpu_fp_context_p_slots`):
    fp_regs (vregs, FPSR/FPCR, the FPMR sys_reg), FPEXC32_EL2 in sys_regs for an AArch32
    guest and, for an SVE vcpu (Config.sve_guest), the Z registers in vcpu->arch.sve_state
    (their V slice and the bits above 127).  ``core_v`` False leaves fp_regs.vregs out: an
    SVE vcpu's KVM_SET_ONE_REG cannot write them (guest.c core_reg_size_from_offset()
    refuses the V core registers of an SVE vcpu with -EINVAL)."""
    out = [s for s in v.fp_regs.slots() if core_v or s is not v.fp_regs.v]
    if v.sve_state is not None:
        out += [v.sve_state.v, v.sve_state.zhi]
    return out


def vcpu_fp_context_p_slots(v: VcpuVars) -> list:
    """An SVE vcpu's P0-P15/FFR in vcpu->arch.sve_state (none for a vcpu without SVE)."""
    return list(v.sve_state.p_slots()) if v.sve_state is not None else []


def vcpu_fp_write_memory(k: Ctx, vcpu: int, *, core_v: bool = True) -> None:
    """Someone other than the guest (the VMM's ioctl, a reset) writes the vcpu's saved FP
    context: a new generation of the guest's values (`Ctx.fp_write_memory`) in
    `vcpu_fp_context_slots` and, for an SVE vcpu, in its P/FFR (a guest has one
    generation for every slice, P/FFR included, as the guest's own SVE writes have:
    `model.variants.v6.guest_fp_write`)."""
    v = k.vcpu(vcpu)
    owner = k.S.guest_owner(vcpu)
    k.fp_write_memory(owner, vcpu_fp_context_slots(v, core_v=core_v), zhi=False)
    p_slots = vcpu_fp_context_p_slots(v)
    if p_slots:
        with k.atomic():  # ghost bookkeeping with the write: no interleaving point
            k.supersede_p(owner)
            for slot in p_slots:
                k.set(slot, Const(k.S.VALUE, k.S.latest(owner)))


# ----------------------------------------------------------------- virt/kvm/arm/psci.c
def kvm_psci_vcpu_off(k: Ctx, vcpu: int) -> None:
    """virt/kvm/arm/psci.c: kvm_psci_vcpu_off() (the guest's PSCI CPU_OFF, handled in its
    own thread's handle_exit): power_off = true; kvm_make_request(KVM_REQ_SLEEP) (the run
    loop then sleeps in vcpu_req_sleep() until power_off is cleared: the enter_guest step
    is disabled while power_off is set); kvm_vcpu_kick() (no effect: the vcpu is this
    thread's, outside guest mode)."""
    k.set(k.vcpu(vcpu).power_off, True)


def kvm_psci_vcpu_on(k: Ctx, source: int, target: int) -> None:
    """virt/kvm/arm/psci.c: kvm_psci_vcpu_on(source_vcpu) (v4.17, v4.18), in the source
    vcpu's thread: the target must be powered off (else PSCI_RET_ALREADY_ON, no effect:
    the step is enabled only when it is); kvm_reset_vcpu(target); set the target's PC, r0,
    endianness (no FP effect); power_off = false; swake_up() its wait queue."""
    k.kvm_reset_vcpu(target)
    k.set(k.vcpu(target).power_off, False)


# ----------------------------------------------------------------- arch/arm64/kvm/reset.c
def kvm_reset_vcpu(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/reset.c: kvm_reset_vcpu() (v4.17, v4.18): memcpy(vcpu_gp_regs(vcpu),
    cpu_reset, ...) overwrites the core registers including fp_regs (all zero);
    kvm_reset_sys_regs() rewrites sys_regs (FPEXC32_EL2 = 0x70); PMU, SSBD flag and timer
    reset have no FP effect.  Memory only: whether the vcpu is loaded, or its registers
    live or bound on some CPU, is not looked at, and it runs preemptible."""
    k.fp_write_memory(k.S.guest_owner(vcpu), vcpu_fp_context_slots(k.vcpu(vcpu)), zhi=False)


# ----------------------------------------------------------------- virt/kvm/arm/arm.c
def vcpu_req_sleep_interrupted(k: Ctx, vcpu: int) -> None:
    """virt/kvm/arm/arm.c: the run loop of a powered-off vcpu: check_vcpu_requests() ->
    vcpu_req_sleep() is woken by a signal (power_off still set: it re-requests
    KVM_REQ_SLEEP); then preempt_disable(), local_irq_disable(), signal_pending() ->
    ret = -EINTR, local_irq_enable(), preempt_enable(): the loop is left."""
    k.preempt_disable()
    k.local_irq_disable()
    k.local_irq_enable()
    k.preempt_enable()
    k.goto("LOOP_EXIT")


def kvm_run_kernel_neon(k: Ctx, vcpu: int) -> None:
    """Task-context kernel-mode NEON in the VMM thread inside KVM_RUN, with its vcpu
    loaded: at a preemptible point of the run loop (handle_exit() and what it calls, e.g.
    a stage-2 fault that pages memory in through a NEON-accelerated path), following the
    callers' pattern: if may_use_simd() then kernel_neon_begin(), NEON work,
    kernel_neon_end().  As in syscall_kernel_neon, the section is one step: preemption is
    off inside it and a softirq sees kernel_neon_busy."""
    with k.If(k.may_use_simd()):
        k.kernel_neon_begin()
        k.kernel_fp_write()
        k.kernel_fp_read()
        k.kernel_neon_end()


def kvm_vcpu_ioctl_set_one_reg(k: Ctx, vcpu: int) -> None:
    """virt/kvm/kvm_main.c: kvm_vcpu_ioctl(KVM_SET_ONE_REG) from user space (el0_svc):
    mutex_lock_killable(&vcpu->mutex) (enabled only while free); kvm_arch_vcpu_ioctl() ->
    kvm_arm_set_reg() with no vcpu_load(); mutex_unlock().  The mutex is held across the
    write and dropped in the same step: nothing else takes it, and the write is to memory
    that no other CPU touches while the vcpu is not in KVM_RUN (see the no_loss reader
    `vcpu_regs_read_by_vmm`)."""
    v = k.vcpu(vcpu)
    k.el0_svc()
    k.mutex_lock(v.mutex, "&vcpu->mutex")
    k.kvm_arm_set_reg(vcpu)
    k.mutex_unlock(v.mutex, "&vcpu->mutex")


def kvm_arm_set_reg(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/guest.c: kvm_arm_set_reg(): a core register (set_core_reg():
    copy_from_user into vcpu->arch.ctxt.gp_regs: fp_regs.vregs[n], fpsr, fpcr) or, for an
    AArch32 guest, FPEXC32_EL2 (kvm_arm_sys_reg_set_reg() into sys_regs).  The VMM's new
    values are a new generation of the guest's FP state."""
    k.fp_write_memory(k.S.guest_owner(vcpu), vcpu_fp_context_slots(k.vcpu(vcpu)), zhi=False)


FUNCTIONS = {
    f.__name__: f
    for f in (
        kvm_psci_vcpu_off,
        kvm_psci_vcpu_on,
        kvm_reset_vcpu,
        vcpu_req_sleep_interrupted,
        kvm_run_kernel_neon,
        kvm_vcpu_ioctl_set_one_reg,
        kvm_arm_set_reg,
    )
}
