"""`Ctx`: what a modelled kernel function writes its statements into.

A step is built by calling modelled kernel functions with a `Ctx` bound to one CPU and
its current task.  Kernel functions call each other as ``k.fpsimd_save()``: the name is
looked up in the variant's function table, so a variant replaces a function everywhere by
giving a new definition under the same name.  Primitive statements (assignments,
conditionals, assertions, nondeterministic inputs) are methods of `Ctx`; everything with
a C name lives in `model.kernel`.

Conditionals read like the C they model::

    with k.If(k.test_thread_flag("TIF_FOREIGN_FPSTATE")):
        ...
    with k.Else():
        ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from model.dsl import (
    BOOL,
    GHOST_BOOL,
    TRUE,
    AddC,
    And,
    Assert,
    Assign,
    Check,
    Const,
    Eq,
    Expr,
    If,
    Input,
    Ite,
    Mark,
    ModelError,
    Not,
    Or,
    Retire,
    Stmt,
    Var,
    all_of,
    any_of,
    conjuncts,
    implies,
    lift,
    overflow_check,
    stmt_exprs,
    strip_marks,
    walk_exprs,
    walk_stmts,
)
from model.interleave import (
    ExecState,
    IrqSets,
    entry_state,
    expr_vars,
    irq_sets,
    irq_sets_key,
)
from model.state import (
    P_GHOST,
    P_LATEST,
    P_UNDEFINED,
    P_ZERO,
    SIGFRAME_SNAPSHOT,
    CpuVars,
    Image,
    Layout,
    TaskVars,
    VcpuVars,
    WindowFacts,
)

if TYPE_CHECKING:
    from model.variant import Variant

THREAD_FLAGS = ("TIF_FOREIGN_FPSTATE", "TIF_SVE", "TIF_KERNEL_FPSTATE")

# `Ctx._last_if` after an If a resumed step was preempted inside (its Else is not built).
_RESUMED_INSIDE = If(Const(BOOL, 1), (), ())


# Replay recorded inlined IRQs (`Ctx._inline_irq`); off: build each one (to compare).
REPLAY_IRQS = True
_ABSENT = ("absent", 0)  # a variable with no entry in `ExecState.vals`


def _renumber(name: str, delta: int) -> str:
    """``what#n`` -> ``what#(n + delta)``: inputs and locals are numbered per step."""
    if not delta:
        return name
    base, n = name.rsplit("#", 1)
    return f"{base}#{int(n) + delta}"


# Build every inlined IRQ and compare it with its replay (tests; slow).
CHECK_IRQ_REPLAY = False
_KNOWN_TRUE = ("c", 1)
_KNOWN_FALSE = ("c", 0)


def _irq_exec_effect(body: tuple[Stmt, ...], env: ExecState,
                     empty_elses: frozenset[int]) -> ExecState:
    """The static state after ``body`` (a recorded IRQ) run from ``env``, as `Ctx`
    tracks it while building: `Ctx.emit` for assignments, `Ctx.If`/`Ctx.Else` for
    conditionals (``empty_elses``: the Ifs whose Else was built but emitted nothing)."""
    for st in body:
        if isinstance(st, Assign):
            env.assign(st.var, st.expr)
        elif isinstance(st, If):
            known = env.eval(st.cond)
            saved = env.copy()
            env.assume(st.cond, True)
            then = _irq_exec_effect(st.then, env, empty_elses)
            if known == _KNOWN_FALSE:
                then = saved.copy()
            if not st.els and id(st) not in empty_elses:
                env = then.copy() if known == _KNOWN_TRUE else then.join(saved)
                continue
            env = saved.copy()
            env.assume(st.cond, False)
            env = _irq_exec_effect(st.els, env, empty_elses)
            if known == _KNOWN_TRUE:
                env = then.copy()
            elif known != _KNOWN_FALSE:
                env = then.join(env)
    return env


def _stmts_text(body: list[Stmt] | tuple[Stmt, ...]) -> str:
    """A statement list as text, locals by name (to compare a replay with a build)."""
    out: list[str] = []
    for st in body:
        if isinstance(st, If):
            out.append(f"if {st.cond!r} {{{_stmts_text(st.then)}}} else "
                       f"{{{_stmts_text(st.els)}}}")
        else:
            out.append(repr(st))
    return "; ".join(out)


class _IrqRecording:
    """One inlined IRQ as first built (`Ctx._inline_irq`): its statements, the inputs and
    locals it made (numbered from ``n0``/``l0``), the functions it entered, whether it
    wrote an input of the ownership checks, and per static entry state (the values known
    of the variables it mentions) the values known at its end."""

    def __init__(self, body: tuple[Stmt, ...], n0: int, l0: int, inputs: tuple[str, ...],
                 locals_: int, empty_elses: dict[int, If]) -> None:
        self.body, self.n0, self.l0, self.inputs, self.locals = body, n0, l0, inputs, locals_
        self.empty_elses = frozenset(id(st) for st in walk_stmts(body)
                                     if isinstance(st, If) and empty_elses.get(id(st)) is st)
        mentioned: dict[int, None] = {}
        functions: dict[str, None] = {}
        clears = False
        for st in walk_stmts(body):
            exprs: tuple[Expr, ...] = ()
            if isinstance(st, Assign):
                exprs = (st.var, st.expr)
                clears = clears or st.var.name.endswith((".current", ".online", ".mutex"))
            elif isinstance(st, (If, Assert)):
                exprs = (st.cond,)
            elif isinstance(st, Mark) and st.enter:
                functions.setdefault(st.function)
            for e in exprs:
                for x in walk_exprs(e):
                    if isinstance(x, Var) and not x.local:
                        mentioned.setdefault(x.index)
        self.mentioned = tuple(mentioned)
        self.functions = tuple(functions)
        self._varying: frozenset[int] | None = None
        self.clears_ownership = clears
        self.ends: dict[tuple, tuple] = {}


    def varying(self) -> frozenset[int]:
        """The ids of the recorded statements a replay must rebuild: those with an input
        or a C local inside (renumbered per replay; a local is one object per build)."""
        if self._varying is None:
            out: set[int] = set()

            def visit(st: Stmt) -> bool:
                if isinstance(st, If):
                    inner = [visit(x) for x in (*st.then, *st.els)]
                    v = any(inner) or _has_local_or_input(st.cond)
                elif isinstance(st, Assign):
                    v = st.var.local or _has_local_or_input(st.expr)
                elif isinstance(st, Assert):
                    v = _has_local_or_input(st.cond)
                else:
                    v = False
                if v:
                    out.add(id(st))
                return v

            for st in self.body:
                visit(st)
            self._varying = frozenset(out)
        return self._varying


def _has_local_or_input(e: Expr) -> bool:
    return any(isinstance(x, Input) or (isinstance(x, Var) and x.local)
               for x in walk_exprs(e))


class MissingFunction(AttributeError):
    """A step called a kernel function its variant's table does not have (a 2018 variant
    asked for code only today's kernels have, or a user's variant left one out).
    `model.steps` fills in ``step`` and ``events`` (the configuration's events the step
    exists for) so that the error can name what asked for the function."""

    def __init__(self, variant: str, function: str) -> None:
        super().__init__(f"variant {variant!r} has no function {function!r}")
        self.variant = variant
        self.function = function
        self.step: str | None = None
        self.events: tuple[str, ...] = ()


class Ctx:
    """Statement builder for one step, bound to a CPU and to the task current on it."""

    def __init__(self, layout: Layout, variant: Variant, cpu: int, current: int, *,
                 splits: dict[int, str] | None = None, resume: int | None = None,
                 carried: dict[int, tuple[str, ...]] | None = None) -> None:
        self.S = layout
        self.config = layout.config
        self.variant = variant
        self.cpu = cpu
        self.current = current
        self._blocks: list[list[Stmt]] = [[]]
        self._last_if: If | None = None
        self.inputs: list[str] = []
        self.functions: list[str] = []
        self._locals = 0
        # Build-time knowledge: statements being emitted run inside __do_softirq().
        self.serving_softirq = 0
        # Derived interleaving (model.interleave): off until `begin_step`.
        self._points_off = 1
        self._exec = ExecState()
        self._prefix = True  # no statement conflicting with an IRQ emitted yet on this path
        self._guard_reads: set[Var] = set()
        self._if_states: tuple = ()
        self._stack: list[str] = []  # the modelled functions being built: the call stack
        self.irq_points: list[str] = []  # where IRQ points were emitted (C function: stmt)
        self.preempt_windows: list[str] = []  # see model.interleave, "Preemption"
        self._p_seen = False  # a statement touching shared state was emitted
        # The first preemptible point since then: (where, point number, whether the
        # task's program point is known there).
        self._p_open: tuple[str, int, bool, WindowFacts] | None = None
        # Preemption points (model.interleave, "Preemption"): every statement the builder
        # sees with interleaving on gets a point number, the same in every build of the
        # step.  `split_points` (found by building): point number -> where, the points a
        # context switch must be explored at.  ``splits`` (the second build): point number
        # -> the continuation program point a task preempted there waits at.  ``resume``:
        # build only the part of the step after that point (the task resumes there).
        self._point = 0
        self._inlining = 0  # building an IRQ inlined at an IRQ point
        self._lets_here = 0  # C locals made since the last point
        self.split_points: dict[int, str] = {}
        # split point -> what constant propagation knows there (`WindowFacts`)
        self.split_facts: dict[int, WindowFacts] = {}
        self._splits = dict(splits or {})
        self._split_nodes: dict[int, str] = {}  # id(If) of an emitted split -> its pc
        self._resume = resume
        self._empty_elses: dict[int, If] = {}  # id -> If whose Else emitted nothing
        # Per split point: the C locals its resume step reads (kept in state meanwhile,
        # `Layout.carried_vars`); the locals built so far, and the blocks they live in.
        self._carried = dict(carried or {})
        self._local_vars: dict[str, tuple[Var, list[Stmt]]] = {}
        self._local_keys: dict[int, str] = {}  # id(local Var) -> its key in _local_vars
        self._live = resume is None  # statements are kept (not before the resume point)
        self._dead = 0  # inside the other branch of an If the resumed path went through
        self.resumed = False  # the resume point was reached
        # Data ownership checks (model.ownership): on from `begin_step`.  The owners
        # already checked on the current path since the last write of an ownership
        # input (a `current`, `online` or vcpu->mutex), per open block.
        self._own_on = False
        self._atomic = 0  # inside `atomic()`: user/guest code or a ghost monitor
        self._own_checked: list[set[tuple[str, int]]] = [set()]

    # ------------------------------------------------------------------ interleaving
    def _exec_vars(self) -> list[Var]:
        """This CPU's execution-state variables, tracked statically (model.interleave)."""
        c = self.this_cpu
        return [c.irqs_disabled, c.preempt_count, c.softirq_count, c.hardirq]

    def begin_step(self, guard: Expr, resume_guard: Expr | None = None) -> None:
        """Start building a step with this guard: derive interleaving points from now on.

        The static state starts with every variable at its entry value, and with the
        constants the guard's conjuncts fix (e.g. a step enabled only with IRQs masked).
        A resumed step (``resume``) is built from the whole step's ``guard``, so that its
        part before the resume point is exactly the full step's (same points, same
        locals), and starts over from ``resume_guard`` at the resume point."""
        def fixed_by(g: Expr) -> dict[int, int]:
            return {c.a.index: c.b.value for c in conjuncts(g)
                    if isinstance(c, Eq) and isinstance(c.a, Var) and isinstance(c.b, Const)
                    and not c.a.local}

        fixed = fixed_by(guard)
        self._resume_guard = resume_guard if resume_guard is not None else guard
        self._entry_fixed = fixed_by(self._resume_guard)
        self._exec = entry_state(fixed)
        self._own_on = True
        self._own_checked = [set()]
        self._guard_reads = expr_vars(guard)
        self._prefix = True
        self._points_off = 0

    def _irq_body(self) -> tuple[Stmt, ...]:
        """The statements of an IRQ (the variant's handle_irq(), softirq included) on this
        CPU with the current task current, built once per (variant, cpu, task)."""
        cache = self.S.__dict__.setdefault("_irq_body_cache", {})
        key = (id(self.variant), self.cpu, self.current)
        if key not in cache:
            scratch = Ctx(self.S, self.variant, self.cpu, self.current)
            scratch.handle_irq()
            cache[key] = strip_marks(scratch.body())
        return cache[key]

    def irq_sets(self) -> IrqSets:
        """What an IRQ taken here may read and change, specialised to what is known here
        (model.interleave.irq_sets).  Memoised per layout: the result depends only on the
        IRQ body and on what is known of the variables it mentions (`irq_sets_key`), and
        a step asks at every statement while most of what it knows does not change."""
        env = self._exec.copy()
        cond = self._irq_condition()
        env.assume(cond)
        body = self._irq_body()
        cache = self.S.__dict__.setdefault("_irq_sets_cache", {})
        key = irq_sets_key(body, env)
        sets = cache.get(key)
        if sets is None:
            sets = cache[key] = irq_sets(body, env, expr_vars(cond))
        return sets

    def _irq_condition(self) -> Expr:
        from model.steps import softirq_can_run  # model.steps imports this module

        # One expression per CPU (asked before every statement; expressions are immutable).
        cache = self.S.__dict__.setdefault("_irq_condition_cache", {})
        cond = cache.get(self.cpu)
        if cond is None:
            cond = cache[self.cpu] = softirq_can_run(self.S, self.cpu)
        return cond

    def irq_possible(self) -> bool:
        """False when the static execution state shows no IRQ with its softirq can run
        here (IRQs masked, bottom halves disabled, hardirq or softirq context)."""
        c = self.this_cpu
        return not (self.serving_softirq or self._exec.is_set(c.irqs_disabled)
                    or self._exec.is_set(c.softirq_count) or self._exec.is_set(c.hardirq)
                    or self._exec.known_false(self._irq_condition()))

    def _interleave(self, reads: set[Var], writes: set[Var], what: str,
                    exprs: tuple[Expr, ...] = ()) -> None:
        """Called before each statement (reading ``exprs``, or ``reads`` if not given):
        emit the data-ownership checks of what it touches and an IRQ point if the
        statement conflicts with an IRQ and one may be taken here (see model.interleave)."""
        # Before the resume point of a resume step nothing is kept (`_go_live` clears the
        # statements and the checks made): no ownership checks there.
        own = self._own_on and not self._atomic and self._live
        if not self._inlining:
            # Point numbers count the step's own statements (not an inlined IRQ's), in
            # dead branches too, so that every build of the step numbers them alike.
            self._point += 1
            self._lets_here = 0
            if not self._live and self._point == self._resume:
                self._go_live()
        if self._points_off:
            if own:
                self._check_ownership(exprs if exprs else tuple(reads), writes)
            return
        # First the preemption point (a split, or where a resumed step starts), so that
        # the statement's own checks and IRQ point come after it.
        self._preemption_window(reads, writes, what)
        if own:
            self._check_ownership(exprs if exprs else tuple(reads), writes)
        possible = self.irq_possible()
        if not possible and not self._prefix:
            return
        sets = self.irq_sets()
        if sets.identity or not sets.conflicts(reads, writes):
            return
        if self._prefix:
            self._prefix = False
            if not (self._guard_reads & sets.writes):
                return  # equivalent to an IRQ before the step
        if not possible:
            return
        where = self._stack[-1] if self._stack else "step"
        self.irq_points.append(f"{where}: before {what}")
        cond = self._irq_condition() & self.nondet(f"IRQ in {where} before {what}")
        before = self._exec.copy()
        self._points_off += 1
        self._inlining += 1
        try:
            with self.If(cond):
                self._inline_irq()
        finally:
            self._points_off -= 1
            self._inlining -= 1
        # What the IRQ restores keeps its value (sets.restored, established above);
        # only its net writes become "either".
        after = self._exec
        self._exec = before
        for v in sets.writes:
            self._exec.vals[v.index] = after.vals.get(v.index, ("u", 0))

    def _inline_irq(self) -> None:
        """``handle_irq()`` at an IRQ point (inside its ``if``).  A step has many IRQ
        points and a resume step rebuilds the part of its step before the resume point,
        so the same IRQ is built thousands of times per instance.  What it emits does not
        depend on the static state (`Ctx.If` emits both branches whatever is known), only
        on this builder's CPU, task and variant and on the data-ownership checks already
        made on the path (`_own_checked`): the first build is recorded (`_IrqRecording`)
        and later ones replay it, with its inputs and C locals renumbered as a build at
        this point would number them.  The static state it leaves (`ExecState.vals`)
        depends only on what is known of the variables it mentions: recorded per such
        entry state, built for real when not seen yet.  The replay is exact: the same
        statements, inputs, locals, functions and static state as building it
        (tests/model/test_build_equivalence.py compares with ``REPLAY_IRQS`` off)."""
        own = (frozenset().union(*self._own_checked)
               if self._own_on and not self._atomic else None)
        if not self._live:
            own = "not kept"  # see `_interleave`: built without ownership checks
        skey = (id(self.variant), self.cpu, self.current, own, self.serving_softirq)
        cache = self.S.__dict__.setdefault("_irq_inline_cache", {})
        rec: _IrqRecording | None = cache.get(skey) if REPLAY_IRQS else None
        vals = self._exec.vals
        if rec is not None and not CHECK_IRQ_REPLAY:
            ekey = tuple([vals.get(i, _ABSENT) for i in rec.mentioned])
            end = rec.ends.get(ekey)
            if end is None:
                env = _irq_exec_effect(rec.body, self._exec.copy(), rec.empty_elses)
                end = rec.ends[ekey] = tuple([env.vals.get(i, _ABSENT)
                                              for i in rec.mentioned])
            self._replay_irq(rec, end)
            return
        block = self._blocks[-1]
        start, n0, l0 = len(block), len(self.inputs), self._locals
        entry = self._exec.copy()
        functions = list(self.functions)
        own_checked = [set(done) for done in self._own_checked]
        self.handle_irq()
        if not REPLAY_IRQS:
            return
        built = _IrqRecording(tuple(block[start:]), n0, l0, tuple(self.inputs[n0:]),
                              self._locals - l0, self._empty_elses)
        env = _irq_exec_effect(built.body, entry.copy(), built.empty_elses)
        end = tuple([env.vals.get(i, _ABSENT) for i in built.mentioned])
        if end != tuple([self._exec.vals.get(i, _ABSENT) for i in built.mentioned]):
            raise ModelError("IRQ replay: the static state after an inlined IRQ differs "
                             "from the build's (model.ctx._irq_exec_effect)")
        if rec is not None:  # CHECK_IRQ_REPLAY: compare a replay with this build
            replayer = Ctx(self.S, self.variant, self.cpu, self.current)
            replayer._blocks = [[]]
            replayer.inputs = self.inputs[:n0]
            replayer._locals = l0
            replayer.functions = functions
            replayer._own_checked = own_checked
            replayer._exec = entry
            replayer._live = self._live
            replayer._replay_irq(rec, tuple([
                _irq_exec_effect(rec.body, entry.copy(), rec.empty_elses).vals.get(
                    i, _ABSENT) for i in rec.mentioned]))
            # (before a resume point the replay keeps no statements: `_replay_irq`)
            if ((self._live and _stmts_text(replayer._blocks[0]) != _stmts_text(block[start:]))
                    or replayer.inputs != self.inputs or replayer._locals != self._locals
                    or replayer.functions != self.functions
                    or replayer._own_checked != self._own_checked
                    or any(replayer._exec.vals.get(i, _ABSENT) != self._exec.vals.get(
                        i, _ABSENT) for i in rec.mentioned)):
                raise ModelError("IRQ replay differs from building the IRQ "
                                 f"(cpu{self.cpu}, "
                                 f"{self._stack[-1] if self._stack else 'step'})")
            return
        cache[skey] = built
        built.ends[tuple([entry.vals.get(i, _ABSENT) for i in built.mentioned])] = end

    def _replay_irq(self, rec: _IrqRecording, end: tuple) -> None:
        """Emit a recorded inlined IRQ (`_inline_irq`) here, as building it would."""
        dn, dl = len(self.inputs) - rec.n0, self._locals - rec.l0
        names = {}
        for name in rec.inputs:
            new = _renumber(name, dn)
            names[name] = new
            self.inputs.append(new)
        self._locals += rec.locals
        for fn in rec.functions:
            if fn not in self.functions:
                self.functions.append(fn)
        memo: dict[int, Expr] = {}

        def expr(e: Expr) -> Expr:
            got = memo.get(id(e))
            if got is not None:
                return got
            if isinstance(e, Var):
                new = Var(_renumber(e.name, dl), e.dom, e.index, local=True) if e.local else e
            elif isinstance(e, Input):
                new = Input(names[e.name], e.dom)
            elif isinstance(e, Const):
                new = e
            elif isinstance(e, Not):
                a = expr(e.a)
                new = e if a is e.a else Not(a, e.dom)
            elif isinstance(e, (And, Or)):
                args = tuple([expr(x) for x in e.args])
                same = all(x is y for x, y in zip(args, e.args, strict=True))
                new = e if same else type(e)(args, e.dom)
            elif isinstance(e, Eq):
                a, b = expr(e.a), expr(e.b)
                new = e if a is e.a and b is e.b else Eq(a, b, e.dom)
            elif isinstance(e, Ite):
                c, a, b = expr(e.c), expr(e.a), expr(e.b)
                new = e if c is e.c and a is e.a and b is e.b else Ite(c, a, b)
            elif isinstance(e, AddC):
                a = expr(e.a)
                new = e if a is e.a else AddC(a, e.k)
            elif isinstance(e, Retire):
                a = expr(e.a)
                new = e if a is e.a else Retire(a, e.latest, e.stale)
            else:
                raise ModelError(f"cannot replay an IRQ with expression {e!r}")
            memo[id(e)] = new
            return new

        varying = rec.varying()

        def stmts(body: tuple[Stmt, ...]) -> list[Stmt]:
            out: list[Stmt] = []
            for st in body:
                if id(st) not in varying:
                    # No input and no local inside: the recorded statement itself
                    # (statements and expressions are immutable; engines key only
                    # locals by identity).
                    out.append(st)
                elif isinstance(st, Assign):
                    out.append(Assign(expr(st.var), expr(st.expr), st.check))  # type: ignore[arg-type]
                elif isinstance(st, If):
                    out.append(If(expr(st.cond), tuple(stmts(st.then)), tuple(stmts(st.els))))
                elif isinstance(st, Assert):
                    out.append(Assert(expr(st.cond), st.check))
                elif isinstance(st, Mark):
                    out.append(Mark(st.function, st.enter))
                else:
                    raise ModelError(f"cannot replay an IRQ with statement {st!r}")
            return out

        if self._live:  # before a resume point nothing is kept (`_go_live`)
            self._blocks[-1].extend(stmts(rec.body))
        vals = self._exec.vals
        for i, v in zip(rec.mentioned, end, strict=True):
            if v is _ABSENT:
                vals.pop(i, None)
            else:
                vals[i] = v
        if rec.clears_ownership:
            for done in self._own_checked:
                done.clear()
        self._last_if = None

    def _check_ownership(self, reads: tuple[Expr | Var, ...], writes: set[Var]) -> None:
        """Before a statement reading ``reads`` and writing ``writes``: assert that no
        other CPU is running code that owns what it touches (model.ownership; property
        data_ownership).  A variable reached through a pointer is checked only where the
        pointer points to it (`model.ownership.access_conditions`)."""
        from model.ownership import access_conditions, owned_here, owner_of, site_text

        acc: dict[Var, list[Expr]] = {}
        for e in reads:
            access_conditions(e, acc)
        for v in writes:
            acc.setdefault(v, []).append(TRUE)
        # owner_of and owned_here are pure functions of the layout: memoised per layout
        # (asked for every variable of every statement of every build).
        owners = self.S.__dict__.setdefault("_owner_of_cache", {})
        here = self.S.__dict__.setdefault("_owned_here_cache", {})
        by_owner: dict[tuple[str, int], list[Expr]] = {}
        for var, conds in sorted(acc.items(), key=lambda kv: kv[0].name):
            owner = owners.get(var, owners)
            if owner is owners:
                owner = owners[var] = owner_of(self.S, var)
            if owner is not None:
                by_owner.setdefault(owner, []).extend(conds)
        for owner, conds in by_owner.items():
            if any(owner in done for done in self._own_checked):
                continue
            hkey = (self.cpu, self.current, owner)
            cond = here.get(hkey, here)
            if cond is here:
                cond = here[hkey] = owned_here(self.S, self.cpu, self.current, owner)
            if cond is None:
                continue
            always = any(c is TRUE for c in conds)
            fn = self._stack[-1] if self._stack else "step"
            text = site_text(self.S, owner)
            ok = cond if always else implies(any_of(conds), cond)
            self.emit(Assert(lift(ok, BOOL),
                             Check(f"{fn}: ownership {text}", "ownership", fn, text)))
            if always:
                self._own_checked[-1].add(owner)

    def _ownership_inputs_written(self, var: Var) -> None:
        """A write of something an ownership predicate reads: checks must be redone."""
        if var.name.endswith((".current", ".online", ".mutex")):
            for done in self._own_checked:
                done.clear()

    def _preemption_window(self, reads: set[Var], writes: set[Var], what: str) -> None:
        """Called before each statement: number the point, and find where this step may be
        preempted between two statements that touch state other than this CPU's execution
        state and the current task's program point (which a context switch away and back
        leaves as it was).  Such a point becomes a split point (model.steps.split_plan):
        the second build emits the preemption there (`_emit_split`), and the resumed
        remainder of the step is a step of its own."""
        point = self._point
        if not self._live:
            return
        c = self.this_cpu
        # rq->lock too: free at every preemptible point, and free again when the task
        # resumes (__schedule() drops it before the task runs), on whichever CPU.
        private = {c.irqs_disabled.index, c.preempt_count.index, c.softirq_count.index,
                   c.hardirq.index, c.rq_lock.index}
        if isinstance(self.cur.pc, Var):
            private.add(self.cur.pc.index)
        for v in self.S.vcpus:
            # vcpu->mutex: taking it is a right mover, dropping it a left mover (Lipton),
            # so neither needs a window around it; the fields only the holder's own
            # KVM_RUN code touches (no context switch does) are the holder's.
            private |= {v.mutex.index, v.pid.index, v.host_thread_info.index,
                        v.host_fpsimd_state.index}
        if writes and all(v.dom.kind == "ghost" for v in writes):
            # A ghost update belongs to the event before it (a monitor's bookkeeping, not
            # kernel code): never a point of its own, so no split separates them.
            return
        where = f"{self._stack[-1] if self._stack else 'step'}: {what}"
        shared = any(v.index not in private and v.dom.kind != "ghost" for v in reads | writes)
        # kernel/softirq.c __local_bh_enable_ip(): preempt_count_sub(cnt - 1) keeps one
        # preemption level across do_softirq(), which the model's counters do not show.
        here = self.preempt_possible() and "local_bh_enable" not in self._stack
        if here and point in self._splits and point != self._resume and not self._dead:
            self._emit_split(point, what)
        if shared:
            if self._p_seen and (here or self._p_open):
                opened, at, pc_known, facts = self._p_open or (
                    where, point, self._pc_known(), self._window_facts())
                self.preempt_windows.append(f"preemptible from before {opened} up to {where}")
                if pc_known:
                    self.split_points.setdefault(at, opened)
                    self.split_facts.setdefault(at, facts)
                # else the task has no program point to wait at and resume from: a kernel
                # thread (the model's idle tasks, which also stand for other kernel
                # threads) has none, and a step enabled at several program points (e.g.
                # efi_oops, from any kernel code) does not know which; such windows stay
                # recorded but are not split (a limitation, ARCHITECTURE.md).
            self._p_seen, self._p_open = True, None
        elif here and self._p_seen and self._p_open is None:
            self._p_open = (where, point, self._pc_known(), self._window_facts())

    def _window_facts(self) -> WindowFacts:
        """What the build knows here about the state a preempted task leaves behind
        (`WindowFacts`): the vcpu mutexes the current task holds (constant propagation),
        and the FP value slots this step has stored a new generation in
        (`ExecState.stored`)."""
        held = frozenset(v.index for v in self.S.vcpus if self.cur.name in v.mutex.dom.labels
                         and self._exec.value(v.mutex) == ("c", v.mutex.dom.index(self.cur.name)))
        tokens = frozenset((self.S.vars[i].name, tok) for i, tok in self._exec.stored.items())
        return WindowFacts(held, tokens)

    def _pc_known(self) -> bool:
        """The current task's program point is a variable with a value known here."""
        if not isinstance(self.cur.pc, Var):
            return False
        pc = self._exec.value(self.cur.pc)
        return pc is not None and pc[0] == "c"

    def _emit_split(self, point: int, what: str) -> None:
        """The task is preempted here (CONFIG_PREEMPT: an IRQ set TIF_NEED_RESCHED and
        the code is preemptible, so preempt_schedule()/el1_irq's preempt_schedule_irq()
        switches away): it stays at the continuation point ``pc`` and the rest of this
        step does not run now (`_guard_rest_after_splits`); it runs as the resume step
        when the scheduler runs the task again, on any CPU."""
        from model.steps import may_sleep  # model.steps imports this module

        pc = self._splits[point]
        fn = self._stack[-1] if self._stack else "step"
        cond = may_sleep(self.S, self.cpu) & self.nondet(f"preempted in {fn} before {what}")
        keep: list[Stmt] = []
        for name in self._carried.get(point, ()):
            var, block = self._local_vars[name]
            if not any(b is block for b in self._blocks):
                raise ModelError(f"{self.variant.name}: C local {name} is carried across the "
                                 f"preemption at {pc} but not set on the path to it")
            keep.append(Assign(self.carried_var(point, name), var))
        node = If(lift(cond, BOOL),
                  (*keep, Assign(self.cur.pc, lift(pc, self.cur.pc.dom))), ())
        self._split_nodes[id(node)] = pc
        self._blocks[-1].append(node)
        self._last_if = None

    def _go_live(self) -> None:
        """The resume point: from here on the statements are the resume step's.  The
        task resumes as it was preempted: IRQs unmasked and every count zero (the split's
        condition), on whichever CPU this step is built for; the functions being built
        are the call stack it resumes in."""
        self._live = True
        self.resumed = True
        pc = self._exec.value(self.cur.pc) if isinstance(self.cur.pc, Var) else None
        self._exec = entry_state(self._entry_fixed)
        self._prefix = True
        self._guard_reads = expr_vars(self._resume_guard)
        self._p_seen, self._p_open = False, None
        self._own_checked = [set() for _ in self._own_checked]
        for block in self._blocks:  # what was built so far ran before the preemption
            block.clear()
        for name in self._stack:
            self._blocks[-1].append(Mark(name))
        if isinstance(self.cur.pc, Var):
            # Back at the program point the task was at when it was preempted.
            if pc is None or pc[0] != "c":
                raise ModelError(f"{self.variant.name}: the program point at a preemption "
                                 f"point of {self._stack[0] if self._stack else 'a step'} "
                                 "is not known when the step is built")
            self._blocks[-1].append(Assign(self.cur.pc, Const(self.cur.pc.dom, pc[1])))

    def preempt_possible(self) -> bool:
        """False when the static state shows this point cannot be preempted.  Inside a
        step only CONFIG_PREEMPT preempts (without it the points where a task schedules
        are program points between steps: model.steps.VOLUNTARY_SCHED_POINTS)."""
        from model.steps import preemptible  # model.steps imports this module

        c = self.this_cpu
        if self.config.preempt != "PREEMPT":
            return False
        return self.irq_possible() and not (
            self._exec.is_set(c.preempt_count)
            or self._exec.known_false(preemptible(self.S, self.cpu, self.current)))

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Statements that are one event, not kernel code (a user task or a guest writing
        its registers, a ghost monitor): no interleaving points inside."""
        self._points_off += 1
        self._atomic += 1
        try:
            yield
        finally:
            self._points_off -= 1
            self._atomic -= 1

    # ------------------------------------------------------------------ kernel functions
    def __getattr__(self, name: str) -> Callable[..., Any]:
        fn = self.variant.functions.get(name)
        if fn is None:
            raise MissingFunction(self.variant.name, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            if name not in self.functions:
                self.functions.append(name)
            # Entry and return marks: the interpreter rebuilds the call stack from them.
            self.emit(Mark(name))
            self._stack.append(name)
            try:
                return fn(self, *args, **kwargs)
            finally:
                self._stack.pop()
                # Entry and return marks: the interpreter rebuilds the call stack.
                self.emit(Mark(name, enter=False))

        return call

    # ------------------------------------------------------------------ statements
    def emit(self, st: Stmt) -> None:
        if isinstance(st, Assign):
            self._exec.assign(st.var, st.expr)
            self._ownership_inputs_written(st.var)
        self._blocks[-1].append(st)
        self._last_if = None

    def set(self, var: Var | Expr, value: Expr | str | int | bool) -> None:
        if not isinstance(var, Var):
            raise ModelError(f"assignment to a constant ({var!r}) in this configuration")
        expr = lift(value, var.dom)
        self._interleave(expr_vars(expr), {var}, f"the write of {var.name}", (expr,))
        check = None
        if var.dom.kind == "int" and not var.local and any(
                isinstance(e, AddC) for e in walk_exprs(expr)):
            # Counter arithmetic: leaving the domain is a finding (kind overflow).
            check = overflow_check(var, expr, self._stack[-1] if self._stack else "step")
        self.emit(Assign(var, expr, check))

    def let(self, name: str, value: Expr) -> Var:
        """A step-local temporary (a C local variable), evaluated now."""
        self._interleave(expr_vars(value), set(), f"the read into {name}", (value,))
        self._locals += 1
        tmp = Var(f"{name}#{self._locals}", value.dom, -1, local=True)
        self.emit(Assign(tmp, value))
        if not self._inlining:
            # Named by where it is made, which every build of the step agrees on (the
            # running count does not: builds inline different IRQ points).
            self._lets_here += 1
            key = f"{name}@{self._point}.{self._lets_here}"
            self._local_vars[key] = (tmp, self._blocks[-1])
            self._local_keys[id(tmp)] = key
        return tmp

    def carried_var(self, point: int, local: str) -> Var:
        """The state variable that keeps C local ``local`` of the current task while it
        waits, preempted at split ``point`` (`Layout.carried`)."""
        return self.S.carried_vars[f"{self.cur.name}.{self._splits[point]}.{local}"]

    @contextmanager
    def If(self, cond: Expr) -> Iterator[None]:
        cond = lift(cond, BOOL)
        self._interleave(expr_vars(cond), set(), "a test", (cond,))
        known = self._exec.eval(cond)
        dead = known == ("c", 0)  # a branch never taken: no points, no static effect
        saved = (self._exec.copy(), self._prefix)
        psaved = (self._p_seen, self._p_open)
        live = self._live
        self._exec.assume(cond, True)
        self._blocks.append([])
        self._own_checked.append(set())
        self._points_off += dead
        try:
            yield
        finally:
            body = tuple(self._blocks.pop())
            self._own_checked.pop()
            self._points_off -= dead
        if self._live and not live:
            # A resumed step: the task was preempted inside this branch, so the branch
            # was taken; its remainder runs unconditionally and the Else is not built.
            self._blocks[-1].extend(body)
            self._last_if = _RESUMED_INSIDE
            return
        node = If(cond, body, ())
        then_state = (self._exec, self._prefix)
        if dead:
            then_state = (saved[0].copy(), saved[1])
        if known == ("c", 1):
            self._exec, self._prefix = then_state[0].copy(), then_state[1]
        else:
            self._exec = then_state[0].join(saved[0])
            self._prefix = then_state[1] and saved[1]
        self.emit(node)
        self._last_if = node
        self._if_states = (saved, then_state, known, psaved, (self._p_seen, self._p_open))

    @contextmanager
    def Else(self) -> Iterator[None]:
        node = self._last_if
        if node is _RESUMED_INSIDE:
            yield from self._dead_else()
            return
        if node is None or node.els:
            raise ModelError("Else() must follow an If() block directly")
        saved, then_state, known, psaved, pthen = self._if_states
        live = self._live
        dead = known == ("c", 1)
        self._exec, self._prefix = saved[0].copy(), saved[1]
        self._p_seen, self._p_open = psaved
        self._exec.assume(node.cond, False)
        self._blocks.append([])
        self._own_checked.append(set())
        self._points_off += dead
        try:
            yield
        finally:
            body = tuple(self._blocks.pop())
            self._own_checked.pop()
            self._points_off -= dead
        block = self._blocks[-1]
        if self._live and not live:  # resumed inside the Else: see If()
            block.extend(body)
            self._last_if = None
            return
        new = If(node.cond, node.then, body)
        block[block.index(node)] = new
        if not body:
            # An Else that emitted nothing still assumed the condition false: recorded so
            # that `_irq_exec_effect` follows the static state of a recorded IRQ exactly.
            self._empty_elses[id(new)] = new
        # Preemption windows: seen on either path; a window left open on either path.
        self._p_seen = self._p_seen or pthen[0]
        self._p_open = self._p_open or pthen[1]
        if dead:
            self._exec, self._prefix = then_state[0].copy(), then_state[1]
        elif known == ("c", 0):
            pass  # only the else branch runs
        else:
            self._exec = then_state[0].join(self._exec)
            self._prefix = then_state[1] and self._prefix
        self._last_if = None

    def resumed_locals(self) -> list[Var]:
        """The C locals this resumed step reads before setting them: the preempted part
        computed them (`SplitPlan` keeps them in state across the preemption)."""
        assigned: set[Var] = set()
        missing: dict[Var, None] = {}
        # An expression object seen before needs no second look: its locals were then
        # either missing (kept) or assigned (and stay assigned).
        seen: set[int] = set()
        for st in walk_stmts(self._blocks[0]):
            for e in stmt_exprs(st):
                for x in walk_exprs(e, seen):
                    if isinstance(x, Var) and x.local and x not in assigned:
                        missing.setdefault(x)
            if isinstance(st, Assign) and st.var.local:
                assigned.add(st.var)
        return list(missing)

    def local_key(self, var: Var) -> str:
        """The build-independent name of a C local (`let`); an inlined IRQ's locals have
        none (an IRQ runs to completion, so none is ever live across a preemption)."""
        key = self._local_keys.get(id(var))
        if key is None:
            raise ModelError(f"{self.variant.name}: local {var.name} has no stable name")
        return key

    def restore_carried(self, point: int, carried: tuple[str, ...]) -> None:
        """Start of a resumed step: its C locals come back from where the split kept
        them, which is then cleared (the value means nothing once the task resumed)."""
        head: list[Stmt] = []
        for name in carried:
            var = self._local_vars[name][0]
            slot = self.carried_var(point, name)
            head += [Assign(var, slot), Assign(slot, Const(slot.dom, 0))]
        self._blocks[0][:0] = head

    def _dead_else(self) -> Iterator[None]:
        """The Else of an If a resumed step was preempted inside: the path did not go
        there.  Its code is still run (so point numbers stay those of the full build) but
        nothing of it is kept, and the static state is the resumed path's."""
        state = (self._exec.copy(), self._prefix, self._p_seen, self._p_open)
        self._blocks.append([])
        self._own_checked.append(set())
        self._points_off += 1
        self._dead += 1
        try:
            yield
        finally:
            self._blocks.pop()
            self._own_checked.pop()
            self._points_off -= 1
            self._dead -= 1
        self._exec, self._prefix, self._p_seen, self._p_open = state
        self._last_if = None

    def check(self, ok: Expr, kind: str, function: str, text: str) -> None:
        """A kernel assertion; ``ok`` must hold (WARN_ON(x) is check(~x, ...)).

        ``lockdep`` assertions exist only with CONFIG_PROVE_LOCKING (include/linux/lockdep.h
        defines lockdep_assert_irqs_enabled/disabled as empty otherwise)."""
        if kind not in ("WARN", "BUG", "lockdep"):
            raise ModelError(f"unknown assertion kind {kind!r} (locking rules: Ctx.rule)")
        if kind == "lockdep" and not self.config.prove_locking:
            return
        cid = f"{function}: {kind} {text}"
        self._interleave(expr_vars(lift(ok, BOOL)), set(), f"the check {text}",
                         (lift(ok, BOOL),))
        self.emit(Assert(lift(ok, BOOL), Check(cid, kind, function, text)))

    def rule(self, ok: Expr, rule: str, function: str, text: str) -> None:
        """A kernel locking rule that must hold here (property locking_rules), on every
        kernel configuration: ``rule`` is a name in properties.locking.RULES, which says
        which configurations print a splat when it is broken and what happens otherwise."""
        cid = f"{function}: locking {rule}: {text}"
        self._interleave(expr_vars(lift(ok, BOOL)), set(), f"the rule {rule}",
                         (lift(ok, BOOL),))
        self.emit(Assert(lift(ok, BOOL), Check(cid, "locking", function, text, rule)))

    def nondet(self, what: str) -> Expr:
        """A boolean chosen by the environment when the step fires (e.g. a pending softirq)."""
        name = f"{what}#{len(self.inputs) + 1}"
        self.inputs.append(name)
        return Input(name)

    def goto(self, pc: str) -> None:
        """Move current to another program point (see model.state.PCS)."""
        self.set(self.cur.pc, pc)

    def body(self) -> tuple[Stmt, ...]:
        if len(self._blocks) != 1:
            raise ModelError("unbalanced If/Else blocks")
        if not self._split_nodes:
            return tuple(self._blocks[0])
        return tuple(self._guard_rest_after_splits(self._blocks[0])[0])

    def _guard_rest_after_splits(self, stmts: list[Stmt] | tuple[Stmt, ...]
                                 ) -> tuple[list[Stmt], set[str]]:
        """Everything a step does after a split (`_emit_split`), on the path where the
        task was preempted there, waits for the resume step: wrap the rest of each
        statement list after a split in ``if (pc not at the continuation)``.  Returns the
        new list and the continuation points split inside it."""
        out: list[Stmt] = []
        for i, st in enumerate(stmts):
            labels: set[str] = set()
            if isinstance(st, If):
                if id(st) in self._split_nodes:
                    labels = {self._split_nodes[id(st)]}
                else:
                    then, l1 = self._guard_rest_after_splits(st.then)
                    els, l2 = self._guard_rest_after_splits(st.els)
                    labels = l1 | l2
                    if labels:
                        st = If(st.cond, tuple(then), tuple(els))
            out.append(st)
            if labels:
                rest, more = self._guard_rest_after_splits(stmts[i + 1:])
                if rest:
                    pc = self.cur.pc
                    out.append(If(all_of(pc.ne(x) for x in sorted(labels)), tuple(rest), ()))
                return out, labels | more
        return out, set()

    # ------------------------------------------------------------------ accessors
    @property
    def this_cpu(self) -> CpuVars:
        return self.S.cpu[self.cpu]

    @property
    def cur(self) -> TaskVars:
        return self.S.tasks[self.current]

    def task(self, t: int) -> TaskVars:
        return self.S.tasks[t]

    def vcpu(self, v: int) -> VcpuVars:
        return self.S.vcpus[v]

    def const(self, var: Var | Expr, label: str | int | bool) -> Expr:
        return lift(label, var.dom)

    @property
    def true(self) -> Expr:
        return Const(BOOL, 1)

    @property
    def false(self) -> Expr:
        return Const(BOOL, 0)

    # ------------------------------------------------------------------ thread flags
    def _flag(self, t: TaskVars, flag: str) -> Var | Expr:
        if flag == "TIF_FOREIGN_FPSTATE":
            return t.tif_foreign
        if flag == "TIF_SVE":
            return t.tif_sve
        if flag == "TIF_KERNEL_FPSTATE":  # v6.8+ (feature kernel_fpstate), else constant 0
            return t.tif_kernel_fpstate
        if flag == "TIF_SME":  # Config.sme, else constant 0
            return t.tif_sme
        raise ModelError(f"unknown thread flag {flag}")

    def test_thread_flag(self, flag: str) -> Expr:
        return lift(self._flag(self.cur, flag), BOOL)

    def test_tsk_thread_flag(self, t: int, flag: str) -> Expr:
        return lift(self._flag(self.task(t), flag), BOOL)

    def update_tsk_thread_flag(self, t: int, flag: str, value: Expr | bool) -> None:
        var = self._flag(self.task(t), flag)
        if isinstance(var, Var):
            self.set(var, value)
        # A flag that is constant in this configuration (TIF_SVE without SVE, or a
        # kernel thread's unused flag) stays constant: writing false to it is a no-op.

    def set_thread_flag(self, flag: str) -> None:
        self.update_tsk_thread_flag(self.current, flag, True)

    def clear_thread_flag(self, flag: str) -> None:
        self.update_tsk_thread_flag(self.current, flag, False)

    def update_thread_flag(self, flag: str, value: Expr | bool) -> None:
        self.update_tsk_thread_flag(self.current, flag, value)

    # ------------------------------------------------------------------ FP data movement
    def copy_image(self, dst: Image, src: Image, *, v: bool = True, fpsr: bool = True,
                   zhi: str = "copy") -> None:
        """Copy register-image slices; ``zhi`` is copy, zero (an FPSIMD load) or keep.
        ``fpsr``: FPSR and FPCR (`copy_fpsr_fpcr`).  P0-P15/FFR are never touched here:
        only the SVE helpers move them."""
        if v:
            self.set(dst.v, src.v)
        if fpsr:
            self.copy_fpsr_fpcr(dst, src)
        if isinstance(dst.zhi, Var):
            if zhi == "copy":
                self.set(dst.zhi, src.zhi)
            elif zhi == "zero":
                self.set(dst.zhi, Const(self.S.VALUE, self.S.ZERO))

    def copy_fpsr_fpcr(self, dst: Image, src: Image) -> None:
        """``dst``'s FPSR and FPCR from ``src``'s (an MRS/MSR pair or a struct copy of
        both fields in the C: every helper that moves one moves the other).  One slice
        without SME, two with it (`model.state.Image.fpcr`); a source without an FPCR
        slice of its own (a constant image) gives its pair slice to both."""
        self.set(dst.fpsr, src.fpsr)
        if isinstance(dst.fpcr, Var):
            self.set(dst.fpcr, src.fpcr_or_pair)

    def zero_fpsr_fpcr(self, dst: Image) -> None:
        """``dst``'s FPSR and FPCR set to zero (a memset of a struct user_fpsimd_state)."""
        for slot in dst.fpsr_slots():
            self.set(slot, Const(self.S.VALUE, self.S.ZERO))

    def store_through(self, ptr: Expr, write: Callable[[Image], None]) -> None:
        """Apply ``write`` to the image a `struct user_fpsimd_state *` points to.

        A NULL pointer is never dereferenced by the modelled code (the callers test it or
        the kernel would oops); dereferencing NULL is reported as a BUG.
        """
        targets = self.S.fpstate_targets()
        self.check(ptr.ne("NULL"), "BUG", "NULL dereference", "FP save/restore through NULL")
        for value, img in targets:
            with self.If(ptr.eq(value)):
                write(img)

    def fp_write(self, owner: int, regs: Image, *, zhi: bool) -> None:
        """A context (user task or guest) writes its FP registers: a new generation.

        Every copy of the owner's previous latest value becomes ``~`` (superseded); the
        registers then hold the owner's latest.  An FPSIMD (non-SVE) write zeroes the Z
        bits above 127 and leaves P0-P15/FFR alone; an SVE write (``zhi``) also writes
        P/FFR (a new P generation).  This is the ghost-state monitor of the properties:
        the modelled kernel code never reads it.  It is one event (user or guest code, not
        the kernel): no interleaving point inside; an IRQ from EL0 or from the guest is
        the `irq`/`guest_exit` step.
        """
        with self.atomic():
            latest = Const(self.S.VALUE, self.S.latest(owner))
            self.supersede(owner)
            self.set(regs.v, latest)
            for slot in regs.fpsr_slots():
                self.set(slot, latest)
            if isinstance(regs.zhi, Var):
                self.set(regs.zhi, latest if zhi else Const(self.S.VALUE, self.S.ZERO))
            if owner >= self.config.user_tasks and isinstance(regs.fpexc, Var):
                # An AArch32 guest's VFP state includes FPEXC (its kernel's lazy VFP
                # switch toggles FPEXC.EN); a write of the context writes it too.  Host
                # tasks never access FPEXC32_EL2.
                self.set(regs.fpexc, latest)
            if isinstance(regs.fpmr, Var) and (owner < self.config.user_tasks
                                               or self.config.guest_fpmr):
                # FPMR (Config.fpmr): a host task's write is one generation of V, FPSR/FPCR
                # and FPMR together, a guest's too when its VM has FPMR (else it cannot
                # access FPMR).  Writing them together loses no behaviour: the kernel moves
                # FPMR and V by separate statements that never test their contents, so a
                # lost or leaked FPMR shows in these runs as in runs that write one alone.
                self.set(regs.fpmr, latest)
            if owner < self.config.user_tasks:
                ghost = self.S.tasks[owner].zhi_expected
                if isinstance(ghost, Var):
                    self.set(ghost, 1 if zhi else 0)
            if zhi and isinstance(regs.p, Var):
                self.supersede_p(owner)
                self.set(regs.p, latest)
                if owner < self.config.user_tasks:  # guests (SVE vcpus) keep no ghost
                    self.set(self.S.tasks[owner].p_written, 1)

    def supersede(self, owner: int, part: str = "all") -> None:
        """Ghost monitor: every copy of ``owner``'s latest value becomes ``~`` (older).
        Bookkeeping of the properties, not kernel code: no interleaving point inside.

        A new generation also ends the owner's post-exec "must read zero" expectation and
        the freshness of its signal frame (ghosts of the exec and signal events).

        ``part`` (Config.fpmr): "all" (the default: V, FPSR/FPCR, FPMR and the rest
        together, e.g. a write by the task itself), "fp" (a write of everything but FPMR,
        e.g. a tracer's NT_PRFPREG: copies of FPMR keep their label, the owner's FPMR is
        unchanged) or "fpmr" (FPMR alone, a tracer's NT_ARM_FPMR).  Without FPMR slots
        "fp" is "all".  "sm" (Config.sme): the effect of a change of PSTATE.SM on the
        owner's values (`model.variants.v6_sme.sme_write_svcr`): everything but FPCR,
        whose copies keep their label (FPCR is not written) and whose "must read zero"
        ghost (``fpcr_expect_zero``) stays."""
        fpmr_slots = {id(img.fpmr) for img in self.S.all_images()
                      if isinstance(img.fpmr, Var)}
        fpcr_slots = {img.fpcr.index for img in self.S.all_images()
                      if isinstance(img.fpcr, Var)}
        latest = self.S.latest(owner)
        self._exec.stored = {i: t for i, t in self._exec.stored.items()
                             if t != latest or (part == "sm" and i in fpcr_slots)}
        with self.atomic():
            for img in self.S.all_images():
                for slot in img.slots():
                    if part == "sm":
                        if slot.index in fpcr_slots:
                            continue
                    elif part != "all" and ((id(slot) in fpmr_slots) != (part == "fpmr")):
                        continue
                    self.set(slot, Retire(slot, self.S.latest(owner), self.S.stale(owner)))
            if owner < self.config.user_tasks:
                t = self.S.tasks[owner]
                ghosts = [t.sigframe_fresh]
                if part != "fpmr":
                    ghosts.append(t.expect_zero)
                if part in ("all", "fp"):
                    ghosts.append(t.fpcr_expect_zero)
                if part != "fp":
                    ghosts.append(t.fpmr_expect_zero)
                for ghost in ghosts:
                    if isinstance(ghost, Var):
                        self.set(ghost, 0)
                self.sigframe_snapshot_forget(owner)

    def sigframe_snapshot_forget(self, owner: int) -> None:
        """Ghost (event signal with SME): the snapshot ghosts of ``owner``'s frame
        (`model.state.SIGFRAME_SNAPSHOT`) are read only while the frame is fresh; once it
        is not they are dead and reset to 0 (a canonical value)."""
        if owner >= self.config.user_tasks:
            return
        t = self.S.tasks[owner]
        with self.atomic():
            for g, _src in SIGFRAME_SNAPSHOT:
                if isinstance(getattr(t, g), Var):
                    self.set(getattr(t, g), 0)

    def copy_as_child(self, dst: Var | Expr, src: Var | Expr, parent: int, child: int) -> None:
        """``dst = src``, a copy of a parent's FP data into its child at fork (`*dst =
        *src` in arch_dup_task_struct), with the ghost relabelling of the tokens: the
        parent's latest value becomes the child's latest (what the child must read), an
        older value of the parent an older value of the child; anything else (zero, kernel
        data, another context's bits) is copied as it is.  The copy is kernel code (an
        IRQ may come before it where the code allows it); the relabelling only names
        whose generation the copied bits are.  (The SMT encoding moves the bits and makes
        the child's "last written" ghost the parent's: checker/smt/encode.py.)"""
        if not isinstance(dst, Var):
            return
        S = self.S
        self.set(dst, Retire(Retire(src, S.latest(parent), S.latest(child)),
                             S.stale(parent), S.stale(child)))

    def supersede_p(self, owner: int) -> None:
        """Ghost monitor: every copy of ``owner``'s latest P0-P15/FFR value becomes ``~``."""
        with self.atomic():
            for img in self.S.all_images():
                for slot in img.p_slots():
                    self.set(slot, Retire(slot, self.S.latest(owner), self.S.stale(owner)))

    def supersede_za(self, owner: int) -> None:
        """Ghost monitor (Config.sme): every copy of task ``owner``'s latest ZA value
        becomes ``~`` (ZA has its own generations, as P/FFR have)."""
        with self.atomic():
            for slot in self.S.za_slots():
                self.set(slot, Retire(slot, self.S.latest(owner), self.S.stale(owner)))
            # (event signal) a new ZA generation ends the freshness of the owner's frame,
            # as a new generation of the rest does (`supersede`)
            if owner < self.config.user_tasks:
                fresh = self.S.tasks[owner].sigframe_fresh
                if isinstance(fresh, Var):
                    self.set(fresh, 0)
                    self.sigframe_snapshot_forget(owner)

    def kernel_neon_read_back(self, softirq: bool, task: int | None = None,
                              zhi: bool = True) -> None:
        """Kernel-mode NEON code reads back the registers its section wrote.

        Monitor (ghost): ``ghost.kernel_neon_readback_lost`` records whether any slice
        holds something other than this section's token (property ``no_loss``: a
        kernel-NEON section is a context too); then every copy of the token becomes
        plain ``kneon`` (data left behind by a finished section), so that between steps
        kernel data is one token, as before.  The read itself is kernel code: an IRQ may
        come before it where the code allows (model/interleave.py).  ``task``: a
        task-context section's own task, where sections have per-task tokens (v6.8+);
        ``zhi``: the section wrote its token into the Z bits above 127 too (the 2018
        model's stand-in), else it only wrote V and FPSR/FPCR (v6 model: a NEON write
        zeroes those bits, and the section reads back what it wrote through V).
        """
        tok = self.S.kneon_section(softirq, task)
        regs = self.this_cpu.regs
        # What kernel_fp_write wrote: V, FPSR/FPCR and the Z bits above V (not FPEXC32).
        written = [x for x in (regs.v, regs.fpsr, regs.fpcr, regs.zhi if zhi else None)
                   if isinstance(x, Var)]
        self._interleave(set(written), set(), "the read-back of its NEON data")
        lost = any_of(Not(Eq(slot, Const(self.S.VALUE, tok))) for slot in written)
        with self.atomic():
            self.emit(Assign(self.S.kneon_lost, lost))
            for img in self.S.all_images():
                for slot in img.slots():
                    self.set(slot, Retire(slot, tok, self.S.KNEON))

    def fp_write_memory(self, task: int, slots: list[Var], *, zhi: bool | Expr,
                        p_slots: list[Var] | None = None, p_defined: bool | Expr = False,
                        ) -> None:
        """Someone else (a ptrace tracer, a signal handler editing its frame; the VMM or
        another vcpu for a guest) writes new FP values for owner ``task`` (a user task, or
        a guest: `Layout.guest_owner`) into memory: a new generation of the owner's
        values, in ``slots``; ``p_slots`` get a new P/FFR generation.  ``zhi``/``p_defined`` (the
        ghosts zhi_written and p_written) say whether the task must then read those exact
        Z-high / P values back (an expression where the kernel decides at run time).

        With FEAT_FPMR (Config.fpmr) a write of ``slots`` without an FPMR slot leaves the
        owner's FPMR as it was (its copies keep their label), one of FPMR slots only is a
        new FPMR generation alone (`supersede`'s ``part``)."""
        fpmr_slots = {id(img.fpmr) for img in self.S.all_images()
                      if isinstance(img.fpmr, Var)}
        kinds = {id(slot) in fpmr_slots for slot in slots}
        part = "all" if len(kinds) != 1 else ("fpmr" if kinds == {True} else "fp")
        self.supersede(task, part)
        for slot in slots:
            self.set(slot, Const(self.S.VALUE, self.S.latest(task)))
            self._exec.stored[slot.index] = self.S.latest(task)
        if task >= self.config.user_tasks or part == "fpmr":
            return  # guests keep no Z/P ghosts; an FPMR write leaves Z and P as they were
        ghost = self.S.tasks[task].zhi_expected
        if isinstance(ghost, Var):
            self.set(ghost, self._ghost_bool(zhi))
        if p_slots:
            self.supersede_p(task)
            for slot in p_slots:
                self.set(slot, Const(self.S.VALUE, self.S.latest(task)))
        pw = self.S.tasks[task].p_written
        if isinstance(pw, Var):
            self.set(pw, self._p_ghost(p_defined))

    @staticmethod
    def _ghost_bool(x: bool | Expr) -> Expr:
        """A ghost boolean from a build-time bool or a model condition."""
        if isinstance(x, Expr):
            return Ite(lift(x, BOOL), Const(GHOST_BOOL, 1), Const(GHOST_BOOL, 0))
        return Const(GHOST_BOOL, 1 if x else 0)

    def syscall_p_ghost(self) -> int:
        """What the syscall ABI makes of a task's P0-P15/FFR (the ghost p_written after a
        syscall, fork's child, exec: `model.state.P_GHOST`).  sve.rst's "System call
        behaviour" says "all of P0..P15 and FFR become zero on return from a syscall" from
        v6.1 on, but up to v6.8 the next paragraph takes it back ("In practice the affected
        registers/bits will be preserved or will be replaced with zeros on return from a
        syscall, but userspace should not make assumptions about this"; read in v6.1.0 and
        v6.8.0); v6.9.0's text drops that paragraph (as v6.10.0, v6.12, v6.13.7, v6.14.0 and
        v6.18.2 do): from v6.9 zero is the ABI (P_ZERO), before it unspecified (P_UNDEFINED,
        as in 2018's sve.txt).  The variant option ``syscall_zeroes_p`` says which."""
        return P_ZERO if self.variant.option("syscall_zeroes_p", False) else P_UNDEFINED

    @staticmethod
    def _p_ghost(x: bool | Expr, otherwise: int = P_UNDEFINED) -> Expr:
        """A value of the ghost p_written (`model.state.P_GHOST`): P_LATEST where ``x`` (a
        build-time bool or a model condition) holds, else ``otherwise`` (P_UNDEFINED, or
        P_ZERO where the kernel guarantees zero P/FFR)."""
        if isinstance(x, Expr):
            return Ite(lift(x, BOOL), Const(P_GHOST, P_LATEST), Const(P_GHOST, otherwise))
        return Const(P_GHOST, P_LATEST if x else otherwise)
