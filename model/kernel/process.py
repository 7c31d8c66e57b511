"""arch/arm64/kernel/process.c: flush_thread() (execve, event ``exec``) and
arch_dup_task_struct()/copy_thread() (fork/clone, event ``fork``), with the generic
kernel/fork.c steps around them that matter for FP state.

v4.17 and v4.18 are the same here (read: SaumyaSachdev/linux-4.17 4b4a148ccf12,
c4pt000/ps4-4.18-rc7-experimental 68960d82b35a, arch/arm64/kernel/process.c; the seed and
v4.18-rc1 do not touch process.c).  What differs between the versions is in the fpsimd.c
functions these call (fpsimd_preserve_current_state(): v4.17 saves with
task_fpsimd_save() into current's own buffers, later versions with fpsimd_save() into
fpsimd_last_state.st).
"""

from __future__ import annotations

from model.ctx import Ctx
from model.dsl import Const, Var
from model.state import SIGFRAME_SNAPSHOT


def flush_thread(k: Ctx) -> None:
    """arch/arm64/kernel/process.c: flush_thread() (from flush_old_exec() in execve):
    fpsimd_flush_thread(); the TLS and hw-breakpoint resets have no FP effect."""
    k.fpsimd_flush_thread()


def sys_execve(k: Ctx) -> None:
    """execve() in the syscall (the task is at pc KERNEL, after el0_svc): the old program's
    FP values are gone for good (ghost: a new generation of the task's state whose value
    is zero: the new program must read zero until it writes, ``expect_zero``; its Z bits
    above 127 are zero and P/FFR what the version's syscall ABI says: unspecified up to
    v6.8, zero from v6.9, `Ctx.syscall_p_ghost`), then flush_thread().  The task returns to
    user space through ret_to_user, which loads the zeroed state."""
    t = k.cur
    k.supersede(k.current)
    k.set(t.expect_zero, 1)
    if isinstance(t.fpmr_expect_zero, Var):
        # (Config.fpmr) the new program must read a zero FPMR too (FPMR is part of the
        # user FP state from v6.9; whether the kernel resets it is the version's
        # fpsimd_flush_thread())
        k.set(t.fpmr_expect_zero, 1)
    if isinstance(t.fpcr_expect_zero, Var):
        # (Config.sme) and a zero FPCR (fpsimd_flush_thread()'s memset of uw.fpsimd_state)
        k.set(t.fpcr_expect_zero, 1)
    if k.config.sve:
        k.set(t.zhi_expected, 0)
        k.set(t.p_written, k.syscall_p_ghost())
    if k.config.sme:
        # (Config.sme) the new program starts with PSTATE.SM and PSTATE.ZA clear
        # (fpsimd_flush_thread() sets thread.svcr = 0; the reload writes SVCR)
        with k.atomic():
            k.set(t.sm_expected, 0)
            k.set(t.za_expected, 0)
            k.set(t.za_written, 0)
    if isinstance(t.in_handler, Var):
        # (event signal) flush_signal_handlers(): the new program runs no handler and has
        # no frame to return to.
        with k.If(t.in_handler.eq(1)):
            k.set(t.in_handler, False)
            k.pop_sigframe()
    k.flush_thread()


def arch_dup_task_struct(k: Ctx, child: int) -> None:
    """arch/arm64/kernel/process.c: arch_dup_task_struct(dst, src) (v4.17 = v4.18), called
    by kernel/fork.c dup_task_struct() in the parent (current), in process context: IRQs
    on, preemptible, bottom halves enabled.

    if (current->mm) fpsimd_preserve_current_state(); then ``*dst = *src``: the whole
    task_struct, so thread.uw.fpsimd_state, thread.sve_state (the *pointer*),
    thread.fpsimd_cpu and, since arm64 keeps thread_info in task_struct
    (THREAD_INFO_IN_TASK), the thread flags TIF_FOREIGN_FPSTATE and TIF_SVE are the
    parent's.  ``current->mm`` is a build-time fact: the parents in the model are user
    tasks (kernel threads do not fork here).

    The child's copies are the parent's bits, relabelled as the child's own generation
    (`Ctx.copy_as_child`): its must-read value is what the parent's thread struct held
    at the copy.  The Z bits above 127 and P/FFR live only in sve_state, whose pointer
    copy_thread() NULLs, so they are not copied.  The rest of the copied task (user
    memory: the signal frame, with event ``signal``) is the address space copy of
    copy_mm() (a fork without CLONE_VM), done after this in copy_process(); it has no
    FP effect in between, so it is done here.  Preemption can come between the preserve
    and the copy (nothing disables it); a context switch there saves the parent's
    registers into the same buffer again (the parent, in the kernel, cannot change them),
    so the copy reads the same values either way: one step (ARCHITECTURE.md lists this
    window)."""
    if k.cur.mm:
        k.fpsimd_preserve_current_state()
    copy_task_struct(k, child)


def copy_task_struct(k: Ctx, child: int) -> None:
    """The statement ``*dst = *src`` of arch_dup_task_struct() (not a C function): the FP
    fields of the parent's (current's) task_struct copied into the child's."""
    parent = k.current
    src, dst = k.cur, k.task(child)
    for d, s_ in ((dst.uw.v, src.uw.v), (dst.uw.fpsr, src.uw.fpsr)):
        k.copy_as_child(d, s_, parent, child)
    if isinstance(dst.uw.fpcr, Var):
        # (Config.sme) uw.fpsimd_state.fpcr, FPCR's own slice
        k.copy_as_child(dst.uw.fpcr, src.uw.fpcr, parent, child)
    if isinstance(dst.uw.fpmr, Var):
        # (Config.fpmr, v6.9+) thread.uw.fpmr is part of the copied thread struct
        k.copy_as_child(dst.uw.fpmr, src.uw.fpmr, parent, child)
    k.update_tsk_thread_flag(child, "TIF_FOREIGN_FPSTATE", k.test_thread_flag(
        "TIF_FOREIGN_FPSTATE"))
    k.update_tsk_thread_flag(child, "TIF_SVE", k.test_thread_flag("TIF_SVE"))
    k.set(dst.fpsimd_cpu, src.fpsimd_cpu)
    if isinstance(dst.sve_vl, Var):
        # (event sve_set_vl) thread.sve_vl is part of the copied thread struct: the child
        # runs with its parent's vector length.
        k.set(dst.sve_vl, src.sve_vl)
    if isinstance(dst.sme_vl, Var):
        # (Config.sme_vls) thread.vl[ARM64_VEC_SME] likewise: the child keeps its parent's
        # streaming vector length (v6.8-v6.16 arch_dup_task_struct() copies the struct and
        # never resets it).
        k.set(dst.sme_vl, src.sme_vl)
    # Ghosts: the child returns from the fork syscall, so by the syscall ABI its Z bits
    # above 127 are zero and its P/FFR unspecified (Documentation/arm64/sve.txt section
    # 3; the model's reading: Z-high zero, P undefined) or, from v6.9, zero
    # (`Ctx.syscall_p_ghost`), whatever its parent's were; its V and
    # FPSR/FPCR are the copied ones, or zero if the parent has exec'd and not written
    # since (a monitor copying a monitor: model.dsl allows ghost-to-ghost copies).
    with k.atomic():
        if isinstance(dst.zhi_expected, Var):
            k.set(dst.zhi_expected, 0)
        if isinstance(dst.p_written, Var):
            k.set(dst.p_written, k.syscall_p_ghost())
        for g in ("expect_zero", "fpmr_expect_zero", "fpcr_expect_zero"):
            if isinstance(getattr(dst, g), Var):
                k.set(getattr(dst, g), getattr(src, g))
    if dst.sigframe is not None:
        # (event signal) fork copies user memory: a parent inside a handler has a child
        # inside the same handler on a copy of the same frame.
        for d, s_ in zip(dst.sigframe.all_slots(), src.sigframe.all_slots(), strict=True):
            k.copy_as_child(d, s_, parent, child)
        for f in ("in_handler", "sigframe_sve", "sigframe_sm", "sigframe_za", "sigframe_vl",
                  "sigframe_svl"):
            if isinstance(getattr(dst, f), Var):
                k.set(getattr(dst, f), getattr(src, f))
        if isinstance(dst.sigframe_zadata, Var):  # (SME) za_context's ZA data
            k.copy_as_child(dst.sigframe_zadata, src.sigframe_zadata, parent, child)
        with k.atomic():
            k.set(dst.sigframe_fresh, src.sigframe_fresh)
            for g, _src in SIGFRAME_SNAPSHOT:
                if isinstance(getattr(dst, g), Var):
                    k.set(getattr(dst, g), getattr(src, g))


def copy_thread(k: Ctx, child: int) -> None:
    """arch/arm64/kernel/process.c: copy_thread(clone_flags, stack_start, stk_sz, p)
    (v4.17 = v4.18), called from copy_process() after the copy: clear p's TIF_SVE and
    set p->thread.sve_state = NULL ("unalias" the parent's buffer), then
    fpsimd_flush_task_state(p) so that no CPU's registers count as p's (the C comment: p
    may reuse the task_struct of a task that ran recently).  The rest (cpu_context,
    pt_regs, TLS) has no FP effect.  Abstraction: the NULL sve_state is modelled as a
    zero buffer, as in `model.kernel.fpsimd.sve_free` (every later use goes through
    sve_alloc(), which zeroes it)."""
    t = k.task(child)
    k.update_tsk_thread_flag(child, "TIF_SVE", False)
    zero = Const(k.S.VALUE, k.S.ZERO)
    for slot in t.sve_state.all_slots():
        k.set(slot, zero)
    k.fpsimd_flush_task_state(child)


def wake_up_new_task(k: Ctx, child: int) -> None:
    """kernel/sched/core.c: wake_up_new_task(p) (from _do_fork): p becomes runnable; it
    first runs through __schedule() -> __switch_to() -> fpsimd_thread_switch() (which sets
    its TIF_FOREIGN_FPSTATE: its fpsimd_cpu is NR_CPUS) and ret_from_fork ->
    ret_to_user, i.e. the model's schedule and ret_to_user steps.  Its program point is
    KERNEL (on its way to user space); it is not stopped and not in KVM_RUN (the preempt
    notifiers are re-initialised by sched_fork())."""
    t = k.task(child)
    k.set(t.pc, "KERNEL")
    k.set(t.syscall_body, False)  # ret_from_fork: on the way to user space, not in a body
    k.set(t.created, True)


def do_exit(k: Ctx, next_task: int) -> None:
    """kernel/exit.c: do_exit() of the forked child (event fork), from exit() in the
    syscall (pc KERNEL), then kernel/sched/core.c do_task_dead(): the task is TASK_DEAD
    and switches out for the last time through __schedule() (do_exit() disables
    preemption first; __schedule() runs with the count at one either way), which at
    the seed's base and v4.18 saves its live registers into its own thread struct
    (fpsimd_thread_switch() has no current->mm test; v4.17's skips the save because
    exit_mm() has cleared current->mm: the buffer is dead either way and is overwritten
    when the slot is forked again).  Its task_struct is then freed
    (arch_release_task_struct() -> fpsimd_release_task(): sve_state freed) and may be
    reused by the next fork: the slot becomes not created.  A CPU's
    fpsimd_last_state.st may still point at the dead task's thread.uw.fpsimd_state,
    which is the reused address: that is why copy_thread() flushes the new task.

    Ghost: the dead task's values are superseded (every copy of them becomes an older
    value), so that a new task in the same slot that read them would read an older
    value, not its own latest (``no_loss``)."""
    child = k.current
    k.supersede(child)
    if k.config.sve:
        k.supersede_p(child)
    k.__schedule(next_task)
    k.set(k.task(child).created, False)


def _do_fork(k: Ctx, child: int) -> None:
    """kernel/fork.c: _do_fork() from clone()/fork() in the parent (current, in the
    syscall, pc KERNEL): copy_process() -> dup_task_struct() -> arch_dup_task_struct();
    ... copy_thread(); then wake_up_new_task().  Only the statements with an FP effect
    are modelled; the parent returns to user space through ret_to_user as after any
    syscall.  Abstraction: one child slot (`model.state.Layout.fork_child`): a plain fork
    (no CLONE_VM); the child may exit (`do_exit`) and the slot be forked again, reusing
    the task_struct (and thread.uw.fpsimd_state) address."""
    k.arch_dup_task_struct(child)
    k.copy_thread(child)
    k.wake_up_new_task(child)
    k.set(k.cur.syscall_body, False)  # the syscall's body is done: on the way back to user


FUNCTIONS = {f.__name__: f for f in (flush_thread, sys_execve, arch_dup_task_struct,
                                     copy_thread, wake_up_new_task, _do_fork, do_exit)}
