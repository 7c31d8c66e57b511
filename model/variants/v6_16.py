"""v6.16: the 2025 host-side FPSIMD/SVE fixes (arm64 for-next/sme-fixes, merged in v6.16-rc1).

Read where (no pristine v6.16 tree can be fetched; /work/shared/reference/modern-kernels.md):

* arch/arm64/kernel/fpsimd.c and arch/arm64/kernel/entry-common.c: the index copies at
  torvalds/linux@398edaa12f9cf2be7902f306fc023c20e3ebd3e4 ("arm64/fpsimd: Do not discard
  modified SVE state", #22's fix), which already has the earlier patches of the same
  series: 01098d893fa8 ("Avoid clobbering kernel FPSIMD state with SMSTOP", #21),
  d3eaab3c7090 ("Discard stale CPU state when handling SME traps", #14), "Remove redundant
  SVE trap manipulation" and "Add fpsimd_save_and_flush_current_state()".  Every function
  modelled below was compared with the v6.18.2 snapshot (gfunkmonk/linux-6.18.2 @
  062668f4d006cf5f04ae3039b73ef7ecb4b62f49): the same in both, so the later patches of the
  merge (renames of the sve_sync_*() helpers, clone() and VL-change rework, FPMR) do not
  touch them;
* arch/arm64/kernel/ptrace.c sve_set_common(): v6.18.2 (the same merge reworked it after
  398edaa12f9c: 316283f276eb "ptrace: Consistently handle partial writes to
  NT_ARM_(S)SVE" and 9f8bf718f292 "ptrace: Gracefully handle errors", both in the v6.16
  arm64 pull's shortlog; the two later fixes of that code, 128a7494a9f1 and 5cbb61bf4168,
  patch the text read in v6.18.2, so it is v6.16's);
* KVM (arch/arm64/kvm/fpsimd.c, hyp): v6.14's functions, unchanged.  Not read in a v6.16
  tree: v6.18.2's kvm/fpsimd.c differs from v6.14's only in kvm_arch_vcpu_run_map_fp()'s
  removal (42ce432522a1, kvmarm fixes merged for v6.16.0 after v6.16-rc3: in
  v6.16-ptrace-fixes only, `kvm_arch_vcpu_run_pid_change_v616`) and the svcr/fpmr pointer
  accessors of ctxsync.
  SVE vcpus (Config.sve_guest), compared with v6.14.0 in v6.18.2 and in the index copy of
  hyp/include/hyp/switch.h after kvmarm-fixes-6.16-3 (torvalds/linux, id 19037564): ctxsync
  binds an SVE vcpu with to_save = FP_STATE_SVE and sve_vl = sve_max_vl (the same text),
  fpsimd_lazy_switch_to_guest/host() and __hyp_sve_restore_guest() differ only in NV's
  is_nested_ctxt() spelling and __vcpu_assign_sys_reg(), kvm_hyp_handle_fpsimd() only in
  rc3's __deactivate_cptr_traps()/__activate_cptr_traps() (below), guest.c's
  set_sve_reg() and reset.c's kvm_vcpu_reset_sve() are identical; the VHE run loop of
  v6.18.2 moves fpsimd_lazy_switch_to_host() after sysreg_restore_host_state_vhe() and
  one ISB ("VHE: Centralize ISBs when returning to host", the same fixes series), which
  touches no modelled state.  The host side's part is the save through to_save
  (`fpsimd_save_user_state_v616`, `fpsimd_bind_state_to_cpu_v616`).

What v6.16 changes in the functions the model has (its SME functions: `v6_sme.v616_functions`,
FPMR: `fpmr_load`/`fpmr_save`; the list below is the rest):

* #22 (398edaa12f9c, Fixes 8c845e273104 and f130ac0ae441): the syscall ABI's discard of
  the SVE state is no longer decided at save time from in_syscall(): el0_svc() calls
  fpsimd_syscall_enter(), which zeroes the live Z bits above 127 and P/FFR if TIF_SVE
  (as fp_user_discard() did) and sets this CPU's fpsimd_last_state.to_save =
  FP_STATE_FPSIMD; fpsimd_save_user_state() saves SVE iff (to_save == CURRENT && TIF_SVE)
  || to_save == SVE; any bind (a reload) sets to_save again; fpsimd_syscall_exit() resets
  it to FP_STATE_CURRENT just before the return to user space.  A tracer's SVE write
  during the syscall is reloaded and bound (to_save CURRENT), so a later save keeps it.
  TIF_SVE and EL0 SVE stay on across syscalls, as since 8c845e273104;
* task_fpsimd_load() no longer touches CPACR_EL1.ZEN (sve_user_enable/disable): the
  bind that always follows it sets the EL0 trap from TIF_SVE;
* #21 (01098d893fa8): fpsimd_thread_switch() flushes the CPU state *before* loading next's
  kernel-mode state.  Without SME the flush's SMSTOP is not there, but the order still
  matters to the model: last->st is NULL when fpsimd_load_kernel_state() tests it, so the
  switch never elides that load any more;
* #14 (d3eaab3c7090) changes do_sme_acc() only (`v6_sme.do_sme_acc_foreign_v616`, with
  --sme);
* fpsimd_save_and_flush_current_state() is new: signal delivery and rt_sigreturn (929fa99b1215)
  and clone() (e0cb0f26594c) call it (event signal and fork: model/variants/v6_events.py);
* ptrace sve_set_common() (NT_ARM_SVE, full SVE data at the same VL): flushes the
  target first, zeroes sve_state (sve_alloc(target, true)), sets TIF_SVE only
  `if (system_supports_sme())` (128a7494a9f1 "ptrace: Fix SVE writes on !SME systems"
  removed that guard, v6.19), zeroes **current's** uw.fpsimd_state, i.e. the tracer's
  (5cbb61bf4168 "ptrace: zero targets fpsimd_state, not the tracers" made it the
  target's, 2026), sets fp_type = FP_STATE_SVE and copies the data in.  ``v6.16`` has both
  later-fixed defects, ``v6.16-ptrace-fixes`` neither.
"""

from __future__ import annotations

from model.ctx import Ctx
from model.dsl import Const, Var, any_of
from model.variant import Variant
from model.variants import v6_events
from model.variants.v6 import (
    el0_svc_common_entry,
    fpmr_load,
    fpmr_save,
    save_sve_vcpu_binding,
    syscall_exit_bookkeeping,
)

V616_TREE = "torvalds/linux@398edaa12f9cf2be7902f306fc023c20e3ebd3e4"


# ------------------------------------------------------------ arch/arm64/kernel/fpsimd.c
def _set_to_save(k: Ctx, value: str) -> None:
    """Write this CPU's fpsimd_last_state.to_save where the model keeps it (feature to_save,
    with SVE).  Without SVE nothing reads it in a way that matters: the save tests
    `to_save == FP_STATE_CURRENT && TIF_SVE` (TIF_SVE never set) or `to_save ==
    FP_STATE_SVE` (only SVE vcpus), so the model keeps no variable for it there."""
    slot = k.this_cpu.last_to_save
    if isinstance(slot, Var):
        k.set(slot, value)


def task_fpsimd_load_v616(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.16, read at 398edaa12f9c and in v6.18.2):
    task_fpsimd_load(): WARN_ON(preemptible()); WARN_ON(TIF_KERNEL_FPSTATE); FPMR
    (`model.variants.v6.fpmr_load`, after SVCR in v6.16); with SVE, by
    current->thread.fp_type: FP_STATE_FPSIMD: clear_thread_flag(TIF_SVE) (no
    sve_user_disable() any more); FP_STATE_SVE (never streaming without SME):
    WARN_ON_ONCE(!test_and_set_thread_flag(TIF_SVE)) (no sve_user_enable()), sve_set_vq
    (the task's VL into ZCR_EL1: with several vector lengths the load's ``vl``), restore
    the SVE registers (sve_load_state).  Otherwise
    fpsimd_load_state(&uw.fpsimd_state).  (FPMR, now written after SVCR: no FPMR here.)"""
    k.check(~k.preemptible(), "WARN", "task_fpsimd_load", "WARN_ON(preemptible())")
    k.check(~k.test_thread_flag("TIF_KERNEL_FPSTATE"), "WARN", "task_fpsimd_load",
            "WARN_ON(test_thread_flag(TIF_KERNEL_FPSTATE))")
    fpmr_load(k)
    if not (k.config.sve and k.cur.mm):
        k.fpsimd_load_state(k.cur.uw)
        return
    with k.If(k.cur.fp_type.eq("FPSIMD")):
        k.clear_thread_flag("TIF_SVE")
        k.fpsimd_load_state(k.cur.uw)
    with k.Else():
        was = k.let("tif_sve", k.test_thread_flag("TIF_SVE"))
        k.set_thread_flag("TIF_SVE")
        k.check(was.eq(1), "WARN", "task_fpsimd_load",
                "WARN_ON_ONCE(!test_and_set_thread_flag(TIF_SVE)) with fp_type SVE")
        # sve_set_vq(sve_vq_from_vl(task_get_sve_vl(current)) - 1) before the load: with
        # several vector lengths ZCR_EL1 gets the task's VL (as v6.14's task_fpsimd_load)
        k.sve_load_state(k.cur.sve_state, k.cur.uw,
                         k.cur.sve_vl if isinstance(k.this_cpu.zcr, Var) else None)


def fpsimd_save_user_state_v616(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.16, 398edaa12f9c; the same text in v6.18.2):
    fpsimd_save_user_state().

    WARN_ON(preemptible()); return if current's TIF_FOREIGN_FPSTATE; FPMR
    (`model.variants.v6.fpmr_save`); save SVE iff
    (last->to_save == FP_STATE_CURRENT && TIF_SVE) || last->to_save == FP_STATE_SVE (no
    in_syscall() test any more: fpsimd_syscall_enter() set to_save = FP_STATE_FPSIMD for
    the syscall's lazy discard), at vl = last->sve_vl; SVE: ``if (WARN_ON(sve_get_vl() !=
    vl))`` force_signal_inject(SIGKILL) and return without saving
    (`model.variants.v6.sve_vl_check`, emitted only with several vector lengths), else
    sve_save_state(last->sve_state + ..., &last->st->fpsr, true), *last->fp_type =
    FP_STATE_SVE; else fpsimd_save_state(last->st), *last->fp_type = FP_STATE_FPSIMD.

    Which state ``last`` describes is the binding the model keeps (last->st): a task's uw
    (its sve_state, fp_type and sve_vl with it: fpsimd_bind_task_to_cpu()), a vcpu's
    fp_regs (bound by ctxsync: an SVE vcpu (Config.sve_guest) with to_save FP_STATE_SVE,
    its sve_state and sve_vl = vcpu->arch.sve_max_vl; a vcpu without SVE with to_save
    FP_STATE_FPSIMD and a NULL sve_state, through which an SVE save would oops), or a
    task's kernel-mode state (bound with .st and .to_save only: its sve_state and fp_type
    pointers are NULL, so an SVE save or the fp_type store through it would oops; reported
    as a BUG if ever reached).  A vcpu's fp_type (ctxsync's .fp_type =
    &vcpu->arch.fp_type) is not modelled: hyp restores an SVE vcpu from its sve_state
    whatever it says (kvm_hyp_handle_fpsimd(), v6.14-v6.18)."""
    k.check(~k.preemptible(), "WARN", "fpsimd_save_user_state", "WARN_ON(preemptible())")
    cpu = k.this_cpu
    st = cpu.last_st
    with k.If(~k.test_thread_flag("TIF_FOREIGN_FPSTATE")):
        fpmr_save(k)
        if not (k.config.sve and k.cur.mm):
            k.store_through(st, k.fpsimd_save_state)
        else:
            sve = cpu.last_to_save.eq("CURRENT") & k.test_thread_flag("TIF_SVE")
            if "SVE" in cpu.last_to_save.dom.labels:
                sve = sve | cpu.last_to_save.eq("SVE")
            for t in k.S.tasks:
                if not t.mm:
                    continue
                with k.If(st.eq(k.S.task_fpstate(t.index)) & sve):
                    # vl = last->sve_vl: the task's (no modelled v6.16 path changes a
                    # bound task's VL: change_live_vector_length() saves and flushes first)
                    with k.If(k.sve_vl_check(t.sve_vl)):
                        k.sve_save_state(t.sve_state, st)
                        k.set(t.fp_type, "SVE")
                with k.Else():
                    with k.If(st.eq(k.S.task_fpstate(t.index))):
                        k.fpsimd_save_state(t.uw)
                        k.set(t.fp_type, "FPSIMD")
            for v in k.S.vcpus:
                mine = st.eq(k.S.vcpu_fpstate(v.index))
                if k.vcpu_has_sve(v.index):
                    save_sve_vcpu_binding(k, v, mine, sve)
                else:
                    k.check(~(mine & sve), "BUG", "NULL dereference",
                            "sve_save_state() through a non-SVE vcpu's NULL sve_state")
                    with k.If(mine):
                        k.fpsimd_save_state(v.fp_regs)  # *last->fp_type: the vcpu's
            k.check(st.ne("NULL"), "BUG", "NULL dereference", "FP save/restore through NULL")
        if k.cur.kernel_state is not None:
            kernel = any_of(st.eq(k.S.kernel_fpstate(t.index)) for t in k.S.tasks
                            if t.kernel_state is not None)
            k.check(~kernel, "BUG", "NULL dereference",
                    "*last->fp_type = ... with a kernel-mode state bound (fp_type NULL)")


def fpsimd_bind_task_to_cpu_v616(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.9-v6.16): fpsimd_bind_task_to_cpu(): last->st =
    &current->thread.uw.fpsimd_state (and the sve_state, VL, svcr, fpmr, fp_type
    pointers: not modelled apart from st); last->to_save = FP_STATE_CURRENT (a state
    variable from v6.16, where fpsimd_syscall_enter() can have changed it);
    current->thread.fpsimd_cpu = this CPU; with SVE, sve_user_enable() iff TIF_SVE else
    sve_user_disable() (from v6.16 the only place the host sets the EL0 SVE trap)."""
    k.set(k.this_cpu.last_st, k.S.task_fpstate(k.current))
    _set_to_save(k, "CURRENT")
    k.set(k.cur.fpsimd_cpu, k.cpu)
    if k.config.sme:
        # sme_user_enable() / sme_user_disable(): CPACR_EL1.SMEN_EL0EN follows TIF_SME
        k.set(k.this_cpu.smen_el0en, k.test_thread_flag("TIF_SME"))
    if k.config.sve:
        k.set(k.this_cpu.zen_el0en, k.test_thread_flag("TIF_SVE"))


def fpsimd_bind_state_to_cpu_v616(k: Ctx, st: int) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.9-v6.16): fpsimd_bind_state_to_cpu(state):
    WARN_ON(!in_softirq() && !irqs_disabled()); *last = *state.  The model copies .st and,
    from v6.16 (where it is state), the caller's .to_save, which follows from the state
    bound: FP_STATE_FPSIMD for fpsimd_save_kernel_state()'s and for ctxsync's of a vcpu
    without SVE, FP_STATE_SVE for ctxsync's of an SVE vcpu (kvm/fpsimd.c
    kvm_arch_vcpu_ctxsync_fp(): to_save = FP_STATE_SVE if vcpu_has_sve(), v6.10-v6.18)."""
    k.check(k.in_softirq() | k.irqs_disabled(), "WARN", "fpsimd_bind_state_to_cpu",
            "WARN_ON(!in_softirq() && !irqs_disabled())")
    k.set(k.this_cpu.last_st, st)
    sve_vcpu = any(st == k.S.vcpu_fpstate(v.index) and k.vcpu_has_sve(v.index)
                   for v in k.S.vcpus)
    _set_to_save(k, "SVE" if sve_vcpu else "FPSIMD")


def fpsimd_thread_switch_to_kernel_neon_v616(k: Ctx, next_task: int) -> None:
    """The TIF_KERNEL_FPSTATE branch of fpsimd_thread_switch() (v6.16; 01098d893fa8
    "arm64/fpsimd: Avoid clobbering kernel FPSIMD state with SMSTOP", #21):
    fpsimd_flush_cpu_state() first (last->st = NULL; SMSTOP with SME; current's
    TIF_FOREIGN_FPSTATE), then fpsimd_load_kernel_state(next), whose elision test now
    always fails (last->st is NULL), so next's kernel-mode state is always reloaded."""
    k.fpsimd_flush_cpu_state()
    k.fpsimd_load_kernel_state(next_task)


def fpsimd_save_and_flush_current_state(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.16, new): fpsimd_save_and_flush_current_state():
    get_cpu_fpsimd_context(); fpsimd_save_user_state(); fpsimd_flush_task_state(current);
    put_cpu_fpsimd_context().  Called by signal delivery and rt_sigreturn (event signal:
    `v6_events.setup_rt_frame_v616`, `restore_sigframe_v616`), a VL change of current
    (`change_live_vector_length_v616`) and clone() (event fork:
    `arch_dup_task_struct_v616`)."""
    k.local_bh_disable()
    k.fpsimd_save_user_state()
    k.fpsimd_flush_task_state(k.current)
    k.local_bh_enable()


# ---------------------------------------------------- arch/arm64/kernel/entry-common.c
def fpsimd_syscall_enter(k: Ctx) -> None:
    """arch/arm64/kernel/entry-common.c (v6.16, 398edaa12f9c): fpsimd_syscall_enter(), from
    el0_svc() with DAIF masked: (SME: sme_smstop_sm(); no SME here) without SVE return;
    if TIF_SVE, sve_flush_live(true, vq): the live Z bits above 127, P0-P15 and FFR are
    zeroed (TIF_SVE and EL0 SVE stay on); then this CPU's fpsimd_last_state.to_save =
    FP_STATE_FPSIMD ("allow fpsimd_save_user_state() to lazily discard SVE state until
    either the live state is unbound or fpsimd_syscall_exit() is called")."""
    if not k.config.sve:
        return
    with k.If(k.test_thread_flag("TIF_SVE")):
        zero = Const(k.S.VALUE, k.S.ZERO)
        k.set(k.this_cpu.regs.zhi, zero)
        k.set(k.this_cpu.regs.p, zero)
    _set_to_save(k, "FPSIMD")


def fpsimd_syscall_exit(k: Ctx) -> None:
    """arch/arm64/kernel/entry-common.c (v6.16, 398edaa12f9c): fpsimd_syscall_exit(), from
    el0_svc() after exit_to_user_mode() (DAIF masked): without SVE return; this CPU's
    fpsimd_last_state.to_save = FP_STATE_CURRENT (current's state is bound here now)."""
    if not k.config.sve:
        return
    _set_to_save(k, "CURRENT")


def el0_svc_v616(k: Ctx) -> None:
    """arch/arm64/kernel/entry-common.c (v6.16): el0_svc(): enter_from_user_mode();
    fpsimd_syscall_enter() (DAIF still masked); local_daif_restore(DAIF_PROCCTX);
    do_el0_svc() (regs->syscallno set: the model's in_syscall, which el0_svc's own
    fpsimd_syscall_exit() on the way out needs); the syscall body runs with IRQs on,
    preemptible.  Masking, ghosts and in_syscall as in v6.14 (`el0_svc_common_entry`)."""
    el0_svc_common_entry(k, k.fpsimd_syscall_enter)


def ret_to_user_v616(k: Ctx) -> None:
    """arch/arm64/kernel/entry-common.c (v6.16): exit_to_user_mode() ->
    exit_to_user_mode_prepare(): local_irq_disable(); while work is pending,
    do_notify_resume(): local_irq_enable(), ..., fpsimd_restore_current_state() if
    TIF_FOREIGN_FPSTATE, local_irq_disable() and re-read the flags (one loop iteration
    per step); with no work left, local_daif_mask(); then, for a syscall (el0_svc()),
    fpsimd_syscall_exit(); return to EL0.  Other work (signals, TIF_NEED_RESCHED) is the
    schedule step."""
    k.local_irq_disable()
    with k.If(k.test_thread_flag("TIF_FOREIGN_FPSTATE")):
        k.local_irq_enable()
        k.fpsimd_restore_current_state()
    with k.Else():
        if k.config.sve and k.cur.mm:
            with k.If(k.cur.in_syscall.eq(1)):
                k.fpsimd_syscall_exit()
            # Model bookkeeping (as in v6.14): the next entry from EL0 sets
            # regs->syscallno anew.
            k.set(k.cur.in_syscall, False)
        syscall_exit_bookkeeping(k)
        k.local_irq_enable()
        k.goto("USER")


# ------------------------------------------------------------ arch/arm64/kernel/ptrace.c
def sve_set_v616(k: Ctx, target: int) -> None:
    """arch/arm64/kernel/ptrace.c (v6.16, read in v6.18.2): sve_set() -> sve_set_common()
    for PTRACE_SETREGSET NT_ARM_SVE with full SVE register data at the task's own VL, on a
    stopped tracee (target != current): `sve_set_common_v616` with type ARM64_VEC_SVE."""
    sve_set_common_v616(k, target, sme=False)


def sve_set_common_v616(k: Ctx, target: int, sme: bool) -> None:
    """arch/arm64/kernel/ptrace.c (v6.16, read in v6.18.2): sve_set_common() with full
    SVE-format register data at the task's own VL (type ARM64_VEC_SME, ``sme``, for
    NT_ARM_SSVE, else ARM64_VEC_SVE), on a stopped tracee: the full-data case of
    `model.variants.v6_ptrace.sve_set_common_v616` (which models the other payloads and
    header VLs: fpsimd_flush_task_state(target); vec_set_vector_length() at the same VL
    (no FP effect); for ARM64_VEC_SME sme_alloc(target, false); sve_alloc(target, true);
    the streaming-mode block (`sve_set_common_mode`); the memset of a uw.fpsimd_state
    (`sve_set_common_zero_fpsimd`); fp_type = FP_STATE_SVE; the tracer's data)."""
    from model.variants.v6_ptrace import sve_set_common_v616 as common
    common(k, target, sme)


def _streaming_switch(k: Ctx, target: int, sme: bool) -> None:
    """The switch of sve_set_common()'s "Enter/exit streaming mode" block (v6.16-v6.19):
    ARM64_VEC_SVE: clear SVCR.SM, set TIF_SVE; ARM64_VEC_SME: set SVCR.SM, set TIF_SME
    (SVCR and TIF_SME are constants without SME: the writes are no-ops there)."""
    tgt = k.task(target)
    if isinstance(tgt.svcr_sm, Var):
        k.set(tgt.svcr_sm, 1 if sme else 0)
    k.update_tsk_thread_flag(target, "TIF_SME" if sme else "TIF_SVE", True)


def sve_set_common_mode(k: Ctx, target: int, sme: bool = False) -> None:
    """The "Enter/exit streaming mode" block of sve_set_common() (v6.16-v6.18; a helper of
    the model, the statement 128a7494a9f1 changed): all of it is inside `if
    (system_supports_sme())` (`_streaming_switch`), so on a system without SME TIF_SVE is
    *not* set for an SVE-format write: the tracee is left with fp_type FP_STATE_SVE and
    TIF_SVE clear (introduced by 9f8bf718f292 "arm64/fpsimd: ptrace: Gracefully handle
    errors").  With SME the switch runs."""
    if k.config.sme:
        _streaming_switch(k, target, sme)


def sve_set_common_mode_fixed(k: Ctx, target: int, sme: bool = False) -> None:
    """The same block after 128a7494a9f1 "arm64/fpsimd: ptrace: Fix SVE writes on !SME
    systems" (v6.19-rc, 6.18.y stable): the switch (`_streaming_switch`) without the
    system_supports_sme() test (for ARM64_VEC_SVE: svcr &= ~SVCR_SM_MASK and
    set_tsk_thread_flag(target, TIF_SVE)); with SME the same statements as before."""
    _streaming_switch(k, target, sme)


def sve_set_common_zero_fpsimd(k: Ctx, target: int) -> None:
    """The memset of sve_set_common() (v6.16-v6.19; a helper of the model, the statement
    5cbb61bf4168 changed): "Always zero V regs, FPSR, and FPCR" is
    memset(&current->thread.uw.fpsimd_state, 0, ...): current is the *tracer*, whose saved
    V0-V31/FPSR/FPCR are zeroed (introduced by 316283f276eb "arm64/fpsimd: ptrace:
    Consistently handle partial writes to NT_ARM_(S)SVE")."""
    zero = Const(k.S.VALUE, k.S.ZERO)
    k.set(k.cur.uw.v, zero)
    k.zero_fpsr_fpcr(k.cur.uw)


def sve_set_common_zero_fpsimd_fixed(k: Ctx, target: int) -> None:
    """The same memset after 5cbb61bf4168 "arm64/fpsimd: ptrace: zero targets
    fpsimd_state, not the tracers" (2026, 7.0.y stable): the tracee's uw.fpsimd_state."""
    zero = Const(k.S.VALUE, k.S.ZERO)
    tgt = k.task(target)
    k.set(tgt.uw.v, zero)
    k.zero_fpsr_fpcr(tgt.uw)


# ------------------------------------------------ arch/arm64/kvm/hyp/include/hyp/switch.h
# kvmarm-fixes-6.16-3 (Mark Rutland's "KVM: arm64: trap fixes and cleanup", applied to
# kvmarm fixes on 2025-06-19 and merged into mainline before v6.16-rc3, so in v6.16.0):
# e62dd507844f "Reorganise CPTR trap manipulation" moves __activate_cptr_traps() and
# __deactivate_cptr_traps() from {vhe,nvhe}/switch.c into hyp/switch.h, and
# 186b58bacd74 "Remove ad-hoc CPTR manipulation from kvm_hyp_handle_fpsimd()" makes the
# FP trap handler use them.  The rest of the series (debug-register ISBs, NV's CPTR
# layering, pKVM's fpsimd_sve_sync(), cpacr_clear_set()'s removal) touches no modelled
# state.  Read in v6.18.2 (gfunkmonk/linux-6.18.2 @ 062668f4d006): the same text.
def __activate_cptr_traps_v616rc3(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/hyp/include/hyp/switch.h (v6.16-rc3 on, e62dd507844f):
    __activate_cptr_traps(): __activate_traps_fpsimd32() unless the guest owns the
    registers, then VHE __activate_cptr_traps_vhe() (CPACR_EL1 = TAM|TTA, FPEN if the guest
    owns the registers, ZEN too for an SVE vcpu; SMEN never) or nVHE
    __activate_cptr_traps_nvhe() (RES1|TAM|TTA|TSM, TZ unless an SVE vcpu owns the
    registers, TFP unless the guest owns them).  The modelled bits are those of v6.14's
    __activate_traps() (`model.variants.v6.__activate_traps`), which this reuses; NV's
    layering of a guest hypervisor's CPTR_EL2 is not modelled (no nested virt)."""
    from model.variants.v6 import __activate_traps as activate_v614
    activate_v614(k, vcpu)


def __deactivate_cptr_traps_v616rc3(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/hyp/include/hyp/switch.h (v6.16-rc3 on, e62dd507844f):
    __deactivate_cptr_traps().  VHE __deactivate_cptr_traps_vhe(): CPACR_EL1 = FPEN (EL0
    and EL1), plus ZEN (EL0 *and* EL1) if the system has SVE, plus SMEN (EL0 and EL1) if
    it has SME: unlike v6.14 (FPEN | ZEN_EL1EN | SMEN_EL1EN), host EL0 SVE and SME are
    untrapped after a guest exit until the next fpsimd_bind_task_to_cpu() sets them from
    TIF_SVE/TIF_SME.  The commit message argues this is benign because vcpu load flushed the
    host state, so TIF_FOREIGN_FPSTATE forces a reload and bind before EL0 runs; the model
    checks that argument instead of assuming it.  nVHE __deactivate_cptr_traps_nvhe():
    CPTR_EL2 = RES1, TZ only without SVE, TSM only without SME (TSM is not state here),
    as in v6.14."""
    k.set_fp_trap(False)
    if k.config.vhe and k.config.sve:
        k.set(k.this_cpu.zen_el0en, True)
    if k.config.vhe and k.config.sme:
        k.set(k.this_cpu.smen_el0en, True)
    tz = k.this_cpu.cptr_tz
    if isinstance(tz, Var):
        k.set(tz, False)


def __deactivate_traps_v616rc3(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/hyp/{vhe,nvhe}/switch.c (v6.16-rc3 on): __deactivate_traps(), its FP
    part: __deactivate_cptr_traps() (now the shared one in hyp/switch.h)."""
    k.__deactivate_cptr_traps(vcpu)


def __activate_traps_v616rc3(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/hyp/{vhe,nvhe}/switch.c (v6.16-rc3 on): __activate_traps(), its FP
    part: __activate_cptr_traps() (now the shared one in hyp/switch.h)."""
    k.__activate_cptr_traps(vcpu)


def fixup_guest_exit_fp_v616rc3(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/hyp/include/hyp/switch.h (v6.16-rc3 on, 186b58bacd74):
    kvm_hyp_handle_fpsimd() for a valid FP/ASIMD (or SVE) trap: __deactivate_cptr_traps()
    instead of the ad-hoc cpacr_clear_set() (VHE: for an instant every FP, SVE and SME
    enable is set, hyp runs with IRQs masked), isb(); the host state is saved only with
    pKVM (not modelled); the guest's state is restored as in v6.14 (SVE vcpu:
    __hyp_sve_restore_guest(), else __fpsimd_restore_state()), FPMR if kvm_has_fpmr(),
    FPEXC32_EL2; fp_owner = FP_STATE_GUEST_OWNED; then __activate_cptr_traps() re-enables
    the traps the guest's state needs (the ERET synchronises).  v6.14's handler
    (`model.variants.v6.fixup_guest_exit_fp_v614`) with its first statement,
    `kvm_hyp_untrap_fp`, mapped to __deactivate_cptr_traps() in this variant, then the
    __activate_cptr_traps()."""
    from model.variants.v6 import fixup_guest_exit_fp_v614
    fixup_guest_exit_fp_v614(k, vcpu)
    k.__activate_cptr_traps(vcpu)


# --------------------------------------------------------------------- the variants
def make_v616(v614: Variant) -> Variant:
    """v6.16-rc1's host FP code on v6.14's KVM code (see the module docstring); with SME
    (Config.sme) the SME-aware versions of model/variants/v6_sme.py."""
    v = _make_v616(v614)
    return Variant(v.name, v.description, {**v.functions, **_sme_functions()}, v.parent,
                   v.options, tree=v.tree, release=v.release)


def _make_v616(v614: Variant) -> Variant:
    return v614.derive(
        "v6.16",
        "v6.16-rc1: 398edaa12f9c (#22: fpsimd_syscall_enter/exit and to_save instead of the"
        " save-time in_syscall() discard), 01098d893fa8 (#21: flush before loading the"
        " kernel-mode state), task_fpsimd_load() leaves the EL0 SVE trap to the bind;"
        " ptrace's reworked sve_set_common() (still has the bugs 128a7494a9f1 and"
        " 5cbb61bf4168 later fixed)",
        options={"new_functions": ["fpsimd_save_and_flush_current_state",
                                   "fpsimd_syscall_enter", "fpsimd_syscall_exit",
                                   "sve_set_common_mode", "sve_set_common_zero_fpsimd"],
                 # SME is configurable again (33c4618d0ac0): model/variants/v6_sme.py
                 "sme": True, "sme_refused": None,
                 "state_features": ("kernel_fpstate", "host_data_fp_owner", "fp_type",
                                    "to_save"),
                 # SVE vcpus (Config.sve_guest): v6.14's KVM SVE code (compared with
                 # v6.18.2, see `_make_v616`), with to_save FP_STATE_SVE for their binding
                 "sve_guest": True},
        tree=V616_TREE, release="v6.16-rc1",
        **v6_events.V616_FUNCTIONS,  # the optional events' v6.16 functions
        task_fpsimd_load=task_fpsimd_load_v616,
        fpsimd_save_user_state=fpsimd_save_user_state_v616,
        fpsimd_bind_task_to_cpu=fpsimd_bind_task_to_cpu_v616,
        fpsimd_bind_state_to_cpu=fpsimd_bind_state_to_cpu_v616,
        fpsimd_thread_switch_to_kernel_neon=fpsimd_thread_switch_to_kernel_neon_v616,
        fpsimd_save_and_flush_current_state=fpsimd_save_and_flush_current_state,
        fpsimd_syscall_enter=fpsimd_syscall_enter,
        fpsimd_syscall_exit=fpsimd_syscall_exit,
        el0_svc=el0_svc_v616,
        ret_to_user=ret_to_user_v616,
        sve_set=sve_set_v616,
        sve_set_common_mode=sve_set_common_mode,
        sve_set_common_zero_fpsimd=sve_set_common_zero_fpsimd)


def _sme_functions() -> dict:
    """v6.16's SME-aware functions (model/variants/v6_sme.py), with the v6.16 versions
    above as what they build without SME."""
    from model.variants import v6_sme
    return v6_sme.v616_functions()


def make_v616_rc3(v616: Variant) -> Variant:
    """v6.16-rc1 plus kvmarm-fixes-6.16-3's CPTR rework (e62dd507844f, 186b58bacd74; merged
    before v6.16-rc3, so in the v6.16.0 release): hyp's FP trap handling through the shared
    __activate_cptr_traps()/__deactivate_cptr_traps(), whose VHE form leaves host EL0 SVE
    and SME untrapped after a guest exit.  Nothing else in v6.16-rc2/-rc3 touches the
    modelled functions as far as the merges' shortlogs show (only this series in
    kvmarm-fixes-6.16-3 is FP code); no pristine v6.16.0 tree was read."""
    return v616.derive(
        "v6.16-rc3",
        "v6.16-rc1 plus e62dd507844f/186b58bacd74 (kvmarm-fixes-6.16-3, in v6.16.0): hyp's"
        " CPTR traps through the shared __activate/__deactivate_cptr_traps(); VHE's guest"
        " exit leaves host EL0 SVE and SME untrapped until the next bind",
        options={"new_functions": ["__activate_cptr_traps", "__deactivate_cptr_traps"]},
        release="v6.16-rc3",
        __activate_cptr_traps=__activate_cptr_traps_v616rc3,
        __deactivate_cptr_traps=__deactivate_cptr_traps_v616rc3,
        __activate_traps=__activate_traps_v616rc3,
        __deactivate_traps=__deactivate_traps_v616rc3,
        # kvm_hyp_handle_fpsimd()'s first statement is now __deactivate_cptr_traps()
        kvm_hyp_untrap_fp=__deactivate_cptr_traps_v616rc3,
        fixup_guest_exit_fp=fixup_guest_exit_fp_v616rc3)


def kvm_arch_vcpu_run_pid_change_v616(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/arm.c after 42ce432522a1 ("KVM: arm64: Remove
    kvm_arch_vcpu_run_map_fp()", Mark Rutland, kvmarm fixes for v6.16, 2025-07-03, so in
    v6.16.0; read in v6.18.2): kvm_arch_vcpu_run_pid_change() no longer maps current's
    FP state at hyp (nothing of the host's state is saved by hyp since #17's series).
    What is left has no FP effect: the init/finalize tests, and on the vcpu's first run
    the vgic, timer, PMU and pKVM set-up with kvm->arch.config_lock (mutexes: checked
    here at every pid change, a superset of the first runs, in the same sleepable
    context before vcpu_load())."""
    del vcpu
    k.might_sleep("first run: kvm_vgic_map_resources(), mutex_lock(&kvm->arch.config_lock)")


def make_v616_ptrace_fixes(v616: Variant) -> Variant:
    """v6.16 (with the CPTR rework of v6.16-rc3, `make_v616_rc3`) plus the two later fixes
    of sve_set_common() (not a release: 128a7494a9f1 is in v6.19 and 6.18.y, 5cbb61bf4168
    in 7.0.y), so that the rest of v6.16 can be checked with a tracer: the most fixed
    kernel the model has.  It also has v6.16.0's removal of kvm_arch_vcpu_run_map_fp()
    (42ce432522a1, after v6.16-rc3: `kvm_arch_vcpu_run_pid_change_v616`)."""
    return v616.derive(
        "v6.16-ptrace-fixes",
        "v6.16-rc3 plus 128a7494a9f1 (ptrace sets TIF_SVE on !SME systems) and 5cbb61bf4168"
        " (ptrace zeroes the tracee's, not the tracer's, uw.fpsimd_state), and v6.16.0's"
        " 42ce432522a1 (no kvm_arch_vcpu_run_map_fp())",
        kvm_arch_vcpu_run_pid_change=kvm_arch_vcpu_run_pid_change_v616,
        sve_set_common_mode=sve_set_common_mode_fixed,
        sve_set_common_zero_fpsimd=sve_set_common_zero_fpsimd_fixed)
