"""arch/arm64/kernel/ptrace.c (fpr_set) and kernel/signal.c / kernel/ptrace.c (the ptrace
stop and resume), for the optional event ``ptrace_fpr_set`` and for the SVE regset.

A tracer can write a tracee's registers only while the tracee is in a ptrace stop
(TASK_TRACED) and switched out: ptrace_check_attach() waits for that with
wait_task_inactive(). The stop and resume are steps with event ``ptrace_stop``; without
it the tracer writes a tracee switched out at a stop point (model.steps._stopped_target
says why that reaches the same states, and a test checks it). The stops are syscall-
entry/exit stops (tracehook_report_syscall_*) and signal-delivery stops (get_signal ->
ptrace_signal); in this model each is a point where the tracee is at pc KERNEL (in a
syscall or on the ret_to_user path) or, for the syscall-entry stop of the KVM_RUN ioctl,
at VCPU_LOAD. Abstraction: at VCPU_LOAD the model's tracee already holds the vcpu mutex,
which the real one takes only after the stop; that only delays another VMM thread's
KVM_RUN on the same vcpu.

fpr_set/__fpr_set are the same at v4.17 and v4.18 (read in both trees).
"""

from __future__ import annotations

from model.ctx import Ctx

STOP_PCS = ("KERNEL", "VCPU_LOAD")


def ptrace_stop(k: Ctx, next_task: int) -> None:
    """kernel/signal.c: ptrace_stop(): set_special_state(TASK_TRACED), notify the tracer,
    then freezable_schedule(): the tracee switches out (to ``next_task``) and is not
    runnable until the tracer resumes it."""
    k.set(k.cur.stopped, True)
    k.__schedule(next_task)


def ptrace_resume(k: Ctx, target: int) -> None:
    """kernel/ptrace.c: ptrace_resume() (PTRACE_CONT/SYSCALL/...): wake_up_state(child,
    __TASK_TRACED): the tracee is runnable again and continues from its stop."""
    k.set(k.task(target).stopped, False)


def __fpr_set(k: Ctx, target: int) -> None:
    """arch/arm64/kernel/ptrace.c: __fpr_set(): sve_sync_to_fpsimd(target) (so a short
    copyin cannot resurrect stale data); newstate = target->thread.uw.fpsimd_state;
    user_regset_copyin() the tracer's data into it; uw.fpsimd_state = newstate.

    The copyin is the whole regset (V0-V31, FPSR, FPCR): a new generation of the
    tracee's V and FPSR/FPCR (ghost).  A partial write is not modelled."""
    tgt = k.task(target)
    k.sve_sync_to_fpsimd(target)
    k.fp_write_memory(target, [tgt.uw.v, *tgt.uw.fpsr_slots()], zhi=False)


def fpr_set(k: Ctx, target: int) -> None:
    """arch/arm64/kernel/ptrace.c: fpr_set() for PTRACE_SETREGSET NT_PRFPREG on a stopped
    tracee: __fpr_set(); sve_sync_from_fpsimd_zeropad(target) (with TIF_SVE the new V
    goes into a zeroed sve_state: Z bits above 127 and P/FFR become zero);
    fpsimd_flush_task_state(target).  Ghost: the tracee must then read the new V/FPSR,
    zero Z bits above 127 (a V write zeroes them, sve.txt A.1); its P/FFR are
    unspecified (the NT_PRFPREG view does not define them)."""
    k.__fpr_set(target)
    k.sve_sync_from_fpsimd_zeropad(target)
    k.fpsimd_flush_task_state(target)


def fpmr_set(k: Ctx, target: int) -> None:
    """arch/arm64/kernel/ptrace.c (v6.9-v6.16, FEAT_FPMR; Config.fpmr): fpmr_set() for
    PTRACE_SETREGSET NT_ARM_FPMR on a stopped tracee: user_regset_copyin() into a local
    (v6.13+ first initialise it from target->thread.uw.fpmr; the whole 8-byte regset is
    written here, so both read the same); target->thread.uw.fpmr = fpmr;
    fpsimd_flush_task_state(target).  No save first: the tracee is switched out, so its
    FPMR is already in uw.fpmr.  Ghost: a new generation of the tracee's FPMR alone (its
    V, FPSR/FPCR, Z and P are unchanged: `Ctx.fp_write_memory`)."""
    tgt = k.task(target)
    k.fp_write_memory(target, [tgt.uw.fpmr], zhi=False)
    k.fpsimd_flush_task_state(target)


FUNCTIONS = {f.__name__: f for f in (ptrace_stop, ptrace_resume, __fpr_set, fpr_set,
                                     fpmr_set)}
