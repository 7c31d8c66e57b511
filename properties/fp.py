"""The properties: stated once, over the model's state and steps, for both engines.

Four kinds:
* **invariants** (`Invariant`): predicates every reachable state must satisfy;
* **step assertions**: the kernel's own WARN_ON/BUG_ON/lockdep checks, attached to the
  modelled statements (`model.dsl.Assert`); property `kernel_asserts` holds when no
  reachable step violates one;
* **locking rules** (properties/locking.py): step assertions of kind ``locking``;
  property `locking_rules` holds when no reachable step breaks one;
* **reachability guards** (`Guard`, "sometimes"): situations the model must be able to
  reach, or a proof about it is vacuous.

A context *reads* its FP registers at any instant it runs with FP accessible: a user task
at EL0, a guest in guest mode with FP untrapped (a trapped access goes to hyp first); with
the set_one_reg event also the VMM, reading a vcpu's saved registers with KVM_GET_ONE_REG
while no KVM_RUN holds the vcpu.  So "whenever a context reads" is "in every state where
it could read", an invariant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from model.config import Config
from model.dsl import FALSE, TRUE, Action, Const, Eq, Expr, Ite, Var, all_of, any_of, implies
from model.state import P_LATEST, P_ZERO, Image, Layout
from properties.locking import LOCKING_RULES
from properties.ownership import DATA_OWNERSHIP


@dataclass(frozen=True)
class Invariant:
    name: str
    doc: str
    build: Callable[[Layout], Expr]


@dataclass(frozen=True)
class Guard:
    """A "sometimes" property: some step ``applies`` to fires from a state satisfying the
    returned predicate (None: the step is not relevant).

    ``scope`` says whether the guard can apply to a configuration at all: it returns None
    if it can, else the reason it cannot (e.g. no vcpus).  A guard out of scope is "not
    applicable", never a failure; a guard in scope that is never reached fails the run.
    """

    name: str
    doc: str
    applies: Callable[[Layout, Action], Expr | None]
    scope: Callable[[Config], str | None] = lambda cfg: None


def needs_vcpus(cfg: Config) -> str | None:
    return None if cfg.vcpus else "no vcpus in this configuration"


def _needs_event(name: str) -> Callable[[Config], str | None]:
    def scope(cfg: Config) -> str | None:
        if name not in cfg.events:
            return f"event {name} is not included"
        return None if cfg.user_tasks else "no user tasks in this configuration"
    return scope


def _needs_event_and_cpus(name: str) -> Callable[[Config], str | None]:
    def scope(cfg: Config) -> str | None:
        if cfg.cpus < 2:
            return "one CPU: a task's state cannot be live on another CPU"
        return _needs_event(name)(cfg)
    return scope


def _needs_sve_and_two_tasks(cfg: Config) -> str | None:
    if not cfg.sve:
        return "no SVE in this configuration"
    return None if cfg.user_tasks >= 2 else "fewer than two user tasks"


def needs_tasks(cfg: Config) -> str | None:
    return None if cfg.user_tasks else "no user tasks in this configuration"


def needs_tasks_and_cpus(cfg: Config) -> str | None:
    if cfg.cpus < 2:
        return "one CPU: a task cannot migrate"
    return None if cfg.user_tasks else "no user tasks in this configuration"


def needs_aarch32_vcpus(cfg: Config) -> str | None:
    if not cfg.guest_aarch32:
        return "AArch64 guests (--aarch32-guest not given)"
    return needs_vcpus(cfg)


def needs_event_and_vcpus(event: str) -> Callable[[Config], str | None]:
    def scope(cfg: Config) -> str | None:
        if event not in cfg.events:
            return f"event {event} not included (--event {event})"
        return needs_vcpus(cfg)

    return scope


def needs_vcpu_reset_setting(cfg: Config) -> str | None:
    """PSCI CPU_ON of a vcpu whose state is live on a CPU: two vcpus, each in its own VMM
    thread, on two CPUs (on one CPU the target's thread is switched out, its state saved
    and flushed, while the other thread runs)."""
    if "vcpu_reset" not in cfg.events:
        return "event vcpu_reset not included (--event vcpu_reset)"
    if cfg.vcpus < 2 or cfg.vmm_threads < 2:
        return "PSCI CPU_ON needs --vcpus 2 and --vmm-threads 2"
    if cfg.cpus < 2:
        return "one CPU: the target's thread is switched out (its state saved) meanwhile"
    return None


def readers(S: Layout) -> list[tuple[Expr, int, Image]]:
    """(condition, owner, registers) for every context that can read FP registers now.

    The registers are given as the slices that context can read: V and FPSR/FPCR always,
    the Z bits above 127 only for a user task with EL0 SVE enabled on its CPU (see
    `zhi_readers`), FPEXC32_EL2 only for an AArch32 guest (Config.guest_aarch32: FP
    untrapped at EL2 also leaves its VMRS/VMSR of FPEXC untrapped), FPMR for user tasks
    with Config.fpmr and for guests with Config.guest_fpmr.
    """
    out: list[tuple[Expr, int, Image]] = []
    for c in range(S.config.cpus):
        regs = S.cpu[c].regs
        # FPMR (Config.fpmr): every host task reads it at EL0; a guest only if its VM has
        # FPMR (Config.guest_fpmr; else HCRX_EL2.EnFPM is clear and its accesses UNDEF).
        vregs = Image(regs.name, regs.v, regs.fpsr, Const(S.VALUE, S.ZERO), fpmr=regs.fpmr,
                      fpcr=regs.fpcr)
        gregs = Image(regs.name, regs.v, regs.fpsr, Const(S.VALUE, S.ZERO), regs.fpexc,
                      fpmr=regs.fpmr if S.config.guest_fpmr else None, fpcr=regs.fpcr)
        for t in S.tasks:
            if t.mm:
                out.append((S.cpu[c].current.eq(t.index) & t.pc.eq("USER"), t.index, vregs))
                if t.vmm:
                    for v in S.vcpus:
                        cond = (
                            S.cpu[c].current.eq(t.index)
                            & t.pc.eq("IN_GUEST")
                            & v.mutex.eq(t.name)
                            & ~S.fp_trapped(c)
                        )
                        out.append((cond, S.guest_owner(v.index), gregs))
    if "set_one_reg" in S.config.events:
        # KVM_GET_ONE_REG (event set_one_reg): the VMM reads the guest's FP registers from
        # vcpu->arch.ctxt (kvm_arm_get_reg(), no vcpu_load) whenever it holds the vcpu's
        # mutex outside KVM_RUN, i.e. whenever no KVM_RUN holds it.  (A migration's
        # save/restore is built on this read.)
        for v in S.vcpus:
            # FPMR is a ONE_REG register only for a VM with FPMR (v6.12+ sys_reg FPMR,
            # hidden by fpmr_visibility() otherwise; v6.9/v6.10 have none).
            regs = v.fp_regs if S.config.guest_fpmr else replace(v.fp_regs, fpmr=None)
            if v.sve_state is not None:
                # An SVE vcpu (Config.sve_guest): get_sve_reg() reads Z0-Z31 and
                # P0-P15/FFR from vcpu->arch.sve_state; its V core registers are refused
                # (guest.c core_reg_size_from_offset()), FPSR/FPCR are core registers.
                regs = replace(regs, v=v.sve_state.v, zhi=v.sve_state.zhi, p=v.sve_state.p)
            out.append((v.mutex.eq("NULL"), S.guest_owner(v.index), regs))
    return out


def zhi_readers(S: Layout) -> list[tuple[Expr, int, Expr]]:
    """(condition, task, Z-high slice) for user tasks that can read Z bits above 127: with
    EL0 SVE enabled, or (SME) in streaming mode (`streaming_at_el0`)."""
    out: list[tuple[Expr, int, Expr]] = []
    if not (S.config.sve or S.config.sme):
        return out
    for c in range(S.config.cpus):
        for t in S.tasks:
            if not t.mm:
                continue
            short_svl = S.multi_svl and 128 in S.config.sme_vls
            if short_svl:
                # (Config.sme_vls) in streaming mode the Z registers are SVL bits: a task
                # at SVL 128 has no bits above 127 there, and outside it its SVE VL rules
                cpu = S.cpu[c]
                sve = sve_at_el0(S, c, t.index) & cpu.sm.eq(0) if S.config.sve else None
                if sve is not None and S.multi_vl and 128 in S.config.sve_vls:
                    sve = sve & t.sve_vl.ne(str(128))
                cond = streaming_at_el0(S, c, t.index) & t.sme_vl.ne(str(128))
                if sve is not None:
                    cond = sve | cond
            else:
                cond = z_at_el0(S, c, t.index)
                if S.multi_vl and 128 in S.config.sve_vls:
                    # a task running at VL 128 has no Z bits above 127
                    cond = cond & t.sve_vl.ne(str(128))
                    if S.config.sme:
                        # in streaming mode the length is the SVL (one here, above 128
                        # only if the SVE one is: that is not modelled, so keep streaming)
                        cond = cond | streaming_at_el0(S, c, t.index)
            out.append((cond, t.index, S.cpu[c].regs.zhi))
    return out


def sve_at_el0(S: Layout, c: int, t: int) -> Expr:
    """Task t runs at EL0 on CPU c with SVE enabled (CPACR_EL1.ZEN_EL0EN)."""
    return (S.cpu[c].current.eq(t) & S.tasks[t].pc.eq("USER")
            & S.cpu[c].zen_el0en.eq(1))


def streaming_at_el0(S: Layout, c: int, t: int) -> Expr:
    """(SME) Task t runs at EL0 on CPU c in streaming mode (PSTATE.SM) with SME enabled
    (CPACR_EL1.SMEN_EL0EN): it reads the Z registers at the streaming VL and P0-P15."""
    return (S.cpu[c].current.eq(t) & S.tasks[t].pc.eq("USER")
            & S.cpu[c].sm.eq(1) & S.cpu[c].smen_el0en.eq(1))


def z_at_el0(S: Layout, c: int, t: int) -> Expr:
    """Task t can read its Z bits above 127 and P0-P15 at EL0 on CPU c: with EL0 SVE
    enabled, or (SME) in streaming mode."""
    if not S.config.sme:
        return sve_at_el0(S, c, t)
    if not S.config.sve:
        return streaming_at_el0(S, c, t)
    return sve_at_el0(S, c, t) | streaming_at_el0(S, c, t)


def za_readers(S: Layout) -> list[tuple[Expr, int, Expr]]:
    """(SME) (condition, task, ZA slot) for user tasks at EL0 with SME enabled and PSTATE.ZA
    set: they read ZA."""
    if not S.config.sme:
        return []
    return [(S.cpu[c].current.eq(t.index) & t.pc.eq("USER") & S.cpu[c].za_on.eq(1)
             & S.cpu[c].smen_el0en.eq(1), t.index, S.cpu[c].za)
            for c in range(S.config.cpus) for t in S.tasks if t.mm]


def svcr_readers(S: Layout) -> list[tuple[Expr, int, int]]:
    """(SME) (condition, task, cpu) for user tasks at EL0: they run with the CPU's PSTATE.SM
    and PSTATE.ZA (which decide how every FP/SVE/SME instruction behaves)."""
    if not S.config.sme:
        return []
    return [(S.cpu[c].current.eq(t.index) & t.pc.eq("USER"), t.index, c)
            for c in range(S.config.cpus) for t in S.tasks if t.mm]


def guest_svcr_readers(S: Layout) -> list[tuple[Expr, int, int]]:
    """(SME, vcpus) (condition, guest owner, cpu) for guests in guest mode: a guest runs with
    the CPU's PSTATE.SM, which decides how its FP/SIMD instructions behave (in streaming
    mode its Advanced SIMD instructions are illegal and trap to its own EL1), whether or
    not its FP is trapped to hyp for now.  Guests have no SME (hyp traps every SME
    instruction and SVCR access): the PSTATE.SM a guest set is always 0."""
    if not (S.config.sme and S.vcpus):
        return []
    return [(S.cpu[c].current.eq(t.index) & t.pc.eq("IN_GUEST") & v.mutex.eq(t.name),
             S.guest_owner(v.index), c)
            for c in range(S.config.cpus) for t in S.tasks if t.vmm for v in S.vcpus]


def vl_readers(S: Layout) -> list[tuple[Expr, int, Expr]]:
    """(condition, task, live VL) for user tasks that can execute SVE at EL0 with several
    vector lengths configured: the task observes ZCR_EL1.LEN (RDVL, every SVE access)."""
    if not S.multi_vl:
        return []
    return [(sve_at_el0(S, c, t.index), t.index, S.host_vl(c))
            for c in range(S.config.cpus) for t in S.tasks if t.mm]


def sme_vl_readers(S: Layout) -> list[tuple[Expr, int, Expr]]:
    """(Config.sme_vls) (condition, task, live SVL) for user tasks at EL0 with SME enabled
    (CPACR_EL1.SMEN_EL0EN): the task observes SMCR_EL1.LEN (RDSVL, and every streaming or
    ZA access)."""
    if not S.multi_svl:
        return []
    return [(S.cpu[c].current.eq(t.index) & t.pc.eq("USER") & S.cpu[c].smen_el0en.eq(1),
             t.index, S.cpu[c].smcr)
            for c in range(S.config.cpus) for t in S.tasks if t.mm]


def guest_sve_readers(S: Layout) -> list[tuple[Expr, int, Expr]]:
    """(condition, guest owner, slice) for SVE vcpus (Config.sve_guest) in guest mode with
    FP and SVE untrapped at EL2: they read the Z bits above 127 and P0-P15/FFR too.  With
    event guest_hidden_sve the same for vcpus without SVE, whose guest executes SVE
    instructions anyway (the ID registers hide SVE, CPACR_EL1.ZEN is the guest's).
    Checked by no_leak only: a guest that shortens its own vector length makes its high
    Z bits inaccessible, which the model does not track per length."""
    out: list[tuple[Expr, int, Expr]] = []
    hidden = "guest_hidden_sve" in S.config.events and S.config.sve and not S.config.sve_guest
    if not (S.config.sve_guest or hidden):
        return out
    for c in range(S.config.cpus):
        regs = S.cpu[c].regs
        cpu = S.cpu[c]
        # SVE at EL1 is untrapped at EL2: nVHE CPTR_EL2.TZ clear, VHE CPACR_EL1.ZEN set
        # (in guest mode the model's zen_el0en is the EL2 trap control, __activate_traps)
        sve_on = cpu.zen_el0en.eq(1) if S.config.vhe else \
            cpu.cptr_tz.eq(0) if isinstance(cpu.cptr_tz, Var) else TRUE
        for t in S.tasks:
            if not t.vmm:
                continue
            for v in S.vcpus:
                cond = (cpu.current.eq(t.index) & t.pc.eq("IN_GUEST")
                        & v.mutex.eq(t.name) & ~S.fp_trapped(c) & sve_on)
                for slot in (regs.zhi, regs.p):
                    out.append((cond, S.guest_owner(v.index), slot))
    return out


def p_readers(S: Layout) -> list[tuple[Expr, int, Expr]]:
    """(condition, task, P/FFR slice) for user tasks that can read P0-P15/FFR: at EL0 with
    EL0 SVE enabled (CPACR_EL1.ZEN_EL0EN) or in streaming mode, as for the Z bits above
    127."""
    if not (S.config.sve or S.config.sme):
        return []
    return [(z_at_el0(S, c, t.index), t.index, S.cpu[c].regs.p)
            for c in range(S.config.cpus) for t in S.tasks if t.mm]


def zhi_readers_on(S: Layout, c: int) -> list[tuple[Expr, int, Expr]]:
    return [(cond, t, z) for cond, t, z in zhi_readers(S)
            if z is S.cpu[c].regs.zhi]


def expects_zero(S: Layout, owner: int) -> Expr:
    """(event exec) owner is a task that has exec'd and not written FP since: the new
    program must read zero (fpsimd_flush_thread's memset), a new generation of its state."""
    if owner >= S.config.user_tasks:
        return FALSE
    g = S.tasks[owner].expect_zero
    return g.eq(1) if isinstance(g, Var) else FALSE


def all_zero(S: Layout, regs: Image) -> Expr:
    return all_of(slot.eq(S.ZERO) for slot in regs.slots())


def own_latest(S: Layout, owner: int, regs: Image) -> Expr:
    return all_of(slot.eq(S.latest(owner)) for slot in regs.slots())


def fpmr_expects_zero(S: Layout, owner: int) -> Expr:
    """(event exec, Config.fpmr) owner is a task that has exec'd and whose FPMR nobody has
    written since: the new program must read a zero FPMR (v6.16's fpsimd_flush_thread()
    resets thread.uw.fpmr), whatever has happened to its V since."""
    if owner >= S.config.user_tasks:
        return FALSE
    g = S.tasks[owner].fpmr_expect_zero
    return g.eq(1) if isinstance(g, Var) else FALSE


def fpcr_expects_zero(S: Layout, owner: int) -> Expr:
    """(Config.sme with event exec or ptrace_sve_nodata) owner is a task whose FPCR was
    zeroed as a new value (exec; v6.16's header-only ptrace write) and which has not
    written FP since: it must read a zero FPCR, whatever PSTATE.SM changes (which leave
    FPCR alone) have happened since."""
    if owner >= S.config.user_tasks:
        return FALSE
    g = S.tasks[owner].fpcr_expect_zero
    return g.eq(1) if isinstance(g, Var) else FALSE


def expected(S: Layout, owner: int, regs: Image, ez: Expr | None = None,
             fz: Expr | None = None, cz: Expr | None = None) -> Expr:
    """The registers hold what ``owner`` must read: its latest write, or zero after exec
    (FPMR by its own ghost where it has one: `fpmr_expects_zero`).  With SME FPCR has its
    own slice and rule: zero after exec (`fpcr_expects_zero`), else the owner's latest,
    also while V and FPSR must read zero after a change of PSTATE.SM (which resets FPSR
    and keeps FPCR: model/variants/v6_sme.py `sme_write_svcr`).  ``ez``: the "must read
    zero" condition to use instead of the owner's current one (a signal frame's, taken at
    delivery: `sigframe_no_loss`); ``fz``, ``cz`` likewise for FPMR's and FPCR's own
    ghosts."""
    if fz is None:
        fz = fpmr_expects_zero(S, owner)
    if fz is not FALSE and isinstance(regs.fpmr, Var):
        rest = expected(S, owner, replace(regs, fpmr=None), ez, cz=cz)
        fpmr = (fz & regs.fpmr.eq(S.ZERO)) | (~fz & regs.fpmr.eq(S.latest(owner)))
        return rest & fpmr
    if isinstance(regs.fpcr, Var):
        if cz is None:
            cz = fpcr_expects_zero(S, owner)
        rest = expected(S, owner, replace(regs, fpcr=None), ez, fz=FALSE)
        fpcr = regs.fpcr.eq(S.latest(owner)) if cz is FALSE else (
            (cz & regs.fpcr.eq(S.ZERO)) | (~cz & regs.fpcr.eq(S.latest(owner))))
        return rest & fpcr
    if ez is None:
        ez = expects_zero(S, owner)
    if ez is FALSE:
        return own_latest(S, owner, regs)
    return (ez & all_zero(S, regs)) | (~ez & own_latest(S, owner, regs))


def own_or_no_ones(S: Layout, owner: int) -> tuple[int, ...]:
    """The tokens a slot may hold for ``owner`` to read it without a leak: zero, the
    owner's own values, and (with the CPU PM / hotplug events) the UNKNOWN contents left
    by a power loss, which are no context's data (a read of them is a loss, not a leak;
    a power loss that leaves the old contents is the events' "retained" branch)."""
    extra = (S.UNKNOWN,) if S.UNKNOWN is not None else ()
    return (S.ZERO, S.latest(owner), S.stale(owner)) + extra


def only_own_bits(S: Layout, owner: int, regs: Image) -> Expr:
    allowed = own_or_no_ones(S, owner)
    return all_of(any_of(slot.eq(a) for a in allowed) for slot in regs.slots())


# The slices of an image by name, in `Image.slots` order (for the per-slice sites).
SLICES = ("v", "fpsr", "zhi", "fpexc", "fpmr", "fpcr", "zv")


def expected_by_slice(S: Layout, owner: int, regs: Image) -> list[tuple[str, Expr]]:
    """`expected` (with the owner's own ghosts) one slice at a time: the conjunction of
    the returned expressions is `expected(S, owner, regs)`.  The "must read zero" ghost is
    one condition for every slice but FPMR and FPCR (their own ghosts), so
    (ez & all zero) | (~ez & all latest) splits slice by slice."""
    fz = fpmr_expects_zero(S, owner)
    ez = expects_zero(S, owner)
    out = []
    for name in SLICES:
        slot = getattr(regs, name)
        if not isinstance(slot, Var):
            continue
        g = ez
        if name == "fpmr" and fz is not FALSE:
            g = fz
        if name == "fpcr":
            g = fpcr_expects_zero(S, owner)
        latest = slot.eq(S.latest(owner))
        out.append((name, latest if g is FALSE
                    else (g & slot.eq(S.ZERO)) | (~g & latest)))
    return out


def _by_site(parts: list[tuple[str, Expr]]) -> dict[str, Expr]:
    sites: dict[str, list[Expr]] = {}
    for site, e in parts:
        sites.setdefault(site, []).append(e)
    return {site: all_of(es) for site, es in sites.items()}


def no_loss(S: Layout) -> Expr:
    """Whenever a context (a host user task at EL0, a guest with FP untrapped) can read
    its FP registers, they hold exactly the value it last wrote, every slice.  For the Z
    bits above 127 that is the task's latest SVE write, or zero if its latest write was
    through V (which zeroes them) or a syscall discarded its SVE state since; for P0-P15
    and FFR its latest P write, or zero where the kernel guarantees zero, or anything
    where they are unspecified (the ghost p_written, `p_value_ok`).  A
    kernel-mode NEON section (task context or softirq) reads back exactly what it
    wrote.  With several vector lengths (Config.sve_vls) a task that can execute SVE at
    EL0 runs at its own vector length (the CPU's ZCR_EL1.LEN is its thread.sve_vl).  With
    SME every context runs with the PSTATE.SM/PSTATE.ZA it set: a host task its own, a
    guest (which has no SME) with PSTATE.SM clear."""
    return all_of(no_loss_sites(S).values())


def no_loss_sites(S: Layout) -> dict[str, Expr]:
    """`no_loss` by site (what is read wrong): each register slice the contexts read
    (v, fpsr, fpcr, fpmr, fpexc), kneon (a kernel-mode NEON section's read-back), zhi, p,
    vl, svl, za, svcr (a task's PSTATE.SM/ZA), guest_svcr, sigframe (a handler's frame).
    Their conjunction is no_loss; `explore --sites` reports a shortest trace for each."""
    parts = [(name, implies(cond, e)) for cond, o, regs in readers(S)
             for name, e in expected_by_slice(S, o, regs)]
    # Kernel-mode NEON is a context too: a section reads back what it wrote.
    parts.append(("kneon", S.kneon_lost.eq(0)))
    for cond, t, zhi in zhi_readers(S):
        parts.append(("zhi", implies(cond, Eq(zhi, zhi_value(S, t)))))
    for cond, t, p in p_readers(S):
        parts.append(("p", implies(cond, p_value_ok(S, S.tasks[t].p_written, p, t))))
    # With several vector lengths the VL is part of a task's SVE state: it runs at its own.
    for cond, t, zcr in vl_readers(S):
        parts.append(("vl", implies(cond, Eq(zcr, S.tasks[t].sve_vl))))
    # ... and with several streaming lengths, a task with SME enabled at its own SVL.
    for cond, t, smcr in sme_vl_readers(S):
        parts.append(("svl", implies(cond, Eq(smcr, S.tasks[t].sme_vl))))
    # SME: ZA holds the task's latest ZA write (or zero after its SMSTART ZA), and the
    # task runs with the PSTATE.SM/PSTATE.ZA it set (the syscall ABI clears SM).
    for cond, t, za in za_readers(S):
        task = S.tasks[t]
        parts.append(("za", implies(cond, Eq(za, Ite(task.za_written.eq(1),
                                                     Const(S.VALUE, S.latest(t)),
                                                     Const(S.VALUE, S.ZERO))))))
    for cond, t, c in svcr_readers(S):
        task, cpu = S.tasks[t], S.cpu[c]
        parts.append(("svcr", implies(cond, _same_bit(cpu.sm, task.sm_expected)
                                      & _same_bit(cpu.za_on, task.za_expected))))
    for cond, _g, c in guest_svcr_readers(S):
        parts.append(("guest_svcr", implies(cond, S.cpu[c].sm.eq(0))))
    parts += [("sigframe", sigframe_no_loss(S, t)) for t in S.tasks if t.sigframe is not None]
    return _by_site(parts)


def _same_bit(a: Expr, ghost: Expr) -> Expr:
    """A boolean state bit equals a ghost bit (different domains)."""
    return (a.eq(1) & ghost.eq(1)) | (a.eq(0) & ghost.eq(0))


def zhi_value(S: Layout, t: int) -> Expr:
    """What task t must read in the Z bits above 127: its latest SVE write, or zero (its
    latest write was through V, or a syscall discarded its SVE state since)."""
    return Ite(S.tasks[t].zhi_expected.eq(1), Const(S.VALUE, S.latest(t)),
               Const(S.VALUE, S.ZERO))


def p_value_ok(S: Layout, pw: Expr, p: Expr, t: int) -> Expr:
    """A P0-P15/FFR slice ``p`` holds what task t must read there by the ghost ``pw``
    (its p_written, or a signal frame's snapshot of it; `model.state.P_GHOST`): its
    latest P write (P_LATEST), zero where the kernel guarantees zero (P_ZERO), anything
    when unspecified (P_UNDEFINED: only no_leak constrains it)."""
    return (implies(pw.eq(P_LATEST), p.eq(S.latest(t)))
            & implies(pw.eq(P_ZERO), p.eq(S.ZERO)))


def sigframe_no_loss(S: Layout, t) -> Expr:  # noqa: ANN001
    """(event signal) A handler reads the interrupted registers in its signal frame: while
    the frame is fresh (delivered, and the task has not written FP since), its
    fpsimd_context holds the task's latest V/FPSR/FPCR and, if the frame carries SVE
    register data, sve_context holds its Z bits above 127 and P/FFR as
    `p_value_ok` says (its latest, or zero where guaranteed)."""
    f = t.sigframe
    reading = t.pc.eq("USER") & t.in_handler.eq(1) & t.sigframe_fresh.eq(1)
    if isinstance(t.sf_sm_expected, Var):
        return implies(reading, _sigframe_sme_ok(S, t))
    ok = expected(S, t.index, Image(f.name, f.v, f.fpsr, Const(S.VALUE, S.ZERO),
                                    fpmr=f.fpmr, fpcr=f.fpcr))
    if isinstance(f.zhi, Var):
        sve_ok = Eq(f.zhi, zhi_value(S, t.index)) & p_value_ok(S, t.p_written, f.p, t.index)
        ok = ok & implies(t.sigframe_sve.eq(1), sve_ok)
    return implies(reading, ok)


def _sigframe_sme_ok(S: Layout, t) -> Expr:  # noqa: ANN001
    """(event signal with SME) The fresh frame holds what the interrupted task had to read,
    by the expectations taken at delivery (`model.state.SIGFRAME_SNAPSHOT`: the handler
    entry's SMSTOP changes the task's own): V/FPSR; with SVE-record data its Z bits above
    127 and P/FFR (`p_value_ok`); the SVE record's SVE_SIG_FLAG_SM says whether it was in
    streaming mode, and then carries the registers (sme.rst: the streaming-mode state is
    always in the SVE record); za_context carries ZA exactly when it had ZA enabled, and
    then its ZA (its latest ZA write, or zero after its SMSTART ZA); with FEAT_FPMR the
    fpmr_context record holds its FPMR (zero if it had to read zero)."""
    f, i = t.sigframe, t.index
    latest, zero = Const(S.VALUE, S.latest(i)), Const(S.VALUE, S.ZERO)
    # (FPMR: the fpmr_context record, by the snapshot of its own ghost where there is one)
    fz = t.sf_fpmr_expect_zero.eq(1) if isinstance(t.sf_fpmr_expect_zero, Var) else FALSE
    cz = t.sf_fpcr_expect_zero.eq(1) if isinstance(t.sf_fpcr_expect_zero, Var) else FALSE
    ok = expected(S, i, Image(f.name, f.v, f.fpsr, zero, fpmr=f.fpmr, fpcr=f.fpcr),
                  ez=t.sf_expect_zero.eq(1), fz=fz, cz=cz)
    zhi = Ite(t.sf_zhi_expected.eq(1), latest, zero)
    ok = ok & implies(t.sigframe_sve.eq(1),
                      Eq(f.zhi, zhi) & p_value_ok(S, t.sf_p_written, f.p, i))
    if isinstance(f.zv, Var):  # sve_context's copy of Z bits [127:0] duplicates V
        ok = ok & implies(t.sigframe_sve.eq(1), Eq(f.zv, f.v))
    ok = ok & _same_bit(t.sigframe_sm, t.sf_sm_expected) & implies(t.sigframe_sm.eq(1),
                                                                    t.sigframe_sve.eq(1))
    za = Ite(t.sf_za_written.eq(1), latest, zero)
    ok = ok & _same_bit(t.sigframe_za, t.sf_za_expected) & implies(t.sigframe_za.eq(1),
                                                                    Eq(t.sigframe_zadata, za))
    return ok


def sigframe_no_leak(S: Layout, t) -> Expr:  # noqa: ANN001
    """(event signal) The signal frame is user memory the task reads: it holds only the
    task's own bits (or zero), the SVE record's data only when it has any."""
    f = t.sigframe
    reading = t.pc.eq("USER") & t.in_handler.eq(1)
    ok = only_own_bits(S, t.index, Image(f.name, f.v, f.fpsr, Const(S.VALUE, S.ZERO),
                                         fpmr=f.fpmr, fpcr=f.fpcr))
    if isinstance(f.zhi, Var):
        ok = ok & implies(t.sigframe_sve.eq(1), _own(S, t.index, f.zhi) & _own(S, t.index, f.p))
    if isinstance(f.zv, Var):  # (SME) sve_context's copy of Z bits [127:0]
        ok = ok & implies(t.sigframe_sve.eq(1), _own(S, t.index, f.zv))
    if isinstance(t.sigframe_zadata, Var):  # (SME) za_context's ZA data
        ok = ok & implies(t.sigframe_za.eq(1), _own(S, t.index, t.sigframe_zadata))
    return implies(reading, ok)


def _own(S: Layout, owner: int, slot: Expr) -> Expr:
    return any_of(slot.eq(a) for a in own_or_no_ones(S, owner))


def no_leak(S: Layout) -> Expr:
    """No context can read bits written by another context (another task, a guest, the
    host, kernel-mode NEON); in particular a guest never runs with FP untrapped while the
    registers hold anything but its own state."""
    return all_of(no_leak_sites(S).values())


def no_leak_sites(S: Layout) -> dict[str, Expr]:
    """`no_leak` by site (what is read that belongs to another): each register slice the
    contexts read, zhi, p, guest_sve (a guest's Z-high/P), za, sigframe.  Their
    conjunction is no_leak."""
    parts = [(name, implies(cond, _own(S, o, getattr(regs, name))))
             for cond, o, regs in readers(S) for name in SLICES
             if isinstance(getattr(regs, name), Var)]
    for cond, t, zhi in zhi_readers(S):
        parts.append(("zhi", implies(cond, _own(S, t, zhi))))
    for cond, t, p in p_readers(S):
        parts.append(("p", implies(cond, _own(S, t, p))))
    for cond, g, slot in guest_sve_readers(S):
        parts.append(("guest_sve", implies(cond, _own(S, g, slot))))
    for cond, t, za in za_readers(S):
        parts.append(("za", implies(cond, _own(S, t, za))))
    parts += [("sigframe", sigframe_no_leak(S, t)) for t in S.tasks if t.sigframe is not None]
    return _by_site(parts)


def host_fp_untrapped(S: Layout) -> Expr:
    """Whenever a CPU runs host code (anything but a vcpu thread in guest mode), FP/SIMD
    does not trap to EL2: nVHE CPTR_EL2.TFP is clear, VHE CPACR_EL1.FPEN enables FP.  The
    host uses FP freely (user tasks, kernel-mode NEON in IRQs); a host FP access that traps
    to hyp finds no vcpu to switch to and is a hyp panic (nVHE: the trap lands in
    __kvm_hyp_vector's el1_sync with no guest context -> __hyp_panic)."""
    parts = []
    for c in range(S.config.cpus):
        cpu = S.cpu[c]
        in_guest = any_of(cpu.current.eq(t.index) & t.pc.eq("IN_GUEST")
                          for t in S.tasks if t.vmm)
        parts.append(implies(S.fp_trapped(c), in_guest))
    return all_of(parts)


INVARIANTS: tuple[Invariant, ...] = (
    Invariant("no_loss", no_loss.__doc__ or "", no_loss),
    Invariant("no_leak", no_leak.__doc__ or "", no_leak),
    Invariant("host_fp_untrapped", host_fp_untrapped.__doc__ or "", host_fp_untrapped),
)

# An invariant's sites (`explore --sites`): name -> {site: conjunct}; the conjunction of
# the sites is the invariant.  A site's property name is "<invariant>.<site>".
SITES: dict[str, Callable[[Layout], dict[str, Expr]]] = {
    "no_loss": no_loss_sites, "no_leak": no_leak_sites}

KERNEL_ASSERTS = "kernel_asserts"
KERNEL_ASSERTS_DOC = (
    "Every WARN_ON/BUG_ON of the modelled functions and of the primitives they call"
    " (local_bh_enable's checks incl. lockdep_assert_irqs_enabled with PROVE_LOCKING,"
    " may_use_simd in kernel_neon_begin, fpsimd_save's context check,"
    " BUG_ON(!current->mm), ...) holds."
)

PROPERTY_NAMES = ("no_loss", "no_leak", "host_fp_untrapped", KERNEL_ASSERTS, LOCKING_RULES,
                  DATA_OWNERSHIP)
# Properties made of step assertions (`model.dsl.Assert`), told apart by Check.kind.
STEP_PROPERTIES = (KERNEL_ASSERTS, LOCKING_RULES, DATA_OWNERSHIP)


# ----------------------------------------------------------------------- guards
def _guest_state_live(S: Layout, c: int) -> Expr:
    return any_of(S.cpu[c].regs.v.eq(S.latest(S.guest_owner(v.index))) for v in S.vcpus)


def _irq_with_guest_live(S: Layout, a: Action) -> Expr | None:
    if a.name != "irq":
        return None
    return _guest_state_live(S, a.param("cpu"))


def _softirq_neon_vcpu_bound(S: Layout, a: Action) -> Expr | None:
    if a.name != "irq":
        return None
    c = a.param("cpu")
    return any_of(S.cpu[c].last_st.eq(S.vcpu_fpstate(v.index)) for v in S.vcpus)


def _softirq_neon_sve_vcpu_short_vl(S: Layout, a: Action) -> Expr | None:
    """(SVE vcpus, several VLs) a softirq uses kernel-mode NEON while an SVE vcpu's state
    is bound to the CPU and the guest's own ZCR_EL1 (live or saved) selects a length
    below its max VL: the save must still run at the max VL (#20)."""
    if a.name != "irq" or not (S.config.sve_guest and S.multi_vl):
        return None
    c = a.param("cpu")
    top = S.config.vcpu_max_vl_index
    return any_of(S.cpu[c].last_st.eq(S.vcpu_fpstate(v.index))
                  & (S.zcr_el1_reg(c).ne(top) | v.zcr_el1.ne(top)) for v in S.vcpus)


def needs_sve_guest_vls(cfg: Config) -> str | None:
    if not cfg.sve_guest:
        return "vcpus without SVE (--sve-guest not given)"
    return None if len(cfg.sve_vls) > 1 else "one vector length (--sve-vls A,B not given)"


def _hyp_saves_host(S: Layout, a: Action) -> Expr | None:
    if a.name != "guest_fp_trap":
        return None
    c = a.param("cpu")
    return any_of(S.cpu[c].regs.v.eq(S.latest(t.index)) for t in S.tasks if t.mm)


def _vcpu_thread_preempted_loaded(S: Layout, a: Action) -> Expr | None:
    if a.name != "schedule" or not S.tasks[a.param("task")].vmm:
        return None
    return S.tasks[a.param("task")].loaded_vcpu.ne("none")


def _migrate_live(S: Layout, a: Action) -> Expr | None:
    if a.name != "schedule":
        return None
    c, t = a.param("cpu"), a.param("next")
    task = S.tasks[t]
    if not task.mm:
        return None
    return _live_elsewhere(S, t, c)


def _aarch32_reenter_fp_live(S: Layout, a: Action) -> Expr | None:
    """enter_guest of an AArch32 vcpu whose FP state is still live for hyp, so FP stays
    untrapped and whatever hyp does to FPEXC32_EL2 on entry is what the guest reads: the
    vcpu thread's TIF_FOREIGN_FPSTATE clear and, up to v5.x, FP_ENABLED set
    (update_fp_enabled()); on v6, KVM's owner of the CPU's registers GUEST_OWNED
    (`Layout.kvm_fp_owner`; kvm_arch_vcpu_ctxflush_fp() makes it FREE for a foreign
    thread)."""
    if a.name != "enter_guest" or not S.config.guest_aarch32:
        return None
    c, t, v = a.param("cpu"), S.tasks[a.param("task")], S.vcpus[a.param("vcpu")]
    if S.features & {"host_data_fp_owner", "vcpu_fp_state"}:
        return S.kvm_fp_owner(c, v).eq("GUEST_OWNED") & t.tif_foreign.eq(0)
    return v.fp_enabled.eq(1) & t.tif_foreign.eq(0)


def _vcpu_reset_fp_live(S: Layout, a: Action) -> Expr | None:
    """PSCI CPU_ON resets a vcpu whose FP state is live in some CPU's registers and bound
    to that CPU (fpsimd_last_state.st is the vcpu's fp_regs): the registers, not memory,
    are what the vcpu's next save or guest entry uses."""
    if a.name != "vcpu_reset":
        return None
    b = a.param("target_vcpu")
    g = S.guest_owner(b)
    return any_of(S.cpu[c].regs.v.eq(S.latest(g)) & S.cpu[c].last_st.eq(S.vcpu_fpstate(b))
                  for c in range(S.config.cpus))


def _set_one_reg_after_run(S: Layout, a: Action) -> Expr | None:
    """KVM_SET_ONE_REG on a vcpu that has already run (vcpu->pid set)."""
    if a.name != "set_one_reg":
        return None
    return S.vcpus[a.param("vcpu")].pid.ne("NULL")


def _kvm_run_neon_vcpu_bound(S: Layout, a: Action) -> Expr | None:
    """Kernel-mode NEON in the VMM thread inside KVM_RUN with its vcpu's state bound to
    the CPU (fpsimd_last_state.st is the vcpu's fp_regs)."""
    if a.name != "kvm_run_kernel_neon":
        return None
    return S.cpu[a.param("cpu")].last_st.eq(S.vcpu_fpstate(a.param("vcpu")))
def _kvm_run_neon_preempted(S: Layout, a: Action) -> Expr | None:
    """(v6.8+, preemptible task-context kernel NEON) the VMM thread is switched out inside
    its kernel-mode NEON section in KVM_RUN, vcpu loaded: KVM's sched-out notifier puts
    the vcpu before fpsimd_thread_switch saves the section's registers."""
    if a.name != "schedule" or "RUN_NEON_TOP" not in S.PC.labels:
        return None
    t = S.tasks[a.param("task")]
    if not t.vmm:
        return None
    return (t.pc.eq("RUN_NEON_TOP") | t.pc.eq("RUN_NEON_EXIT")) & t.loaded_vcpu.ne("none")


# ------------------------------------------------------------ optional events' guards
def needs_event(name: str, also: Callable[[Config], str | None] | None = None
                ) -> Callable[[Config], str | None]:
    def scope(cfg: Config) -> str | None:
        if name not in cfg.events:
            return f"event {name} is not on (--event {name})"
        return also(cfg) if also else None

    return scope


def _two_cpus(cfg: Config) -> str | None:
    return None if cfg.cpus > 1 else "one CPU: it cannot go offline"


def _current_live(S: Layout, a: Action) -> Expr | None:
    """The step's current task is a user task whose own latest value is live in the
    registers with TIF_FOREIGN_FPSTATE clear."""
    c, t = a.param("cpu"), a.param("task")
    task = S.tasks[t]
    if not task.mm:
        return None
    return task.tif_foreign.eq(0) & S.cpu[c].regs.v.eq(S.latest(t))


def _some_task_bound(S: Layout, c: int) -> Expr:
    return any_of(S.cpu[c].last_st.eq(S.task_fpstate(t.index)) & t.fpsimd_cpu.eq(c)
                  for t in S.tasks if t.mm)


def _suspend_with_live_task(S: Layout, a: Action) -> Expr | None:
    return _current_live(S, a) if a.name == "suspend_enter" else None


def _idle_pm_with_task_bound(S: Layout, a: Action) -> Expr | None:
    if a.name != "cpu_idle_pm" or not S.config.user_tasks:
        return None
    return _some_task_bound(S, a.param("cpu"))


def _cpu_down_with_task_bound(S: Layout, a: Action) -> Expr | None:
    if a.name != "cpu_down" or not S.config.user_tasks:
        return None
    return _some_task_bound(S, a.param("cpu"))


def _efi_neon_with_live_task(S: Layout, a: Action) -> Expr | None:
    return _current_live(S, a) if a.name == "efi_call" else None


def _efi_buffer_with_live_state(S: Layout, a: Action) -> Expr | None:
    if a.name != "efi_oops":
        return None
    c = a.param("cpu")
    return any_of(S.cpu[c].regs.v.eq(S.latest(o)) for o in range(len(S.owner_names)))


def _efi_with_vcpu_bound(S: Layout, a: Action) -> Expr | None:
    if a.name not in ("efi_call", "efi_oops"):
        return None
    c = a.param("cpu")
    return any_of(S.cpu[c].last_st.eq(S.vcpu_fpstate(v.index)) for v in S.vcpus)


def _live_elsewhere(S: Layout, t: int, c: int) -> Expr | None:
    """Task t's state is bound and live on a CPU other than c."""
    return _live_on(S, t, [o for o in range(S.config.cpus) if o != c])


def _live_on(S: Layout, t: int, cpus: list[int]) -> Expr | None:
    """Task t's state is bound and live on one of ``cpus`` (None if there are none)."""
    terms = [S.tasks[t].fpsimd_cpu.eq(o) & S.cpu[o].last_st.eq(S.task_fpstate(t))
             for o in cpus]
    return any_of(terms) if terms else None


def _signal_live_elsewhere(S: Layout, a: Action) -> Expr | None:
    if a.name != "signal":
        return None
    return _live_elsewhere(S, a.param("task"), a.param("cpu"))


def _fpr_set_live(S: Layout, a: Action) -> Expr | None:
    if a.name != "ptrace_fpr_set":
        return None
    return _live_on(S, a.param("target"), list(range(S.config.cpus)))


def _fpmr_set_live(S: Layout, a: Action) -> Expr | None:
    if a.name != "ptrace_fpmr_set":
        return None
    return _live_on(S, a.param("target"), list(range(S.config.cpus)))


def _signal_fpmr_foreign(S: Layout, a: Action) -> Expr | None:
    """A signal is delivered while the task's state is not live on its CPU and the CPU's
    FPMR holds another task's latest FPMR."""
    if a.name != "signal" or not isinstance(S.cpu[a.param("cpu")].regs.fpmr, Var):
        return None  # (without --fpmr there is no FPMR register to check)
    t, c = a.param("task"), a.param("cpu")
    return S.tasks[t].tif_foreign.eq(1) & any_of(
        S.cpu[c].regs.fpmr.eq(S.latest(o.index)) for o in S.tasks if o.mm and o.index != t)


def _streaming(S: Layout, t: int, c: int) -> Expr:
    """(SME) Task t, current on CPU c, is in streaming mode: live (its state bound here with
    PSTATE.SM set) or saved (thread.svcr.SM)."""
    task = S.tasks[t]
    live = task.tif_foreign.eq(0) & S.cpu[c].sm.eq(1)
    return live | (task.tif_foreign.eq(1) & task.svcr_sm.eq(1))


def _signal_streaming(S: Layout, a: Action) -> Expr | None:
    if a.name != "signal":
        return None
    return _streaming(S, a.param("task"), a.param("cpu"))


def _signal_with_za(S: Layout, a: Action) -> Expr | None:
    if a.name != "signal":
        return None
    return _za_enabled(S, a.param("task"), a.param("cpu"))


def _sigreturn_streaming(S: Layout, a: Action) -> Expr | None:
    return S.tasks[a.param("task")].sigframe_sm.eq(1) if a.name == "sigreturn" else None


def _sigreturn_za(S: Layout, a: Action) -> Expr | None:
    return S.tasks[a.param("task")].sigframe_za.eq(1) if a.name == "sigreturn" else None


def _efi_buffer_streaming(S: Layout, a: Action) -> Expr | None:
    return S.cpu[a.param("cpu")].sm.eq(1) if a.name == "efi_oops" else None


def _za_enabled(S: Layout, t: int, c: int) -> Expr:
    """(SME) Task t, current on CPU c, has ZA enabled: live (its state bound here with
    PSTATE.ZA set) or saved (thread.svcr.ZA)."""
    task = S.tasks[t]
    live = task.tif_foreign.eq(0) & S.cpu[c].za_on.eq(1)
    return live | (task.tif_foreign.eq(1) & task.svcr_za.eq(1))


def _exec_with_za(S: Layout, a: Action) -> Expr | None:
    if a.name != "exec" or not S.config.sme:
        return None
    return _za_enabled(S, a.param("task"), a.param("cpu"))


def _fork_with_za(S: Layout, a: Action) -> Expr | None:
    if a.name != "fork" or not S.config.sme:
        return None
    return _za_enabled(S, a.param("task"), a.param("cpu"))


def _needs_sme_event(name: str) -> Callable[[Config], str | None]:
    def scope(cfg: Config) -> str | None:
        if not cfg.sme:
            return "no SME in this configuration (--sme not given)"
        return _needs_event(name)(cfg)
    return scope


def _needs_sme_sve_event(name: str) -> Callable[[Config], str | None]:
    """SME, SVE and event ``name`` (without SVE, __efi_fpsimd_begin()'s buffer path has no
    streaming-mode statement: in streaming mode the firmware call is a BUG there)."""
    def scope(cfg: Config) -> str | None:
        if not cfg.sve:
            return "no SVE in this configuration (--sve not given)"
        return _needs_sme_event(name)(cfg)
    return scope


def _needs_fpmr_event(name: str, tasks: int = 1) -> Callable[[Config], str | None]:
    def scope(cfg: Config) -> str | None:
        if not cfg.fpmr:
            return "no FPMR in this configuration (--fpmr not given)"
        if cfg.user_tasks < tasks:
            return f"fewer than {tasks} user tasks"
        return _needs_event(name)(cfg)
    return scope


def _exec_live(S: Layout, a: Action) -> Expr | None:
    if a.name != "exec":
        return None
    t, c = a.param("task"), a.param("cpu")
    return S.tasks[t].tif_foreign.eq(0) & S.cpu[c].last_st.eq(S.task_fpstate(t))


def needs_fork(cfg: Config) -> str | None:
    """(event fork) a child slot and a parent: model.state.Layout.fork_child."""
    if "fork" not in cfg.events:
        return "event fork not included (--event fork)"
    if cfg.tasks < 1 or cfg.user_tasks < 2:
        return "fork needs --tasks >= 1 (the child slot) and another user task (the parent)"
    return None


def _needs_fork_and_cpus(cfg: Config) -> str | None:
    if cfg.cpus < 2:
        return "one CPU: the parent's state cannot be live on another CPU"
    return needs_fork(cfg)


def _needs_fork_and_sve(cfg: Config) -> str | None:
    if not cfg.sve:
        return "no SVE in this configuration"
    return needs_fork(cfg)


def _fork_parent_live(S: Layout, a: Action) -> Expr | None:
    """fork while the parent's state is live in this CPU's registers and bound to it
    (TIF_FOREIGN_FPSTATE clear): only the preserve in arch_dup_task_struct() puts the
    registers into the thread struct the child copies."""
    if a.name != "fork":
        return None
    t, c = a.param("task"), a.param("cpu")
    return S.tasks[t].tif_foreign.eq(0) & S.cpu[c].last_st.eq(S.task_fpstate(t))


def _fork_parent_live_elsewhere(S: Layout, a: Action) -> Expr | None:
    if a.name != "fork":
        return None
    return _live_elsewhere(S, a.param("task"), a.param("cpu"))


def _fork_reuses_bound_slot(S: Layout, a: Action) -> Expr | None:
    """fork into the task_struct of a dead task whose state is still bound to a CPU
    (fpsimd_last_state.st points at the reused thread.uw.fpsimd_state): the case
    copy_thread()'s fpsimd_flush_task_state() is there for."""
    if a.name != "fork":
        return None
    child = a.param("child")
    return any_of(S.cpu[c].last_st.eq(S.task_fpstate(child)) for c in range(S.config.cpus))


def _fork_parent_sve(S: Layout, a: Action) -> Expr | None:
    """fork by a parent with TIF_SVE set in the syscall (a tracer's NT_ARM_SVE write at
    the syscall-entry stop): its latest V values are in sve_state, not uw.fpsimd_state."""
    if a.name != "fork":
        return None
    return S.tasks[a.param("task")].tif_sve.eq(1)


def needs_set_vl(cfg: Config) -> str | None:
    if "sve_set_vl" not in cfg.events:
        return "event sve_set_vl not included (--event sve_set_vl, with --sve --sve-vls A,B)"
    return None if cfg.user_tasks else "no user tasks in this configuration"


def _needs_signal_vl_change(kind: str) -> Callable[[Config], str | None]:
    """(event signal with the VL-change event of ``kind``, "sve" or "sme", and several
    lengths of it: model.state.Layout.frame_vl / frame_svl) a handler can change that VL."""
    def scope(cfg: Config) -> str | None:
        event, vls = (("sve_set_vl", cfg.sve_vls) if kind == "sve"
                      else ("sme_set_vl", cfg.sme_vls))
        for name in ("signal", event):
            if name not in cfg.events:
                return f"event {name} not included (--event {name})"
        if len(vls) < 2:
            return f"one {kind.upper()} vector length (--{kind}-vls A,B)"
        return None if cfg.user_tasks else "no user tasks in this configuration"
    return scope


def _sigreturn_other_vl(S: Layout, a: Action) -> Expr | None:
    """rt_sigreturn with a frame whose sve_context VL is not the task's SVE VL (the handler
    changed it): restore_sve_fpsimd_context() fails for a non-streaming record."""
    t = S.tasks[a.param("task")] if a.name == "sigreturn" else None
    if t is None or not isinstance(t.sigframe_vl, Var):
        return None
    return t.sigframe_vl.ne(t.sve_vl) & t.sigframe_sm.eq(0)


def _sigreturn_other_svl(S: Layout, a: Action) -> Expr | None:
    """rt_sigreturn with a frame whose za_context (and streaming sve_context) VL is not
    the task's SME VL: restore_za_context() (or, streaming, restore_sve_fpsimd_context())
    fails."""
    t = S.tasks[a.param("task")] if a.name == "sigreturn" else None
    if t is None or not isinstance(t.sigframe_svl, Var):
        return None
    return t.sigframe_svl.ne(t.sme_vl)


def _needs_set_vl_and_cpus(cfg: Config) -> str | None:
    if cfg.cpus < 2:
        return "one CPU: a task's state cannot be live on another CPU"
    return needs_set_vl(cfg)


def _needs_set_vl_and_tracer(cfg: Config) -> str | None:
    if cfg.user_tasks < 2:
        return ("one user task: TIF_SVE is set in a syscall only by a tracer's NT_ARM_SVE"
                " write (el0_svc discards it)")
    return needs_set_vl(cfg)


def _set_vl_changes(S: Layout, a: Action) -> Expr | None:
    """The step changes the VL (the requested one differs from the task's)."""
    if a.name != "sve_set_vl":
        return None
    return S.tasks[a.param("task")].sve_vl.ne(a.param("vl"))


def _set_vl_live(S: Layout, a: Action) -> Expr | None:
    """A task changes its VL while its state is live in this CPU's registers (the save
    under local_bh_disable() must put them back first)."""
    ch = _set_vl_changes(S, a)
    if ch is None:
        return None
    t, c = a.param("task"), a.param("cpu")
    return ch & S.tasks[t].tif_foreign.eq(0) & S.cpu[c].last_st.eq(S.task_fpstate(t))


def _set_vl_live_elsewhere(S: Layout, a: Action) -> Expr | None:
    """A task changes its VL while its state is still live on another CPU (the flush
    must stop that CPU's registers being reused at the old length)."""
    ch = _set_vl_changes(S, a)
    if ch is None:
        return None
    live = _live_elsewhere(S, a.param("task"), a.param("cpu"))
    return None if live is None else ch & live


def _set_vl_sve(S: Layout, a: Action) -> Expr | None:
    """A task changes its VL with TIF_SVE set (its state in sve_state: sve_to_fpsimd)."""
    ch = _set_vl_changes(S, a)
    return None if ch is None else ch & S.tasks[a.param("task")].tif_sve.eq(1)


def _sve_load_other_vl(S: Layout, a: Action) -> Expr | None:
    """An SVE task returns to user space (its state to be loaded: TIF_FOREIGN_FPSTATE,
    TIF_SVE) on a CPU whose ZCR_EL1 holds another vector length: sve_load_state() must
    write ZCR_EL1."""
    if a.name != "ret_to_user" or not S.multi_vl:
        return None
    t, c = S.tasks[a.param("task")], a.param("cpu")
    return t.tif_foreign.eq(1) & t.tif_sve.eq(1) & S.cpu[c].zcr.ne(t.sve_vl)


def _p_other_task_at_trap(S: Layout, a: Action) -> Expr | None:
    """do_sve_acc while the CPU's P/FFR hold another task's bits (stale P that the first
    SVE access must not reveal)."""
    if a.name != "user_sve_trap" or not S.config.sve:
        return None
    t, c = a.param("task"), a.param("cpu")
    return any_of(S.cpu[c].regs.p.eq(S.latest(u.index)) | S.cpu[c].regs.p.eq(S.stale(u.index))
                  for u in S.tasks if u.mm and u.index != t)


def _switched_out_in_kernel_neon(S: Layout, a: Action) -> Expr | None:
    """(v6.8+, preemptible task-context kernel NEON) a task is switched out inside its
    kernel-mode NEON section (TIF_KERNEL_FPSTATE set: fpsimd_thread_switch saves its
    kernel state)."""
    if a.name != "schedule" or "kernel_fpstate" not in S.features:
        return None
    t = S.tasks[a.param("task")]
    return t.pc.eq("KERNEL_NEON") if t.mm else None


def _kernel_state_load_elided(S: Layout, a: Action) -> Expr | None:
    """(v6.8+) a task in a kernel-mode NEON section is switched back in on a CPU that
    still holds its kernel state (fpsimd_load_kernel_state elides the load)."""
    if a.name != "schedule" or "kernel_fpstate" not in S.features:
        return None
    c, n = a.param("cpu"), S.tasks[a.param("next")]
    if not n.mm:
        return None
    return (n.tif_kernel_fpstate.eq(1) & S.cpu[c].last_st.eq(S.kernel_fpstate(n.index))
            & n.kernel_fpsimd_cpu.eq(c))


def needs_sme(cfg: Config) -> str | None:
    if not cfg.sme:
        return "no SME in this configuration (--sme not given)"
    return needs_tasks(cfg)


def needs_sme_and_cpus(cfg: Config) -> str | None:
    if cfg.cpus < 2:
        return "one CPU: a task's state cannot be bound to another CPU"
    return needs_sme(cfg)


def _streaming_switch_to_kernel_neon(S: Layout, a: Action) -> Expr | None:
    """(SME) a task inside a kernel-mode NEON section (TIF_KERNEL_FPSTATE) is switched in
    while the CPU is in streaming mode (the situation of #21)."""
    if a.name != "schedule" or not S.config.sme:
        return None
    c, n = a.param("cpu"), S.tasks[a.param("next")]
    if not n.mm:
        return None
    return n.tif_kernel_fpstate.eq(1) & S.cpu[c].sm.eq(1)


def _za_live_at_switch(S: Layout, a: Action) -> Expr | None:
    """(SME) a task is switched out at EL0 with ZA enabled and holding its latest ZA write
    (the save must store ZA)."""
    if a.name != "schedule" or not S.config.sme:
        return None
    c, t = a.param("cpu"), S.tasks[a.param("task")]
    if not t.mm:
        return None
    return (t.pc.eq("USER") & S.cpu[c].za_on.eq(1)
            & S.cpu[c].za.eq(S.latest(t.index)))


def _sme_trap_bound_elsewhere(S: Layout, a: Action) -> Expr | None:
    """(SME) do_sme_acc() takes the FPSIMD context on a CPU while the task's state is still
    bound to another CPU (preempted and migrated after sme_alloc(): the situation of
    #14)."""
    if a.name != "sme_acc":
        return None
    return _live_elsewhere(S, a.param("task"), a.param("cpu"))


def needs_sme_and_vcpus(cfg: Config) -> str | None:
    if not cfg.sme:
        return "no SME in this configuration (--sme not given)"
    return needs_vcpus(cfg)


def _another_streaming_state(cfg: Config) -> str | None:
    """A CPU can be left in streaming mode under a task that did not leave it so: another
    user task's, or (2 CPUs) the task's own older state on the CPU it left (a task's own
    syscall entry clears PSTATE.SM on the CPU it runs on)."""
    if cfg.user_tasks < 2 and cfg.cpus < 2:
        return "one user task on one CPU: only another task or CPU can be in streaming mode"
    return None


def needs_sme_vcpus_and_tasks(cfg: Config) -> str | None:
    return needs_sme_and_vcpus(cfg) or _another_streaming_state(cfg)


def _vcpu_load_with_za(S: Layout, a: Action) -> Expr | None:
    """(SME, vcpus) KVM_RUN's vcpu_load() runs on a CPU with PSTATE.ZA set by the VMM thread,
    its latest ZA write live (kvm_arch_vcpu_load_fp()'s SVCR test finds ZA; the syscall
    entry has already cleared SM)."""
    if a.name != "vcpu_load" or not S.config.sme:
        return None
    c, t = a.param("cpu"), a.param("task")
    return S.cpu[c].za_on.eq(1) & S.cpu[c].za.eq(S.latest(t))


def _vcpu_sched_in_streaming(S: Layout, a: Action) -> Expr | None:
    """(SME, vcpus) a VMM thread with its vcpu loaded is switched in on a CPU left in
    streaming mode by the task switched out (kvm_sched_in's kvm_arch_vcpu_load_fp() finds
    PSTATE.SM set)."""
    if a.name != "schedule" or not S.config.sme:
        return None
    c, n = a.param("cpu"), S.tasks[a.param("next")]
    if not n.vmm:
        return None
    return n.loaded_vcpu.ne("none") & S.cpu[c].sm.eq(1)


GUARDS: tuple[Guard, ...] = (
    Guard("guest_fp_live_at_irq",
          "the guest's FP state is live in a CPU's registers when an IRQ arrives",
          _irq_with_guest_live, needs_vcpus),
    Guard("softirq_neon_with_vcpu_bound",
          "a softirq uses kernel-mode NEON while a vcpu's state is bound to the CPU",
          _softirq_neon_vcpu_bound, needs_vcpus),
    Guard("softirq_neon_sve_vcpu_short_vl",
          "(SVE vcpus) a softirq uses kernel-mode NEON while an SVE vcpu is bound and its"
          " ZCR_EL1 selects a length below its max VL", _softirq_neon_sve_vcpu_short_vl,
          needs_sve_guest_vls),
    Guard("hyp_saves_host_state",
          "hyp saves a host task's live state on the guest's first FP access",
          _hyp_saves_host, needs_vcpus),
    Guard("vcpu_thread_preempted_loaded",
          "the vcpu thread is preempted while its vcpu is loaded",
          _vcpu_thread_preempted_loaded, needs_vcpus),
    Guard("migrate_with_live_state",
          "a task migrates while its state is live on its old CPU",
          _migrate_live, needs_tasks_and_cpus),
    Guard("switched_out_in_kernel_neon",
          "(v6.8+) a task is switched out inside a preemptible kernel-mode NEON section",
          _switched_out_in_kernel_neon, needs_tasks),
    Guard("kernel_state_load_elided",
          "(v6.8+) a task in a kernel-mode NEON section is switched back in where its kernel"
          " state is still held (the lazy restore elides the load)",
          _kernel_state_load_elided, needs_tasks),
    Guard("aarch32_reenter_fp_live",
          "a 32-bit guest re-enters with its FP state live (--aarch32-guest)",
          _aarch32_reenter_fp_live, needs_aarch32_vcpus),
    Guard("vcpu_reset_fp_live",
          "a vcpu is reset (PSCI CPU_ON) while its FP state is live and bound on a CPU"
          " (--event vcpu_reset)",
          _vcpu_reset_fp_live, needs_vcpu_reset_setting),
    Guard("set_one_reg_after_run",
          "the VMM sets the FP registers of a vcpu that has run (--event set_one_reg)",
          _set_one_reg_after_run, needs_event_and_vcpus("set_one_reg")),
    Guard("kvm_run_neon_vcpu_bound",
          "kernel-mode NEON inside KVM_RUN while the vcpu's state is bound to the CPU"
          " (--event kvm_run_kernel_neon)",
          _kvm_run_neon_vcpu_bound, needs_event_and_vcpus("kvm_run_kernel_neon")),
    Guard("kvm_run_neon_preempted",
          "(v6.8+) the VMM thread is preempted inside a kernel-mode NEON section in KVM_RUN,"
          " its vcpu loaded (--event kvm_run_kernel_neon)",
          _kvm_run_neon_preempted, needs_event_and_vcpus("kvm_run_kernel_neon")),
    Guard("signal_with_state_live_elsewhere",
          "(event signal) a signal is delivered while the task's state is live on another"
          " CPU", _signal_live_elsewhere, _needs_event_and_cpus("signal")),
    Guard("tracee_state_live_at_fpr_set",
          "(event ptrace_fpr_set) a tracer writes a tracee whose state is still live in a"
          " CPU's registers", _fpr_set_live, _needs_event("ptrace_fpr_set")),
    Guard("fpmr_set_with_tracee_state_live",
          "(event ptrace_fpr_set, FPMR) a tracer writes a tracee's NT_ARM_FPMR while its state"
          " is still live in a CPU's registers", _fpmr_set_live,
          _needs_fpmr_event("ptrace_fpr_set", 2)),
    Guard("signal_with_another_tasks_fpmr_live",
          "(event signal, FPMR) a signal is delivered to a task whose state is not live while"
          " its CPU's FPMR holds another task's latest FPMR", _signal_fpmr_foreign,
          _needs_fpmr_event("signal", 2)),
    Guard("signal_delivered_streaming",
          "(event signal, SME) a signal is delivered to a task in streaming mode (live or"
          " saved): its frame gets the streaming SVE record, the handler runs with SM clear",
          _signal_streaming, _needs_sme_event("signal")),
    Guard("signal_delivered_with_za",
          "(event signal, SME) a signal is delivered to a task with ZA enabled (live or"
          " saved): its frame gets za_context's ZA data, the handler runs with ZA off",
          _signal_with_za, _needs_sme_event("signal")),
    Guard("sigreturn_restores_streaming",
          "(event signal, SME) rt_sigreturn restores a frame whose SVE record has"
          " SVE_SIG_FLAG_SM", _sigreturn_streaming, _needs_sme_event("signal")),
    Guard("sigreturn_restores_za",
          "(event signal, SME) rt_sigreturn restores a frame whose za_context carries ZA",
          _sigreturn_za, _needs_sme_event("signal")),
    Guard("efi_buffer_in_streaming_mode",
          "(event efi, SME) __efi_fpsimd_begin()'s buffer path runs with PSTATE.SM set",
          _efi_buffer_streaming, _needs_sme_sve_event("efi")),
    Guard("exec_with_za_enabled",
          "(event exec, SME) a task execs with ZA enabled (live or saved)", _exec_with_za,
          _needs_sme_event("exec")),
    Guard("fork_with_za_enabled",
          "(event fork, SME) a task forks with ZA enabled (live or saved): the child inherits"
          " ZA", _fork_with_za, _needs_sme_event("fork")),
    Guard("exec_with_state_live",
          "(event exec) a task execs while its old program's state is live on its CPU",
          _exec_live, _needs_event("exec")),
    Guard("fork_with_parent_state_live",
          "(event fork) a task forks while its state is live in its CPU's registers",
          _fork_parent_live, needs_fork),
    Guard("fork_with_parent_live_elsewhere",
          "(event fork) a task forks while its state is live on another CPU",
          _fork_parent_live_elsewhere, _needs_fork_and_cpus),
    Guard("fork_reuses_bound_task_struct",
          "(event fork) a fork reuses the task_struct of a dead task whose state is still"
          " bound to a CPU", _fork_reuses_bound_slot, needs_fork),
    Guard("fork_with_parent_sve",
          "(event fork, SVE) a task forks with TIF_SVE set (its V values in sve_state)",
          _fork_parent_sve, _needs_fork_and_sve),
    Guard("sve_set_vl_with_state_live",
          "(event sve_set_vl) a task changes its vector length while its state is live in"
          " its CPU's registers", _set_vl_live, needs_set_vl),
    Guard("sve_set_vl_with_state_live_elsewhere",
          "(event sve_set_vl) a task changes its vector length while its state is live on"
          " another CPU", _set_vl_live_elsewhere, _needs_set_vl_and_cpus),
    Guard("sve_set_vl_with_tif_sve",
          "(event sve_set_vl) a task changes its vector length with TIF_SVE set",
          _set_vl_sve, _needs_set_vl_and_tracer),
    Guard("sigreturn_at_other_vl",
          "(events signal, sve_set_vl) rt_sigreturn after the handler changed the SVE VL"
          " (a non-streaming frame: -EINVAL, SIGSEGV)", _sigreturn_other_vl,
          _needs_signal_vl_change("sve")),
    Guard("sigreturn_at_other_svl",
          "(events signal, sme_set_vl) rt_sigreturn after the handler changed the SME VL"
          " (-EINVAL, SIGSEGV)", _sigreturn_other_svl, _needs_signal_vl_change("sme")),
    Guard("sve_load_at_other_vl",
          "(event sve_set_vl) an SVE task is reloaded on a CPU whose ZCR_EL1 holds another"
          " vector length", _sve_load_other_vl, needs_set_vl),
    Guard("sve_trap_with_foreign_p",
          "(SVE) a task's first SVE access traps while the CPU's P/FFR hold another task's"
          " bits", _p_other_task_at_trap, _needs_sve_and_two_tasks),
    Guard("streaming_switch_to_kernel_neon",
          "(SME) a task in a kernel-mode NEON section is switched in while the CPU is in"
          " streaming mode", _streaming_switch_to_kernel_neon,
          lambda cfg: needs_sme(cfg) or _another_streaming_state(cfg)),
    Guard("za_live_at_switch",
          "(SME) a task is switched out at EL0 with its latest ZA write live in ZA",
          _za_live_at_switch, needs_sme),
    Guard("sme_trap_with_state_bound_elsewhere",
          "(SME) do_sme_acc() takes the FPSIMD context while the task's state is still bound"
          " to another CPU", _sme_trap_bound_elsewhere, needs_sme_and_cpus),
    Guard("vcpu_load_with_za_on",
          "(SME, vcpus) KVM_RUN loads a vcpu while the VMM thread's ZA is live (PSTATE.ZA set)",
          _vcpu_load_with_za, needs_sme_and_vcpus),
    Guard("vcpu_sched_in_streaming",
          "(SME, vcpus) a VMM thread with its vcpu loaded is switched in on a CPU in streaming"
          " mode", _vcpu_sched_in_streaming, needs_sme_vcpus_and_tasks),
    Guard("suspend_with_live_task",
          "system suspend (CPU PM) runs from a task whose own state is live in the registers",
          _suspend_with_live_task, needs_event("cpu_pm")),
    Guard("idle_pm_with_task_bound",
          "cpuidle powers the CPU down while a task's state is bound to it",
          _idle_pm_with_task_bound, needs_event("cpu_pm")),
    Guard("cpu_down_with_task_bound",
          "a CPU goes offline while a task's state is bound to it",
          _cpu_down_with_task_bound, needs_event("cpu_hotplug", _two_cpus)),
    Guard("efi_neon_with_live_task",
          "an EFI call (kernel-NEON path) runs while current's own state is live",
          _efi_neon_with_live_task, needs_event("efi")),
    Guard("efi_buffer_with_live_state",
          "an EFI call with IRQs off (buffer path) runs while a context's latest value is live",
          _efi_buffer_with_live_state, needs_event("efi")),
    Guard("efi_with_vcpu_bound",
          "an EFI call runs while a vcpu's state is bound to the CPU",
          _efi_with_vcpu_bound, needs_event("efi", needs_vcpus)),
)
