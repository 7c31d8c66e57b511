"""Deliberately broken variants ("mutants") of the seed, for the curated traces (and one
fix sketch, `EFI_SME_ONLY_SKETCH`, the passing side of a finding no upstream commit fixes).

Each mutant removes one statement the seed's correctness depends on.  The traces
``mutant-*.json`` in this directory are the checker's shortest counterexamples against
them; they are kept as regression fixtures for `python -m checker replay` (the mutant
reproduces them, the seed and v4.17 do not).  Load with::

    python -m checker replay counterexamples/<trace>.json \\
        --variant-file counterexamples/mutants.py [--variant seed]
"""

from __future__ import annotations

from collections.abc import Callable

from model.ctx import Ctx
from model.variants import get_variant

SEED = get_variant("seed")


def kvm_arch_vcpu_ctxsync_fp(k: Ctx, vcpu: int) -> None:
    """Mutant of arch/arm64/kvm/fpsimd.c: kvm_arch_vcpu_ctxsync_fp() that binds the
    vcpu's registers to the CPU but forgets clear_thread_flag(TIF_FOREIGN_FPSTATE): the
    host then believes the registers are someone else's and never saves the guest's."""
    v = k.vcpu(vcpu)
    k.check(k.irqs_disabled(), "WARN", "kvm_arch_vcpu_ctxsync_fp",
            "WARN_ON_ONCE(!irqs_disabled())")
    with k.If(v.fp_enabled.eq(1)):
        k.fpsimd_bind_state_to_cpu(k.S.vcpu_fpstate(vcpu))
        k.clear_thread_flag("TIF_SVE")


def update_fp_enabled(k: Ctx, vcpu: int):
    """Mutant of arch/arm64/kvm/hyp/switch.c: update_fp_enabled() that ignores the host
    task's TIF_FOREIGN_FPSTATE: hyp keeps FP untrapped for the guest even after a
    softirq's kernel-mode NEON (or another task) took over the registers."""
    v = k.vcpu(vcpu)
    k.check(v.host_thread_info.ne("NULL"), "BUG", "update_fp_enabled",
            "hyp dereferences vcpu->arch.host_thread_info == NULL")
    return k.let("fp_enabled", v.fp_enabled)


def fpsimd_thread_switch(k: Ctx, next_task: int) -> None:
    """Mutant of arch/arm64/kernel/fpsimd.c: fpsimd_thread_switch() that trusts
    fpsimd_last_state alone and forgets the next->thread.fpsimd_cpu == this CPU test
    (the pre-v4.x "cpu" check): a task that ran on another CPU in between comes back to
    registers holding its old values."""
    cpu = k.this_cpu
    nxt = k.task(next_task)
    k.fpsimd_save()
    if nxt.mm:
        wrong_task = cpu.last_st.ne(k.S.task_fpstate(next_task))
        k.update_tsk_thread_flag(next_task, "TIF_FOREIGN_FPSTATE", wrong_task)
    else:
        k.update_tsk_thread_flag(next_task, "TIF_FOREIGN_FPSTATE", True)


def __hyp_switch_fpsimd(k: Ctx, vcpu: int) -> None:
    """Mutant of arch/arm64/kvm/hyp/switch.c: __hyp_switch_fpsimd() that clears FP_HOST
    but forgets to save the host's live registers before loading the guest's."""
    v = k.vcpu(vcpu)
    k.set_fp_trap(False)
    k.set(v.fp_host, False)
    k.__fpsimd_restore_state(v.fp_regs)
    k.set(v.fp_enabled, True)


def kvm_arch_vcpu_put_fp(k: Ctx, vcpu: int) -> None:
    """Mutant of arch/arm64/kvm/fpsimd.c: kvm_arch_vcpu_put_fp() that saves the guest's
    registers but forgets fpsimd_flush_cpu_state(): the vcpu stays bound to the CPU."""
    v = k.vcpu(vcpu)
    k.local_bh_disable()
    with k.If(v.fp_enabled.eq(1)):
        k.fpsimd_save()
    with k.Else():
        with k.If(~k.test_thread_flag("TIF_FOREIGN_FPSTATE")):
            k.fpsimd_bind_task_to_cpu()
    k.local_bh_enable()


def kernel_neon_end(k: Ctx) -> None:
    """Mutant of arch/arm64/kernel/fpsimd.c: kernel_neon_end() that clears
    kernel_neon_busy but forgets preempt_enable(): kernel_neon_begin()'s preempt_disable()
    is unbalanced, so every kernel-mode NEON section leaves the preempt count one higher
    (the task can never be preempted again on that CPU, and the count climbs until the
    model's counter overflows: the finding "preempt_count overflow in preempt_disable")."""
    cpu = k.this_cpu
    busy = k.let("busy", cpu.kernel_neon_busy)
    k.set(cpu.kernel_neon_busy, False)
    k.check(busy.eq(1), "WARN", "kernel_neon_end", "WARN_ON(!busy)")


def __deactivate_traps(k: Ctx, vcpu: int) -> None:
    """Mutant of arch/arm64/kvm/hyp/switch.c: __deactivate_traps() whose nVHE half
    (__deactivate_traps_nvhe) forgets to write CPTR_EL2_DEFAULT back, so CPTR_EL2.TFP set
    for the guest stays set after the exit: the host's next FP access (a softirq's
    kernel-mode NEON, a user task) traps to EL2 with no vcpu to switch to, a hyp panic.
    VHE is as in the seed (CPACR_EL1 = CPACR_EL1_DEFAULT)."""
    if k.config.vhe:
        k.set_fp_trap(False)
        if k.config.sve:
            k.set(k.this_cpu.zen_el0en, False)


CTXSYNC_KEEPS_FOREIGN = SEED.derive(
    "mutant-ctxsync-keeps-foreign",
    "seed, but kvm_arch_vcpu_ctxsync_fp() does not clear TIF_FOREIGN_FPSTATE",
    kvm_arch_vcpu_ctxsync_fp=kvm_arch_vcpu_ctxsync_fp,
)

HYP_IGNORES_FOREIGN = SEED.derive(
    "mutant-hyp-ignores-foreign",
    "seed, but hyp's update_fp_enabled() ignores TIF_FOREIGN_FPSTATE",
    update_fp_enabled=update_fp_enabled,
)

SWITCH_IGNORES_CPU = SEED.derive(
    "mutant-switch-ignores-cpu",
    "seed, but fpsimd_thread_switch() does not check next->thread.fpsimd_cpu",
    fpsimd_thread_switch=fpsimd_thread_switch,
)

HYP_SWITCH_SKIPS_HOST_SAVE = SEED.derive(
    "mutant-hyp-switch-skips-host-save",
    "seed, but __hyp_switch_fpsimd() does not save the host's registers",
    __hyp_switch_fpsimd=__hyp_switch_fpsimd,
)

PUT_FP_NO_FLUSH = SEED.derive(
    "mutant-put-fp-no-flush",
    "seed, but kvm_arch_vcpu_put_fp() saves the guest without fpsimd_flush_cpu_state()",
    kvm_arch_vcpu_put_fp=kvm_arch_vcpu_put_fp,
)

NEON_END_NO_PREEMPT_ENABLE = SEED.derive(
    "mutant-neon-end-no-preempt-enable",
    "seed, but kernel_neon_end() forgets preempt_enable() (unbalanced preempt_disable)",
    kernel_neon_end=kernel_neon_end,
)

DEACTIVATE_KEEPS_TFP = SEED.derive(
    "mutant-deactivate-keeps-tfp",
    "seed, but nVHE __deactivate_traps() leaves CPTR_EL2.TFP set for the host",
    __deactivate_traps=__deactivate_traps,
)

VARIANTS = [CTXSYNC_KEEPS_FOREIGN, HYP_IGNORES_FOREIGN, SWITCH_IGNORES_CPU,
            HYP_SWITCH_SKIPS_HOST_SAVE, PUT_FP_NO_FLUSH, NEON_END_NO_PREEMPT_ENABLE,
            DEACTIVATE_KEEPS_TFP]


def kvm_arch_vcpu_put_fp_no_bh(k: Ctx, vcpu: int) -> None:
    """Mutant of arch/arm64/kvm/fpsimd.c: kvm_arch_vcpu_put_fp() (seed) without its
    local_bh_disable()/local_bh_enable() pair.  From vcpu_put() (IRQs on, preemption off)
    a softirq's kernel-mode NEON can now run between the TIF_FOREIGN_FPSTATE test and
    fpsimd_bind_task_to_cpu(): the bind re-attaches registers that now hold kernel data
    to the task, and its next switch-in on this CPU clears TIF_FOREIGN_FPSTATE."""
    v = k.vcpu(vcpu)
    k.update_thread_flag("TIF_SVE", v.host_sve_in_use.eq(1))
    with k.If(v.fp_enabled.eq(1)):
        k.fpsimd_save()
        k.fpsimd_flush_cpu_state()
    with k.Else():
        with k.If(~k.test_thread_flag("TIF_FOREIGN_FPSTATE")):
            k.fpsimd_bind_task_to_cpu()


PUT_FP_NO_BH = SEED.derive(
    "mutant-put-fp-no-bh",
    "seed, but kvm_arch_vcpu_put_fp() runs without local_bh_disable()",
    kvm_arch_vcpu_put_fp=kvm_arch_vcpu_put_fp_no_bh,
)

VARIANTS.append(PUT_FP_NO_BH)


def may_use_simd_ignores_busy(k: Ctx):
    """Mutant of arch/arm64/include/asm/simd.h: may_use_simd() that forgets
    kernel_neon_busy: a softirq taken inside a task's kernel-mode NEON section uses NEON
    too, and the task's section reads back the softirq's data."""
    return ~k.in_irq() & ~k.irqs_disabled()


MAY_USE_SIMD_IGNORES_BUSY = SEED.derive(
    "mutant-may-use-simd-ignores-busy",
    "seed, but may_use_simd() ignores kernel_neon_busy",
    may_use_simd=may_use_simd_ignores_busy,
)

VARIANTS.append(MAY_USE_SIMD_IGNORES_BUSY)


def kernel_neon_begin_early_bh(k: Ctx) -> None:
    """Mutant of arch/arm64/kernel/fpsimd.c: kernel_neon_begin() that re-enables bottom
    halves right after marking kernel_neon_busy, before saving and flushing the task's
    state and before preempt_disable(): fpsimd_save() then runs with nothing holding
    off softirqs or preemption."""
    cpu = k.this_cpu
    k.check(k.may_use_simd(), "BUG", "kernel_neon_begin", "BUG_ON(!may_use_simd())")
    k.local_bh_disable()
    k.set(cpu.kernel_neon_busy, True)
    k.local_bh_enable()
    k.fpsimd_save()
    k.fpsimd_flush_cpu_state()
    k.preempt_disable()


NEON_BEGIN_EARLY_BH = SEED.derive(
    "mutant-neon-begin-early-bh",
    "seed, but kernel_neon_begin() enables bottom halves before saving the task's state",
    kernel_neon_begin=kernel_neon_begin_early_bh,
)

VARIANTS.append(NEON_BEGIN_EARLY_BH)


def fpsimd_flush_cpu_state_everywhere(k: Ctx) -> None:
    """Mutant of arch/arm64/kernel/fpsimd.c: fpsimd_flush_cpu_state() that invalidates
    *every* CPU's fpsimd_last_state, not only this CPU's (a tempting "be safe" change):
    it writes other CPUs' per-CPU data while they run, which the kernel's per-CPU
    discipline forbids (property data_ownership).  A v4.18 derivative, so nothing else
    is wrong with it."""
    for c in range(k.S.config.cpus):
        k.set(k.S.cpu[c].last_st, "NULL")
    k.set_thread_flag("TIF_FOREIGN_FPSTATE")


FLUSH_EVERY_CPU = get_variant("v4.18").derive(
    "mutant-flush-every-cpu",
    "v4.18, but fpsimd_flush_cpu_state() clears every CPU's fpsimd_last_state",
    fpsimd_flush_cpu_state=fpsimd_flush_cpu_state_everywhere,
)

VARIANTS.append(FLUSH_EVERY_CPU)


def efi_fpsimd_begin_sme_only_sketch(k: Ctx) -> None:
    """Not a mutant: a fix *sketch* (no upstream commit) for v6.16's
    arch/arm64/kernel/fpsimd.c __efi_fpsimd_begin() on a system with SME and without SVE,
    where the buffer path leaves PSTATE.SM set for the firmware
    (`model.variants.v6_sme.__efi_fpsimd_begin_sme`).  As v6.16, except that on the
    buffer path, after fpsimd_save_state(&efi_fpsimd_state), if system_supports_sme() and
    SVCR.SM is set: fpsimd_save_user_state() (current's live user state, as
    kernel_neon_begin() saves it: the streaming registers in SVE format with SVCR) and
    fpsimd_flush_cpu_state() (SMSTOP, the CPU unbound), so the firmware runs with SM
    clear and a task bound to the registers reloads from memory.  (Live kernel-mode NEON
    state never has SM set: kernel_neon_begin() flushed.)  The SVE path is v6.16's."""
    from model.variants.v6_sme import __efi_fpsimd_begin_sme as v616_begin
    cpu = k.this_cpu
    if k.config.sve:
        v616_begin(k)
        return
    k.check(~k.preemptible(), "WARN", "__efi_fpsimd_begin", "WARN_ON(preemptible())")
    with k.If(k.may_use_simd()):
        k.kernel_neon_begin()
    with k.Else():
        k.fpsimd_save_state(cpu.efi_fpsimd_state)
        with k.If(cpu.sm.eq(1)):
            k.fpsimd_save_user_state()
            k.fpsimd_flush_cpu_state()
        k.set(cpu.efi_fpsimd_state_used, True)


def _with_sme(sketch: Callable[[Ctx], None]) -> Callable[[Ctx], None]:
    """The __efi_fpsimd_begin() of a fix sketch: ``sketch`` with --sme, v6.16's
    otherwise."""
    def begin(k: Ctx) -> None:
        from model.kernel import fpsimd
        (sketch if k.config.sme else fpsimd.__efi_fpsimd_begin)(k)
    return begin


EFI_SME_ONLY_SKETCH = get_variant("v6.16").derive(
    "sketch-v6.16-efi-sme-only-smstop",
    "v6.16, but __efi_fpsimd_begin()'s buffer path on SME without SVE saves and flushes"
    " a streaming-mode state first (a fix sketch, not upstream)",
    __efi_fpsimd_begin=_with_sme(efi_fpsimd_begin_sme_only_sketch),
)

VARIANTS.append(EFI_SME_ONLY_SKETCH)


def efi_fpsimd_begin_smstop_sketch(k: Ctx) -> None:
    """Not a mutant: a fix *sketch* (no upstream commit) for v6.16's
    arch/arm64/kernel/fpsimd.c __efi_fpsimd_begin() with SME, with or without SVE: on the
    buffer path, first, if SVCR.SM is set, fpsimd_save_user_state() (the live user state,
    FPMR included, into the bound task: current's if its state is live; a task switched
    out earlier was already saved by the switch) and fpsimd_flush_cpu_state() (SMSTOP, the
    CPU unbound, so a task bound to the registers reloads from memory); then v6.16's
    buffer path, which now finds SM clear (no SVCR write, no FPMR reset: the FPMR loss of
    counterexamples v6.16-efi-fpmr-no_loss-*; and the firmware runs with SM clear: the
    SME-only BUG of v6.16-efi-kernel_asserts-* as well)."""
    from model.variants.v6_sme import __efi_fpsimd_begin_sme as v616_begin
    with k.If(~k.may_use_simd() & k.this_cpu.sm.eq(1)):
        k.fpsimd_save_user_state()
        k.fpsimd_flush_cpu_state()
    v616_begin(k)


EFI_SMSTOP_SKETCH = get_variant("v6.16").derive(
    "sketch-v6.16-efi-smstop",
    "v6.16, but __efi_fpsimd_begin()'s buffer path saves and flushes a streaming-mode"
    " state first, with or without SVE (a fix sketch, not upstream)",
    __efi_fpsimd_begin=_with_sme(efi_fpsimd_begin_smstop_sketch),
)

VARIANTS.append(EFI_SMSTOP_SKETCH)
