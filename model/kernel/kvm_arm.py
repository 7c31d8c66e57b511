"""virt/kvm/arm/arm.c and virt/kvm/kvm_main.c: KVM_RUN, vcpu load/put, preempt notifiers.

The run loop `kvm_arch_vcpu_ioctl_run()` is cut at its real interleaving points; each
piece below is one atomic step of the model and names the statements it covers.  Between
pieces the VMM thread sits at a program counter (model.state.PCS) with the IRQ and
preemption state the C has there, so IRQs, softirqs and preemption interleave exactly
where they can.  Abstractions: MMIO completion, signals (other than as a reason to leave
the loop), vgic/timer/PMU/debug state, VMID generations and requests (their FP effect is
none; a request only makes the loop iterate without entering the guest, which the
"bail out" branch covers); ``vcpu->arch.host_cpu_context`` always points at this CPU's
kvm_host_cpu_state, because kvm_arch_vcpu_load() sets it on every load.
"""

from __future__ import annotations

from model.ctx import Ctx
from model.dsl import Var


# ----------------------------------------------------------------- virt/kvm/arm/arm.c
def kvm_arch_vcpu_load(k: Ctx, vcpu: int) -> None:
    """virt/kvm/arm/arm.c: kvm_arch_vcpu_load() (seed): ...; kvm_arch_vcpu_load_fp(vcpu).

    The rest (TLB flush, host_cpu_context, vgic/timer/sysregs load) has no FP effect.
    """
    k.kvm_arch_vcpu_load_fp(vcpu)


def kvm_arch_vcpu_put(k: Ctx, vcpu: int) -> None:
    """virt/kvm/arm/arm.c: kvm_arch_vcpu_put() (seed): kvm_arch_vcpu_put_fp(vcpu) first,
    then sysregs/timer/vgic put (no FP effect)."""
    k.kvm_arch_vcpu_put_fp(vcpu)


def kvm_arch_vcpu_ioctl_run_load(k: Ctx, vcpu: int) -> None:
    """virt/kvm/arm/arm.c: kvm_arch_vcpu_ioctl_run() from entry to the loop: first-run
    init, kvm_sigset_activate(), vcpu_load(vcpu).  IRQs on, preemptible before it."""
    k.vcpu_load(vcpu)
    k.goto("LOOP_TOP")


def kvm_arch_vcpu_ioctl_run_enter_guest(k: Ctx, vcpu: int) -> None:
    """virt/kvm/arm/arm.c: kvm_arch_vcpu_ioctl_run(), one loop iteration from after
    cond_resched() to guest entry: preempt_disable(), kvm_fpsimd_flush_cpu_state() (still
    in the loop at the seed), local_irq_disable(), the bail-out checks (a pending signal
    or request: local_irq_enable(), preempt_enable(), leave or restart the loop), then
    guest_enter_irqoff() and the hyp call (VHE: kvm_vcpu_run_vhe(); nVHE:
    kvm_call_hyp(__kvm_vcpu_run_nvhe)).  From preempt_disable() to guest entry nothing
    on this CPU can interleave with a modelled effect (see model.steps).
    """
    k.preempt_disable()
    k.kvm_fpsimd_flush_cpu_state()
    k.local_irq_disable()
    bail = k.nondet("signal pending: leave the run loop")
    with k.If(bail):
        k.local_irq_enable()
        k.preempt_enable()
        k.goto("LOOP_EXIT")
    with k.Else():
        k.__kvm_vcpu_run_enter(vcpu)
        k.goto("IN_GUEST")


def kvm_arch_vcpu_ioctl_run_guest_exit(k: Ctx, vcpu: int) -> None:
    """virt/kvm/arm/arm.c: kvm_arch_vcpu_ioctl_run() from the guest's exit to the IRQ
    window: hyp's exit path, then (IRQs still masked) vcpu->mode = OUTSIDE_GUEST_MODE,
    PMU/vgic/timer sync, kvm_arch_vcpu_ctxsync_fp(vcpu) (added by the seed), and
    local_irq_enable().  The IRQ that caused the exit is taken right after."""
    k.__kvm_vcpu_run_exit(vcpu)
    k.kvm_arch_vcpu_ctxsync_fp(vcpu)
    k.local_irq_enable()
    k.goto("POST_EXIT")


def kvm_arch_vcpu_ioctl_run_handle_exit(k: Ctx, vcpu: int) -> None:
    """virt/kvm/arm/arm.c: kvm_arch_vcpu_ioctl_run(): guest_exit(), handle_exit_early(),
    preempt_enable(), handle_exit(): ret > 0 goes round the loop again, ret <= 0 leaves it.
    handle_exit() (MMIO, sysreg, hypercall emulation) does not touch FP state."""
    k.preempt_enable()
    again = k.nondet("handle_exit() > 0: run the guest again")
    with k.If(again):
        k.goto("LOOP_TOP")
    with k.Else():
        k.goto("LOOP_EXIT")


def kvm_arch_vcpu_ioctl_run_put(k: Ctx, vcpu: int) -> None:
    """virt/kvm/arm/arm.c: kvm_arch_vcpu_ioctl_run() after the loop: kvm_sigset_deactivate(),
    vcpu_put(vcpu); then kvm_vcpu_ioctl() drops vcpu->mutex (mutex_unlock) and returns to
    user space."""
    k.vcpu_put(vcpu)
    k.mutex_unlock(k.vcpu(vcpu).mutex, "&vcpu->mutex")
    if isinstance(k.cur.syscall_body, Var):
        k.set(k.cur.syscall_body, False)  # (events fork, sve_set_vl) the ioctl's body is done
    k.goto("KERNEL")


# ----------------------------------------------------------------- virt/kvm/kvm_main.c
def kvm_vcpu_ioctl_run(k: Ctx, vcpu: int) -> None:
    """virt/kvm/kvm_main.c: kvm_vcpu_ioctl(KVM_RUN) up to kvm_arch_vcpu_ioctl_run().

    Entered by a syscall from user space (el0_svc); takes vcpu->mutex with
    mutex_lock_killable() (a sleeping lock: might_sleep(); the step is enabled only while
    the mutex is free, a task waiting for it is blocked); if vcpu->pid is not current's, calls
    kvm_arch_vcpu_run_pid_change() (when the arch selects
    HAVE_KVM_VCPU_RUN_PID_CHANGE, which the seed does) and records current as vcpu->pid.
    """
    v = k.vcpu(vcpu)
    k.el0_svc()
    k.mutex_lock(v.mutex, "&vcpu->mutex")
    if k.variant.option("HAVE_KVM_VCPU_RUN_PID_CHANGE", False):
        with k.If(v.pid.ne(k.cur.name)):
            k.kvm_arch_vcpu_run_pid_change(vcpu)
    k.set(v.pid, k.cur.name)
    k.goto("VCPU_LOAD")


def vcpu_load(k: Ctx, vcpu: int) -> None:
    """virt/kvm/kvm_main.c: vcpu_load(): get_cpu(), preempt_notifier_register(),
    kvm_arch_vcpu_load(), put_cpu()."""
    k.preempt_disable()
    k.set(k.cur.loaded_vcpu, vcpu + 1)
    k.kvm_arch_vcpu_load(vcpu)
    k.preempt_enable()


def vcpu_put(k: Ctx, vcpu: int) -> None:
    """virt/kvm/kvm_main.c: vcpu_put(): preempt_disable(), kvm_arch_vcpu_put(),
    preempt_notifier_unregister(), preempt_enable()."""
    k.preempt_disable()
    k.kvm_arch_vcpu_put(vcpu)
    k.set(k.cur.loaded_vcpu, 0)
    k.preempt_enable()


def kvm_sched_in(k: Ctx, vcpu: int) -> None:
    """virt/kvm/kvm_main.c: kvm_sched_in() (preempt notifier, from finish_task_switch()
    with IRQs on and preemption off): kvm_arch_vcpu_load(vcpu, cpu)."""
    k.kvm_arch_vcpu_load(vcpu)


def kvm_sched_out(k: Ctx, vcpu: int) -> None:
    """virt/kvm/kvm_main.c: kvm_sched_out() (preempt notifier, from prepare_task_switch()
    with IRQs off and the runqueue locked): kvm_arch_vcpu_put(vcpu)."""
    k.kvm_arch_vcpu_put(vcpu)


FUNCTIONS = {
    f.__name__: f
    for f in (
        kvm_arch_vcpu_load,
        kvm_arch_vcpu_put,
        kvm_arch_vcpu_ioctl_run_load,
        kvm_arch_vcpu_ioctl_run_enter_guest,
        kvm_arch_vcpu_ioctl_run_guest_exit,
        kvm_arch_vcpu_ioctl_run_handle_exit,
        kvm_arch_vcpu_ioctl_run_put,
        kvm_vcpu_ioctl_run,
        vcpu_load,
        vcpu_put,
        kvm_sched_in,
        kvm_sched_out,
    )
}
