"""CPU hotplug (event ``cpu_hotplug``): kernel/cpu.c and the arm64 CPU boot/die paths.

Sources (v4.17 and v4.18 trees; the same for what is modelled): kernel/cpu.c
(_cpu_down, takedown_cpu, take_cpu_down, cpuhp_invoke_callback, _cpu_up),
kernel/sched/core.c (sched_cpu_dying -> migrate_tasks), arch/arm64/kernel/smp.c
(__cpu_disable, cpu_die, __cpu_up, secondary_start_kernel), arch/arm64/kernel/head.S
(secondary_startup -> el2_setup), arch/arm64/mm/proc.S (__cpu_setup), and
arch/arm64/kernel/fpsimd.c (fpsimd_cpu_dead, registered for CPUHP_ARM64_FPSIMD_DEAD).

How a CPU goes down: the hotplug control task (on another CPU: a write to
/sys/devices/system/cpu/cpuN/online, or disable_nonboot_cpus() at suspend) runs
_cpu_down(); on the dying CPU the stopper thread runs take_cpu_down() (the CPU leaves
cpu_online_mask; sched_cpu_dying() migrates every task off its runqueue); each task that
was running there was first switched out by __schedule() (so fpsimd_thread_switch() and
the KVM preempt notifier saved its FP state, as in any context switch); then the idle
task calls cpu_die() (PSCI CPU_OFF: the CPU loses power); back on the control CPU the
DEAD callbacks run, among them fpsimd_cpu_dead(cpu), in task context.  Nothing on the
dead CPU runs in between, and nothing reads another CPU's fpsimd_last_state, so the
part after the dying CPU reached idle is one step.  In the model a task that is not
current is not tied to any CPU, so "migrated away" is "the dying CPU runs its idle
task"; the model's schedule step is the migration.

Coming back: _cpu_up() -> __cpu_up() (PSCI CPU_ON) -> secondary_startup: el2_setup
(nVHE: CPTR_EL2 reset value, TFP clear), __cpu_setup (CPACR_EL1 = FPEN only: FP enabled,
ZEN_EL0EN clear, so EL0 SVE trapped), secondary_start_kernel() marks the CPU online and
runs its idle task.  The FP registers come from reset: UNKNOWN.
"""

from __future__ import annotations

from model.ctx import Ctx


def cpu_die(k: Ctx) -> None:
    """arch/arm64/kernel/smp.c: cpu_die() (from the idle task, via
    cpuhp_report_idle_dead()/arch_cpu_idle_dead()): idle_task_exit(), local_daif_mask(),
    cpu_ops->cpu_die() (PSCI CPU_OFF): the CPU loses power."""
    k.cpu_lose_fp_regs()


def _cpu_down(k: Ctx, cpu: int) -> None:
    """kernel/cpu.c: _cpu_down(cpu) once the dying CPU runs only its idle task:
    take_cpu_down() has cleared its cpu_online_mask bit, the idle task calls cpu_die(),
    then the control CPU runs the DEAD callbacks: fpsimd_cpu_dead(cpu)
    (CPUHP_ARM64_FPSIMD_DEAD).  ``k`` is bound to the dying CPU and its idle task."""
    k.set(k.S.cpu[cpu].online, False)
    k.cpu_die()
    k.fpsimd_cpu_dead(cpu)


def _cpu_up(k: Ctx, cpu: int) -> None:
    """kernel/cpu.c: _cpu_up(cpu) -> bringup_cpu() -> __cpu_up(): the CPU boots through
    secondary_startup (el2_setup, __cpu_setup: FP untrapped for the host, EL0 SVE trapped)
    and secondary_start_kernel() sets it online and enters its idle task."""
    k.set_fp_trap(False)
    if k.config.sve:
        k.set(k.this_cpu.zen_el0en, False)
    k.set(k.S.cpu[cpu].online, True)


FUNCTIONS = {f.__name__: f for f in (cpu_die, _cpu_down, _cpu_up)}
