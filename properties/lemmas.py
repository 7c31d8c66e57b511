"""Strengthening lemmas: state invariants that make the properties inductive.

Each lemma is named, has a one-line reason, and is built as a model `Expr` over a `Layout`
(like properties/fp.py), so both engines evaluate it: the explicit engine checks it on
every explored state (tests/checker/smt/test_lemmas.py), the SMT engine proves it by
induction together with the properties (checker.smt.induction).

A lemma lists the variants it is claimed for (``None``: every variant).  A variant no
lemma names explicitly (e.g. a user's patch derived from the seed) inherits its parent's
lemmas, so a broken patch is refused with a CTI or a counterexample, never proved.

SVE: the lemmas describe the Z bits above 128 (the registers' and sve_state's high
slices against the ghost ``zhi_written``), where a task's latest value lives (sve_state in
SVE format, uw.fpsimd_state otherwise: `_sve_format`), TIF_SVE, CPACR_EL1.ZEN_EL0EN and
the vcpu's HOST_SVE_IN_USE/HOST_SVE_ENABLED.  Every SVE-only lemma is the constant TRUE
without SVE and the SVE-aware helpers reduce to the plain ones, so configurations without
SVE get the same expressions as before.  v4.17 and the seed's lineage (v4.18) are proved
with SVE; v4.18-rc1 inherits the seed's lemmas and is refused (its real bugs, fixes #2
and #3 of docs/fixes.md, break them).

Vocabulary used below: CPU c's *host view* of the FP registers is its registers, except
(v4.17) while a guest runs on c with FP untrapped, when hyp has parked the host's
registers in ``host_ctxt``.  A guest is *live* on c (seed) while its vcpu thread is
current on c in guest mode with FP_ENABLED: the registers then hold the guest's state and
the host-side bookkeeping of c (fpsimd_last_state, TIF_FOREIGN_FPSTATE) is suspended
until kvm_arch_vcpu_ctxsync_fp() after the exit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from model.dsl import FALSE, TRUE, Eq, Expr, Var, all_of, any_of, implies
from model.state import P_LATEST, PCS, SIGFRAME_SNAPSHOT, SIGSEGV_PCS, Image, Layout
from properties.fp import _sigframe_sme_ok, p_value_ok


@dataclass(frozen=True)
class Lemma:
    name: str
    reason: str
    build: Callable[[Layout], Expr]
    variants: tuple[str, ...] | None = None


# ----------------------------------------------------------------------------- helpers
# RUN_NEON_*: (v6.8+, event kvm_run_kernel_neon) inside a kernel-mode NEON section in
# KVM_RUN, vcpu loaded (model.state.RUN_NEON_PCS; absent elsewhere, `_pc_in` skips them)
KVM_PCS = ("VCPU_LOAD", "LOOP_TOP", "IN_GUEST", "POST_EXIT", "LOOP_EXIT",
           "RUN_NEON_TOP", "RUN_NEON_EXIT")
LOADED_PCS = ("LOOP_TOP", "IN_GUEST", "POST_EXIT", "LOOP_EXIT", "RUN_NEON_TOP",
              "RUN_NEON_EXIT")
# Where a task is inside a task-context kernel-mode NEON section (v6.8+), before its
# read-back: a syscall's, or (event kvm_run_kernel_neon) the VMM thread's in KVM_RUN
NEON_SECTION_PCS = ("KERNEL_NEON", "RUN_NEON_TOP", "RUN_NEON_EXIT")
# Steps only a VMM thread runs, inside KVM_RUN (their continuation points, model.steps
# split_plan, are named after them).
KVM_STEPS = ("kvm_run", "vcpu_load", "enter_guest", "guest_", "handle_exit", "vcpu_put",
             "psci_cpu_off", "vcpu_sleep_signal", "vcpu_reset", "kvm_run_kernel_neon")


def _users(S: Layout):
    return [t for t in S.tasks if t.mm]


def _vmms(S: Layout):
    return [t for t in S.tasks if t.vmm]


def _idles(S: Layout):
    """The idle threads, one per CPU (not the kworker: `Layout.kworker`)."""
    return [t for t in S.tasks if not t.mm and t.index != S.kworker]


def _kthreads(S: Layout):
    """Every kernel thread: the idle threads and (event kthread_kernel_neon) the kworker."""
    return [t for t in S.tasks if not t.mm]


def _sectioned(S: Layout):
    """The tasks that can be inside a preemptible task-context kernel-NEON section (state
    feature kernel_fpstate): the user tasks and (event kthread_kernel_neon) the kworker."""
    return [t for t in S.tasks if t.kernel_state is not None]


def _migrating(S: Layout):
    """The tasks the scheduler may run on any CPU: all but the idle threads."""
    return [t for t in S.tasks if t.mm or t.index == S.kworker]


def _cpus(S: Layout) -> range:
    return range(S.config.cpus)


def _field(slot) -> str:  # noqa: ANN001
    """"the write of <task>.<field>" without the task: ".sigframe.v" for T0.sigframe.v."""
    return "." + slot.name.split(".", 1)[1]


def _restoring(S: Layout, t) -> Expr:  # noqa: ANN001
    """(--preemption split) Task t is preempted between the start of a new generation of
    its state and the statements that put it in place, so its state is not where the
    usual lemmas look:

    * (event signal) inside sys_rt_sigreturn(), from the ghost to the window before the
      write of in_handler, excluded (`_sigreturn_phases`): the new state is in the frame
      and partly in uw.fpsimd_state (lemma signal_frame_state);
    * (event exec) inside sys_execve() before flush_thread()'s memset of
      uw.fpsimd_state (the windows before pop_sigframe and in fpsimd_flush_thread()'s
      local_bh_disable()): the new program's zero state is nowhere yet (lemma
      exec_in_progress)."""
    pcs: tuple[str, ...] = ()
    if t.sigframe is not None:
        pcs += _sigreturn_phases(S)[1]
    if isinstance(t.expect_zero, Var):
        pcs += tuple(pc for _, pc, _ in S.windows("exec"))
    return _pc_in(t, pcs)


def _sigreturn_phases(S: Layout) -> tuple[tuple[str, ...], ...]:
    """(event signal, --preemption split) sys_rt_sigreturn()'s windows by phase, in
    program order: (before the ghost: el0_svc's, where the handler's frame is still the
    current generation; restoring: from the ghost to the window before the write of
    in_handler; that last window, where the restore is done but the task is still in
    the handler; after it: the syscall's bookkeeping (event fork, sve_set_vl), where
    the handler has returned and the frame is dead)."""
    wins = S.windows("sigreturn")
    before = tuple(pc for _, pc, w in wins if w.startswith("el0_svc:"))
    ends = [i for i, (_, _, w) in enumerate(wins) if w.endswith(".in_handler")]
    end = ends[0] if ends else len(wins) - 1
    rest = [pc for _, pc, _ in wins[:end] if pc not in before]
    return (before, tuple(rest), tuple(pc for _, pc, _ in wins[end:end + 1]),
            tuple(pc for _, pc, _ in wins[end + 1:]))


def _alive(t) -> Expr:  # noqa: ANN001
    """Task t exists: TRUE except for the fork child's slot (event fork,
    model.state.Layout.fork_child) before its fork or after its do_exit().  A dead
    task_struct's FP fields are no context's state: nobody reads them until the next
    fork overwrites them (``*dst = *src``) and copy_thread() flushes its binding.

    (model.state.Layout.sigreturn_can_fail) Nor is a task killed by the SIGSEGV of a
    failed rt_sigreturn (program points SIGSEGV and DEAD): it never returns to user space,
    and its latest values may be nowhere (the sigreturn's ghost made the frame's values
    its new generation before the VL test failed, and the frame is dead)."""
    g = t.created.eq(1) if isinstance(t.created, Var) else TRUE
    if isinstance(t.pc, Var) and "DEAD" in t.pc.dom.labels:
        g = g & t.pc.ne("SIGSEGV") & t.pc.ne("DEAD")
    return g


def _sigreturn_failing(S: Layout, t) -> Expr:  # noqa: ANN001
    """(Layout.sigreturn_can_fail, --preemption split) Task t is preempted inside
    rt_sigreturn after a frame record's VL test failed (the C local ``err`` of
    restore_sigframe(), carried in state while the task waits: model.kernel.signal
    check_record's locals sve_vl_ok / za_vl_ok): it is on its way to badframe's SIGSEGV
    and dies (program points SIGSEGV, DEAD; `_alive`).  Its new generation is only in the
    frame, which is popped before the SIGSEGV: nothing expects it any more."""
    out = []
    for name, var in S.carried_vars.items():
        task, pc, key = name.split(".", 2)
        if (task == t.name and pc.startswith("sigreturn@")
                and key.startswith(("sve_vl_ok@", "za_vl_ok@"))):
            out.append(t.pc.eq(pc) & var.eq(0))
    return any_of(out)


def _pc_in(t, pcs) -> Expr:  # noqa: ANN001
    """t is at one of ``pcs`` (those this layout has: the others are never reached)."""
    return any_of(t.pc.eq(p) for p in pcs if p in t.pc.dom.labels)


def _holds(v, t) -> Expr:  # noqa: ANN001
    return v.mutex.eq(t.name)


def _tok_ok(S: Layout, slot, owner: int, img: Image | None = None) -> Expr:  # noqa: ANN001
    """A slot holds what ``owner`` must read there: its latest value, or zero while a user
    task owner has exec'd and not written since (ghost exec_zero, or with SME an SM
    change: fpsimd_flush_thread() in arch/arm64/kernel/fpsimd.c memsets thread.uw.fpsimd_state
    and the next load puts those zeroes in the registers; FPMR by its own ghost
    exec_zero_fpmr where it has one).  Without the ghosts: ``slot == latest(owner)``."""
    last = slot.eq(S.latest(owner))
    if owner >= S.config.user_tasks:
        return last
    t = S.tasks[owner]
    ghost = t.expect_zero
    if img is not None and slot is img.fpmr and isinstance(t.fpmr_expect_zero, Var):
        ghost = t.fpmr_expect_zero
    if _is_fpcr(slot):
        # (SME) FPCR by its own ghost: an SM change zeroes V and resets FPSR, not FPCR
        ghost = t.fpcr_expect_zero
    # (FPMR without its own exec ghost: expect_zero, a variable only with SME, where an SM
    # change resets FPMR with V: model/variants/v6_sme.py sme_write_svcr)
    if not isinstance(ghost, Var):
        return last
    return (ghost.eq(1) & slot.eq(S.ZERO)) | (ghost.eq(0) & last)


def _is_fpcr(slot) -> bool:  # noqa: ANN001
    """(SME) slot is an FPCR slice (model.state.Image.fpcr: every one is named <image>.fpcr)."""
    return isinstance(slot, Var) and slot.name.endswith(".fpcr")


def _latest(S: Layout, img: Image, owner: int) -> Expr:
    """Every slot of img holds what owner must read (`_tok_ok`: its latest value, or zero
    after exec)."""
    return all_of(_tok_ok(S, slot, owner, img) for slot in img.slots())


# ------------------------------------------------------------------------ SVE helpers
# Without SVE every helper below reduces to the plain "every slot holds the latest value"
# of `_latest` (the Z-high slices are constant zero, TIF_SVE is constant clear), so the
# lemmas built from them are the same expressions as before SVE was covered.
def _vf_latest(S: Layout, img: Image, owner: int) -> Expr:
    """The V and FPSR/FPCR slices of img hold owner's latest value."""
    return all_of(_tok_ok(S, slot, owner) for slot in (img.v, img.fpsr, img.fpcr)
                  if isinstance(slot, Var))


def _zhi_expected(S: Layout, zhi, t) -> Expr:  # noqa: ANN001
    """A Z-high slice holds what task t last wrote there: its latest value if its last
    write was an SVE one (ghost zhi_written), else zero."""
    return ((t.zhi_expected.eq(1) & zhi.eq(S.latest(t.index)))
            | (t.zhi_expected.eq(0) & zhi.eq(S.ZERO)))


def _p_ok(S: Layout, p, t) -> Expr:  # noqa: ANN001
    """A P0-P15/FFR slice holds only task t's bits (or zero), and what t must read there
    by its ghost p_written (`properties.fp.p_value_ok`: its latest P write, or zero where
    the kernel guarantees zero)."""
    own = any_of(p.eq(a) for a in (S.ZERO, S.latest(t.index), S.stale(t.index)))
    return own & p_value_ok(S, t.p_written, p, t.index)


def _guest_fpmr_latest(S: Layout, img: Image, owner: int) -> Expr:
    """FPMR (Config.fpmr) is a guest's state only if its VM has FPMR (Config.guest_fpmr):
    otherwise the guest cannot access it, the live register keeps the host's value while
    the guest runs, and the vcpu's FPMR receives whatever the save finds (read by no one)."""
    if isinstance(img.fpmr, Var) and S.config.guest_fpmr:
        return img.fpmr.eq(S.latest(owner))
    return all_of(())


def _guest_regs_latest(S: Layout, img: Image, owner: int) -> Expr:
    """A guest's state: V and FPSR/FPCR its latest, the Z bits above 127 zero (guests
    only ever write through V and hyp loads them with an FPSIMD load).  SVE vcpus
    (Config.sve_guest): every slice, P/FFR too, its latest (its writes are SVE writes and
    hyp loads all of them from vcpu->arch.sve_state).  FPMR: `_guest_fpmr_latest`."""
    fpmr = _guest_fpmr_latest(S, img, owner)
    # (SME without SVE the Z-high/P slices exist too: the streaming registers)
    if not (S.config.sve or S.config.sme) or not isinstance(img.zhi, Var):
        return all_of(slot.eq(S.latest(owner)) for slot in img.slots()
                      if slot is not img.fpmr) & fpmr
    if S.config.sve_guest:
        return _vf_latest(S, img, owner) & img.zhi.eq(S.latest(owner)) \
            & img.p.eq(S.latest(owner)) & fpmr
    return _vf_latest(S, img, owner) & img.zhi.eq(S.ZERO) & fpmr


def _guest_saved_slots(S: Layout, v) -> list:  # noqa: ANN001
    """The slots of a vcpu's saved state that hold its guest's latest value (FPMR only if
    the VM has it, `_guest_fpmr_latest`): fp_regs, or for an SVE vcpu (Config.sve_guest)
    FPSR/FPCR in fp_regs and Z (V slice and the bits above 127) and P/FFR in
    vcpu->arch.sve_state (fp_regs.vregs is not used then)."""
    fpmr = [v.fp_regs.fpmr] if isinstance(v.fp_regs.fpmr, Var) and S.config.guest_fpmr else []
    if v.sve_state is None:
        return [slot for slot in v.fp_regs.slots() if slot is not v.fp_regs.fpmr] + fpmr
    return [*v.fp_regs.fpsr_slots(), v.sve_state.v, v.sve_state.zhi, v.sve_state.p] + fpmr


def _guest_saved_latest(S: Layout, v) -> Expr:  # noqa: ANN001
    """A vcpu's saved state (`_guest_saved_slots`) holds its guest's latest value, except
    while a VMM thread is preempted inside a write of a new generation of it (the
    KVM_SET_ONE_REG ioctl between two registers' copy_from_user(), holding vcpu->mutex):
    there the slots the write has stored (known at that continuation point,
    model.state.WindowFacts) hold the latest value and the others the older one, which
    the write's supersede retired (P/FFR have their own generation, superseded with
    their write, so they stay latest)."""
    owner = S.guest_owner(v.index)
    last, old = S.latest(owner), S.stale(owner)
    slots = _guest_saved_slots(S, v)
    full = all_of(slot.eq(last) for slot in slots)
    names = {slot.name for slot in slots}
    partial = [(pc, {n for n, tok in f.tokens if n in names and tok == last})
               for pc, f in S.pc_facts]
    partial = [(pc, done) for pc, done in partial if done]
    if not partial:
        return full
    out, anywhere = [], []
    for pc, done in partial:
        here = any_of(t.pc.eq(pc) for t in _vmms(S))
        anywhere.append(here)
        p_slots = {v.sve_state.p.name} if v.sve_state is not None else set()
        out.append(implies(here, all_of(
            slot.eq(last if slot.name in done | p_slots else old) for slot in slots)))
    return all_of(out) & (any_of(anywhere) | full)


def _sve_format(S: Layout, t) -> Expr:  # noqa: ANN001
    """Task t's state is kept in SVE format (its saved Z registers are in sve_state): its
    TIF_SVE, or, for a VMM thread with a vcpu loaded, the HOST_SVE_IN_USE recorded at
    vcpu load (kvm_arch_vcpu_ctxsync_fp clears TIF_SVE until vcpu_put restores it)."""
    if not S.config.sve:
        return FALSE
    loaded = [_holds(v, t) & _pc_in(t, LOADED_PCS) & v.host_sve_in_use.eq(1)
              for v in S.vcpus] if t.vmm else []
    return t.tif_sve.eq(1) | any_of(loaded)


def _task_regs_latest(S: Layout, c: int, t) -> Expr:  # noqa: ANN001
    """CPU c's registers hold task t's latest state: V and FPSR/FPCR, and with SVE format
    the Z bits above 127 as t last wrote them (a state in FPSIMD format only has those
    bits zeroed at the next load, so they are not constrained)."""
    regs = S.cpu[c].regs
    if not S.config.sve:
        return _latest(S, regs, t.index)
    return _vf_latest(S, regs, t.index) & implies(_sve_format(S, t),
                                                  _zhi_expected(S, regs.zhi, t)
                                                  & _p_ok(S, regs.p, t))


def _task_saved_latest(S: Layout, t) -> Expr:  # noqa: ANN001
    """Task t's latest state is in memory: FPSR/FPCR in uw.fpsimd_state, the Z registers
    in sve_state if its state is in SVE format, else V in uw.fpsimd_state."""
    if not S.config.sve:
        return _latest(S, t.uw, t.index)
    sv = t.sve_state
    in_sve = _tok_ok(S, sv.v, t.index) & _zhi_expected(S, sv.zhi, t) & _p_ok(S, sv.p, t)
    fmt = _sve_format(S, t)
    return all_of(_tok_ok(S, x, t.index) for x in t.uw.fpsr_slots()) & (
        (fmt & in_sve) | (~fmt & _tok_ok(S, t.uw.v, t.index)))


def _untrapped(S: Layout, c: int) -> Expr:
    return ~S.fp_trapped(c)


def _in_guest_on(S: Layout, c: int, t, v) -> Expr:  # noqa: ANN001
    return S.cpu[c].current.eq(t.index) & t.pc.eq("IN_GUEST") & _holds(v, t)


def _guest_untrapped_on(S: Layout, c: int) -> Expr:
    """v4.17: some guest runs on c with FP untrapped (hyp parked the host's registers)."""
    return any_of(_in_guest_on(S, c, t, v) & _untrapped(S, c) for t in _vmms(S) for v in S.vcpus)


def _host_latest(S: Layout, c: int, owner: int) -> Expr:
    """v4.17: CPU c's host view holds owner's latest value."""
    g = _guest_untrapped_on(S, c)
    return (g & _latest(S, S.cpu[c].host_ctxt, owner)) | (~g & _latest(S, S.cpu[c].regs, owner))


def _host_task_latest(S: Layout, c: int, t) -> Expr:  # noqa: ANN001
    """v4.17: CPU c's host view holds task t's latest state.  With SVE, hyp's host save
    area has no Z bits above 127 (its restore zeroes them), so a state parked there is in
    FPSIMD format."""
    if not S.config.sve:
        return _host_latest(S, c, t.index)
    g = _guest_untrapped_on(S, c)
    return ((g & _vf_latest(S, S.cpu[c].host_ctxt, t.index) & ~_sve_format(S, t))
            | (~g & _task_regs_latest(S, c, t)))


def _guest_live(S: Layout, c: int) -> Expr:
    """seed: a guest runs on c with FP_ENABLED (its state is in c's registers)."""
    return any_of(_in_guest_on(S, c, t, v) & v.fp_enabled.eq(1)
                  for t in _vmms(S) for v in S.vcpus)


def _bound_task(S: Layout, c: int, t) -> Expr:  # noqa: ANN001
    return S.cpu[c].last_st.eq(S.task_fpstate(t.index)) & t.fpsimd_cpu.eq(c)


# ------------------------------------------------------------ execution-context lemmas
def no_hardirq_at_rest(S: Layout) -> Expr:
    return all_of(S.cpu[c].hardirq.eq(0) for c in _cpus(S))


def no_softirq_at_rest(S: Layout) -> Expr:
    return all_of(S.cpu[c].softirq_count.eq(0) for c in _cpus(S))


def neon_not_busy_at_rest(S: Layout) -> Expr:
    return all_of(S.cpu[c].kernel_neon_busy.eq(0) for c in _cpus(S))


def rq_unlocked_at_rest(S: Layout) -> Expr:
    return all_of(S.cpu[c].rq_lock.eq(0) for c in _cpus(S))


def idle_on_own_cpu(S: Layout) -> Expr:
    return all_of(S.cpu[c].current.ne(i.index)
                  for c in _cpus(S) for d, i in enumerate(_idles(S)) if d != c)


def task_on_one_cpu(S: Layout) -> Expr:
    return all_of(~(S.cpu[c].current.eq(t.index) & S.cpu[d].current.eq(t.index))
                  for t in _migrating(S) for c in _cpus(S) for d in _cpus(S) if c < d)


def irqs_by_pc(S: Layout) -> Expr:
    out = []
    for c in _cpus(S):
        cpu = S.cpu[c]
        for t in S.tasks:
            if not t.mm:
                out.append(implies(cpu.current.eq(t.index), cpu.irqs_disabled.eq(0)))
                continue
            masked = t.pc.eq("IN_GUEST")
            out.append(implies(cpu.current.eq(t.index),
                               (masked & cpu.irqs_disabled.eq(1))
                               | (~masked & cpu.irqs_disabled.eq(0))))
    return all_of(out)


def preempt_by_pc(S: Layout) -> Expr:
    out = []
    for c in _cpus(S):
        cpu = S.cpu[c]
        for t in S.tasks:
            if not t.mm:
                out.append(implies(cpu.current.eq(t.index), cpu.preempt_count.eq(0)))
                continue
            off = _pc_in(t, ("IN_GUEST", "POST_EXIT"))
            out.append(implies(cpu.current.eq(t.index),
                               (off & cpu.preempt_count.eq(1))
                               | (~off & cpu.preempt_count.eq(0))))
    return all_of(out)


def running_pcs_are_current(S: Layout) -> Expr:
    return all_of(implies(_pc_in(t, ("USER", "IN_GUEST", "POST_EXIT")),
                          any_of(S.cpu[c].current.eq(t.index) for c in _cpus(S)))
                  for t in _users(S))


def plain_tasks_stay_out_of_kvm(S: Layout) -> Expr:
    pcs = ("USER", "KERNEL") + (("KERNEL_NEON",) if "kernel_fpstate" in S.features else ())
    if S.sve_acc_split:
        pcs += ("SVE_ACC",)  # (v6.x with SVE) do_sve_acc() between sve_alloc() and its lock
    if S.config.sme:
        pcs += ("SME_ACC",)  # (SME) do_sme_acc() between its allocations and its lock
    # (--preemption split) preempted inside a step a plain task can run: syscalls,
    # ret_to_user, the SVE trap, ptrace (KVM_RUN's steps are the VMM threads')
    pcs += tuple(p for p in S.extra_pcs if not p.startswith(KVM_STEPS))
    # (Layout.sigreturn_can_fail) killed by a failed rt_sigreturn's SIGSEGV
    pcs += ("SIGSEGV", "DEAD")
    return all_of(_pc_in(t, pcs) for t in _users(S) if not t.vmm)


def mutex_by_pc(S: Layout) -> Expr:
    """Inside KVM_RUN a VMM thread holds one vcpu's mutex; preempted inside another step
    that takes one (KVM_SET_ONE_REG's ioctl), the mutex known held at that continuation
    point (model.state.WindowFacts); elsewhere none."""
    out = []
    holding = {pc: f.held for pc, f in S.pc_facts if f.held}
    for t in _vmms(S):
        held = [_holds(v, t) for v in S.vcpus]
        out.append(implies(_pc_in(t, KVM_PCS), any_of(held)))
        for pc, vs in holding.items():
            out.append(implies(t.pc.eq(pc), all_of(held[i] for i in vs)))
        out.append(implies(~_pc_in(t, KVM_PCS + tuple(holding)), ~any_of(held)))
        out += [~(held[a] & held[b]) for a in range(len(held)) for b in range(len(held)) if a < b]
    for v in S.vcpus:
        out.append(all_of(v.mutex.ne(t.name) for t in _users(S) if not t.vmm))
    return all_of(out)


def generation_only_where_stored(S: Layout) -> Expr:
    """While a task is preempted inside a write of a new generation of some owner's FP
    values (a multi-register copy_from_user(): KVM_SET_ONE_REG between two registers),
    the owner's latest token is only in the slots that write has stored (known at that
    continuation point, model.state.WindowFacts): the write's supersede retired every
    other copy (`Ctx.supersede`).  P/FFR have their own generations and are left out,
    and FPMR when the write has stored no FPMR slot (a write of the FP part alone
    leaves FPMR's labels).  TRUE without such continuation points."""
    out = []
    images = S.all_images()
    fpmr_names = {img.fpmr.name for img in images if isinstance(img.fpmr, Var)}
    latest = {S.latest(o) for o in range(S.config.user_tasks + S.config.vcpus)}
    for pc, f in S.pc_facts:
        here = any_of(t.pc.eq(pc) for t in _users(S) if pc in t.pc.dom.labels)
        for tok in sorted({tok for _, tok in f.tokens} & latest):
            stored = {n for n, t in f.tokens if t == tok}
            skip = stored | (set() if stored & fpmr_names else fpmr_names)
            out.append(implies(here, all_of(slot.ne(tok) for img in images
                                            for slot in img.slots() if slot.name not in skip)))
    return all_of(out)


def notifier_by_pc(S: Layout) -> Expr:
    out = []
    for t in _vmms(S):
        for v in S.vcpus:
            out.append(implies(_pc_in(t, LOADED_PCS) & _holds(v, t),
                               t.loaded_vcpu.eq(v.index + 1)))
        out.append(implies(~_pc_in(t, LOADED_PCS), t.loaded_vcpu.eq(0)))
    return all_of(out)


def host_fp_untrapped(S: Layout) -> Expr:
    return all_of(implies(S.cpu[c].current.eq(t.index) & t.pc.ne("IN_GUEST"),
                          _untrapped(S, c))
                  for c in _cpus(S) for t in S.tasks if t.mm) & all_of(
        implies(S.cpu[c].current.eq(i.index), _untrapped(S, c))
        for c in _cpus(S) for i in _kthreads(S))


def user_not_foreign(S: Layout) -> Expr:
    return all_of(implies(S.cpu[c].current.eq(t.index) & t.pc.eq("USER"), t.tif_foreign.eq(0))
                  for c in _cpus(S) for t in _users(S))


def idle_always_foreign(S: Layout) -> Expr:
    return all_of(i.tif_foreign.eq(1) for i in _kthreads(S) if isinstance(i.tif_foreign, Var))


# ------------------------------------------------------------------ v4.17 lemmas
def v417_never_binds_vcpu(S: Layout) -> Expr:
    return all_of(S.cpu[c].last_st.ne(S.vcpu_fpstate(v.index))
                  for c in _cpus(S) for v in S.vcpus)


def _pm_flushed_live(S: Layout, c: int, t) -> Expr:  # noqa: ANN001
    """v4.17 with the cpu_pm event: a CPU PM entry that failed after the FP notifier's
    CPU_PM_ENTER (no power-down, no CPU_PM_EXIT) left st = NULL with the running task's
    TIF_FOREIGN_FPSTATE clear and its state still in the registers (FALSE without the
    event)."""
    if "cpu_pm" not in S.config.events:
        return FALSE
    return S.cpu[c].last_st.eq("NULL") & t.fpsimd_cpu.eq(c) & _host_task_latest(S, c, t)


def v417_binding_is_live(S: Layout) -> Expr:
    return all_of(implies(_alive(t) & ~_restoring(S, t) & _bound_task(S, c, t),
                          _host_task_latest(S, c, t))
                  for c in _cpus(S) for t in _users(S))


def v417_foreign_clear_is_bound(S: Layout) -> Expr:
    return all_of(implies(S.cpu[c].current.eq(t.index) & t.tif_foreign.eq(0),
                          _bound_task(S, c, t) | (S.cpu[c].last_st.eq("NULL")
                                                  if S.config.sve else FALSE)
                          | _pm_flushed_live(S, c, t))
                  for c in _cpus(S) for t in _users(S))


def v417_sve_flushed_state_is_live(S: Layout) -> Expr:
    if not S.config.sve:
        return TRUE
    return all_of(implies(S.cpu[c].current.eq(t.index) & t.tif_foreign.eq(0)
                          & S.cpu[c].last_st.eq("NULL"),
                          (S.cpu[c].last_sve_in_use.eq(1) & t.fpsimd_cpu.eq(c)
                           & t.tif_sve.eq(0) & _host_task_latest(S, c, t))
                          | _pm_flushed_live(S, c, t))
                  for c in _cpus(S) for t in _users(S))


def v417_sve_no_host_sve_flags(S: Layout) -> Expr:
    if not S.config.sve:
        return TRUE
    return all_of(v.host_sve_in_use.eq(0) & v.host_sve_enabled.eq(0) for v in S.vcpus)


def v417_sve_binding_records_sve(S: Layout) -> Expr:
    if not S.config.sve:
        return TRUE
    return all_of(implies(_bound_task(S, c, t) & t.tif_sve.eq(1),
                          S.cpu[c].last_sve_in_use.eq(1))
                  for c in _cpus(S) for t in _users(S))


def v417_sve_flushed_before_guest(S: Layout) -> Expr:
    if not S.config.sve:
        return TRUE
    return all_of(implies(_in_guest_on(S, c, t, v),
                          S.cpu[c].last_st.eq("NULL") | S.cpu[c].last_sve_in_use.eq(0))
                  for c in _cpus(S) for t in _vmms(S) for v in S.vcpus)


def v417_sve_set_in_kvm_run_is_foreign(S: Layout) -> Expr:
    if not S.config.sve:
        return TRUE
    return all_of(implies(_pc_in(t, KVM_PCS) & t.tif_sve.eq(1),
                          all_of(~_bound_task(S, c, t)
                                 & implies(S.cpu[c].current.eq(t.index), t.tif_foreign.eq(1))
                                 for c in _cpus(S)))
                  for t in _vmms(S))


def v417_sve_bound_sve_task_el0_enabled(S: Layout) -> Expr:
    if not S.config.sve:
        return TRUE
    return all_of(implies(_bound_task(S, c, t) & t.tif_sve.eq(1), S.cpu[c].zen_el0en.eq(1))
                  for c in _cpus(S) for t in _users(S))


def v417_sve_el0_enabled_for_live_task(S: Layout) -> Expr:
    if not S.config.sve:
        return TRUE
    return all_of(implies(S.cpu[c].current.eq(t.index) & t.tif_foreign.eq(0)
                          & S.cpu[c].zen_el0en.eq(1), t.tif_sve.eq(1))
                  for c in _cpus(S) for t in _users(S))


def v417_saved_unless_live(S: Layout) -> Expr:
    return all_of(~_alive(t) | _restoring(S, t) | _task_saved_latest(S, t) | any_of(
        S.cpu[c].current.eq(t.index) & t.tif_foreign.eq(0) for c in _cpus(S))
        for t in _users(S))


def v417_guest_regs(S: Layout) -> Expr:
    out = []
    for v in S.vcpus:
        g = S.guest_owner(v.index)
        live = []
        for c in _cpus(S):
            for t in _vmms(S):
                cond = _in_guest_on(S, c, t, v) & _untrapped(S, c)
                live.append(cond)
                out.append(implies(cond, _guest_regs_latest(S, S.cpu[c].regs, g)))
        out.append(_latest(S, v.fp_regs, g) | any_of(live))
    return all_of(out)


# ------------------------------------------------------------------ seed lemmas
def seed_guest_live_regs(S: Layout) -> Expr:
    return all_of(implies(_in_guest_on(S, c, t, v) & v.fp_enabled.eq(1),
                          _guest_regs_latest(S, S.cpu[c].regs, S.guest_owner(v.index)))
                  for c in _cpus(S) for t in _vmms(S) for v in S.vcpus)


def seed_guest_trap_by_flag(S: Layout) -> Expr:
    return all_of(implies(_in_guest_on(S, c, t, v),
                          (v.fp_enabled.eq(1) & _untrapped(S, c))
                          | (v.fp_enabled.eq(0) & S.fp_trapped(c)))
                  for c in _cpus(S) for t in _vmms(S) for v in S.vcpus)


def seed_task_binding_is_live(S: Layout) -> Expr:
    return all_of(implies(_alive(t) & ~_restoring(S, t) & ~_guest_live(S, c)
                          & _bound_task(S, c, t),
                          _task_regs_latest(S, c, t))
                  for c in _cpus(S) for t in _users(S))


def seed_foreign_clear_is_bound(S: Layout) -> Expr:
    out = []
    for c in _cpus(S):
        for t in _users(S):
            vcpu_bound = [_holds(v, t) & S.cpu[c].last_st.eq(S.vcpu_fpstate(v.index))
                          & v.fp_enabled.eq(1) & _pc_in(t, LOADED_PCS)
                          for v in S.vcpus] if t.vmm else []
            out.append(implies(S.cpu[c].current.eq(t.index) & t.tif_foreign.eq(0)
                               & ~_guest_live(S, c),
                               _bound_task(S, c, t) | any_of(vcpu_bound)))
    return all_of(out)


def seed_vcpu_binding_is_live(S: Layout) -> Expr:
    return all_of(implies(~_guest_live(S, c) & S.cpu[c].last_st.eq(S.vcpu_fpstate(v.index))
                          & S.cpu[c].current.eq(t.index) & t.tif_foreign.eq(0),
                          _guest_regs_latest(S, S.cpu[c].regs, S.guest_owner(v.index))
                          & _holds(v, t)
                          & _pc_in(t, LOADED_PCS))
                  for c in _cpus(S) for t in _users(S) for v in S.vcpus)


def seed_guest_saved_unless_live(S: Layout) -> Expr:
    out = []
    for v in S.vcpus:
        live = []
        for c in _cpus(S):
            for t in _vmms(S):
                mine = S.cpu[c].current.eq(t.index) & _holds(v, t)
                live.append(mine & t.pc.eq("IN_GUEST") & v.fp_enabled.eq(1))
                live.append(mine & t.tif_foreign.eq(0)
                            & S.cpu[c].last_st.eq(S.vcpu_fpstate(v.index)))
        out.append(_guest_saved_latest(S, v) | any_of(live))
    return all_of(out)


def seed_task_saved_unless_live(S: Layout) -> Expr:
    return all_of(~_alive(t) | _restoring(S, t) | _task_saved_latest(S, t) | any_of(
        S.cpu[c].current.eq(t.index) & t.tif_foreign.eq(0) & _bound_task(S, c, t)
        & ~_guest_live(S, c) for c in _cpus(S))
        for t in _users(S))


def seed_enabled_guest_is_bound(S: Layout) -> Expr:
    out = []
    for v in S.vcpus:
        for t in _vmms(S):
            bound = any_of(S.cpu[c].current.eq(t.index)
                           & S.cpu[c].last_st.eq(S.vcpu_fpstate(v.index)) for c in _cpus(S))
            out.append(implies(_holds(v, t) & _pc_in(t, ("POST_EXIT", "LOOP_TOP", "LOOP_EXIT"))
                               & v.fp_enabled.eq(1) & t.tif_foreign.eq(0), bound))
    return all_of(out)


def seed_fp_host_flag(S: Layout) -> Expr:
    out = []
    for v in S.vcpus:
        out.append(implies(v.fp_host.eq(1), v.fp_enabled.eq(0)))
        for t in _vmms(S):
            out.append(implies(_holds(v, t) & v.fp_host.eq(1) & t.pc.eq("IN_GUEST"),
                               t.tif_foreign.eq(0)))
            out.append(implies(_holds(v, t) & _pc_in(t, LOADED_PCS) & v.fp_host.eq(0)
                               & v.fp_enabled.eq(0), t.tif_foreign.eq(1)))
    return all_of(out)


def seed_vcpu_host_pointers(S: Layout) -> Expr:
    out = []
    for v in S.vcpus:
        out.append(implies(v.pid.eq("NULL"),
                           v.host_thread_info.eq("NULL") & v.host_fpsimd_state.eq("NULL")))
        for t in _users(S):
            out.append(implies(v.pid.eq(t.name),
                               v.host_thread_info.eq(t.name)
                               & v.host_fpsimd_state.eq(S.task_fpstate(t.index))))
            out.append(implies(_holds(v, t) & ~_pc_in(t, _ioctl_holding_pcs(S)),
                               v.pid.eq(t.name)))
    return all_of(out)


def _ioctl_holding_pcs(S: Layout) -> tuple[str, ...]:
    """Continuation points outside KVM_RUN where the waiting VMM thread holds a vcpu's
    mutex (KVM_SET_ONE_REG's ioctl, model.state.WindowFacts): the ioctl takes the mutex
    without kvm_arch_vcpu_run_pid_change(), so vcpu->pid may name another thread."""
    return tuple(pc for pc, f in S.pc_facts if f.held and not pc.startswith(KVM_STEPS))


# ------------------------------------------------------------------ SVE lemmas
def sve_ghost_needs_sve_format(S: Layout) -> Expr:
    if not S.config.sve:
        return TRUE
    return all_of(implies(t.zhi_expected.eq(1), _sve_format(S, t)) for t in _users(S))


def ptrace_stopped_at_stop_points(S: Layout) -> Expr:
    """A task in a ptrace stop sits at a stop point (pc KERNEL or VCPU_LOAD) and is not
    current anywhere (TRUE without the ptrace steps)."""
    if not S.ptrace:
        return TRUE
    return all_of(implies(t.stopped.eq(1),
                          _pc_in(t, ("KERNEL", "VCPU_LOAD"))
                          & all_of(S.cpu[c].current.ne(t.index) for c in _cpus(S)))
                  for t in _users(S))


def sve_p_ghost_needs_sve_format(S: Layout) -> Expr:
    if not S.config.sve:
        return TRUE
    return all_of(implies(t.p_written.eq(1), _sve_format(S, t)) for t in _users(S))


def sve_state_p_is_own(S: Layout) -> Expr:
    if not S.config.sve:
        return TRUE
    return all_of(any_of(t.sve_state.p.eq(a) for a in (S.ZERO, S.latest(t.index),
                                                        S.stale(t.index)))
                  for t in _users(S))


def sve_trap_preempted_state(S: Layout) -> Expr:
    """(--preemption split) A task preempted in do_sve_acc() (arch/arm64/kernel/fpsimd.c,
    2018) before it sets TIF_SVE: inside sve_alloc()'s memset of sve_state, or in the
    local_bh_disable() that follows.  It trapped because TIF_SVE was clear, and nothing
    sets another task's TIF_SVE meanwhile (a tracer writes NT_ARM_SVE only into a task
    stopped at a ptrace stop, never one preempted inside the trap); while it is switched
    out, fpsimd_save() stores its registers in FPSIMD format (uw), so sve_state keeps the
    zeroes the memset wrote before the preemption point."""
    if not S.config.sve:
        return TRUE

    def trap_pcs(function: str) -> tuple[str, ...]:
        return tuple(pc for pc in S.continuations_in(function)
                     if pc.startswith("user_sve_trap@"))

    in_alloc, after = trap_pcs("sve_alloc"), trap_pcs("local_bh_disable")
    past_zhi = tuple(pc for pc in in_alloc
                     if pc in S.continuations_in("sve_alloc", "sve_state.p")) + after
    return all_of(implies(_pc_in(t, in_alloc + after), t.tif_sve.eq(0))
                  & implies(_pc_in(t, past_zhi), t.sve_state.zhi.eq(S.ZERO))
                  & implies(_pc_in(t, after), t.sve_state.p.eq(S.ZERO))
                  for t in _users(S))


def sve_el0_enabled_only_for_sve_task(S: Layout) -> Expr:
    if not S.config.sve:
        return TRUE
    return all_of(implies(S.cpu[c].zen_el0en.eq(1) & _bound_task(S, c, t), _sve_format(S, t))
                  for c in _cpus(S) for t in _users(S))


def seed_sve_in_use_follows_tif(S: Layout) -> Expr:
    if not S.config.sve:
        return TRUE
    return all_of(implies(_holds(v, t) & _pc_in(t, LOADED_PCS) & t.tif_sve.eq(1),
                          v.host_sve_in_use.eq(1))
                  for t in _vmms(S) for v in S.vcpus)


def seed_sve_enabled_restores_sve_binding(S: Layout) -> Expr:
    if not S.config.sve:
        return TRUE
    out = []
    for c in _cpus(S):
        for t in _vmms(S):
            for v in S.vcpus:
                cond = (S.cpu[c].current.eq(t.index) & _holds(v, t) & _pc_in(t, LOADED_PCS)
                        & v.host_sve_enabled.eq(1))
                for u in _users(S):
                    sve = v.host_sve_in_use.eq(1) if u is t else u.tif_sve.eq(1)
                    out.append(implies(cond & _bound_task(S, c, u), sve))
    return all_of(out)


def sve_el0_enabled_follows_tif(S: Layout) -> Expr:
    if not S.config.sve:
        return TRUE
    return all_of(implies(S.cpu[c].current.eq(t.index) & _pc_in(t, ("USER", "KERNEL"))
                          & t.tif_foreign.eq(0),
                          S.cpu[c].zen_el0en.eq(t.tif_sve))
                  for c in _cpus(S) for t in _users(S))


def seed_sve_vcpu_bound_thread_not_sve(S: Layout) -> Expr:
    if not S.config.sve:
        return TRUE
    return all_of(implies(S.cpu[c].last_st.eq(S.vcpu_fpstate(v.index)),
                          v.fp_enabled.eq(1) & any_of(
                              S.cpu[c].current.eq(t.index) & _holds(v, t)
                              & _pc_in(t, LOADED_PCS) & t.tif_sve.eq(0) & t.tif_foreign.eq(0)
                              for t in _vmms(S)))
                  for c in _cpus(S) for v in S.vcpus)


def seed_sve_bound_sve_task_el0_enabled(S: Layout) -> Expr:
    if not S.config.sve:
        return TRUE
    out = []
    for c in _cpus(S):
        kvm = any_of(S.cpu[c].current.eq(t.index) & _holds(v, t) & _pc_in(t, LOADED_PCS)
                     & v.host_sve_enabled.eq(1) for t in _vmms(S) for v in S.vcpus)
        for u in _users(S):
            out.append(implies(_bound_task(S, c, u) & _sve_format(S, u),
                               S.cpu[c].zen_el0en.eq(1) | kvm))
    return all_of(out)


def seed_sve_preempted_vcpu_thread(S: Layout) -> Expr:
    if not S.config.sve:
        return TRUE
    return all_of(implies(_holds(v, t) & _pc_in(t, LOADED_PCS)
                          & all_of(S.cpu[c].current.ne(t.index) for c in _cpus(S)),
                          t.tif_sve.eq(v.host_sve_in_use))
                  for t in _vmms(S) for v in S.vcpus)


def seed_sve_tif_cleared_by_ctxsync(S: Layout) -> Expr:
    if not S.config.sve:
        return TRUE
    return all_of(implies(_holds(v, t) & _pc_in(t, LOADED_PCS) & t.tif_sve.eq(0)
                          & v.host_sve_in_use.eq(1),
                          v.fp_host.eq(0) & all_of(implies(S.cpu[c].current.eq(t.index),
                                                           ~_bound_task(S, c, t))
                                                   for c in _cpus(S)))
                  for t in _vmms(S) for v in S.vcpus)


def seed_sve_el0_enabled_recorded_at_load(S: Layout) -> Expr:
    if not S.config.sve:
        return TRUE
    return all_of(implies(S.cpu[c].current.eq(t.index) & _holds(v, t) & _pc_in(t, LOADED_PCS)
                          & S.cpu[c].zen_el0en.eq(1), v.host_sve_enabled.eq(1))
                  for c in _cpus(S) for t in _vmms(S) for v in S.vcpus)


# ------------------------------------------------------------ optional events' lemmas
def efi_buffers_at_rest(S: Layout) -> Expr:
    if "efi" not in S.config.events:
        return TRUE
    out = []
    for c in _cpus(S):
        cpu = S.cpu[c]
        out += [cpu.efi_fpsimd_state_used.eq(0), cpu.efi_sve_state_used.eq(0)]
        out += [slot.eq(S.ZERO) for img in (cpu.efi_fpsimd_state, cpu.efi_sve_state)
                for slot in img.slots()]
    return all_of(out)


def dead_fork_slot_at_rest(S: Layout) -> Expr:
    """(event fork) The fork child's slot while no task lives in it (before the first
    fork, after do_exit()): its program point is KERNEL (it was created at KERNEL and
    exits from a syscall at KERNEL; wake_up_new_task() sets KERNEL again), it is current
    on no CPU (do_exit() -> do_task_dead() switched it out for the last time), not in a
    ptrace stop, and (v6) its task-context kernel-mode NEON fields are the canonical
    dead ones (TIF_KERNEL_FPSTATE clear, kernel_fpsimd_state zero, kernel_fpsimd_cpu
    NR_CPUS): it exited outside any section.  Its latest token is nowhere but in its own
    task_struct and frame."""
    if S.fork_child is None:
        return TRUE
    t = S.tasks[S.fork_child]
    if not isinstance(t.created, Var):
        return TRUE
    parts = [t.pc.eq("KERNEL")] + [S.cpu[c].current.ne(t.index) for c in _cpus(S)]
    if isinstance(t.stopped, Var):
        parts.append(t.stopped.eq(0))
    if t.kernel_state is not None:
        parts += [t.tif_kernel_fpstate.eq(0), t.kernel_fpsimd_cpu.eq("NR_CPUS")]
        parts += [slot.eq(S.ZERO) for slot in t.kernel_state.slots()]
    # No context's data outside the slot's own task_struct and user memory carries the
    # slot's latest token: the empty slot never ran (its initial state) or do_exit()
    # retired every copy of its values (the model's supersede); a fork in progress
    # relabels only the copies it makes into the child's own thread struct.
    parts += [slot.ne(S.latest(t.index)) for img in S.all_images()
              if not img.name.startswith(t.name + ".") for slot in img.all_slots()]
    if t.sigframe is not None:
        # (event signal) nor does its frame (zero until a fork copies a frame in;
        # do_exit() retired its values), unless a parent paused inside _do_fork() before
        # wake_up_new_task() has copied its own there (fork_in_progress,
        # `_forked_sigframe`)
        created = f"the write of {t.name}.created"
        for slot in t.sigframe.all_slots():
            copied = S.windows_after("fork", f"the write of {slot.name}", created)
            forking = any_of(_pc_in(p, copied) for p in _users(S) if p is not t and not p.vmm)
            parts.append(implies(~forking, slot.ne(S.latest(t.index))))
    return implies(t.created.eq(0), all_of(parts))


def _saved_latest(S: Layout, t) -> Expr:  # noqa: ANN001
    """Task t's latest state is in its thread struct, in the lineage's terms: v6's
    fp_type-aware `_v6_task_saved_latest` where KVM has the tristate owner, else 2018's
    TIF_SVE-aware `_task_saved_latest`."""
    if S.features & {"host_data_fp_owner", "vcpu_fp_state"}:
        return _v6_task_saved_latest(S, t)
    return _task_saved_latest(S, t)


def _copied_tok(S: Layout, slot, parent, child, img: Image | None = None) -> Expr:  # noqa: ANN001
    """A slot of the child holds the parent's must-read value relabelled as the child's
    (`Ctx.copy_as_child` of a saved parent): zero if the parent expects zero after exec
    (FPMR by its own ghost), else the child's latest."""
    ghost = parent.expect_zero
    if img is not None and slot is img.fpmr:
        ghost = parent.fpmr_expect_zero
    last = slot.eq(S.latest(child.index))
    if not isinstance(ghost, Var):
        return last
    return (ghost.eq(1) & slot.eq(S.ZERO)) | (ghost.eq(0) & last)


def fork_in_progress(S: Layout) -> Expr:
    """(event fork, --preemption split) A parent preempted inside _do_fork() before
    wake_up_new_task() makes the child runnable (the model's ``created``) has a child
    slot with no live task yet, and still has its own state in its thread struct:
    arch_dup_task_struct() began with fpsimd_preserve_current_state() (v6.16:
    fpsimd_save_and_flush_current_state()) and the parent, in the kernel, writes no FP
    register until it returns (a switch-out or a softirq's kernel_neon_begin() saves the
    same values again).  Each slot of the child's uw.fpsimd_state copied by ``*dst =
    *src`` holds the parent's must-read value relabelled as the child's
    (`Ctx.copy_as_child`); past the copy of the ghosts the child expects what its parent
    expects (zero after exec) and, by the syscall ABI, no Z bits above 127 nor P/FFR.
    Once copy_thread()'s fpsimd_flush_task_state(child) has set its fpsimd_cpu, the child
    is bound to no CPU (fpsimd_cpu NR_CPUS) and its thread
    struct holds its must-read state in FPSIMD format (TIF_SVE cleared, sve_state
    NULL)."""
    if S.fork_child is None:
        return TRUE
    child = S.tasks[S.fork_child]
    wins = S.windows("fork")
    if not wins:
        return TRUE
    created = f"the write of {child.name}.created"
    before_wake = tuple(pc for k, pc, w in wins
                        if k <= min(k2 for k2, _, w2 in wins if w2.endswith(created)))
    flushed = S.windows_after(
        "fork", f"fpsimd_flush_task_state: the write of {child.name}.fpsimd_cpu", created)
    ghosts = S.windows_after(
        "fork", f"arch_dup_task_struct: the write of {child.name}.fpsimd_cpu", created)
    out = []
    for p in _users(S):
        if p is child:
            continue
        out.append(implies(_pc_in(p, before_wake), _saved_latest(S, p) & ~_alive(child)))
        for slot in child.uw.slots():
            done = S.windows_after("fork", f"the write of {slot.name}", created)
            out.append(implies(_pc_in(p, done), _copied_tok(S, slot, p, child, child.uw)))
        same = [_bit_is(getattr(child, g), getattr(p, g))
                for g in ("expect_zero", "fpmr_expect_zero")
                if isinstance(getattr(child, g), Var)]
        same += [child.zhi_expected.eq(0)] if isinstance(child.zhi_expected, Var) else []
        # (P: undefined, or zero from v6.9: Ctx.syscall_p_ghost; never the parent's latest)
        same += [~child.p_written.eq(P_LATEST)] if isinstance(child.p_written, Var) else []
        out.append(implies(_pc_in(p, ghosts), all_of(same)))
        out.append(implies(_pc_in(p, flushed), child.fpsimd_cpu.eq("NR_CPUS")
                           & _saved_latest(S, child)))
        out += _forked_sigframe(S, p, child, created)
    return all_of(out)


def _relabelled(S: Layout, c_slot, p_slot, p, child) -> Expr:  # noqa: ANN001
    """``c_slot`` is `Ctx.copy_as_child` of ``p_slot``: the parent's latest and older
    values relabelled as the child's, anything else as it is."""
    lp, sp = S.latest(p.index), S.stale(p.index)
    return ((p_slot.eq(lp) & c_slot.eq(S.latest(child.index)))
            | (p_slot.eq(sp) & c_slot.eq(S.stale(child.index)))
            | (p_slot.ne(lp) & p_slot.ne(sp) & Eq(c_slot, p_slot)))


def _forked_sigframe(S: Layout, p, child, created: str) -> list[Expr]:  # noqa: ANN001
    """(events fork and signal) arch_dup_task_struct()'s copy of the parent's signal frame
    (user memory: a parent inside a handler has a child inside the same handler on a copy
    of its frame): each frame slot copied so far is the parent's relabelled, and once
    in_handler is copied (the frame flags and ghosts follow it with no window between)
    the child's frame state is the parent's."""
    if child.sigframe is None or p.sigframe is None:
        return []
    out = []
    flags_done = S.windows_after("fork", f"the write of {child.name}.in_handler", created)
    for cs, ps in zip(child.sigframe.all_slots(), p.sigframe.all_slots(), strict=True):
        done = S.windows_after("fork", f"the write of {cs.name}", created) or flags_done
        out.append(implies(_pc_in(p, done), _relabelled(S, cs, ps, p, child)))
    flags = ("in_handler", "sigframe_sve", "sigframe_sm", "sigframe_za", "sigframe_fresh")
    flags += tuple(g for g, _ in SIGFRAME_SNAPSHOT)
    same = [Eq(getattr(child, g), getattr(p, g)) for g in flags
            if isinstance(getattr(child, g, None), Var)]
    if isinstance(getattr(child, "sigframe_zadata", None), Var):
        same.append(_relabelled(S, child.sigframe_zadata, p.sigframe_zadata, p, child))
    out.append(implies(_pc_in(p, flags_done), all_of(same)))
    return out


def _snap_tok(S: Layout, slot, t) -> Expr:  # noqa: ANN001
    """(event signal with SME) A frame slot holds what task t had to read when the signal
    was delivered: zero if the snapshot of expect_zero says so, else its latest value."""
    ez = t.sf_expect_zero
    if _is_fpcr(slot):  # (FPCR by the snapshot of its own ghost; a constant without it)
        ez = t.sf_fpcr_expect_zero
        if not isinstance(ez, Var):
            return slot.eq(S.latest(t.index))
    return (ez.eq(1) & slot.eq(S.ZERO)) | (ez.eq(0) & slot.eq(S.latest(t.index)))


def _same(b, e: Expr) -> Expr:  # noqa: ANN001
    """A boolean state bit (or carried local) equals a model condition."""
    return (b.eq(1) & e) | (b.eq(0) & ~e)


def _delivering_sme_records(S: Layout, t, snapped: tuple[str, ...]) -> list[Expr]:  # noqa: ANN001
    """(event signal with SME, --preemption split) Task t preempted inside setup_rt_frame():
    each SME record field preserve_sve_context() / preserve_za_context() has written holds
    what the saved state says (before setup_return()'s handler-entry ghost the task's own
    ghosts, which `_saved_latest` ties to thread.svcr and fp_type), the C locals carried
    across a window (``sm``, ``vq``, ``za_vq``) are what they read, and once the ghost has
    run (``snapped``) the whole frame is what no_loss reads (`_sigframe_sme_ok`)."""
    f = t.sigframe
    sm, za = t.svcr_sm.eq(1), t.svcr_za.eq(1)
    vq = sm | t.fp_type.eq("SVE")
    out: list[Expr] = []

    def after(field: str) -> tuple[str, ...]:
        return tuple(pc for pc in S.windows_after("signal", f"the write of {field}")
                     if pc not in snapped)

    out.append(implies(_pc_in(t, after(t.sigframe_sm.name)), _same(t.sigframe_sm, sm)))
    out.append(implies(_pc_in(t, after(t.sigframe_sve.name)), _same(t.sigframe_sve, vq)))
    zhi_ok = ((t.sigframe_sve.eq(1) & _zhi_expected(S, f.zhi, t))
              | (t.sigframe_sve.eq(0) & f.zhi.eq(S.ZERO)))
    p_ok = ((t.sigframe_sve.eq(1) & p_value_ok(S, t.p_written, f.p, t.index))
            | (t.sigframe_sve.eq(0) & f.p.eq(S.ZERO)))
    p_wins = [(k, pc) for k, pc, w in S.windows("signal")
              if w.endswith(f"the write of {f.p.name}")]
    # (Image.zv) sve_context's copy of Z bits [127:0], written after P in both branches
    zv = f.zv if isinstance(f.zv, Var) else None
    zv_wins = [(k, pc) for k, pc, w in S.windows("signal")
               if zv is not None and w.endswith(f"the write of {zv.name}")]
    zv_zero = zv.eq(S.ZERO) if zv is not None else TRUE
    zv_ok = ((t.sigframe_sve.eq(1) & _tok_ok(S, zv, t.index, f))
             | (t.sigframe_sve.eq(0) & zv_zero)) if zv is not None else TRUE
    for wins in (p_wins, zv_wins):
        if len(wins) == 2:
            # the branch taken is the one the header's flag says (both read the local vq;
            # the If's window is numbered before the Else's)
            out.append(implies(t.pc.eq(wins[0][1]), t.sigframe_sve.eq(1)))
            out.append(implies(t.pc.eq(wins[1][1]), t.sigframe_sve.eq(0)))
    if p_wins:
        # the If's and the Else's window before the P write: Z-high written, P not yet
        out.append(implies(_pc_in(t, tuple(pc for _, pc in p_wins)),
                           zhi_ok & f.p.eq(S.ZERO) & zv_zero))
        if zv_wins:  # ... and before the copy of V: P written, V not yet
            out.append(implies(_pc_in(t, tuple(pc for _, pc in zv_wins)),
                               zhi_ok & p_ok & zv_zero))
        p_done = tuple(pc for k, pc, _ in S.windows("signal")
                       if k > max(k for k, _ in p_wins + zv_wins) and pc not in snapped)
        out.append(implies(_pc_in(t, p_done), zhi_ok & p_ok & zv_ok))
        # before the record's If: its data slots are still the dead frame's zero (from
        # the first delivery window on, not only after the flag write: a stale P there
        # would survive the Else's window before its write)
        first_p = min(k for k, _ in p_wins)
        out.append(implies(_pc_in(t, tuple(pc for k, pc, _ in S.windows("signal")
                                           if k < first_p)),
                           f.zhi.eq(S.ZERO) & f.p.eq(S.ZERO) & zv_zero))
    out.append(implies(_pc_in(t, after(t.sigframe_za.name)), _same(t.sigframe_za, za)))
    out.append(implies(_pc_in(t, after(t.sigframe_zadata.name)), implies(
        t.sigframe_za.eq(1), _za_expected(S, t.sigframe_zadata, t))
        & implies(t.sigframe_za.eq(0), t.sigframe_zadata.eq(S.ZERO))))
    for name, var in S.carried_vars.items():
        task, pc, key = name.split(".", 2)
        if task != t.name or not pc.startswith("signal@") or pc in snapped:
            continue
        want = {"sm@": sm, "vq@": vq, "za_vq@": za}.get(key.split("@")[0] + "@")
        if want is not None:
            out.append(implies(t.pc.eq(pc), _same(var, want)))
    out.append(implies(_pc_in(t, snapped), _sigframe_sme_ok(S, t) & implies(
        t.sigframe_sve.eq(0), f.zhi.eq(S.ZERO) & f.p.eq(S.ZERO) & zv_zero)))
    return out


def _signal_frame(S: Layout) -> dict[str, Expr]:
    """(event signal) The signal frame by the task's place in the signal's life, by part
    (`SIGNAL_FRAME_PARTS`: one lemma each, so one consecution query each)
    (arch/arm64/kernel/signal.c):

    * no handler running and not delivering: the frame is dead (the model's pop_sigframe
      zeroes it; not fresh, no SVE data);
    * delivering (preempted inside setup_rt_frame(), split): not yet in the handler;
      fpsimd_signal_preserve_current_state() has saved the task's state, and each
      fpsimd_context slot preserve_fpsimd_context() has copied holds what the task must
      read (the rest still zero);
    * in the handler: the frame holds only the task's own bits (user memory written by
      the kernel from its state, or by the handler: the next sigreturn is a new
      generation), and while fresh exactly what the task must read (V/FPSR, FPMR; with an
      SVE record carrying data, its Z bits above 127 and defined P/FFR; without, zero);
    * returning (preempted inside sys_rt_sigreturn(), split): the new generation has
      begun (not fresh, no exec zero expectation), the frame's slots written by the
      ghost and every uw.fpsimd_state slot fpsimd_update_current_state() has written hold
      the task's latest value, and (before the restore's last window) nothing else does;
      inside v6.16's fpsimd_update_current_state() (with SME: from its first record
      restore on; after restore_sigframe()'s fpsimd_save_and_flush_current_state()) the
      task is foreign and bound nowhere."""
    res = []
    for t in _users(S):
        f = t.sigframe
        if f is None:
            continue
        out: dict[str, list[Expr]] = {g: [] for g in SIGNAL_FRAME_PARTS}
        res.append(out)
        # (event fork) an empty task_struct slot's frame is no one's: not constrained;
        # nor (a VL change in the handler) that of a task whose sigreturn failed
        alive = _alive(t) & ~_sigreturn_failing(S, t)
        last = S.latest(t.index)
        dwins, rwins = S.windows("signal"), S.windows("sigreturn")
        delivering = tuple(pc for _, pc, _ in dwins)
        entering, restoring, final, _ = _sigreturn_phases(S)
        returning = restoring + final
        # in el0_svc on the way to sys_rt_sigreturn() (the trampoline's svc): still in
        # the handler (the step is issued from it)
        out["state"].append(implies(_pc_in(t, entering), t.in_handler.eq(1)))
        fsv = t.sigframe_sve if isinstance(t.sigframe_sve, Var) else None
        dead = [slot.eq(S.ZERO) for slot in f.all_slots()] + [t.sigframe_fresh.eq(0)]
        if fsv is not None:
            dead.append(fsv.eq(0))
        out["state"].append(implies(t.in_handler.eq(0) & ~_pc_in(t, delivering), all_of(dead)))
        # delivering
        parts = [t.in_handler.eq(0), t.sigframe_fresh.eq(0), _saved_latest(S, t)]
        # (SME: after setup_return()'s handler-entry ghost, before do_signal() sets
        # in_handler, the task's own expectations are the handler's; the frame holds what
        # it had to read at delivery, the snapshot ghosts)
        snapped = S.windows_after("signal", "preserve_za_context: a test") \
            if isinstance(t.sf_expect_zero, Var) else ()
        for slot in (f.v, *f.fpsr_slots()):
            done = S.windows_after("signal", _field(slot))
            before = tuple(pc for pc in done if pc not in snapped)
            parts.append(implies(_pc_in(t, before), _tok_ok(S, slot, t.index, f)))
            if snapped:
                parts.append(implies(_pc_in(t, snapped), _snap_tok(S, slot, t)))
            parts.append(implies(~_pc_in(t, done), slot.eq(S.ZERO)))
        # (v6.16) after preserve_fpsimd_context()'s sve_sync_to_fpsimd() (from the window
        # after its copy on; the If is skipped for an FPSIMD-format save, whose uw.v is
        # the latest already) uw.fpsimd_state's V is what the task must read: it is what
        # the frame's fpsimd_context receives
        synced = S.windows_after("signal", f"sve_to_fpsimd: the write of {t.uw.v.name}")
        # (inside sve_sync_to_fpsimd()'s If: the saved state is SVE-format)
        syncing = tuple(pc for _, pc, w in dwins if w.startswith("sve_to_fpsimd:"))
        if syncing and "fp_type" in S.features and isinstance(t.fp_type, Var):
            parts.append(implies(_pc_in(t, syncing), t.fp_type.eq("SVE")))
        parts.append(implies(_pc_in(t, tuple(pc for pc in synced if pc not in snapped)),
                             _tok_ok(S, t.uw.v, t.index)))
        if snapped:
            parts += _delivering_sme_records(S, t, snapped)
        out["delivering"].append(implies(_pc_in(t, delivering), all_of(parts)))
        # in the handler
        own = all_of(any_of(slot.eq(a) for a in (S.ZERO, last, S.stale(t.index)))
                     for slot in f.all_slots())
        fresh = all_of(_tok_ok(S, slot, t.index, f) for slot in f.slots()
                       if slot is not f.zhi)
        if isinstance(f.zhi, Var) and fsv is not None:
            fresh = fresh & implies(fsv.eq(1), _zhi_expected(S, f.zhi, t)
                                    & p_value_ok(S, t.p_written, f.p, t.index)) \
                & implies(fsv.eq(0), f.zhi.eq(S.ZERO) & f.p.eq(S.ZERO))
        if isinstance(t.sf_expect_zero, Var):
            # (SME) the handler entry's SMSTOP ghost changed the task's own expectations
            # (zero after leaving streaming mode): the fresh frame holds what the task
            # had to read at delivery, the snapshot ghosts, as no_loss reads it
            fresh = _sigframe_sme_ok(S, t)
            if isinstance(f.zhi, Var) and fsv is not None:
                zv_zero = f.zv.eq(S.ZERO) if isinstance(f.zv, Var) else TRUE
                fresh = fresh & implies(fsv.eq(0), f.zhi.eq(S.ZERO) & f.p.eq(S.ZERO)
                                        & zv_zero)
        out["handler"].append(implies(t.in_handler.eq(1), own))
        # (events fork, sve_set_vl, sme_set_vl: a syscall body) preempted in el0_svc()
        # before the bookkeeping's write of syscall_body, the write of sigframe_fresh just
        # before it has ended the freshness (model.variants.v6 syscall_entry_bookkeeping)
        body = tuple(pc for step in ("syscall", "sigreturn") for _, pc, w in S.windows(step)
                     if w == f"el0_svc: the write of {t.name}.syscall_body")
        if body:
            out["handler"].append(implies(_pc_in(t, body), t.sigframe_fresh.eq(0)))
        # (not inside el0_svc() after its SVE discard and before its bookkeeping ends the
        # freshness: the syscall ABI's Z-high/P expectations have changed, the frame not)
        out["handler"].append(implies(t.in_handler.eq(1) & ~_pc_in(t, returning)
                           & ~_pc_in(t, S.continuations_in("el0_svc"))
                           & t.sigframe_fresh.eq(1), fresh))
        # returning
        parts = [t.in_handler.eq(1), t.sigframe_fresh.eq(0), f.v.eq(last)]
        if isinstance(t.expect_zero, Var):
            parts.append(t.expect_zero.eq(0))
        for slot in (*f.fpsr_slots(), t.uw.v, *t.uw.fpsr_slots()):
            # written on every path (after the last window before a write of it; the
            # restore has one fpsimd_update_current_state() per record kind) ...
            writes = [k for k, _, w in rwins if w.endswith(_field(slot))]
            done = tuple(pc for k, pc, _ in rwins if k > max(writes)) if writes \
                else S.windows_after("sigreturn", _field(slot))
            parts.append(implies(_pc_in(t, done), slot.eq(last)))
            if slot not in f.fpsr_slots() or writes:
                # ... and not yet written on any (before the first such window): an older
                # value (the ghost superseded it); uw is written by
                # fpsimd_update_current_state(), after every restoring window but the ones
                # inside it (v6.16)
                some = S.windows_after("sigreturn", _field(slot))
                parts.append(implies(_restoring(S, t) & ~_pc_in(t, some), slot.ne(last)))
        # (v6.16) fpsimd_update_current_state() copies V before FPSR/FPCR: its window
        # before the FPSR write (one per record kind) finds uw.v written
        mid = tuple(pc for _, pc, w in rwins
                    if w == f"fpsimd_update_current_state: the write of {t.uw.fpsr.name}")
        if mid:
            parts.append(implies(_pc_in(t, mid), t.uw.v.eq(last)))
        out["returning"].append(implies(_pc_in(t, returning), all_of(parts)))
        # until restore_sigframe() has put the new generation in place, nothing but the
        # frame and uw.fpsimd_state holds it (registers, sve_state and other tasks' memory
        # hold older values: the ghost superseded them)
        # (restore_sve_fpsimd_context()'s payload copy puts the frame's values into
        # sve_state too)
        # (SME: not the SVE record's own copy of V, Image.zv, which the ghost leaves old)
        mine = {id(s_) for s_ in f.all_slots() + t.uw.all_slots() + t.sve_state.all_slots()
                if s_ is not f.zv}
        out["new_generation"].append(implies(_restoring(S, t), all_of(
            slot.ne(last) for img in S.all_images() for slot in img.slots()
            if id(slot) not in mine)))
        # P/FFR have their own generations: the ghost begins a new one only for a record
        # with register data (supersede_p, in the If before the frame's Z-high write), so
        # only from there on is "nothing else holds it" about P (before, or for a record
        # without data, the latest P is the handler's old one, which p_written = 0 says
        # nobody reads any more)
        zk = [k for k, _, w in rwins if w.endswith(_field(f.zhi))] \
            if isinstance(f.zhi, Var) else []
        p_old = tuple(pc for k, pc, _ in rwins if zk and k < zk[0])
        out["new_generation"].append(implies(_restoring(S, t) & ~_pc_in(t, p_old)
                           & (fsv.eq(1) if fsv is not None else TRUE), all_of(
            slot.ne(last) for img in S.all_images() for slot in img.p_slots()
            if id(slot) not in mine)))
        merging = tuple(pc for _, pc, w in rwins if w.startswith("fpsimd_update_current_state:"))
        # (v6.16 with SME) every window from the first record restore on follows
        # restore_sigframe()'s save and flush, and nothing rebinds the task before its
        # return to user space (the SM and fp_type writes of the restore need it)
        # (its own windows after the flush too: with a VL-change event, the read of a
        # record's VL test and the test, `Layout.sigreturn_can_fail`)
        first = [k for k, _, w in rwins
                 if w.split(":")[0] in ("restore_sve_fpsimd_context", "restore_fpsimd_context",
                                        "restore_sigframe")]
        if first and isinstance(t.sf_expect_zero, Var):
            merging = tuple(pc for k, pc, _ in rwins if k >= min(first))
        if merging and "to_save" in S.features:
            out["returning"].append(implies(_pc_in(t, merging), t.tif_foreign.eq(1)
                               & t.fpsimd_cpu.eq("NR_CPUS")))
        if snapped and "to_save" in S.features:
            # (v6.16 with SME) setup_rt_frame() saves and flushes first
            # (fpsimd_save_and_flush_current_state()), and nothing rebinds the task
            # before its return to user space: every delivery window finds it unbound
            out["delivering"].append(implies(_pc_in(t, delivering), t.tif_foreign.eq(1)
                               & t.fpsimd_cpu.eq("NR_CPUS")))
        for g in out:
            out[g] = [implies(alive, e) for e in out[g]]
    return {g: all_of(e for out in res for e in out[g]) for g in SIGNAL_FRAME_PARTS}


# signal_frame_state's parts: as one lemma its consecution query got no answer in 300 s
# (z3, loaded 2-core machine); each part is its own lemma and query
SIGNAL_FRAME_PARTS = ("state", "delivering", "handler", "returning", "new_generation")


def signal_frame_state(S: Layout) -> Expr:
    """The frame outside a handler (dead) and in el0_svc on the way to rt_sigreturn
    (`_signal_frame`)."""
    return _signal_frame(S)["state"]


def signal_frame_delivering(S: Layout) -> Expr:
    """The frame and the task inside setup_rt_frame() (`_signal_frame`)."""
    return _signal_frame(S)["delivering"]


def signal_frame_in_handler(S: Layout) -> Expr:
    """The frame while the handler runs (`_signal_frame`)."""
    return _signal_frame(S)["handler"]


def signal_frame_returning(S: Layout) -> Expr:
    """The frame, uw.fpsimd_state and the binding inside rt_sigreturn (`_signal_frame`)."""
    return _signal_frame(S)["returning"]


def signal_frame_new_generation(S: Layout) -> Expr:
    """Inside rt_sigreturn's restore nothing but the frame, uw.fpsimd_state and sve_state
    holds the new generation (`_signal_frame`)."""
    return _signal_frame(S)["new_generation"]


def _signal_sme(S: Layout) -> dict[str, Expr]:
    """(event signal with SME) The SME parts of the frame and of rt_sigreturn that
    signal_frame_state leaves open (arch/arm64/kernel/signal.c; v6.16 as read in v6.18.2):

    * a frame with SVE_SIG_FLAG_SM carries a payload (preserve_sve_context() writes one
      whenever it sets the flag), and without SVE a payload is a streaming one (vq is the
      streaming VL or nothing); a dead frame has neither flag nor ZA data (pop_sigframe);
    * a frame with the SM flag or ZA data, or a thread.svcr with SM or ZA, belongs to a
      task with TIF_SME (only a task with TIF_SME can have set PSTATE.SM/ZA, which the
      save copies into thread.svcr and the delivery into the frame; nothing clears
      TIF_SME here);
    * (split) in rt_sigreturn's windows the branch taken is the one the frame's flags say
      (the sigreturn ghost's Ifs on the payload and on ZA data,
      restore_sve_fpsimd_context()'s FPSIMD path and payload path, restore_za_context()'s
      If and Else); after the ghost's Ifs its ghosts are the frame's flags (nothing in the
      restore writes them); restore_fpsimd_context() has cleared thread.svcr.SM after its
      write; and the new generation's Z bits above 127, P/FFR (a payload's) and ZA (ZA
      data) are in no thread.sve_state / sme_state slot before the restore copies them
      there, nor (ZA) in any copy but the frame's."""
    out: dict[str, list[Expr]] = {"frame": [], "paths": [], "copies": []}
    # the two steps' windows: every task's, so computed once for all of them
    rwins = S.windows("sigreturn")
    delivering = tuple(pc for _, pc, _ in S.windows("signal"))
    entering, restoring, final, _ = _sigreturn_phases(S)
    returning = restoring + final
    top = max((k for k, _, _ in rwins), default=0)

    def k_of(text: str) -> list[int]:
        return [k for k, _, w in rwins if w.endswith(text)]

    def pcs(lo: int, hi: int) -> tuple[str, ...]:
        """rt_sigreturn's windows numbered lo..hi (both included) past its ghost."""
        return tuple(pc for k, pc, _ in rwins if lo <= k <= hi and pc in returning)

    for t in _users(S):
        if t.sigframe is None or not isinstance(t.sigframe_sm, Var) \
                or not isinstance(t.sigframe_za, Var):
            continue
        f, last = t.sigframe, S.latest(t.index)
        fsv, fsm, fza = t.sigframe_sve, t.sigframe_sm, t.sigframe_za
        mine: dict[str, list[Expr]] = {g: [] for g in out}
        # the frame
        mine["frame"].append(implies(t.in_handler.eq(0) & ~_pc_in(t, delivering),
                            fsm.eq(0) & fza.eq(0) & t.sigframe_zadata.eq(S.ZERO)))
        if isinstance(fsv, Var):
            # (delivery: once preserve_sve_context() has written the header's flag)
            settled = ~_pc_in(t, delivering) | _pc_in(
                t, S.windows_after("signal", f"the write of {fsv.name}"))
            mine["frame"].append(implies(settled & fsm.eq(1), fsv.eq(1)))
            if not S.config.sve:
                mine["frame"].append(implies(settled & fsv.eq(1), fsm.eq(1)))
        mine["frame"].append(implies(fsm.eq(1) | fza.eq(1) | t.svcr_sm.eq(1) | t.svcr_za.eq(1),
                            t.tif_sme.eq(1)))
        mine["frame"] += [implies((S.cpu[c].sm.eq(1) | S.cpu[c].za_on.eq(1))
                         & S.cpu[c].last_st.eq(S.task_fpstate(t.index)), t.tif_sme.eq(1))
                 for c in _cpus(S)]
        # (split) inside rt_sigreturn after el0_svc's sme_smstop_sm() no CPU holding the
        # task's state is in streaming mode (nothing in the kernel sets PSTATE.SM but the
        # return to user space's reload)
        mine["frame"] += [implies(_pc_in(t, entering + returning)
                         & S.cpu[c].last_st.eq(S.task_fpstate(t.index)), S.cpu[c].sm.eq(0))
                 for c in _cpus(S)]
        # the sigreturn ghost's If on the payload (its Z-high and P writes)
        gzp = (k_of(f"sys_rt_sigreturn: the write of {f.zhi.name}")
               + k_of(f"sys_rt_sigreturn: the write of {f.p.name}")) \
            if isinstance(f.zhi, Var) and isinstance(f.p, Var) else []
        if isinstance(fsv, Var) and gzp:
            mine["paths"].append(implies(_pc_in(t, pcs(min(gzp), max(gzp))), fsv.eq(1)))
            # the frame's payload is the new generation from the ghost's writes on
            mine["copies"].append(implies(_pc_in(t, pcs(min(gzp) + 1, top)) & fsv.eq(1),
                                f.zhi.eq(last)))
            mine["copies"].append(implies(_pc_in(t, pcs(max(gzp) + 1, top)) & fsv.eq(1),
                                f.p.eq(last)))
            mine["paths"].append(implies(_pc_in(t, pcs(max(gzp) + 1, top)),
                                _same(t.zhi_expected, fsv.eq(1))
                                & _same(t.p_written, fsv.eq(1))
                                & _same(t.sm_expected, fsm.eq(1))))
        # ... and on ZA data (supersede_za, then the frame's ZA write)
        gza = k_of(f"sys_rt_sigreturn: the write of {t.sigframe_zadata.name}")
        if gza:
            mine["paths"].append(implies(_pc_in(t, pcs(gza[0], gza[0])), fza.eq(1)))
            mine["paths"].append(implies(_pc_in(t, pcs(gza[0] + 1, top)),
                                _same(t.za_expected, fza.eq(1))
                                & _same(t.za_written, fza.eq(1))
                                & implies(fza.eq(1), t.sigframe_zadata.eq(last))))
            copied = S.windows_after(
                "sigreturn", f"restore_za_context: the write of {t.sme_state.name}")
            for slot in S.za_slots():
                if slot is t.sigframe_zadata:
                    continue
                cond = _pc_in(t, pcs(gza[0], top)) & fza.eq(1)
                if slot is t.sme_state:
                    cond = cond & ~_pc_in(t, copied)
                    mine["copies"].append(implies(_pc_in(t, copied) & fza.eq(1), slot.eq(last)))
                mine["copies"].append(implies(cond, slot.ne(last)))
        # restore_sve_fpsimd_context(): its FPSIMD path (restore_fpsimd_context() and its
        # fpsimd_update_current_state()), then its payload path (sve_alloc() to
        # fpsimd_to_sve()); what follows both (FPMR's, the ZA VL test's, ZA's windows)
        # starts at kpost
        kf0 = [k for k, _, w in rwins if w.startswith("restore_fpsimd_context:")]
        kalloc = [k for k, _, w in rwins if w.startswith("sve_alloc:")]
        payload_fns = ("sve_alloc", "restore_sve_fpsimd_context",
                       "fpsimd_update_current_state", "fpsimd_to_sve")
        kpost = [k for k, _, w in rwins if kalloc and k > kalloc[0]
                 and w.split(":")[0] not in payload_fns]
        if kf0 and kalloc and kpost and isinstance(fsv, Var):
            fpsimd_path, payload_path = (kf0[0], kalloc[0] - 1), (kalloc[0], kpost[0] - 1)
            mine["paths"].append(implies(_pc_in(t, pcs(*fpsimd_path)), fsv.eq(0)))
            mine["paths"].append(implies(_pc_in(t, pcs(*payload_path)), fsv.eq(1)))
            ksm = [k for k in k_of(f"restore_fpsimd_context: the write of {t.svcr_sm.name}")
                   if k < kalloc[0]]
            if ksm:
                mine["paths"].append(implies(_pc_in(t, pcs(ksm[0] + 1, kalloc[0] - 1)),
                                             t.svcr_sm.eq(0)))
            ksmp = k_of(f"restore_sve_fpsimd_context: the write of {t.svcr_sm.name}")
            if ksmp:
                # the payload path's SM write (If SVE_SIG_FLAG_SM) follows the flag
                mine["paths"].append(implies(_pc_in(t, pcs(ksmp[0] + 1, kpost[0] - 1)),
                                             _same(t.svcr_sm, fsm.eq(1))))
            if ksm and ksmp:
                # before the restore writes thread.svcr.SM, SM there is a stale copy of a
                # live state's only: el0_svc's fpsimd_syscall_enter() left streaming mode
                # (sme_smstop_sm()), and every save since wrote thread.svcr from PSTATE
                live = any_of(S.cpu[c].current.eq(t.index) & t.tif_foreign.eq(0)
                              & _bound_task(S, c, t) for c in _cpus(S))
                mine["paths"].append(implies(_pc_in(t, entering + pcs(0, ksm[0])
                                                    + pcs(kalloc[0], ksmp[0]))
                                             & t.svcr_sm.eq(1), live))
            # each path's fp_type write, and after both paths thread.svcr.SM and fp_type
            # are what the frame's flags say
            kft = [k_of(f"{fn}: the write of {t.fp_type.name}")
                   for fn in ("restore_fpsimd_context", "restore_sve_fpsimd_context")]
            if kft[0] and kft[1] and isinstance(t.fp_type, Var):
                mine["paths"].append(implies(_pc_in(t, pcs(kft[0][0] + 1, kalloc[0] - 1)),
                                             t.fp_type.eq("FPSIMD")))
                mine["paths"].append(implies(_pc_in(t, pcs(kft[1][0] + 1, kpost[0] - 1)),
                                             t.fp_type.eq("SVE")))
                mine["paths"].append(implies(_pc_in(t, pcs(kpost[0], top)),
                                             _same(t.svcr_sm, fsm.eq(1))
                                             & _same(fsv, t.fp_type.eq("SVE"))))
            # fpsimd_update_current_state() (one per path) copies V, then FPSR, then FPCR
            # into uw.fpsimd_state: each is the new generation from its write to the
            # path's end (signal_frame_state speaks of the windows after both paths)
            for lo, hi in (fpsimd_path, payload_path):
                for slot in (t.uw.v, *t.uw.fpsr_slots()):
                    kw = [k for k in k_of(f"fpsimd_update_current_state: the write of "
                                          f"{slot.name}") if lo <= k <= hi]
                    if kw:
                        mine["copies"].append(implies(_pc_in(t, pcs(kw[0] + 1, hi)),
                                                      slot.eq(last)))
            # the payload's Z-high (retired by the ghost's supersede) and P (by its
            # supersede_p, in the If): in no sve_state slot before the copy
            if gzp:
                # (V: the record's copy, then fpsimd_to_sve()'s merge of the frame's
                # fpsimd_context, both the new generation)
                for slot, lo in ((t.sve_state.zhi, 0), (t.sve_state.p, min(gzp)),
                                 (t.sve_state.v, None)):
                    kc = k_of(f"restore_sve_fpsimd_context: the write of {slot.name}") \
                        if isinstance(slot, Var) else []
                    if not kc:
                        continue
                    if lo is not None:
                        cond = _pc_in(t, pcs(lo, kc[0]))
                        if slot is t.sve_state.p:
                            cond = cond & fsv.eq(1)
                        mine["copies"].append(implies(cond, slot.ne(last)))
                    kz = k_of(f"fpsimd_to_sve: the write of {slot.name}")
                    if slot is t.sve_state.v and isinstance(f.zv, Var) and kz:
                        # (SME) the record's own copy of Z bits [127:0] is an older
                        # generation (the handler's edit is fpsimd_context's): the copy
                        # puts it there, fpsimd_to_sve()'s merge the new one
                        mine["copies"].append(implies(
                            _pc_in(t, pcs(kc[0] + 1, kz[0])) & fsv.eq(1),
                            Eq(slot, f.zv) & slot.ne(last)))
                        mine["copies"].append(implies(
                            _pc_in(t, pcs(kz[0] + 1, top)) & fsv.eq(1), slot.eq(last)))
                        continue
                    # ... and there from the copy on (a payload: the ghost's If)
                    mine["copies"].append(implies(
                        _pc_in(t, pcs(kc[0] + 1, top)) & fsv.eq(1), slot.eq(last)))
        # restore_za_context(): the If's windows (ZA data) and the Else's
        kzd = [k for k, _, w in rwins if w.startswith("sme_alloc:")]
        kzaw = k_of(f"restore_za_context: the write of {t.svcr_za.name}")
        if kzd and len(kzaw) == 2:
            mine["paths"].append(implies(_pc_in(t, pcs(kzd[0], kzaw[0])), fza.eq(1)))
            mine["paths"].append(implies(_pc_in(t, pcs(kzaw[1], kzaw[1])), fza.eq(0)))
        alive = _alive(t) & ~_sigreturn_failing(S, t)
        for g, es in mine.items():
            out[g] += [implies(alive, e) for e in es]
    return {g: all_of(es) for g, es in out.items()}


# signal_sme: three lemmas (three consecution queries: as one, z3 gave no answer in 120 s)
def signal_sme_frame(S: Layout) -> Expr:
    """The frame's SME flags and TIF_SME (`_signal_sme`, first group)."""
    return _signal_sme(S)["frame"]


def sigreturn_sme_paths(S: Layout) -> Expr:
    """rt_sigreturn's branches, ghosts, thread.svcr.SM and fp_type by window (`_signal_sme`)."""
    return _signal_sme(S)["paths"]


def sigreturn_sme_copies(S: Layout) -> Expr:
    """Where the new generation is by window of rt_sigreturn (`_signal_sme`)."""
    return _signal_sme(S)["copies"]


def exec_in_progress(S: Layout) -> Expr:
    """(event exec, --preemption split) A task preempted inside sys_execve() before
    flush_thread() (arch/arm64/kernel/process.c; fpsimd_flush_thread() zeroes
    uw.fpsimd_state and flushes the task's binding only after these windows) must read
    zero (the new program's generation has begun) and no slot anywhere holds its latest
    value: the ghost superseded every copy of the old program's values."""
    out = []
    for t in _users(S):
        if not isinstance(t.expect_zero, Var):
            continue
        pcs = tuple(pc for _, pc, _ in S.windows("exec"))
        if not pcs:
            continue
        out.append(implies(_pc_in(t, pcs), t.expect_zero.eq(1) & all_of(
            slot.ne(S.latest(t.index)) for img in S.all_images()
            for slot in img.all_slots())))
    return all_of(out)


def offline_cpu_runs_idle(S: Layout) -> Expr:
    if "cpu_hotplug" not in S.config.events:
        return TRUE
    return all_of(implies(S.cpu[c].online.eq(0),
                          S.cpu[c].current.eq(i.index) & S.cpu[c].last_st.eq("NULL"))
                  for c, i in zip(_cpus(S), _idles(S), strict=True))


# ------------------------------------------------------------------ v6.10 lemmas
# KVM's owner of the FP registers is per CPU (host_data->fp_owner); a guest is *live* on
# c while its vcpu thread runs there in guest mode and c's owner is FP_STATE_GUEST_OWNED.
# A task-context kernel-mode NEON section's data is the token kneon.<task>.
def _needs(feature: str) -> Callable[[Callable[[Layout], Expr]], Callable[[Layout], Expr]]:
    """A v6 lemma is TRUE on a layout without the state it speaks of (model/state.py
    FEATURES), e.g. when a 2018 trace is replayed with every lemma evaluated."""
    def wrap(fn: Callable[[Layout], Expr]) -> Callable[[Layout], Expr]:
        def build(S: Layout) -> Expr:
            return fn(S) if feature in S.features else TRUE
        build.__name__ = fn.__name__
        build.__doc__ = fn.__doc__
        return build
    return wrap


def _needs_sve(fn: Callable[[Layout], Expr]) -> Callable[[Layout], Expr]:
    """A v6 SVE lemma is TRUE without SVE (thread.fp_type and in_syscall() are state only
    with SVE) and on layouts without the fp_type feature."""
    def build(S: Layout) -> Expr:
        return fn(S) if S.config.sve and "fp_type" in S.features else TRUE
    build.__name__ = fn.__name__
    build.__doc__ = fn.__doc__
    return build


def _owner(S: Layout, c: int, v) -> Expr:  # noqa: ANN001
    """KVM's owner of CPU c's FP registers while vcpu v is loaded there
    (`Layout.kvm_fp_owner`).  Every lemma reads it only for a vcpu loaded on c (its thread
    current on c inside KVM_RUN)."""
    return S.kvm_fp_owner(c, v)


def _needs_owner(fn: Callable[[Layout], Expr]) -> Callable[[Layout], Expr]:
    """A v6 KVM lemma: TRUE on a layout without KVM's tristate owner (the 2018 variants)."""
    def build(S: Layout) -> Expr:
        return fn(S) if S.features & {"host_data_fp_owner", "vcpu_fp_state"} else TRUE
    build.__name__ = fn.__name__
    build.__doc__ = fn.__doc__
    return build


def _v6_guest_live(S: Layout, c: int) -> Expr:
    return any_of(_in_guest_on(S, c, t, v) & _owner(S, c, v).eq("GUEST_OWNED")
                  for t in _vmms(S) for v in S.vcpus)


def _section(S: Layout, img: Image, t) -> Expr:  # noqa: ANN001
    tok = S.kneon_section(False, t.index)
    return all_of(slot.eq(tok) for slot in (img.v, *img.fpsr_slots()))


def _in_neon_section(S: Layout, t) -> Expr:  # noqa: ANN001
    """Task t is inside a task-context kernel-NEON section: at KERNEL_NEON, or (--preemption
    split) preempted inside syscall_kernel_neon_end before kernel_neon_end() clears
    TIF_KERNEL_FPSTATE (its data already read back)."""
    return _pc_in(t, NEON_SECTION_PCS
                  + S.continuations_in("kernel_neon_end", "TIF_KERNEL_FPSTATE"))


@_needs("kernel_fpstate")
def v6_kernel_flag_by_pc(S: Layout) -> Expr:
    return all_of(((t.tif_kernel_fpstate.eq(1) & _in_neon_section(S, t))
                   | (t.tif_kernel_fpstate.eq(0) & ~_in_neon_section(S, t)))
                  for t in _sectioned(S))


@_needs("kernel_fpstate")
def v6_section_data_live(S: Layout) -> Expr:
    return all_of(implies(S.cpu[c].current.eq(t.index) & _pc_in(t, NEON_SECTION_PCS),
                          _section(S, S.cpu[c].regs, t))
                  for c in _cpus(S) for t in _sectioned(S))


@_needs("kernel_fpstate")
def v6_section_data_saved(S: Layout) -> Expr:
    return all_of(implies(_pc_in(t, NEON_SECTION_PCS)
                          & all_of(S.cpu[c].current.ne(t.index) for c in _cpus(S)),
                          _section(S, t.kernel_state, t))
                  for t in _sectioned(S))


@_needs("kernel_fpstate")
def v6_kernel_binding_is_live(S: Layout) -> Expr:
    return all_of(implies(~_v6_guest_live(S, c)
                          & S.cpu[c].last_st.eq(S.kernel_fpstate(t.index))
                          & t.kernel_fpsimd_cpu.eq(c) & _pc_in(t, NEON_SECTION_PCS),
                          _section(S, S.cpu[c].regs, t))
                  for c in _cpus(S) for t in _sectioned(S))


@_needs_owner
def v6_guest_live_regs(S: Layout) -> Expr:
    return all_of(implies(_in_guest_on(S, c, t, v) & _owner(S, c, v).eq("GUEST_OWNED"),
                          _guest_regs_latest(S, S.cpu[c].regs, S.guest_owner(v.index)))
                  for c in _cpus(S) for t in _vmms(S) for v in S.vcpus)


@_needs_owner
def v6_guest_trap_by_owner(S: Layout) -> Expr:
    return all_of(implies(_in_guest_on(S, c, t, v),
                          (_owner(S, c, v).eq("GUEST_OWNED") & _untrapped(S, c))
                          | (_owner(S, c, v).ne("GUEST_OWNED") & S.fp_trapped(c)))
                  for c in _cpus(S) for t in _vmms(S) for v in S.vcpus)


# ------------------------------------------------------------------ SME helpers (Config.sme)
def _expected_tok(S: Layout, slot, t) -> Expr:  # noqa: ANN001
    """A V or FPSR/FPCR slot holds what task t must read: zero after an SM change (ghost
    expect_zero: its own SMSTART/SMSTOP or the syscall ABI's SMSTOP SM), else its latest."""
    ez = t.expect_zero
    if _is_fpcr(slot):
        # (SME) FPCR: an SM change leaves it as it was (zero only after exec, by its own
        # ghost: `_tok_ok`)
        return _tok_ok(S, slot, t.index)
    if not isinstance(ez, Var):
        return slot.eq(S.latest(t.index))
    return (ez.eq(1) & slot.eq(S.ZERO)) | (ez.eq(0) & slot.eq(S.latest(t.index)))


def _sme_fpmr_expected(S: Layout, img: Image, t) -> Expr:  # noqa: ANN001
    """(SME with FEAT_FPMR) img's FPMR (a CPU's register or thread.uw.fpmr) holds what task
    t must read: zero after an SM change (expect_zero; the exec event's exec_zero_fpmr
    where it exists: `_tok_ok`), else its latest.  The FPMR conjunct of the SME live and
    saved predicates (FPMR moves with V in every save and reload; an SM change resets it
    as it resets V: model/variants/v6_sme.py sme_write_svcr).  TRUE without FPMR."""
    if not isinstance(img.fpmr, Var):
        return TRUE
    return _tok_ok(S, img.fpmr, t.index, img)


def _bit_is(a, ghost) -> Expr:  # noqa: ANN001
    """A state bit equals a ghost bit (different domains)."""
    return (a.eq(1) & ghost.eq(1)) | (a.eq(0) & ghost.eq(0))


def _za_expected(S: Layout, slot, t) -> Expr:  # noqa: ANN001
    """A ZA slot holds what task t must read there: its latest ZA write, or zero after its
    SMSTART ZA (ghost za_written)."""
    return ((t.za_written.eq(1) & slot.eq(S.latest(t.index)))
            | (t.za_written.eq(0) & slot.eq(S.ZERO)))


def _v6_sme_regs_latest(S: Layout, c: int, t) -> Expr:  # noqa: ANN001
    """(SME) CPU c's registers hold task t's live state: V and FPSR/FPCR as it must read
    them (`_expected_tok`), the Z bits above 127 and P/FFR as it last wrote them, PSTATE.SM
    and PSTATE.ZA as it set them, and ZA as it wrote it if ZA is on."""
    cpu, regs = S.cpu[c], S.cpu[c].regs
    # P/FFR are readable only in streaming mode or with TIF_SVE (EL0 SVE): otherwise an
    # FPSIMD reload leaves another context's P there, unreadable until an SM change or
    # the SVE trap's sve_flush_live() zeroes it
    p_ok = (implies(t.sm_expected.eq(1) | t.tif_sve.eq(1), _p_ok(S, regs.p, t))
            & implies(t.p_written.eq(1), regs.p.eq(S.latest(t.index))))
    return (_expected_tok(S, regs.v, t)
            & all_of(_expected_tok(S, x, t) for x in regs.fpsr_slots())
            & _sme_fpmr_expected(S, regs, t)
            & _zhi_expected(S, regs.zhi, t) & p_ok
            & _bit_is(cpu.sm, t.sm_expected) & _bit_is(cpu.za_on, t.za_expected)
            & implies(t.za_expected.eq(1), _za_expected(S, cpu.za, t)))


def _v6_sme_saved_latest(S: Layout, t) -> Expr:  # noqa: ANN001
    """(SME) Task t's state is in memory: thread.svcr holds the SM/ZA it set, sme_state
    its ZA if ZA is on, the registers in the format fp_type names (a streaming save is in
    SVE format), FPSR/FPCR in uw.fpsimd_state."""
    sv = t.sve_state
    if "fp_type" in S.features:
        sve_fmt = t.fp_type.eq("SVE")
    else:
        # v6.1 (no thread.fp_type): the saved format is SVE iff TIF_SVE or thread.svcr.SM
        # (task_fpsimd_load(), model/variants/v6_1_sme.py)
        sve_fmt = t.tif_sve.eq(1) | t.svcr_sm.eq(1)
    in_sve = (sve_fmt & _expected_tok(S, sv.v, t) & _zhi_expected(S, sv.zhi, t)
              & _p_ok(S, sv.p, t))
    # (P: an FPSIMD-format state keeps none; "zero" is the SVE trap's sve_alloc() to make)
    in_fpsimd = (~sve_fmt & _expected_tok(S, t.uw.v, t)
                 & t.zhi_expected.eq(0) & ~t.p_written.eq(P_LATEST))
    return (all_of(_expected_tok(S, x, t) for x in t.uw.fpsr_slots())
            & _sme_fpmr_expected(S, t.uw, t)
            & (in_sve | in_fpsimd) & _bit_is(t.svcr_sm, t.sm_expected)
            & _bit_is(t.svcr_za, t.za_expected)
            & implies(t.za_expected.eq(1), _za_expected(S, t.sme_state, t)))


def _v6_task_regs_latest(S: Layout, c: int, t) -> Expr:  # noqa: ANN001
    """(v6) CPU c's registers hold task t's latest state; with SVE also the Z bits above
    127 and P/FFR as t last wrote them, whatever TIF_SVE says (live registers are never
    in a format: only a save chooses one).  Without SVE: `_latest`, as before."""
    regs = S.cpu[c].regs
    if S.config.sme:
        return _v6_sme_regs_latest(S, c, t)
    if not S.config.sve:
        return _latest(S, regs, t.index)
    if "fp_type" not in S.features:
        # v6.1: the syscall discard only clears TIF_SVE (and traps EL0 SVE), leaving the
        # live Z bits above 127 and P/FFR as they were: constrained only in SVE format,
        # as in 2018
        return _task_regs_latest(S, c, t)
    if S.config.sve_guest or S.config.user_tasks >= 2:
        # An SVE guest's or another task's P/FFR may remain under a task's FPSIMD state
        # (an FPSIMD load leaves P alone: fpsimd_load_state() writes only V and FPSR/FPCR):
        # unreadable while EL0 SVE is off, and zeroed by the SVE trap's sve_flush_live()
        # before the task can read them (guard sve_trap_with_foreign_p).
        p_ok = implies(t.tif_sve.eq(1), _p_ok(S, regs.p, t)) \
            & implies(t.p_written.eq(1), regs.p.eq(S.latest(t.index)))
        return _vf_latest(S, regs, t.index) & _zhi_expected(S, regs.zhi, t) & p_ok
    # (P_ZERO is demanded with TIF_SVE only, as no_loss reads P: a syscall without
    # TIF_SVE flushes nothing, and a stale P of the task's own stays until the SVE trap's
    # sve_flush_live() zeroes it before the task can read it)
    own = any_of(regs.p.eq(a) for a in (S.ZERO, S.latest(t.index), S.stale(t.index)))
    p_ok = own & implies(t.p_written.eq(1), regs.p.eq(S.latest(t.index))) \
        & implies(t.tif_sve.eq(1), _p_ok(S, regs.p, t))
    return _vf_latest(S, regs, t.index) & _zhi_expected(S, regs.zhi, t) & p_ok


def _v6_task_saved_latest(S: Layout, t) -> Expr:  # noqa: ANN001
    """(v6) Task t's latest state is in memory in the format thread.fp_type names: SVE
    (Z registers and P/FFR in sve_state) or FPSIMD (V in uw.fpsimd_state; then nothing
    above V nor P/FFR may be expected: an FPSIMD save keeps neither); FPSR/FPCR in
    uw.fpsimd_state either way.  Without SVE: `_latest` of uw, as before.  With SME:
    `_v6_sme_saved_latest`."""
    if S.config.sme:
        return _v6_sme_saved_latest(S, t)
    if not S.config.sve:
        return _latest(S, t.uw, t.index)
    if "fp_type" not in S.features:
        if S.config.sve_guest and t.vmm:
            # v6.1 with SVE vcpus: ctxsync's TIF_SVE describes the bound vcpu; the thread's
            # own state, saved at vcpu load with TIF_SVE clear, stays in FPSIMD format
            loaded = any_of(_holds(v, t) for v in S.vcpus) & _pc_in(t, LOADED_PCS)
            return ((loaded & _tok_ok(S, t.uw.fpsr, t.index) & _tok_ok(S, t.uw.v, t.index))
                    | (~loaded & _task_saved_latest(S, t)))
        return _task_saved_latest(S, t)  # v6.1: the format is TIF_SVE's, as in 2018
    sv = t.sve_state
    in_sve = (t.fp_type.eq("SVE") & _tok_ok(S, sv.v, t.index) & _zhi_expected(S, sv.zhi, t)
              & _p_ok(S, sv.p, t))
    # (P: an FPSIMD-format state keeps none; "zero" is the SVE trap's sve_alloc() to make)
    in_fpsimd = (t.fp_type.eq("FPSIMD") & _tok_ok(S, t.uw.v, t.index)
                 & t.zhi_expected.eq(0) & ~t.p_written.eq(P_LATEST))
    return _tok_ok(S, t.uw.fpsr, t.index) & (in_sve | in_fpsimd)


@_needs_owner
def v6_task_binding_is_live(S: Layout) -> Expr:
    return all_of(implies(_alive(t) & ~_restoring(S, t) & ~_v6_guest_live(S, c)
                          & _bound_task(S, c, t),
                          _v6_task_regs_latest(S, c, t))
                  for c in _cpus(S) for t in _users(S))


@_needs_owner
def v6_foreign_clear_is_bound(S: Layout) -> Expr:
    out = []
    for c in _cpus(S):
        for t in _users(S):
            vcpu_bound = [_holds(v, t) & S.cpu[c].last_st.eq(S.vcpu_fpstate(v.index))
                          & _owner(S, c, v).eq("GUEST_OWNED") & _pc_in(t, LOADED_PCS)
                          for v in S.vcpus] if t.vmm else []
            out.append(implies(S.cpu[c].current.eq(t.index) & t.tif_foreign.eq(0)
                               & ~_v6_guest_live(S, c),
                               _bound_task(S, c, t) | any_of(vcpu_bound)))
    return all_of(out)


@_needs_owner
def v6_vcpu_binding_is_live(S: Layout) -> Expr:
    return all_of(implies(~_v6_guest_live(S, c)
                          & S.cpu[c].last_st.eq(S.vcpu_fpstate(v.index))
                          & S.cpu[c].current.eq(t.index) & t.tif_foreign.eq(0),
                          _guest_regs_latest(S, S.cpu[c].regs, S.guest_owner(v.index))
                          & _holds(v, t) & _pc_in(t, LOADED_PCS)
                          & _owner(S, c, v).eq("GUEST_OWNED"))
                  for c in _cpus(S) for t in _users(S) for v in S.vcpus)


@_needs_owner
def v6_guest_saved_unless_live(S: Layout) -> Expr:
    out = []
    for v in S.vcpus:
        live = []
        for c in _cpus(S):
            for t in _vmms(S):
                mine = S.cpu[c].current.eq(t.index) & _holds(v, t)
                live.append(mine & t.pc.eq("IN_GUEST") & _owner(S, c, v).eq("GUEST_OWNED"))
                live.append(mine & t.tif_foreign.eq(0)
                            & S.cpu[c].last_st.eq(S.vcpu_fpstate(v.index)))
        out.append(_guest_saved_latest(S, v) | any_of(live))
    return all_of(out)


@_needs_owner
def v6_task_saved_unless_live(S: Layout) -> Expr:
    return all_of(~_alive(t) | _sigreturn_failing(S, t) | _restoring(S, t)
                  | _vl_changing(S, t) | _v6_task_saved_latest(S, t) | any_of(
        S.cpu[c].current.eq(t.index) & t.tif_foreign.eq(0) & _bound_task(S, c, t)
        & ~_v6_guest_live(S, c) for c in _cpus(S))
        for t in _users(S))


@_needs_owner
def v6_owned_guest_is_bound(S: Layout) -> Expr:
    return all_of(implies(S.cpu[c].current.eq(t.index) & _holds(v, t)
                          & _pc_in(t, ("POST_EXIT", "LOOP_TOP", "LOOP_EXIT"))
                          & _owner(S, c, v).eq("GUEST_OWNED") & t.tif_foreign.eq(0),
                          S.cpu[c].last_st.eq(S.vcpu_fpstate(v.index)))
                  for c in _cpus(S) for t in _vmms(S) for v in S.vcpus)


@_needs_owner
def v6_host_owned_in_guest(S: Layout) -> Expr:
    return all_of(implies(_in_guest_on(S, c, t, v) & _owner(S, c, v).eq("HOST_OWNED"),
                          t.tif_foreign.eq(0))
                  for c in _cpus(S) for t in _vmms(S) for v in S.vcpus)


@_needs("kernel_fpstate")
def v6_kernel_cpu_only_in_section(S: Layout) -> Expr:
    return all_of(implies(t.tif_kernel_fpstate.eq(0), t.kernel_fpsimd_cpu.eq("NR_CPUS"))
                  for t in _sectioned(S))


@_needs("kernel_fpstate")
def v6_kernel_state_dead_outside_section(S: Layout) -> Expr:
    return all_of(implies(t.tif_kernel_fpstate.eq(0),
                          all_of(slot.eq(S.ZERO) for slot in t.kernel_state.slots()))
                  for t in _sectioned(S))


@_needs("kernel_fpstate")
def v6_section_is_foreign(S: Layout) -> Expr:
    return all_of(implies(_in_neon_section(S, t), t.tif_foreign.eq(1))
                  for t in _sectioned(S))


@_needs_owner
def v6_free_owner_is_foreign(S: Layout) -> Expr:
    return all_of(implies(S.cpu[c].current.eq(t.index) & _holds(v, t) & _pc_in(t, LOADED_PCS)
                          & _owner(S, c, v).eq("FREE"), t.tif_foreign.eq(1))
                  for c in _cpus(S) for t in _vmms(S) for v in S.vcpus)


@_needs("host_data_fp_owner")
def v6_host_pointer_at_load(S: Layout) -> Expr:
    return all_of(implies(S.cpu[c].current.eq(t.index) & _holds(v, t) & _pc_in(t, LOADED_PCS),
                          S.cpu[c].host_fpsimd_state.eq(S.task_fpstate(t.index)))
                  for c in _cpus(S) for t in _vmms(S) for v in S.vcpus)


@_needs("vcpu_fp_state")
def v61_vcpu_host_pointer(S: Layout) -> Expr:
    out = []
    for v in S.vcpus:
        for t in _vmms(S):
            out.append(implies(v.pid.eq(t.name),
                               v.host_fpsimd_state.eq(S.task_fpstate(t.index))))
            out.append(implies(_holds(v, t) & ~_pc_in(t, _ioctl_holding_pcs(S)),
                               v.pid.eq(t.name)))
    return all_of(out)


# ------------------------------------------- v6.1 lemmas with SVE (the VMM thread alone)
def _needs_v61_sve(fn: Callable[[Layout], Expr]) -> Callable[[Layout], Expr]:
    """A v6.1 SVE lemma: TRUE without SVE and on layouts other than v6.1's (state feature
    sve_acc without fp_type)."""
    def build(S: Layout) -> Expr:
        ok = S.config.sve and "sve_acc" in S.features and "fp_type" not in S.features
        return fn(S) if ok else TRUE
    build.__name__ = fn.__name__
    build.__doc__ = fn.__doc__
    return build


def _kvm_loaded_on(S: Layout, c: int, t, v) -> Expr:  # noqa: ANN001
    return S.cpu[c].current.eq(t.index) & _holds(v, t) & _pc_in(t, LOADED_PCS)


@_needs_v61_sve
def v61_sve_ghosts_need_tif_sve(S: Layout) -> Expr:
    return all_of(implies(t.zhi_expected.eq(1) | t.p_written.eq(1), t.tif_sve.eq(1))
                  for t in _users(S))


@_needs_v61_sve
def v61_sve_kvm_thread_not_sve(S: Layout) -> Expr:
    if S.config.sve_guest:  # ctxsync sets TIF_SVE for an SVE vcpu: v61_sve_guest_kvm_thread
        return TRUE
    return all_of(implies(_pc_in(t, KVM_PCS), t.tif_sve.eq(0)) for t in _vmms(S))


@_needs_v61_sve
def v61_sve_guest_kvm_thread(S: Layout) -> Expr:
    """(SVE vcpus) A VMM thread inside KVM_RUN has no SVE ghosts (el0_svc ended them) and
    TIF_SVE clear until its vcpu is loaded (el0_svc cleared it; vcpu_load's BUG_ON); with
    the vcpu loaded, TIF_SVE is set only while it runs (put_fp, from kvm_sched_out too,
    clears it), and, running and not foreign, exactly while its CPU is bound to its vcpu
    (ctxsync sets both in one step; every unbind, a flush, sets TIF_FOREIGN_FPSTATE)."""
    if not S.config.sve_guest:
        return TRUE
    out = []
    for t in _vmms(S):
        kvm = _pc_in(t, KVM_PCS)
        loaded = _pc_in(t, LOADED_PCS)
        # (P: undefined, or zero after the v6.9+ syscall ABI: never a latest P)
        out.append(implies(kvm, t.zhi_expected.eq(0) & ~t.p_written.eq(P_LATEST)))
        out.append(implies(kvm & ~loaded, t.tif_sve.eq(0)))
        out.append(implies(loaded & t.tif_sve.eq(1),
                           any_of(S.cpu[c].current.eq(t.index) for c in _cpus(S))))
        for c in _cpus(S):
            vcpu_bound = any_of(_holds(v, t) & S.cpu[c].last_st.eq(S.vcpu_fpstate(v.index))
                                for v in S.vcpus)
            out.append(implies(S.cpu[c].current.eq(t.index) & loaded & t.tif_foreign.eq(0),
                               (t.tif_sve.eq(1) & vcpu_bound)
                               | (t.tif_sve.eq(0) & ~vcpu_bound)))
    return all_of(out)


@_needs_v61_sve
def v61_sve_guest_bound_at_its_vl(S: Layout) -> Expr:
    """(SVE vcpus, several VLs, VHE) Host code on a CPU runs at the VL of the state bound
    there: an SVE vcpu's max VL (hyp's __hyp_sve_restore_guest() wrote it into ZCR_EL2,
    the VHE host's own register), a task with TIF_SVE its own VL (sve_set_vq() before
    every SVE load and in sve_init_regs()); and ZCR_EL2 is the vcpu's max while its guest
    runs owning the registers.  nVHE is not claimed: the guest's ZCR_EL1 limits the host
    there until put_fp (#20)."""
    if not (S.config.sve_guest and S.multi_vl and S.config.vhe):
        return TRUE
    top = S.config.vcpu_max_vl_index
    # and while the guest runs owning the registers, ZCR_EL2 is its max (hyp wrote it)
    live = all_of(implies(_v6_guest_live(S, c), S.host_vl(c).eq(top)) for c in _cpus(S))
    return live & v614_bound_state_at_its_vl(S)


@_needs_v61_sve
def v61_sve_live_zen_is_tif_sve(S: Layout) -> Expr:
    return _live_zen_is_tif_sve(S)


@_needs_v61_sve
def v61_sve_bound_zen_is_tif_sve(S: Layout) -> Expr:
    out = []
    for c in _cpus(S):
        kvm = any_of(_kvm_loaded_on(S, c, t, v) for t in _vmms(S) for v in S.vcpus)
        for u in _users(S):
            out.append(implies(_bound_task(S, c, u) & ~kvm, S.cpu[c].zen_el0en.eq(u.tif_sve)))
    return all_of(out)


@_needs_v61_sve
def v61_sve_load_records_binding(S: Layout) -> Expr:
    out = []
    for c in _cpus(S):
        for t in _vmms(S):
            for v in S.vcpus:
                here = _kvm_loaded_on(S, c, t, v)
                if S.config.sve_guest and S.config.vhe:
                    # (SVE vcpus) VHE hyp enables ZEN for the guest that owns the registers
                    # (kvm_hyp_handle_fpsimd, __activate_traps); the exit resets it.  nVHE
                    # switches the guest's CPACR_EL1 with its sysregs: the host's stays
                    here = here & ~(t.pc.eq("IN_GUEST") & _owner(S, c, v).eq("GUEST_OWNED"))
                out.append(implies(here & S.cpu[c].zen_el0en.eq(1), v.host_sve_enabled.eq(1)))
                out += [implies(here & _bound_task(S, c, u), v.host_sve_enabled.eq(u.tif_sve))
                        for u in _users(S)]
    return all_of(out)


def _needs_v61_sve_or_sme(fn: Callable[[Layout], Expr]) -> Callable[[Layout], Expr]:
    """As `_needs_v61_sve`, also with SME alone (v6.1 --sme, model/variants/v6_1_sme.py)."""
    def build(S: Layout) -> Expr:
        ok = ((S.config.sve or S.config.sme) and "sve_acc" in S.features
              and "fp_type" not in S.features)
        return fn(S) if ok else TRUE
    build.__name__ = fn.__name__
    build.__doc__ = fn.__doc__
    return build


@_needs_v61_sve_or_sme
def v61_sve_current_bound_not_foreign(S: Layout) -> Expr:
    return all_of(implies(S.cpu[c].current.eq(t.index) & _bound_task(S, c, t),
                          t.tif_foreign.eq(0))
                  for c in _cpus(S) for t in _users(S))


@_needs_v61_sve_or_sme
def v61_sme_sve_ghosts_need_tif_sve_or_sm(S: Layout) -> Expr:
    if not S.config.sme:
        return TRUE
    return all_of(implies(t.zhi_expected.eq(1) | t.p_written.eq(1),
                          t.tif_sve.eq(1) | t.sm_expected.eq(1) | _restoring(S, t)
                          | ~_alive(t) | _sigreturn_failing(S, t))
                  for t in _users(S))


@_needs_v61_sve
def v61_sve_trap_state(S: Layout) -> Expr:
    return all_of(implies(t.pc.eq("SVE_ACC"), t.tif_sve.eq(0) & t.sve_state.zhi.eq(S.ZERO)
                          & t.sve_state.p.eq(S.ZERO))
                  & implies(_pc_in(t, _sve_trap_alloc_pcs(S)), t.tif_sve.eq(0))
                  & implies(_pc_in(t, _sve_trap_alloc_pcs(S, "sve_state.p")),
                            t.sve_state.zhi.eq(S.ZERO))
                  for t in _users(S))


# --------------------------------------------------- v6.14 lemmas (with SVE, v6.14 only)
# Proved for v6.14 with --sve on one and two CPUs with the VMM thread alone (--tasks 0); a
# plain task besides it is a ptrace tracer, and #22 (a tracer's SVE write discarded by the
# FPSIMD-only save inside a syscall) is a real counterexample there.  v6.10-v6.13 break
# several of them (fpsimd_kvm_prepare() clears TIF_SVE, hyp clears ZEN_EL0EN while the
# host state is live): they are not claimed there.
def _needs_sve_or_sme(fn: Callable[[Layout], Expr]) -> Callable[[Layout], Expr]:
    """As `_needs_sve`, also with SME alone (a streaming write sets the SVE ghosts)."""
    def build(S: Layout) -> Expr:
        return fn(S) if (S.config.sve or S.config.sme) and "fp_type" in S.features else TRUE
    build.__name__ = fn.__name__
    build.__doc__ = fn.__doc__
    return build


@_needs_sve_or_sme
def v6_sve_ghosts_need_tif_sve(S: Layout) -> Expr:
    in_svc = S.continuations_in("el0_svc")  # after the discard, before syscallno is set
    tracer = S.config.user_tasks >= 2

    def in_syscall_ok(t) -> Expr:  # noqa: ANN001
        """A tracer's NT_ARM_SVE write at a syscall stop sets the ghosts inside the
        syscall: sve_set() stores them in SVE format (fp_type SVE) and flushes the task,
        whose reload binds it with to_save FP_STATE_CURRENT (fpsimd_bind_task_to_cpu();
        only fpsimd_syscall_enter() writes FPSIMD, at the entry, before the stop), so no
        save inside the syscall drops them (the fix of 398edaa12f9c).  (event signal)
        So does v6.16's rt_sigreturn restoring an SVE payload: fp_type SVE, the state
        saved and flushed, its reload binds it with to_save FP_STATE_CURRENT, and
        forget_syscall_v616 leaves the model's in_syscall set until the return."""
        if not (tracer or S.signals) or "to_save" not in S.features:
            return t.in_syscall.eq(0)
        return t.in_syscall.eq(0) | (t.fp_type.eq("SVE") & all_of(
            implies(_bound_task(S, c, t), S.cpu[c].last_to_save.eq("CURRENT"))
            for c in _cpus(S)))
    # (SME) or the task is in streaming mode: its streaming writes set the ghosts, and
    # leaving streaming mode (its SMSTOP, the syscall's SMSTOP SM) clears them
    # (event signal, split) inside rt_sigreturn the ghosts are the frame's new generation
    # before the restore has put it in place (`_restoring`; lemma signal_frame_state)
    return all_of(implies(t.zhi_expected.eq(1) | t.p_written.eq(1),
                          (t.tif_sve.eq(1) & in_syscall_ok(t) & ~_pc_in(t, in_svc))
                          | (t.sm_expected.eq(1) if S.config.sme else FALSE)
                          | _restoring(S, t) | ~_alive(t) | _sigreturn_failing(S, t))
                  for t in _users(S))


@_needs_sve_or_sme
def v6_sve_type_needs_tif_sve(S: Layout) -> Expr:
    # (SME) a streaming save writes FP_STATE_SVE with thread.svcr.SM set, TIF_SVE as it was
    return all_of(implies(t.fp_type.eq("SVE"), t.tif_sve.eq(1)
                          | (t.svcr_sm.eq(1) if S.config.sme else FALSE))
                  for t in _users(S))


@_needs_sve
def v6_sve_bound_zen_is_tif_sve(S: Layout) -> Expr:
    return all_of(implies(_bound_task(S, c, t), S.cpu[c].zen_el0en.eq(t.tif_sve))
                  for c in _cpus(S) for t in _users(S))


def _live_zen_is_tif_sve(S: Layout) -> Expr:
    """A running task whose state is live (outside KVM_RUN) has EL0 SVE enabled exactly
    when it has TIF_SVE: v6.1's and v6.14's lemma (each claims it for its own layouts)."""
    return all_of(implies(S.cpu[c].current.eq(t.index) & t.tif_foreign.eq(0)
                          & _pc_in(t, ("USER", "KERNEL", "SVE_ACC")
                                   + (("SME_ACC",) if S.config.sme else ())),
                          S.cpu[c].zen_el0en.eq(t.tif_sve))
                  for c in _cpus(S) for t in _users(S))


@_needs_sve
def v6_sve_live_zen_is_tif_sve(S: Layout) -> Expr:
    return _live_zen_is_tif_sve(S)


def _in_sve_alloc(S: Layout, t) -> Expr:  # noqa: ANN001
    """(--preemption split) Task t is preempted inside do_sve_acc()'s sve_alloc(), before
    program point SVE_ACC (the memset of sve_state is preemptible).  Only the SVE trap's
    windows: rt_sigreturn's restore_sve_fpsimd_context() calls sve_alloc() too (event
    signal), where the task is restoring a frame (lemma signal_frame_state)."""
    return _pc_in(t, _sve_trap_alloc_pcs(S))


def _sve_trap_alloc_pcs(S: Layout, before: str = "") -> tuple[str, ...]:
    """The continuation points inside do_sve_acc()'s sve_alloc() (step user_sve_trap),
    optionally only those before a statement whose text contains ``before``."""
    return tuple(pc for pc in S.continuations_in("sve_alloc", before)
                 if pc.startswith("user_sve_trap@"))


@_needs_sve
def v6_sve_trap_state(S: Layout) -> Expr:
    return all_of(implies(t.pc.eq("SVE_ACC"), t.tif_sve.eq(0) & t.sve_state.zhi.eq(S.ZERO)
                          & t.sve_state.p.eq(S.ZERO))
                  & implies(_in_sve_alloc(S, t), t.tif_sve.eq(0))
                  # sve_alloc()'s memset writes V, then the bits above, then P/FFR
                  & implies(_pc_in(t, _sve_trap_alloc_pcs(S, "sve_state.p")),
                            t.sve_state.zhi.eq(S.ZERO))
                  for t in _users(S))


def _before_in_syscall(S: Layout) -> tuple[str, ...]:
    """The continuation points inside el0_svc() before do_el0_svc() sets regs->syscallno
    (the model's in_syscall): a step that goes on after the entry (KVM_SET_ONE_REG's
    ioctl) also has a window after it, before its program point's write."""
    out = []
    for pc in S.continuations_in("el0_svc"):
        wins = S.windows(pc.split("@", 1)[0])
        marks = [k for k, _, w in wins if w.endswith(".in_syscall")]
        if not marks or next(k for k, p, _ in wins if p == pc) <= marks[0]:
            out.append(pc)
    return tuple(out)


@_needs_sve
def v6_in_syscall_by_pc(S: Layout) -> Expr:
    out = []
    for t in _users(S):
        sme_acc = ("SME_ACC",) if S.config.sme else ()
        out.append(implies(_pc_in(t, ("USER", "SVE_ACC") + sme_acc + _before_in_syscall(S))
                           | _in_sve_alloc(S, t), t.in_syscall.eq(0)))
        out.append(implies(_pc_in(t, KVM_PCS), t.in_syscall.eq(1)))
    return all_of(out)


@_needs("host_data_fp_owner")
def v614_loaded_cpu_binds_no_task(S: Layout) -> Expr:
    return all_of(implies(S.cpu[c].current.eq(t.index) & _holds(v, t) & _pc_in(t, LOADED_PCS),
                          S.cpu[c].last_st.eq("NULL")
                          | S.cpu[c].last_st.eq(S.vcpu_fpstate(v.index)))
                  for c in _cpus(S) for t in _vmms(S) for v in S.vcpus)


# ------------------------------------------ v6.14 lemmas with SVE vcpus (Config.sve_guest)
def _needs_sve_guest_vls(fn: Callable[[Layout], Expr]) -> Callable[[Layout], Expr]:
    """A lemma about the vector lengths of SVE vcpus: TRUE without them or with one VL."""
    def build(S: Layout) -> Expr:
        return fn(S) if S.config.sve_guest and S.multi_vl else TRUE
    build.__name__ = fn.__name__
    build.__doc__ = fn.__doc__
    return build


def _host_on(S: Layout, c: int) -> Expr:
    """No VMM thread is in guest mode on CPU c (host code runs there)."""
    return all_of(~(S.cpu[c].current.eq(t.index) & t.pc.eq("IN_GUEST")) for t in _vmms(S))


def guest_sve_trapped_with_fp(S: Layout) -> Expr:
    """(SVE vcpus, nVHE) while a guest runs on CPU c, CPTR_EL2.TZ is set only with TFP."""
    if S.config.vhe or not S.config.sve_guest:
        return TRUE
    return all_of(implies(~_host_on(S, c) & S.cpu[c].cptr_tz.eq(1), S.fp_trapped(c))
                  for c in _cpus(S))


def v614_host_sve_untrapped(S: Layout) -> Expr:
    tz = [S.cpu[c].cptr_tz for c in _cpus(S)]
    if not any(isinstance(x, Var) for x in tz):
        return TRUE
    return all_of(implies(_host_on(S, c), S.cpu[c].cptr_tz.eq(0)) for c in _cpus(S))


@_needs_sve_guest_vls
def v614_zcr_el2_is_host_max(S: Layout) -> Expr:
    if S.config.vhe:
        return TRUE
    return all_of(S.cpu[c].zcr2.eq(len(S.config.sve_vls) - 1) for c in _cpus(S))


@_needs_sve_guest_vls
def v614_bound_state_at_its_vl(S: Layout) -> Expr:
    top = S.config.vcpu_max_vl_index
    out = []
    for c in _cpus(S):
        host = ~_v6_guest_live(S, c)
        out += [implies(host & S.cpu[c].last_st.eq(S.vcpu_fpstate(v.index)),
                        S.host_vl(c).eq(top)) for v in S.vcpus]
        out += [implies(host & _bound_task(S, c, t) & t.tif_sve.eq(1),
                        Eq(S.host_vl(c), t.sve_vl)) for t in _users(S)]
    return all_of(out)


# ----------------------------------------------------- v6.16 lemmas (with SVE, to_save)
def _needs_to_save(fn: Callable[[Layout], Expr]) -> Callable[[Layout], Expr]:
    """A v6.16 lemma about fpsimd_last_state.to_save: TRUE where it is not state (no SVE,
    or a layout without the to_save feature)."""
    def build(S: Layout) -> Expr:
        return fn(S) if S.config.sve and "to_save" in S.features else TRUE
    build.__name__ = fn.__name__
    build.__doc__ = fn.__doc__
    return build


@_needs_to_save
def v616_to_save_fpsimd_in_syscall(S: Layout) -> Expr:
    return all_of(implies(S.cpu[c].last_to_save.eq("FPSIMD")
                          & S.cpu[c].last_st.eq(S.task_fpstate(t.index))
                          & t.fpsimd_cpu.eq(c),
                          # (split) or preempted in el0_svc before regs->syscallno is set
                          t.in_syscall.eq(1) | _pc_in(t, S.continuations_in("el0_svc")))
                  for c in _cpus(S) for t in _users(S))


@_needs_to_save
def v616_state_binding_to_save_fpsimd(S: Layout) -> Expr:
    # SVE vcpus are bound with FP_STATE_SVE instead (v616_sve_vcpu_binding_to_save_sve)
    vcpus = [] if S.config.sve_guest else S.vcpus
    others = [S.vcpu_fpstate(v.index) for v in vcpus] + [
        S.kernel_fpstate(t.index) for t in _sectioned(S)]
    return all_of(implies(any_of(S.cpu[c].last_st.eq(p) for p in others),
                          S.cpu[c].last_to_save.eq("FPSIMD")) for c in _cpus(S))


@_needs_to_save
def v616_sve_vcpu_binding_to_save_sve(S: Layout) -> Expr:
    if not S.config.sve_guest:
        return TRUE
    out = []
    for c in _cpus(S):
        cpu = S.cpu[c]
        vcpu_bound = any_of(cpu.last_st.eq(S.vcpu_fpstate(v.index)) for v in S.vcpus)
        out.append(implies(vcpu_bound, cpu.last_to_save.eq("SVE")))
        out.append(implies(cpu.last_to_save.eq("SVE"), vcpu_bound | cpu.last_st.eq("NULL")))
    return all_of(out)


def _L(fn: Callable[[Layout], Expr], reason: str,
       variants: tuple[str, ...] | None = None) -> Lemma:
    return Lemma(fn.__name__, reason, fn, variants)


# ------------------------------------------------------------------ SME (Config.sme)
def _needs_sme(fn: Callable[[Layout], Expr]) -> Callable[[Layout], Expr]:
    """An SME lemma is TRUE without SME."""
    def build(S: Layout) -> Expr:
        return fn(S) if S.config.sme else TRUE
    build.__name__ = fn.__name__
    build.__doc__ = fn.__doc__
    return build


@_needs_sme
def sme_bound_smen_is_tif_sme(S: Layout) -> Expr:
    return all_of(implies(_bound_task(S, c, t), S.cpu[c].smen_el0en.eq(t.tif_sme))
                  for c in _cpus(S) for t in _users(S))


@_needs_sme
def sme_live_smen_is_tif_sme(S: Layout) -> Expr:
    return all_of(implies(S.cpu[c].current.eq(t.index) & t.tif_foreign.eq(0)
                          & _pc_in(t, ("USER", "KERNEL", "SME_ACC")
                                   + (("SVE_ACC",) if S.sve_acc_split else ())),
                          S.cpu[c].smen_el0en.eq(t.tif_sme))
                  for c in _cpus(S) for t in _users(S))


@_needs_sme
def sme_state_needs_tif_sme(S: Layout) -> Expr:
    return all_of(implies(t.sm_expected.eq(1) | t.za_expected.eq(1), t.tif_sme.eq(1))
                  for t in _users(S))


@_needs_sme
def sme_trap_state(S: Layout) -> Expr:
    return all_of(implies(t.pc.eq("SME_ACC"), t.tif_sme.eq(0)) for t in _users(S))


@_needs_sme
def sme_on_only_bound_to_a_task(S: Layout) -> Expr:
    return all_of(implies(S.cpu[c].sm.eq(1) | S.cpu[c].za_on.eq(1),
                          any_of(S.cpu[c].last_st.eq(S.task_fpstate(t.index))
                                 for t in _users(S)))
                  for c in _cpus(S))


@_needs_sme
def sme_sve_trap_not_streaming(S: Layout) -> Expr:
    if not S.sve_acc_split:
        return TRUE
    return all_of(implies(_pc_in(t, ("SVE_ACC",)) | _in_sve_alloc(S, t),
                          t.sm_expected.eq(0))
                  for t in _users(S))


@_needs_sme
def sme_streaming_saved_as_sve(S: Layout) -> Expr:
    out = []
    for t in _users(S):
        # (event signal, split) v6.16's restore_sve_fpsimd_context() sets svcr.SM, then
        # fp_type: in the window between, the task is saved, flushed and bound nowhere
        between = S.windows_after(
            "sigreturn", f"restore_sve_fpsimd_context: the write of {t.name}.svcr.SM",
            f"restore_sve_fpsimd_context: the write of {t.name}.fp_type")
        out.append(implies(t.svcr_sm.eq(1) & ~_pc_in(t, between), t.fp_type.eq("SVE")))
    return all_of(out)


@_needs_sme
def sme_section_not_streaming(S: Layout) -> Expr:
    return all_of(implies(S.cpu[c].current.eq(t.index) & _in_neon_section(S, t),
                          S.cpu[c].sm.eq(0) & S.cpu[c].za_on.eq(0))
                  for c in _cpus(S) for t in _users(S))


def sme_bound_state_at_its_svl(S: Layout) -> Expr:
    if not (S.config.sme and S.multi_svl):
        return TRUE
    return all_of(implies(_bound_task(S, c, t) & t.tif_sme.eq(1),
                          Eq(S.cpu[c].smcr, t.sme_vl))
                  for c in _cpus(S) for t in _users(S))


def sve_bound_state_at_its_vl(S: Layout) -> Expr:
    if not S.multi_vl or S.config.sve_guest:
        return TRUE  # with SVE vcpus: v614_bound_state_at_its_vl
    return all_of(implies(_bound_task(S, c, t) & t.tif_sve.eq(1),
                          Eq(S.host_vl(c), t.sve_vl))
                  for c in _cpus(S) for t in _users(S))


def v616_killed_task_flushed(S: Layout) -> Expr:
    """(event signal with a VL-change event: `Layout.sigreturn_can_fail`; v6.16) A task
    killed by a failed rt_sigreturn (program points SIGSEGV, DEAD), or (split) preempted
    inside rt_sigreturn after a record's VL test failed (`_sigreturn_failing`), is
    foreign and bound to no CPU."""
    if not S.sigreturn_can_fail:
        return TRUE
    return all_of(implies(_pc_in(t, SIGSEGV_PCS) | _sigreturn_failing(S, t),
                          t.tif_foreign.eq(1) & t.fpsimd_cpu.eq("NR_CPUS"))
                  for t in _users(S))


def v616_sigreturn_restore_passed_vl_tests(S: Layout) -> Expr:
    """(`Layout.sigreturn_can_fail`, --preemption split) A task preempted inside one of
    rt_sigreturn's record restores has passed the VL tests so far: its carried local
    (sve_vl_ok, za_vl_ok; `_sigreturn_failing`) is 1 there.  The restores are the windows
    after each "restore_sigframe: a test" (the If on err == 0, model.kernel.signal
    unless_failed) up to the next window of restore_sigframe() or sys_rt_sigreturn()."""
    if not S.sigreturn_can_fail:
        return TRUE
    inside: set[str] = set()
    block = False
    for _, pc, w in S.windows("sigreturn"):
        fn = w.split(": ", 1)[0]
        if fn in ("restore_sigframe", "sys_rt_sigreturn"):
            block = w == "restore_sigframe: a test"
            continue
        if block:
            inside.add(pc)
    by_name = {t.name: t for t in _users(S)}
    out = []
    for name, var in S.carried_vars.items():
        task, pc, key = name.split(".", 2)
        if task in by_name and pc in inside and key.startswith(("sve_vl_ok@", "za_vl_ok@")):
            out.append(implies(by_name[task].pc.eq(pc), var.eq(1)))
    return all_of(out)


# ------------------------------------- VL changes (events sve_set_vl, sme_set_vl; v6.16)
VL_CHANGE_STEPS = ("sve_set_vl", "sme_set_vl")


def _vl_change_phases(S: Layout, step: str) -> tuple[tuple[str, ...], ...]:
    """(--preemption split) v6.16's change_live_vector_length() windows of a VL-change step
    by phase, in program order: (flushed: every window from the first one inside
    fpsimd_sync_from_effective_state() (the model's sve_sync_to_fpsimd, after
    fpsimd_save_and_flush_current_state()) to the end of vec_set_vector_length();
    copying: the window before its copy of an SVE-format state's V into uw.fpsimd_state;
    converted: those after that copy).  () where the step has no such windows (the event
    is off, merged preemption, or an older version's code)."""
    # the prctl's own window after vec_set_vector_length() (sve/sme_set_current_vl) is
    # reached whether or not the length changed: not part of either phase
    wins = [(k, pc, w) for k, pc, w in S.windows(step)
            if not w.split(": ", 1)[0].endswith("_set_current_vl")]
    first = [k for k, _, w in wins if w.startswith("sve_sync_to_fpsimd:")]
    copied = [k for k, _, w in wins if w.startswith("sve_to_fpsimd:") and w.endswith(".uw.v")]
    if not first or not copied:
        return (), (), ()
    return (tuple(pc for k, pc, _ in wins if k >= first[0]),
            tuple(pc for k, pc, _ in wins if k == copied[0]),
            tuple(pc for k, pc, _ in wins if k > copied[0]))


def _vl_changing(S: Layout, t) -> Expr:  # noqa: ANN001
    """Task t is preempted inside change_live_vector_length() after its V registers were
    copied into uw.fpsimd_state (`_vl_change_phases`' converted phase, either VL type): its
    sve_state is being replaced by the new zeroed buffer and refilled (the zeropad), so
    its saved state is not in the format fp_type names until the step ends (lemma
    vl_change_in_progress)."""
    return any_of(_pc_in(t, _vl_change_phases(S, step)[2]) for step in VL_CHANGE_STEPS)


def vl_change_in_progress(S: Layout) -> Expr:
    """(events sve_set_vl, sme_set_vl, --preemption split; v6.16's
    change_live_vector_length(), arch/arm64/kernel/fpsimd.c) A task preempted inside a VL
    change of its own after fpsimd_save_and_flush_current_state() is foreign and bound to
    no CPU (fpsimd_flush_task_state() set both; nothing rebinds a task before its return
    to user space); until fpsimd_sync_from_effective_state() has copied V into
    uw.fpsimd_state its saved state is complete in the format fp_type names (inside the
    copy's test fp_type is SVE), and after it uw.fpsimd_state holds what it must read (V,
    FPSR/FPCR, FPMR) whatever the format: the rest of the step replaces sve_state by the
    new zeroed buffer (each slot zero once replaced) and the zeropad, inside its fp_type
    SVE test, refills V from uw's.  (SME) thread.svcr.SM stays as the task set it (v6.16
    keeps PSTATE.SM), and ZA (thread.svcr.ZA, sme_state) as saved until PR_SME_SET_VL
    clears svcr.ZA."""
    out = []
    for t in _users(S):
        for step in VL_CHANGE_STEPS:
            flushed, copying, converted = _vl_change_phases(S, step)
            if not flushed:
                continue
            out.append(implies(_pc_in(t, flushed),
                               t.tif_foreign.eq(1) & t.fpsimd_cpu.eq("NR_CPUS")))
            out.append(implies(_pc_in(t, flushed) & ~_pc_in(t, converted),
                               _v6_task_saved_latest(S, t)))
            # inside the copy's `if (fp_type == FP_STATE_SVE)`
            out.append(implies(_pc_in(t, copying), t.fp_type.eq("SVE")))
            done = all_of(_tok_ok(S, slot, t.index, t.uw) for slot in t.uw.slots())
            # each slot of sve_state is zero once the new buffer's (zeroed) slot replaced
            # it; the zeropad's last write, of V, copies uw's V into an SVE-format state
            # (then fp_type is SVE: the zeropad's writes are inside its test of it);
            # (SME) thread.svcr.ZA is clear once the step has cleared it
            wins = [(k, pc, w) for k, pc, w in S.windows(step) if pc in converted]
            # inside the zeropad's `if (fp_type == FP_STATE_SVE)` (its writes)
            padding = tuple(pc for _, pc, w in wins
                            if w.startswith("sve_sync_from_fpsimd_zeropad: the write"))
            out.append(implies(_pc_in(t, padding), t.fp_type.eq("SVE")))
            for slot in t.sve_state.all_slots():
                writes = [k for k, _, w in wins if w.endswith(_field(slot))]
                if not writes:
                    continue
                if slot is t.sve_state.v:
                    zeroed = tuple(pc for k, pc, _ in wins if writes[0] < k <= writes[-1])
                    refilled = tuple(pc for k, pc, _ in wins if k > writes[-1])
                    out.append(implies(_pc_in(t, refilled),
                                       (t.fp_type.eq("SVE") & _tok_ok(S, slot, t.index))
                                       | (t.fp_type.eq("FPSIMD") & slot.eq(S.ZERO))))
                else:
                    zeroed = tuple(pc for k, pc, _ in wins if k > writes[0])
                out.append(implies(_pc_in(t, zeroed), slot.eq(S.ZERO)))
            if S.config.sme:
                # ZA as saved (thread.svcr.ZA, sme_state) until an SME VL change clears it
                writes = [k for k, _, w in wins if w.endswith(".svcr.ZA")]
                za_off = tuple(pc for k, pc, _ in wins if writes and k > writes[0])
                out.append(implies(_pc_in(t, za_off), t.svcr_za.eq(0)))
                out.append(implies(_pc_in(t, converted) & ~_pc_in(t, za_off),
                                   _bit_is(t.svcr_za, t.za_expected)
                                   & implies(t.za_expected.eq(1),
                                             _za_expected(S, t.sme_state, t))))
                done = done & _bit_is(t.svcr_sm, t.sm_expected)
            out.append(implies(_pc_in(t, converted), done))
    return all_of(out)


@_needs_sve
def v6_in_syscall_after_entry(S: Layout) -> Expr:
    before = _before_in_syscall(S)
    after = tuple(pc for pc in S.continuations_in("el0_svc") if pc not in before)
    return all_of(implies(_pc_in(t, after), t.in_syscall.eq(1)) for t in _users(S))


SEED = ("seed",)
V610 = ("v6.10",)
# v6.16 (model/variants/v6_16.py) keeps v6.14's lemmas and adds its own (V616); its
# derivatives (v6.16-ptrace-fixes) inherit them.
V614 = ("v6.14", "v6.16")
V616 = ("v6.16",)
V6 = V610 + V614  # v6.12 and v6.13 inherit v6.10's
# v6.1 (model/variants/v6_1.py): the v6 KVM lemmas with vcpu->arch.fp_state as the owner
V61 = ("v6.1",)
V417 = ("v4.17",)
BOTH = ("seed", "v4.17")

LEMMAS: tuple[Lemma, ...] = (
    _L(guest_sve_trapped_with_fp,
       "(SVE vcpus, nVHE) a guest runs with CPTR_EL2.TZ set only if TFP is set too: every"
       " entry sets both while the guest does not own the registers, and the FP trap clears"
       " both; false on v6.8-v6.13 after KVM_ARM_VCPU_INIT (event vcpu_init: the TZ that"
       " vcpu->arch.cptr_el2 carries, docs/fixes.md #26)"),
    # optional events (each is TRUE when its event is off)
    _L(efi_buffers_at_rest,
       "an EFI call is one step: its used flags are clear and its (dead) buffers forgotten "
       "between calls"),
    _L(offline_cpu_runs_idle,
       "an offline CPU runs its idle task and fpsimd_cpu_dead() has cleared its binding"),
    _L(dead_fork_slot_at_rest,
       "the fork child's empty task_struct slot is at pc KERNEL, current nowhere, not"
       " stopped, with dead kernel-mode NEON fields (it exits only from a syscall, through"
       " do_task_dead()'s last switch)"),
    _L(fork_in_progress,
       "a parent preempted inside _do_fork() keeps its state saved (the preserve at the top"
       " of arch_dup_task_struct()); after copy_thread() the child is unbound with its"
       " copied state in its thread struct"),
    _L(signal_frame_state,
       "the signal frame is dead outside a handler (pop_sigframe), and a task in el0_svc"
       " on its way to rt_sigreturn is still in its handler"),
    _L(signal_frame_delivering,
       "during delivery the frame is filled from the saved state, slot by slot (with SME"
       " the records by the snapshot ghosts; v6.16 saved and flushed the task first)"),
    _L(signal_frame_in_handler,
       "in the handler the frame holds only the task's own bits (its must-read value"
       " while fresh: with SME the value it had to read at delivery, the snapshot ghosts,"
       " since the handler entry's SMSTOP changes its own)"),
    _L(signal_frame_returning,
       "during sigreturn the frame and the uw.fpsimd_state slots already written hold"
       " the handler's new generation (v6.16: the task is flushed from the restore on)"),
    _L(signal_frame_new_generation,
       "until the restore has put it in place, nothing but the frame, uw.fpsimd_state"
       " and sve_state holds the new generation (P: once the ghost began a new one)"),
    _L(signal_sme_frame,
       "(SME) a frame's SM flag comes with a payload (and without SVE a payload is"
       " streaming), a dead frame has no SME record, and SM/ZA (frame, thread.svcr, a CPU"
       " bound to the task) need TIF_SME; no CPU bound to a task in rt_sigreturn streams"
       " (el0_svc left streaming mode)", V616),
    _L(sigreturn_sme_paths,
       "(SME, split) in rt_sigreturn's windows the branch taken, the sigreturn ghost's"
       " expectations, thread.svcr.SM and fp_type follow the frame's flags", V616),
    _L(sigreturn_sme_copies,
       "(SME, split) in rt_sigreturn's windows the new Z-high/P/ZA generation is in no"
       " thread.sve_state/sme_state slot before the restore copies it there and in each"
       " after, and uw.fpsimd_state's V/FPSR/FPCR after each write of the path", V616),
    _L(exec_in_progress,
       "a task preempted inside execve() before flush_thread() expects zero and its latest"
       " value is nowhere (the old program's values are superseded)"),
    _L(no_hardirq_at_rest, "the IRQ step enters and leaves hardirq context within itself"),
    _L(no_softirq_at_rest, "every bh-disabled section and softirq ends in the step that began it"),
    _L(neon_not_busy_at_rest, "kernel_neon_begin/end pairs are inside one step"),
    _L(rq_unlocked_at_rest, "__schedule takes and releases its CPU's rq->lock in one step"),
    _L(idle_on_own_cpu, "an idle thread only ever runs on its own CPU"),
    _L(task_on_one_cpu, "a task is current on at most one CPU"),
    _L(irqs_by_pc, "IRQs are masked exactly while the current task is in the guest"),
    _L(preempt_by_pc, "preemption is off exactly between guest entry and handle_exit"),
    _L(running_pcs_are_current, "a task at EL0, in the guest or just after the exit runs"),
    _L(plain_tasks_stay_out_of_kvm, "only VMM threads issue KVM_RUN"),
    _L(mutex_by_pc, "a VMM thread holds exactly one vcpu mutex while inside KVM_RUN"),
    _L(generation_only_where_stored,
       "preempted inside a multi-register write of an owner's new values, the owner's latest"
       " value is only in the registers already written (the write retired the rest)"),
    _L(notifier_by_pc, "the preempt notifier is registered from vcpu_load to vcpu_put"),
    _L(host_fp_untrapped, "hyp re-enables FP for the host before returning from the guest"),
    _L(user_not_foreign, "a task returns to EL0 only with TIF_FOREIGN_FPSTATE clear"),
    _L(idle_always_foreign, "an idle thread's TIF_FOREIGN_FPSTATE stays set (never bound)"),
    # v4.17
    _L(v417_never_binds_vcpu, "v4.17 binds only tasks' user_fpsimd_state to a CPU", V417),
    _L(v417_binding_is_live,
       "a CPU bound to a task (last_state.st and fpsimd_cpu agree) holds its latest value in "
       "the host view of its registers", V417),
    _L(v417_foreign_clear_is_bound,
       "TIF_FOREIGN_FPSTATE clear on a running task means its state is bound to its CPU", V417),
    _L(v417_sve_flushed_state_is_live,
       "with SVE, KVM_RUN's sve_flush_cpu_state() forgets the binding (last_state.st = NULL) "
       "but leaves TIF_FOREIGN_FPSTATE clear: the running task's (FPSIMD-format) state stays "
       "live in the host view", V417),
    _L(v417_sve_no_host_sve_flags,
       "v4.17 has no vcpu HOST_SVE_IN_USE/HOST_SVE_ENABLED flags (they stay clear)", V417),
    _L(v417_sve_binding_records_sve,
       "a CPU bound to a task with TIF_SVE recorded sve_in_use at the binding (TIF_SVE is "
       "only set on a task whose state is then flushed)", V417),
    _L(v417_sve_flushed_before_guest,
       "while a guest runs, the CPU holds no bound SVE state: KVM_RUN's sve_flush_cpu_state() "
       "dropped it before entry", V417),
    _L(v417_sve_set_in_kvm_run_is_foreign,
       "inside KVM_RUN a VMM thread has TIF_SVE only if a tracer set it (el0_svc cleared it), "
       "which flushed its state: it is bound nowhere and foreign once it runs", V417),
    _L(v417_sve_bound_sve_task_el0_enabled,
       "a CPU bound to a task with TIF_SVE has EL0 SVE enabled (task_fpsimd_load enabled it; "
       "el0_svc clears TIF_SVE too, and guest entry first flushes a bound SVE state)", V417),
    _L(v417_sve_el0_enabled_for_live_task,
       "EL0 SVE enabled on a CPU whose running task's state is live means that task has "
       "TIF_SVE (only task_fpsimd_load enables it; nothing in KVM_RUN does)", V417),
    _L(v417_saved_unless_live,
       "a task's latest value is in its thread struct unless it runs with its state live", V417),
    _L(v417_guest_regs,
       "the guest's latest value is in the vcpu, or in the registers while it runs untrapped",
       V417),
    # seed
    _L(seed_guest_live_regs, "a guest running with FP_ENABLED has its state in the registers",
       SEED),
    _L(seed_guest_trap_by_flag, "in the guest, FP is untrapped exactly when FP_ENABLED", SEED),
    _L(seed_task_binding_is_live,
       "a CPU bound to a task holds its latest value (unless a guest is live there)", SEED),
    _L(seed_foreign_clear_is_bound,
       "TIF_FOREIGN_FPSTATE clear on a running task: its CPU is bound to it or to its loaded "
       "vcpu with FP_ENABLED", SEED),
    _L(seed_vcpu_binding_is_live,
       "a CPU bound to a vcpu for a current task with TIF_FOREIGN_FPSTATE clear holds the "
       "guest's latest value, and that task holds the vcpu", SEED),
    _L(seed_guest_saved_unless_live,
       "the guest's latest value is in the vcpu unless live in its thread's CPU", SEED),
    _L(seed_task_saved_unless_live,
       "a task's latest value is in its thread struct unless live and bound on its CPU", SEED),
    _L(seed_enabled_guest_is_bound,
       "after the exit, a loaded vcpu with FP_ENABLED whose thread is not foreign is bound to "
       "that thread's CPU (ctxsync)", SEED),
    _L(seed_fp_host_flag,
       "while a vcpu is loaded, FP_HOST means the host's state is in the registers (guest "
       "not loaded, host not foreign at entry); neither flag means the host is foreign",
       SEED),
    _L(seed_vcpu_host_pointers,
       "vcpu->pid, host_thread_info and host_fpsimd_state name the same task (run_pid_change)",
       SEED),
    # SVE (each is TRUE without SVE)
    _L(sve_ghost_needs_sve_format,
       "a task whose last write set Z bits above 127 keeps its state in SVE format (TIF_SVE, "
       "or HOST_SVE_IN_USE while ctxsync has TIF_SVE cleared)", BOTH),
    _L(ptrace_stopped_at_stop_points,
       "a task enters a ptrace stop only at pc KERNEL/VCPU_LOAD, switching out, and nothing"
       " switches a stopped task in"),
    _L(sve_p_ghost_needs_sve_format,
       "a task whose P/FFR are defined (last written by SVE code, ptrace or sigreturn) keeps"
       " its state in SVE format (only an SVE save stores P/FFR)", BOTH),
    _L(sve_state_p_is_own,
       "a task's sve_state holds only its own P/FFR bits or zero (only current's registers"
       " are saved there, with current's TIF_SVE)", BOTH + V614),
    _L(sve_trap_preempted_state,
       "a task preempted in do_sve_acc() before it sets TIF_SVE (in sve_alloc()'s memset or"
       " the local_bh_disable() after it) has TIF_SVE clear, and sve_state holds the zeroes"
       " written before that point (a tracer writes only tasks at a ptrace stop; a"
       " switched-out task without TIF_SVE is saved to uw)", BOTH),
    _L(sve_el0_enabled_only_for_sve_task,
       "EL0 SVE is enabled on a CPU only while the task bound to it keeps its state in SVE "
       "format", BOTH),
    _L(seed_sve_in_use_follows_tif,
       "while a vcpu is loaded, its thread's TIF_SVE implies HOST_SVE_IN_USE (set at load)",
       SEED),
    _L(seed_sve_enabled_restores_sve_binding,
       "HOST_SVE_ENABLED with FP_ENABLED clear: whatever task is bound to the CPU has TIF_SVE "
       "once vcpu_put restores the thread's own from HOST_SVE_IN_USE", SEED),
    _L(sve_el0_enabled_follows_tif,
       "outside KVM_RUN, a running task whose state is live has EL0 SVE enabled exactly when "
       "it has TIF_SVE", BOTH),
    _L(seed_sve_vcpu_bound_thread_not_sve,
       "a vcpu's state is bound to a CPU only with FP_ENABLED, while its thread runs there "
       "inside KVM_RUN with TIF_FOREIGN_FPSTATE and TIF_SVE clear (ctxsync clears them; "
       "vcpu_put saves and flushes before restoring TIF_SVE)", SEED),
    _L(seed_sve_bound_sve_task_el0_enabled,
       "a CPU bound to a task in SVE format has EL0 SVE enabled, unless hyp reset it while a "
       "vcpu loaded there recorded HOST_SVE_ENABLED (vcpu_put restores it)", SEED),
    _L(seed_sve_el0_enabled_recorded_at_load,
       "while a vcpu is loaded on its running thread's CPU, EL0 SVE is enabled there only if "
       "it was at vcpu load (HOST_SVE_ENABLED): nothing in KVM_RUN enables it", SEED),
    _L(seed_sve_preempted_vcpu_thread,
       "a vcpu thread preempted with its vcpu loaded has had TIF_SVE restored from "
       "HOST_SVE_IN_USE (kvm_sched_out)", SEED),
    # v6.10 (v6.12 and v6.13 inherit them) and v6.14
    _L(v6_kernel_flag_by_pc,
       "a user task has TIF_KERNEL_FPSTATE exactly while inside a task-context kernel-mode"
       " NEON section (set by kernel_neon_begin, cleared by kernel_neon_end; split, a task"
       " preempted in syscall_kernel_neon_end before that clear is still inside)", V6),
    _L(v6_section_data_live,
       "a task running inside its section has its section's data in the registers (a"
       " nested softirq saves and reloads it; switching in loads it or finds it held)", V6),
    _L(v6_section_data_saved,
       "a task switched out inside its section has its section's data in"
       " thread.kernel_fpsimd_state (fpsimd_save_kernel_state at the switch)", V6),
    _L(v6_kernel_binding_is_live,
       "a CPU bound to a task's kernel state (last->st and kernel_fpsimd_cpu agree, the task"
       " still at KERNEL_NEON, its data not yet read back) holds that section's data, unless"
       " a guest is live there: every other writer of the registers first rebinds or"
       " flushes", V6),
    _L(v6_guest_live_regs,
       "a guest running with the registers GUEST_OWNED has its state in them", V6 + V61),
    _L(v6_guest_trap_by_owner,
       "in the guest, FP is untrapped exactly when this CPU's fp_owner is GUEST_OWNED"
       " (__activate_traps, kvm_hyp_handle_fpsimd)", V6 + V61),
    _L(v6_task_binding_is_live,
       "a CPU bound to a task's user state holds its latest value (unless a guest is live"
       " there); switching in a task in kernel NEON flushes the binding (e92bee9f861b)",
       V6 + V61),
    _L(v6_foreign_clear_is_bound,
       "TIF_FOREIGN_FPSTATE clear on a running task: its CPU is bound to it, or to its loaded"
       " vcpu with the registers GUEST_OWNED (ctxsync)", V6 + V61),
    _L(v6_vcpu_binding_is_live,
       "a CPU bound to a vcpu for a current task with TIF_FOREIGN_FPSTATE clear holds the"
       " guest's latest value, that task holds the vcpu and the CPU's owner is the guest",
       V6 + V61),
    _L(v6_guest_saved_unless_live,
       "the guest's latest value is in the vcpu unless live in its thread's CPU", V6 + V61),
    _L(v6_task_saved_unless_live,
       "a task's latest value is in its thread struct unless live and bound on its CPU",
       V6 + V61),
    _L(v6_owned_guest_is_bound,
       "after the exit, a vcpu thread whose CPU's registers are GUEST_OWNED and that is not"
       " foreign has the vcpu's state bound to that CPU (ctxsync)", V6 + V61),
    _L(v6_host_owned_in_guest,
       "in the guest with the registers HOST_OWNED the thread is not foreign"
       " (kvm_arch_vcpu_ctxflush_fp makes a foreign thread's owner FREE)", V6 + V61),
    _L(v6_host_pointer_at_load,
       "while a vcpu is loaded on its running thread's CPU, host_data->fpsimd_state there is"
       " that thread's user state (kvm_arch_vcpu_load_fp at every load)", V610),
    _L(v61_vcpu_host_pointer,
       "vcpu->arch.host_fpsimd_state is the user state of the task in vcpu->pid, which is"
       " the thread holding the loaded vcpu (kvm_arch_vcpu_run_map_fp() at every pid"
       " change, in the KVM_RUN step that takes the vcpu mutex)", V61),
    # v6.1 with SVE (TRUE without it): proved with the VMM thread alone on one CPU; with a
    # plain task (a tracer) v6.1 has the BUG_ON(TIF_SVE) finding, with two CPUs #13
    _L(v61_sve_guest_kvm_thread,
       "(SVE vcpus) a VMM thread in KVM_RUN has no SVE ghosts and TIF_SVE clear before its"
       " vcpu is loaded; with it loaded, TIF_SVE is set only while it runs and, not foreign,"
       " exactly while its CPU is bound to its vcpu (ctxsync sets both; put_fp clears it)",
       V61),
    _L(v61_sve_guest_bound_at_its_vl,
       "(SVE vcpus, several VLs, VHE) host code runs at the VL of the state bound to its CPU:"
       " an SVE vcpu's max VL (hyp wrote it into ZCR_EL2, the VHE host's register), a task"
       " with TIF_SVE its own (sve_set_vq before every SVE load); not claimed on nVHE (#20)",
       V61),
    _L(v61_sve_ghosts_need_tif_sve,
       "a task whose Z bits above 127 or P/FFR hold values it must read back has TIF_SVE"
       " (el0_svc clears the ghosts with TIF_SVE; only TIF_SVE-enabled EL0 code writes them)",
       V61),
    _L(v61_sve_kvm_thread_not_sve,
       "a VMM thread inside KVM_RUN has TIF_SVE clear (el0_svc cleared it; ctxsync and put_fp"
       " clear it again; no tracer here)", V61),
    _L(v61_sve_live_zen_is_tif_sve,
       "a running task whose state is live outside KVM_RUN has EL0 SVE enabled exactly when"
       " it has TIF_SVE", V61),
    _L(v61_sve_bound_zen_is_tif_sve,
       "a CPU bound to a task's user state has EL0 SVE enabled exactly when the task has"
       " TIF_SVE, unless a vcpu is loaded there (hyp clears ZEN_EL0EN; put_fp restores it)",
       V61),
    _L(v61_sve_load_records_binding,
       "while a vcpu is loaded on its running thread's CPU, HOST_SVE_ENABLED is the TIF_SVE"
       " of the task bound there (ZEN_EL0EN at load, which the bind set from it), and EL0 SVE"
       " is enabled there only if it was at load", V61),
    _L(v61_sve_current_bound_not_foreign,
       "a running task bound to its own CPU is not foreign there (the switch clears the flag"
       " exactly then; every flush of the CPU or the task unbinds it)", V61),
    _L(v61_sme_sve_ghosts_need_tif_sve_or_sm,
       "(v6.1 --sme) a task that wrote Z bits above 127 or P has TIF_SVE or is in streaming"
       " mode (v6.1's stand-in for v6_sve_ghosts_need_tif_sve, which needs fp_type)", V61),
    _L(v61_sve_trap_state,
       "inside do_sve_acc() after sve_alloc() the task has no TIF_SVE and its sve_state's Z"
       " bits above 127 and P/FFR are sve_alloc()'s zeroes (preempted inside sve_alloc(): no"
       " TIF_SVE; past its second write the bits above 127 are zero)", V61),
    _L(v6_kernel_cpu_only_in_section,
       "outside a section kernel_fpsimd_cpu is NR_CPUS (the model's forget_dead_kernel_state"
       " at kernel_neon_end; only fpsimd_save_kernel_state, inside a section, sets it)", V6),
    _L(v6_kernel_state_dead_outside_section,
       "outside a section (TIF_KERNEL_FPSTATE clear) thread.kernel_fpsimd_state is dead and"
       " canonical, zero (the model's forget_dead_kernel_state at kernel_neon_end; only"
       " fpsimd_save_kernel_state, inside a section, writes it; fork copies a parent's"
       " outside its sections)", V6),
    _L(v6_section_is_foreign,
       "a task inside its section has TIF_FOREIGN_FPSTATE set (kernel_neon_begin flushes;"
       " nothing clears it before ret_to_user)", V6),
    _L(v6_free_owner_is_foreign,
       "a running vcpu thread whose CPU's registers are FREE is foreign (ctxflush sets FREE"
       " only for a foreign thread; nothing in KVM_RUN clears TIF_FOREIGN_FPSTATE but"
       " ctxsync, which needs GUEST_OWNED; vcpu load sets HOST_OWNED, or in v6.14 FREE"
       " after flushing)", V6 + V61),
    # v6.14 with SVE (TRUE without it), and v6.14's own vcpu load
    _L(v6_sve_ghosts_need_tif_sve,
       "a task whose Z bits above 127 or P/FFR hold values it must read back has TIF_SVE and"
       " is not in a syscall nor preempted inside el0_svc (el0_svc clears the ghosts at the"
       " discard; only TIF_SVE-enabled EL0 code or ptrace writes them, and there is no"
       " tracer here)", V614),
    _L(v6_sve_type_needs_tif_sve,
       "fp_type SVE implies TIF_SVE: every writer of FP_STATE_SVE sets or tests TIF_SVE"
       " first, and only task_fpsimd_load() of an FPSIMD state clears it", V614),
    _L(v6_sve_bound_zen_is_tif_sve,
       "a CPU bound to a task's user state has EL0 SVE enabled exactly when the task has"
       " TIF_SVE (fpsimd_bind_task_to_cpu sets ZEN from it; hyp clears ZEN only after vcpu"
       " load has unbound every task)", V614),
    _L(v6_sve_live_zen_is_tif_sve,
       "a running task whose state is live outside KVM_RUN has EL0 SVE enabled exactly when"
       " it has TIF_SVE", V614),
    _L(v6_sve_trap_state,
       "inside do_sve_acc() after sve_alloc() the task has no TIF_SVE and its sve_state's Z"
       " bits above 127 and P/FFR are the zeroes sve_alloc() wrote (an FPSIMD save does not"
       " touch them); preempted inside sve_alloc() it has no TIF_SVE either, and past its"
       " second point the bits above 127 are zero", V614),
    _L(v6_in_syscall_by_pc,
       "in_syscall() is false at EL0 and in the SVE trap (also preempted inside its"
       " sve_alloc(), and in el0_svc before el0_svc_common()), true inside KVM_RUN (el0_svc sets"
       " it, ret_to_user clears it)", V614),
    # SME (TRUE without it): v6.16 only (v6.10 has #21 and #14); the first six also v6.1
    # (model/variants/v6_1_sme.py), proved at its smallest --sme size (one CPU: #14 needs
    # two, where sme_trap_state is false as the bug is)
    _L(sme_bound_smen_is_tif_sme,
       "(SME) a CPU bound to a task's user state has EL0 SME enabled exactly when the task"
       " has TIF_SME (fpsimd_bind_task_to_cpu sets SMEN from it)", V616 + V61),
    _L(sme_live_smen_is_tif_sme,
       "(SME) a running task whose state is live outside KVM_RUN has EL0 SME enabled exactly"
       " when it has TIF_SME", V616 + V61),
    _L(sme_state_needs_tif_sme,
       "(SME) a task that runs in streaming mode or with ZA on has TIF_SME (it can only"
       " execute SMSTART with EL0 SME enabled, which the bind grants per TIF_SME; nothing"
       " clears TIF_SME here); v6.1 relies on it: its syscall entry leaves streaming mode"
       " only with TIF_SME", V616 + V61),
    _L(sme_trap_state,
       "(SME) inside do_sme_acc() after its allocations the task has no TIF_SME (it trapped"
       " because EL0 SME was off, which on a live bound state means TIF_SME clear; v6.16"
       " leaves no stale binding that could hide TIF_SME: d3eaab3c7090; v6.1 has #14 and"
       " is proved at one CPU only)", V616 + V61),
    _L(sme_on_only_bound_to_a_task,
       "(SME) a CPU in streaming mode or with ZA on is bound to a task's user state: only"
       " that task's SMSTART or reload (followed by its bind) sets SM or ZA, and every"
       " rebinding to other state flushes first (SMSTOP) or happens with them off",
       V616 + V61),
    _L(sme_sve_trap_not_streaming,
       "(SME with SVE) a task inside do_sve_acc() is not in streaming mode: an SVE"
       " instruction traps to do_sve_acc() only outside streaming mode (in streaming mode"
       " SVE is governed by SMEN), and nothing on the trap path changes the task's SM",
       V616 + V61),
    _L(sme_streaming_saved_as_sve,
       "(SME) thread.svcr.SM set implies fp_type FP_STATE_SVE: both are written only by"
       " fpsimd_save_user_state(), which saves a streaming state in SVE format (the SVE"
       " trap's in-memory conversion only writes FP_STATE_SVE); but inside v6.16's"
       " rt_sigreturn, between restore_sve_fpsimd_context()'s SM and fp_type writes (the"
       " task is flushed there)", V616),
    _L(sme_section_not_streaming,
       "(SME) a task running inside its kernel-mode NEON section runs with PSTATE.SM and"
       " PSTATE.ZA clear (kernel_neon_begin's flush does SMSTOP; switching such a task in"
       " flushes before loading its state, 01098d893fa8; nothing inside a section sets"
       " SM)", V616),
    _L(sme_bound_state_at_its_svl,
       "(SME, several streaming VLs) a CPU bound to a task's user state with TIF_SME runs at"
       " that task's streaming VL: task_fpsimd_load() and do_sme_acc() write SMCR_EL1.LEN"
       " (sme_set_vq) before the bind whenever TIF_SME is set, TIF_SME is set only there"
       " (before sme_set_vq) or on a stopped tracee with its binding flushed, and a VL change"
       " flushes the task's binding first", V616),
    _L(sve_bound_state_at_its_vl,
       "(several SVE VLs, no SVE vcpus) a CPU bound to a task's user state with TIF_SVE runs"
       " at that task's SVE VL: task_fpsimd_load() (sve_set_vq) and the SVE trap write"
       " ZCR_EL1.LEN before the bind, and a VL change flushes the binding first",
       V616 + V61),
    _L(v616_killed_task_flushed,
       "(signals with VL changes) a task killed by the SIGSEGV of a failed rt_sigreturn"
       " (program points SIGSEGV, DEAD; split: also preempted inside rt_sigreturn after a"
       " record's VL test failed) is foreign and bound to no CPU: v6.16's"
       " restore_sigframe() calls fpsimd_save_and_flush_current_state() before it reads"
       " any FP record (fpsimd_flush_task_state(): fpsimd_cpu = NR_CPUS, TIF_FOREIGN_FPSTATE),"
       " so the VL test fails on a flushed task, and the dying task never returns to user"
       " space, where alone fpsimd_restore_current_state() rebinds it", V616),
    _L(v616_sigreturn_restore_passed_vl_tests,
       "(signals with VL changes, split) a task preempted inside one of rt_sigreturn's"
       " record restores passed the VL tests so far: restore_sigframe() runs a record's"
       " restore only while err == 0, and each restore function's first statement is"
       " its VL test (the carried local of the test is 1 in the restore's windows)", V616),
    _L(vl_change_in_progress,
       "(VL changes, split) a task preempted inside its own change_live_vector_length()"
       " after the save and flush is foreign and unbound; its saved state is complete in"
       " fp_type's format until V is copied into uw.fpsimd_state, and from then on"
       " uw.fpsimd_state holds what it must read while sve_state is replaced by a zeroed"
       " buffer and refilled from it (SME: SM kept, ZA as saved until PR_SME_SET_VL clears"
       " it)", V616),
    _L(v6_in_syscall_after_entry,
       "in_syscall() is true in el0_svc's windows after el0_svc_common() set"
       " regs->syscallno (split: before the syscall body's bookkeeping)", V614),
    _L(v614_loaded_cpu_binds_no_task,
       "while a vcpu thread runs with its vcpu loaded, its CPU is bound to nothing or to that"
       " vcpu: kvm_arch_vcpu_load_fp() saved and flushed, and only ctxsync binds before"
       " vcpu_put", V614),
    _L(v614_host_sve_untrapped,
       "(SVE vcpus, nVHE) CPTR_EL2.TZ is set only while a guest runs: v6.14's"
       " __deactivate_cptr_traps() clears it at every exit (59419f10045b), so no host SVE"
       " instruction traps to hyp", V614),
    _L(v614_zcr_el2_is_host_max,
       "(SVE vcpus, several VLs, nVHE) ZCR_EL2 is the host max: hyp writes the vcpu's max"
       " (the largest length here) at entry and the host max at exit", V614),
    _L(v614_bound_state_at_its_vl,
       "(SVE vcpus, several VLs) outside the guest the host runs at the bound state's VL: an"
       " SVE vcpu's max (fpsimd_lazy_switch_to_host at the exit before ctxsync binds it), a"
       " task with TIF_SVE its own (task_fpsimd_load/sve_init_regs write ZCR before the"
       " bind; vcpu load unbinds every task before a guest can change ZCR)", V614),
    _L(v616_to_save_fpsimd_in_syscall,
       "a CPU whose fpsimd_last_state.to_save is FP_STATE_FPSIMD and which is bound to a"
       " task's user state (the task's fpsimd_cpu names it) is bound to a task in a syscall:"
       " only fpsimd_syscall_enter() (from el0_svc, which sets in_syscall) writes FPSIMD for"
       " a task's binding, every bind writes CURRENT, and the syscall's way out either"
       " rebinds (reload) or calls fpsimd_syscall_exit() first; split, a task preempted in"
       " el0_svc between fpsimd_syscall_enter() and el0_svc_common() has no in_syscall yet",
       V616),
    _L(v616_state_binding_to_save_fpsimd,
       "a CPU bound to a vcpu's (without SVE) or a kernel-mode state has to_save FP_STATE_FPSIMD"
       " (fpsimd_bind_state_to_cpu() copies it from ctxsync's and fpsimd_save_kernel_state()'s"
       " cpu_fp_state; fpsimd_syscall_exit() writes CURRENT only on the way to user space,"
       " when the CPU is bound to current's user state)", V616),
    _L(v616_sve_vcpu_binding_to_save_sve,
       "(SVE vcpus) a CPU bound to an SVE vcpu's state has to_save FP_STATE_SVE, and one"
       " with FP_STATE_SVE is bound to it or to nothing: ctxsync binds it so, a flush"
       " (NULL) leaves to_save alone, every other bind (a task's, a kernel-mode state's)"
       " writes CURRENT or FPSIMD, and fpsimd_syscall_enter()/fpsimd_syscall_exit() run on"
       " a syscall's way in and out of EL0, when no vcpu state is bound (vcpu_put flushed"
       " it)", V616),
    _L(seed_sve_tif_cleared_by_ctxsync,
       "a loaded vcpu's thread with HOST_SVE_IN_USE but TIF_SVE clear is past ctxsync: hyp "
       "has saved its state (FP_HOST clear) and it is not bound to the CPU it runs on", SEED),
)


def lemmas_for(layout: Layout, variant) -> list[Lemma]:  # noqa: ANN001 - model.variant.Variant
    """The lemmas claimed for ``variant``: those naming it, else those naming its parent
    (a patch derived from a known variant), plus the ones for every variant; then the
    variant's own: ``options={"lemmas": [Lemma, ...]}`` adds (or, under an inherited
    name, replaces) lemmas, ``options={"drop_lemmas": [name, ...]}`` drops inherited ones
    its change makes false (README, "Adding a lemma")."""
    from model.variants import VariantError, get_variant

    named = {n for lem in LEMMAS if lem.variants for n in lem.variants}
    key, v = variant.name, variant
    while key not in named and v.parent:  # walk up to the nearest variant with lemmas
        key = v.parent
        try:
            v = get_variant(key)
        except VariantError:
            break
    own = {lem.name: lem for lem in variant.option("lemmas", ())}
    drop = set(variant.option("drop_lemmas", ())) | set(own)
    unknown = drop - {lem.name for lem in LEMMAS} - set(own)
    if unknown:
        raise ValueError(f"variant {variant.name}: drop_lemmas names no lemma: "
                         f"{', '.join(sorted(unknown))}")
    inherited = [lem for lem in LEMMAS if lem.variants is None or key in lem.variants]
    return [lem for lem in inherited if lem.name not in drop] + list(own.values())


__all__ = ["LEMMAS", "Lemma", "lemmas_for", "PCS"]
