"""kernel/sched/core.c and arch/arm64/kernel/process.c: the context switch; and the
exception entry/exit paths of arch/arm64/kernel/entry.S and signal.c.

Scheduling policy is abstracted: at any preemption point any runnable task (or this
CPU's idle thread) may be chosen, so every schedule the real scheduler could produce is
included (blocking and wake-up are covered by "switch to idle" and "switch back").
"""

from __future__ import annotations

from model.ctx import Ctx
from model.dsl import Var


def __schedule(k: Ctx, next_task: int) -> None:
    """kernel/sched/core.c: __schedule() switching from current to ``next_task`` (v4.17 and
    v4.18 alike).

    schedule(): preempt_disable() (preempt_schedule_common() and schedule() both disable
    preemption around __schedule()); schedule_debug(): "BUG: scheduling while atomic" if
    the count shows more than that one level (locking rule sleep_in_atomic);
    local_irq_disable(); rq_lock(): raw_spin_lock(&rq->lock).  context_switch():
    prepare_task_switch() fires the preempt notifiers' sched_out *under rq->lock with
    IRQs masked* (kvm_sched_out() if the outgoing task has a vcpu loaded);
    switch_to() -> __switch_to() -> fpsimd_thread_switch(next); then, in the incoming
    task, finish_task_switch(): finish_lock_switch() = raw_spin_unlock_irq(&rq->lock)
    (unlock, IRQs on, preempt_enable), then the sched_in notifiers (kvm_sched_in() if the
    incoming task has a vcpu loaded); finally preempt_enable().  All of this up to the IRQ
    enable is one atomic step by IRQ masking (unless a callee unmasks IRQs under the lock,
    which breaks a locking rule and is reported as such); kvm_sched_in() runs with IRQs on
    but touches only vcpu flags and reads TIF_SVE, which no softirq changes, so it
    commutes with any softirq that could run before it and is part of the same step.
    """
    prev = k.cur
    if prev.mm:
        # A user task preempted at EL0 (el0_irq -> ret_to_user -> schedule) resumes on
        # the ret_to_user path in the kernel: it is there from the start of schedule().
        with k.If(prev.pc.eq("USER")):
            k.set(prev.pc, "KERNEL")
    cpu = k.this_cpu
    k.preempt_disable()
    k.rule(cpu.preempt_count.eq(1) & cpu.softirq_count.eq(0) & cpu.hardirq.eq(0)
           & cpu.rq_lock.eq(0), "sleep_in_atomic", "schedule_debug",
           "schedule() in atomic context (BUG: scheduling while atomic)")
    k.local_irq_disable()
    k.raw_spin_lock_rq()
    k.fire_sched_out_preempt_notifiers()
    k.__switch_to(next_task)
    k.set(cpu.current, next_task)
    k.current = next_task
    k.raw_spin_unlock_irq_rq()
    k.fire_sched_in_preempt_notifiers()
    k.preempt_enable()


def __switch_to(k: Ctx, next_task: int) -> None:
    """arch/arm64/kernel/process.c: __switch_to(): fpsimd_thread_switch(next) first; the
    rest (TLS, uao, ssbd, contextidr, cpu_switch_to) has no FP effect."""
    k.fpsimd_thread_switch(next_task)


def fire_sched_out_preempt_notifiers(k: Ctx) -> None:
    """kernel/sched/core.c: fire_sched_out_preempt_notifiers(current): KVM's notifier is
    registered on the task that has a vcpu loaded (vcpu_load() .. vcpu_put()); only
    VMM threads ever register one."""
    if not k.cur.vmm:
        return
    for v in range(k.config.vcpus):
        with k.If(k.cur.loaded_vcpu.eq(v + 1)):
            k.kvm_sched_out(v)


def fire_sched_in_preempt_notifiers(k: Ctx) -> None:
    """kernel/sched/core.c: fire_sched_in_preempt_notifiers(current)."""
    if not k.cur.vmm:
        return
    for v in range(k.config.vcpus):
        with k.If(k.cur.loaded_vcpu.eq(v + 1)):
            k.kvm_sched_in(v)


def el0_svc(k: Ctx) -> None:
    """arch/arm64/kernel/entry.S: el0_svc: a syscall from user space.

    With IRQs still masked, if TIF_SVE is set it is cleared and CPACR_EL1.ZEN_EL0EN too
    (the syscall ABI discards the Z bits above 128: "sve_user_discard"); then enable_daif
    and the syscall body runs with IRQs on and preemption enabled.
    """
    if k.config.sve and k.cur.mm:
        # The exception entry from EL0 masks DAIF; el0_svc_naked's enable_daif unmasks
        # it after the discard.  (Stated so that the derived interleaving sees no IRQ
        # or preemption point inside the discard, as on the CPU.)
        k.set(k.this_cpu.irqs_disabled, True)
        with k.If(k.test_thread_flag("TIF_SVE")):
            k.clear_thread_flag("TIF_SVE")
            k.set(k.this_cpu.zen_el0en, False)
        # Ghost: by the syscall ABI the task's Z bits above 127 are now zero (in the
        # model's reading) and its P0-P15/FFR unspecified (sve.txt section 3).  Recorded
        # with the discard, at the SVC, before anything can interrupt or preempt.
        k.set(k.cur.zhi_expected, 0)
        k.set(k.cur.p_written, 0)
        k.set(k.this_cpu.irqs_disabled, False)
    if isinstance(k.cur.sigframe_fresh, Var):
        # Ghost (event signal): the frame was checked against the interrupted registers
        # up to here; after a syscall the ABI's expectations for Z-high and P/FFR change
        # while the frame does not, so the check ends.
        k.set(k.cur.sigframe_fresh, 0)
    if isinstance(k.cur.syscall_body, Var):
        k.set(k.cur.syscall_body, True)  # (events fork, sve_set_vl) the syscall's body
    k.goto("KERNEL")


def ret_to_user(k: Ctx) -> None:
    """arch/arm64/kernel/entry.S: ret_to_user, with do_notify_resume() (signal.c).

    disable_daif, then test the work flags.  If TIF_FOREIGN_FPSTATE is set,
    do_notify_resume() re-enables IRQs and calls fpsimd_restore_current_state(); the
    loop then masks IRQs and tests the flags again (the next ret_to_user step).  If no
    work is pending, kernel_exit returns to EL0 (IRQs unmasked there).
    Abstraction: other work (signals, TIF_NEED_RESCHED) is the schedule step.
    """
    k.local_irq_disable()
    with k.If(k.test_thread_flag("TIF_FOREIGN_FPSTATE")):
        k.local_irq_enable()  # local_daif_restore(DAIF_PROCCTX)
        k.fpsimd_restore_current_state()
    with k.Else():
        if isinstance(k.cur.syscall_body, Var):
            # (events fork, sve_set_vl) model bookkeeping, with IRQs still masked: the
            # kernel is past its last check; only the eret (below) unmasks them.
            k.set(k.cur.syscall_body, False)
        k.local_irq_enable()  # kernel_exit's eret: PSTATE at EL0 has IRQs unmasked
        k.goto("USER")


def irq_from(k: Ctx) -> None:
    """arch/arm64/kernel/entry.S: el0_irq / el1_irq: an IRQ whose handler raises a
    softirq that uses kernel-mode NEON.  Taken from EL0, it returns via ret_to_user."""
    k.handle_irq()
    if k.cur.mm:
        with k.If(k.cur.pc.eq("USER")):
            k.goto("KERNEL")


def syscall_kernel_neon(k: Ctx) -> None:
    """A syscall that uses kernel-mode NEON in task context (e.g. a crypto API user such
    as dm-crypt or AF_ALG), following the callers' pattern: if may_use_simd() then
    kernel_neon_begin(), NEON work (write, then read back), kernel_neon_end().  Between
    begin and end preemption is off and bottom halves are on; an IRQ may come (the
    builder inlines it wherever it could change something, model/interleave.py), and
    its softirq must see kernel_neon_busy and fall back to scalar code, or the read-back
    finds the softirq's data (``no_loss``)."""
    with k.If(k.may_use_simd()):
        k.kernel_neon_begin()
        k.kernel_fp_write()
        k.kernel_fp_read()
        k.kernel_neon_end()


def user_fp_write(k: Ctx) -> None:
    """User code at EL0 writes its FP/SIMD registers (V0-V31, FPSR, FPCR); writing V
    zeroes the Z bits above 127."""
    k.fp_write(k.current, k.this_cpu.regs, zhi=False)


def user_sve_write(k: Ctx) -> None:
    """User code at EL0 with SVE enabled writes its Z registers (all VL bits) and FPSR."""
    k.fp_write(k.current, k.this_cpu.regs, zhi=True)


def guest_fp_write(k: Ctx, vcpu: int) -> None:
    """The guest writes its FP/SIMD registers (FP untrapped)."""
    k.fp_write(k.S.guest_owner(vcpu), k.this_cpu.regs, zhi=False)


FUNCTIONS = {
    f.__name__: f
    for f in (
        __schedule,
        __switch_to,
        fire_sched_out_preempt_notifiers,
        fire_sched_in_preempt_notifiers,
        el0_svc,
        ret_to_user,
        irq_from,
        syscall_kernel_neon,
        user_fp_write,
        user_sve_write,
        guest_fp_write,
    )
}
