"""Generic kernel primitives: IRQ masking, preemption, bottom halves, softirqs, hardirqs.

Sources: include/linux/irqflags.h, include/linux/preempt.h, include/linux/bottom_half.h,
kernel/softirq.c (v4.17 and v4.18 are the same for what is modelled here).

Abstractions:
* ``preempt_count()`` is modelled per CPU as three counters: preempt_count (the
  preemption-disable depth), softirq_count (bh-disable depth plus one while a softirq is
  being served) and in_irq.  On arm64 the count lives in thread_info, but a task is only
  ever switched out with the same count it was switched in with, so per CPU is exact.
* ``local_softirq_pending()`` is a nondeterministic input wherever the kernel tests it:
  any softirq may have been raised earlier (by an IRQ while bottom halves were disabled,
  or from task context).  The one softirq handler modelled uses kernel-mode NEON when
  ``may_use_simd()`` allows (e.g. crypto on the network receive path); handlers that do
  not touch FP are not modelled (they change nothing the properties see).
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


def local_irq_disable(k: Ctx) -> None:
    """include/linux/irqflags.h: local_irq_disable() (arm64: msr daifset, #2)."""
    k.set(k.this_cpu.irqs_disabled, True)


def local_irq_enable(k: Ctx) -> None:
    """include/linux/irqflags.h: local_irq_enable() (arm64: msr daifclr, #2).

    A pending IRQ is taken right after this statement: the model's IRQ step is enabled
    from the next state on, which is the same interleaving point.
    """
    k.set(k.this_cpu.irqs_disabled, False)


def preempt_disable(k: Ctx) -> None:
    """include/linux/preempt.h: preempt_disable()."""
    k.set(k.this_cpu.preempt_count, k.this_cpu.preempt_count.plus(1))


def preempt_enable(k: Ctx) -> None:
    """include/linux/preempt.h: preempt_enable() (CONFIG_PREEMPT).

    When the count drops to zero a pending reschedule is taken here; the model's schedule
    step is enabled from the next state on, which is the same interleaving point.
    """
    k.set(k.this_cpu.preempt_count, k.this_cpu.preempt_count.plus(-1))


def local_bh_disable(k: Ctx) -> None:
    """kernel/softirq.c: __local_bh_disable_ip(SOFTIRQ_DISABLE_OFFSET)."""
    k.set(k.this_cpu.softirq_count, k.this_cpu.softirq_count.plus(1))


def local_bh_enable(k: Ctx) -> None:
    """kernel/softirq.c: __local_bh_enable_ip().

    Checks WARN_ON_ONCE(in_irq()) and lockdep_assert_irqs_enabled() (a CONFIG_PROVE_LOCKING
    warning), drops the bh-disable count, and then, if not in interrupt context and a
    softirq is pending, runs it right here via do_softirq(), even if the caller has IRQs
    disabled (do_softirq() saves and restores the IRQ state, __do_softirq() enables IRQs
    while the handlers run).
    """
    cpu = k.this_cpu
    k.check(~k.in_irq(), "WARN", "__local_bh_enable_ip", "WARN_ON_ONCE(in_irq())")
    k.check(~k.irqs_disabled(), "lockdep", "__local_bh_enable_ip",
            "lockdep_assert_irqs_enabled(): local_bh_enable() with IRQs disabled")
    k.set(cpu.softirq_count, cpu.softirq_count.plus(-1))
    if k.serving_softirq:
        # Inside __do_softirq() the softirq count is at least SOFTIRQ_OFFSET, so
        # in_interrupt() is true and nothing runs: decided at build time, which also
        # keeps the model's statements finite.
        return
    pending = k.nondet("softirq pending at local_bh_enable")
    with k.If(~k.in_interrupt() & pending):
        k.do_softirq()


def do_softirq(k: Ctx) -> None:
    """kernel/softirq.c: do_softirq(): local_irq_save(); __do_softirq(); local_irq_restore()."""
    flags = k.let("flags", k.this_cpu.irqs_disabled)
    k.local_irq_disable()
    k.__do_softirq()
    k.set(k.this_cpu.irqs_disabled, flags)


def __do_softirq(k: Ctx) -> None:
    """kernel/softirq.c: __do_softirq(): serve pending softirqs with bh counted, IRQs on.

    Abstraction: one pass of the restart loop, running the one modelled handler.
    """
    cpu = k.this_cpu
    k.set(cpu.softirq_count, cpu.softirq_count.plus(1))  # __local_bh_disable_ip(SOFTIRQ_OFFSET)
    k.local_irq_enable()
    k.serving_softirq += 1
    k.softirq_handler_using_neon()
    k.serving_softirq -= 1
    k.local_irq_disable()
    k.set(cpu.softirq_count, cpu.softirq_count.plus(-1))  # __local_bh_enable(SOFTIRQ_OFFSET)


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
    handler raised a softirq (IRQs with no FP effect are not modelled).
    """
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
        local_irq_disable,
        local_irq_enable,
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
