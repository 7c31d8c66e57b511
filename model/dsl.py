"""The guarded-command language the kernel model is written in.

Data representation
-------------------
* A **state** is a tuple of small ints, one per state variable (`Var`), in the order of
  `Layout.vars`.  Every variable has a finite `Domain`: the value stored is an index into
  `Domain.labels`.  Booleans are stored as 0/1.
* A **step** (`Action`) is a guard (an `Expr` over the pre-state) plus a body: a list of
  statements (`Stmt`) executed *sequentially* (a statement reads the values written by the
  statements before it in the same step).  A body may read nondeterministic boolean
  *inputs* (`Input`), e.g. "a softirq is pending at this local_bh_enable()".
* `Assert` statements are the kernel's WARN_ON/BUG_ON/lockdep checks, and the kernel's
  locking rules (kind ``locking``): a step whose execution reaches a false `Assert` is an
  assertion-violating transition.

Kernel functions are ordinary Python functions that *emit* statements through a `Ctx`
(see `model.ctx`); they run once, when the model is built, never during exploration.  Two
interpreters consume the result: `checker.explicit.compile` turns it into Python code,
`checker.smt` into z3 terms.  Neither is imported here: this module knows nothing of the
engines.

Data independence is enforced at build time: a variable of kind ``value`` (register and
memory contents) may only be copied, never tested in a guard, condition or assertion.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class ModelError(Exception):
    """The model itself is malformed (raised while building it, never while exploring)."""


@dataclass(frozen=True)
class Domain:
    """A finite domain. ``kind`` is one of bool, enum, int (a counter 0..n-1), value (FP
    contents) or ghost (monitor state for the properties, never read by the model)."""

    name: str
    labels: tuple[str, ...]
    kind: str = "enum"

    @property
    def size(self) -> int:
        return len(self.labels)

    def index(self, label: str | int | bool) -> int:
        if isinstance(label, bool) or isinstance(label, int):
            value = int(label)
            if not 0 <= value < self.size:
                raise ModelError(f"{value} out of range for domain {self.name}")
            return value
        try:
            return self.labels.index(label)
        except ValueError:
            raise ModelError(f"{label!r} is not a value of domain {self.name}") from None


BOOL = Domain("bool", ("0", "1"), "bool")
GHOST_BOOL = Domain("ghost", ("0", "1"), "ghost")


def int_domain(name: str, n: int) -> Domain:
    return Domain(name, tuple(str(i) for i in range(n)), "int")


# --------------------------------------------------------------------------- expressions


class Expr:
    """Base class of expressions. Operators build new expressions (never Python bools)."""

    dom: Domain

    def __and__(self, other: Expr) -> Expr:
        return And((self, other))

    def __or__(self, other: Expr) -> Expr:
        return Or((self, other))

    def __invert__(self) -> Expr:
        return Not(self)

    def __bool__(self) -> bool:
        raise ModelError("a model expression has no truth value at build time; use Ctx.If")

    def eq(self, other: Expr | str | int | bool) -> Expr:
        return Eq(self, lift(other, self.dom))

    def ne(self, other: Expr | str | int | bool) -> Expr:
        return Not(Eq(self, lift(other, self.dom)))

    def plus(self, k: int) -> Expr:
        return AddC(self, k)


def lift(x: Expr | str | int | bool, dom: Domain) -> Expr:
    if isinstance(x, Expr):
        if x.dom != dom and not (x.dom.kind == "bool" and dom.kind == "bool"):
            raise ModelError(f"domain mismatch: {x.dom.name} vs {dom.name}")
        return x
    return Const(dom, dom.index(x))


@dataclass(frozen=True, eq=False)
class Var(Expr):
    """A state variable (``local=False``) or a step-local temporary (``local=True``)."""

    name: str
    dom: Domain
    index: int = -1
    local: bool = False

    def __repr__(self) -> str:
        return self.name


@dataclass(frozen=True, eq=False)
class Const(Expr):
    dom: Domain
    value: int

    def __repr__(self) -> str:
        return self.dom.labels[self.value]


@dataclass(frozen=True, eq=False)
class Input(Expr):
    """A nondeterministic boolean chosen by the environment when the step fires."""

    name: str
    dom: Domain = BOOL


@dataclass(frozen=True, eq=False)
class Not(Expr):
    a: Expr
    dom: Domain = BOOL


@dataclass(frozen=True, eq=False)
class And(Expr):
    args: tuple[Expr, ...]
    dom: Domain = BOOL


@dataclass(frozen=True, eq=False)
class Or(Expr):
    args: tuple[Expr, ...]
    dom: Domain = BOOL


@dataclass(frozen=True, eq=False)
class Eq(Expr):
    a: Expr
    b: Expr
    dom: Domain = BOOL


@dataclass(frozen=True, eq=False)
class Ite(Expr):
    c: Expr
    a: Expr
    b: Expr

    @property
    def dom(self) -> Domain:  # type: ignore[override]
        return self.a.dom


@dataclass(frozen=True, eq=False)
class AddC(Expr):
    """Counter arithmetic: a + k on an int domain (an `Assign` of it that leaves the
    domain is an ``overflow`` assertion failure, see `Assign.check`)."""

    a: Expr
    k: int

    @property
    def dom(self) -> Domain:  # type: ignore[override]
        return self.a.dom


@dataclass(frozen=True, eq=False)
class Retire(Expr):
    """Ghost monitor on a value slot: ``stale`` if ``a`` holds ``latest``, else ``a``.

    Used only by the write monitor (`Ctx.fp_write`) to supersede an owner's previous
    generation; it is the one place a value is inspected, and it never steers control.
    """

    a: Expr
    latest: int
    stale: int

    @property
    def dom(self) -> Domain:  # type: ignore[override]
        return self.a.dom


TRUE = Const(BOOL, 1)
FALSE = Const(BOOL, 0)


def all_of(es: Iterable[Expr]) -> Expr:
    es = tuple(es)
    return TRUE if not es else es[0] if len(es) == 1 else And(es)


def any_of(es: Iterable[Expr]) -> Expr:
    es = tuple(es)
    return FALSE if not es else es[0] if len(es) == 1 else Or(es)


def implies(a: Expr, b: Expr) -> Expr:
    return Or((Not(a), b))


def conjuncts(e: Expr) -> list[Expr]:
    """The flattened top-level conjuncts of ``e`` (``[e]`` if it is not a conjunction)."""
    todo = list(e.args) if isinstance(e, And) else [e]
    flat: list[Expr] = []
    while todo:
        c = todo.pop(0)
        if isinstance(c, And):
            todo = list(c.args) + todo
        else:
            flat.append(c)
    return flat


# ---------------------------------------------------------------------------- statements


@dataclass(frozen=True)
class Check:
    """One assertion site: ``kind`` is WARN, BUG, lockdep (a PROVE_LOCKING-only WARN), or
    overflow (a counter leaving its domain, see `Assign.check`), all of property
    kernel_asserts; or ``locking``: a locking rule (property locking_rules, ``rule`` names it
    in properties.locking.RULES), a finding on every configuration whether or not the kernel
    would print anything.  ``id`` names the site (function and text), so the same site
    reached along different call paths, or from different CPUs, is one site."""

    id: str
    kind: str
    function: str
    text: str
    rule: str = ""


# Kinds of assertion after whose failure the kernel (or the model) cannot go on: BUG()
# kills the kernel; an overflow leaves a state the model's domains cannot represent.
FATAL_KINDS = frozenset({"BUG", "overflow"})


def overflow_check(var: Var, expr: Expr, function: str) -> Check:
    """The ``overflow`` assertion site of ``var = expr`` in ``function``: named after the
    variable's field (``preempt_count``, not ``cpu0.preempt_count``), so one site covers
    every CPU, and after the direction the counter moves (up: overflow, down: underflow)."""
    field_name = var.name.split(".", 1)[-1] if "." in var.name else var.name
    steps = {e.k for e in walk_exprs(expr) if isinstance(e, AddC)}
    if steps and all(k > 0 for k in steps):
        what = f"{field_name} overflow: above the model's bound {var.dom.size - 1}"
    elif steps and all(k < 0 for k in steps):
        what = f"{field_name} underflow: below 0"
    else:
        what = f"{field_name} out of the model's range 0..{var.dom.size - 1}"
    return Check(f"{function}: overflow {what}", "overflow", function, what)


class Stmt:
    pass


@dataclass(frozen=True, eq=False)
class Assign(Stmt):
    """``var = expr``.  With ``check`` (a counter updated by `AddC`, set by `Ctx.set`), a
    value outside ``var``'s domain is not stored: every engine reports ``check`` as a
    failed assertion of kind ``overflow`` and leaves ``var`` unchanged.  Such a step has
    no successor (like a BUG): the model cannot represent the state after it."""

    var: Var
    expr: Expr
    check: Check | None = None


@dataclass(frozen=True, eq=False)
class If(Stmt):
    cond: Expr
    then: tuple[Stmt, ...]
    els: tuple[Stmt, ...]


@dataclass(frozen=True, eq=False)
class Assert(Stmt):
    cond: Expr
    check: Check


@dataclass(frozen=True, eq=False)
class Mark(Stmt):
    """Entry into (``enter``) or return from (not ``enter``) a modelled C function.

    No effect on the state.  Marks appear only in ``Action.traced_body``: the reference
    interpreter keeps the call stack with them, so a trace shows the functions a step
    entered and the real call stack at each failing assertion."""

    function: str
    enter: bool = True


def strip_marks(body: Sequence[Stmt]) -> tuple[Stmt, ...]:
    out: list[Stmt] = []
    for st in body:
        if isinstance(st, Mark):
            continue
        if isinstance(st, If):
            st = If(st.cond, strip_marks(st.then), strip_marks(st.els))
            if not st.then and not st.els:
                continue  # only marks inside (conditions have no effect)
        out.append(st)
    return tuple(out)


@dataclass(frozen=True)
class Action:
    """One atomic step of the model, instantiated for concrete cpu/task/vcpu parameters."""

    name: str  # template name, e.g. "guest_exit"
    params: tuple[tuple[str, int], ...]
    label: str  # human-readable, e.g. "guest_exit(cpu1, vmm0, vcpu0)"
    guard: Expr
    body: tuple[Stmt, ...]
    inputs: tuple[str, ...]
    functions: tuple[str, ...]  # modelled C functions this step may call, in call order
    doc: str = ""
    traced_body: tuple[Stmt, ...] = ()  # ``body`` with `Mark`s of function entries
    # Where the step's code may be preempted between two statements that touch shared
    # state (model/interleave.py, "Preemption"): not interleaved by the model.
    preempt_windows: tuple[str, ...] = ()

    def param(self, key: str) -> int | None:
        return dict(self.params).get(key)


def walk_exprs(e: Expr, seen: set[int] | None = None) -> Iterable[Expr]:
    """``e`` and its subexpressions, in pre-order (operands left to right).  With
    ``seen`` (ids of expressions already walked, updated): each object once, its
    subexpressions skipped the second time (the objects must stay alive meanwhile)."""
    # Iterative: the build walks millions of nodes, and nested generators cost a frame
    # per level and per node.
    stack = [e]
    pop, push = stack.pop, stack.extend
    while stack:
        x = pop()
        if seen is not None:
            if id(x) in seen:
                continue
            seen.add(id(x))
        yield x
        get = _CHILDREN.get(type(x))
        ch = get(x) if get is not None else _children(x)
        if ch:
            push(reversed(ch))


def children(e: Expr) -> Sequence[Expr]:
    """The direct operands of ``e``."""
    return _children(e)


def _children(e: Expr) -> Sequence[Expr]:
    if isinstance(e, Not):
        return (e.a,)
    if isinstance(e, (And, Or)):
        return e.args
    if isinstance(e, Eq):
        return (e.a, e.b)
    if isinstance(e, Ite):
        return (e.c, e.a, e.b)
    if isinstance(e, (AddC, Retire)):
        return (e.a,)
    return ()


# The operands of each expression class (the classes above; `_children` for others).
_CHILDREN = {
    Var: lambda e: (), Const: lambda e: (), Input: lambda e: (),
    Not: lambda e: (e.a,), And: lambda e: e.args, Or: lambda e: e.args,
    Eq: lambda e: (e.a, e.b), Ite: lambda e: (e.c, e.a, e.b),
    AddC: lambda e: (e.a,), Retire: lambda e: (e.a,),
}


def checks_of(body: Sequence[Stmt]) -> Iterable[Check]:
    """Every assertion site in ``body``: `Assert` checks and counter `Assign` checks."""
    for st in walk_stmts(body):
        if isinstance(st, Assert):
            yield st.check
        elif isinstance(st, Assign) and st.check is not None:
            yield st.check


def walk_stmts(body: Sequence[Stmt]) -> Iterable[Stmt]:
    """Every statement of ``body``, nested ones included, in pre-order."""
    stack = [iter(body)]
    while stack:
        for st in stack[-1]:
            yield st
            if isinstance(st, If):
                stack.append(iter(st.els))
                stack.append(iter(st.then))
                break
        else:
            stack.pop()


def stmt_exprs(st: Stmt) -> tuple[Expr, ...]:
    """The expressions statement ``st`` itself evaluates (an assignment's value, an If's or
    an assertion's condition), not those of nested statements nor an assigned variable."""
    if isinstance(st, Assign):
        return (st.expr,)
    if isinstance(st, (If, Assert)):
        return (st.cond,)
    return ()


def check_data_independence(action: Action) -> None:
    """Reject a step whose control flow depends on register/memory contents."""

    def conds() -> Iterable[Expr]:
        yield action.guard
        for st in walk_stmts(action.body):
            if isinstance(st, If):
                yield st.cond
            elif isinstance(st, Assert):
                yield st.cond
            elif isinstance(st, Assign):
                for e in walk_exprs(st.expr):
                    if isinstance(e, Ite):
                        yield e.c

    # Each expression object once (replayed IRQs share their fixed parts: model.ctx).
    seen: set[int] = set()
    for c in conds():
        for e in walk_exprs(c, seen):
            if isinstance(e, Var) and e.dom.kind == "value":
                raise ModelError(
                    f"step {action.label}: condition reads FP contents {e.name}; the model"
                    " must be data-independent (copy values, never test them)"
                )
    seen2: set[int] = set()
    for st in [Assert(action.guard, Check("guard", "", "", ""))] + list(walk_stmts(action.body)):
        # A monitor may copy monitor state (a ghost assigned from ghosts, e.g. a forked
        # child's expectations from its parent's): no modelled behaviour depends on it.
        exprs = [st.expr] if isinstance(st, Assign) and st.var.dom.kind != "ghost" else []
        exprs += [st.cond] if isinstance(st, (If, Assert)) else []
        for x in exprs:
            for e in walk_exprs(x, seen2):
                if isinstance(e, Var) and e.dom.kind == "ghost":
                    raise ModelError(
                        f"step {action.label}: the model reads ghost state {e.name}; ghost"
                        " state is for the properties only"
                    )
