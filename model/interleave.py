"""Interleaving points derived from the execution state the code sets up.

A step of the model (model/steps.py) is a kernel entry point run on one CPU.  Whether
something else can run *inside* it is not declared: it follows from the statements the
step's kernel functions emit, in two parts.

**Build time (this module and `model.ctx.Ctx`).**  While a step is built, `Ctx` keeps a
static abstraction of this CPU's execution-state variables (`ExecState`: IRQ mask, the
preempt and softirq counts as "entry value + delta" or a constant, in_irq), updated by
every assignment the code makes (``local_irq_disable()``, ``local_bh_disable()``, a
restore from saved flags, ...).  Before each statement that *conflicts* with what an IRQ
on this CPU may read or write (`IrqSets`: the read/write sets of the variant's own
``handle_irq()``, built for this CPU and current task, softirq included), `Ctx` emits an
IRQ point: ``if (softirq_can_run && nondet) handle_irq()``, i.e. the IRQ runs to
completion on top of the interrupted code, exactly as on the CPU.  The condition is the
*dynamic* execution state at that point, so a variant that drops a ``local_bh_disable()``
or a ``local_irq_save()`` opens the window; points where the static state already shows
IRQs masked, bottom halves disabled, or hardirq/softirq context are left out (their
condition is false in every execution).

Why one point before each conflicting statement is enough (Lipton reduction): an IRQ
(with its softirq) and a statement that neither writes anything the IRQ reads or writes
nor reads anything the IRQ writes commute (both orders give the same state, and the
statement cannot change whether the IRQ can be taken, because every variable of the
IRQ's enabling condition is in its read set).  So an IRQ taken anywhere between two
conflicting statements can be moved right up to the next conflicting statement, or to
the end of the step, where the `irq` step between steps takes it.  For the same reason
no point is needed before the *first* conflicting statement of a step when the step's
guard reads nothing the IRQ changes: an IRQ there moves left to before the step.  What
the IRQ changes is its *net* write set: execution-state variables it always restores
(the IRQ mask, the counts, in_irq: `ExecState` proves it for the variant's code) are not
net writes, and their self-increments (``preempt_count += 1`` ... ``-= 1``) are not
reads either.

Nested interrupts: inside the inlined IRQ the static state shows IRQs masked (hardirq)
or the softirq count raised (softirq): a hardirq taken while a softirq runs returns
through irq_exit(), where in_interrupt() is true, so it runs no softirq and (its handler
not using FP, may_use_simd() being false in hardirq context) touches nothing modelled.
So no point is needed inside the IRQ.  Two IRQs at the same point are one IRQ followed
by another with nothing in between: the second is equivalent to one taken at the next
point or by the `irq` step (it commutes with everything up to there, by the argument
above).  Steps whose code is not kernel code (a user task or a guest writing its
registers: `Ctx.fp_write` and the other monitors) get no points: an IRQ from EL0 or from
a guest goes through the `irq` step and the exception return path.

**Preemption** (``Config.preemption == "split"``, `--preemption split`; the default,
``merged``, only records the windows in `Action.preempt_windows`: ARCHITECTURE.md says
why). A context switch inside a step cannot be inlined (the task resumes later, possibly
on another CPU, after anything else has run), so the step is *split* there. Two builds
(model.steps.split_plan): the first numbers every statement of the step (`Ctx._point`;
an inlined IRQ's statements are not numbered, so every build numbers alike) and records
the split points: with CONFIG_PREEMPT, the first point where the static state does not
exclude preemption after a statement touching shared state and before the next one
(shared: everything but this CPU's execution state, the current task's program point,
vcpu->mutex and the vcpu fields only its holder's KVM_RUN code touches; a switch away
and back between two private statements is the same as one before or after them). Each
split point gets a continuation program point (`Layout.extra_pcs`, named ``step@n``).
The second build emits at each split point ``if (may_sleep && nondet) pc = step@n``
(preempt_schedule() or el1_irq's preempt_schedule_irq() after an IRQ set
TIF_NEED_RESCHED), and the rest of the step runs only if the task was not preempted
there. While the task waits at ``step@n`` the `schedule` step switches it out like at
any preemptible point; the *resume step* ``step@n`` (one per CPU) runs the rest of the
step when it is current again, built for the CPU it resumes on from the same kernel
functions (the part before the point is built but not kept, `Ctx._go_live`). C locals
the rest reads are carried in state while the task waits (`Layout.carried`): the value
the C code computed before the switch, e.g. a per-CPU pointer read on the CPU the task
left (the data_ownership property then catches its use on the new CPU). Without
CONFIG_PREEMPT a task schedules only at its explicit scheduling points, which are
program points between steps (model.steps.VOLUNTARY_SCHED_POINTS), so nothing is split.
`explore` names the windows a user's variant adds to its parent's. Abstraction: a
per-CPU pointer the model's kernel function computes once in Python (``cpu =
k.this_cpu``) and uses after a split is rebuilt for the CPU the task resumes on; the C
functions modelled so read the per-CPU variable at each use (``__this_cpu_read``), which
is what the rebuild does.

**Other CPUs.**  Steps on other CPUs are not interleaved inside a step.  Soundness rests
on data ownership, which is checked, not assumed: before every access the step builder
emits an assertion (property ``data_ownership``, model/ownership.py) that no other CPU is
running code that owns what is touched: another CPU's per-CPU data (unless that CPU is
offline), a task running on another CPU, a vcpu whose vcpu->mutex holder runs on another
CPU.  Accesses through pointers are checked where the pointer points; the fields the
kernel shares on purpose with its own synchronisation (vcpu->mutex, power_off, vcpu
requests) are listed with their arguments in `model.ownership.SHARED_FIELDS`.  So a
"holds" for data_ownership means every state a step touches was not in use on another
CPU at that moment, and merging the step into one transition hides nothing.  Not
checked: two CPUs touching a task or vcpu that neither runs (a stopped tracee's
tracer and the scheduler), which the step guards exclude.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from model.dsl import (
    AddC,
    And,
    Assert,
    Assign,
    Const,
    Eq,
    Expr,
    If,
    Ite,
    Not,
    Or,
    Stmt,
    Var,
    children,
    conjuncts,
    walk_exprs,
)

# --------------------------------------------------------------------- read/write sets


def expr_vars(e: Expr) -> set[Var]:
    """The state variables (not step locals) an expression reads."""
    # A plain loop (asked before every statement the build emits).
    out: set[Var] = set()
    stack = [e]
    while stack:
        x = stack.pop()
        if type(x) is Var:
            if not x.local:
                out.add(x)
        elif type(x) is not Const:
            stack.extend(children(x))
    return out


def stmt_rw(st: Stmt) -> tuple[set[Var], set[Var]]:
    """(reads, writes) of one statement itself (an If's condition, not its branches)."""
    if isinstance(st, Assign):
        return expr_vars(st.expr), ({st.var} if not st.var.local else set())
    if isinstance(st, Assert):
        return expr_vars(st.cond), set()
    if isinstance(st, If):
        return expr_vars(st.cond), set()
    return set(), set()


def body_rw(body: Sequence[Stmt], restored: frozenset[Var] = frozenset()
            ) -> tuple[set[Var], set[Var]]:
    """(reads, writes) of a statement list, recursively.  A self-increment of a variable
    in ``restored`` (``x = x + k``) is not counted as a read: a code path that restores
    ``x`` on every path does not depend on its value through such updates."""
    reads: set[Var] = set()
    writes: set[Var] = set()
    for st in body:
        if isinstance(st, Assign) and st.var in restored and isinstance(st.expr, AddC) \
                and st.expr.a is st.var:
            writes.add(st.var)
            continue
        r, w = stmt_rw(st)
        reads |= r
        writes |= w
        if isinstance(st, If):
            r, w = body_rw(st.then, restored)
            reads |= r
            writes |= w
            r, w = body_rw(st.els, restored)
            reads |= r
            writes |= w
    return reads, writes


@dataclass(frozen=True)
class IrqSets:
    """What an IRQ taken on one CPU (with one task current) may read and change."""

    reads: frozenset[Var]
    writes: frozenset[Var]  # net writes: variables the IRQ may leave changed
    restored: frozenset[Var]  # variables it always leaves as it found them
    may_fail: bool = True  # an assertion on its path may fail

    @property
    def identity(self) -> bool:
        """The IRQ changes nothing and cannot fail: taking it is a no-op."""
        return not self.writes and not self.may_fail

    def conflicts(self, reads: Iterable[Var], writes: Iterable[Var]) -> bool:
        w = set(writes)
        return bool(w & self.reads or w & self.writes or set(reads) & self.writes)


# --------------------------------------------------------------------- static state

# An abstract value: ("c", n) the constant n; ("d", k) the value at step entry plus k.
# A variable absent from the map is unknown.
AbsVal = tuple[str, int]


_ENTRY: AbsVal = ("d", 0)
_UNKNOWN: AbsVal = ("u", 0)


@dataclass
class ExecState:
    """Static knowledge of the state at a point of a step (constant propagation).

    Every state variable starts at "its entry value" (delta 0) unless the step's guard
    fixes it; assignments of constants, of ``x + k`` and of saved copies (``flags``
    locals) are followed, and the conditions of enclosing ``If`` blocks add facts.  The
    IRQ mask, the preempt/softirq counts and in_irq this yields decide where no IRQ can
    be taken; the other facts specialise the IRQ's read/write sets at a point (e.g.
    ``kernel_neon_busy`` is known set inside a kernel-NEON section, so the IRQ's softirq
    cannot use NEON there).
    """

    vals: dict[int, AbsVal] = field(default_factory=dict)  # Var.index -> value
    local_vals: dict[int, AbsVal] = field(default_factory=dict)  # id(local) -> value
    # FP value slots this step has stored a new generation in since that generation's
    # supersede: Var.index -> token (`Ctx.fp_write_memory`).  Not a fact of the values
    # (an inlined IRQ's save through a pointer may, statically, overwrite the slot) but of
    # the step's own progress: model.state.WindowFacts, hints for lemmas.
    stored: dict[int, int] = field(default_factory=dict)

    def copy(self) -> ExecState:
        return ExecState(dict(self.vals), dict(self.local_vals), dict(self.stored))

    def value(self, var: Var) -> AbsVal | None:
        if var.local:
            return self.local_vals.get(id(var))
        return self.vals.get(var.index, ("d", 0))

    def _set(self, var: Var, v: AbsVal | None) -> None:
        d = self.local_vals if var.local else self.vals
        key = id(var) if var.local else var.index
        if v is None:
            if var.local:
                d.pop(key, None)
            else:
                d[key] = ("u", 0)  # unknown
        else:
            d[key] = v

    def assign(self, var: Var, expr: Expr) -> None:
        """Update for ``var = expr``."""
        self._set(var, self.eval(expr))

    def eval(self, e: Expr) -> AbsVal | None:
        """The abstract value of ``e`` here, or None if unknown."""
        if isinstance(e, Const):
            return ("c", e.value)
        if isinstance(e, Var):
            v = self.value(e)
            return None if v is None or v[0] == "u" else v
        if isinstance(e, AddC):
            a = self.eval(e.a)
            return None if a is None else (a[0], a[1] + e.k)
        if isinstance(e, Not):
            a = self.eval(e.a)
            return ("c", int(not a[1])) if a and a[0] == "c" else None
        if isinstance(e, (And, Or)):
            decide = 0 if isinstance(e, And) else 1
            unknown = False
            for x in e.args:
                a = self.eval(x)
                if a is None or a[0] != "c":
                    unknown = True
                elif bool(a[1]) == bool(decide):
                    return ("c", decide)
            return None if unknown else ("c", 1 - decide)
        if isinstance(e, Eq):
            a, b = self.eval(e.a), self.eval(e.b)
            if a and b and a[0] == "c" and b[0] == "c":
                return ("c", int(a[1] == b[1]))
            return None
        if isinstance(e, Ite):
            c = self.eval(e.c)
            if c and c[0] == "c":
                return self.eval(e.a if c[1] else e.b)
            return None
        return None

    def known_false(self, e: Expr) -> bool:
        return self.eval(e) == ("c", 0)

    def assume(self, cond: Expr, truth: bool = True) -> None:
        """Add the facts ``cond`` (or its negation) gives about single variables."""
        if truth:
            for c in conjuncts(cond):
                self._fact(c, True)
        else:
            self._fact(cond, False)

    def _fact(self, c: Expr, truth: bool) -> None:
        if isinstance(c, Not):
            self._fact(c.a, not truth)
            return
        if isinstance(c, Eq) and isinstance(c.a, Var) and isinstance(c.b, Const):
            if truth:
                self._set(c.a, ("c", c.b.value))
            elif c.a.dom.size == 2:
                self._set(c.a, ("c", 1 - c.b.value))

    def join(self, other: ExecState) -> ExecState:
        # Every variable of either side: its value if both agree (absent is "entry
        # value"), else unknown.
        sv, ov = self.vals, other.vals
        vals: dict[int, AbsVal] = {}
        for i, a in sv.items():
            vals[i] = a if a == ov.get(i, _ENTRY) else _UNKNOWN
        for i, b in ov.items():
            if i not in sv:
                vals[i] = _ENTRY if b == _ENTRY else _UNKNOWN
        lv = {i: v for i, v in self.local_vals.items() if other.local_vals.get(i) == v}
        stored = {i: t for i, t in self.stored.items() if other.stored.get(i) == t}
        return ExecState(vals, lv, stored)

    def is_set(self, var: Var) -> bool:
        """``var`` is certainly nonzero here (a count above its entry value, or a
        nonzero constant)."""
        v = self.value(var)
        return v is not None and v[0] in "cd" and v[1] > 0


def entry_state(fixed: dict[int, int] | None = None) -> ExecState:
    """The state at step entry: every variable at its entry value, or the value the
    step's guard fixes."""
    return ExecState({i: ("c", n) for i, n in (fixed or {}).items()})


def folded_rw(body: Sequence[Stmt], env: ExecState
              ) -> tuple[set[Var], set[Var], set[Var], ExecState]:
    """(reads, self-increments, writes, end state) of ``body`` run from ``env``: branches
    whose condition is known here are followed alone.  A self-increment ``x = x + k``
    is listed apart from the reads (it reads ``x`` only to write it back)."""
    reads: set[Var] = set()
    writes: set[Var] = set()
    incs: set[Var] = set()
    env = env.copy()
    asserts: list[Assert] = []

    def walk(stmts: Sequence[Stmt]) -> None:
        nonlocal env
        for st in stmts:
            if isinstance(st, Assign):
                if isinstance(st.expr, AddC) and st.expr.a is st.var and not st.var.local:
                    incs.add(st.var)
                else:
                    reads.update(expr_vars(st.expr))
                if not st.var.local:
                    writes.add(st.var)
                env.assign(st.var, st.expr)
            elif isinstance(st, Assert):
                reads.update(expr_vars(st.cond))
                if env.eval(st.cond) != ("c", 1):
                    asserts.append(st)
            elif isinstance(st, If):
                reads.update(expr_vars(st.cond))
                c = env.eval(st.cond)
                if c is not None and c[0] == "c":
                    walk(st.then if c[1] else st.els)
                    continue
                before = env.copy()
                env.assume(st.cond, True)
                walk(st.then)
                after_then = env
                env = before
                env.assume(st.cond, False)
                walk(st.els)
                env = after_then.join(env)

    walk(body)
    folded_rw.asserts = asserts  # type: ignore[attr-defined]
    return reads, incs, writes, env


def irq_sets(body: Sequence[Stmt], env: ExecState, cond_vars: set[Var]) -> IrqSets:
    """The read/write sets of an IRQ path ``body`` taken from a state described by
    ``env`` (which already assumes the IRQ's enabling condition ``cond_vars`` reads).

    A variable the path leaves with the value it found (known statically: a count
    incremented and decremented, a flag set and cleared from a known value) is
    *restored*: not a net write, and not a read if the path only increments it."""
    reads, incs, writes, end = folded_rw(body, env)
    may_fail = bool(folded_rw.asserts)  # type: ignore[attr-defined]
    restored = frozenset(v for v in writes
                         if end.value(v) is not None and end.value(v)[0] != "u"
                         and end.value(v) == env.value(v))
    return IrqSets(frozenset(reads | (incs - restored) | cond_vars),
                   frozenset(writes - restored), restored, may_fail)


def _body_vars(body: Sequence[Stmt]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The state variables (indices) and the locals (ids) ``body`` mentions."""
    from model.dsl import walk_stmts

    state: dict[int, None] = {}
    local: dict[int, None] = {}
    for st in walk_stmts(body):
        exprs: tuple[Expr, ...] = ()
        if isinstance(st, Assign):
            exprs = (st.var, st.expr)
        elif isinstance(st, (Assert, If)):
            exprs = (st.cond,)
        for e in exprs:
            for x in walk_exprs(e):
                if isinstance(x, Var):
                    if x.local:
                        local[id(x)] = None
                    else:
                        state[x.index] = None
    return tuple(state), tuple(local)


_BODY_VARS: dict[int, tuple[Sequence[Stmt], tuple[tuple[int, ...], tuple[int, ...]]]] = {}


def irq_sets_key(body: Sequence[Stmt], env: ExecState) -> tuple:
    """A memo key for ``irq_sets(body, env, ...)`` (with the condition's variables fixed
    by ``body``'s CPU): the body's identity and what ``env`` knows of the variables and
    locals the body mentions, the only part of ``env`` `folded_rw` reads.  ``body`` must
    stay alive while the key is used (the IRQ bodies are kept by their layout)."""
    entry = _BODY_VARS.get(id(body))
    if entry is None or entry[0] is not body:
        if len(_BODY_VARS) > 4096:  # bodies of layouts built earlier in this process
            _BODY_VARS.clear()
        entry = _BODY_VARS[id(body)] = (body, _body_vars(body))
    state, local = entry[1]
    vals, lvals = env.vals, env.local_vals
    return (id(body), tuple([vals.get(i) for i in state]),
            tuple([lvals.get(i) for i in local]) if local else ())


def preemption_windows(actions: Iterable) -> set[tuple[str, str]]:
    """(step name, window) for every preemption window the build found in these actions
    (`Ctx._preemption_window`), CPU numbers dropped so configurations compare."""
    import re

    return {(a.name.split("@")[0], re.sub(r"cpu\d+", "cpu", w))
            for a in actions for w in a.preempt_windows}


__all__ = ["ExecState", "IrqSets", "body_rw", "entry_state", "expr_vars", "folded_rw",
           "irq_sets", "irq_sets_key", "stmt_rw"]
