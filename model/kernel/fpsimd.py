"""arch/arm64/kernel/fpsimd.c and arch/arm64/include/asm/simd.h at the seed's base.

The seed applies to a tree between v4.17 and v4.18-rc1 (Dave Martin's series "KVM:
arm64: Optimise FPSIMD context switching").  The host functions here are as they stand
after the earlier patches of that series, which is what the seed's context lines show:

* `fpsimd_save` saves into ``fpsimd_last_state.st`` (not into current's own buffer) and
  governs by current's TIF_FOREIGN_FPSTATE; no ``current->mm`` checks remain anywhere
  ("Eliminate task->mm checks"); checked against v4.18 [P·18] and the seed's hunks;
* `fpsimd_flush_cpu_state` sets TIF_FOREIGN_FPSTATE (seed context lines; d8ad71fa38a9);
* `fpsimd_bind_task_to_cpu` still records ``last->sve_in_use`` (the seed's
  `fpsimd_bind_state_to_cpu` writes that field, so it exists at the base; v4.18 removed
  it later in the series).  Where the base and v4.18 differ, the base is modelled.

SVE (configuration ``sve``): one vector length for every task and the hardware unless the
configuration lists several (Config.sve_vls, event ``sve_set_vl``); then each task's
``thread.sve_vl`` and each CPU's ZCR_EL1.LEN are state, sve_load_state() writes ZCR_EL1,
and the ``WARN_ON(sve_get_vl() != current->thread.sve_vl)`` check of the save is
modelled (`sve_vl_matches`); with one vector length it cannot fire and is not emitted.
P0-P15 and FFR are a slice of their own (model.state): sve_save_state /
sve_load_state move them with Z, sve_alloc zeroes them, and every FPSIMD helper
(fpsimd_save_state, fpsimd_load_state, fpsimd_to_sve, sve_to_fpsimd) leaves them alone.
Without SVE every SVE branch below is not taken, as in the kernel.  The ``*_state``
register helpers (arch/arm64/kernel/entry-fpsimd.S) copy V0-V31 and FPSR/FPCR; a load
through V zeroes the Z bits above 127 but not P/FFR (Documentation/arm64/sve.txt A.1:
"A register write using a Vn register name zeros all bits of the corresponding Zn except
for bits [127:0]").
"""

from __future__ import annotations

from model.ctx import Ctx
from model.dsl import Const, Expr, Var
from model.state import Image


# ---------------------------------------------------------------- register helpers
def fpsimd_save_state(k: Ctx, dst: Image) -> None:
    """arch/arm64/kernel/entry-fpsimd.S: fpsimd_save_state(): store V0-V31, FPSR, FPCR."""
    k.copy_image(dst, k.this_cpu.regs, zhi="keep")


def fpsimd_load_state(k: Ctx, src: Image) -> None:
    """arch/arm64/kernel/entry-fpsimd.S: fpsimd_load_state(): load V0-V31, FPSR, FPCR.

    Writing Vn zeroes Zn bits above 127 on SVE hardware.
    """
    k.copy_image(k.this_cpu.regs, src, zhi="zero")


def sve_save_state(k: Ctx, sve_state: Image, fpsr_dst: Expr | Image) -> None:
    """arch/arm64/kernel/entry-fpsimd.S: sve_save_state(sve_pffr(thread), &st->fpsr):
    store Z0-Z31 (all VL bits), P0-P15 and FFR (sve_save in fpsimdmacros.h) into a
    task's sve_state, FPSR/FPCR through ``fpsr_dst`` (a `struct user_fpsimd_state *`
    value, or a fixed buffer such as the per-CPU EFI one)."""
    regs = k.this_cpu.regs
    k.set(sve_state.v, regs.v)
    k.set(sve_state.zhi, regs.zhi)
    k.set(sve_state.p, regs.p)
    if isinstance(fpsr_dst, Image):
        k.copy_fpsr_fpcr(fpsr_dst, regs)
    else:
        k.store_through(fpsr_dst, lambda img: k.copy_fpsr_fpcr(img, regs))


def sve_load_state(k: Ctx, sve_state: Image, fpsr_src: Image, vl: Expr | None = None
                   ) -> None:
    """arch/arm64/kernel/entry-fpsimd.S: sve_load_state(state, &fpsr, vq_minus_1):
    sve_load in fpsimdmacros.h first writes ZCR_EL1.LEN = vq_minus_1 (only if it
    differs; the write is self-synchronising), then loads Z0-Z31, P0-P15 and FFR from
    sve_state at that length, and FPSR/FPCR from the task's uw.fpsimd_state.

    ``vl`` is the vector length the caller passes (task_fpsimd_load():
    sve_vq_from_vl(current->thread.sve_vl) - 1), written to ZCR_EL1 when the
    configuration has several vector lengths.  The Z-high slice is loaded whole: at the
    new length every bit of Z above 127 comes from sve_state (bits above a shorter
    length are not readable until a later load at a longer one, which loads them)."""
    if vl is not None and isinstance(k.this_cpu.zcr, Var):
        k.set(k.this_cpu.zcr, vl)
    regs = k.this_cpu.regs
    k.set(regs.v, sve_state.v)
    k.set(regs.zhi, sve_state.zhi)
    k.set(regs.p, sve_state.p)
    k.copy_fpsr_fpcr(regs, fpsr_src)


def may_use_simd(k: Ctx) -> Expr:
    """arch/arm64/include/asm/simd.h: may_use_simd().

    !in_irq() && !irqs_disabled() && !in_nmi() && !this_cpu_read(kernel_neon_busy).
    (v4.17 reads kernel_neon_busy with raw_cpu_read; the value read is the same.)
    """
    return ~k.in_irq() & ~k.irqs_disabled() & k.this_cpu.kernel_neon_busy.eq(0)


def system_supports_sve(k: Ctx) -> Expr:
    """arch/arm64/include/asm/cpufeature.h: system_supports_sve() (a configuration constant)."""
    return k.true if k.config.sve else k.false


# ---------------------------------------------------------------- context tracking
def task_fpsimd_load(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c: task_fpsimd_load(): load current's user FP state.

    WARN_ON(!in_softirq() && !irqs_disabled()); without TIF_SVE this is
    fpsimd_load_state(&current->thread.uw.fpsimd_state).
    """
    k.check(k.in_softirq() | k.irqs_disabled(), "WARN", "task_fpsimd_load",
            "WARN_ON(!in_softirq() && !irqs_disabled())")
    load_by_tif_sve(k)


def load_by_tif_sve(k: Ctx) -> None:
    """The load of task_fpsimd_load() up to v6.1 (not a C function of its own): with
    current's TIF_SVE, sve_load_state(sve_pffr(&current->thread), &uw.fpsimd_state.fpsr)
    at the task's VL; otherwise fpsimd_load_state(&current->thread.uw.fpsimd_state)."""
    if k.config.sve and k.cur.mm:  # kernel threads never have TIF_SVE
        with k.If(k.test_thread_flag("TIF_SVE")):
            k.sve_load_state(k.cur.sve_state, k.cur.uw, k.cur.sve_vl)
        with k.Else():
            k.fpsimd_load_state(k.cur.uw)
    else:
        k.fpsimd_load_state(k.cur.uw)


def fpsimd_save(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c: fpsimd_save() (was static task_fpsimd_save()).

    Saves the registers into ``fpsimd_last_state.st`` (a task's or, since the seed, a
    vcpu's state) if current's TIF_FOREIGN_FPSTATE is clear, i.e. if the registers hold
    the state bound to this CPU on current's behalf.  WARN_ON(!in_softirq() &&
    !irqs_disabled()).  With SVE and current's TIF_SVE, the Z registers go to *current's*
    sve_state whatever ``st`` is, and only FPSR/FPCR to ``st``.

    The pointer is read first, into a local, as the C does (``st =
    __this_cpu_read(fpsimd_last_state.st)`` before the WARN and the flag test): where
    an IRQ can come inside (a caller without bottom halves disabled), the save goes
    where ``st`` pointed when fpsimd_save() was entered.
    """
    cpu = k.this_cpu
    st = k.let("st", cpu.last_st)
    k.check(k.in_softirq() | k.irqs_disabled(), "WARN", "fpsimd_save",
            "WARN_ON(!in_softirq() && !irqs_disabled())")
    with k.If(~k.test_thread_flag("TIF_FOREIGN_FPSTATE")):
        if k.config.sve and k.cur.mm:  # kernel threads never have TIF_SVE
            with k.If(k.test_thread_flag("TIF_SVE")):
                with k.If(sve_vl_matches(k)):
                    k.sve_save_state(k.cur.sve_state, st)
            with k.Else():
                k.store_through(st, k.fpsimd_save_state)
        else:
            k.store_through(st, k.fpsimd_save_state)


def sve_vl_matches(k: Ctx, function: str = "fpsimd_save") -> Expr:
    """The VL check of fpsimd_save() (v4.17: task_fpsimd_save()) on current's live SVE
    state: ``if (WARN_ON(sve_get_vl() != current->thread.sve_vl))`` the registers cannot
    be saved at current's length: force_signal_inject(SIGKILL) and return without
    saving.  Returns the "lengths agree" condition, under which the caller saves.  With
    one vector length it cannot fail and is not emitted.  Abstraction: the SIGKILL
    itself (the task dying) is not modelled; the WARN is the finding."""
    zcr = k.this_cpu.zcr
    if not isinstance(zcr, Var):
        return k.true
    ok = k.let("vl_ok", zcr.eq(k.cur.sve_vl))
    k.check(ok.eq(1), "WARN", function,
            "WARN_ON(sve_get_vl() != current->thread.sve_vl): SIGKILL, state not saved")
    return ok.eq(1)


def fpsimd_thread_switch(k: Ctx, next_task: int) -> None:
    """arch/arm64/kernel/fpsimd.c: fpsimd_thread_switch(next), called from __switch_to().

    Save current's (or a bound vcpu's) live state, then set next's TIF_FOREIGN_FPSTATE
    unless this CPU's registers still hold next's state (last_state.st is next's and
    next->thread.fpsimd_cpu is this CPU).  A kernel thread never matches.
    """
    cpu = k.this_cpu
    nxt = k.task(next_task)
    k.fpsimd_save()
    if nxt.mm:
        wrong_task = cpu.last_st.ne(k.S.task_fpstate(next_task))
        wrong_cpu = nxt.fpsimd_cpu.ne(k.cpu)
        k.update_tsk_thread_flag(next_task, "TIF_FOREIGN_FPSTATE", wrong_task | wrong_cpu)
    else:
        k.update_tsk_thread_flag(next_task, "TIF_FOREIGN_FPSTATE", True)


def fpsimd_bind_task_to_cpu(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c: fpsimd_bind_task_to_cpu() (static fpsimd_bind_to_cpu()
    before the seed): current's state is the one in this CPU's registers.

    last->st = &current->thread.uw.fpsimd_state; last->sve_in_use = TIF_SVE;
    current->thread.fpsimd_cpu = this CPU.  No assertion ("preemption must be disabled").
    With SVE, the EL0 SVE trap follows TIF_SVE (sve_user_enable()/sve_user_disable():
    CPACR_EL1.ZEN_EL0EN), moved here from task_fpsimd_load() by the seed's series.
    """
    cpu = k.this_cpu
    k.set(cpu.last_st, k.S.task_fpstate(k.current))
    k.set(cpu.last_sve_in_use, k.test_thread_flag("TIF_SVE"))
    k.set(k.cur.fpsimd_cpu, k.cpu)
    if k.config.sve:
        k.set(cpu.zen_el0en, k.test_thread_flag("TIF_SVE"))


def fpsimd_bind_state_to_cpu(k: Ctx, st: int) -> None:
    """arch/arm64/kernel/fpsimd.c: fpsimd_bind_state_to_cpu(st) (added by the seed).

    WARN_ON(!in_softirq() && !irqs_disabled()); last->st = st; last->sve_in_use = false.
    """
    cpu = k.this_cpu
    k.check(k.in_softirq() | k.irqs_disabled(), "WARN", "fpsimd_bind_state_to_cpu",
            "WARN_ON(!in_softirq() && !irqs_disabled())")
    k.set(cpu.last_st, st)
    k.set(cpu.last_sve_in_use, False)


def fpsimd_restore_current_state(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c: fpsimd_restore_current_state() (from do_notify_resume).

    Under local_bh_disable(): if test_and_clear TIF_FOREIGN_FPSTATE, load current's state
    and bind it to this CPU.
    """
    k.local_bh_disable()
    with k.If(k.test_thread_flag("TIF_FOREIGN_FPSTATE")):
        k.clear_thread_flag("TIF_FOREIGN_FPSTATE")
        k.task_fpsimd_load()
        k.fpsimd_bind_task_to_cpu()
    k.local_bh_enable()


def fpsimd_flush_cpu_state(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c: fpsimd_flush_cpu_state() (made global by the seed).

    Invalidate this CPU's registers: last_state.st = NULL, and set current's
    TIF_FOREIGN_FPSTATE (the second statement is in the seed's context lines).
    """
    k.set(k.this_cpu.last_st, "NULL")
    k.set_thread_flag("TIF_FOREIGN_FPSTATE")


def sve_flush_cpu_state(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c: sve_flush_cpu_state(): flush if the bound state is SVE.

    if (last->st && last->sve_in_use) fpsimd_flush_cpu_state().
    """
    cpu = k.this_cpu
    with k.If(cpu.last_st.ne("NULL") & cpu.last_sve_in_use.eq(1)):
        k.fpsimd_flush_cpu_state()


def kernel_neon_begin(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c: kernel_neon_begin().

    BUG_ON(!may_use_simd()); local_bh_disable(); kernel_neon_busy = true; fpsimd_save();
    fpsimd_flush_cpu_state(); preempt_disable(); local_bh_enable().
    """
    cpu = k.this_cpu
    k.check(k.may_use_simd(), "BUG", "kernel_neon_begin", "BUG_ON(!may_use_simd())")
    k.local_bh_disable()
    k.set(cpu.kernel_neon_busy, True)
    k.fpsimd_save()
    k.fpsimd_flush_cpu_state()
    k.preempt_disable()
    k.local_bh_enable()


def kernel_neon_end(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c: kernel_neon_end().

    busy = __this_cpu_xchg(kernel_neon_busy, false); WARN_ON(!busy); preempt_enable().
    The registers are left holding kernel data; TIF_FOREIGN_FPSTATE forces a reload.
    """
    cpu = k.this_cpu
    busy = k.let("busy", cpu.kernel_neon_busy)
    k.set(cpu.kernel_neon_busy, False)
    k.check(busy.eq(1), "WARN", "kernel_neon_end", "WARN_ON(!busy)")
    k.preempt_enable()


def fpsimd_flush_task_state(k: Ctx, t: int) -> None:
    """arch/arm64/kernel/fpsimd.c: fpsimd_flush_task_state(t): t->thread.fpsimd_cpu =
    NR_CPUS, so no CPU's registers count as t's any more (it does not set
    TIF_FOREIGN_FPSTATE at this version; callers do)."""
    k.set(k.task(t).fpsimd_cpu, "NR_CPUS")


def sve_alloc(k: Ctx, t: int | None = None) -> None:
    """arch/arm64/kernel/fpsimd.c: sve_alloc(task) (default current): zero the task's
    sve_state, Z and P/FFR (memset of an existing buffer or kzalloc of a new one;
    allocation failure is a BUG, not modelled).  The memset's size is
    sve_state_size(current), not of ``task``: with one vector length they are equal."""
    task = k.task(k.current if t is None else t)
    zero = Const(k.S.VALUE, k.S.ZERO)
    k.set(task.sve_state.v, zero)
    k.set(task.sve_state.zhi, zero)
    k.set(task.sve_state.p, zero)


def fpsimd_to_sve(k: Ctx, t: int | None = None) -> None:
    """arch/arm64/kernel/fpsimd.c: fpsimd_to_sve(task) (default current): copy V0-V31 from
    uw.fpsimd_state into the low 128 bits of the Z registers in sve_state (the rest is
    left alone)."""
    task = k.task(k.current if t is None else t)
    k.set(task.sve_state.v, task.uw.v)


def fpsimd_sync_to_sve(k: Ctx, t: int) -> None:
    """arch/arm64/kernel/fpsimd.c: fpsimd_sync_to_sve(task): fpsimd_to_sve() unless the
    task's TIF_SVE says sve_state is already the authoritative copy."""
    with k.If(~k.test_tsk_thread_flag(t, "TIF_SVE")):
        k.fpsimd_to_sve(t)


def sve_set(k: Ctx, target: int) -> None:
    """arch/arm64/kernel/ptrace.c: sve_set() for PTRACE_SETREGSET NT_ARM_SVE, full SVE
    case, on a stopped tracee (target != current): sve_alloc(target);
    fpsimd_sync_to_sve(target); set TIF_SVE; copy the tracer's Z and P/FFR data into
    target->thread.sve_state and FPSR/FPCR into its uw.fpsimd_state; then
    fpsimd_flush_task_state(target).  The tracer's data is a new generation of the
    tracee's FP state (the tracee will read it as its own), P/FFR included."""
    tgt = k.task(target)
    k.sve_alloc(target)
    k.fpsimd_sync_to_sve(target)
    k.update_tsk_thread_flag(target, "TIF_SVE", True)
    k.fp_write_memory(target, [tgt.sve_state.v, tgt.sve_state.zhi, *tgt.uw.fpsr_slots()], zhi=True,
                      p_slots=[tgt.sve_state.p], p_defined=True)
    k.fpsimd_flush_task_state(target)


def do_sve_acc(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c: do_sve_acc(): EL0 executed SVE with the trap enabled.

    sve_alloc(current); local_bh_disable(); fpsimd_save(); fpsimd_to_sve(current);
    fpsimd_flush_task_state(current); set TIF_FOREIGN_FPSTATE; if test_and_set TIF_SVE:
    WARN_ON(1) ("SVE access shouldn't have trapped"); local_bh_enable().  Returns to user
    through ret_to_user, which loads the SVE state and enables EL0 SVE.
    """
    k.sve_alloc()
    k.local_bh_disable()
    k.fpsimd_save()
    k.fpsimd_to_sve()
    k.fpsimd_flush_task_state(k.current)
    k.set_thread_flag("TIF_FOREIGN_FPSTATE")
    k.check(~k.test_thread_flag("TIF_SVE"), "WARN", "do_sve_acc",
            "WARN_ON(1): SVE access shouldn't have trapped (TIF_SVE already set)")
    k.set_thread_flag("TIF_SVE")
    k.local_bh_enable()
    k.goto("KERNEL")


# ------------------------------------------------- exec, signals, ptrace (optional events)
def sve_free(k: Ctx, t: int | None = None) -> None:
    """arch/arm64/kernel/fpsimd.c: sve_free(task): WARN_ON(TIF_SVE); __sve_free(): kfree
    the task's sve_state and set the pointer to NULL.

    Abstraction: the buffer is modelled as holding zero from here on.  Every later use
    goes through sve_alloc() first (a fresh kzalloc, all zero), and every reader of
    sve_state is guarded by TIF_SVE, which is set only after sve_alloc()."""
    t = k.current if t is None else t
    task = k.task(t)
    k.check(~k.test_tsk_thread_flag(t, "TIF_SVE"), "WARN", "sve_free",
            "WARN_ON(test_tsk_thread_flag(task, TIF_SVE))")
    if isinstance(task.sve_state.v, Var):
        zero = Const(k.S.VALUE, k.S.ZERO)
        for slot in task.sve_state.all_slots():
            k.set(slot, zero)


def fpsimd_flush_thread(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c: fpsimd_flush_thread() (from flush_thread() at execve),
    the same at v4.17, the seed's base and v4.18.

    local_bh_disable(); memset(&current->thread.uw.fpsimd_state, 0);
    fpsimd_flush_task_state(current); if SVE: clear TIF_SVE, sve_free(current), reset
    thread.sve_vl to sve_vl_onexec or sve_default_vl (one vector length in this model: a
    no-op) and clear sve_vl_onexec unless TIF_SVE_VL_INHERIT; set TIF_FOREIGN_FPSTATE;
    local_bh_enable().  Bottom halves are off throughout, so preemption and softirqs
    cannot interleave; an IRQ can, but its handler does not touch FP: one step.
    """
    uw = k.cur.uw
    zero = Const(k.S.VALUE, k.S.ZERO)
    k.local_bh_disable()
    k.set(uw.v, zero)
    k.zero_fpsr_fpcr(uw)
    k.fpsimd_flush_task_state(k.current)
    if k.config.sve:
        k.clear_thread_flag("TIF_SVE")
        k.sve_free()
        if isinstance(k.cur.sve_vl, Var):
            # sve_vl_onexec is not modelled (PR_SVE_SET_VL_ONEXEC/INHERIT): it is 0, so
            # the new program gets sve_default_vl (its WARNs on an invalid or
            # unsupported default cannot fire: the default is one of Config.sve_vls).
            k.set(k.cur.sve_vl, k.config.default_vl_index)
    k.set_thread_flag("TIF_FOREIGN_FPSTATE")
    k.local_bh_enable()


def sve_set_vector_length(k: Ctx, t: int, vl: int) -> None:
    """arch/arm64/kernel/fpsimd.c: sve_set_vector_length(task, vl, flags) (v4.17 and v4.18
    alike but for the name of the save: task_fpsimd_save() at v4.17, fpsimd_save() from
    the seed's base on, called through the variant's table), without flags.

    ``vl`` is already one the system supports (the step chooses it among
    Config.sve_vls: find_supported_vector_length() maps any valid request to one).  If
    it equals the task's VL: nothing (``goto out``).  Otherwise, for task == current,
    under local_bh_disable(): the save (live registers back to the thread struct) and
    set TIF_FOREIGN_FPSTATE; then fpsimd_flush_task_state(task); if test_and_clear
    TIF_SVE: sve_to_fpsimd(task) (the V bits of the SVE state into uw.fpsimd_state);
    local_bh_enable() (current); sve_free(task) (sve_state is reallocated at the new
    size on next use); task->thread.sve_vl = vl.

    Not modelled: PR_SVE_SET_VL_ONEXEC (only sve_vl_onexec changes, read at exec) and
    PR_SVE_VL_INHERIT (TIF_SVE_VL_INHERIT, read at exec): the model's exec always gets
    the default VL (`fpsimd_flush_thread`)."""
    task = k.task(t)
    if not isinstance(task.sve_vl, Var):
        return
    with k.If(task.sve_vl.ne(vl)):
        if t == k.current:
            k.local_bh_disable()
            if "fpsimd_save" in k.variant.functions:
                k.fpsimd_save()
            else:
                k.task_fpsimd_save()
            k.set_thread_flag("TIF_FOREIGN_FPSTATE")
        k.fpsimd_flush_task_state(t)
        with k.If(k.test_tsk_thread_flag(t, "TIF_SVE")):
            k.update_tsk_thread_flag(t, "TIF_SVE", False)
            k.sve_to_fpsimd(t)
        if t == k.current:
            k.local_bh_enable()
        k.sve_free(t)
        k.set(task.sve_vl, vl)
        with k.atomic():
            # Ghost: "Changing the vector length causes all of P0..P15, FFR and all bits
            # of Z0..Z31 except for Z0 bits [127:0] .. Z31 bits [127:0] to become
            # unspecified" (Documentation/arm64/sve.txt section 6): the model's reading,
            # as after a syscall: Z-high zero, P/FFR undefined.
            k.set(task.zhi_expected, 0)
            k.set(task.p_written, 0)


def sve_set_current_vl(k: Ctx, vl: int) -> None:
    """arch/arm64/kernel/fpsimd.c: sve_set_current_vl(arg) (prctl(PR_SVE_SET_VL), from
    kernel/sys.c SVE_SET_VL): with SVE, sve_set_vector_length(current, vl, flags); the
    returned status (sve_prctl_status()) only reads.  The caller is in the prctl
    syscall: preemptible, IRQs and bottom halves on."""
    k.sve_set_vector_length(k.current, vl)
    if isinstance(k.cur.syscall_body, Var):
        k.set(k.cur.syscall_body, False)  # the prctl's body is done


def fpsimd_preserve_current_state(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c: fpsimd_preserve_current_state() (seed's base, v4.18):
    local_bh_disable(); fpsimd_save(); local_bh_enable()."""
    k.local_bh_disable()
    k.fpsimd_save()
    k.local_bh_enable()


def sve_to_fpsimd(k: Ctx, t: int | None = None) -> None:
    """arch/arm64/kernel/fpsimd.c: sve_to_fpsimd(task): copy the low 128 bits of each Z
    register in sve_state into uw.fpsimd_state.vregs (FPSR/FPCR and P/FFR untouched).
    A no-op without SVE and SME (v6: ``!system_supports_sve() && !system_supports_sme()``;
    SME exists only in the v6 models)."""
    if not (k.config.sve or k.config.sme):
        return
    task = k.task(k.current if t is None else t)
    k.set(task.uw.v, task.sve_state.v)


def fpsimd_signal_preserve_current_state(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c: fpsimd_signal_preserve_current_state():
    fpsimd_preserve_current_state(); then, if SVE and TIF_SVE, sve_to_fpsimd(current),
    outside the bh-disabled section (see signal.setup_rt_frame for why that window does
    not matter)."""
    k.fpsimd_preserve_current_state()
    if k.config.sve:
        with k.If(k.test_thread_flag("TIF_SVE")):
            k.sve_to_fpsimd()


def fpsimd_update_current_state(k: Ctx, state: Image) -> None:
    """arch/arm64/kernel/fpsimd.c: fpsimd_update_current_state(state) (seed's base and
    v4.18): local_bh_disable(); current->thread.uw.fpsimd_state = *state (V, FPSR/FPCR);
    if SVE and TIF_SVE: fpsimd_to_sve(current); task_fpsimd_load();
    fpsimd_bind_task_to_cpu(); clear TIF_FOREIGN_FPSTATE; local_bh_enable().

    The bind is unconditional since the EL0 SVE trap moved into the bind (the seed's base
    has it there, model.kernel.fpsimd.fpsimd_bind_task_to_cpu); v4.17 binds only if
    TIF_FOREIGN_FPSTATE was set (model.variants.v4_17)."""
    k.local_bh_disable()
    update_current_state_statements(k, state)
    k.local_bh_enable()


def update_current_state_statements(k: Ctx, state: Image) -> None:
    """The statements of fpsimd_update_current_state() inside its bh-disabled section (v6.1:
    its FPSIMD context), the same from v4.18 to v6.15 (not a C function): merge, load,
    bind, clear TIF_FOREIGN_FPSTATE."""
    uw = k.cur.uw
    k.set(uw.v, state.v)
    k.copy_fpsr_fpcr(uw, state)
    if k.config.sve:
        with k.If(k.test_thread_flag("TIF_SVE")):
            k.fpsimd_to_sve()
    k.task_fpsimd_load()
    k.fpsimd_bind_task_to_cpu()
    k.clear_thread_flag("TIF_FOREIGN_FPSTATE")


def sve_sync_to_fpsimd(k: Ctx, t: int) -> None:
    """arch/arm64/kernel/fpsimd.c: sve_sync_to_fpsimd(task) (ptrace only, task stopped):
    if the task's TIF_SVE is set, sve_to_fpsimd(task)."""
    if not k.config.sve:
        return
    with k.If(k.test_tsk_thread_flag(t, "TIF_SVE")):
        k.sve_to_fpsimd(t)


def sve_sync_from_fpsimd_zeropad(k: Ctx, t: int) -> None:
    """arch/arm64/kernel/fpsimd.c: sve_sync_from_fpsimd_zeropad(task) (ptrace only): if
    the task's TIF_SVE is set, memset its sve_state to zero (Z and P/FFR) and copy
    uw.fpsimd_state.vregs into the low 128 bits of each Z register."""
    if not k.config.sve:
        return
    task = k.task(t)
    zero = Const(k.S.VALUE, k.S.ZERO)
    with k.If(k.test_tsk_thread_flag(t, "TIF_SVE")):
        for slot in task.sve_state.all_slots():
            k.set(slot, zero)
        k.set(task.sve_state.v, task.uw.v)


def kernel_fp_write(k: Ctx) -> None:
    """Kernel-mode NEON code between kernel_neon_begin() and kernel_neon_end() writes the
    registers (all of them: V, FPSR/FPCR, and with SVE the Z bits above 127, which a
    NEON write zeroes; the model writes its own token there too, as a stand-in for
    "not the previous owner's").  The data is the section's own (``kneon.task`` or
    ``kneon.softirq``) until `kernel_fp_read` reads it back."""
    regs = k.this_cpu.regs
    tok = Const(k.S.VALUE, k.S.kneon_section(bool(k.serving_softirq)))
    for slot in (regs.v, regs.fpsr, regs.fpcr, regs.zhi):  # never FPEXC32 (64-bit kernel)
        if isinstance(slot, Var):
            k.set(slot, tok)


def kernel_fp_read(k: Ctx) -> None:
    """Kernel-mode NEON code reads back what it computed in the registers (e.g. the
    cipher's state between rounds): it must be what this section wrote
    (`Ctx.kernel_neon_read_back`, property ``no_loss``)."""
    k.kernel_neon_read_back(bool(k.serving_softirq))


# ---------------------------------------------------------------- EFI runtime services
def _sve_insn(k: Ctx) -> None:
    """The host executes an SVE instruction at EL1: in the variants that model nVHE's
    host SVE trap (v6.13's `sve_host_insn`, SVE vcpus) it traps to hyp first while
    CPTR_EL2.TZ is set (a state variable only there); elsewhere it just runs."""
    if isinstance(k.this_cpu.cptr_tz, Var) and "sve_host_insn" in k.variant.functions:
        k.sve_host_insn()


def __efi_fpsimd_begin(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c: __efi_fpsimd_begin() (CONFIG_EFI; the same text in
    v4.17, at the seed and in v4.18): prepare FPSIMD for an EFI runtime-services call,
    whose ABI lets the firmware use FPSIMD.

    (``if (!system_supports_fpsimd()) return``: the model's CPUs have FP.)
    WARN_ON(preemptible()).  If may_use_simd(): kernel_neon_begin().  Otherwise (IRQs off,
    hardirq, or a kernel-NEON section already open on this CPU) save the raw registers
    into this CPU's EFI buffers without touching any ownership metadata: with SVE (and
    the efi_sve_state buffer, which sve_efi_setup() allocates at boot whenever SVE and EFI
    runtime services are present, or panics) set efi_sve_state_used and sve_save_state()
    the Z registers into efi_sve_state and FPSR/FPCR into efi_fpsimd_state; without SVE
    fpsimd_save_state(efi_fpsimd_state); then set efi_fpsimd_state_used.
    Abstraction: one vector length, so the FFR offset for sve_max_vl is the live one.
    """
    cpu = k.this_cpu
    k.check(~k.preemptible(), "WARN", "__efi_fpsimd_begin", "WARN_ON(preemptible())")
    with k.If(k.may_use_simd()):
        k.kernel_neon_begin()
    with k.Else():
        if k.config.sve:
            k.set(cpu.efi_sve_state_used, True)
            _sve_insn(k)
            k.sve_save_state(cpu.efi_sve_state, cpu.efi_fpsimd_state)
        else:
            k.fpsimd_save_state(cpu.efi_fpsimd_state)
        k.set(cpu.efi_fpsimd_state_used, True)


def __efi_fpsimd_end(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c: __efi_fpsimd_end() (same text in every modelled
    version): clean up after the EFI call.

    If __this_cpu_xchg(efi_fpsimd_state_used, false) was false, kernel_neon_end().
    Otherwise restore the raw registers: with SVE and efi_sve_state_used, sve_load_state()
    from efi_sve_state (Z) and efi_fpsimd_state (FPSR/FPCR) and clear efi_sve_state_used;
    else fpsimd_load_state(efi_fpsimd_state) (which zeroes the Z bits above 127).
    """
    cpu = k.this_cpu
    used = k.let("efi_fpsimd_state_used", cpu.efi_fpsimd_state_used)
    k.set(cpu.efi_fpsimd_state_used, False)
    with k.If(used.eq(0)):
        k.kernel_neon_end()
    with k.Else():
        if k.config.sve:
            with k.If(cpu.efi_sve_state_used.eq(1)):
                _sve_insn(k)
                k.sve_load_state(cpu.efi_sve_state, cpu.efi_fpsimd_state)
                k.set(cpu.efi_sve_state_used, False)
            with k.Else():
                k.fpsimd_load_state(cpu.efi_fpsimd_state)
        else:
            k.fpsimd_load_state(cpu.efi_fpsimd_state)


# ---------------------------------------------------------------- CPU PM and hotplug
def fpsimd_cpu_pm_notifier(k: Ctx, cmd: str) -> None:
    """arch/arm64/kernel/fpsimd.c: fpsimd_cpu_pm_notifier(self, cmd, v) (CONFIG_CPU_PM),
    seed and v4.18 (v4.18 [P·18] read; at the seed's base the same: "Eliminate task->mm
    checks" (df3fb9682045) and d8ad71fa38a9, which precede the seed in its series, removed
    v4.17's ``current->mm`` tests and CPU_PM_EXIT's flag, and nothing after the seed up to
    v4.18 touches this function).

    CPU_PM_ENTER: fpsimd_save() (whatever is live for current: its own state, or a vcpu's
    bound by ctxsync), then fpsimd_flush_cpu_state() (st = NULL, current's
    TIF_FOREIGN_FPSTATE set).  CPU_PM_EXIT: nothing.  CPU_PM_ENTER_FAILED and the rest:
    NOTIFY_DONE, nothing.  ``cmd`` is decided when the step is built.
    """
    if cmd == "CPU_PM_ENTER":
        k.fpsimd_save()
        k.fpsimd_flush_cpu_state()


def fpsimd_cpu_dead(k: Ctx, cpu: int) -> None:
    """arch/arm64/kernel/fpsimd.c: fpsimd_cpu_dead(cpu) (CONFIG_HOTPLUG_CPU; the
    CPUHP_ARM64_FPSIMD_DEAD teardown callback, the same in every modelled version; added
    by 32365e64a20e "arm64: fix bug for reloading FPSIMD state after CPU hotplug").

    Runs on the CPU that controls the hotplug, after ``cpu`` is dead: per_cpu(
    fpsimd_last_state.st, cpu) = NULL, so no task's state counts as loaded there any more.
    """
    k.set(k.S.cpu[cpu].last_st, "NULL")


FUNCTIONS = {
    f.__name__: f
    for f in (
        __efi_fpsimd_begin,
        __efi_fpsimd_end,
        fpsimd_cpu_pm_notifier,
        fpsimd_cpu_dead,
        fpsimd_save_state,
        fpsimd_load_state,
        may_use_simd,
        system_supports_sve,
        task_fpsimd_load,
        fpsimd_save,
        fpsimd_thread_switch,
        fpsimd_bind_task_to_cpu,
        fpsimd_bind_state_to_cpu,
        fpsimd_restore_current_state,
        fpsimd_flush_cpu_state,
        sve_flush_cpu_state,
        kernel_neon_begin,
        kernel_neon_end,
        kernel_fp_write,
        kernel_fp_read,
        sve_save_state,
        sve_load_state,
        fpsimd_flush_task_state,
        sve_alloc,
        fpsimd_to_sve,
        fpsimd_sync_to_sve,
        sve_set,
        do_sve_acc,
        sve_free,
        fpsimd_flush_thread,
        fpsimd_preserve_current_state,
        sve_to_fpsimd,
        fpsimd_signal_preserve_current_state,
        fpsimd_update_current_state,
        sve_sync_to_fpsimd,
        sve_sync_from_fpsimd_zeropad,
        sve_set_vector_length,
        sve_set_current_vl,
    )
}
