"""Who may run when: the steps of the model and the rules that enable them.

Every step is one transition: a kernel entry point run on one CPU by (or on behalf of)
the task current there.  The enabling rules read only the real execution state (the
current task and its program point, IRQ mask, preemption and softirq counts), in one
place, here:

* an IRQ (with a softirq using kernel-mode NEON) can be taken wherever IRQs are unmasked
  and no hardirq/softirq is in progress (`softirq_can_run`): between steps (the `irq`
  step) and *inside* a step, where the builder inlines it before every statement that
  conflicts with it (model/interleave.py), so code with IRQs masked or bottom halves
  disabled is atomic because its own statements say so;
* preemption (schedule) follows the kernel's preemption model (`preemptible`): with
  CONFIG_PREEMPT wherever IRQs are unmasked and the preempt, softirq and hardirq counts
  are zero, which includes user mode and every point of the KVM_RUN path outside the run
  loop's preempt_disable()/preempt_enable() pairs; with PREEMPT_VOLUNTARY/PREEMPT_NONE
  only at the program points that have an explicit scheduling point
  (`VOLUNTARY_SCHED_POINTS`);
* steps on different CPUs interleave freely.

IRQs inside steps are derived (model/interleave.py).  Preemption inside a step is not yet:
the arguments for it are in the docstrings of the kernel functions the steps call (e.g.
`__schedule`, `syscall_kernel_neon`, `kvm_arch_vcpu_ioctl_run_enter_guest`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace

from model.config import Config
from model.ctx import Ctx, MissingFunction
from model.dsl import (
    BOOL,
    TRUE,
    Action,
    Const,
    Domain,
    Expr,
    ModelError,
    Var,
    all_of,
    any_of,
    check_data_independence,
    strip_marks,
)
from model.state import Layout, WindowFacts
from model.variant import Variant

Params = dict[str, int]


def running(S: Layout, c: int, t: int) -> Expr:
    return S.cpu[c].current.eq(t)


def at(S: Layout, t: int, pc: str) -> Expr:
    return S.tasks[t].pc.eq(pc)


def softirq_can_run(S: Layout, c: int) -> Expr:
    cpu = S.cpu[c]
    return cpu.irqs_disabled.eq(0) & cpu.softirq_count.eq(0) & cpu.hardirq.eq(0)


# Program points (model.state.PCS) where a task can schedule without CONFIG_PREEMPT, and
# why.  A point not listed is reached only through code with no scheduling point.
VOLUNTARY_SCHED_POINTS: dict[str, str] = {
    "USER": "an IRQ at EL0 returns through ret_to_user, which calls schedule() when "
            "TIF_NEED_RESCHED is set (arch/arm64/kernel/entry.S, signal.c do_notify_resume)",
    "KERNEL": "a syscall may block (sleeping calls), and ret_to_user's work loop calls "
              "schedule() on TIF_NEED_RESCHED",
    "VCPU_LOAD": "kvm_vcpu_ioctl() may block between taking vcpu->mutex and vcpu_load(): "
                 "synchronize_rcu() after a pid change, mutexes in kvm_vcpu_first_run_init() "
                 "(over-approximated: allowed on every KVM_RUN)",
    "LOOP_TOP": "the run loop's cond_resched() (virt/kvm/arm/arm.c), and handle_exit() "
                "blocking in kvm_vcpu_block() on WFI before the loop goes round again",
    "SVE_ACC": "(v6.x with SVE) do_sve_acc(): sve_alloc() -> kzalloc(GFP_KERNEL) may sleep",
    "SME_ACC": "(v6.x with SME) do_sme_acc(): sve_alloc()/sme_alloc() -> kzalloc(GFP_KERNEL)"
               " may sleep",
}


def may_sleep(S: Layout, c: int) -> Expr:
    """The code running on CPU ``c`` is not atomic: it may block (a sleeping call, a
    ptrace stop, a PM or hotplug transition), whatever the preemption model: IRQs
    unmasked, bottom halves enabled and the preempt count zero (___might_sleep())."""
    return softirq_can_run(S, c) & S.cpu[c].preempt_count.eq(0)


def preemptible(S: Layout, c: int, t: int) -> Expr:
    """Task ``t``, current on CPU ``c``, can be switched out now.

    CONFIG_PREEMPT: wherever IRQs are unmasked and the preempt, softirq and hardirq counts
    are zero (preempt_schedule() at preempt_enable()/local_bh_enable(), el1_irq's
    preempt_schedule_irq() on IRQ return to kernel code, and the voluntary points below).
    CONFIG_PREEMPT_VOLUNTARY and PREEMPT_NONE: the same state, and only at a program point
    with an explicit scheduling point (`VOLUNTARY_SCHED_POINTS`): no preemption on IRQ
    return to kernel code or at preempt_enable().  In this model both non-preemptible
    models have the same points: VOLUNTARY's extra might_resched() calls (in might_sleep())
    are all on paths whose program point NONE can already block at.  Kernel threads (the
    idle tasks) always schedule when they have nothing to do.
    """
    base = may_sleep(S, c)
    task = S.tasks[t]
    if S.config.preempt == "PREEMPT" or not isinstance(task.pc, Var):
        return base  # (the idle threads: always at KERNEL, their scheduling point)
    return base & any_of(at(S, t, pc) for pc in VOLUNTARY_SCHED_POINTS
                         if pc in S.PC.labels)


def not_running(S: Layout, t: int) -> Expr:
    return all_of(S.cpu[c].current.ne(t) for c in range(S.config.cpus))


def runnable(S: Layout, t: int) -> Expr:
    """The scheduler may pick t: it exists (event fork: the child slot exists once
    forked), it is not in a ptrace stop (TASK_TRACED) and it has not died (program point
    DEAD, `Layout.sigreturn_can_fail`)."""
    task = S.tasks[t]
    g = task.stopped.eq(0)
    if "DEAD" in S.PC.labels and task.mm:
        g = g & task.pc.ne("DEAD")  # (a failed rt_sigreturn's SIGSEGV killed it)
    return g & task.created.eq(1) if isinstance(task.created, Var) else g


def holds_vcpu(S: Layout, t: int, v: int) -> Expr:
    return S.vcpus[v].mutex.eq(S.tasks[t].name)


@dataclass(frozen=True)
class Step:
    """A step template: instantiated for every cpu/task/vcpu combination it names."""

    name: str
    doc: str
    params: Callable[[Layout], Iterable[Params]]
    guard: Callable[[Layout, Params], Expr]
    run: Callable[[Ctx, Params], None]


def _user(S: Layout) -> Iterable[Params]:
    for c in range(S.config.cpus):
        for t in S.tasks:
            if t.mm:
                yield {"cpu": c, "task": t.index}


def _kernel_neon_sections(S: Layout) -> Iterable[Params]:
    """User tasks inside a preemptible kernel-mode NEON section (state feature
    kernel_fpstate, v6.8+; no instances for the 2018 variants)."""
    return _user(S) if "kernel_fpstate" in S.features else ()


def _kworker(S: Layout) -> Iterable[Params]:
    """(event kthread_kernel_neon, v6.8+) The kworker on each CPU."""
    if S.kworker is not None:
        for c in range(S.config.cpus):
            yield {"cpu": c, "task": S.kworker}


def _sve_acc(S: Layout) -> Iterable[Params]:
    """User tasks in do_sve_acc() between sve_alloc() and get_cpu_fpsimd_context()
    (state feature fp_type or sve_acc with SVE, v6.x; no instances for the 2018
    variants)."""
    return _user(S) if S.sve_acc_split else ()


def _user_sve(S: Layout) -> Iterable[Params]:
    return _user(S) if S.config.sve else ()


def _user_sme(S: Layout) -> Iterable[Params]:
    """User tasks on a system with SME (Config.sme)."""
    return _user(S) if S.config.sme else ()


def _user_svcr(S: Layout) -> Iterable[Params]:
    """(Config.sme) A user task and each PSTATE.SM/PSTATE.ZA it may set with
    SMSTART/SMSTOP (every target pair is one instruction or two)."""
    for p in _user_sme(S):
        for sm in (0, 1):
            for za in (0, 1):
                yield {**p, "sm": sm, "za": za}


def _sve_trap_guard(S: Layout, p: Params) -> Expr:
    """An SVE instruction at EL0 traps to do_sve_acc() when EL0 SVE is trapped
    (CPACR_EL1.ZEN_EL0EN) and, with SME, the task is not in streaming mode (streaming SVE
    instructions are governed by SMEN, not ZEN)."""
    c = S.cpu[p["cpu"]]
    g = running(S, p["cpu"], p["task"]) & at(S, p["task"], "USER") & c.zen_el0en.eq(0)
    return g & c.sm.eq(0) if S.config.sme else g


def _at_el0_sme(S: Layout, p: Params) -> Expr:
    """(Config.sme) The task runs at EL0 with SME untrapped (CPACR_EL1.SMEN_EL0EN)."""
    return (running(S, p["cpu"], p["task"]) & at(S, p["task"], "USER")
            & S.cpu[p["cpu"]].smen_el0en.eq(1))


def _pairs(S: Layout) -> Iterable[Params]:
    for p in _user(S):
        for u in S.tasks:
            if u.mm and u.index != p["task"]:
                yield {**p, "target": u.index}


def _tracer_tracee(S: Layout) -> Iterable[Params]:
    """A user task (the tracer, in its ptrace() syscall) and another stopped user task:
    only with SVE (the NT_ARM_SVE regset)."""
    return _pairs(S) if S.config.sve else ()


def _ptrace(S: Layout) -> Iterable[Params]:
    """Tracer and tracee for the ptrace stop/resume steps (event ptrace_stop)."""
    return _pairs(S) if S.ptrace else ()


def _fpr_set(S: Layout) -> Iterable[Params]:
    return _pairs(S) if "ptrace_fpr_set" in S.config.events else ()


def _fpmr_set(S: Layout) -> Iterable[Params]:
    """(event ptrace_fpr_set with FEAT_FPMR, Config.fpmr) the tracer's NT_ARM_FPMR write."""
    return _pairs(S) if "ptrace_fpr_set" in S.config.events and S.config.fpmr else ()


def _sme_regset(S: Layout) -> Iterable[Params]:
    """(event ptrace_fpr_set with SME, Config.sme) the tracer's NT_ARM_SSVE and NT_ARM_ZA
    writes (the SME regsets: like NT_ARM_FPMR, with the event that has the tracer write
    a tracee's registers; NT_ARM_SVE stays a step of every SVE configuration)."""
    return _pairs(S) if "ptrace_fpr_set" in S.config.events and S.config.sme else ()


def _sve_regset_steps() -> list:
    """The tracer's NT_ARM_SVE / NT_ARM_SSVE writes beyond a full SVE payload at the
    tracee's VL (model/variants/v6_ptrace.py): one step per regset, payload kind
    (model.variants.v6_ptrace.PAYLOADS: ``_fpsimd`` with event ptrace_sve_fpsimd,
    ``_nodata`` with event ptrace_sve_nodata) and header VL (``_vl``: each supported
    length, param vl / svl, with event ptrace_sve_vl and the regset's VL-change event).
    The payload kind is part of the step's name, not a parameter: the trace format's step
    parameters (checker/trace_schema.json) have no field for it."""
    rows = []
    for sme in (False, True):
        regset = "ssve" if sme else "sve"
        for payload in ("sve", "fpsimd", "nodata"):
            for with_vl in (False, True):
                if payload == "sve" and not with_vl:
                    continue  # ptrace_sve_set / ptrace_ssve_set
                name = (f"ptrace_{regset}_set{'_vl' if with_vl else ''}"
                        f"{'' if payload == 'sve' else '_' + payload}")
                what = {"sve": "SVE data", "fpsimd": "an FPSIMD-format payload",
                        "nodata": "no register data"}[payload]
                vl_doc = " and a header VL (vec_set_vector_length() first)" if with_vl else ""
                doc = (f"{'(SME) ' if sme else ''}a tracer writes NT_ARM_{regset.upper()} with"
                       f" {what}{vl_doc} in a ptrace stop")
                rows.append(Step(name, doc, _sve_regset_params(sme, payload, with_vl),
                                 _stopped_target, _sve_set_common_run(sme, payload)))
    return rows


def _sve_regset_params(sme: bool, payload: str, with_vl: bool
                       ) -> Callable[[Layout], Iterable[Params]]:
    def params(S: Layout) -> Iterable[Params]:
        events = S.config.events
        if payload != "sve" and f"ptrace_sve_{payload}" not in events:
            return
        if with_vl and not ("ptrace_sve_vl" in events
                            and (S.multi_svl and "sme_set_vl" in events if sme
                                 else S.multi_vl and "sve_set_vl" in events)):
            return
        # NT_ARM_SSVE needs SME, NT_ARM_SVE SVE; not event ptrace_fpr_set (which adds the
        # full-data NT_ARM_SSVE and NT_ARM_ZA writes): these events are enough on their own
        for p in (_pairs(S) if (S.config.sme if sme else S.config.sve) else ()):
            if not with_vl:
                yield p
                continue
            key = "svl" if sme else "vl"
            for vl in range(len(S.config.sme_vls if sme else S.config.sve_vls)):
                yield {**p, key: vl}
    return params


def _sve_set_common_run(sme: bool, payload: str) -> Callable[[Ctx, Params], None]:
    """The version's sve_set_common() for a step's regset, payload kind and header VL."""
    def run(k: Ctx, p: Params) -> None:
        k.sve_set_common(p["target"], sme, payload, p.get("svl" if sme else "vl"))
    return run


def _za_set_vl(S: Layout) -> Iterable[Params]:
    """(events ptrace_fpr_set and sme_set_vl, Config.sme_vls) the tracer's NT_ARM_ZA write
    with a header VL of each supported streaming length."""
    if not (S.multi_svl and "sme_set_vl" in S.config.events):
        return
    for p in _sme_regset(S):
        for vl in range(len(S.config.sme_vls)):
            yield {**p, "svl": vl}


def _user_switch(S: Layout) -> Iterable[Params]:
    """A user task (one with an mm) switching out and the task it switches to."""
    return (p for p in _switch(S) if S.tasks[p["task"]].mm)


def _stop_switch(S: Layout) -> Iterable[Params]:
    """A user task entering a ptrace stop and the task it switches to."""
    return _user_switch(S) if S.ptrace else ()


def _fork(S: Layout) -> Iterable[Params]:
    """(event fork) A user task (the parent, in its clone()/fork() syscall) and the child
    slot it creates (`Layout.fork_child`)."""
    if "fork" not in S.config.events or S.fork_child is None:
        return
    for p in _user(S):
        if p["task"] != S.fork_child:
            yield {**p, "child": S.fork_child}


def _set_vl(S: Layout) -> Iterable[Params]:
    """(event sve_set_vl) A user task and each vector length the system supports."""
    if "sve_set_vl" not in S.config.events or not S.multi_vl:
        return
    for p in _user(S):
        for vl in range(len(S.config.sve_vls)):
            yield {**p, "vl": vl}


def _set_svl(S: Layout) -> Iterable[Params]:
    """(event sme_set_vl) A user task and each streaming vector length the system
    supports."""
    if "sme_set_vl" not in S.config.events or not S.multi_svl:
        return
    for p in _user(S):
        for vl in range(len(S.config.sme_vls)):
            yield {**p, "svl": vl}


def _sigsegv_exit(S: Layout) -> Iterable[Params]:
    """(event signal, `Layout.sigreturn_can_fail`) A user task killed by the SIGSEGV of a
    failed rt_sigreturn and the task it switches to for the last time."""
    return _user_switch(S) if S.sigreturn_can_fail else ()


def _exit(S: Layout) -> Iterable[Params]:
    """(event fork) The forked child exits on a CPU and switches to `next` for the last
    time."""
    if "fork" not in S.config.events or S.fork_child is None:
        return
    for p in _switch(S):
        if p["task"] == S.fork_child:
            yield p


def _stopped_target(S: Layout, p: Params) -> Expr:
    """The tracer runs in its ptrace() syscall; the tracee is in a ptrace stop and
    switched out (ptrace_check_attach(): wait_task_inactive()).

    A stop point is a point where the tracee is at pc KERNEL (syscall entry/exit stop,
    signal-delivery stop) or VCPU_LOAD (the KVM_RUN ioctl's syscall-entry stop, see
    model/kernel/ptrace.py).  With event ptrace_stop the tracee must have entered the
    stop (TASK_TRACED, not runnable until resumed).  Without it, any tracee switched out
    at a stop point qualifies: it has the same FP state as one that stopped there
    (ptrace_stop() switches out through the same __schedule()), and not forbidding
    its rescheduling only adds schedules the real scheduler can also make for a
    preempted task; tests/model/test_ptrace.py checks that both reach the same states."""
    g = (running(S, p["cpu"], p["task"]) & at(S, p["task"], "KERNEL")
         & not_running(S, p["target"])
         & (at(S, p["target"], "KERNEL") | at(S, p["target"], "VCPU_LOAD")))
    created = S.tasks[p["target"]].created
    if isinstance(created, Var):  # (event fork) a child not yet forked cannot be traced
        g = g & created.eq(1)
    return g & S.tasks[p["target"]].stopped.eq(1) if S.ptrace else g


def _any_task(S: Layout) -> Iterable[Params]:
    for c in range(S.config.cpus):
        for t in S.tasks:
            if t.mm or t.index in (S.config.user_tasks + c, S.kworker):
                yield {"cpu": c, "task": t.index}


def _vmm(S: Layout) -> Iterable[Params]:
    for c in range(S.config.cpus):
        for t in S.tasks:
            if t.vmm:
                for v in range(S.config.vcpus):
                    yield {"cpu": c, "task": t.index, "vcpu": v}


def _vmm_vl(S: Layout) -> Iterable[Params]:
    """(Config.sve_guest, several VLs) a guest's ZCR_EL1 write: every supported length up
    to its max VL."""
    if not (S.config.sve_guest and S.multi_vl):
        return
    for p in _vmm(S):
        for vl in range(S.config.vcpu_max_vl_index + 1):
            yield {**p, "vl": vl}


def _event(name: str, params: Callable[[Layout], Iterable[Params]]
           ) -> Callable[[Layout], Iterable[Params]]:
    """Instantiate a step only when the optional event ``name`` is in the configuration
    (model/events.py)."""
    def gen(S: Layout) -> Iterable[Params]:
        return params(S) if name in S.config.events else ()

    return gen


def _idle(S: Layout) -> Iterable[Params]:
    """Each CPU with its idle task."""
    for c in range(S.config.cpus):
        yield {"cpu": c, "task": S.config.user_tasks + c}


def _hotplug_cpu(S: Layout) -> Iterable[Params]:
    """Each CPU with its idle task, when there is another CPU to stay online."""
    return _idle(S) if S.config.cpus > 1 else ()


def in_kernel(S: Layout, t: int) -> Expr:
    """Task t runs kernel code (a syscall, the ret_to_user path, KVM_RUN outside the
    guest); a kernel thread always does."""
    task = S.tasks[t]
    if not task.mm:
        return Const(BOOL, 1)
    return task.pc.ne("USER") & task.pc.ne("IN_GUEST")


def in_syscall(S: Layout, t: int) -> Expr:
    """Task t is in an ordinary syscall (not in KVM_RUN); a kernel thread (the idle task
    stands for any kernel thread, e.g. a kworker) runs kernel code anyway."""
    task = S.tasks[t]
    return task.pc.eq("KERNEL") if task.mm else Const(BOOL, 1)


def others_online(S: Layout, c: int) -> Expr:
    return any_of(S.cpu[d].online.eq(1) for d in range(S.config.cpus) if d != c)


def _efi_call(k: Ctx) -> None:
    k.virt_efi_runtime_call()
    k.efi_buffers_dead()


def _efi_oops(k: Ctx) -> None:
    k.die()
    k.efi_buffers_dead()


def _switch(S: Layout) -> Iterable[Params]:
    for p in _any_task(S):
        c, prev = p["cpu"], p["task"]
        idle = S.config.user_tasks + c
        kworker = [] if S.kworker is None else [S.kworker]
        for nxt in [t.index for t in S.tasks if t.mm] + [idle] + kworker:
            if nxt != prev:
                yield {"cpu": c, "task": prev, "next": nxt}


def _vmm_event(event: str) -> Callable[[Layout], Iterable[Params]]:
    """The VMM-thread/vcpu instances of an optional event's step (none unless the
    configuration includes the event: model/events.py)."""
    def params(S: Layout) -> Iterable[Params]:
        return _vmm(S) if event in S.config.events else ()

    return params


def _run_neon_sections(S: Layout) -> Iterable[Params]:
    """VMM-thread/vcpu instances inside a preemptible kernel-mode NEON section in KVM_RUN
    (event kvm_run_kernel_neon with state feature kernel_fpstate, v6.8+; none for the
    2018 variants, whose section is one step)."""
    return _vmm_event("kvm_run_kernel_neon")(S) if "RUN_NEON_TOP" in S.PC.labels else ()


def _vmm_pair(S: Layout) -> Iterable[Params]:
    """A VMM thread in KVM_RUN on one vcpu and another vcpu it targets (PSCI CPU_ON)."""
    if "vcpu_reset" not in S.config.events:
        return
    for p in _vmm(S):
        for b in range(S.config.vcpus):
            if b != p["vcpu"]:
                yield {**p, "target_vcpu": b}


def _may_enter_guest(S: Layout, p: Params) -> Expr:
    """enter_guest: at the run loop's top; with the vcpu_reset event, not while powered
    off (check_vcpu_requests() -> vcpu_req_sleep() sleeps there until power_off clears)."""
    g = _vmm_at("LOOP_TOP")(S, p)
    power_off = S.vcpus[p["vcpu"]].power_off
    return g & power_off.eq(0) if isinstance(power_off, Var) else g


def _vmm_at(pc: str) -> Callable[[Layout, Params], Expr]:
    def guard(S: Layout, p: Params) -> Expr:
        return (
            running(S, p["cpu"], p["task"])
            & at(S, p["task"], pc)
            & holds_vcpu(S, p["task"], p["vcpu"])
        )

    return guard


def _vmm_tz_without_tfp(S: Layout) -> Iterable[Params]:
    """(SVE vcpus, nVHE: CPTR_EL2.TZ is a variable) the VMM-thread/vcpu instances of a
    guest SVE trap with TFP clear.  Only a vcpu->arch.cptr_el2 carrying TZ (state feature
    vcpu_cptr_el2 with event vcpu_init, `model.variants.v6.__activate_traps`) runs a guest
    that way; every other entry sets or clears TZ with TFP, and there the step is never
    enabled."""
    if S.config.sve_guest and not S.config.vhe:
        yield from _vmm(S)


def _sve_untrapped(S: Layout, p: Params) -> Expr:
    """An SVE vcpu's guest writes its registers with SVE instructions (and ZCR_EL1 with
    MSR), which CPTR_EL2.TZ traps on nVHE (step guest_sve_trap); TRUE where TZ is a
    constant (VHE, no SVE vcpus)."""
    tz = S.cpu[p["cpu"]].cptr_tz
    return tz.eq(0) if S.config.sve_guest and isinstance(tz, Var) else TRUE


def _in_guest(S: Layout, p: Params) -> Expr:
    """The guest runs (or hyp runs for it): the host masked IRQs before entering it
    (kvm_arch_vcpu_ioctl_run_enter_guest), so the CPU's IRQ mask is set.  Stating it in
    the guard changes no behaviour (IN_GUEST implies it) and tells the builder that no
    IRQ can interleave with hyp's code (model.interleave)."""
    return _vmm_at("IN_GUEST")(S, p) & S.cpu[p["cpu"]].irqs_disabled.eq(1)


# the NT_ARM_SVE / NT_ARM_SSVE payload and header-VL steps, built once for STEPS and
# TRACER_STEPS
SVE_REGSET_STEPS: tuple[Step, ...] = tuple(_sve_regset_steps())

STEPS: tuple[Step, ...] = (
    Step("user_fp_write", "user code writes its FP registers", _user,
         lambda S, p: running(S, p["cpu"], p["task"]) & at(S, p["task"], "USER"),
         lambda k, p: k.user_fp_write()),
    Step("user_sve_write", "user code writes its SVE Z registers (EL0 SVE enabled)", _user_sve,
         lambda S, p: running(S, p["cpu"], p["task"]) & at(S, p["task"], "USER")
         & S.cpu[p["cpu"]].zen_el0en.eq(1),
         lambda k, p: k.user_sve_write()),
    Step("user_sve_trap", "user code executes SVE while EL0 SVE is trapped: do_sve_acc",
         _user_sve, _sve_trap_guard,
         lambda k, p: k.do_sve_acc()),
    Step("sve_acc", "(v6.x) do_sve_acc() after sve_alloc(): the bh-disabled part",
         _sve_acc,
         lambda S, p: running(S, p["cpu"], p["task"]) & at(S, p["task"], "SVE_ACC"),
         lambda k, p: k.do_sve_acc_locked()),
    Step("user_svcr_write", "(SME) user code executes SMSTART/SMSTOP (PSTATE.SM, PSTATE.ZA)",
         _user_svcr,
         lambda S, p: _at_el0_sme(S, p) & (S.cpu[p["cpu"]].sm.ne(p["sm"])
                                           | S.cpu[p["cpu"]].za_on.ne(p["za"])),
         lambda k, p: k.user_svcr_write(p["sm"], p["za"])),
    Step("user_za_write", "(SME) user code writes ZA (PSTATE.ZA set)", _user_sme,
         lambda S, p: _at_el0_sme(S, p) & S.cpu[p["cpu"]].za_on.eq(1),
         lambda k, p: k.user_za_write()),
    Step("user_ssve_write", "(SME) user code in streaming mode writes its Z and P registers",
         _user_sme,
         lambda S, p: _at_el0_sme(S, p) & S.cpu[p["cpu"]].sm.eq(1),
         lambda k, p: k.user_ssve_write()),
    Step("user_sme_trap", "(SME) user code executes SME while EL0 SME is trapped: do_sme_acc",
         _user_sme,
         lambda S, p: running(S, p["cpu"], p["task"]) & at(S, p["task"], "USER")
         & S.cpu[p["cpu"]].smen_el0en.eq(0),
         lambda k, p: k.do_sme_acc()),
    Step("sme_acc", "(SME) do_sme_acc() after its allocations: the bh-disabled part",
         _user_sme,
         lambda S, p: running(S, p["cpu"], p["task"]) & at(S, p["task"], "SME_ACC"),
         lambda k, p: k.do_sme_acc_locked()),
    Step("ptrace_sve_set", "a tracer writes a tracee's SVE registers in a ptrace stop",
         _tracer_tracee, _stopped_target,
         lambda k, p: k.sve_set(p["target"])),
    Step("ptrace_fpr_set", "a tracer writes a tracee's FPSIMD registers in a ptrace stop",
         _fpr_set, _stopped_target,
         lambda k, p: k.fpr_set(p["target"])),
    Step("ptrace_fpmr_set", "(FPMR) a tracer writes a tracee's FPMR (NT_ARM_FPMR) in a ptrace"
         " stop", _fpmr_set, _stopped_target,
         lambda k, p: k.fpmr_set(p["target"])),
    Step("ptrace_ssve_set", "(SME) a tracer writes a tracee's streaming SVE registers"
         " (NT_ARM_SSVE: the tracee enters streaming mode) in a ptrace stop", _sme_regset,
         _stopped_target,
         lambda k, p: k.ssve_set(p["target"])),
    *SVE_REGSET_STEPS,
    Step("ptrace_za_set", "(SME) a tracer writes a tracee's ZA (NT_ARM_ZA with data: ZA"
         " enabled) in a ptrace stop", _sme_regset, _stopped_target,
         lambda k, p: k.za_set(p["target"], data=True)),
    Step("ptrace_za_set_vl", "(SME, several SVLs) a tracer writes a tracee's ZA with a"
         " header VL (NT_ARM_ZA: vec_set_vector_length() first) in a ptrace stop",
         _za_set_vl, _stopped_target,
         lambda k, p: k.za_set_at_vl(p["target"], p["svl"])),
    Step("ptrace_za_disable", "(SME) a tracer writes NT_ARM_ZA without data (ZA disabled)"
         " in a ptrace stop", _sme_regset, _stopped_target,
         lambda k, p: k.za_set(p["target"], data=False)),
    Step("ptrace_stop", "the task enters a ptrace stop (syscall entry/exit, signal delivery)"
         " and switches to `next`", _stop_switch,
         lambda S, p: running(S, p["cpu"], p["task"])
         & (at(S, p["task"], "KERNEL") | at(S, p["task"], "VCPU_LOAD"))
         & may_sleep(S, p["cpu"]) & not_running(S, p["next"]) & runnable(S, p["next"]),
         lambda k, p: k.ptrace_stop(p["next"])),
    Step("ptrace_resume", "the tracer resumes a stopped tracee (PTRACE_CONT etc.)", _ptrace,
         lambda S, p: running(S, p["cpu"], p["task"]) & at(S, p["task"], "KERNEL")
         & S.tasks[p["target"]].stopped.eq(1),
         lambda k, p: k.ptrace_resume(p["target"])),
    Step("exec", "execve(): flush_thread()", _event("exec", _user),
         lambda S, p: running(S, p["cpu"], p["task"]) & at(S, p["task"], "KERNEL"),
         lambda k, p: k.sys_execve()),
    Step("fork", "fork()/clone(): _do_fork creates the child (arch_dup_task_struct,"
         " copy_thread, wake_up_new_task)", _fork,
         lambda S, p: running(S, p["cpu"], p["task"]) & at(S, p["task"], "KERNEL")
         & S.tasks[p["task"]].syscall_body.eq(1) & S.tasks[p["child"]].created.eq(0),
         lambda k, p: k._do_fork(p["child"])),
    Step("exit", "the forked child exits: do_exit, its last __schedule to `next`", _exit,
         lambda S, p: running(S, p["cpu"], p["task"]) & at(S, p["task"], "KERNEL")
         & preemptible(S, p["cpu"], p["task"])
         & not_running(S, p["next"]) & runnable(S, p["next"]),
         lambda k, p: k.do_exit(p["next"])),
    # The VL changes are allowed inside a signal handler too: the frame keeps the VLs of
    # its delivery, and rt_sigreturn fails with SIGSEGV if they are no longer the task's
    # (model/kernel/signal.py; steps sigreturn and sigsegv_exit).
    Step("sve_set_vl", "prctl(PR_SVE_SET_VL): sve_set_current_vl -> sve_set_vector_length",
         _set_vl,
         lambda S, p: running(S, p["cpu"], p["task"]) & at(S, p["task"], "KERNEL")
         & S.tasks[p["task"]].syscall_body.eq(1),
         lambda k, p: k.sve_set_current_vl(p["vl"])),
    Step("sme_set_vl", "prctl(PR_SME_SET_VL): sme_set_current_vl -> vec_set_vector_length",
         _set_svl,
         lambda S, p: running(S, p["cpu"], p["task"]) & at(S, p["task"], "KERNEL")
         & S.tasks[p["task"]].syscall_body.eq(1),
         lambda k, p: k.sme_set_current_vl(p["svl"])),
    Step("signal", "do_notify_resume delivers a signal: do_signal -> setup_rt_frame",
         _event("signal", _user),
         lambda S, p: running(S, p["cpu"], p["task"]) & at(S, p["task"], "KERNEL")
         & S.tasks[p["task"]].in_handler.eq(0),
         lambda k, p: k.do_signal()),
    # (rt_sigreturn fails, SIGSEGV, where the handler could change a VL: step sigsegv_exit)
    Step("sigreturn", "the signal handler returns: rt_sigreturn", _event("signal", _user),
         lambda S, p: running(S, p["cpu"], p["task"]) & at(S, p["task"], "USER")
         & S.tasks[p["task"]].in_handler.eq(1),
         lambda k, p: k.sys_rt_sigreturn()),
    Step("sigsegv_exit", "the SIGSEGV of a failed rt_sigreturn kills the task: get_signal"
         " -> do_group_exit -> do_exit, its last __schedule to `next`", _sigsegv_exit,
         lambda S, p: running(S, p["cpu"], p["task"]) & at(S, p["task"], "SIGSEGV")
         & may_sleep(S, p["cpu"]) & not_running(S, p["next"]) & runnable(S, p["next"]),
         lambda k, p: k.sigsegv_exit(p["next"])),
    Step("syscall", "a syscall from user space (el0_svc)", _user,
         lambda S, p: running(S, p["cpu"], p["task"]) & at(S, p["task"], "USER"),
         lambda k, p: k.el0_svc()),
    Step("syscall_kernel_neon", "task-context kernel-mode NEON in a syscall", _user,
         lambda S, p: running(S, p["cpu"], p["task"]) & at(S, p["task"], "KERNEL"),
         lambda k, p: k.syscall_kernel_neon()),
    Step("syscall_kernel_neon_end", "a preemptible task-context kernel-mode NEON section"
         " (v6.8+) reads back its registers and ends", _kernel_neon_sections,
         lambda S, p: running(S, p["cpu"], p["task"]) & at(S, p["task"], "KERNEL_NEON"),
         lambda k, p: k.syscall_kernel_neon_end()),
    Step("kthread_kernel_neon", "(v6.8+) a kernel thread's task-context kernel-mode NEON"
         " (kworker crypto, md raid6): kernel_neon_begin() and its writes", _kworker,
         lambda S, p: running(S, p["cpu"], p["task"]) & at(S, p["task"], "KERNEL"),
         lambda k, p: k.syscall_kernel_neon()),
    Step("kthread_kernel_neon_end", "(v6.8+) a kernel thread's preemptible kernel-mode NEON"
         " section reads back its registers and ends", _kworker,
         lambda S, p: running(S, p["cpu"], p["task"]) & at(S, p["task"], "KERNEL_NEON"),
         lambda k, p: k.syscall_kernel_neon_end()),
    Step("ret_to_user", "ret_to_user / do_notify_resume", _user,
         lambda S, p: running(S, p["cpu"], p["task"]) & at(S, p["task"], "KERNEL"),
         lambda k, p: k.ret_to_user()),
    Step("irq", "an IRQ whose softirq uses kernel-mode NEON", _any_task,
         lambda S, p: running(S, p["cpu"], p["task"]) & softirq_can_run(S, p["cpu"]),
         lambda k, p: k.irq_from()),
    Step("schedule", "preemption or blocking: context switch to `next`", _switch,
         lambda S, p: running(S, p["cpu"], p["task"])
         & preemptible(S, p["cpu"], p["task"])
         & not_running(S, p["next"]) & runnable(S, p["next"]),
         lambda k, p: k.__schedule(p["next"])),
    Step("kvm_run", "KVM_RUN ioctl from the VMM thread", _vmm,
         lambda S, p: running(S, p["cpu"], p["task"])
         & at(S, p["task"], "USER")
         & S.vcpus[p["vcpu"]].mutex.eq("NULL"),
         lambda k, p: k.kvm_vcpu_ioctl_run(p["vcpu"])),
    Step("vcpu_load", "kvm_arch_vcpu_ioctl_run: vcpu_load", _vmm, _vmm_at("VCPU_LOAD"),
         lambda k, p: k.kvm_arch_vcpu_ioctl_run_load(p["vcpu"])),
    Step("enter_guest", "run loop: disable IRQs and enter the guest (or bail out)", _vmm,
         _may_enter_guest,
         lambda k, p: k.kvm_arch_vcpu_ioctl_run_enter_guest(p["vcpu"])),
    Step("guest_fp_trap", "the guest touches FP while trapped: hyp switches FP", _vmm,
         lambda S, p: _in_guest(S, p) & S.fp_trapped(p["cpu"]),
         lambda k, p: k.fixup_guest_exit_fp(p["vcpu"])),
    Step("guest_sve_trap", "(SVE vcpus, nVHE) the guest's SVE instruction traps to hyp"
         " while CPTR_EL2.TZ is set and TFP clear: kvm_hyp_handle_fpsimd() (EC_SVE)",
         _vmm_tz_without_tfp,
         lambda S, p: _in_guest(S, p) & ~S.fp_trapped(p["cpu"])
         & S.cpu[p["cpu"]].cptr_tz.eq(1),
         lambda k, p: k.fixup_guest_exit_fp(p["vcpu"])),
    Step("guest_fp_write", "the guest writes its FP registers", _vmm,
         lambda S, p: _in_guest(S, p) & ~S.fp_trapped(p["cpu"]) & _sve_untrapped(S, p),
         lambda k, p: k.guest_fp_write(p["vcpu"])),
    Step("guest_sve_set_vl", "(SVE vcpus) the guest writes its ZCR_EL1.LEN", _vmm_vl,
         lambda S, p: _in_guest(S, p) & ~S.fp_trapped(p["cpu"]) & _sve_untrapped(S, p),
         lambda k, p: k.guest_write_zcr_el1(p["vcpu"], p["vl"])),
    Step("guest_exit", "the guest exits (IRQ or trap) back to the run loop", _vmm,
         _in_guest,
         lambda k, p: k.kvm_arch_vcpu_ioctl_run_guest_exit(p["vcpu"])),
    Step("handle_exit", "run loop: preempt_enable, handle_exit", _vmm, _vmm_at("POST_EXIT"),
         lambda k, p: k.kvm_arch_vcpu_ioctl_run_handle_exit(p["vcpu"])),
    Step("vcpu_put", "leave KVM_RUN: vcpu_put, drop the vcpu mutex", _vmm, _vmm_at("LOOP_EXIT"),
         lambda k, p: k.kvm_arch_vcpu_ioctl_run_put(p["vcpu"])),
    # ---- optional events (model/events.py): no instances unless configured
    Step("psci_cpu_off", "the guest's PSCI CPU_OFF, handled in its run loop",
         _vmm_event("vcpu_reset"),
         lambda S, p: _vmm_at("LOOP_TOP")(S, p) & S.vcpus[p["vcpu"]].power_off.eq(0),
         lambda k, p: k.kvm_psci_vcpu_off(p["vcpu"])),
    Step("vcpu_sleep_signal", "a powered-off vcpu's sleep is interrupted by a signal",
         _vmm_event("vcpu_reset"),
         lambda S, p: _vmm_at("LOOP_TOP")(S, p) & S.vcpus[p["vcpu"]].power_off.eq(1),
         lambda k, p: k.vcpu_req_sleep_interrupted(p["vcpu"])),
    Step("vcpu_reset", "PSCI CPU_ON from this vcpu's thread resets another, powered-off vcpu",
         _vmm_pair,
         lambda S, p: _vmm_at("LOOP_TOP")(S, p)
         & S.vcpus[p["target_vcpu"]].power_off.eq(1),
         lambda k, p: k.kvm_psci_vcpu_on(p["vcpu"], p["target_vcpu"])),
    Step("vcpu_init", "KVM_ARM_VCPU_INIT of a vcpu that has run: the VMM resets it (no"
         " vcpu_load)", _vmm_event("vcpu_init"),
         lambda S, p: running(S, p["cpu"], p["task"]) & at(S, p["task"], "USER")
         & S.vcpus[p["vcpu"]].mutex.eq("NULL"),
         lambda k, p: k.kvm_arch_vcpu_ioctl_vcpu_init(p["vcpu"])),
    Step("set_one_reg", "KVM_SET_ONE_REG of the guest's FP registers (no vcpu_load)",
         _vmm_event("set_one_reg"),
         lambda S, p: running(S, p["cpu"], p["task"]) & at(S, p["task"], "USER")
         & S.vcpus[p["vcpu"]].mutex.eq("NULL"),
         lambda k, p: k.kvm_vcpu_ioctl_set_one_reg(p["vcpu"])),
    Step("kvm_run_kernel_neon", "kernel-mode NEON in the VMM thread inside KVM_RUN",
         _vmm_event("kvm_run_kernel_neon"),
         lambda S, p: _vmm_at("LOOP_TOP")(S, p) | _vmm_at("LOOP_EXIT")(S, p),
         lambda k, p: k.kvm_run_kernel_neon(p["vcpu"])),
    Step("kvm_run_kernel_neon_end", "a preemptible kernel-mode NEON section in KVM_RUN"
         " (v6.8+) reads back its registers and ends", _run_neon_sections,
         lambda S, p: _vmm_at("RUN_NEON_TOP")(S, p) | _vmm_at("RUN_NEON_EXIT")(S, p),
         lambda k, p: k.kvm_run_kernel_neon_end(p["vcpu"])),
    # ---------------------------------------------------------------- optional events
    Step("cpu_idle_pm", "cpuidle enters a power-down state: CPU PM enter/exit (event cpu_pm)",
         _event("cpu_pm", _idle),
         lambda S, p: running(S, p["cpu"], p["task"]) & may_sleep(S, p["cpu"]),
         lambda k, p: k.do_idle()),
    Step("suspend_enter", "system suspend from a task's syscall: syscore CPU PM enter/exit"
         " (event cpu_pm)", _event("cpu_pm", _user),
         lambda S, p: running(S, p["cpu"], p["task"]) & at(S, p["task"], "KERNEL")
         & may_sleep(S, p["cpu"]),
         lambda k, p: k.suspend_enter()),
    Step("cpu_down", "the CPU goes offline (its tasks migrated away); fpsimd_cpu_dead runs"
         " (event cpu_hotplug)", _event("cpu_hotplug", _hotplug_cpu),
         lambda S, p: S.cpu[p["cpu"]].online.eq(1) & running(S, p["cpu"], p["task"])
         & may_sleep(S, p["cpu"]) & others_online(S, p["cpu"]),
         lambda k, p: k._cpu_down(p["cpu"])),
    Step("cpu_up", "the CPU comes back online from reset (event cpu_hotplug)",
         _event("cpu_hotplug", _hotplug_cpu),
         lambda S, p: S.cpu[p["cpu"]].online.eq(0),
         lambda k, p: k._cpu_up(p["cpu"])),
    Step("efi_call", "an EFI runtime service from task context: kernel-NEON path (event efi)",
         _event("efi", _any_task),
         lambda S, p: running(S, p["cpu"], p["task"]) & in_syscall(S, p["task"])
         & may_sleep(S, p["cpu"])
         # Always true between steps (lemma neon_not_busy_at_rest); stated so that the
         # derived interleaving knows __efi_fpsimd_begin takes the kernel-NEON path here.
         & S.cpu[p["cpu"]].kernel_neon_busy.eq(0),
         lambda k, p: _efi_call(k)),
    Step("efi_oops", "an oops: pstore writes an EFI variable with IRQs off, buffer path"
         " (event efi)", _event("efi", _any_task),
         lambda S, p: running(S, p["cpu"], p["task"]) & in_kernel(S, p["task"]),
         lambda k, p: _efi_oops(k)),
)

# Steps that run on a CPU whether or not it is online (the rest need it online).
HOTPLUG_STEPS = ("cpu_down", "cpu_up")


def describe_params(S: Layout, p: Params) -> str:
    parts = [f"cpu{p['cpu']}", S.tasks[p["task"]].name]
    if "vcpu" in p:
        parts.append(f"vcpu{p['vcpu']}")
    if "next" in p:
        parts.append(f"-> {S.tasks[p['next']].name}")
    if "target" in p:
        parts.append(f"on {S.tasks[p['target']].name}")
    if "vl" in p:
        parts.append(f"VL {S.config.sve_vls[p['vl']]}")
    if "svl" in p:
        parts.append(f"SVL {S.config.sme_vls[p['svl']]}")
    if "child" in p:
        parts.append(f"child {S.tasks[p['child']].name}")
    if "target_vcpu" in p:
        parts.append(f"-> vcpu{p['target_vcpu']}")
    return ", ".join(parts)


# A tracer's writes to a stopped tracee.  Without event ptrace_stop the tracee is any task
# switched out at a stop point, which may be scheduled again (`_stopped_target`): sound
# only while the tracer's write is one step, so these steps are split only with the event
# (the tracee then really is in TASK_TRACED and cannot run until the tracer resumes it).
TRACER_STEPS = ("ptrace_sve_set", "ptrace_fpr_set", "ptrace_fpmr_set", "ptrace_ssve_set",
                "ptrace_za_set", "ptrace_za_disable", "ptrace_za_set_vl",
                *(s.name for s in SVE_REGSET_STEPS))


# A step instance's family for preemption splits: its parameters but the CPU (a task
# preempted inside a step resumes on any CPU; everything else the step was called with
# is part of where it waits).
def _family(step: Step, p: Params) -> tuple:
    return (step.name, tuple(sorted((k, v) for k, v in p.items() if k != "cpu")))


def _cont_label(step: Step, p: Params, n: int) -> str:
    extra = "".join(f",{k}{v}" for k, v in sorted(p.items()) if k not in ("cpu", "task"))
    return f"{step.name}@{n}{extra}"


def _instances(S: Layout, steps: Iterable[Step]) -> Iterable[tuple[Step, Params, Expr]]:
    for step in steps:
        for p in step.params(S):
            guard = step.guard(S, p)
            if "cpu_hotplug" in S.config.events and step.name not in HOTPLUG_STEPS:
                guard = S.cpu[p["cpu"]].online.eq(1) & guard  # an offline CPU runs nothing
            yield step, p, guard


@dataclass
class SplitPlan:
    """Where steps are split at a preemption point (model.interleave, "Preemption"), from
    building every instance once: per step family (`_family`), point number -> the
    continuation program point a task preempted there waits at, and the C locals the
    resumed part reads (kept in state while the task waits)."""

    points: dict[tuple, dict[int, str]] = field(default_factory=dict)
    carried: dict[tuple, dict[int, tuple[str, ...]]] = field(default_factory=dict)
    domains: dict[str, Domain] = field(default_factory=dict)  # carried var -> domain
    # continuation pc -> where the window opens ("function: the statement after it")
    where: dict[str, str] = field(default_factory=dict)
    # continuation pc -> what is known there for every instance (model.state.WindowFacts)
    facts: dict[str, WindowFacts] = field(default_factory=dict)

    def pcs(self) -> tuple[str, ...]:
        return tuple(sorted({pc for pts in self.points.values() for pc in pts.values()}))

    def layout(self, config: Config, features: frozenset[str]) -> Layout:
        return Layout(config, features, self.pcs(), tuple(sorted(self.domains.items())),
                      pc_where=tuple(sorted(self.where.items())),
                      pc_facts=tuple(sorted(self.facts.items(), key=lambda f: f[0])))


def split_plan(config: Config, features: frozenset[str], variant: Variant,
               steps: Iterable[Step] = STEPS) -> SplitPlan:
    """Build every step instance to find its split points (`Ctx.split_points`), then
    build each resumed part to find the C locals it needs from before the split."""
    steps = tuple(steps)
    S = Layout(config, features)
    found: dict[tuple, dict[int, str]] = {}
    facts: dict[tuple, dict[int, WindowFacts]] = {}
    for step, p, guard in _instances(S, steps):
        if step.name in TRACER_STEPS and not S.ptrace:
            continue
        k = Ctx(S, variant, p["cpu"], p["task"])
        k.begin_step(guard)
        _run_step(S, step, k, p)
        if k.split_points:
            for pt, where in k.split_points.items():
                found.setdefault(_family(step, p), {}).setdefault(pt, where)
                # every instance of the family (each CPU, each task) waits at the same pc
                known = facts.setdefault(_family(step, p), {})
                f = k.split_facts[pt]
                known[pt] = known[pt] & f if pt in known else f
    plan = SplitPlan()
    if not found:
        return plan
    by_name = {step.name: step for step in steps}
    for fam, pts in found.items():
        step = by_name[fam[0]]
        plan.points[fam] = {pt: _cont_label(step, dict(fam[1]), n)
                            for n, pt in enumerate(sorted(pts), 1)}
        for pt, pc in plan.points[fam].items():
            plan.where.setdefault(pc, pts[pt])
            # tasks share a label (`_cont_label`): what holds for each of them
            f = facts[fam][pt]
            plan.facts[pc] = plan.facts[pc] & f if pc in plan.facts else f
    S = plan.layout(config, features)
    for step, p, guard in _instances(S, steps):
        fam = _family(step, p)
        for pt, pc in plan.points.get(fam, {}).items():
            built = _build_resume(S, variant, step, p, guard, plan.points[fam], pt, pc, None)
            if built is None:
                continue
            k = built[0]
            names = plan.carried.setdefault(fam, {}).setdefault(pt, ())
            for var in k.resumed_locals():
                if var.dom.kind == "value":
                    raise ModelError(f"{variant.name}: the step resumed at {pc} reads the FP "
                                     f"value {var.name} computed before its preemption "
                                     "point; carrying FP values is not supported")
                key = k.local_key(var)
                if key not in names:
                    names += (key,)
                plan.domains[f"{S.tasks[p['task']].name}.{pc}.{key}"] = var.dom
            plan.carried[fam][pt] = names
    return plan


def _build_resume(S: Layout, variant: Variant, step: Step, p: Params, whole: Expr,
                  splits: dict[int, str], point: int, pc: str,
                  carried: dict[int, tuple[str, ...]] | None) -> tuple[Ctx, Expr] | None:
    """Build the part of step instance ``p`` (guard ``whole``) after split ``point``, as
    the task resumes it on ``p``'s CPU: the builder and the resume step's guard; None if
    this CPU's build has no such point."""
    guard = resumed(S, p["cpu"], p["task"], pc)
    if "cpu_hotplug" in S.config.events:
        guard = S.cpu[p["cpu"]].online.eq(1) & guard  # an offline CPU runs nothing
    k = Ctx(S, variant, p["cpu"], p["task"], splits=splits, resume=point, carried=carried)
    k.begin_step(whole, guard)
    _run_step(S, step, k, p)
    return (k, guard) if k.resumed else None


def resumed(S: Layout, c: int, t: int, pc: str) -> Expr:
    """The resume step's guard: task ``t``, preempted at ``pc``, runs again on CPU ``c``
    in the execution state it was preempted in (the split's condition: IRQs unmasked,
    every count zero; __schedule() switches a task in with its state as it left it, and
    a task left at a split only through a preemption from that state or not at all)."""
    cpu = S.cpu[c]
    return (running(S, c, t) & at(S, t, pc) & cpu.irqs_disabled.eq(0)
            & cpu.preempt_count.eq(0) & cpu.softirq_count.eq(0) & cpu.hardirq.eq(0))


def _run_step(S: Layout, step: Step, k: Ctx, p: Params) -> None:
    """``step.run``; a call of a function the variant lacks is reported with the step and
    the events it exists for (`MissingFunction`), for the CLI's one-line error."""
    try:
        step.run(k, p)
    except MissingFunction as exc:
        if exc.step is None:
            exc.step = step.name
            exc.events = tuple(_events_needed(S, step))
        raise


def _events_needed(S: Layout, step: Step) -> list[str]:
    """The configuration's events without which ``step`` has no instance."""
    return [event for event, L in _layouts_without_each_event(S)
            if not any(True for _ in step.params(L))]


def _layouts_without_each_event(S: Layout) -> Iterator[tuple[str, Layout]]:
    """(event, the layout of S's configuration without it) for each of its events that
    the others do not need (leaving it out is then no configuration: skipped)."""
    for event in S.config.events:
        try:
            cfg = replace(S.config, events=tuple(e for e in S.config.events if e != event))
        except ValueError:
            continue
        yield event, Layout(cfg, S.features)


def inert_events(S: Layout, steps: Iterable[Step] = STEPS) -> list[str]:
    """The configuration's events that add no step instance: the layout of the same
    configuration without the event gives the same step instances (e.g.
    ``ptrace_sve_fpsimd`` without --sve or --sme, ``fork`` with one user task).  A verdict
    then says nothing about the event, which the CLI says in a note
    (checker/cli_common.py).  An event another selected event needs is never inert."""
    steps = tuple(steps)

    def instances(L: Layout) -> set[tuple]:
        return {(step.name, tuple(sorted(p.items()))) for step in steps for p in step.params(L)}

    full = instances(S)
    return [event for event, L in _layouts_without_each_event(S) if instances(L) == full]


def build_actions(S: Layout, variant: Variant, steps: Iterable[Step] = STEPS,
                  plan: SplitPlan | None = None) -> list[Action]:
    """Instantiate every step for this configuration, running the kernel functions once
    to produce each step's statements.  With a split ``plan`` (`split_plan`; ``S`` its
    `SplitPlan.layout`), a step is preempted at the plan's points and each point gets a
    resume step per CPU: the rest of the step, built for that CPU."""
    steps = tuple(steps)
    plan = plan or SplitPlan()
    actions: list[Action] = []

    def make(name: str, step: Step, p: Params, guard: Expr, k: Ctx, label: str) -> None:
        action = Action(
            name=name,
            params=tuple(sorted(p.items())),
            label=f"{label}({describe_params(S, p)})",
            guard=guard,
            body=strip_marks(k.body()),
            inputs=tuple(k.inputs),
            functions=tuple(k.functions),
            doc=step.doc,
            traced_body=k.body(),
            preempt_windows=tuple(dict.fromkeys(k.preempt_windows)),
        )
        check_data_independence(action)
        actions.append(action)

    resumes: list[tuple[Step, Params, Expr, int, str]] = []
    for step, p, guard in _instances(S, steps):
        fam = _family(step, p)
        splits = plan.points.get(fam, {})
        k = Ctx(S, variant, p["cpu"], p["task"], splits=splits,
                carried=plan.carried.get(fam))
        k.begin_step(guard)
        _run_step(S, step, k, p)
        make(step.name, step, p, guard, k, step.name)
        resumes += [(step, p, guard, pt, pc) for pt, pc in splits.items()]
    for step, p, whole, pt, pc in resumes:
        fam = _family(step, p)
        carried = plan.carried.get(fam, {})
        built = _build_resume(S, variant, step, p, whole, plan.points[fam], pt, pc, carried)
        if built is None:
            continue  # this CPU's build of the step has no such point
        k, guard = built
        k.restore_carried(pt, carried.get(pt, ()))
        missing = k.resumed_locals()
        if missing:
            raise ModelError(f"{variant.name}: the step resumed at {pc} reads C locals the "
                             f"plan does not carry: {[v.name for v in missing]}")
        name = f"{step.name}@{pc.split('@', 1)[1].split(',')[0]}"
        make(name, step, p, guard, k, f"{name} resumed")
    return actions


__all__ = ["STEPS", "SplitPlan", "Step", "build_actions", "split_plan"]
