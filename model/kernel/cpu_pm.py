"""CPU power management around the FP notifier (event ``cpu_pm``).

Sources (read in the v4.17 and v4.18 trees named in model/variants/v4_17.py and
v4_18.py; the code below is the same in both): kernel/cpu_pm.c (cpu_pm_enter,
cpu_pm_exit, cpu_pm_suspend/cpu_pm_resume as syscore ops), include/linux/cpuidle.h
(__CPU_PM_CPU_IDLE_ENTER), kernel/sched/idle.c (do_idle, cpuidle_idle_call),
drivers/firmware/psci.c (psci_cpu_suspend_enter, psci_system_suspend_enter),
arch/arm64/kernel/suspend.c (cpu_suspend), arch/arm64/mm/proc.S (cpu_do_suspend /
cpu_do_resume save and restore CPACR_EL1), kernel/power/suspend.c (suspend_enter).

Who calls cpu_pm_enter() on arm64 at these versions, and with which current task:

* the idle task, from cpuidle (cpuidle-arm / ACPI LPI via CPU_PM_CPU_IDLE_ENTER), with
  IRQs disabled by do_idle();
* a task suspending the system (a user task in its write() to /sys/power/state), from
  syscore_suspend() in suspend_enter(), IRQs disabled by arch_suspend_disable_irqs(), the
  other CPUs already offline (disable_nonboot_cpus());
* drivers/firmware/psci_checker.c's test kthread (a kernel thread, like idle for FP).

A vcpu's state is never bound to the CPU at any of these: it is bound only from
kvm_arch_vcpu_ctxsync_fp() to kvm_arch_vcpu_put_fp(), while its VMM thread runs inside
KVM_RUN, and none of these callers runs there (the idle task only runs after the VMM
thread was switched out, whose kvm_sched_out() saved and unbound the vcpu).

Architecturally a CPU that loses power loses its FP/SIMD (and SVE) register contents:
they are UNKNOWN on resume.  The model writes the token ``unknown`` (no context's data)
or, nondeterministically, leaves the old contents (a power-down that did not happen: the
PSCI call returned, a state that keeps context, or UNKNOWN happening to equal the old
bits).  The FP trap controls are not lost: cpu_do_suspend()/cpu_do_resume() save and
restore CPACR_EL1 (and el2_setup() rewrites CPTR_EL2 with TFP clear, its value while the
host runs), so CPACR_EL1.ZEN_EL0EN and the FP trap are left as they were.

Abstractions: the other CPU PM notifiers (GIC, PMU, timers, debug, KVM's hyp
reinit) have no FP effect; a notifier failing *before* the FP notifier means the FP
notifier never runs and nothing happens, so only "a later notifier fails" is an input.
With system suspend the model keeps the other CPUs running (the kernel has taken them
offline): the notifier only touches this CPU's state and current's flags, so this only
adds interleavings.
"""

from __future__ import annotations

from model.ctx import Ctx
from model.dsl import Const, Expr


def cpu_pm_notify(k: Ctx, event: str) -> None:
    """kernel/cpu_pm.c: cpu_pm_notify(event): call the atomic CPU PM notifier chain
    (between rcu_irq_enter_irqson() and rcu_irq_exit_irqson()).  The FP notifier is the
    only one with an FP effect."""
    k.fpsimd_cpu_pm_notifier(event)


def cpu_pm_enter(k: Ctx) -> Expr:
    """kernel/cpu_pm.c: cpu_pm_enter(): notify CPU_PM_ENTER; if a notifier fails, notify
    CPU_PM_ENTER_FAILED to the ones already called and return the error.  Must be called
    with IRQs disabled (its comment).  Returns whether it succeeded (a model expression).
    """
    k.cpu_pm_notify("CPU_PM_ENTER")
    failed = k.nondet("cpu_pm_enter: a later CPU PM notifier fails")
    with k.If(failed):
        k.cpu_pm_notify("CPU_PM_ENTER_FAILED")
    return k.let("cpu_pm_enter_ok", ~failed)


def cpu_pm_exit(k: Ctx) -> None:
    """kernel/cpu_pm.c: cpu_pm_exit(): notify CPU_PM_EXIT (IRQs disabled)."""
    k.cpu_pm_notify("CPU_PM_EXIT")


def cpu_lose_fp_regs(k: Ctx) -> None:
    """Architecture (not kernel code): the CPU lost power, so V0-V31, FPSR/FPCR and the Z
    registers are UNKNOWN when it runs again.  Nondeterministically they keep their old
    contents instead (no power-down after all, or UNKNOWN equal to the old bits)."""
    lost = k.nondet("the CPU lost power: FP registers UNKNOWN")
    unknown = Const(k.S.VALUE, k.S.UNKNOWN)
    with k.If(lost):
        for slot in k.this_cpu.regs.slots():
            k.set(slot, unknown)
        if k.config.sme:
            # (SME) the ZA array is lost too, and PSTATE.SM/PSTATE.ZA come back from
            # reset clear (no SMSTOP effect: the registers are UNKNOWN anyway)
            k.set(k.this_cpu.za, unknown)
            k.set(k.this_cpu.sm, False)
            k.set(k.this_cpu.za_on, False)


def cpu_suspend(k: Ctx) -> None:
    """arch/arm64/kernel/suspend.c: cpu_suspend(arg, fn): local_daif_save();
    __cpu_suspend_enter() saves the CPU's system registers (cpu_do_suspend, CPACR_EL1
    included); the finisher (psci_suspend_finisher / psci_system_suspend) asks PSCI to
    power down; on wake-up cpu_resume() -> cpu_do_resume() restores them and
    __cpu_suspend_exit() runs; local_daif_restore().  If the finisher returns, nothing was
    lost.  The FP registers are not saved by any of this."""
    k.cpu_lose_fp_regs()


def CPU_PM_CPU_IDLE_ENTER(k: Ctx) -> None:
    """include/linux/cpuidle.h: __CPU_PM_CPU_IDLE_ENTER(arm_cpuidle_suspend, idx, 0) for a
    state idx != 0 that is not a retention state (idx 0 is WFI: no CPU PM; retention
    states skip cpu_pm_enter and keep the registers): if cpu_pm_enter() succeeds,
    arm_cpuidle_suspend(idx) (psci_cpu_suspend_enter: cpu_suspend() for a state that
    loses context, a plain PSCI call otherwise) and then cpu_pm_exit()."""
    ok = k.cpu_pm_enter()
    with k.If(ok):
        k.cpu_suspend()
        k.cpu_pm_exit()


def cpuidle_idle_call(k: Ctx) -> None:
    """kernel/sched/idle.c: cpuidle_idle_call() with a cpuidle driver: the governor picks
    a power-down state, cpuidle_enter() -> cpuidle_enter_state() -> the driver's enter
    (arm_enter_idle_state / acpi LPI) -> CPU_PM_CPU_IDLE_ENTER; IRQs are enabled again on
    the way out (local_irq_enable() in cpuidle_enter_state())."""
    k.CPU_PM_CPU_IDLE_ENTER()
    k.local_irq_enable()


def do_idle(k: Ctx) -> None:
    """kernel/sched/idle.c: do_idle(), one pass with nothing to run: local_irq_disable();
    arch_cpu_idle_enter(); cpuidle_idle_call() (which returns with IRQs enabled).  The
    pending IRQ that woke the CPU is taken right after (the model's IRQ step), so the
    whole pass is one step: IRQs are masked throughout."""
    k.local_irq_disable()
    k.cpuidle_idle_call()


def cpu_pm_suspend(k: Ctx) -> Expr:
    """kernel/cpu_pm.c: cpu_pm_suspend() (syscore suspend op): cpu_pm_enter(), then
    cpu_cluster_pm_enter() (CPU_CLUSTER_PM_ENTER: the FP notifier's default case, nothing).
    Returns whether it succeeded."""
    return k.cpu_pm_enter()


def cpu_pm_resume(k: Ctx) -> None:
    """kernel/cpu_pm.c: cpu_pm_resume() (syscore resume op): cpu_cluster_pm_exit() (no FP
    effect), cpu_pm_exit()."""
    k.cpu_pm_exit()


def suspend_enter(k: Ctx) -> None:
    """kernel/power/suspend.c: suspend_enter() from the point the non-boot CPUs are down:
    arch_suspend_disable_irqs(); syscore_suspend() (cpu_pm_suspend(); if it fails the
    already-suspended syscore ops are resumed, not cpu_pm's own); if it succeeded,
    suspend_ops->enter() = psci_system_suspend_enter() = cpu_suspend(0,
    psci_system_suspend) (or -EBUSY on a pending wake-up: cpu_suspend's "no power-down"
    branch covers it), then syscore_resume() (cpu_pm_resume());
    arch_suspend_enable_irqs().  Current is the task that wrote /sys/power/state, in its
    syscall; everything here runs with IRQs masked, so it is one step."""
    k.local_irq_disable()
    ok = k.cpu_pm_suspend()
    with k.If(ok):
        k.cpu_suspend()
        k.cpu_pm_resume()
    k.local_irq_enable()


FUNCTIONS = {
    f.__name__: f
    for f in (
        cpu_pm_notify,
        cpu_pm_enter,
        cpu_pm_exit,
        cpu_lose_fp_regs,
        cpu_suspend,
        CPU_PM_CPU_IDLE_ENTER,
        cpuidle_idle_call,
        do_idle,
        cpu_pm_suspend,
        cpu_pm_resume,
        suspend_enter,
    )
}
