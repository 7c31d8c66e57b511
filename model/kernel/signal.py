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
Abstractions: a frame that fails the magic/size/vl checks (-EINVAL/-EFAULT: the task
gets SIGSEGV) is not modelled (the vector length is fixed, so sve.vl always matches);
the handler does not add or remove records.
"""

from __future__ import annotations

from model.ctx import Ctx
from model.dsl import Var
from model.state import Image


def preserve_fpsimd_context(k: Ctx) -> None:
    """arch/arm64/kernel/signal.c: preserve_fpsimd_context(ctx): copy current's
    uw.fpsimd_state (vregs, fpsr, fpcr) to the frame's fpsimd_context."""
    f, uw = k.cur.sigframe, k.cur.uw
    k.set(f.v, uw.v)
    k.set(f.fpsr, uw.fpsr)


def preserve_sve_context(k: Ctx) -> None:
    """arch/arm64/kernel/signal.c: preserve_sve_context(ctx) (CONFIG_ARM64_SVE; called
    when system_supports_sve()): vq = TIF_SVE ? sve_vq_from_vl(sve_vl) : 0; write the
    header (size says whether register data follows); if vq, copy current's whole
    sve_state (Z incl. the Z bits above 127, P/FFR) into the record.  It relies on
    setup_rt_frame() having saved the registers to the task struct first."""
    t, f = k.cur, k.cur.sigframe
    sve = k.let("vq", k.test_thread_flag("TIF_SVE"))
    k.set(t.sigframe_sve, sve)
    with k.If(sve):
        k.set(f.zhi, t.sve_state.zhi)
        k.set(f.p, t.sve_state.p)
    with k.Else():  # no register data in the record: the slots stay unused (zero)
        k.set(f.zhi, k.S.ZERO)
        k.set(f.p, k.S.ZERO)


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
    data), which it must read back after the return."""
    t, f = k.cur, k.cur.sigframe
    k.el0_svc()
    k.supersede(k.current)
    latest = k.S.latest(k.current)
    k.set(f.v, latest)
    k.set(f.fpsr, latest)
    if isinstance(f.fpmr, Var):
        k.set(f.fpmr, latest)  # (Config.fpmr) fpmr_context is in the frame too
    if k.config.sve or k.config.sme:
        with k.If(t.sigframe_sve.eq(1)):
            k.supersede_p(k.current)
            k.set(f.zhi, latest)
            k.set(f.p, latest)
        k.set(t.zhi_expected, k._ghost_bool(t.sigframe_sve.eq(1)))
        k.set(t.p_written, k._ghost_bool(t.sigframe_sve.eq(1)))
    if k.config.sme:
        # (SME) the task then runs in streaming mode iff the SVE record says so
        # (SVE_SIG_FLAG_SM), with ZA on iff za_context carries ZA, which it must read back
        k.set(t.sm_expected, k._ghost_bool(t.sigframe_sm.eq(1)))
        with k.If(t.sigframe_za.eq(1)):
            k.supersede_za(k.current)
            k.set(t.sigframe_zadata, latest)
        k.set(t.za_expected, k._ghost_bool(t.sigframe_za.eq(1)))
        k.set(t.za_written, k._ghost_bool(t.sigframe_za.eq(1)))
    k.restore_sigframe(f)
    k.set(t.in_handler, False)
    k.pop_sigframe()
    if isinstance(t.syscall_body, Var):
        k.set(t.syscall_body, False)  # (events fork, sve_set_vl) sigreturn's body is done


def restore_sigframe(k: Ctx, frame: Image) -> None:
    """arch/arm64/kernel/signal.c: restore_sigframe() (v4.17-v6.15), its FP part:
    forget_syscall(regs) before the FP records are read (so from here on, rt_sigreturn
    is not "in a syscall" for fpsimd_save_user_state(): a save after the restore keeps
    the restored SVE state whole); then, with an SVE record (always present when the
    system supports SVE) restore_sve_fpsimd_context(), else restore_fpsimd_context()."""
    k.forget_syscall()
    if k.config.sve or k.config.sme:
        k.restore_sve_fpsimd_context(frame)
    else:
        k.restore_fpsimd_context(frame)
    if k.config.fpmr:
        # (v6.9-v6.15, FEAT_FPMR) then the TPIDR2 record (not modelled) and
        # restore_fpmr_context(): the kernel always writes an fpmr_context, and the
        # handler does not remove records (model/variants/v6_events.py)
        k.restore_fpmr_context(frame)
    if k.config.sme:
        # (v6.8-v6.15 with SME) then restore_za_context(): the kernel always writes a
        # za_context when the system supports SME (model/variants/v6_events.py)
        k.restore_za_context(frame)


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
        restore_fpsimd_context,
        restore_sve_fpsimd_context,
        sys_rt_sigreturn,
        restore_sigframe,
        pop_sigframe,
    )
}
