"""The explicit interpreter: compiles the model's guarded commands into Python code.

A state is a tuple of ints (see model.dsl).  For every action we generate

    def body_<i>(s, inp): n = list(s); <statements on n>; return tuple(n), violations

and one `successors(s)` function that dispatches on the equality tests at the head of
each guard (current task of a CPU, program point of a task, ...) through a decision tree
of nested ifs, so a state only evaluates the guards of actions that can be enabled.
Generated code is exec'd once per model instance.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

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
    ModelError,
    Not,
    Or,
    Retire,
    Stmt,
    Var,
)


class _Names:
    def __init__(self, inputs: tuple[str, ...]) -> None:
        self.inputs = {name: i for i, name in enumerate(inputs)}
        self.locals: dict[int, str] = {}

    def local(self, var: Var) -> str:
        if id(var) not in self.locals:
            self.locals[id(var)] = f"l{len(self.locals)}"
        return self.locals[id(var)]


def expr_py(e: Expr, src: str, names: _Names | None = None) -> str:
    """Python source for expression ``e`` reading the state tuple/list named ``src``."""
    if isinstance(e, Var):
        if e.local:
            if names is None:
                raise ModelError(f"local {e.name} used outside a step body")
            return names.local(e)
        return f"{src}[{e.index}]"
    if isinstance(e, Const):
        return str(e.value)
    if isinstance(e, Input):
        if names is None or e.name not in names.inputs:
            raise ModelError(f"input {e.name} used outside its step")
        return f"inp[{names.inputs[e.name]}]"
    if isinstance(e, Not):
        return f"(not {expr_py(e.a, src, names)})"
    if isinstance(e, And):
        return "(" + " and ".join(expr_py(a, src, names) for a in e.args) + ")"
    if isinstance(e, Or):
        return "(" + " or ".join(expr_py(a, src, names) for a in e.args) + ")"
    if isinstance(e, Eq):
        return f"({expr_py(e.a, src, names)} == {expr_py(e.b, src, names)})"
    if isinstance(e, Ite):
        return (
            f"({expr_py(e.a, src, names)} if {expr_py(e.c, src, names)}"
            f" else {expr_py(e.b, src, names)})"
        )
    if isinstance(e, AddC):
        return f"({expr_py(e.a, src, names)} + {e.k})"
    if isinstance(e, Retire):
        a = expr_py(e.a, src, names)
        return f"({e.stale} if {a} == {e.latest} else {a})"
    raise ModelError(f"cannot compile {e!r}")


def _stmts_py(body: tuple[Stmt, ...], names: _Names, checks: dict[str, int],
              indent: str) -> list[str]:
    lines: list[str] = []
    for st in body:
        if isinstance(st, Assign):
            target = names.local(st.var) if st.var.local else f"n[{st.var.index}]"
            value = expr_py(st.expr, "n", names)
            if st.var.dom.kind == "int":
                lines.append(f"{indent}{target} = {value}")
                lines.append(
                    f"{indent}if not 0 <= {target} < {st.var.dom.size}: "
                    f"raise ModelError('{st.var.name} out of range')"
                )
            elif st.var.dom.kind == "bool":
                lines.append(f"{indent}{target} = int({value})")
            else:
                lines.append(f"{indent}{target} = {value}")
        elif isinstance(st, If):
            lines.append(f"{indent}if {expr_py(st.cond, 'n', names)}:")
            inner = _stmts_py(st.then, names, checks, indent + "    ")
            lines += inner or [indent + "    pass"]
            if st.els:
                lines.append(f"{indent}else:")
                lines += _stmts_py(st.els, names, checks, indent + "    ")
        elif isinstance(st, Assert):
            cid = checks.setdefault(st.check.id, len(checks))
            lines.append(f"{indent}if not {expr_py(st.cond, 'n', names)}: viol.append({cid})")
        else:
            raise ModelError(f"unknown statement {st!r}")
    return lines


@dataclass
class Compiled:
    """The executable form of one model instance."""

    actions: list[Action]
    check_ids: list[str]  # assertion index -> Check.id
    checks: dict[str, object]  # Check.id -> Check
    successors: Callable[[tuple[int, ...]], list]
    guards: list[Callable[[tuple[int, ...]], bool]]
    bodies: list[Callable[[tuple[int, ...], tuple[bool, ...]], tuple]]
    source: str

    def enabled(self, state: tuple[int, ...]) -> list[int]:
        return [i for i, g in enumerate(self.guards) if g(state)]

    def fire(self, aid: int, state: tuple[int, ...], inputs: tuple[bool, ...]) -> tuple:
        """Run one action with given inputs: (next_state, violated check ids)."""
        nxt, viol = self.bodies[aid](state, inputs)
        return nxt, [self.check_ids[v] for v in viol]


def _eq_head(guard: Expr) -> tuple[list[tuple[int, int]], list[Expr]]:
    """Split a guard into leading state-var == const tests and the rest."""
    conj = list(guard.args) if isinstance(guard, And) else [guard]
    flat: list[Expr] = []
    while conj:
        c = conj.pop(0)
        if isinstance(c, And):
            conj = list(c.args) + conj
        else:
            flat.append(c)
    heads: list[tuple[int, int]] = []
    rest: list[Expr] = []
    for c in flat:
        if (
            not rest
            and isinstance(c, Eq)
            and isinstance(c.a, Var)
            and not c.a.local
            and isinstance(c.b, Const)
        ):
            heads.append((c.a.index, c.b.value))
        else:
            rest.append(c)
    return heads, rest


def compile_model(actions: list[Action]) -> Compiled:
    checks: dict[str, int] = {}
    check_objs: dict[str, object] = {}
    src: list[str] = []
    for i, a in enumerate(actions):
        names = _Names(a.inputs)
        src.append(f"def body_{i}(s, inp):")
        src.append("    n = list(s)")
        src.append("    viol = []")
        src += _stmts_py(a.body, names, checks, "    ")
        src.append("    return tuple(n), viol")
        src.append(f"def guard_{i}(s):")
        src.append(f"    return {expr_py(a.guard, 's')}")
        combos = list(itertools.product((False, True), repeat=len(a.inputs)))
        src.append(f"COMBOS_{i} = {combos!r}")
        from model.dsl import walk_stmts

        for st in walk_stmts(a.body):
            if isinstance(st, Assert):
                check_objs[st.check.id] = st.check

    # Decision tree over guard heads.
    entries = []
    for i, a in enumerate(actions):
        heads, rest = _eq_head(a.guard)
        rest_py = " and ".join(expr_py(r, "s") for r in rest) or "True"
        entries.append((heads, rest_py, i))

    out = ["def successors(s):", "    out = []"]

    def emit(group: list, depth: int, indent: str) -> None:
        leaf = [e for e in group if len(e[0]) <= depth]
        for _heads, rest_py, i in leaf:
            out.append(f"{indent}if {rest_py}:")
            out.append(f"{indent}    seen = set()")
            out.append(f"{indent}    for inp in COMBOS_{i}:")
            out.append(f"{indent}        r = body_{i}(s, inp)")
            out.append(f"{indent}        if r[0] not in seen or r[1]:")
            out.append(f"{indent}            seen.add(r[0])")
            out.append(f"{indent}            out.append(({i}, inp, r[0], r[1]))")
        deeper = [e for e in group if len(e[0]) > depth]
        by_var: dict[int, dict[int, list]] = {}
        for e in deeper:
            var, val = e[0][depth]
            by_var.setdefault(var, {}).setdefault(val, []).append(e)
        for var, by_val in by_var.items():
            vname = f"v{depth}_{var}"
            out.append(f"{indent}{vname} = s[{var}]")
            for val, sub in by_val.items():
                out.append(f"{indent}if {vname} == {val}:")
                emit(sub, depth + 1, indent + "    ")

    emit(entries, 0, "    ")
    out.append("    return out")
    source = "\n".join(src + out) + "\n"
    ns: dict = {"ModelError": ModelError}
    exec(compile(source, "<fpcheck-model>", "exec"), ns)
    check_ids = sorted(checks, key=checks.get)
    return Compiled(
        actions=actions,
        check_ids=check_ids,
        checks=check_objs,
        successors=ns["successors"],
        guards=[ns[f"guard_{i}"] for i in range(len(actions))],
        bodies=[ns[f"body_{i}"] for i in range(len(actions))],
        source=source,
    )


def compile_predicate(e: Expr) -> Callable[[tuple[int, ...]], bool]:
    ns: dict = {}
    exec(f"def pred(s):\n    return bool({expr_py(e, 's')})\n", ns)
    return ns["pred"]
