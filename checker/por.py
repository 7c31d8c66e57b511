"""Partial-order reduction: the independence relation and stubborn sets, derived from the IR.

Engine-neutral (the explicit engine uses `PorTables` directly, the native engine emits
the same tables into its generated C): nothing here is written per step.  The design and
the soundness argument are in ARCHITECTURE.md ("Partial-order reduction"); in short:

* **Read and write sets** (`action_rw`): an action *reads* every state variable its guard
  and its body mention (branch conditions, assertion conditions, assigned expressions,
  the derived IRQ/softirq windows inlined in the body, on every path), and *writes*
  every state variable its body assigns (on some path).  Two more reads make the
  properties checked *on transitions* local to the step that is checked:
  - the reachability guards' pre-state predicates for that action (`Instance.guard_preds`);
  - for every top-level conjunct of an invariant that mentions a variable the action
    writes, all the variables of that conjunct: "this step makes the conjunct false" is
    then a property of the step in the state it reads.
* **Independence**: actions a and b are independent iff neither writes a variable the
  other reads or writes, or their guards exclude each other syntactically (never enabled
  together).  Then in every state where both are enabled, each stays enabled after the
  other (guards are reads), both orders reach the same state, and each fails the same
  assertions, reaches the same guards and falsifies the same invariant conjuncts as it
  would have before the other (all of that is read by it).  A conjunct the step surely
  makes vacuous (it falsifies one of the conjunct's antecedent tests) is not read.
* **Stubborn sets** (Valmari's strong stubborn sets, closure from one enabled seed): an
  enabled action adds every action dependent on it; a disabled action adds the actions
  that can make one of its false guard conjuncts true (writers of its variables; for
  ``x == k`` / ``x != k`` only those that can store k / another value): a necessary
  enabling set, so nothing outside the set can enable it.  The enabled part of the
  closure is the candidate ample set.
* **Provisos** (applied per state by the engines, `choose`): a candidate is used only if
  none of its transitions fails a fatal assertion (BUG, counter overflow: such a step
  has no successor to continue from) and all of its successors are *new at this BFS
  level* (not in a level <= the current one).  The second is the cycle proviso for
  level-synchronous BFS: on every cycle of the reduced graph some edge goes to a level
  <= its source's, and that source was then fully expanded.  It depends only on the
  levels, never on timing, so both engines (and any number of native workers) reduce
  the same way.  Otherwise the state is fully expanded.

Candidates are tried smallest first (ties: the lowest seed action id), so the reduced
graph is a function of the model alone, identical in both engines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from model.dsl import (
    Action,
    Assert,
    Assign,
    Const,
    Eq,
    Expr,
    If,
    Ite,
    Not,
    Or,
    Var,
    conjuncts,
    walk_exprs,
    walk_stmts,
)

if TYPE_CHECKING:
    from checker.instance import Instance


def expr_var_indices(e: Expr) -> set[int]:
    """The state variables (not step locals) an expression reads, by index."""
    return {x.index for x in walk_exprs(e) if isinstance(x, Var) and not x.local}


def action_rw(a: Action) -> tuple[set[int], set[int]]:
    """(reads, writes) of one action: guard and whole body, every path (indices)."""
    reads = expr_var_indices(a.guard)
    writes: set[int] = set()
    for st in walk_stmts(a.body):
        if isinstance(st, Assign):
            reads |= expr_var_indices(st.expr)
            if not st.var.local:
                writes.add(st.var.index)
        elif isinstance(st, (If, Assert)):
            reads |= expr_var_indices(st.cond)
    return reads, writes


def bits(xs: Iterable[int]) -> int:
    out = 0
    for x in xs:
        out |= 1 << x
    return out


def members(b: int) -> list[int]:
    out = []
    while b:
        low = b & -b
        out.append(low.bit_length() - 1)
        b ^= low
    return out


@dataclass
class PorTables:
    """The static part of the reduction for one instance (see the module docstring)."""

    nact: int
    reads: list[set[int]]  # per action, extended reads (variable indices)
    writes: list[set[int]]
    dep: list[int]  # per action: bitset of the actions dependent on it (not itself)
    # per action: its guard's conjuncts, fewest enablers first, each with the bitset of
    # the actions that can make it true (the enabling set used when that conjunct is the
    # first false one)
    nes: list[list[tuple[Expr, int]]]
    var_names: list[str] = field(default_factory=list)
    # Actions that can seed a proper stubborn set: some action is neither dependent on
    # it nor excluded by its guard.  From any other seed the closure holds every action
    # enabled with it, so the engines do not try those.
    useful: int = 0

    def closure(self, seed: int, enabled: int, false_conj: Callable[[int], int]) -> int:
        """The stubborn set from ``seed`` (an enabled action): a bitset of actions.
        ``false_conj(a)`` gives the index in ``nes[a]`` of the chosen false conjunct of
        the disabled action ``a``."""
        T = 1 << seed
        todo = [seed]
        dep, nes = self.dep, self.nes
        while todo:
            t = todo.pop()
            add = dep[t] if enabled >> t & 1 else nes[t][false_conj(t)][1]
            new = add & ~T
            if new:
                T |= new
                if T & enabled == enabled:
                    return T  # every enabled action: no reduction from this seed
                todo.extend(members(new))
        return T

    def candidates(self, enabled: int, false_conj: Callable[[int], int]) -> list[int]:
        """Distinct proper ample sets (bitsets of enabled actions), smallest first, ties
        by the lowest seed (the order every engine tries them in)."""
        seen: dict[int, tuple[int, int]] = {}
        for seed in members(enabled & self.useful):
            amp = self.closure(seed, enabled, false_conj) & enabled
            if amp != enabled and amp not in seen:
                seen[amp] = (amp.bit_count(), seed)
        return sorted(seen, key=seen.get)


def por_tables(inst: Instance) -> PorTables:
    """The reduction's tables for ``inst`` (built once per instance)."""
    cache = inst.__dict__.setdefault("_engine_cache", {})
    if "por" not in cache:
        cache["por"] = build_tables(inst)
    return cache["por"]


def build_tables(inst: Instance) -> PorTables:
    actions = inst.actions
    n = len(actions)
    reads: list[set[int]] = []
    writes: list[set[int]] = []
    for a in actions:
        r, w = action_rw(a)
        reads.append(r)
        writes.append(w)
    # Reachability guards: their pre-state predicates are read by the step they watch.
    for _g, per in inst.guard_preds:
        for aid, e in per.items():
            reads[aid] |= expr_var_indices(e)
    # Invariants, conjunct by conjunct: a step that writes a variable of a conjunct reads
    # all of it (whether the step makes it false is then decided by what the step reads).
    # A conjunct "antecedent -> consequent" that the step surely makes vacuous (it sets a
    # variable of an antecedent test to a value failing it on every path, or leaves
    # alone a variable its own guard pins to such a value) cannot be made false by it.
    inv_conj = [(c, expr_var_indices(c), _antecedent_tests(c))
                for e in inst.invariants.values() for c in conjuncts(e)]
    for aid, a in enumerate(actions):
        w = writes[aid]
        after = _values_after(a)
        for _c, vs, ante in inv_conj:
            if vs & w and not any(_surely_false(t, after) for t in ante):
                reads[aid] |= vs
    nv = len(inst.layout.vars)
    readers = [0] * nv
    writers = [0] * nv
    for aid in range(n):
        for v in reads[aid]:
            readers[v] |= 1 << aid
        for v in writes[aid]:
            writers[v] |= 1 << aid
    dep: list[int] = []
    for aid in range(n):
        d = 0
        for v in writes[aid]:
            d |= readers[v] | writers[v]
        for v in reads[aid]:
            d |= writers[v]
        dep.append(d & ~(1 << aid))
    # Actions whose guards exclude each other (x == 1 and x == 2, or x == k and x != k,
    # among their top-level conjuncts) are never enabled together: independent by
    # definition (the commutation requirement only concerns states where both are
    # enabled; see ARCHITECTURE.md).
    excl = _exclusive(actions)
    for aid in range(n):
        dep[aid] &= ~excl[aid]
    # What each action may assign to each variable (None: any value), to refine the
    # enabling sets: only a writer that can store the tested value can make
    # ``x == k`` true (or a value other than k, ``x != k``).
    assigns: list[dict[int, set[int] | None]] = []
    for a in actions:
        vals: dict[int, set[int] | None] = {}
        for st in walk_stmts(a.body):
            if isinstance(st, Assign) and not st.var.local:
                i = st.var.index
                got = _const_values(st.expr)
                if got is None or vals.get(i, set()) is None:
                    vals[i] = None
                else:
                    vals[i] = vals.get(i, set()) | got  # type: ignore[operator]
        assigns.append(vals)

    def enablers(c: Expr) -> int:
        test = _var_test(c)
        if test is None:
            return bits_or(writers, expr_var_indices(c))
        var, k, want_eq = test
        out = 0
        for b in members(writers[var]):
            vals = assigns[b][var]
            if vals is None or (k in vals if want_eq else bool(vals - {k})):
                out |= 1 << b
        return out

    nes: list[list[tuple[Expr, int]]] = []
    for a in actions:
        cs = [(c, enablers(c)) for c in conjuncts(a.guard)]
        # Fewest enabling writers first (stable: guard order among equals).
        cs.sort(key=lambda ce: ce[1].bit_count())
        nes.append(cs)
    full = (1 << n) - 1
    useful = bits(a for a in range(n) if (dep[a] | excl[a] | 1 << a) != full)
    return PorTables(n, reads, writes, dep, nes, [v.name for v in inst.layout.vars], useful)


def _antecedent_tests(c: Expr) -> list[tuple[int, int, bool]]:
    """The variable tests whose conjunction implies ``c`` (c = not(t1 & t2 ...) | q)."""
    out: list[tuple[int, int, bool]] = []
    for d in (c.args if isinstance(c, Or) else (c,)):
        if isinstance(d, Not):
            for t in conjuncts(d.a):
                vt = _var_test(t)
                if vt is not None:
                    out.append(vt)
    return out


def _values_after(a: Action) -> dict[int, set[int]]:
    """Variables whose value after the step is surely in a known set: assigned constants
    on every path (must-write), or not written at all and pinned by a guard test x == k."""
    def must(body: tuple) -> dict[int, set[int] | None]:
        out: dict[int, set[int] | None] = {}
        for st in body:
            if isinstance(st, Assign) and not st.var.local:
                out[st.var.index] = _const_values(st.expr)
            elif isinstance(st, If):
                t, e = must(st.then), must(st.els)
                for k in set(t) & set(e):
                    tv, ev = t[k], e[k]
                    out[k] = None if tv is None or ev is None else tv | ev
                for k in set(t) ^ set(e):  # written on one branch only: no longer known
                    if k in out:
                        out[k] = None
                    else:
                        out.setdefault(k, None)
        return out

    written = {st.var.index for st in walk_stmts(a.body)
               if isinstance(st, Assign) and not st.var.local}
    known: dict[int, set[int]] = {}
    for var, k, is_eq in (t for t in map(_var_test, conjuncts(a.guard)) if t is not None):
        if is_eq and var not in written:
            known[var] = {k}
    m = must(a.body)
    for var, vals in m.items():
        if vals is not None and var in written:
            known[var] = vals
    return known


def _surely_false(test: tuple[int, int, bool], after: dict[int, set[int]]) -> bool:
    var, k, is_eq = test
    vals = after.get(var)
    if vals is None:
        return False
    return k not in vals if is_eq else vals == {k}


def _exclusive(actions: list[Action]) -> list[int]:
    """Per action, the bitset of actions whose guard contradicts its own syntactically."""
    eqs: dict[tuple[int, int], int] = {}  # (var, k) -> actions testing var == k
    nes: dict[tuple[int, int], int] = {}  # (var, k) -> actions testing var != k
    by_var: dict[int, set[int]] = {}
    tests: list[list[tuple[int, int, bool]]] = []
    for aid, a in enumerate(actions):
        ts = [t for t in map(_var_test, conjuncts(a.guard)) if t is not None]
        tests.append(ts)
        for var, k, is_eq in ts:
            table = eqs if is_eq else nes
            table[(var, k)] = table.get((var, k), 0) | 1 << aid
            if is_eq:
                by_var.setdefault(var, set()).add(k)
    out = []
    for ts in tests:
        x = 0
        for var, k, is_eq in ts:
            if is_eq:
                for k2 in by_var.get(var, ()):
                    if k2 != k:
                        x |= eqs[(var, k2)]
                x |= nes.get((var, k), 0)
            else:
                x |= eqs.get((var, k), 0)
        out.append(x)
    return out


def _const_values(e: Expr) -> set[int] | None:
    """The values an assigned expression can take, if it is made of constants only."""
    if isinstance(e, Const):
        return {e.value}
    if isinstance(e, Ite):
        a, b = _const_values(e.a), _const_values(e.b)
        return None if a is None or b is None else a | b
    return None


def _var_test(c: Expr) -> tuple[int, int, bool] | None:
    """(variable, value, True) for ``x == k``, (variable, value, False) for ``x != k``."""
    neg = isinstance(c, Not)
    e = c.a if neg else c
    if (isinstance(e, Eq) and isinstance(e.a, Var) and not e.a.local
            and isinstance(e.b, Const)):
        return e.a.index, e.b.value, not neg
    return None


def bits_or(table: list[int], idx: Iterable[int]) -> int:
    out = 0
    for i in idx:
        out |= table[i]
    return out


__all__ = ["PorTables", "action_rw", "build_tables", "por_tables"]
