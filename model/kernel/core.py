"""Generic kernel primitives: IRQ masking, preemption, bottom halves, softirqs, hardirqs,
and the locks the modelled paths take (the runqueue lock, vcpu->mutex).

Sources (read at v4.17, SaumyaSachdev/linux-4.17 4b4a148ccf12, and v4.18,
c4pt000/ps4-4.18-rc7-experimental 68960d82b35a; identical for what is modelled here except
ksoftirqd_running()'s argument, which the nondeterministic "pending" input covers):
include/linux/irqflags.h, include/linux/preempt.h, include/linux/bottom_half.h,
include/linux/lockdep.h, kernel/softirq.c, kernel/sched/core.c, include/linux/kernel.h.

Kernel configuration (model.config.Config, named after Kconfig):
* CONFIG_TRACE_IRQFLAGS: ``local_bh_disable()`` is the out-of-line
  ``__local_bh_disable_ip()`` of kernel/softirq.c, which WARNs in hardirq context (the
  inline version of bottom_half.h only adds to the count); ``__local_bh_enable_ip()``
  brackets its work with ``local_irq_disable()`` ... ``local_irq_enable()``: it returns
  with IRQs *enabled* whatever the caller had.
* CONFIG_PROVE_LOCKING: ``lockdep_assert_irqs_enabled()/disabled()`` exist (they are empty
  macros otherwise: Ctx.check drops kind ``lockdep``).
* The preemption model decides where the schedule step is enabled (model.steps), not what
  these primitives do: ``preempt_enable()`` reschedules only with CONFIG_PREEMPT, which the
  model expresses as "the schedule step is enabled in the next state".

Locking rules (property locking_rules, properties/locking.py) are checked where the C
would break them, on every configuration (`Ctx.rule`): IRQs unmasked or softirqs run while
a spinlock taken with IRQs masked (this CPU's rq->lock) is held; sleeping in atomic
context; unlocking a mutex one does not hold; taking a spinlock this CPU already holds.

Abstractions:
* ``preempt_count()`` is modelled per CPU as three counters: preempt_count (the
  preemption-disable depth), softirq_count (bh-disable depth plus one while a softirq is
  being served) and in_irq.  On arm64 the count lives in thread_info, but a task is only
  ever switched out with the same count it was switched in with, so per CPU is exact.
  ``__local_bh_enable_ip()`` keeps one preemption-disable level across the softirq it runs
  (preempt_count_sub(cnt - 1)); nothing in a step reads the count in between, so it is
  not modelled.
* ``local_softirq_pending()`` is a nondeterministic input wherever the kernel tests it:
  any softirq may have been raised earlier (by an IRQ while bottom halves were disabled,
  or from task context).  The one softirq handler modelled uses kernel-mode NEON when
  ``may_use_simd()`` allows (e.g. crypto on the network receive path); handlers that do
  not touch FP are not modelled (they change nothing the properties see).
* Only this CPU's own rq->lock is modelled (other CPUs' rq locks, taken by wake-ups and
  load balancing, never nest with the modelled FP code).
"""

from __future__ import annotations

from model.ctx import Ctx
from model.dsl import Expr


def irqs_disabled(k: Ctx) -> Expr:
    """include/linux/irqflags.h: irqs_disabled(): PSTATE.I of this CPU."""
    return k.this_cpu.irqs_disabled.eq(1)


def in_softirq(k: Ctx) -> Expr:
    """include/linux/preempt.h: in_softirq(): softirq_count() != 0 (bh disabled or serving)."""
    return k.this_cpu.softirq_count.ne(0)


def in_irq(k: Ctx) -> Expr:
    """include/linux/preempt.h: in_irq(): hardirq_count() != 0."""
    return k.this_cpu.hardirq.eq(1)


def in_interrupt(k: Ctx) -> Expr:
    """include/linux/preempt.h: in_interrupt(): hardirq, softirq or NMI count non-zero."""
    return k.in_irq() | k.in_softirq()


def preemptible(k: Ctx) -> Expr:
    """include/linux/preempt.h: preemptible() with CONFIG_PREEMPT_COUNT:
    preempt_count() == 0 && !irqs_disabled(); preempt_count() includes the softirq and
    hardirq counts."""
    cpu = k.this_cpu
    return (cpu.preempt_count.eq(0) & cpu.softirq_count.eq(0) & cpu.hardirq.eq(0)
            & ~k.irqs_disabled())


def irqsafe_locks_held(k: Ctx) -> Expr:
    """Some spinlock taken with IRQs masked is held on this CPU (here: its rq->lock)."""
    return k.this_cpu.rq_lock.eq(1)


def atomic_context(k: Ctx) -> Expr:
    """The code cannot sleep here: preemption or IRQs disabled, in (soft)irq context or
    bottom halves disabled, or a spinlock held (include/linux/preempt.h: in_atomic(),
    plus irqs_disabled() as ___might_sleep() tests)."""
    cpu = k.this_cpu
    return (cpu.preempt_count.ne(0) | cpu.softirq_count.ne(0) | cpu.hardirq.eq(1)
            | cpu.irqs_disabled.eq(1) | irqsafe_locks_held(k))


def local_irq_disable(k: Ctx) -> None:
    """include/linux/irqflags.h: local_irq_disable() (arm64: msr daifset, #2; with
    TRACE_IRQFLAGS also trace_hardirqs_off(), no behavioural difference)."""
    k.set(k.this_cpu.irqs_disabled, True)


def local_irq_enable(k: Ctx) -> None:
    """include/linux/irqflags.h: local_irq_enable() (arm64: msr daifclr, #2).

    Locking rule: not while a lock taken with IRQs masked is held (an IRQ whose handler
    takes the same lock would deadlock; with PROVE_LOCKING trace_hardirqs_on() reports
    the inconsistent lock state).  A pending IRQ is taken right after this statement: the
    model's IRQ step is enabled from the next state on, which is the same interleaving
    point.
    """
    k.rule(~irqsafe_locks_held(k), "irqs_on_under_irqsafe_lock", "local_irq_enable",
           "IRQs unmasked while this CPU's rq->lock (taken with IRQs off) is held")
    k.set(k.this_cpu.irqs_disabled, False)


def local_irq_save(k: Ctx) -> Expr:
    """include/linux/irqflags.h: local_irq_save(flags): returns the previous IRQ mask (a
    step-local ``flags``) and masks IRQs."""
    flags = k.let("flags", k.this_cpu.irqs_disabled)
    k.local_irq_disable()
    return flags


def local_irq_restore(k: Ctx, flags: Expr) -> None:
    """include/linux/irqflags.h: local_irq_restore(flags): put the IRQ mask back.

    Restoring an unmasked state is an IRQ enable (same locking rule as local_irq_enable).
    """
    k.rule(flags.eq(1) | ~irqsafe_locks_held(k), "irqs_on_under_irqsafe_lock",
           "local_irq_restore",
           "IRQs unmasked while this CPU's rq->lock (taken with IRQs off) is held")
    k.set(k.this_cpu.irqs_disabled, flags)


def preempt_disable(k: Ctx) -> None:
    """include/linux/preempt.h: preempt_disable()."""
    k.set(k.this_cpu.preempt_count, k.this_cpu.preempt_count.plus(1))


def preempt_enable(k: Ctx) -> None:
    """include/linux/preempt.h: preempt_enable().

    With CONFIG_PREEMPT, when the count drops to zero a pending reschedule is taken here:
    the model's schedule step is enabled from the next state on (model.steps.preemptible),
    which is the same interleaving point.  Without it this is only the decrement.
    """
    k.set(k.this_cpu.preempt_count, k.this_cpu.preempt_count.plus(-1))


def local_bh_disable(k: Ctx) -> None:
    """include/linux/bottom_half.h: local_bh_disable() = __local_bh_disable_ip(
    SOFTIRQ_DISABLE_OFFSET).

    With TRACE_IRQFLAGS that is kernel/softirq.c's out-of-line version:
    WARN_ON_ONCE(in_irq()), then the count is added under raw_local_irq_save/restore (the
    IRQ mask comes back as it was).  Without it, the inline version: preempt_count_add().
    """
    if k.config.trace_irqflags:
        k.check(~k.in_irq(), "WARN", "__local_bh_disable_ip", "WARN_ON_ONCE(in_irq())")
    k.set(k.this_cpu.softirq_count, k.this_cpu.softirq_count.plus(1))


def local_bh_enable(k: Ctx) -> None:
    """include/linux/bottom_half.h: local_bh_enable() = kernel/softirq.c:
    __local_bh_enable_ip(SOFTIRQ_DISABLE_OFFSET).

    WARN_ON_ONCE(in_irq()); lockdep_assert_irqs_enabled() (PROVE_LOCKING only); with
    TRACE_IRQFLAGS local_irq_disable(); drop the bh-disable count; if not in interrupt
    context and a softirq is pending, do_softirq() right here, even if the caller has IRQs
    disabled (__do_softirq() unmasks IRQs while the handlers run); with TRACE_IRQFLAGS
    local_irq_enable() at the end, unconditionally: a caller that had IRQs masked returns
    with them unmasked.
    """
    cpu = k.this_cpu
    k.check(~k.in_irq(), "WARN", "__local_bh_enable_ip", "WARN_ON_ONCE(in_irq())")
    k.check(~k.irqs_disabled(), "lockdep", "__local_bh_enable_ip",
            "lockdep_assert_irqs_enabled(): local_bh_enable() with IRQs disabled")
    if k.config.trace_irqflags:
        k.local_irq_disable()
    k.set(cpu.softirq_count, cpu.softirq_count.plus(-1))
    if not k.serving_softirq:
        # Inside __do_softirq() the softirq count is at least SOFTIRQ_OFFSET, so
        # in_interrupt() is true and nothing runs: decided at build time, which also
        # keeps the model's statements finite.
        pending = k.nondet("softirq pending at local_bh_enable")
        with k.If(~k.in_interrupt() & pending):
            k.do_softirq()
    if k.config.trace_irqflags:
        k.local_irq_enable()


def do_softirq(k: Ctx) -> None:
    """kernel/softirq.c: do_softirq(): if in_interrupt() return; local_irq_save();
    __do_softirq() (on the softirq stack) if a softirq is pending and ksoftirqd is not
    already running; local_irq_restore().  The callers test pending and in_interrupt()
    already (the pending input stands for both tests)."""
    flags = k.local_irq_save()
    k.__do_softirq()
    k.local_irq_restore(flags)


def __do_softirq(k: Ctx) -> None:
    """kernel/softirq.c: __do_softirq(): serve pending softirqs with bh counted, IRQs on.

    __local_bh_disable_ip(SOFTIRQ_OFFSET) (TRACE_IRQFLAGS: WARN_ON_ONCE(in_irq())),
    local_irq_enable(), the handlers, local_irq_disable(), __local_bh_enable(SOFTIRQ_OFFSET)
    (lockdep_assert_irqs_disabled()).  Locking rule: softirqs are not processed while a
    lock taken with IRQs masked is held.  Abstraction: one pass of the restart loop,
    running the one modelled handler.
    """
    cpu = k.this_cpu
    k.rule(~irqsafe_locks_held(k), "softirq_under_irqsafe_lock", "__do_softirq",
           "softirq handlers run while this CPU's rq->lock (taken with IRQs off) is held")
    if k.config.trace_irqflags:
        k.check(~k.in_irq(), "WARN", "__local_bh_disable_ip", "WARN_ON_ONCE(in_irq())")
    k.set(cpu.softirq_count, cpu.softirq_count.plus(1))  # __local_bh_disable_ip(SOFTIRQ_OFFSET)
    k.local_irq_enable()
    k.serving_softirq += 1
    k.softirq_handler_using_neon()
    k.serving_softirq -= 1
    k.local_irq_disable()
    k.check(k.irqs_disabled(), "lockdep", "__local_bh_enable",
            "lockdep_assert_irqs_disabled()")
    k.set(cpu.softirq_count, cpu.softirq_count.plus(-1))  # __local_bh_enable(SOFTIRQ_OFFSET)


def might_sleep(k: Ctx, what: str) -> None:
    """include/linux/kernel.h: might_sleep(): the caller may block here.

    Locking rule: not in atomic context.  With DEBUG_ATOMIC_SLEEP ___might_sleep() prints
    "BUG: sleeping function called from invalid context"; with PREEMPT_VOLUNTARY it is
    also a voluntary preemption point (model.steps.preemptible).
    """
    k.rule(~k.atomic_context(), "sleep_in_atomic", "might_sleep",
           f"{what} may sleep in atomic context")


def mutex_lock(k: Ctx, lock: Expr, what: str) -> None:
    """kernel/locking/mutex.c: mutex_lock()/mutex_lock_killable(): might_sleep(), then
    take the (sleeping) lock.  Contention is modelled by the caller's guard (a step that
    takes the mutex is enabled only while it is free: a task waiting for it is blocked,
    which the schedule step covers)."""
    k.might_sleep(f"mutex_lock({what})")
    k.set(lock, k.cur.name)


def mutex_unlock(k: Ctx, lock: Expr, what: str) -> None:
    """kernel/locking/mutex.c: mutex_unlock(): release the lock.  Locking rule: only its
    owner releases it (DEBUG_MUTEXES: DEBUG_LOCKS_WARN_ON(owner != current))."""
    k.rule(lock.eq(k.cur.name), "mutex_owner", "mutex_unlock",
           f"mutex_unlock({what}) by a task that does not hold it")
    k.set(lock, "NULL")


def raw_spin_lock_rq(k: Ctx) -> None:
    """kernel/sched/sched.h: rq_lock(rq) = raw_spin_lock(&rq->lock) (+ lockdep pinning):
    preempt_disable() and take this CPU's rq->lock.  Locking rule: not already held by
    this CPU (it would spin forever; DEBUG_SPINLOCK: "spinlock recursion", PROVE_LOCKING:
    "possible recursive locking")."""
    cpu = k.this_cpu
    k.rule(cpu.rq_lock.eq(0), "self_deadlock", "rq_lock",
           "this CPU's rq->lock taken while this CPU already holds it")
    k.preempt_disable()
    k.set(cpu.rq_lock, True)


def raw_spin_unlock_irq_rq(k: Ctx) -> None:
    """kernel/sched/core.c: finish_lock_switch(): raw_spin_unlock_irq(&rq->lock):
    release the lock, local_irq_enable(), preempt_enable()."""
    k.set(k.this_cpu.rq_lock, False)
    k.local_irq_enable()
    k.preempt_enable()


def softirq_handler_using_neon(k: Ctx) -> None:
    """A softirq handler that uses kernel-mode NEON when it may (e.g. crypto in net RX).

    Modelled on the callers' pattern (crypto/ and arch/arm64/crypto/): if may_use_simd()
    then kernel_neon_begin(), NEON work that writes the registers and reads its results
    back (the data stays in the registers), kernel_neon_end(); otherwise a scalar
    fallback that does not touch FP.
    """
    with k.If(k.may_use_simd()):
        k.kernel_neon_begin()
        k.kernel_fp_write()
        k.kernel_fp_read()
        k.kernel_neon_end()


def irq_exit(k: Ctx) -> None:
    """kernel/softirq.c: irq_exit(): leave hardirq context; invoke_softirq() if allowed.

    The softirq pending flag is an input: the model's IRQ step stands for an IRQ whose
    handler raised a softirq (IRQs with no FP effect are not modelled).  arm64 defines
    __ARCH_IRQ_EXIT_IRQS_DISABLED, so irq_exit() asserts IRQs are masked
    (lockdep_assert_irqs_disabled()) instead of masking them.
    """
    k.check(k.irqs_disabled(), "lockdep", "irq_exit", "lockdep_assert_irqs_disabled()")
    k.set(k.this_cpu.hardirq, False)
    with k.If(~k.in_interrupt()):
        k.__do_softirq()


def handle_irq(k: Ctx) -> None:
    """arch/arm64/kernel/entry.S el1_irq/el0_irq: take an IRQ on this CPU.

    The exception masks IRQs; irq_enter(); the handler (no FP use: may_use_simd() is false
    in hardirq context) raises a softirq; irq_exit() runs it; the exception return
    restores the interrupted context's PSTATE (IRQs unmasked).
    """
    k.local_irq_disable()
    k.set(k.this_cpu.hardirq, True)  # irq_enter()
    k.irq_exit()
    k.local_irq_enable()


FUNCTIONS = {
    f.__name__: f
    for f in (
        irqs_disabled,
        in_softirq,
        in_irq,
        in_interrupt,
        preemptible,
        irqsafe_locks_held,
        atomic_context,
        local_irq_disable,
        local_irq_enable,
        local_irq_save,
        local_irq_restore,
        might_sleep,
        mutex_lock,
        mutex_unlock,
        raw_spin_lock_rq,
        raw_spin_unlock_irq_rq,
        preempt_disable,
        preempt_enable,
        local_bh_disable,
        local_bh_enable,
        do_softirq,
        __do_softirq,
        softirq_handler_using_neon,
        irq_exit,
        handle_irq,
    )
}
