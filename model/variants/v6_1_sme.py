"""SME (``--sme``, Config.sme) on v6.1: the v6.1 text of the SME paths, before thread.fp_type.

Read in krr-io/linux-6.1.0 @ 2a410d07ec5e (6.1.0-rc7; SME merged in v5.19): arch/arm64/kernel/
fpsimd.c (task_fpsimd_load, fpsimd_save, fpsimd_bind_task_to_cpu, fpsimd_bind_state_to_cpu,
fpsimd_flush_cpu_state, kernel_neon_begin, fpsimd_thread_switch, do_sme_acc, sme_alloc,
vec_set_vector_length, fpsimd_flush_thread, fpsimd_signal_preserve_current_state,
sve_sync_to_fpsimd, sve_sync_from_fpsimd_zeropad), arch/arm64/kernel/syscall.c
(fp_user_discard), arch/arm64/kernel/signal.c (preserve_sve_context, preserve_za_context,
restore_sve_fpsimd_context, restore_za_context, setup_return), arch/arm64/kernel/process.c
(arch_dup_task_struct), arch/arm64/kvm/fpsimd.c (kvm_arch_vcpu_load_fp/ctxsync/put_fp) and
the hyp switch code (vhe/switch.c __activate_traps: SMEN cleared as in v6.8; nvhe/switch.c
CPTR_EL2.TSM; hyp/switch.h only adds the SME fine-grained traps HFGxTR nSMPRI/nTPIDR2, no FP
state).

What v6.1 differs in from the v6.8-v6.10 SME model (model/variants/v6_sme.py), and so has
its own functions here:

* no thread.fp_type: the format of a task's saved state is TIF_SVE || thread.svcr.SM.
  task_fpsimd_load() loads sve_state iff TIF_SVE or the task's saved SVCR.SM
  (`task_fpsimd_load_sme_v61`); fpsimd_save() saves SVE-format iff current's TIF_SVE or
  the live SVCR.SM, through ``last`` (`fpsimd_save_sme_v61`); the ZA of a bound vcpu
  (ctxsync passes za_state NULL and sme_vl 0 in v6.1) is an oops, its streaming save a
  VL-check WARN (last->sme_vl 0);
* the FPSIMD context is the busy flag (do_sme_acc()'s locked part: `do_sme_acc_locked_v61`,
  the same statements as v6.10's: #14's missing flush is there);
* fp_user_discard() leaves streaming mode only if TIF_SME is set (and SVCR.SM), then (with
  SVE) clears TIF_SVE and disables EL0 SVE (`el0_svc_sme_v61`);
* vec_set_vector_length() clears SVCR.SM/ZA and TIF_SME only for ARM64_VEC_SME (and
  TIF_SME with clear_thread_flag(): current's), frees sve_state whatever SVCR.SM says
  (`vec_set_vector_length_v61`);
* signal delivery: fpsimd_signal_preserve_current_state() converts sve_state to
  uw.fpsimd_state only if TIF_SVE (2018's text), preserve_sve_context() takes the
  register payload iff SVCR.SM or TIF_SVE (`preserve_sve_context_v61`); setup_return(),
  restore_sve_fpsimd_context(), restore_za_context(), preserve_za_context() have v6.8's
  statements (without fp_type: the v6.8 functions, whose fp_type statements do nothing on
  v6.1's layout);
* ptrace fpr_set(): sve_sync_to_fpsimd() converts if TIF_SVE or SVCR.SM, but
  sve_sync_from_fpsimd_zeropad() merges only if TIF_SVE (`sve_sync_to_fpsimd_v61`; the
  zeropad is 2018's).

The same in v6.1 as in v6.8-v6.10 (compared statement by statement; shared):
fpsimd_bind_task_to_cpu (SMEN_EL0EN from TIF_SME, ZEN_EL0EN from TIF_SVE),
fpsimd_flush_cpu_state (sme_smstop()), the SME block of task_fpsimd_load (sme_set_vq if
TIF_SME, SVCR write, ZA load: `model.variants.v6_sme._sme_load_part`), do_sme_acc()'s
allocations (sve_alloc(current, false), sme_alloc(): v6.1's always zeroes za_state),
KVM's SME blocks of kvm_arch_vcpu_load_fp/put_fp (HOST_SME_ENABLED; save and flush if SVCR
has SM or ZA), fork's arch_dup_task_struct() SME statements, exec's fpsimd_flush_thread()
SME statements, user SMSTART/SMSTOP/ZA/streaming writes, kernel-mode NEON's streaming
check.

* ptrace (arch/arm64/kernel/ptrace.c, read in v6.1 and compared with v6.8.0): NT_ARM_SVE /
  NT_ARM_SSVE full-data writes (`sve_set_sme_v61`, `ssve_set_v61`): the streaming block
  sets or clears thread.svcr.SM (sve_state zeroed if it changed) but neither allocates
  sme_state nor sets TIF_SME (5d0a8d2fba50 "arm64/ptrace: Ensure that SME is set up for
  target when writing SSVE state", v6.5 cycle, added both for NT_ARM_SSVE), and
  TIF_SVE is set for NT_ARM_SSVE too ("Always enable SVE even if going into streaming
  mode"); NT_ARM_ZA (`za_set_v61`): sme_alloc() always zeroes za_state before the data.
  The payload-kind and header-VL events (ptrace_sve_fpsimd, ptrace_sve_nodata,
  ptrace_sve_vl) run v6.1's sve_set_common() (`sve_set_common_v61`, with and without
  SME): its FPSIMD case clears TIF_SVE and, for NT_ARM_SSVE, copies the new V into
  sve_state (fpsimd_force_sync_to_sve(), `fpsimd_force_sync_to_sve_v61`) instead of
  v6.8's fp_type FP_STATE_FPSIMD; with --sme they need --sve (`check_config`).

Not modelled: --fpmr (v6.1 has no FPMR).  On an SME-only system (no --sve) v6.1's
NT_ARM_SSVE write sets TIF_SVE too, after which task_fpsimd_load() would call
sve_set_vq() (a ZCR_EL1 write) on a CPU without SVE; the model has no TIF_SVE without
--sve, so the tracer events (ptrace_fpr_set) with --sme need --sve on v6.1
(`check_config`); that ZCR_EL1 write is read in the code only, not checked.
"""

from __future__ import annotations

from model.ctx import Ctx
from model.dsl import Const, Var
from model.kernel import fpsimd as fpsimd_2018
from model.kernel import signal as signal_2018
from model.kernel.signal import put_record_vl
from model.variants import v6, v6_ptrace, v6_sme
from model.variants.v6_events import copy_sve_record_out


def _zero(k: Ctx) -> Const:
    return Const(k.S.VALUE, k.S.ZERO)


# ------------------------------------------------------------ arch/arm64/kernel/fpsimd.c
def task_fpsimd_load_sme_v61(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v5.19-v6.1, read in v6.1): task_fpsimd_load() with SME.
    WARN_ON(!have_cpu_fpsimd_context()); if TIF_SVE: sve_set_vq() at the task's SVE VL (on
    nVHE first the ZCR_EL1 access's trap, `model.variants.v6.sve_host_insn`) and
    restore_sve_regs; then the SME block (`model.variants.v6_sme._sme_load_part`:
    sme_set_vq() if TIF_SME, write_sysreg_s(thread.svcr, SVCR) with its architectural
    effect, za_load_state() if thread.svcr.ZA), and if thread_sm_enabled() restore_sve_regs
    (FFR only with FA64: the P slice); then sve_load_state(sve_pffr(), &uw.fpsr) if
    restore_sve_regs, else fpsimd_load_state(&uw.fpsimd_state).  No fp_type: TIF_SVE and
    the saved SVCR.SM say the format.  EL0 traps are left to the bind that follows."""
    k.check(k.have_cpu_fpsimd_context(), "WARN", "task_fpsimd_load",
            "WARN_ON(!have_cpu_fpsimd_context())")
    t = k.cur
    sve = k.false
    if k.config.sve and t.mm:
        sve = k.test_thread_flag("TIF_SVE")
        with k.If(sve):
            k.sve_host_insn()
            if isinstance(k.this_cpu.zcr, Var):
                k.set(k.this_cpu.zcr, t.sve_vl)  # sve_set_vq(task's VQ - 1)
    restore_sve = k.let("restore_sve_regs", sve | t.svcr_sm.eq(1))
    v6_sme._sme_load_part(k)
    with k.If(restore_sve.eq(1)):
        k.sve_load_state(t.sve_state, t.uw)
    with k.Else():
        k.fpsimd_load_state(t.uw)


def fpsimd_save_sme_v61(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v5.19-v6.1, read in v6.1): fpsimd_save() with SME.
    last = this CPU's fpsimd_last_state; WARN_ON(!have_cpu_fpsimd_context()); return if
    TIF_FOREIGN_FPSTATE; save_sve_regs = current's TIF_SVE (vl = last->sve_vl); then
    *last->svcr = SVCR; if SVCR.ZA za_save_state(last->za_state); if SVCR.SM, save_sve_regs
    with vl = last->sme_vl (FFR only with FA64); if save_sve_regs: the VL check against
    RDVL (`model.variants.v6_sme.sme_vl_check`: WARN, SIGKILL, no register save) and
    sve_save_state(last->sve_state, &last->st->fpsr); else fpsimd_save_state(last->st).

    ``last`` is the binding (last->st): a task's (fpsimd_bind_task_to_cpu(): its
    sve_state, za_state, VLs and &thread.svcr) or a vcpu's bound by ctxsync (v6.1:
    fpsimd_bind_state_to_cpu(&fp_regs, sve_state, sve_max_vl, NULL, 0, &vcpu->arch.svcr)):
    a vcpu binding with SVCR.ZA is za_save_state(NULL) (an oops, a BUG); with SVCR.SM the
    VL check compares RDVL with last->sme_vl = 0 (WARN, SIGKILL of the VMM thread, the
    guest's state not saved); otherwise as without SME (model/variants/v6_1.py
    `fpsimd_save`)."""
    k.check(k.have_cpu_fpsimd_context(), "WARN", "fpsimd_save",
            "WARN_ON(!have_cpu_fpsimd_context())")
    cpu = k.this_cpu
    st = cpu.last_st
    with k.If(~k.test_thread_flag("TIF_FOREIGN_FPSTATE")):
        if not k.cur.mm:
            k.store_through(st, k.fpsimd_save_state)
            return
        tif_sve = k.test_thread_flag("TIF_SVE") if k.config.sve else k.false
        sve = k.let("save_sve_regs", tif_sve | cpu.sm.eq(1))
        for t in k.S.tasks:
            if not t.mm:
                continue
            mine = st.eq(k.S.task_fpstate(t.index))
            with k.If(mine):
                k.set(t.svcr_sm, cpu.sm)  # *last->svcr = read_sysreg_s(SYS_SVCR)
                k.set(t.svcr_za, cpu.za_on)
                with k.If(cpu.za_on.eq(1)):
                    k.set(t.sme_state, cpu.za)  # za_save_state(last->za_state)
                with k.If(sve.eq(1)):
                    with k.If(v6_sme.sme_vl_check(k, t.sve_vl, t.sme_vl, "fpsimd_save")):
                        k.sve_save_state(t.sve_state, t.uw)
                with k.Else():
                    k.fpsimd_save_state(t.uw)
        for v in k.S.vcpus:
            mine = st.eq(k.S.vcpu_fpstate(v.index))
            k.check(~(mine & cpu.za_on.eq(1)), "BUG", "NULL dereference",
                    "za_save_state(last->za_state) with a vcpu bound (ctxsync's za_state is"
                    " NULL)")
            k.check(~(mine & cpu.sm.eq(1)), "WARN", "fpsimd_save",
                    "WARN_ON(sve_get_vl() != vl): streaming save with a vcpu bound"
                    " (last->sme_vl 0): SIGKILL, state not saved")
            with k.If(~cpu.sm.eq(1)):
                v6.save_vcpu_binding_v61(k, v, mine, tif_sve)
        k.check(st.ne("NULL"), "BUG", "NULL dereference", "FP save/restore through NULL")


def do_sme_acc_locked_v61(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v5.19-v6.1, read in v6.1): do_sme_acc() after
    sve_alloc(current, false) and sme_alloc(current): get_cpu_fpsimd_context() (the busy
    flag, bottom halves off); if test_and_set_thread_flag(TIF_SME) WARN_ON(1); if
    TIF_FOREIGN_FPSTATE is clear: sme_set_vq() at the task's SVL and
    fpsimd_bind_task_to_cpu() (EL0 SME enabled); otherwise nothing (as v6.10-v6.15: the
    task's state may stay bound to another CPU, #14, fixed by d3eaab3c7090 in v6.16);
    put_cpu_fpsimd_context()."""
    k.get_cpu_fpsimd_context()
    v6_sme.do_sme_acc_in_context(k)
    k.put_cpu_fpsimd_context()
    k.goto("KERNEL")


# ------------------------------------------------------------ arch/arm64/kernel/syscall.c
def el0_svc_sme_v61(k: Ctx) -> None:
    """arch/arm64/kernel/entry-common.c (v6.1): el0_svc() -> syscall.c do_el0_svc():
    fp_user_discard() with DAIF masked since the exception entry: if system_supports_sme()
    and TIF_SME, read SVCR and, if SM is set, sme_smstop_sm() (ZA kept); then, with SVE,
    clear_thread_flag(TIF_SVE) and sve_user_disable(); then el0_svc_common()'s
    local_daif_restore(DAIF_PROCCTX).  The SME syscall ABI (Documentation/arm64/sme.rst in
    v6.1: "On syscall PSTATE.SM will be cleared", ZA preserved) is the ghost
    `model.variants.v6_sme.sme_syscall_abi`, taken at the SVC; the SVE ABI's ghosts as
    without SME (model/variants/v6_1.py `el0_svc`)."""
    t = k.cur
    if t.mm:
        k.set(k.this_cpu.irqs_disabled, True)  # DAIF masked since the exception entry
        k.sme_syscall_abi()
        with k.If(k.test_thread_flag("TIF_SME") & k.this_cpu.sm.eq(1)):
            k.sme_smstop_sm()
        if k.config.sve:
            k.clear_thread_flag("TIF_SVE")
            k.set(k.this_cpu.zen_el0en, False)  # sve_user_disable()
            k.set(t.zhi_expected, 0)
            k.set(t.p_written, 0)
        k.set(k.this_cpu.irqs_disabled, False)  # el0_svc_common(): local_daif_restore()
    v6.syscall_entry_bookkeeping(k)
    k.goto("KERNEL")


# ------------------------------------------------------------ vec_set_vector_length()
def vec_set_vector_length_v61(k: Ctx, t: int, kind: str, vl: int) -> None:
    """arch/arm64/kernel/fpsimd.c (v5.19-v6.1, read in v6.1): vec_set_vector_length(task,
    type, vl, 0) with SME, ``kind`` "SVE" (PR_SVE_SET_VL) or "SME" (PR_SME_SET_VL), ``vl``
    a supported length (flags 0: ONEXEC/INHERIT not modelled).  If it is the task's VL of
    that kind: nothing.  Else: for task == current, get_cpu_fpsimd_context() and
    fpsimd_save(); fpsimd_flush_task_state(task); if test_and_clear TIF_SVE or
    thread_sm_enabled(): sve_to_fpsimd(task); if system_supports_sme() and type is SME:
    thread.svcr &= ~(SM | ZA) and clear_thread_flag(TIF_SME): *current's* flag, which for
    a tracer's NT_ARM_ZA/NT_ARM_SSVE write at another VL is the tracer's, not the
    tracee's (c9bb40b7f786 "arm64/fpsimd: Clear SME state in the target task when setting
    the VL", Mark Brown, 2023-08, v6.5 cycle, Fixes e12310a0d30f; its 6.1-stable review
    posting "[PATCH 6.1 091/127]" is in the index: clear_tsk_thread_flag(task, TIF_SME));
    put the context (current);
    sve_free(task) (sve_state NULL: zero in the model; whatever SVCR.SM says, which an SVE
    VL change leaves as it is); for SME sme_free(task); task_set_vl()."""
    task = k.task(t)
    cur_vl = task.sme_vl if kind == "SME" else task.sve_vl
    if not isinstance(cur_vl, Var):
        return
    with k.If(cur_vl.ne(vl)):
        if t == k.current:
            k.get_cpu_fpsimd_context()
            k.fpsimd_save()
        k.fpsimd_flush_task_state(t)
        was_sve = k.let("tif_sve", k.test_tsk_thread_flag(t, "TIF_SVE"))
        k.update_tsk_thread_flag(t, "TIF_SVE", False)
        with k.If(was_sve.eq(1) | task.svcr_sm.eq(1)):
            k.sve_to_fpsimd(t)
        if kind == "SME":
            k.set(task.svcr_sm, False)
            k.set(task.svcr_za, False)
            k.clear_thread_flag("TIF_SME")
        if t == k.current:
            k.put_cpu_fpsimd_context()
        k.sve_free(t)
        if kind == "SME":
            k.set(task.sme_state, _zero(k))  # sme_free()
        k.set(cur_vl, vl)
        v6_sme._vl_change_ghost_sme(k, t, kind == "SME", sm_cleared=True)


def sve_set_vector_length_sme_v61(k: Ctx, t: int, vl: int) -> None:
    """PR_SVE_SET_VL on a system with SME (v6.1): `vec_set_vector_length_v61` with
    ARM64_VEC_SVE."""
    vec_set_vector_length_v61(k, t, "SVE", vl)


def sme_set_vector_length_v61(k: Ctx, t: int, vl: int) -> None:
    """PR_SME_SET_VL (v6.1): `vec_set_vector_length_v61` with ARM64_VEC_SME."""
    vec_set_vector_length_v61(k, t, "SME", vl)


# ------------------------------------------------------------ signals and ptrace
def preserve_sve_context_v61(k: Ctx) -> None:
    """arch/arm64/kernel/signal.c (v5.19-v6.1, read in v6.1): preserve_sve_context(ctx)
    with SME: vl = the task's SVE VL; if thread_sm_enabled(): vl = its SME VL, vq from it,
    flags = SVE_SIG_FLAG_SM; else if TIF_SVE, vq from vl; else vq = 0; the header; if vq,
    current's sve_state is copied into the record (the caller saved the registers first).
    Without SME, 2018's text (`model.kernel.signal.preserve_sve_context`)."""
    if not k.config.sme:
        signal_2018.preserve_sve_context(k)
        return
    t = k.cur
    sm = k.let("sm", t.svcr_sm.eq(1))
    k.set(t.sigframe_sm, sm)
    tif_sve = k.test_thread_flag("TIF_SVE") if k.config.sve else k.false
    sve = k.let("vq", sm | tif_sve)
    k.set(t.sigframe_sve, sve)
    put_record_vl(k, sm)
    copy_sve_record_out(k, sve)


def fpsimd_signal_preserve_current_state_v61(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v5.19-v6.1, read in v6.1):
    fpsimd_signal_preserve_current_state(): fpsimd_preserve_current_state(); if TIF_SVE,
    sve_to_fpsimd(current).  With SME too the test is TIF_SVE alone: a streaming-mode
    save (SVE format in sve_state, TIF_SVE possibly clear) is not converted, so
    uw.fpsimd_state (the frame's fpsimd_context) keeps what it held before.  2018's text
    (`model.kernel.fpsimd.fpsimd_signal_preserve_current_state`)."""
    k.fpsimd_preserve_current_state()
    if k.config.sve:
        with k.If(k.test_thread_flag("TIF_SVE")):
            k.sve_to_fpsimd()


def sve_sync_to_fpsimd_v61(k: Ctx, t: int) -> None:
    """arch/arm64/kernel/fpsimd.c (v5.19-v6.1, read in v6.1): sve_sync_to_fpsimd(task)
    (ptrace, task stopped): if TIF_SVE or thread_sm_enabled(), sve_to_fpsimd(task).
    Without SME 2018's text."""
    if not k.config.sme:
        fpsimd_2018.sve_sync_to_fpsimd(k, t)
        return
    tif_sve = k.test_tsk_thread_flag(t, "TIF_SVE") if k.config.sve else k.false
    with k.If(tif_sve | k.task(t).svcr_sm.eq(1)):
        k.sve_to_fpsimd(t)


def sve_sync_from_fpsimd_zeropad_v61(k: Ctx, t: int) -> None:
    """arch/arm64/kernel/fpsimd.c (v5.19-v6.1, read in v6.1): sve_sync_from_fpsimd_zeropad(
    task): if !TIF_SVE return (thread.svcr.SM is not tested: a streaming task without
    TIF_SVE keeps its sve_state as it was); else memset sve_state to zero and copy
    uw.fpsimd_state.vregs into the low 128 bits of each Z.  2018's statements, which the
    model's `model.kernel.fpsimd.sve_sync_from_fpsimd_zeropad` has only with SVE; on an
    SME-only system TIF_SVE is never set, so nothing."""
    if k.config.sve:
        fpsimd_2018.sve_sync_from_fpsimd_zeropad(k, t)


def _sve_set_common_streaming_v61(k: Ctx, target: int, sme: bool) -> None:
    """The "Enter/exit streaming mode" block of sve_set_common() (v5.19-v6.4, read in
    v6.1), if system_supports_sme(): old_svcr = target->thread.svcr; NT_ARM_SVE clears
    SVCR.SM, NT_ARM_SSVE sets it (no sme_alloc(), no TIF_SME: 5d0a8d2fba50 added them,
    v6.5 cycle); if svcr changed, sve_alloc(target, true) (sve_state zeroed)."""
    tgt = k.task(target)
    new = 1 if sme else 0
    changed = k.let("svcr_changed", tgt.svcr_sm.ne(new))
    k.set(tgt.svcr_sm, new)
    with k.If(changed):
        k.sve_alloc(target)


def sve_set_sme_v61(k: Ctx, target: int) -> None:
    """arch/arm64/kernel/ptrace.c (v5.19-v6.1, read in v6.1): sve_set() -> sve_set_common(
    ARM64_VEC_SVE) for NT_ARM_SVE with SME, full SVE data at the tracee's VL: the streaming
    block (`_sve_set_common_streaming_v61`: SVCR.SM cleared); then sve_alloc(target, true),
    fpsimd_sync_to_sve() (TIF_SVE || SM: SM is now clear, so 2018's TIF_SVE test is the
    same), set TIF_SVE, the copyin, fpsimd_flush_task_state() (2018's statements,
    `model.kernel.fpsimd.sve_set`).  Ghost: the tracee runs with SM clear."""
    _sve_set_common_streaming_v61(k, target, sme=False)
    fpsimd_2018.sve_set(k, target)
    v6_ptrace.tracer_sm_ghost(k, target, 0)


def ssve_set_v61(k: Ctx, target: int) -> None:
    """arch/arm64/kernel/ptrace.c (v5.19-v6.1, read in v6.1): ssve_set() -> sve_set_common(
    ARM64_VEC_SME) for NT_ARM_SSVE, full SVE-format data at the tracee's SVL: the
    streaming block (`_sve_set_common_streaming_v61`: SVCR.SM set, sve_state zeroed if SM
    was clear; TIF_SME left as it is); sve_alloc(target, true); fpsimd_sync_to_sve() does
    nothing (thread_sm_enabled()); set_tsk_thread_flag(target, TIF_SVE) ("Always enable
    SVE even if going into streaming mode"; with --sve only: see the module docstring);
    the copyin (`model.variants.v6_ptrace._tracer_regs_write`);
    fpsimd_flush_task_state(target).  Ghost: the tracee runs in streaming mode."""
    _sve_set_common_streaming_v61(k, target, sme=True)
    k.sve_alloc(target)
    if k.config.sve:
        k.update_tsk_thread_flag(target, "TIF_SVE", True)
    v6_ptrace._tracer_regs_write(k, target)
    k.fpsimd_flush_task_state(target)
    v6_ptrace.tracer_sm_ghost(k, target, 1)


def fpsimd_force_sync_to_sve_v61(k: Ctx, t: int) -> None:
    """arch/arm64/kernel/fpsimd.c (v5.19-v6.1, read in v6.1): fpsimd_force_sync_to_sve(task)
    (ptrace only, task stopped): fpsimd_to_sve(task), whatever TIF_SVE and SVCR.SM say:
    V0-V31 from uw.fpsimd_state into the low 128 bits of each Z in sve_state, the bits
    above 127 and P/FFR left as they are.  (v6.1's fpsimd_to_sve() returns at once
    without system_supports_sve(); the model takes the payload events with --sme only
    together with --sve, `check_config`.)  baa8515281b3 (v6.2) replaced its one caller,
    sve_set_common()'s FPSIMD case, by fp_type = FP_STATE_FPSIMD; 61db0e0ba398 (v6.16)
    removed the function."""
    k.fpsimd_to_sve(t)


def sve_set_common_v61(k: Ctx, target: int, sme: bool, payload: str = "sve",
                       vl: int | None = None) -> None:
    """arch/arm64/kernel/ptrace.c (v6.1, read in krr-io/linux-6.1.0 and compared statement
    by statement with v6.8.0's, `model.variants.v6_ptrace.sve_set_common_v68`):
    sve_set_common(target, ..., type) for NT_ARM_SVE (``sme`` False, ARM64_VEC_SVE) or
    NT_ARM_SSVE (``sme`` True, ARM64_VEC_SME) on a stopped tracee (target != current),
    with payload kind ``payload`` (`model.variants.v6_ptrace.PAYLOADS`) and header VL
    ``vl`` (None: the tracee's).

    The same order as v6.8's: vec_set_vector_length() (v6.1's: `sve_set_vector_length`
    or, with SME, `vec_set_vector_length_v61`, which clears *current's* TIF_SME for
    ARM64_VEC_SME), the "Enter/exit streaming mode" block if system_supports_sme(), the
    FPSIMD-only case, the no-data/full-SVE case, fpsimd_flush_task_state(target) at
    ``out``.  Where v6.1 differs from v6.8:

    * the streaming block (`_sve_set_common_streaming_v61`) neither sme_alloc()s nor sets
      TIF_SME for ARM64_VEC_SME (5d0a8d2fba50, v6.5 cycle, added both);
    * FPSIMD-only case: __fpr_set(target) (v6.1's sve_sync_to_fpsimd(): TIF_SVE or
      SVCR.SM, `sve_sync_to_fpsimd_v61`; the whole user_fpsimd_state copied in, a new
      generation of V and FPSR/FPCR: `model.kernel.ptrace.__fpr_set`), clear TIF_SVE, and
      for ARM64_VEC_SME fpsimd_force_sync_to_sve(target) (`fpsimd_force_sync_to_sve_v61`:
      the new V into sve_state, its bits above 127 and P/FFR kept: zero if the block just
      entered streaming mode, the tracee's saved streaming values if it was already
      streaming).  No fp_type: the tracee's next task_fpsimd_load() takes the SVE format
      from thread.svcr.SM (`task_fpsimd_load_sme_v61`), so it reloads sve_state, where
      v6.8-v6.15 (fp_type FP_STATE_FPSIMD) load only V/FPSR/FPCR;
    * no-data/full-SVE case: sve_alloc(target, true) (zeroed); fpsimd_sync_to_sve(target)
      (fpsimd_to_sve() unless TIF_SVE or thread_sm_enabled(): the block has cleared SM for
      NT_ARM_SVE, so the model's TIF_SVE-only `fpsimd_sync_to_sve` is the same; for
      NT_ARM_SSVE SM is set and it does nothing, so it is not called); TIF_SVE set for
      both types ("Always enable SVE even if going into streaming mode"; 045aecdfcb2e,
      v6.5 cycle, made it ARM64_VEC_SVE only; with --sve only: `check_config`); no fp_type;
      with data the copyin (`model.variants.v6_ptrace._tracer_regs_write`).

    Not modelled, as for v6.8: -ENOMEM (the allocation failure path clears TIF_SVE), -EIO
    (data at a VL the system does not give), partial payloads, the WARN_ON_ONCE default
    of the type switch (unreachable).
    Ghosts: the tracee runs with PSTATE.SM as the regset says
    (`model.variants.v6_ptrace.tracer_sm_ghost`); a header without data: v6.8-v6.15's
    (`model.variants.v6_ptrace._nodata_ghost_v68`), whose sources say the same in v6.1
    (Documentation/arm64/sve.rst: "only the vector length and flags are changed (along
    with any consequences of those changes)", and the NT_ARM_SVE/NT_ARM_SSVE mode rule;
    sme.rst section 3: a mode switch through ptrace without register content zeroes
    everything), so P/FFR must read zero exactly where the write changes the mode
    (P_ZERO), as on v6.8-v6.15 (tests/model/test_p_zero.py)."""
    tgt = k.task(target)
    sm_before = (k.let("sm_before", tgt.svcr_sm.eq(1))
                 if payload == "nodata" and k.config.sme else None)
    v6_ptrace._vec_set_vector_length(k, target, sme, vl)
    if k.config.sme:
        _sve_set_common_streaming_v61(k, target, sme)
    if payload == "fpsimd":
        k.__fpr_set(target)
        k.update_tsk_thread_flag(target, "TIF_SVE", False)
        if sme:
            k.fpsimd_force_sync_to_sve(target)
        k.fpsimd_flush_task_state(target)
        v6_ptrace.tracer_sm_ghost(k, target, 1 if sme else 0)
        return
    k.sve_alloc(target)
    if not sme:
        k.fpsimd_sync_to_sve(target)
    if k.config.sve:
        k.update_tsk_thread_flag(target, "TIF_SVE", True)
    if payload == "sve":
        v6_ptrace._tracer_regs_write(k, target)
    k.fpsimd_flush_task_state(target)
    v6_ptrace.tracer_sm_ghost(k, target, 1 if sme else 0)
    if payload == "nodata":
        v6_ptrace._nodata_ghost_v68(k, target, sme, sm_before)


def za_set_v61(k: Ctx, target: int, data: bool = True) -> None:
    """arch/arm64/kernel/ptrace.c (v5.19-v6.4, read in v6.1): za_set() for NT_ARM_ZA at the
    tracee's SVL: vec_set_vector_length() (same VL: nothing); sve_alloc(target, false) if
    there is no sve_state (nothing the model reads); sme_alloc(target): za_state zeroed
    whatever SVCR.ZA says (v6.8 keeps it when ZA is on, 5d0a8d2fba50); no data: clear
    SVCR.ZA; data: the copyin, TIF_SME and SVCR.ZA set; fpsimd_flush_task_state(target).
    The rest is v6.8's `model.variants.v6_ptrace.za_set` (whose own zeroing only when
    SVCR.ZA is clear then changes nothing)."""
    k.set(k.task(target).sme_state, _zero(k))  # sme_alloc(target): memset
    v6_ptrace.za_set(k, target, data)


def za_set_at_vl_v61(k: Ctx, target: int, vl: int) -> None:
    """arch/arm64/kernel/ptrace.c (v5.19-v6.1): za_set() with ZA data and header.vl =
    ``vl``: vec_set_vector_length(target, ARM64_VEC_SME, vl) (v6.1's: it clears the
    *tracer's* TIF_SME, `vec_set_vector_length_v61`), then the write (`za_set_v61`)."""
    k.sme_set_vector_length(target, vl)
    za_set_v61(k, target, data=True)


# ------------------------------------------------------------ arch/arm64/kvm/fpsimd.c
def kvm_sme_load_block_v61(k: Ctx, vcpu: int) -> None:
    """The SME block at the end of kvm_arch_vcpu_load_fp() (arch/arm64/kvm/fpsimd.c,
    v5.19-v6.1, read in v6.1): the same statements as v6.8-v6.13's
    (`model.variants.v6_sme.kvm_arch_vcpu_load_fp_sme`: HOST_SME_ENABLED, and with SVCR.SM
    or SVCR.ZA set fp_state = FP_STATE_FREE and fpsimd_save_and_flush_cpu_state())."""
    if k.config.sme:
        k.kvm_arch_vcpu_load_fp_sme(vcpu)


def kvm_sme_put_block_v61(k: Ctx, vcpu: int) -> None:
    """The SME block first in kvm_arch_vcpu_put_fp() after local_irq_save() (v5.19-v6.1,
    read in v6.1): with VHE, SMEN_EL0EN restored from HOST_SME_ENABLED (the same statements
    as `model.variants.v6_sme.kvm_arch_vcpu_put_fp_sme`)."""
    if k.config.sme:
        k.kvm_arch_vcpu_put_fp_sme(vcpu)


def check_config(variant, config) -> str | None:  # noqa: ANN001
    """Why ``config`` with SME is outside what v6.1 models (None if it is not)."""
    if not config.sme:
        return None
    needs_sve = [e for e in config.events if e == "ptrace_fpr_set" or e in v6.PTRACE_SVE_EVENTS]
    if needs_sve and not config.sve:
        # Every NT_ARM_SSVE write sets TIF_SVE; sve_set_common()'s FPSIMD case also runs
        # fpsimd_force_sync_to_sve(), i.e. fpsimd_to_sve(), a no-op in v6.1 without
        # system_supports_sve() (the model's copies whenever SVE or SME is on).
        why = (f"variant {variant.name}: event {needs_sve[0]} with --sme needs --sve on v6.1:"
               " its NT_ARM_SSVE write sets TIF_SVE even on a system without SVE, a flag the"
               " model keeps only with --sve")
        if needs_sve[0] != "ptrace_fpr_set":
            why += ", and v6.1's fpsimd_to_sve()/sve_to_fpsimd() do nothing without SVE"
        return why
    if config.fpmr:
        return f"variant {variant.name}: --fpmr: v6.1 has no FPMR support (v6.9 added it)"
    return None


__all__ = ["check_config", "do_sme_acc_locked_v61",
           "el0_svc_sme_v61", "fpsimd_save_sme_v61",
           "fpsimd_signal_preserve_current_state_v61", "kvm_sme_load_block_v61",
           "kvm_sme_put_block_v61", "preserve_sve_context_v61", "sme_set_vector_length_v61",
           "fpsimd_force_sync_to_sve_v61", "sve_set_common_v61",
           "sve_set_vector_length_sme_v61", "sve_sync_from_fpsimd_zeropad_v61",
           "sve_sync_to_fpsimd_v61", "task_fpsimd_load_sme_v61", "vec_set_vector_length_v61"]
