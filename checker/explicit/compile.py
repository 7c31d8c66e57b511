"""The explicit interpreter: compiles the model's guarded commands into Python code.

The model's states are tuples of small ints (see model.dsl); the explorer stores them as
``bytes`` of the same values (every domain is below 256): bytes hash once and cache it,
and a successor is a copy with a few bytes overwritten, which is several times cheaper
than building a tuple of every variable.  For every action we generate

    def body_<i>(s, inp): <locals>; a = bytearray(s); a[j] = ...; return bytes(a), violations

(constant-folded straight-line code, see `_BodyGen`) and one `successors(s)` function
that evaluates the guards through a decision tree over their conjuncts, so a state only
evaluates the tests that can still enable an action.  `Compiled.fire` takes and returns
tuples.  Generated code is exec'd once per model instance.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from model.dsl import (
    Action,
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
    conjuncts,
)

if TYPE_CHECKING:
    from checker.instance import Instance


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


class _BodyGen:
    """Straight-line Python for one action body, with constant propagation.

    Values known at compile time (from the guard's leading equality tests, and from
    constant assignments earlier in the step) are folded, so assertions and branches that
    cannot fail or cannot be taken in this step vanish from the generated code.  Every
    other value lives in a Python local; the next state is built once, as a tuple.
    """

    def __init__(self, action: Action, nvars: int, checks: dict[str, int]) -> None:
        self.names = _Names(action.inputs)
        self.checks = checks
        self.lines: list[str] = []
        self.fresh = 0
        self.nvars = nvars
        heads, _ = _eq_head(action.guard)
        self.known: dict[object, int] = {i: v for i, v in heads}
        self.cur: dict[object, str] = {}
        self.assigned: set[int] = set()  # state variables assigned on some path

    # Each value is ("c", int) for a constant or ("x", code) for Python code.
    def val(self, key: object, var: Var) -> tuple[str, object]:
        if key in self.known:
            return ("c", self.known[key])
        if key in self.cur:
            return ("x", self.cur[key])
        if var.local:
            raise ModelError(f"local {var.name} read before assignment")
        return ("x", f"s[{var.index}]")

    @staticmethod
    def key(var: Var) -> object:
        return ("local", id(var)) if var.local else var.index

    def code(self, v: tuple[str, object]) -> str:
        return str(v[1]) if v[0] == "c" else str(v[1])

    def ex(self, e: Expr) -> tuple[str, object]:
        if isinstance(e, Var):
            return self.val(self.key(e), e)
        if isinstance(e, Const):
            return ("c", e.value)
        if isinstance(e, Input):
            return ("x", f"inp[{self.names.inputs[e.name]}]")
        if isinstance(e, Not):
            a = self.ex(e.a)
            return ("c", int(not a[1])) if a[0] == "c" else ("x", f"(not {a[1]})")
        if isinstance(e, (And, Or)):
            is_and = isinstance(e, And)
            parts = []
            for arg in e.args:
                a = self.ex(arg)
                if a[0] == "c":
                    if bool(a[1]) != is_and:  # False in And / True in Or decides
                        return ("c", 0 if is_and else 1)
                    continue
                parts.append(str(a[1]))
            if not parts:
                return ("c", 1 if is_and else 0)
            if len(parts) == 1:
                return ("x", parts[0])
            return ("x", "(" + (" and " if is_and else " or ").join(parts) + ")")
        if isinstance(e, Eq):
            a, b = self.ex(e.a), self.ex(e.b)
            if a[0] == "c" and b[0] == "c":
                return ("c", int(a[1] == b[1]))
            return ("x", f"({self.code(a)} == {self.code(b)})")
        if isinstance(e, Ite):
            c = self.ex(e.c)
            if c[0] == "c":
                return self.ex(e.a if c[1] else e.b)
            a, b = self.ex(e.a), self.ex(e.b)
            return ("x", f"({self.code(a)} if {c[1]} else {self.code(b)})")
        if isinstance(e, AddC):
            a = self.ex(e.a)
            return ("c", a[1] + e.k) if a[0] == "c" else ("x", f"({a[1]} + {e.k})")
        if isinstance(e, Retire):
            a = self.ex(e.a)
            if a[0] == "c":
                return ("c", e.stale if a[1] == e.latest else a[1])
            return ("x", f"({e.stale} if {a[1]} == {e.latest} else {a[1]})")
        raise ModelError(f"cannot compile {e!r}")

    def local(self) -> str:
        self.fresh += 1
        return f"x{self.fresh}"

    def assign(self, var: Var, v: tuple[str, object], indent: str,
               check: Check | None = None) -> None:
        key = self.key(var)
        if not var.local:
            self.assigned.add(var.index)
        if check is not None:
            # A counter update: out of range, report the overflow site and keep the old
            # value (model.dsl.Assign); the explorer does not continue from that state.
            cid = self.checks.setdefault(check.id, len(self.checks))
            old = self.val(key, var)
            if v[0] == "c":
                if not 0 <= v[1] < var.dom.size:
                    self.lines.append(f"{indent}viol.append({cid})")
                    v = old
            else:
                name = self.local()
                self.lines.append(f"{indent}{name} = {v[1]}")
                self.lines.append(f"{indent}if not 0 <= {name} < {var.dom.size}:")
                self.lines.append(f"{indent}    viol.append({cid})")
                self.lines.append(f"{indent}    {name} = {self.code(old)}")
                v = ("x", name)
        if v[0] == "c":
            if var.dom.kind == "int" and not 0 <= v[1] < var.dom.size:
                self.lines.append(f"{indent}raise ModelError('{var.name} out of range')")
            self.known[key] = v[1]
            self.cur.pop(key, None)
            return
        if check is not None and isinstance(v[1], str) and v[1].startswith("x"):
            self.known.pop(key, None)
            self.cur[key] = v[1]
            return
        name = self.local()
        self.lines.append(f"{indent}{name} = {v[1]}")
        if var.dom.kind == "int":
            self.lines.append(
                f"{indent}if not 0 <= {name} < {var.dom.size}: "
                f"raise ModelError('{var.name} out of range')")
        self.known.pop(key, None)
        self.cur[key] = name

    def block(self, body: tuple[Stmt, ...], indent: str) -> None:
        for st in body:
            if isinstance(st, Assign):
                self.assign(st.var, self.ex(st.expr), indent, st.check)
            elif isinstance(st, Assert):
                c = self.ex(st.cond)
                cid = self.checks.setdefault(st.check.id, len(self.checks))
                if c[0] == "c":
                    if not c[1]:
                        self.lines.append(f"{indent}viol.append({cid})")
                else:
                    self.lines.append(f"{indent}if not {c[1]}: viol.append({cid})")
            elif isinstance(st, If):
                c = self.ex(st.cond)
                if c[0] == "c":
                    self.block(st.then if c[1] else st.els, indent)
                    continue
                self.branch(str(c[1]), st, indent)
            elif isinstance(st, Mark):
                continue
            else:
                raise ModelError(f"unknown statement {st!r}")

    def branch(self, cond: str, st: If, indent: str) -> None:
        known0, cur0 = dict(self.known), dict(self.cur)
        self.lines.append(f"{indent}if {cond}:")
        mark_then = len(self.lines)
        self.block(st.then, indent + "    ")
        known_t, cur_t = self.known, self.cur
        then_lines = self.lines[mark_then:]
        del self.lines[mark_then:]
        self.known, self.cur = dict(known0), dict(cur0)
        self.block(st.els, indent + "    ")
        known_e, cur_e = self.known, self.cur
        else_lines = self.lines[mark_then:]
        del self.lines[mark_then:]
        changed = {k for k in set(known_t) | set(cur_t) | set(known_e) | set(cur_e)
                   if _state_of(k, known_t, cur_t) != _state_of(k, known_e, cur_e)}
        # A step-local assigned on one side only is scoped to that branch: drop it.
        scoped = {k for k in changed if not isinstance(k, int)
                  and (_state_of(k, known_t, cur_t)[0] == "s"
                       or _state_of(k, known_e, cur_e)[0] == "s")}
        changed -= scoped
        for d in (known_t, cur_t):
            for k in scoped:
                d.pop(k, None)
        merged_known = {k: v for k, v in known_t.items() if k not in changed}
        merged_cur = {k: v for k, v in cur_t.items() if k not in changed}
        phi = {k: self.local() for k in changed}
        for k in sorted(changed, key=str):
            then_lines.append(f"{indent}    {phi[k]} = {_code_of(k, known_t, cur_t)}")
            else_lines.append(f"{indent}    {phi[k]} = {_code_of(k, known_e, cur_e)}")
        self.lines += then_lines or [f"{indent}    pass"]
        self.lines.append(f"{indent}else:")
        self.lines += else_lines or [f"{indent}    pass"]
        self.known, self.cur = merged_known, merged_cur
        self.cur.update(phi)

    def result(self, indent: str) -> list[str]:
        """Lines building the next state as bytes: copy, then overwrite what was assigned."""
        lines = [f"{indent}a = bytearray(s)"]
        for i in sorted(self.assigned):
            if i in self.known:
                lines.append(f"{indent}a[{i}] = {self.known[i]}")
            elif i in self.cur:
                lines.append(f"{indent}a[{i}] = {self.cur[i]}")
        return lines


def _state_of(k: object, known: dict, cur: dict) -> tuple:
    if k in known:
        return ("c", known[k])
    if k in cur:
        return ("x", cur[k])
    return ("s", k)


def _code_of(k: object, known: dict, cur: dict) -> str:
    if k in known:
        return str(known[k])
    if k in cur:
        return cur[k]
    if isinstance(k, int):
        return f"s[{k}]"
    raise ModelError("a step-local value is used on a path that never assigned it")


# Up to this many inputs an action's input combinations are enumerated eagerly (every
# combination runs the body); above, `lazy_inputs` explores only the inputs the body
# actually reads (an IRQ point's input is read only where IRQs can be taken).
EAGER_INPUTS = 1


class _Choices:
    """The inputs of one run of a body: fixed choices, then False; records reads."""

    __slots__ = ("fixed", "read")

    def __init__(self, fixed: dict[int, bool]) -> None:
        self.fixed = fixed
        self.read: list[int] = []

    def __getitem__(self, j: int) -> bool:
        v = self.fixed.get(j)
        if v is None:
            self.fixed[j] = v = False
            self.read.append(j)
        return v


def lazy_inputs(body: Callable, aid: int, n: int, s: bytes, app: Callable) -> None:
    """Every distinct outcome of ``body`` on ``s`` over all input values, running the
    body once per path through the inputs it reads (depth-first: the last input read
    with a default False is flipped to True).  Inputs a path never reads do not change
    its outcome, so this covers every combination."""
    seen: list = []
    todo: list[dict[int, bool]] = [{}]
    while todo:
        ch = _Choices(todo.pop())
        base = dict(ch.fixed)
        r = body(s, ch)
        for j in ch.read:  # each defaulted read, flipped, with the earlier ones kept
            flip = dict(base)
            flip[j] = True
            todo.append(flip)
            base[j] = False
        if r not in seen:
            seen.append(r)
            app((aid, tuple(ch.fixed.get(j, False) for j in range(n)), r[0], r[1]))


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
        """Run one action with given inputs: (next_state as a tuple, violated check ids)."""
        nxt, viol = self.bodies[aid](bytes(state), tuple(inputs))
        return tuple(nxt), [self.check_ids[v] for v in viol]


def _eq_head(guard: Expr) -> tuple[list[tuple[int, int]], list[Expr]]:
    """Split a guard into leading state-var == const tests and the rest."""
    heads: list[tuple[int, int]] = []
    rest: list[Expr] = []
    for c in conjuncts(guard):
        if not rest and _is_var_eq(c):
            heads.append((c.a.index, c.b.value))
        else:
            rest.append(c)
    return heads, rest


def _is_var_eq(c: Expr) -> bool:
    return (isinstance(c, Eq) and isinstance(c.a, Var) and not c.a.local
            and isinstance(c.b, Const))


def _tests(guard: Expr) -> list[tuple]:
    """The guard as a sequence of tests: ("eq", var, value) or ("py", code)."""
    out = []
    for c in conjuncts(guard):
        if _is_var_eq(c):
            out.append(("eq", c.a.index, c.b.value))
        else:
            out.append(("py", expr_py(c, "s")))
    return out


def compile_model(actions: list[Action], n_state_vars: int = 0) -> Compiled:
    """Generate and load the Python code of a model instance (see the module docstring).

    Guards become a decision tree over their conjuncts: actions that share a prefix of
    tests (the same current task, program point, "IRQs enabled", ...) evaluate it once.
    """
    from model.dsl import checks_of

    checks: dict[str, int] = {}
    check_objs: dict[str, object] = {}
    src: list[str] = []
    nvars = 1 + max((v.index for a in actions for v in _state_vars(a)), default=-1)
    nvars = max(nvars, n_state_vars)
    relevant: list[list[int]] = []
    may_fail: list[bool] = []
    for i, a in enumerate(actions):
        gen = _BodyGen(a, nvars, checks)
        gen.block(a.body, "    ")
        can_fail = any("viol.append" in line for line in gen.lines)
        may_fail.append(can_fail)
        src.append(f"def body_{i}(s, inp):")
        if can_fail:
            src.append("    viol = []")
        src += gen.lines + gen.result("    ")
        src.append(f"    return bytes(a), {'viol' if can_fail else 'NOVIOL'}")
        if not can_fail:
            src.append(f"def fast_{i}(s, inp):")
            src += gen.lines + gen.result("    ")
            src.append("    return bytes(a)")
        src.append(f"def guard_{i}(s):")
        src.append(f"    return {expr_py(a.guard, 's')}")
        # Inputs whose every use was folded away cannot change the result.
        text = "\n".join(gen.lines)
        used = [j for j in range(len(a.inputs)) if f"inp[{j}]" in text]
        relevant.append(used)
        combos = []
        for bits in itertools.product((False, True),
                                      repeat=len(used) if len(used) <= EAGER_INPUTS else 0):
            full = [False] * len(a.inputs)
            for j, b in zip(used, bits, strict=False):
                full[j] = b
            combos.append(tuple(full))
        if len(used) <= EAGER_INPUTS:
            src.append(f"COMBOS_{i} = {combos!r}")
        for chk in checks_of(a.body):
            check_objs[chk.id] = chk

    out = ["def successors(s):", "    out = []", "    app = out.append"]
    fresh = [0]

    def leaf(i: int, indent: str) -> None:
        if not relevant[i]:
            inp = repr(tuple([False] * len(actions[i].inputs)))
            if may_fail[i]:
                out.append(f"{indent}r = body_{i}(s, {inp})")
                out.append(f"{indent}app(({i}, {inp}, r[0], r[1]))")
            else:
                out.append(f"{indent}app(({i}, {inp}, fast_{i}(s, {inp}), NOVIOL))")
            return
        # Input values with the same outcome (successor and failed checks) are one
        # transition; the native engine counts the same way.
        if len(relevant[i]) <= EAGER_INPUTS:
            out.append(f"{indent}seen = []")
            out.append(f"{indent}for inp in COMBOS_{i}:")
            out.append(f"{indent}    r = body_{i}(s, inp)")
            out.append(f"{indent}    if r not in seen:")
            out.append(f"{indent}        seen.append(r)")
            out.append(f"{indent}        app(({i}, inp, r[0], r[1]))")
        else:
            out.append(f"{indent}lazy_inputs(body_{i}, {i}, {len(actions[i].inputs)}, s, app)")

    def emit(group: list[tuple[list, int]], indent: str) -> None:
        for tests, i in group:
            if not tests:
                leaf(i, indent)
        rest = [(t, i) for t, i in group if t]
        # Group by the first test, keeping first-appearance order.
        eq_by_var: dict[int, dict[int, list]] = {}
        py_by_code: dict[str, list] = {}
        order: list[tuple] = []
        for tests, i in rest:
            head = tests[0]
            if head[0] == "eq":
                if head[1] not in eq_by_var:
                    eq_by_var[head[1]] = {}
                    order.append(("eq", head[1]))
                eq_by_var[head[1]].setdefault(head[2], []).append((tests[1:], i))
            else:
                if head[1] not in py_by_code:
                    py_by_code[head[1]] = []
                    order.append(("py", head[1]))
                py_by_code[head[1]].append((tests[1:], i))
        for kind, key in order:
            if kind == "eq":
                fresh[0] += 1
                vname = f"v{fresh[0]}"
                out.append(f"{indent}{vname} = s[{key}]")
                for n, (val, sub) in enumerate(eq_by_var[key].items()):
                    out.append(f"{indent}{'if' if n == 0 else 'elif'} {vname} == {val}:")
                    emit(sub, indent + "    ")
            else:
                out.append(f"{indent}if {key}:")
                emit(py_by_code[key], indent + "    ")

    emit([(_tests(a.guard), i) for i, a in enumerate(actions)], "    ")
    out.append("    return out")
    source = "\n".join(src + out) + "\n"
    ns: dict = {"ModelError": ModelError, "NOVIOL": (), "lazy_inputs": lazy_inputs}
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


def _state_vars(a: Action) -> list[Var]:
    from model.dsl import walk_exprs, walk_stmts

    out = [e for e in walk_exprs(a.guard) if isinstance(e, Var) and not e.local]
    for st in walk_stmts(a.body):
        if isinstance(st, Assign) and not st.var.local:
            out.append(st.var)
    return out


def compiled(inst: Instance) -> Compiled:
    """The explicit engine's executable form of ``inst`` (built once per instance)."""
    cache = inst.__dict__.setdefault("_engine_cache", {})
    if "explicit" not in cache:
        cache["explicit"] = compile_model(inst.actions, len(inst.layout.vars))
    return cache["explicit"]


def compile_predicate(e: Expr) -> Callable[[tuple[int, ...]], bool]:
    ns: dict = {}
    exec(f"def pred(s):\n    return bool({expr_py(e, 's')})\n", ns)
    return ns["pred"]
