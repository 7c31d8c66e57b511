"""Property ``locking_rules``: the kernel's locking rules, checked on every configuration.

The rules are emitted by the model where the C would break them (`model.ctx.Ctx.rule`,
kind ``locking``), like the WARN/BUG checks of ``kernel_asserts`` but kept apart: a
broken locking rule is a finding whether or not the kernel it runs on prints anything.
Whether it does depends on the kernel configuration; `RULES` says, per rule, which
configurations print a splat and what happens on the others, and `explain` states it for
one configuration (reports and counterexample texts use it).

Sources: include/linux/lockdep.h, kernel/locking/lockdep.c (mark_held_locks() from
trace_hardirqs_on(): "inconsistent {IN-HARDIRQ-W} -> {HARDIRQ-ON-W} usage"),
kernel/sched/core.c (scheduler_tick() takes rq->lock in hardirq context; schedule_debug()
and ___might_sleep()), kernel/locking/mutex-debug.c, at v4.17/v4.18.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from model.config import Config
from model.dsl import Check

LOCKING_RULES = "locking_rules"
LOCKING_RULES_DOC = (
    "The kernel's locking rules hold on every configuration: IRQs stay masked and no"
    " softirq runs while a spinlock taken with IRQs masked (this CPU's rq->lock, held"
    " across __schedule() and the sched_out preempt notifiers) is held; nothing sleeps"
    " (mutex_lock, a blocking schedule) in atomic context; a mutex (vcpu->mutex) is"
    " released by its owner; no CPU takes a spinlock it holds.  Each rule says which"
    " kernel configurations print a splat when it is broken."
)


@dataclass(frozen=True)
class Rule:
    name: str
    statement: str
    splat: Callable[[Config], str | None]  # the splat this configuration prints, or None
    splat_configs: str  # which configurations print one, in words
    otherwise: str  # what happens where nothing is printed


def _irqs_on_splat(c: Config) -> str | None:
    if c.prove_locking:
        return ("lockdep: \"inconsistent {IN-HARDIRQ-W} -> {HARDIRQ-ON-W} usage\" for "
                "&rq->lock (trace_hardirqs_on() marks the held lock hardirq-unsafe)")
    return None


def _softirq_splat(c: Config) -> str | None:
    if c.prove_locking:
        return ("lockdep: __do_softirq()'s local_irq_enable() gives the inconsistent "
                "lock state report for &rq->lock (see irqs_on_under_irqsafe_lock)")
    return None


def _sleep_splat(c: Config) -> str | None:
    if c.preempt == "PREEMPT":
        return ("\"BUG: scheduling while atomic\" from schedule_debug() if it really "
                "blocks (CONFIG_PREEMPT counts preemption); with DEBUG_ATOMIC_SLEEP also "
                "\"BUG: sleeping function called from invalid context\" from might_sleep()")
    return None


def _mutex_splat(c: Config) -> str | None:
    if c.prove_locking:
        return "DEBUG_MUTEXES (selected by PROVE_LOCKING): DEBUG_LOCKS_WARN_ON(owner != current)"
    return None


def _self_deadlock_splat(c: Config) -> str | None:
    if c.prove_locking:
        return ("lockdep: \"possible recursive locking detected\" (DEBUG_SPINLOCK, "
                "selected by PROVE_LOCKING: \"spinlock recursion\")")
    return None


RULES: dict[str, Rule] = {r.name: r for r in (
    Rule("irqs_on_under_irqsafe_lock",
         "IRQs stay masked while a spinlock taken with IRQs masked is held",
         _irqs_on_splat, "PROVE_LOCKING",
         "silent; an IRQ can now be taken with this CPU's rq->lock held, and one whose "
         "handler takes it (scheduler_tick(), a wake-up of a task on this CPU) spins on it "
         "forever: the CPU deadlocks; code after the unmasking that relies on IRQs being "
         "masked (e.g. fpsimd_save()'s WARN_ON(!in_softirq() && !irqs_disabled())) sees "
         "them unmasked"),
    Rule("softirq_under_irqsafe_lock",
         "no softirq processing while a spinlock taken with IRQs masked is held",
         _softirq_splat, "PROVE_LOCKING (through the IRQ enable inside __do_softirq())",
         "silent; the softirq handlers run inside __schedule() with rq->lock held and IRQs "
         "unmasked by __do_softirq(): a handler or IRQ that takes this CPU's rq->lock "
         "(try_to_wake_up() of a task on this CPU, scheduler_tick()) deadlocks, and a "
         "handler using kernel-mode NEON saves and flushes the FP state in the middle of "
         "the preempt notifier"),
    Rule("sleep_in_atomic",
         "nothing sleeps (mutex_lock, a blocking schedule) in atomic context",
         _sleep_splat, "DEBUG_ATOMIC_SLEEP (might_sleep()); CONFIG_PREEMPT or any "
         "PREEMPT_COUNT kernel when it really blocks (schedule_debug())",
         "silent; the task blocks with preemption or IRQs disabled or a lock held: "
         "deadlock or a corrupted preempt count"),
    Rule("mutex_owner",
         "a mutex is released only by the task that holds it",
         _mutex_splat, "DEBUG_MUTEXES (PROVE_LOCKING selects it)",
         "silent; the mutex is released under its owner, which no longer excludes others"),
    Rule("self_deadlock",
         "a CPU never takes a spinlock it already holds",
         _self_deadlock_splat, "PROVE_LOCKING / DEBUG_SPINLOCK",
         "the CPU spins forever (hard lockup)"),
)}


def property_of(check: Check) -> str:
    """The property a model assertion belongs to: locking_rules, data_ownership or
    kernel_asserts."""
    from properties.fp import KERNEL_ASSERTS
    from properties.ownership import DATA_OWNERSHIP

    if check.kind == "ownership":
        return DATA_OWNERSHIP
    return LOCKING_RULES if check.kind == "locking" else KERNEL_ASSERTS


def explain(rule_name: str, config: Config) -> str:
    """One line: does this configuration print a splat for ``rule_name``, and if not,
    what happens; and which configurations would."""
    r = RULES.get(rule_name)
    if r is None:
        return f"{rule_name}: (unknown locking rule)"
    splat = r.splat(config)
    here = f"splat here: {splat}" if splat else f"no splat here; {r.otherwise}"
    return f"{r.name} ({r.statement}): {here}. Splat on: {r.splat_configs}."


__all__ = ["LOCKING_RULES", "LOCKING_RULES_DOC", "RULES", "Rule", "explain", "property_of"]
