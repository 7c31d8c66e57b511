"""Data ownership: which state a step running on one CPU may touch.

A step of the model is kernel code run on one CPU, executed atomically.  Steps on other
CPUs are not interleaved inside it (model/interleave.py, "Other CPUs"), which is sound
only if no other CPU is *running* code that touches the same state at the same time.  In
the kernel that is data ownership, kept by the code's own protocol (per-CPU variables
with preemption off, a task's thread struct by the task itself or while it is not
running, vcpu state under vcpu->mutex).  This module states the rule once, per variable
of the layout, as a predicate over the state at the access; `model.ctx.Ctx` emits it as an
assertion (kind ``ownership``, property ``data_ownership``) before every access whose
ownership is not evident from the step's own parameters, so both engines check it on
every execution, and a violation is a trace like any other.

The owner of each variable, from its place in the layout:

* ``cpu<N>.*`` (per-CPU data: registers, fpsimd_last_state, the IRQ/preempt state,
  rq->lock, hyp's host context, the EFI buffers): CPU N.  Another CPU may touch it only
  while CPU N is offline (fpsimd_cpu_dead() runs on a surviving CPU for the dead one).
* ``<task>.*`` (thread struct, TIF flags, program point, signal frame): the CPU the task
  is current on; while it is not running anywhere, any one CPU (the scheduler switching
  it in, a tracer writing a stopped tracee).  A step touching a task that is running on
  *another* CPU races with that task's own code.
* ``vcpu<N>.*`` (struct kvm_vcpu's FP state and flags): the task holding vcpu->mutex
  (KVM_RUN, the vcpu ioctls), or, while the holder is not running on another CPU (or
  nobody holds it), the CPU touching it.  A step touching a vcpu whose mutex holder is
  running on another CPU races with that thread's run loop.
* ``ghost.*`` and anything else: model bookkeeping, not kernel data.

What this does not check: two CPUs touching a task or vcpu that neither is running (e.g.
a tracer and a scheduler on the same stopped task): each such step's guard excludes the
other (a stopped task is not runnable), which is argued, not checked.
"""

from __future__ import annotations

import re

from model.dsl import TRUE, And, Expr, Ite, Not, Or, Var, all_of, any_of, children
from model.state import Layout

DATA_OWNERSHIP = "data_ownership"
DATA_OWNERSHIP_DOC = (
    "A step running on one CPU touches only state no other CPU is running code on: its own"
    " per-CPU data (or an offline CPU's), tasks not running on another CPU, and vcpus whose"
    " vcpu->mutex holder is not running on another CPU.  A violation is a data race in"
    " the kernel, and a place where the model's atomic steps could hide interleavings."
)

_PREFIX = re.compile(r"^([A-Za-z]+)(\d+)\.(.*)$")

# Fields that the kernel shares between threads on purpose, with its own synchronisation:
# not owned by anyone.  field (after the owner's prefix) -> why the access is safe.
SHARED_FIELDS: dict[str, str] = {
    "mutex": "vcpu->mutex is the lock itself (a task waiting for it is blocked)",
    "power_off": "vcpu->arch.power_off is written by PSCI CPU_OFF/CPU_ON under kvm->lock"
                 " and read by the target's run loop after kvm_vcpu_wake_up()"
                 " (virt/kvm/arm/psci.c, arm.c vcpu_req_sleep)",
    "requests.VCPU_RESET": "vcpu->requests is set with kvm_make_request() (atomic set_bit,"
                           " smp_wmb) and consumed by the target in its run loop"
                           " (v5.0's KVM_REQ_VCPU_RESET)",
}


def owner_of(S: Layout, var: Var) -> tuple[str, int] | None:
    """("cpu", n), ("task", index in S.TASK), ("vcpu", n) or None (ghost, local, other)."""
    if var.local:
        return None
    m = _PREFIX.match(var.name)
    if m is None:
        return None
    kind, n, rest = m.group(1), int(m.group(2)), m.group(3)
    if rest in SHARED_FIELDS:
        return None
    if kind == "cpu":
        return ("cpu", n)
    if kind == "vcpu":
        return ("vcpu", n)
    label = f"{kind}{n}"
    if label in S.TASK.labels:
        return ("task", S.TASK.labels.index(label))
    return None


def owned_here(S: Layout, cpu: int, current: int, owner: tuple[str, int]) -> Expr | None:
    """The condition under which the code running on ``cpu`` with task ``current``
    (index in S.TASK) may touch state of ``owner`` now; None when it always may."""
    kind, n = owner
    others = [c for c in range(S.config.cpus) if c != cpu]
    if kind == "cpu":
        if n == cpu:
            return None
        return S.cpu[n].online.eq(0)  # a constant 1 without the cpu_hotplug event
    if kind == "task":
        if n == current:
            return None
        label = S.TASK.labels[n]
        return all_of(S.cpu[c].current.ne(label) for c in others)
    if kind == "vcpu":
        mutex = S.vcpus[n].mutex
        holders = [t for t in S.TASK_OR_NULL.labels if t != "NULL"]
        me = S.TASK.labels[current]
        running_elsewhere = any_of(mutex.eq(t) & S.cpu[c].current.eq(t)
                                   for t in holders if t != me for c in others)
        held_by_me = mutex.eq(me) if me in S.TASK_OR_NULL.labels else None
        free = ~running_elsewhere
        return free if held_by_me is None else held_by_me | free
    return None


def access_conditions(e: Expr, out: dict[Var, list[Expr]] | None = None,
                      cond: Expr = TRUE) -> dict[Var, list[Expr]]:
    """For each state variable ``e`` reads, the conditions under which it is read, as C
    evaluates it: ``a && b`` reads ``b`` only if ``a`` holds, ``a || b`` only if ``a``
    does not, ``c ? a : b`` one side.  A dereference through a pointer is modelled as
    ``ptr == &x && x.field`` (or an Ite on the pointer), so a variable reached through a
    pointer counts as read only where the pointer points to it."""
    out = {} if out is None else out
    if isinstance(e, Var):
        if not e.local:
            out.setdefault(e, []).append(cond)
    elif isinstance(e, And):
        for i, a in enumerate(e.args):
            access_conditions(a, out, all_of([cond, *e.args[:i]]))
    elif isinstance(e, Or):
        for i, a in enumerate(e.args):
            access_conditions(a, out, all_of([cond, *(Not(p) for p in e.args[:i])]))
    elif isinstance(e, Ite):
        access_conditions(e.c, out, cond)
        access_conditions(e.a, out, all_of([cond, e.c]))
        access_conditions(e.b, out, all_of([cond, Not(e.c)]))
    else:
        for child in children(e):
            access_conditions(child, out, cond)
    return out


def describe_owner(S: Layout, owner: tuple[str, int]) -> str:
    kind, n = owner
    if kind == "cpu":
        return f"cpu{n}'s per-CPU data"
    if kind == "task":
        return f"task {S.TASK.labels[n]}'s thread state"
    return f"vcpu{n}'s state"


def site_text(S: Layout, owner: tuple[str, int]) -> str:
    """The assertion text: what must not be running elsewhere."""
    kind, n = owner
    if kind == "cpu":
        return f"touches {describe_owner(S, owner)} while cpu{n} is online"
    if kind == "task":
        return (f"touches {describe_owner(S, owner)} only while {S.TASK.labels[n]} is not"
                " running on another CPU")
    return (f"touches {describe_owner(S, owner)} only while its vcpu->mutex holder is not"
            " running on another CPU")


__all__ = ["DATA_OWNERSHIP", "DATA_OWNERSHIP_DOC", "SHARED_FIELDS", "access_conditions",
           "describe_owner", "owned_here", "owner_of", "site_text"]
