"""arch/arm64/kernel/process.c: flush_thread() (execve), for the optional event ``exec``.

v4.17 and v4.18 are the same here (read: SaumyaSachdev/linux-4.17 4b4a148ccf12,
c4pt000/ps4-4.18-rc7-experimental 68960d82b35a).  fork (arch_dup_task_struct,
copy_thread) is not modelled yet (see docs in model/events.py).
"""

from __future__ import annotations

from model.ctx import Ctx
from model.dsl import Var


def flush_thread(k: Ctx) -> None:
    """arch/arm64/kernel/process.c: flush_thread() (from flush_old_exec() in execve):
    fpsimd_flush_thread(); the TLS and hw-breakpoint resets have no FP effect."""
    k.fpsimd_flush_thread()


def sys_execve(k: Ctx) -> None:
    """execve() in the syscall (the task is at pc KERNEL, after el0_svc): the old program's
    FP values are gone for good (ghost: a new generation of the task's state whose value
    is zero: the new program must read zero until it writes, ``expect_zero``; its Z bits
    above 127 are zero and P/FFR unspecified), then flush_thread().  The task returns to
    user space through ret_to_user, which loads the zeroed state."""
    t = k.cur
    k.supersede(k.current)
    k.set(t.expect_zero, 1)
    if k.config.sve:
        k.set(t.zhi_expected, 0)
        k.set(t.p_written, 0)
    if isinstance(t.in_handler, Var):
        # (event signal) flush_signal_handlers(): the new program runs no handler and has
        # no frame to return to.
        with k.If(t.in_handler.eq(1)):
            k.set(t.in_handler, False)
            k.pop_sigframe()
    k.flush_thread()


FUNCTIONS = {f.__name__: f for f in (flush_thread, sys_execve)}
