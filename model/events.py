"""Optional events: kernel paths a configuration can switch on (``--event NAME``).

Every path that replaces or moves FP state is modelled (see docs/scope.md), but not every
one is explored by default: each optional path is an *event* named here, with what it
models and where.  A configuration lists the events it includes (`Config.events`); the
default set is `DEFAULT_EVENTS` (kept small so that the default `explore` answers in
seconds; docs/scope.md says why each default is in or out).

Register an event by adding one entry to `EVENTS` (name -> one-line description naming
the C entry point); the step that models it checks ``name in config.events`` when it is
instantiated (see model/steps.py).
"""

from __future__ import annotations

# name -> what it models (C entry point and file)
EVENTS: dict[str, str] = {
    "vcpu_reset": "PSCI CPU_OFF/CPU_ON: a vcpu thread's kvm_psci_vcpu_on() resets another,"
                  " powered-off vcpu with kvm_reset_vcpu() (virt/kvm/arm/psci.c,"
                  " arch/arm64/kvm/reset.c); needs --vcpus 2 (and --vmm-threads 2 to run both)",
    "set_one_reg": "KVM_SET_ONE_REG/KVM_GET_ONE_REG of the guest's FP registers under"
                   " vcpu->mutex, without vcpu_load (kvm_arch_vcpu_ioctl -> kvm_arm_set_reg,"
                   " arch/arm64/kvm/guest.c, sys_regs.c)",
    "vcpu_init": "KVM_ARM_VCPU_INIT on a vcpu that has run (a VMM's guest reset) under"
                 " vcpu->mutex, without vcpu_load: kvm_arch_vcpu_ioctl_vcpu_init() ->"
                 " kvm_vcpu_set_target() -> kvm_reset_vcpu(), then vcpu->arch.cptr_el2 ="
                 " kvm_get_reset_cptr_el2() (arch/arm64/kvm/arm.c; v6.1, v6.8-v6.16)",
    "guest_hidden_sve": "a guest whose vcpu lacks SVE (no --sve-guest) on SVE hardware"
                        " executes SVE instructions anyway: KVM hides SVE in the ID registers"
                        " only, and the guest's CPACR_EL1.ZEN is its own; it reads Z bits"
                        " above 127 and P0-P15/FFR unless EL2 traps SVE (nVHE CPTR_EL2.TZ,"
                        " VHE CPACR_EL1.ZEN; arch/arm64/kvm/hyp/{nvhe,vhe}/switch.c); needs"
                        " --sve and a v6 variant",
    "kvm_run_kernel_neon": "task-context kernel-mode NEON in the VMM thread inside KVM_RUN"
                           " while its vcpu is loaded (handle_exit / run-loop preemptible"
                           " points, virt/kvm/arm/arm.c)",
    "kthread_kernel_neon": "a kernel thread not bound to a CPU (a kworker running crypto, an"
                           " md raid6 kthread) using task-context kernel-mode NEON, which is"
                           " preemptible from v6.8 (kernel_neon_begin/end, TIF_KERNEL_FPSTATE,"
                           " arch/arm64/kernel/fpsimd.c); adds the task kworker; needs a v6.8+"
                           " variant",
    "exec": "execve(): flush_thread() -> fpsimd_flush_thread() (arch/arm64/kernel/process.c,"
            " fpsimd.c); the new program must read zero FP registers",
    "fork": "fork()/clone(): _do_fork -> arch_dup_task_struct (fpsimd_preserve_current_state,"
            " copy), copy_thread (TIF_SVE, sve_state, fpsimd_flush_task_state),"
            " wake_up_new_task (arch/arm64/kernel/process.c, kernel/fork.c); the last plain"
            " user task is the child, created by another user task; needs --tasks >= 1 and"
            " two user tasks",
    "sve_set_vl": "prctl(PR_SVE_SET_VL): sve_set_current_vl -> sve_set_vector_length (save,"
                  " flush, convert to FPSIMD, free sve_state, new thread.sve_vl),"
                  " arch/arm64/kernel/fpsimd.c; needs --sve and --sve-vls with two or three"
                  " vector lengths",
    "sme_set_vl": "prctl(PR_SME_SET_VL): sme_set_current_vl -> vec_set_vector_length(current,"
                  " ARM64_VEC_SME, ...) (save, flush, SME state discarded, new"
                  " thread.vl[ARM64_VEC_SME]), arch/arm64/kernel/fpsimd.c (v6.8-v6.16);"
                  " needs --sme and --sme-vls with two or three streaming vector lengths",
    "signal": "signal delivery (do_signal -> setup_rt_frame: fpsimd_signal_preserve_current_state,"
              " preserve_fpsimd_context, preserve_sve_context) and rt_sigreturn"
              " (restore_fpsimd_context / restore_sve_fpsimd_context ->"
              " fpsimd_update_current_state), arch/arm64/kernel/signal.c",
    "ptrace_fpr_set": "PTRACE_SETREGSET NT_PRFPREG on a tracee in a ptrace stop: fpr_set()"
                      " (arch/arm64/kernel/ptrace.c)",
    "ptrace_sve_fpsimd": "PTRACE_SETREGSET NT_ARM_SVE / NT_ARM_SSVE with an FPSIMD-format payload"
                         " (SVE_PT_REGS_FPSIMD): sve_set_common() -> __fpr_set()"
                         " (arch/arm64/kernel/ptrace.c, v6.8-v6.16; NT_ARM_SVE with --sve,"
                         " NT_ARM_SSVE with --sme); v6.16 refuses it for NT_ARM_SSVE",
    "ptrace_sve_nodata": "PTRACE_SETREGSET NT_ARM_SVE / NT_ARM_SSVE with a header and no"
                         " register data: sve_set_common()'s no-registers case"
                         " (arch/arm64/kernel/ptrace.c, v6.8-v6.16; not with --fpmr)",
    "ptrace_sve_vl": "PTRACE_SETREGSET NT_ARM_SVE / NT_ARM_SSVE with a header VL other than the"
                     " tracee's: sve_set_common() -> vec_set_vector_length() first"
                     " (arch/arm64/kernel/ptrace.c, v6.8-v6.16); needs --sve-vls and event"
                     " sve_set_vl, or --sme-vls and event sme_set_vl",
    "ptrace_stop": "ptrace stops as tracee states (kernel/signal.c ptrace_stop: TASK_TRACED,"
                   " not runnable until ptrace_resume); without it a tracer writes a tracee"
                   " switched out at a stop point, which reaches the same states",
    "cpu_pm": "CPU PM: fpsimd_cpu_pm_notifier (arch/arm64/kernel/fpsimd.c) on CPU_PM_ENTER/EXIT,"
              " from cpuidle (CPU_PM_CPU_IDLE_ENTER, idle task) and from system suspend"
              " (syscore cpu_pm_suspend, a user task in its syscall); FP registers lost",
    "cpu_hotplug": "CPU hotplug: a CPU goes offline (tasks migrated away first) and"
                   " fpsimd_cpu_dead (CPUHP_ARM64_FPSIMD_DEAD) runs; it comes back from reset",
    "efi": "EFI runtime services: __efi_fpsimd_begin/__efi_fpsimd_end around a firmware call"
           " (arch_efi_call_virt_setup/teardown): kernel-NEON path from task context"
           " (efivars/rtc-efi syscalls), buffer path with IRQs off (pstore on an oops, die())",
}

# Included when the user does not choose (`--event` not given).  cpu_pm, cpu_hotplug and
# efi are not: each multiplies the state space (2.6x, 4.4x and 1.4x on the default seed
# configuration) and none changes a verdict of the modelled versions (README, "Platform
# events").
DEFAULT_EVENTS: tuple[str, ...] = ()


def check_events(names: tuple[str, ...]) -> tuple[str, ...]:
    """Validate and normalise event names (sorted, unique); raise ValueError otherwise."""
    bad = [n for n in names if n not in EVENTS]
    if bad:
        known = ", ".join(sorted(EVENTS)) or "none"
        raise ValueError(f"unknown event {bad[0]!r}; known events: {known}"
                         " (list them with `python -m checker events`)")
    return tuple(sorted(set(names)))
