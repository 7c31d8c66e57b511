"""v6.1: the `vcpu->arch.fp_state` tristate, before `thread.fp_type` (arm64 FPSIMD/SVE host code
and its KVM side).

Read in krr-io/linux-6.1.0 @ 2a410d07ec5ec084264732088d6b07ae06681287 (Makefile 6.1.0-rc7; the
arm64 FP files are touched only by the snapshot's import commit, modern-kernels.md), files
arch/arm64/kernel/fpsimd.c, arch/arm64/include/asm/simd.h, arch/arm64/kernel/syscall.c,
arch/arm64/kernel/entry-common.c, arch/arm64/kernel/signal.c (do_notify_resume),
arch/arm64/kernel/ptrace.c (sve_set_common), arch/arm64/kvm/fpsimd.c, arch/arm64/kvm/arm.c,
arch/arm64/kvm/hyp/include/hyp/switch.h, arch/arm64/kvm/hyp/{vhe,nvhe}/switch.c.  Compared
with v6.0-rc1 (sun363587351/linux-6.0 @ 071a8bf088f3): kernel/fpsimd.c differs only in
sve_alloc()'s new ``flush`` argument (do_sve_acc() passes true: the same memset) and SME's
trap path, kvm/fpsimd.c is identical, syscall.c only changes a random-number call, and
hyp/include/hyp/switch.h only adds SME fine-grained traps: v6.0 has the same FP code on the
modelled configurations.  Compared with v6.2.12 (xmphoenix/linux-6.2.12-slow-motion): v6.1
has no ``thread.fp_type`` nor ``fpsimd_last_state.to_save`` (its per-CPU state is
``struct fpsimd_last_state_struct``), no fpsimd_kvm_prepare() (93ae6b01bafe, v6.2: in v6.1
kvm_arch_vcpu_load_fp() instead has ``BUG_ON(test_thread_flag(TIF_SVE))``), and the syscall
discard still clears TIF_SVE (8c845e273104, v6.2, made it lazy).

The design between 2018 and v6.8 that this variant models:

* ``get_cpu_fpsimd_context()`` is local_bh_disable() plus the per-CPU
  ``fpsimd_context_busy`` flag (6dcdefcde413, v5.3), whose set WARNs if it was already
  set and whose clear WARNs if it was not; every FP-state function asserts
  ``have_cpu_fpsimd_context()`` (!preemptible() && busy).  The flag is the 2018 variable
  kernel_neon_busy under its later name (state feature ``fpsimd_context_busy``), now set
  by every holder of the context, not only by kernel-mode NEON;
* kernel-mode NEON keeps the context for the whole section (13150149aa6d, v5.13):
  kernel_neon_begin() is get_cpu_fpsimd_context(), save, flush; kernel_neon_end() is
  put_cpu_fpsimd_context().  A task-context section runs with bottom halves disabled, so
  it is not preemptible and no softirq can use NEON inside it: one step, as in 2018;
* fpsimd_save() saves SVE iff *current's* TIF_SVE (no fp_type, no in_syscall()) through
  the per-CPU ``last`` pointers (st, sve_state, sve_vl), which may describe a vcpu;
* the syscall ABI's discard (syscall.c fp_user_discard()) clears TIF_SVE and disables EL0
  SVE on every syscall entry, with DAIF masked;
* do_sve_acc(): sve_alloc() (preemptible), then the bh-disabled part (program point
  SVE_ACC between them, state feature ``sve_acc``); its in-memory path converts without
  flushing the task's binding (#13, fixed by 751ecf6afd65 in v6.12);
* KVM: vcpu->arch.fp_state (FREE/HOST_OWNED/GUEST_OWNED; state feature vcpu_fp_state),
  kvm_arch_vcpu_load_fp() with ``BUG_ON(TIF_SVE)`` (KVM relies on the syscall discard:
  KVM_RUN is an ioctl), ctxsync setting TIF_SVE to vcpu_has_sve() and put_fp clearing it,
  hyp saving the host state through vcpu->arch.host_fpsimd_state (set by
  kvm_arch_vcpu_run_map_fp()).

Configurations: as the v6 variants (model/variants/v6.py), no pKVM.  Without ``--sme``
system_supports_sme() is false: every SME branch, SMSTOP and SVCR/ZA work is not taken, and
the functions here are the whole story; with ``--sme`` (Config.sme) the table takes v6.1's
SME text from model/variants/v6_1_sme.py (task_fpsimd_load, fpsimd_save, el0_svc,
do_sme_acc, the VL changes, signal/ptrace helpers) and the shared SME code of v6.8-v6.10
(model/variants/v6_sme.py), and the KVM functions below run their SME blocks.  With ``--sve``
one or several vector lengths: fpsimd_save()'s ``WARN_ON(sve_get_vl() != last->sve_vl)``
(`sve_vl_check`, last->sve_vl derived from the binding) and v6.1's
vec_set_vector_length() (`sve_set_vector_length`, event sve_set_vl).

SVE vcpus (Config.sve_guest, `--sve-guest`; read in the v6.1 tree): ctxsync binds the vcpu
with its sve_state and sve_max_vl and sets the VMM thread's TIF_SVE
(`kvm_arch_vcpu_ctxsync_fp`), so v6.1's fpsimd_save() saves the vcpu as SVE by current's
TIF_SVE; put_fp saves the guest's ZCR_EL1 and, nVHE, sets ZCR_EL1 to the max VQ before the
save, then clears TIF_SVE (`kvm_arch_vcpu_put_fp`, whose ZCR statements are v6.8's
`kvm_put_fp_sve_zcr`).  Hyp is v6.8's, compared with the v6.1 tree: kvm_hyp_handle_fpsimd()
(FPEN|ZEN / TFP|TZ untrapped for an SVE vcpu, host FPSIMD save through
vcpu->arch.host_fpsimd_state, __hyp_sve_restore_guest(): ZCR_EL2 = max VQ, Z/P/FFR, the
guest's ZCR_EL1), nVHE __activate_traps() (TFP|TZ unless the guest owns the registers),
__deactivate_traps() (CPTR_EL2_DEFAULT, TZ if an SVE vcpu owns them), hyp-main.c
handle_trap()'s ESR_ELx_EC_SVE case (TZ cleared, ZCR_EL2 = ZCR_ELx_LEN_MASK), VHE
__activate_traps() (ZEN for an SVE vcpu that owns the registers) and __deactivate_traps()
(CPACR_EL1_DEFAULT): the same statements.  ZCR writes: hyp writes ZCR_EL2 (the vcpu's max)
and the guest's ZCR_EL1 at the guest's FP trap; nVHE hyp writes ZCR_EL2 (host max) at the
host's SVE trap; put_fp writes ZCR_EL1 (nVHE, the vcpu's max); the host writes ZCR_EL1
(nVHE; VHE: ZCR_EL2) in sve_set_vq() before an SVE load and in sve_init_regs().  #20 is
found on nVHE (tests/model/test_v6_1_sve_guest.py).

Functions this variant shares with others because v6.1's C is the same in effect (checked
in the tree above), beside those v6.py lists as kept from 2018:

* from v6.9 (model/variants/v6.py): fpsimd_bind_task_to_cpu (last->st and the other last
  fields, fpsimd_cpu, EL0 SVE trap from TIF_SVE), fpsimd_bind_state_to_cpu (WARN, last
  fields), fpsimd_flush_task_state (sets TIF_FOREIGN_FPSTATE itself since v4.20),
  do_sve_acc (sve_alloc(current, true), then SVE_ACC), sve_init_regs (live: zero the Z
  bits above 127 and P/FFR, bind), kernel_fp_write/kernel_fp_read, kvm_fp_owner
  (vcpu->arch.fp_state), guest_owns_fp_regs, kvm_arch_vcpu_run_map_fp (sets
  vcpu->arch.host_fpsimd_state), kvm_arch_vcpu_ctxflush_fp,
  kvm_arch_vcpu_ioctl_run_enter_guest, __activate_traps / __deactivate_traps
  (CPACR_EL1_DEFAULT, CPTR_EL2_DEFAULT), __kvm_vcpu_run_enter/exit, fixup_guest_exit_fp
  with kvm_hyp_save_fpsimd_host (kvm_hyp_handle_fpsimd: the host state saved through
  vcpu->arch.host_fpsimd_state when HOST_OWNED), may_use_simd is 2018's (busy flag);
* from 2018 (model/kernel/): fpsimd_flush_cpu_state (no SME), ret_to_user
  (exit_to_user_mode -> do_notify_resume: IRQs unmasked around
  fpsimd_restore_current_state()), sve_set (ptrace sve_set_common(), full SVE data at the
  task's VL: sve_alloc(target, true), fpsimd_sync_to_sve(), TIF_SVE, copy,
  fpsimd_flush_task_state(): no fp_type before v6.2), the register helpers and
  sve_alloc/fpsimd_to_sve.

The tracer's other NT_ARM_SVE/NT_ARM_SSVE writes (events ptrace_sve_fpsimd,
ptrace_sve_nodata, ptrace_sve_vl: an FPSIMD-format payload, a header without data, a
header VL) are v6.1's whole sve_set_common() (`model.variants.v6_1_sme.sve_set_common_v61`,
with and without SME; with a full payload at the tracee's VL it is the same as sve_set).
"""

from __future__ import annotations

from model.ctx import Ctx
from model.dsl import Expr, Var
from model.kernel import fpsimd as fpsimd_2018
from model.kernel import kvm_vcpu_ops
from model.kernel import sched as sched_2018
from model.state import Image
from model.variant import Variant
from model.variants import v6, v6_1_sme, v6_events, v6_sme

V61_TREE = "krr-io/linux-6.1.0@2a410d07ec5ec084264732088d6b07ae06681287"


# ------------------------------------------------------------ arch/arm64/kernel/fpsimd.c
def __get_cpu_fpsimd_context(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v5.3-v6.7, read in v6.1): __get_cpu_fpsimd_context():
    busy = __this_cpu_xchg(fpsimd_context_busy, true); WARN_ON(busy).  The caller must
    already be non-preemptible (fpsimd_thread_switch(), fpsimd_save_and_flush_cpu_state())."""
    cpu = k.this_cpu
    busy = k.let("busy", cpu.kernel_neon_busy)
    k.set(cpu.kernel_neon_busy, True)
    k.check(busy.eq(0), "WARN", "__get_cpu_fpsimd_context", "WARN_ON(busy)")


def __put_cpu_fpsimd_context(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v5.3-v6.7, v6.1): __put_cpu_fpsimd_context(): busy =
    __this_cpu_xchg(fpsimd_context_busy, false); WARN_ON(!busy)."""
    cpu = k.this_cpu
    busy = k.let("busy", cpu.kernel_neon_busy)
    k.set(cpu.kernel_neon_busy, False)
    k.check(busy.eq(1), "WARN", "__put_cpu_fpsimd_context",
            "WARN_ON(!busy): no matching get_cpu_fpsimd_context()")


def get_cpu_fpsimd_context(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v5.3-v6.7, v6.1): get_cpu_fpsimd_context():
    local_bh_disable() (preempt_disable() on PREEMPT_RT, not modelled), then
    __get_cpu_fpsimd_context()."""
    k.local_bh_disable()
    k.__get_cpu_fpsimd_context()


def put_cpu_fpsimd_context(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v5.3-v6.7, v6.1): put_cpu_fpsimd_context():
    __put_cpu_fpsimd_context(), then local_bh_enable() (which may run a pending softirq)."""
    k.__put_cpu_fpsimd_context()
    k.local_bh_enable()


def have_cpu_fpsimd_context(k: Ctx) -> Expr:
    """arch/arm64/kernel/fpsimd.c (v5.3-v6.7, v6.1): have_cpu_fpsimd_context():
    !preemptible() && __this_cpu_read(fpsimd_context_busy)."""
    return ~k.preemptible() & k.this_cpu.kernel_neon_busy.eq(1)


def task_fpsimd_load(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.1): task_fpsimd_load():
    WARN_ON(!have_cpu_fpsimd_context()); if TIF_SVE: sve_set_vq(the task's VQ - 1) (a
    ZCR_EL1 write: on nVHE it traps to hyp first while CPTR_EL2.TZ is set,
    `model.variants.v6.sve_host_insn`) and sve_load_state(sve_pffr(&current->thread),
    &uw.fpsimd_state.fpsr, restore_ffr) (Z, P/FFR from sve_state, FPSR/FPCR from uw); else
    fpsimd_load_state(&uw.fpsimd_state).  Without SME (with it:
    `model.variants.v6_1_sme.task_fpsimd_load_sme_v61`).  It does not touch the EL0
    SVE trap: the bind that follows it does (fpsimd_bind_task_to_cpu)."""
    k.check(k.have_cpu_fpsimd_context(), "WARN", "task_fpsimd_load",
            "WARN_ON(!have_cpu_fpsimd_context())")
    if k.config.sve and k.cur.mm:  # kernel threads never have TIF_SVE
        with k.If(k.test_thread_flag("TIF_SVE")):
            k.sve_host_insn()
            k.sve_load_state(k.cur.sve_state, k.cur.uw, k.cur.sve_vl)
        with k.Else():
            k.fpsimd_load_state(k.cur.uw)
    else:
        k.fpsimd_load_state(k.cur.uw)


def fpsimd_save(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.1): fpsimd_save().

    last = this CPU's fpsimd_last_state; WARN_ON(!have_cpu_fpsimd_context()); return if
    current's TIF_FOREIGN_FPSTATE is set; if current's TIF_SVE (no SME): vl = last->sve_vl,
    then ``if (WARN_ON(sve_get_vl() != vl))`` force_signal_inject(SIGKILL) and return
    without saving (`sve_vl_check`), else sve_save_state(last->sve_state + ffr offset,
    &last->st->fpsr, true); without TIF_SVE fpsimd_save_state(last->st).

    ``last`` is the binding the model keeps (last->st); the other fields follow from it:
    a task's uw.fpsimd_state (fpsimd_bind_task_to_cpu: last->sve_state = its sve_state,
    last->sve_vl = task_get_sve_vl(current) at the bind; v6.1's vec_set_vector_length()
    flushes the binding before it changes a task's VL, so that is the task's VL now), or a
    vcpu's fp_regs bound by ctxsync (last->sve_state = vcpu->arch.sve_state, last->sve_vl =
    vcpu->arch.sve_max_vl: for an SVE vcpu (Config.sve_guest) its max VL, for a vcpu
    without SVE NULL and 0, so the VL check fires before the NULL pointer is used).

    Unlike v6.2+ (to_save, fp_type) it is *current's* TIF_SVE that chooses the SVE save
    also for a bound vcpu: v6.1's ctxsync sets the VMM thread's TIF_SVE to
    vcpu_has_sve(vcpu) (`kvm_arch_vcpu_ctxsync_fp`).  Unlike 2018's fpsimd_save() the Z
    registers go to the bound state's sve_state, not to current's.  ``last->st`` is read
    where it is used: every caller holds the CPU's FPSIMD context (bottom halves or IRQs
    off), as the WARN requires."""
    k.check(k.have_cpu_fpsimd_context(), "WARN", "fpsimd_save",
            "WARN_ON(!have_cpu_fpsimd_context())")
    st = k.this_cpu.last_st
    with k.If(~k.test_thread_flag("TIF_FOREIGN_FPSTATE")):
        if k.config.sve and k.cur.mm:
            _save_through_last(k, st, k.test_thread_flag("TIF_SVE"))
        else:
            k.store_through(st, k.fpsimd_save_state)


def _save_through_last(k: Ctx, st: Expr, sve: Expr) -> None:
    """fpsimd_save()'s two stores with SVE, by what ``last`` describes (see there)."""
    for t in k.S.tasks:
        if not t.mm:
            continue
        mine = st.eq(k.S.task_fpstate(t.index))
        with k.If(mine & sve):
            # vl = last->sve_vl: the task's VL (see fpsimd_save)
            with k.If(k.sve_vl_check(t.sve_vl)):
                k.sve_save_state(t.sve_state, t.uw)
        with k.Else():
            with k.If(mine):
                k.fpsimd_save_state(t.uw)
    for v in k.S.vcpus:
        v6.save_vcpu_binding_v61(k, v, st.eq(k.S.vcpu_fpstate(v.index)), sve)
    k.check(st.ne("NULL"), "BUG", "NULL dereference", "FP save/restore through NULL")


def sve_vl_check(k: Ctx, vl: Expr) -> Expr:
    """The VL check of v6.1's fpsimd_save() (arch/arm64/kernel/fpsimd.c, v5.13-v6.1; the
    text v6.2+ kept in fpsimd_save_user_state(), `model.variants.v6.sve_vl_check`):
    ``if (WARN_ON(sve_get_vl() != vl))`` force_signal_inject(SIGKILL, SI_KERNEL, 0, 0) and
    return.  sve_get_vl() is RDVL (`model.variants.v6.sve_get_vl`: the effective length
    the host runs at; on nVHE it first traps to hyp while CPTR_EL2.TZ is set).  Returns
    the "lengths agree" condition; with one vector length it cannot fail and is not
    emitted.  The SIGKILL itself is not modelled (the WARN is the finding; nothing is
    saved, as in the C)."""
    return v6.vl_check_in(k, vl, "fpsimd_save")


def fpsimd_thread_switch(k: Ctx, next_task: int) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.1): fpsimd_thread_switch(next), from __switch_to()
    with IRQs off: __get_cpu_fpsimd_context(); fpsimd_save(); next's TIF_FOREIGN_FPSTATE =
    (last->st != &next->thread.uw.fpsimd_state || next->thread.fpsimd_cpu != this CPU)
    (always set for a kernel thread, never bound); __put_cpu_fpsimd_context().  2018's
    switch with the busy flag around it (v6.8 added the kernel-mode state)."""
    k.__get_cpu_fpsimd_context()
    k.fpsimd_save()
    v6.fpsimd_thread_switch_fixup_foreign(k, next_task, k.task(next_task))
    k.__put_cpu_fpsimd_context()


def fpsimd_restore_current_state(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.1): fpsimd_restore_current_state() (from
    do_notify_resume(), IRQs on): get_cpu_fpsimd_context(); if
    test_and_clear_thread_flag(TIF_FOREIGN_FPSTATE): task_fpsimd_load() and
    fpsimd_bind_task_to_cpu(); put_cpu_fpsimd_context().  (The !system_supports_fpsimd()
    branch is not taken: the CPUs have FP.)"""
    k.get_cpu_fpsimd_context()
    with k.If(k.test_thread_flag("TIF_FOREIGN_FPSTATE")):
        k.clear_thread_flag("TIF_FOREIGN_FPSTATE")
        k.task_fpsimd_load()
        k.fpsimd_bind_task_to_cpu()
    k.put_cpu_fpsimd_context()


def fpsimd_save_and_flush_cpu_state(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v5.3-v6.7, v6.1): fpsimd_save_and_flush_cpu_state():
    WARN_ON(preemptible()); __get_cpu_fpsimd_context(); fpsimd_save();
    fpsimd_flush_cpu_state(); __put_cpu_fpsimd_context().  No local_irq_save() (v6.8
    added it when the busy flag went): the callers mask IRQs (kvm_arch_vcpu_put_fp()'s
    local_irq_save(); CPU PM notifiers)."""
    k.check(~k.preemptible(), "WARN", "fpsimd_save_and_flush_cpu_state",
            "WARN_ON(preemptible())")
    k.__get_cpu_fpsimd_context()
    k.fpsimd_save()
    k.fpsimd_flush_cpu_state()
    k.__put_cpu_fpsimd_context()


def kernel_neon_begin(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v5.13-v6.7, v6.1): kernel_neon_begin():
    BUG_ON(!may_use_simd()); get_cpu_fpsimd_context(); fpsimd_save() (current's unsaved
    state, or a bound vcpu's); fpsimd_flush_cpu_state().  The context (bottom halves off,
    busy set) is kept until kernel_neon_end() (13150149aa6d "run kernel mode NEON with
    softirqs disabled"): the section is neither preemptible nor interruptible by a softirq
    (an IRQ can come; its softirq waits for local_bh_enable())."""
    k.check(k.may_use_simd(), "BUG", "kernel_neon_begin", "BUG_ON(!may_use_simd())")
    k.get_cpu_fpsimd_context()
    k.fpsimd_save()
    k.fpsimd_flush_cpu_state()


def kernel_neon_end(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v5.13-v6.7, v6.1): kernel_neon_end():
    put_cpu_fpsimd_context() (WARN_ON(!busy), local_bh_enable(): a softirq raised during
    the section may run here).  The registers are left holding the section's data; the
    flush's TIF_FOREIGN_FPSTATE forces a reload before user space."""
    k.put_cpu_fpsimd_context()


def syscall_kernel_neon(k: Ctx) -> None:
    """A syscall that uses kernel-mode NEON in task context (a crypto API user), the
    callers' pattern in v5.13-v6.7: if may_use_simd(): kernel_neon_begin(), the NEON work
    (write, read back), kernel_neon_end().  One step: between begin and end bottom halves
    are disabled (no preemption, no softirq); IRQs inside it are derived
    (model/interleave.py).  The same body as 2018's step (model/kernel/sched.py), whose
    section had preemption rather than bottom halves disabled."""
    with k.If(k.may_use_simd()):
        k.kernel_neon_begin()
        k.kernel_fp_write()
        k.kernel_fp_read()
        k.kernel_neon_end()


def do_sve_acc_locked(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.1): the rest of do_sve_acc() after sve_alloc():
    get_cpu_fpsimd_context(); if test_and_set_thread_flag(TIF_SVE): WARN_ON(1) ("SVE access
    shouldn't have trapped"); sve_init_regs(); put_cpu_fpsimd_context().  Returns to user
    through the ret_to_user path."""
    k.get_cpu_fpsimd_context()
    k.check(~k.test_thread_flag("TIF_SVE"), "WARN", "do_sve_acc",
            "WARN_ON(1): SVE access shouldn't have trapped (TIF_SVE already set)")
    k.set_thread_flag("TIF_SVE")
    k.sve_init_regs()
    k.put_cpu_fpsimd_context()
    k.goto("KERNEL")


def sve_init_regs_in_memory(k: Ctx) -> None:
    """The else branch of sve_init_regs() (v5.13-v6.1; a helper of the model): current's
    state is not live here (TIF_FOREIGN_FPSTATE): fpsimd_to_sve(current), the V registers
    into the low 128 bits of sve_state (which sve_alloc() zeroed).  No fp_type before v6.2:
    TIF_SVE alone says the saved state is sve_state.  The task's state may still be bound
    to another CPU (#13: 751ecf6afd65 added fpsimd_flush_task_state(current) here)."""
    k.fpsimd_to_sve()


def el0_svc(k: Ctx) -> None:
    """arch/arm64/kernel/entry-common.c (v6.1): el0_svc() -> syscall.c do_el0_svc():
    fp_user_discard() with DAIF still masked from the exception entry: (no SME) with SVE,
    clear_thread_flag(TIF_SVE) and sve_user_disable() (CPACR_EL1.ZEN_EL0EN cleared,
    unconditionally: 2018's entry.S did it only if TIF_SVE was set); then el0_svc_common():
    local_daif_restore(DAIF_PROCCTX) and the syscall body, with IRQs on and preemptible.
    The syscall ABI's ghosts (the task's Z bits above 127 now read zero, its P/FFR are
    unspecified) are taken at the discard."""
    if k.config.sve and k.cur.mm:
        k.set(k.this_cpu.irqs_disabled, True)  # DAIF masked since the exception entry
        k.clear_thread_flag("TIF_SVE")
        k.set(k.this_cpu.zen_el0en, False)  # sve_user_disable()
        k.set(k.cur.zhi_expected, 0)
        k.set(k.cur.p_written, 0)
        k.set(k.this_cpu.irqs_disabled, False)  # el0_svc_common(): local_daif_restore()
    # model bookkeeping of the optional events (signal: the frame's check ends; fork,
    # sve_set_vl: the task is in a syscall's body), as every other el0_svc does it
    v6.syscall_entry_bookkeeping(k)
    k.goto("KERNEL")


# -------------------------------------------------------------- arch/arm64/kvm/fpsimd.c
def kvm_arch_vcpu_load_fp(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/fpsimd.c (v6.0, v6.1): kvm_arch_vcpu_load_fp(): BUG_ON(!current->mm);
    BUG_ON(test_thread_flag(TIF_SVE)) (KVM_RUN is a syscall, whose entry cleared TIF_SVE:
    KVM keeps no host SVE state since v5.12's "Get rid of host SVE tracking/saving");
    vcpu->arch.fp_state = FP_STATE_HOST_OWNED; HOST_SVE_ENABLED = CPACR_EL1.ZEN_EL0EN
    (cleared, then set if enabled); with SME (Config.sme) the SME block
    (`model.variants.v6_1_sme.kvm_sme_load_block_v61`)."""
    k.check(k.true if k.cur.mm else k.false, "BUG", "kvm_arch_vcpu_load_fp",
            "BUG_ON(!current->mm)")
    k.check(~k.test_thread_flag("TIF_SVE"), "BUG", "kvm_arch_vcpu_load_fp",
            "BUG_ON(test_thread_flag(TIF_SVE))")
    k.set(k.kvm_fp_owner(vcpu), "HOST_OWNED")
    if k.config.sve:
        k.set(k.vcpu(vcpu).host_sve_enabled, k.this_cpu.zen_el0en)
    v6_1_sme.kvm_sme_load_block_v61(k, vcpu)  # (Config.sme) the SME block


def kvm_arch_vcpu_ctxsync_fp(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/fpsimd.c (v6.0, v6.1): kvm_arch_vcpu_ctxsync_fp(), IRQs off after the
    exit: WARN_ON_ONCE(!irqs_disabled()); if vcpu->arch.fp_state is GUEST_OWNED:
    fpsimd_bind_state_to_cpu(&vcpu->arch.ctxt.fp_regs, vcpu->arch.sve_state (NULL without
    vcpu SVE), vcpu->arch.sve_max_vl (0 without), NULL, 0, &vcpu->arch.svcr); clear
    TIF_FOREIGN_FPSTATE; update_thread_flag(TIF_SVE, vcpu_has_sve(vcpu)): the VMM thread's
    TIF_SVE now says what fpsimd_save() saves of the bound vcpu (set for an SVE vcpu,
    Config.sve_guest; kvm_arch_vcpu_put_fp() clears it again).  The model keeps only
    last->st; fpsimd_save() derives the other fields from it."""
    k.check(k.irqs_disabled(), "WARN", "kvm_arch_vcpu_ctxsync_fp",
            "WARN_ON_ONCE(!irqs_disabled())")
    with k.If(k.guest_owns_fp_regs(vcpu)):
        k.fpsimd_bind_state_to_cpu(k.S.vcpu_fpstate(vcpu))
        k.clear_thread_flag("TIF_FOREIGN_FPSTATE")
        k.update_thread_flag("TIF_SVE", bool(k.vcpu_has_sve(vcpu)))


def kvm_arch_vcpu_put_fp(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/fpsimd.c (v6.0, v6.1): kvm_arch_vcpu_put_fp(): local_irq_save();
    (Config.sme) the SME block (`model.variants.v6_1_sme.kvm_sme_put_block_v61`); if
    vcpu->arch.fp_state is GUEST_OWNED: for an SVE vcpu
    (Config.sve_guest) the guest's ZCR_EL1 saved into the vcpu and, without VHE, ZCR_EL1 =
    the vcpu's max VQ - 1 (the same statements as v5.12-v6.13: `model.variants.v6.
    kvm_put_fp_sve_zcr`), then fpsimd_save_and_flush_cpu_state() (which saves the bound
    vcpu as SVE: ctxsync set TIF_SVE); else with VHE and SVE restore CPACR_EL1.ZEN_EL0EN
    from HOST_SVE_ENABLED (hyp's exit wrote CPACR_EL1_DEFAULT); update_thread_flag(TIF_SVE,
    0); local_irq_restore()."""
    flags = k.local_irq_save()
    v6_1_sme.kvm_sme_put_block_v61(k, vcpu)  # (Config.sme) the SME block
    with k.If(k.guest_owns_fp_regs(vcpu)):
        if k.vcpu_has_sve(vcpu):
            k.kvm_put_fp_sve_zcr(vcpu)
        k.fpsimd_save_and_flush_cpu_state()
    if k.config.vhe and k.config.sve:
        with k.Else():
            k.set(k.this_cpu.zen_el0en, k.vcpu(vcpu).host_sve_enabled)
    k.update_thread_flag("TIF_SVE", False)
    k.local_irq_restore(flags)


# ------------------------------------------------ the optional events (model/events.py)
def fpsimd_preserve_current_state(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.1): fpsimd_preserve_current_state() (fork's
    arch_dup_task_struct(), signal delivery): get_cpu_fpsimd_context(); fpsimd_save();
    put_cpu_fpsimd_context()."""
    k.get_cpu_fpsimd_context()
    k.fpsimd_save()
    k.put_cpu_fpsimd_context()


def fpsimd_update_current_state(k: Ctx, state: Image) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.1): fpsimd_update_current_state(state) (rt_sigreturn):
    2018's statements inside get_cpu_fpsimd_context()/put_cpu_fpsimd_context():
    uw.fpsimd_state = *state; if TIF_SVE fpsimd_to_sve(current); task_fpsimd_load();
    fpsimd_bind_task_to_cpu(); clear TIF_FOREIGN_FPSTATE
    (`model.kernel.fpsimd.update_current_state_statements`)."""
    k.get_cpu_fpsimd_context()
    fpsimd_2018.update_current_state_statements(k, state)
    k.put_cpu_fpsimd_context()


def fpsimd_flush_thread(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.1): fpsimd_flush_thread() (exec):
    get_cpu_fpsimd_context(); fpsimd_flush_task_state(current) (TIF_FOREIGN_FPSTATE set
    there); memset(&uw.fpsimd_state, 0); with SVE clear TIF_SVE, sve_state = NULL (kfree()d
    after the context is put), fpsimd_flush_thread_vl() (one VL: the default);
    put_cpu_fpsimd_context() (the statements of v6.8's, without fp_type:
    `model.variants.v6_events.flush_thread_statements`)."""
    k.get_cpu_fpsimd_context()
    v6_events.flush_thread_statements(k)
    k.put_cpu_fpsimd_context()


def sve_set_vector_length(k: Ctx, t: int, vl: int) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.1): vec_set_vector_length(task, ARM64_VEC_SVE, vl,
    flags) without flags (PR_SVE_SET_VL_ONEXEC/PR_SVE_VL_INHERIT: see 2018's
    `model.kernel.fpsimd.sve_set_vector_length`), with several vector lengths (event
    sve_set_vl).  ``vl`` is one the system supports.  If it is the task's VL: nothing.
    Otherwise, for task == current: get_cpu_fpsimd_context(); fpsimd_save() (no
    TIF_FOREIGN_FPSTATE set here: the flush below sets it, v4.20 on); then
    fpsimd_flush_task_state(task); if test_and_clear TIF_SVE (or streaming: no SME):
    sve_to_fpsimd(task); put_cpu_fpsimd_context() (current); sve_free(task);
    task_set_vl(task, SVE, vl).  2018's text with the busy-flag context instead of
    local_bh_disable() (v6.1's fpsimd_save() WARNs without it)."""
    task = k.task(t)
    if not isinstance(task.sve_vl, Var):
        return
    with k.If(task.sve_vl.ne(vl)):
        if t == k.current:
            k.get_cpu_fpsimd_context()
            k.fpsimd_save()
        k.fpsimd_flush_task_state(t)
        with k.If(k.test_tsk_thread_flag(t, "TIF_SVE")):
            k.update_tsk_thread_flag(t, "TIF_SVE", False)
            k.sve_to_fpsimd(t)
        if t == k.current:
            k.put_cpu_fpsimd_context()
        k.sve_free(t)
        k.set(task.sve_vl, vl)
        with k.atomic():
            # the ghosts of 2018's function: the Z bits above 127 and P/FFR become
            # unspecified (Documentation/arm64/sve.rst, "Changing the vector length")
            k.set(task.zhi_expected, 0)
            k.set(task.p_written, 0)


# The events' functions whose v6.1 text is 2018's (TIF_SVE, not fp_type, decides the
# format of the saved state; read in the v6.1 tree, SME branches not taken): signal.c
# preserve_sve_context(), fpsimd.c fpsimd_signal_preserve_current_state(),
# sve_sync_to_fpsimd() and sve_sync_from_fpsimd_zeropad() (ptrace's fpr_set()); and
# kernel-mode NEON inside KVM_RUN, one step as in 2018: v6.1's kernel_neon_begin() keeps
# the FPSIMD context (bottom halves off) until kernel_neon_end().  The others are v6.8's
# (model/variants/v6_events.py), whose fp_type statements v6.1's layout has none of:
# arch_dup_task_struct()/copy_thread() (the same text but for fp_type and the v6.8+
# kernel-mode state), restore_fpsimd_context()/restore_sve_fpsimd_context() (2018's and
# SME's statements), the CPU PM notifier (fpsimd_save_and_flush_cpu_state()), and KVM's
# PSCI CPU_ON, kvm_reset_vcpu() and KVM_SET_ONE_REG (psci.c, reset.c and arm.c: the same
# statements in v6.1 as in v6.10).
# (With SME, Config.sme, the first four are v6.1's SME-aware text, model/variants/
# v6_1_sme.py, which builds exactly 2018's statements without SME.)
EVENTS_FROM_2018 = {
    "preserve_sve_context": v6_1_sme.preserve_sve_context_v61,
    "fpsimd_signal_preserve_current_state":
        v6_1_sme.fpsimd_signal_preserve_current_state_v61,
    "sve_sync_to_fpsimd": v6_1_sme.sve_sync_to_fpsimd_v61,
    "sve_sync_from_fpsimd_zeropad": v6_1_sme.sve_sync_from_fpsimd_zeropad_v61,
    "kvm_run_kernel_neon": kvm_vcpu_ops.kvm_run_kernel_neon,
}


# --------------------------------------------------------------------- the variant
_NEW = ["__get_cpu_fpsimd_context", "__put_cpu_fpsimd_context", "get_cpu_fpsimd_context",
        "put_cpu_fpsimd_context", "have_cpu_fpsimd_context",
        # ptrace's FPSIMD-format NT_ARM_SSVE write (gone in v6.2, baa8515281b3)
        "fpsimd_force_sync_to_sve"]

# v6.8/v6.9 functions v6.1 does not have (kernel-mode state, fpsimd_kvm_prepare(), the
# renamed save): removed so that a stray call is a build error.
_GONE = ["fpsimd_save_user_state", "fpsimd_load_kernel_state", "fpsimd_save_kernel_state",
         "fpsimd_thread_switch_save_prev", "fpsimd_thread_switch_to_kernel_neon",
         "fpsimd_thread_switch_fixup_foreign", "fpsimd_kvm_prepare",
         "syscall_kernel_neon_end", "forget_dead_kernel_state", "kvm_run_kernel_neon_end"]


def check_config(variant: Variant, config) -> str | None:  # noqa: ANN001
    """Why ``config`` is outside what v6.1 models (None if it is not): the v6 variants'
    limits (`model.variants.v6.check_config`: SVE vcpus need the option ``sve_guest``,
    which v6.1 has since its fpsimd_save(), ctxsync and put_fp model an SVE vcpu).
    Several SVE vector lengths are modelled: fpsimd_save()'s check against last->sve_vl
    (`sve_vl_check`) and v6.1's vec_set_vector_length() (`sve_set_vector_length`)."""
    return v6.check_config(variant, config) or v6_1_sme.check_config(variant, config)


def make_v61(v68: Variant) -> Variant:
    """v6.1 (krr-io/linux-6.1.0 @ 2a410d07ec5e, 6.1.0-rc7): derived from v6.8's table
    (KVM's vcpu->arch.fp_state and hyp are the same in effect), with the 2018-style host
    code of v5.13-v6.7 (busy flag, non-preemptible kernel-mode NEON, TIF_SVE-governed save
    and syscall discard) and v6.1's KVM load/ctxsync/put."""
    functions = {
        "__get_cpu_fpsimd_context": __get_cpu_fpsimd_context,
        "__put_cpu_fpsimd_context": __put_cpu_fpsimd_context,
        "get_cpu_fpsimd_context": get_cpu_fpsimd_context,
        "put_cpu_fpsimd_context": put_cpu_fpsimd_context,
        "have_cpu_fpsimd_context": have_cpu_fpsimd_context,
        "may_use_simd": fpsimd_2018.may_use_simd,
        "task_fpsimd_load": v6_sme._with_sme(task_fpsimd_load,
                                             v6_1_sme.task_fpsimd_load_sme_v61),
        "fpsimd_save": v6_sme._with_sme(fpsimd_save, v6_1_sme.fpsimd_save_sme_v61),
        "fpsimd_thread_switch": fpsimd_thread_switch,
        "fpsimd_restore_current_state": fpsimd_restore_current_state,
        "fpsimd_save_and_flush_cpu_state": fpsimd_save_and_flush_cpu_state,
        "kernel_neon_begin": kernel_neon_begin,
        "kernel_neon_end": kernel_neon_end,
        "syscall_kernel_neon": syscall_kernel_neon,
        "do_sve_acc_locked": do_sve_acc_locked,
        "do_sme_acc_locked": v6_1_sme.do_sme_acc_locked_v61,
        "sve_init_regs_in_memory": sve_init_regs_in_memory,
        "sve_set": v6_sme._with_sme(fpsimd_2018.sve_set, v6_1_sme.sve_set_sme_v61),
        "ssve_set": v6_1_sme.ssve_set_v61,
        "za_set": v6_1_sme.za_set_v61,
        "za_set_at_vl": v6_1_sme.za_set_at_vl_v61,
        # the tracer's payload-kind and header-VL writes (events ptrace_sve_fpsimd,
        # ptrace_sve_nodata, ptrace_sve_vl), with and without SME
        "sve_set_common": v6_1_sme.sve_set_common_v61,
        "fpsimd_force_sync_to_sve": v6_1_sme.fpsimd_force_sync_to_sve_v61,
        "sve_vl_check": sve_vl_check,
        "sve_set_vector_length": v6_sme._with_sme(
            sve_set_vector_length, v6_1_sme.sve_set_vector_length_sme_v61),
        "sme_set_vector_length": v6_1_sme.sme_set_vector_length_v61,
        "el0_svc": v6_sme._with_sme(el0_svc, v6_1_sme.el0_svc_sme_v61),
        "ret_to_user": sched_2018.ret_to_user,
        "kvm_arch_vcpu_load_fp": kvm_arch_vcpu_load_fp,
        "kvm_arch_vcpu_ctxsync_fp": kvm_arch_vcpu_ctxsync_fp,
        "kvm_arch_vcpu_put_fp": kvm_arch_vcpu_put_fp,
        "fpsimd_preserve_current_state": fpsimd_preserve_current_state,
        "fpsimd_update_current_state": fpsimd_update_current_state,
        "fpsimd_flush_thread": fpsimd_flush_thread,
        **EVENTS_FROM_2018,
    }
    functions.update({n: None for n in _GONE})
    return v68.derive(
        "v6.1",
        "v6.1-rc7: vcpu->arch.fp_state tristate before fp_type; busy-flag FPSIMD context,"
        " kernel-mode NEON with softirqs disabled, TIF_SVE cleared at syscall entry,"
        " kvm_arch_vcpu_load_fp() BUG_ON(TIF_SVE); #13",
        options={"new_functions": _NEW,
                 "state_features": ("vcpu_fp_state", "fpsimd_context_busy", "sve_acc",
                                    "host_sme_enabled"),
                 "check_config": check_config,
                 # SVE vcpus (Config.sve_guest): v6.1's ctxsync/put_fp/fpsimd_save with
                 # the vcpu's SVE state; hyp's SVE switch is v6.8's (the same text)
                 "sve_guest": True,
                 # SME (Config.sme): v6.1's SME code, model/variants/v6_1_sme.py
                 "sme": True, "sme_refused": None},
        tree=V61_TREE, release="v6.1.0-rc7", **functions)


__all__ = ["V61_TREE", "make_v61"]
