"""arch/arm64/kernel/signal.c: signal delivery and rt_sigreturn, for the optional event
``signal``.

The FP parts are the same at v4.17 and v4.18 (read: SaumyaSachdev/linux-4.17
4b4a148ccf12, c4pt000/ps4-4.18-rc7-experimental 68960d82b35a; the diff touches only the
frame layout's ``add_all`` and minsigstksz); the seed's base is taken to be the same.

The frame is user memory (model.state.TaskVars.sigframe): fpsimd_context (V, FPSR/FPCR)
and, when the system has SVE, an sve_context record that carries register data (Z bits
above 127, P/FFR; its copy of V duplicates fpsimd_context's and is not a separate slot)
only if the task had TIF_SVE at delivery.  One signal at a time: a task runs at most one
handler (``in_handler``); nested delivery is not modelled.

What no_loss/no_leak mean across a signal (properties/fp.py):
* delivery: while the frame is fresh (the task has not written FP since), the handler
  reads in it exactly its interrupted registers (its latest V/FPSR and, with SVE data,
  Z-high and defined P/FFR); the frame never holds another context's bits;
* the handler runs on the interrupted registers (arm64 does not reset them): the usual
  register properties apply;
* sigreturn: the handler may have edited the frame, so whatever the frame holds when the
  handler calls rt_sigreturn is a *new generation* of the task's state (ghost monitor in
  `sys_rt_sigreturn`), and after sigreturn the task must read exactly it: V/FPSR from
  fpsimd_context and, if the SVE record carries data, Z-high and P/FFR from it; else its
  Z bits above 127 read zero and P/FFR are unspecified (sve.txt section 5).
With SME (v6 variants only) the frame also has sve_context's SVE_SIG_FLAG_SM and
za_context's ZA data, and setup_return() makes the handler run with SM and ZA clear
(model/variants/v6_events.py).
A handler may change its vector lengths (events sve_set_vl / sme_set_vl with several
lengths of the kind: `Layout.sigreturn_can_fail`): the frame's records carry the VLs of
the delivery (TaskVars.sigframe_vl / sigframe_svl), and rt_sigreturn fails if a record's VL
is not the task's then (read in signal.c of v4.18, v6.1-rc7, v6.10.0, v6.14.0 and
v6.18.2, the same tests in each): restore_sve_fpsimd_context() compares sve_context.vl
with task_get_sme_vl() for a streaming record (SVE_SIG_FLAG_SM) or task_get_sve_vl()
else, restore_za_context() za_context.vl with task_get_sme_vl(); each returns -EINVAL
before its first statement with an FP effect, restore_sigframe() stops at the first
error, and sys_rt_sigreturn() goes to badframe: arm64_notify_segfault() forces SIGSEGV.
What has changed by then depends on the version and on which record fails
(`restore_sigframe`, `model.variants.v6_events.restore_sigframe_v616`).  The task then
dies of the SIGSEGV on its way back to user space (`arm64_notify_segfault`,
`sigsegv_exit`); its FP state never runs again, so no property expects anything of it.
Abstractions: the SIGSEGV takes its default action (a core dump, whose regset reads are
not modelled, then do_group_exit()); a task with a SIGSEGV handler would instead get it
delivered into a new frame: not modelled.  Frames failing the magic/size checks are not
modelled either: the handler does not add, remove or resize records.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

from model.ctx import Ctx
from model.dsl import TRUE, Eq, Expr, Var
from model.state import Image


def preserve_fpsimd_context(k: Ctx) -> None:
    """arch/arm64/kernel/signal.c: preserve_fpsimd_context(ctx): copy current's
    uw.fpsimd_state (vregs, fpsr, fpcr) to the frame's fpsimd_context."""
    f, uw = k.cur.sigframe, k.cur.uw
    k.set(f.v, uw.v)
    k.copy_fpsr_fpcr(f, uw)


def preserve_sve_context(k: Ctx) -> None:
    """arch/arm64/kernel/signal.c: preserve_sve_context(ctx) (CONFIG_ARM64_SVE; called
    when system_supports_sve()): vq = TIF_SVE ? sve_vq_from_vl(sve_vl) : 0; write the
    header (size says whether register data follows); if vq, copy current's whole
    sve_state (Z incl. the Z bits above 127, P/FFR) into the record.  It relies on
    setup_rt_frame() having saved the registers to the task struct first."""
    t, f = k.cur, k.cur.sigframe
    sve = k.let("vq", k.test_thread_flag("TIF_SVE"))
    k.set(t.sigframe_sve, sve)
    put_record_vl(k)
    with k.If(sve):
        k.set(f.zhi, t.sve_state.zhi)
        k.set(f.p, t.sve_state.p)
    with k.Else():  # no register data in the record: the slots stay unused (zero)
        k.set(f.zhi, k.S.ZERO)
        k.set(f.p, k.S.ZERO)


def put_record_vl(k: Ctx, sm: Expr | None = None) -> None:
    """The header statement of preserve_sve_context() (v4.18-v6.16, not a C function):
    ``__put_user_error(vl, &ctx->vl, err)``, vl = the task's SME VL for a streaming record
    (``sm``, SVE_SIG_FLAG_SM) and its SVE VL else.  Kept where the VL can change while the
    frame is live (`Layout.frame_vl`, `Layout.frame_svl`): the model has one field per kind
    (the SVE one is written for every record and read only for a non-streaming one)."""
    t = k.cur
    if isinstance(t.sigframe_vl, Var):
        k.set(t.sigframe_vl, t.sve_vl)
    if sm is not None and isinstance(t.sigframe_svl, Var):
        with k.If(sm):
            k.set(t.sigframe_svl, t.sme_vl)


def put_za_record_vl(k: Ctx) -> None:
    """The header statement of preserve_za_context() (v6.8-v6.16, not a C function):
    ``__put_user_error(vl, &ctx->vl, err)``, vl = task_get_sme_vl(current), whether or not
    ZA data follows (`Layout.frame_svl`)."""
    t = k.cur
    if isinstance(t.sigframe_svl, Var):
        k.set(t.sigframe_svl, t.sme_vl)


def sve_record_vl_ok(k: Ctx) -> Expr | None:
    """restore_sve_fpsimd_context()'s VL test (v4.18-v6.16, the same in every tree read):
    the record's vl must equal task_get_sme_vl(current) for a streaming record
    (SVE_SIG_FLAG_SM; the flag test comes first) and task_get_sve_vl(current) else, or
    the function returns -EINVAL before any statement with an FP effect.  None where it
    cannot fail (the VL of that kind never changes while a frame is live)."""
    t = k.cur
    sve = Eq(t.sve_vl, t.sigframe_vl) if isinstance(t.sigframe_vl, Var) else None
    sme = Eq(t.sme_vl, t.sigframe_svl) if isinstance(t.sigframe_svl, Var) else None
    if sve is None and sme is None:
        return None
    if not isinstance(t.sigframe_sm, Var):  # no SME: every record is non-streaming
        return sve
    sm = t.sigframe_sm.eq(1)
    return (sm & (sme if sme is not None else TRUE)) | (~sm & (sve if sve is not None
                                                                 else TRUE))


def za_record_vl_ok(k: Ctx) -> Expr | None:
    """restore_za_context()'s VL test (v6.8-v6.16): za_context.vl must equal
    task_get_sme_vl(current), with or without ZA data, or -EINVAL before anything else.
    None where it cannot fail."""
    t = k.cur
    return Eq(t.sme_vl, t.sigframe_svl) if isinstance(t.sigframe_svl, Var) else None


def unless_failed(k: Ctx, ok: Var | None) -> AbstractContextManager[object]:
    """restore_sigframe()'s ``if (err == 0 && ...)`` before each record's restore: the
    block runs only if no record has failed so far (``ok``, None: none can fail)."""
    return nullcontext() if ok is None else k.If(ok)


def check_record(k: Ctx, ok: Var | None, test: Expr | None, name: str) -> Var | None:
    """``err`` after one more record's VL test: the local ``ok`` (no error so far) and
    the record's own ``test``, evaluated now (C: its restore function's first statement
    returns -EINVAL), or None if neither can fail."""
    if test is None:
        return ok
    return k.let(name, test if ok is None else ok & test)


def setup_rt_frame(k: Ctx) -> None:
    """arch/arm64/kernel/signal.c: setup_rt_frame() (from handle_signal() in do_signal(),
    in do_notify_resume() with IRQs on and preemption enabled):
    fpsimd_signal_preserve_current_state(); get_sigframe(); setup_sigframe(), whose FP
    part is preserve_fpsimd_context() and, with SVE, preserve_sve_context().

    One step: after fpsimd_preserve_current_state() the only code that may run in the
    windows (a context switch's fpsimd_save(), a softirq's kernel_neon_begin()) saves the
    same registers again into the same buffers (the task does not run at EL0 in
    between, and nobody else writes a running task's state), so where the copies to the
    frame interleave with them does not change what is copied."""
    k.fpsimd_signal_preserve_current_state()
    k.preserve_fpsimd_context()
    if k.config.sve or k.config.sme:
        # (v6.x: the SVE record is written when the system supports SVE or SME)
        k.preserve_sve_context()
    if k.config.fpmr:
        # (v6.9-v6.15, FEAT_FPMR: setup_sigframe() writes fpmr_context after the FPSIMD
        # and SVE records; model/variants/v6_events.py)
        k.preserve_fpmr_context()
    if k.config.sme:
        # (v6.8-v6.15 with SME: setup_sigframe() writes za_context last of the modelled
        # records (TPIDR2 before FPMR: not modelled); then, the frame written,
        # setup_return()'s SME statements; model/variants/v6_events.py)
        k.preserve_za_context()
        k.setup_return()


def forget_syscall(k: Ctx) -> None:
    """arch/arm64/include/asm/ptrace.h: forget_syscall(regs): regs->syscallno =
    NO_SYSCALL, so in_syscall(regs) is false from here to the next kernel entry.  The
    model has regs->syscallno where the FP code reads in_syscall(): v6.2-v6.15 with SVE
    (fpsimd_save_user_state() saves only the FPSIMD part of a task that is in a
    syscall); elsewhere nothing reads it and there is nothing to clear."""
    if isinstance(k.cur.in_syscall, Var):
        k.set(k.cur.in_syscall, False)


def do_signal(k: Ctx) -> None:
    """arch/arm64/kernel/signal.c: do_signal() delivering one signal with a handler: if
    the task entered by a syscall (in_syscall(regs)), forget_syscall(regs) first (the
    restart bookkeeping; so a save while the frame is set up sees no syscall); then
    get_signal() and handle_signal() -> setup_rt_frame(); the task then returns to user
    space at the handler through the rest of ret_to_user.  A ptrace signal-delivery stop
    in get_signal() is the ptrace_stop step at pc KERNEL.  Ghost: the handler now runs
    (``in_handler``) and the frame is fresh."""
    k.forget_syscall()
    k.setup_rt_frame()
    k.set(k.cur.in_handler, True)
    k.set(k.cur.sigframe_fresh, 1)


def restore_fpsimd_context(k: Ctx, frame: Image) -> None:
    """arch/arm64/kernel/signal.c: restore_fpsimd_context(ctx) (no SVE record): copy the
    frame's fpsimd_context to a local user_fpsimd_state; clear_thread_flag(TIF_SVE);
    fpsimd_update_current_state(&fpsimd)."""
    k.clear_thread_flag("TIF_SVE")
    k.fpsimd_update_current_state(frame)


def restore_sve_fpsimd_context(k: Ctx, frame: Image) -> None:
    """arch/arm64/kernel/signal.c: restore_sve_fpsimd_context(user) (an SVE record is
    present; the kernel always writes one when the system has SVE).

    If the record has no register data: clear_thread_flag(TIF_SVE).  Otherwise:
    fpsimd_flush_task_state(current); barrier(); set_thread_flag(TIF_FOREIGN_FPSTATE);
    barrier(); sve_alloc(current); __copy_from_user() the record's Z/P/FFR data into
    sve_state; set_thread_flag(TIF_SVE).  Then (fpsimd_only) copy fpsimd_context to a
    local and fpsimd_update_current_state(&fpsimd), which puts V into sve_state's low
    128 bits (fpsimd_to_sve) and loads the registers.

    This runs with preemption enabled and bottom halves on, and one step models it: the
    C comment's argument holds in the model's terms: once current's fpsimd_cpu is
    NR_CPUS and TIF_FOREIGN_FPSTATE is set, no context switch or softirq saves into
    current's buffers (fpsimd_save() tests current's TIF_FOREIGN_FPSTATE) and no switch-in
    clears the flag; before that, a save writes the registers into uw/sve_state, which
    sve_alloc() and the copies overwrite."""
    t = k.cur
    with k.If(~t.sigframe_sve.eq(1)):
        k.clear_thread_flag("TIF_SVE")
    with k.Else():
        k.fpsimd_flush_task_state(k.current)
        k.set_thread_flag("TIF_FOREIGN_FPSTATE")
        k.sve_alloc()
        k.set(t.sve_state.v, frame.v)  # the record's own copy of V (overwritten below)
        k.set(t.sve_state.zhi, frame.zhi)
        k.set(t.sve_state.p, frame.p)
        k.set_thread_flag("TIF_SVE")
    k.fpsimd_update_current_state(frame)


def sys_rt_sigreturn(k: Ctx) -> None:
    """The handler returns through the sigreturn trampoline: svc (el0_svc), then
    arch/arm64/kernel/signal.c: sys_rt_sigreturn() -> restore_sigframe(), whose FP part
    is restore_sve_fpsimd_context() if the frame has an SVE record (always, when the
    system supports SVE) else restore_fpsimd_context().

    Ghost first (the handler may have edited the frame before the svc): the frame's FP
    contents are the task's new state (V/FPSR; Z-high and P/FFR if the SVE record has
    data), which it must read back after the return.

    (`Layout.sigreturn_can_fail`) If a record's VL test fails (restore_sigframe() returns
    an error), badframe: arm64_notify_segfault(); the task never returns to user space
    (program point SIGSEGV, then `sigsegv_exit`), so the ghost's new generation is never
    read: no property expects it (properties/lemmas.py `_alive`, `_sigreturn_failing`)."""
    t, f = k.cur, k.cur.sigframe
    k.el0_svc()
    k.supersede(k.current)
    latest = k.S.latest(k.current)
    k.set(f.v, latest)
    for slot in f.fpsr_slots():
        k.set(slot, latest)
    if isinstance(f.fpmr, Var):
        k.set(f.fpmr, latest)  # (Config.fpmr) fpmr_context is in the frame too
    if k.config.sve or k.config.sme:
        with k.If(t.sigframe_sve.eq(1)):
            k.supersede_p(k.current)
            k.set(f.zhi, latest)
            k.set(f.p, latest)
        k.set(t.zhi_expected, k._ghost_bool(t.sigframe_sve.eq(1)))
        k.set(t.p_written, k._p_ghost(t.sigframe_sve.eq(1)))
    if k.config.sme:
        # (SME) the task then runs in streaming mode iff the SVE record says so
        # (SVE_SIG_FLAG_SM), with ZA on iff za_context carries ZA, which it must read back
        k.set(t.sm_expected, k._ghost_bool(t.sigframe_sm.eq(1)))
        with k.If(t.sigframe_za.eq(1)):
            k.supersede_za(k.current)
            k.set(t.sigframe_zadata, latest)
        k.set(t.za_expected, k._ghost_bool(t.sigframe_za.eq(1)))
        k.set(t.za_written, k._ghost_bool(t.sigframe_za.eq(1)))
    ok = k.restore_sigframe(f)
    k.set(t.in_handler, False)
    k.pop_sigframe()
    if ok is not None:
        # (Layout.sigreturn_can_fail) restore_sigframe() failed: badframe
        with k.If(~ok):
            k.arm64_notify_segfault()
    if isinstance(t.syscall_body, Var):
        k.set(t.syscall_body, False)  # (events fork, sve_set_vl) sigreturn's body is done


def arm64_notify_segfault(k: Ctx) -> None:
    """arch/arm64/kernel/traps.c: arm64_notify_segfault(addr) -> force_signal_inject(
    SIGSEGV, ...) -> arm64_force_sig_fault() -> force_sig_fault(): a SIGSEGV is pending
    (sys_rt_sigreturn()'s badframe, which then returns 0).  The task goes back through
    el0_svc's exit work to do_notify_resume(), whose do_signal() -> get_signal() takes
    the default action and does not return (`sigsegv_exit`): the model's program point
    SIGSEGV.  The frame is dead memory from here (pop_sigframe has cleared it)."""
    k.goto("SIGSEGV")


def sigsegv_exit(k: Ctx, next_task: int) -> None:
    """The fatal SIGSEGV after a failed rt_sigreturn: kernel/signal.c get_signal() (from
    arch/arm64/kernel/signal.c do_notify_resume() -> do_signal(), IRQs on, preemptible),
    default action: do_coredump() (its regset reads of the FP state are not modelled),
    do_group_exit() -> kernel/exit.c do_exit() -> do_task_dead(): the task switches out
    for the last time through __schedule(), whose fpsimd_thread_switch() saves its live
    registers into its own thread struct as for any switch (no current->mm test in
    v4.18-v6.16).  Then TASK_DEAD: never runnable again (program point DEAD; the
    task_struct's memory is dead: nothing reads it and no fork reuses it here).  Nothing
    of the task's FP state is read any more, so no property expects anything of it."""
    dead = k.current
    k.__schedule(next_task)
    k.set(k.task(dead).pc, "DEAD")


def restore_sigframe(k: Ctx, frame: Image) -> Var | None:
    """arch/arm64/kernel/signal.c: restore_sigframe() (v4.17-v6.15), its FP part:
    forget_syscall(regs) before the FP records are read (so from here on, rt_sigreturn
    is not "in a syscall" for fpsimd_save_user_state(): a save after the restore keeps
    the restored SVE state whole); then, with an SVE record (always present when the
    system supports SVE) restore_sve_fpsimd_context(), else restore_fpsimd_context().

    Returns the local "no record failed" (C: ``err == 0``), or None where no record can
    fail (`Layout.sigreturn_can_fail`).  An SVE record at another VL fails before any FP
    statement (the task's state, saved or live, is untouched); a ZA record at another
    SVL fails after the SVE/FPSIMD restore (and FPMR's) is complete."""
    k.forget_syscall()
    return restore_fp_records(k, frame)


def restore_fp_records(k: Ctx, frame: Image) -> Var | None:
    """restore_sigframe()'s FP records after its preamble (not a C function of its own;
    the same in v4.17-v6.16, `model.variants.v6_events.restore_sigframe_v616` saves and
    flushes first): with an SVE record restore_sve_fpsimd_context(), else
    restore_fpsimd_context(); then restore_fpmr_context() and restore_za_context() where
    the system has them, each only while no earlier record failed its VL test.  Returns
    "no record failed" (C: ``err == 0``), or None where none can fail."""
    ok: Var | None = None
    if k.config.sve or k.config.sme:
        ok = check_record(k, None, sve_record_vl_ok(k), "sve_vl_ok")
        with unless_failed(k, ok):
            k.restore_sve_fpsimd_context(frame)
    else:
        k.restore_fpsimd_context(frame)
    if k.config.fpmr:
        # (v6.9-v6.16, FEAT_FPMR) then the TPIDR2 record (not modelled) and
        # restore_fpmr_context(): the kernel always writes an fpmr_context, and the
        # handler does not remove records (model/variants/v6_events.py)
        with unless_failed(k, ok):
            k.restore_fpmr_context(frame)
    if k.config.sme:
        # (v6.8-v6.16 with SME) then restore_za_context(): the kernel always writes a
        # za_context when the system supports SME (model/variants/v6_events.py).  Its VL
        # test fails after the SVE/FPSIMD record has been restored (v6.8-v6.15: loaded
        # and bound; v6.16: merged into the saved state).
        ok = check_record(k, ok, za_record_vl_ok(k), "za_vl_ok")
        with unless_failed(k, ok):
            k.restore_za_context(frame)
    return ok


def pop_sigframe(k: Ctx) -> None:
    """The frame is gone from the user stack once rt_sigreturn has read it (or exec has
    replaced the program): its memory is dead, so the model clears it to zero (a
    canonical value; nothing reads a dead frame), which keeps dead contents from
    multiplying the state space."""
    t = k.cur
    with k.atomic():
        for slot in t.sigframe.all_slots():
            k.set(slot, k.S.ZERO)
        for flag in (t.sigframe_sve, t.sigframe_sm, t.sigframe_za):
            if isinstance(flag, Var):
                k.set(flag, False)
        if isinstance(t.sigframe_zadata, Var):
            k.set(t.sigframe_zadata, k.S.ZERO)
        for vl in (t.sigframe_vl, t.sigframe_svl):
            if isinstance(vl, Var):
                k.set(vl, 0)
        k.set(t.sigframe_fresh, 0)
    k.sigframe_snapshot_forget(k.current)


FUNCTIONS = {
    f.__name__: f
    for f in (
        preserve_fpsimd_context,
        preserve_sve_context,
        setup_rt_frame,
        forget_syscall,
        do_signal,
        arm64_notify_segfault,
        sigsegv_exit,
        restore_fpsimd_context,
        restore_sve_fpsimd_context,
        sys_rt_sigreturn,
        restore_sigframe,
        pop_sigframe,
    )
}
