"""An optimistic bound on what partial-order reduction could do for this model.

Usage (from the repository root; ~1 minute):

    python bench/bench_por_bound.py [--variant v4.18] [--sample 1500]

checker/por.py reduces nothing on today's model (bench/bench_por.py; ARCHITECTURE.md,
"Partial-order reduction").  Before building a finer independence relation into both
engines, this script asks whether any relation of the read/write kind could help.  Over
a seeded sample of the reachable states of v4.18 with 2 CPUs (Python engine), it
computes stubborn sets with a read/write dependency relation that is *more generous than
any sound relation of that kind could be* (it may call steps independent that are not):

* every step is specialised to the state at hand: its body is evaluated with every
  control variable (not register contents, not ghosts) known, so only the branches taken
  from this state count for its reads and writes (disabled steps too, although a sound
  relation would have to cover every state a disabled step may later run in);
* the ghost monitor's in-place relabelling (``x = Retire(x, ...)``: the write monitor
  retiring an owner's older values in every image, the kernel-NEON read-back) is not a
  read or a write at all; nor are the global ghost flags (``ghost.*``);
* a read through a test ``x == k`` conflicts with a write of ``x`` only if the write
  changes the test's outcome from this state's value, and two writes of the same
  constant do not conflict;
* an invariant conjunct adds to a step's reads only the variables that decide its value
  after the step (short-circuited, preferring variables the step writes or its guard
  reads), not all of its variables.

Enabling sets of disabled steps are checker.por's.  The script prints how many sampled
states would get a proper stubborn set and how many successors would be pruned, then,
for every closure from an enabled seed, the first step of another CPU it takes in and
why.  The closures are not checked against the provisos: the figures are an upper
bound of what such a relation could prune.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_por import print_couplings, traced_closure  # noqa: E402

from checker.explicit.compile import compile_predicate, compiled  # noqa: E402
from checker.explicit.explore import explore_bfs  # noqa: E402
from checker.instance import PROPERTY_NAMES, Instance  # noqa: E402
from checker.por import expr_var_indices, members, por_tables  # noqa: E402
from model.config import Config  # noqa: E402
from model.dsl import (  # noqa: E402
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
    Not,
    Or,
    Retire,
    Stmt,
    Var,
    conjuncts,
)
from model.variants import get_variant  # noqa: E402

ANY = None  # a read of the whole value (not only through tests ``x == k``)


class Specialiser:
    """Reads (variable -> the constants it is tested against, or ANY) and writes
    (variable -> the constant written, or None) of a step body from a known state."""

    def __init__(self, prefer: set[int]) -> None:
        self.prefer = prefer

    def ev(self, e: Expr, env: dict) -> tuple[int | None, frozenset]:
        if isinstance(e, Const):
            return e.value, frozenset()
        if isinstance(e, Var):
            got = env.get(_key(e))
            if got is not None:
                return got
            return None, frozenset() if e.local else frozenset([(e.index, ANY)])
        if isinstance(e, Input):
            return None, frozenset()
        if isinstance(e, Not):
            v, r = self.ev(e.a, env)
            return (None if v is None else 1 - v), r
        if isinstance(e, (And, Or)):
            absorb = 0 if isinstance(e, And) else 1
            reads: frozenset = frozenset()
            known, best = True, None
            for x in e.args:
                v, r = self.ev(x, env)
                if v == absorb:  # decides alone: keep the cheapest such operand's reads
                    cost = sum(1 for i, _k in r if i not in self.prefer)
                    if best is None or cost < best[0]:
                        best = (cost, r)
                    continue
                known &= v is not None
                reads |= r
            if best is not None:
                return absorb, best[1]
            return (1 - absorb if known else None), reads
        if isinstance(e, Eq):
            a = e.a
            if (isinstance(a, Var) and not a.local and isinstance(e.b, Const)
                    and env.get(_key(a), (None, None))[1] == frozenset([(a.index, ANY)])):
                return int(env[_key(a)][0] == e.b.value), frozenset([(a.index, e.b.value)])
            x, rx = self.ev(e.a, env)
            y, ry = self.ev(e.b, env)
            return (None if x is None or y is None else int(x == y)), rx | ry
        if isinstance(e, Ite):
            c, rc = self.ev(e.c, env)
            if c is not None:
                v, r = self.ev(e.a if c else e.b, env)
                return v, rc | r
            x, rx = self.ev(e.a, env)
            y, ry = self.ev(e.b, env)
            return (x if x == y else None), rc | rx | ry
        if isinstance(e, AddC):
            v, r = self.ev(e.a, env)
            return (None if v is None else v + e.k), r
        if isinstance(e, Retire):
            v, r = self.ev(e.a, env)
            return (None if v is None else e.stale if v == e.latest else v), r
        raise TypeError(f"unknown expression {e!r}")

    def walk(self, body: tuple[Stmt, ...], env: dict, reads: set, writes: dict) -> None:
        for st in body:
            if isinstance(st, Mark):
                continue
            if isinstance(st, Assign):
                if isinstance(st.expr, Retire) and st.expr.a is st.var:
                    continue  # the ghost monitor's in-place relabelling
                v, r = self.ev(st.expr, env)
                reads |= r
                if not st.var.local and not st.var.name.startswith("ghost."):
                    i = st.var.index
                    writes[i] = v if writes.get(i, v) == v else None
                env[_key(st.var)] = (v, r)
            elif isinstance(st, Assert):
                reads |= self.ev(st.cond, env)[1]
            elif isinstance(st, If):
                c, r = self.ev(st.cond, env)
                reads |= r
                if c is not None:
                    self.walk(st.then if c else st.els, env, reads, writes)
                    continue
                e1, e2, w1, w2 = dict(env), dict(env), dict(writes), dict(writes)
                self.walk(st.then, e1, reads, w1)
                self.walk(st.els, e2, reads, w2)
                for k in set(w1) | set(w2):
                    writes[k] = w1.get(k) if w1.get(k, "-") == w2.get(k, "-") else None
                env.clear()
                for k in set(e1) | set(e2):
                    x, y = e1.get(k), e2.get(k)
                    if x is None or y is None:  # assigned on one path only
                        base = frozenset() if isinstance(k, tuple) else frozenset([(k, ANY)])
                        env[k] = (None, (x or y)[1] | base)
                    else:
                        env[k] = (x[0] if x[0] == y[0] else None, x[1] | y[1])


def _key(v: Var) -> object:
    return ("local", id(v)) if v.local else v.index


def conflict(s: bytes, a: tuple[dict, dict], b: tuple[dict, dict]) -> bool:
    (ra, wa), (rb, wb) = a, b
    for w, r, ow in ((wa, rb, wb), (wb, ra, wa)):
        for x, new in w.items():
            if x in ow and (new is None or ow[x] != new):
                return True
            if x in r:
                tests = r[x]
                if tests is ANY or new is None or any((s[x] == k) != (new == k) for k in tests):
                    return True
    return False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--variant", default="v4.18")
    ap.add_argument("--sample", type=int, default=1500)
    args = ap.parse_args()
    inst = Instance(Config(cpus=2, preempt="PREEMPT", prove_locking=False,
                           trace_irqflags=False), get_variant(args.variant))
    acts, n = inst.actions, len(inst.actions)
    control = [v.index for v in inst.layout.vars if v.dom.kind not in ("value", "ghost")]
    t = por_tables(inst)
    inv = [c for e in inst.invariants.values() for c in conjuncts(e)]
    inv_vars = [expr_var_indices(c) for c in inv]
    guard_reads = [expr_var_indices(a.guard) for a in acts]
    comp = compiled(inst)
    _res, graph = explore_bfs(inst, list(PROPERTY_NAMES), keep_graph=True)
    states = graph[0]
    preds = [[compile_predicate(c) for c, _ in cs] for cs in t.nes]
    memo: dict = {}

    def rw(aid: int, s: bytes) -> tuple[dict, dict]:
        key = (aid, bytes(s[i] for i in control))
        got = memo.get(key)
        if got is None:
            env = {i: (s[i], frozenset([(i, ANY)])) for i in control}
            reads = {(i, ANY) for i in guard_reads[aid]}
            writes: dict = {}
            sp = Specialiser(set(guard_reads[aid]))
            sp.walk(acts[aid].body, env, reads, writes)
            sp.prefer |= set(writes)
            for c, vs in zip(inv, inv_vars, strict=True):
                if vs & set(writes):
                    reads |= sp.ev(c, env)[1]
            rd: dict = {}
            for i, k in reads:
                rd[i] = ANY if k is ANY or rd.get(i, set()) is ANY else rd.get(i, set()) | {k}
            got = memo[key] = (rd, writes)
        return got

    rng = random.Random(0)
    sample = rng.sample(states, min(args.sample, len(states)))
    proper = pruned = total = closures = 0
    chains: Counter = Counter()
    for s in sample:
        succ = comp.successors(s)
        enabled = 0
        for x in succ:
            enabled |= 1 << x[0]
        rws = [rw(a, s) for a in range(n)]
        dep_memo: dict[int, int] = {}

        def dep(a: int, s: bytes = s, rws: list = rws, dep_memo: dict = dep_memo) -> int:
            if a not in dep_memo:
                dep_memo[a] = sum(1 << b for b in range(n)
                                  if b != a and conflict(s, rws[a], rws[b]))
            return dep_memo[a]

        def enabling_of(a: int, s: bytes = s) -> int:
            return t.nes[a][next(k for k, p in enumerate(preds[a]) if not p(s))][1]

        best = enabled
        for seed in members(enabled):
            closures += 1
            T, found = traced_closure(acts, seed, enabled, dep, enabling_of, whole=True)
            chains[(acts[found[0]].name, found[1], acts[found[2]].label) if found else
                   ("(none)", "", "")] += 1
            if (T & enabled).bit_count() < best.bit_count():
                best = T & enabled
        proper += best != enabled
        total += len(succ)
        pruned += sum(1 for x in succ if not best >> x[0] & 1)
    print(f"{args.variant} {inst.config.describe()}: {len(states):,} reachable states, "
          f"{len(sample):,} sampled")
    print(f"states with a proper stubborn set under the optimistic relation: {proper:,} "
          f"of {len(sample):,}; successors pruned: {pruned:,} of {total:,}")
    print_couplings(chains, closures, "each closure takes in")
    return 0


if __name__ == "__main__":
    sys.exit(main())
