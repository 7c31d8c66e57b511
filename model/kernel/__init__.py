"""Modelled kernel functions, one Python function per C function, named as in C.

Module by source file: `core` (irqflags/preempt/softirq), `fpsimd`
(arch/arm64/kernel/fpsimd.c, asm/simd.h), `kvm_fpsimd` (arch/arm64/kvm/fpsimd.c),
`kvm_arm` (virt/kvm/arm/arm.c, virt/kvm/kvm_main.c), `hyp_switch`
(arch/arm64/kvm/hyp/switch.c), `sched` (kernel/sched/core.c, arch/arm64/kernel/process.c,
entry.S, and the user/guest code that uses FP), `kvm_vcpu_ops` (PSCI CPU_ON/OFF and vcpu
reset, KVM_SET_ONE_REG, kernel-mode NEON inside KVM_RUN: optional events), `process`
(arch/arm64/kernel/process.c), `ptrace` (arch/arm64/kernel/ptrace.c and the ptrace stop),
`signal` (arch/arm64/kernel/signal.c), and for the optional events `cpu_pm`
(kernel/cpu_pm.c, cpuidle, suspend), `cpu_hotplug` (kernel/cpu.c) and `efi` (the EFI
runtime-services wrappers).  These are the seed's versions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from model.kernel import (
    core,
    cpu_hotplug,
    cpu_pm,
    efi,
    fpsimd,
    hyp_switch,
    kvm_arm,
    kvm_fpsimd,
    kvm_vcpu_ops,
    process,
    ptrace,
    sched,
    signal,
)


def all_functions() -> dict[str, Callable[..., Any]]:
    table: dict[str, Callable[..., Any]] = {}
    for module in (core, fpsimd, kvm_fpsimd, kvm_arm, hyp_switch, sched, kvm_vcpu_ops,
                   process, ptrace, signal, cpu_pm, cpu_hotplug, efi):
        for name, fn in module.FUNCTIONS.items():
            if name in table:
                raise ValueError(f"{name} is defined twice in model.kernel")
            table[name] = fn
    return table
