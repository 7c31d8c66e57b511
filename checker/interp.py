"""A plain tree-walking interpreter of the model's statements.

It is slow and simple on purpose: it is the reference the optimised engines
(`checker.explicit.compile`, `checker.native`) are tested against, it belongs to no
engine (traces of every engine are rebuilt with it), and it records the modelled C functions
actually entered on the path a step took and the call stack at each failing assertion
(from the entry/return `Mark` statements of ``Action.traced_body``), which is what a
trace shows.
"""

from __future__ import annotations

from collections.abc import Callable

from model.dsl import (
    Action,
    AddC,
    And,
    Assert,
    Assign,
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
    walk_exprs,
)


class _Run:
    def __init__(self, action: Action, state: tuple[int, ...], inputs: tuple[bool, ...],
                 watch: list[tuple[str, Var]] | None = None):
        # ``watch``: execution-state variables (label, var) recorded at every call, for
        # the call tree of a trace step (`run_tree`); None: no tree.
        self.watch = watch
        self.tree: list[dict] = []
        self.inputs_read: list[str] = []
        self.state = list(state)
        self.locals: dict[int, int] = {}
        self.inputs = dict(zip(action.inputs, inputs, strict=True))
        self.violations: list[str] = []
        self.called: list[str] = []
        self.stack: list[str] = []
        # check id -> call stack (outermost first) at its first failure in this step
        self.stacks: dict[str, tuple[str, ...]] = {}

    def fail(self, cid: str, cond: Expr | None = None) -> None:
        self.violations.append(cid)
        self.stacks.setdefault(cid, tuple(self.stack))
        if self.watch is not None:
            node = {"d": len(self.stack), "assert": cid, "ctx": self.snapshot()}
            if cond is not None:
                node["saw"] = {v.name: v.dom.labels[self.state[v.index]]
                               for v in _vars(cond) if not v.local}
            self.tree.append(node)

    def snapshot(self) -> dict[str, str]:
        return {label: var.dom.labels[self.state[var.index]] for label, var in self.watch or ()}

    def branch(self, st: If, taken: bool) -> None:
        """Record a branch outcome where it matters: an IRQ point only where the IRQ is
        taken; a test of one pointer/index value (dispatch) only where it matches."""
        if self.watch is None:
            return
        irq = any(isinstance(e, Input) and e.name.startswith("IRQ in ")
                  for e in walk_exprs(st.cond))
        single = isinstance(st.cond, Eq)
        if (irq or single) and not taken:
            return
        from checker.exprtext import expr_text

        text = "IRQ taken here" if irq else expr_text(st.cond)
        self.tree.append({"d": len(self.stack), "if": text, "taken": taken})

    def ev(self, e: Expr) -> int:
        if isinstance(e, Var):
            if e.local:
                return self.locals[id(e)]
            return self.state[e.index]
        if isinstance(e, Const):
            return e.value
        if isinstance(e, Input):
            if e.name not in self.inputs_read:
                self.inputs_read.append(e.name)
            return int(self.inputs[e.name])
        if isinstance(e, Not):
            return int(not self.ev(e.a))
        if isinstance(e, And):
            return int(all(self.ev(a) for a in e.args))
        if isinstance(e, Or):
            return int(any(self.ev(a) for a in e.args))
        if isinstance(e, Eq):
            return int(self.ev(e.a) == self.ev(e.b))
        if isinstance(e, Ite):
            return self.ev(e.a) if self.ev(e.c) else self.ev(e.b)
        if isinstance(e, AddC):
            return self.ev(e.a) + e.k
        if isinstance(e, Retire):
            a = self.ev(e.a)
            return e.stale if a == e.latest else a
        raise ModelError(f"cannot evaluate {e!r}")

    def run(self, body: tuple[Stmt, ...]) -> None:
        for st in body:
            if isinstance(st, Assign):
                value = self.ev(st.expr)
                if not 0 <= value < st.var.dom.size:
                    if st.check is None:
                        raise ModelError(f"{st.var.name} out of range")
                    # A counter leaving its domain (model.dsl.Assign): report, keep.
                    self.fail(st.check.id)
                    continue
                if st.var.local:
                    self.locals[id(st.var)] = value
                else:
                    self.state[st.var.index] = value
            elif isinstance(st, If):
                taken = bool(self.ev(st.cond))
                self.branch(st, taken)
                self.run(st.then if taken else st.els)
            elif isinstance(st, Assert):
                if not self.ev(st.cond):
                    self.fail(st.check.id, st.cond)
            elif isinstance(st, Mark):
                if st.enter:
                    self.called.append(st.function)
                    if self.watch is not None:
                        self.tree.append({"d": len(self.stack), "call": st.function,
                                          "ctx": self.snapshot()})
                    self.stack.append(st.function)
                else:
                    if not self.stack or self.stack[-1] != st.function:
                        raise ModelError(f"unbalanced return mark for {st.function}")
                    self.stack.pop()
            else:
                raise ModelError(f"unknown statement {st!r}")


def run_action(action: Action, state: tuple[int, ...], inputs: tuple[bool, ...]
               ) -> tuple[tuple[int, ...], list[str], list[str]]:
    """Execute one step: (next state, violated assertion ids, C functions entered)."""
    r = _Run(action, state, inputs)
    r.run(action.traced_body or action.body)
    return tuple(r.state), r.violations, r.called


def run_traced(action: Action, state: tuple[int, ...], inputs: tuple[bool, ...]
               ) -> tuple[tuple[int, ...], list[str], list[str], dict[str, tuple[str, ...]]]:
    """`run_action` plus, per failing assertion site, the real call stack (modelled
    functions, outermost first) at its first failure in this step."""
    r = _Run(action, state, inputs)
    r.run(action.traced_body or action.body)
    return tuple(r.state), r.violations, r.called, r.stacks


def run_tree(action: Action, state: tuple[int, ...], inputs: tuple[bool, ...],
             watch: list[tuple[str, Var]]) -> tuple[list[dict], list[str]]:
    """The call tree a step actually executed, for traces: one node per modelled C
    function entered (``d`` depth, ``call`` name, ``ctx`` the ``watch``ed execution
    state on entry), per branch outcome that matters (``if`` condition, ``taken``) and
    per failing assertion (``assert`` id, ``ctx``, ``saw``: the values its condition
    read); and the nondeterministic inputs the step actually consulted."""
    r = _Run(action, state, inputs, watch)
    r.run(action.traced_body or action.body)
    return r.tree, r.inputs_read


def _vars(e: Expr) -> list[Var]:
    return list(dict.fromkeys(x for x in walk_exprs(e) if isinstance(x, Var)))


def guard_holds(action: Action, state: tuple[int, ...]) -> bool:
    return bool(_Run(action, state, (False,) * len(action.inputs)).ev(action.guard))


def holds(e: Expr, state: tuple[int, ...] | bytes) -> bool:
    """Evaluate a state predicate (an invariant, a guard's pre-state condition)."""
    r = _Run.__new__(_Run)
    r.state, r.locals, r.inputs = list(state), {}, {}
    return bool(r.ev(e))


def predicate(e: Expr) -> Callable[[tuple[int, ...] | bytes], bool]:
    return lambda state: holds(e, state)
