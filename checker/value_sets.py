"""Which values each state variable can ever hold in a configuration: a static
over-approximation of the reachable states, derived from the model's statements.

A variable starts at its initial value and changes only by assignments; an assignment
under a condition that is constant false in this configuration (e.g. ``if TIF_SVE``
without SVE, where TIF_SVE is the constant 0) never runs.  Iterating "initial value plus
every value an enabled assignment can produce, given the values its operands can hold"
to a fixpoint gives, per variable, a set that contains every value it takes in any
reachable state.  `prove` adds these sets to the induction (as an obligation of their
own, so they are proved, not trusted): a counterexample to induction then never shows a
value the configuration cannot produce (HOST_SVE_IN_USE=1 without SVE, a vcpu pointer
with no vcpus...).
"""

from __future__ import annotations

from model.dsl import (
    AddC,
    And,
    Assign,
    Const,
    Eq,
    Expr,
    If,
    Input,
    Ite,
    Not,
    Or,
    Retire,
    Stmt,
    Var,
)
from model.state import Layout

Values = frozenset[int]


def _all(e: Expr) -> Values:
    return frozenset(range(e.dom.size))


class _Analysis:
    def __init__(self, layout: Layout) -> None:
        self.vals: dict[int, set[int]] = {v.index: {layout.init[v.index]} for v in layout.vars}
        self.locals: dict[str, set[int]] = {}

    def ev(self, e: Expr) -> Values:
        if isinstance(e, Const):
            return frozenset((e.value,))
        if isinstance(e, Var):
            if e.local:
                return frozenset(self.locals.get(e.name, ()))
            return frozenset(self.vals[e.index])
        if isinstance(e, Input):
            return frozenset((0, 1))
        if isinstance(e, Not):
            return frozenset(1 - x for x in self.ev(e.a))
        if isinstance(e, (And, Or)):
            # x is absorbing (0 for And, 1 for Or): the result can be x if any operand
            # can, and the other value only if every operand can.
            x = 0 if isinstance(e, And) else 1
            parts = [self.ev(a) for a in e.args]
            out = {x} if any(x in p for p in parts) else set()
            if all(1 - x in p for p in parts):
                out.add(1 - x)
            return frozenset(out)
        if isinstance(e, Eq):
            a, b = self.ev(e.a), self.ev(e.b)
            out = set()
            if a & b:
                out.add(1)
            if len(a) > 1 or len(b) > 1 or a != b:
                out.add(0)
            return frozenset(out)
        if isinstance(e, Ite):
            c = self.ev(e.c)
            out: set[int] = set()
            if 1 in c:
                out |= self.ev(e.a)
            if 0 in c:
                out |= self.ev(e.b)
            return frozenset(out)
        if isinstance(e, AddC):
            n = e.dom.size
            return frozenset(x + e.k for x in self.ev(e.a) if 0 <= x + e.k < n)
        if isinstance(e, Retire):
            a = self.ev(e.a)
            return frozenset((a - {e.latest}) | ({e.stale} if e.latest in a else set()))
        return _all(e)  # an expression kind this analysis does not know: no constraint

    def run(self, body: tuple[Stmt, ...]) -> bool:
        changed = False
        for st in body:
            if isinstance(st, Assign):
                new = self.ev(st.expr)
                if st.var.local:
                    self.locals.setdefault(st.var.name, set()).update(new)
                elif not new <= self.vals[st.var.index]:
                    self.vals[st.var.index] |= new
                    changed = True
            elif isinstance(st, If):
                c = self.ev(st.cond)
                if 1 in c:
                    changed |= self.run(st.then)
                if 0 in c:
                    changed |= self.run(st.els)
        return changed


def value_sets(layout: Layout, actions: list) -> dict[int, frozenset[int]]:
    """Variable index -> the values it may hold in a reachable state (a superset), for
    the variables where that is less than the whole domain."""
    an = _Analysis(layout)
    while True:
        changed = False
        for a in actions:
            if 1 in an.ev(a.guard):
                changed |= an.run(a.body)
        if not changed:
            break
    return {i: frozenset(vs) for i, vs in an.vals.items()
            if len(vs) < layout.vars[i].dom.size}
