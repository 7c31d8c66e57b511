"""Benchmark of partial-order reduction (checker/por.py): the same search with and without.

Usage (from the repository root):

    python bench/bench_por.py                  # v4.17 default, v4.18 --cpus 3,
                                               # v4.18 --sve --cpus 2 (~5-10 min loaded)
    python bench/bench_por.py --big            # also the issue-10 target, both hyp modes:
                                               # v4.18 --cpus 3 --tasks 2 --vcpus 2
                                               # --vmm-threads 2 (--timeout per run)
    python bench/bench_por.py --why            # only the dependency census (small config)

Rows (native engine, all cores, exact mode, all properties; the Python engine where no C
compiler is found): for each configuration, POR off and POR on, with states, transitions,
wall seconds of the search (compilation excluded), states per second, the number of
states expanded with a proper stubborn set, the peak memory of the engine's tables, and
the verdicts (which must be equal).  The equivalent single commands are
``python -m checker explore --variant V [config] [--nvhe|--vhe] [--no-por]``.

Then the *dependency census* explains the effect: over every reachable state of a small
configuration (v4.18, 2 CPUs, Python engine), every pair of steps enabled together on
different CPUs is counted, and for the dependent ones the variables that make them
dependent (a variable one writes and the other reads or writes, reads including what
the properties checked on the step read).  A step on one CPU can be left for later only
if it is independent of everything the other CPUs can do first, so these variables are
what keeps the reduction from applying.

Two more figures say how far a finer dependency relation could go, over a seeded sample
of 20,000 of those states:

* *semantic commutation*: a pair commutes if, for every input of each, both orders are
  enabled, reach the same state, fail the same assertions, and each makes the same
  invariant conjuncts false before and after the other.  This is what an independence
  relation computed per state from the actual values (not from read/write sets) would
  find at best;
* *the first other-CPU step a stubborn set takes in*: from every seed that can yield a
  reduction at all, the closure is followed until it first adds a step of another CPU,
  and that step, the member that added it and the rule (the dependency of an enabled
  member, or the enabling set of a disabled one) are counted.  The most frequent chains
  name the coupling that any reduction between CPUs has to get past.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tabulate import tabulate  # noqa: E402

from checker.explicit.compile import compile_predicate, compiled  # noqa: E402
from checker.explicit.explore import explore_bfs  # noqa: E402
from checker.instance import PROPERTY_NAMES, Instance  # noqa: E402
from checker.limits import Limits  # noqa: E402
from checker.native.build import compiler  # noqa: E402
from checker.por import action_rw, members, por_tables  # noqa: E402
from model.config import Config  # noqa: E402
from model.dsl import conjuncts  # noqa: E402
from model.variants import get_variant  # noqa: E402

ALL = list(PROPERTY_NAMES)


def _verdicts(res) -> str:  # noqa: ANN001
    bad = [f"{p} ({len(t)})" for p, t in res.violations.items()]
    if bad:
        return "VIOLATED " + ", ".join(bad)
    return "holds" if res.complete else f"incomplete ({res.stop_reason})"


def run(inst: Instance, por: bool, timeout: float | None) -> dict:
    limits = Limits(timeout=timeout) if timeout else None
    if limits is not None:
        limits.start()
    if compiler() is not None:
        from checker.native.explore import explore_native, native_model

        native_model(inst)  # compile (or load from the cache) before timing
        t0 = time.perf_counter()
        res, _ = explore_native(inst, ALL, max_states=2**32 - 32, por=por, limits=limits)
        engine = "native"
    else:
        t0 = time.perf_counter()
        res, _ = explore_bfs(inst, ALL, max_states=10**9, por=por, limits=limits)
        engine = "python"
    wall = time.perf_counter() - t0
    peak = getattr(res.stats, "peak_bytes", 0)
    return {
        "engine": engine,
        "por": "on" if por else "off",
        "states": res.stats.states,
        "transitions": res.stats.transitions,
        "seconds": round(wall, 2),
        "states/s": round(res.stats.states / wall) if wall > 0 else 0,
        "reduced": res.stats.reduced,
        "GiB": round(peak / 2**30, 2) if peak else "",
        "verdicts": _verdicts(res),
    }


def configs(big: bool) -> list[tuple[str, str, dict]]:
    rows = [
        ("v4.17 default nVHE", "v4.17", {"vhe": False}),
        ("v4.17 default VHE", "v4.17", {"vhe": True}),
        ("v4.18 --cpus 3 nVHE", "v4.18", {"cpus": 3, "vhe": False}),
        ("v4.18 --sve --cpus 2 VHE", "v4.18", {"cpus": 2, "sve": True, "vhe": True}),
    ]
    if big:
        for vhe in (False, True):
            rows.append((f"v4.18 --cpus 3 --tasks 2 --vcpus 2 --vmm-threads 2 "
                         f"{'VHE' if vhe else 'nVHE'}", "v4.18",
                         {"cpus": 3, "tasks": 2, "vcpus": 2, "vmm_threads": 2, "vhe": vhe}))
    return rows


def census(inst: Instance) -> None:
    """The dependency census (see the module docstring)."""
    t = por_tables(inst)
    acts = inst.actions
    names = [v.name for v in inst.layout.vars]
    _res, graph = explore_bfs(inst, ALL, keep_graph=True)
    states = graph[0]
    comp = compiled(inst)
    pairs: Counter = Counter()
    for s in states:
        en = sorted({aid for aid, *_ in comp.successors(s)})
        for i, a in enumerate(en):
            for b in en[i + 1:]:
                if acts[a].param("cpu") != acts[b].param("cpu"):
                    pairs[(a, b)] += 1
    total = sum(pairs.values())
    dep = {p: n for p, n in pairs.items() if t.dep[p[0]] >> p[1] & 1}
    ndep = sum(dep.values())
    by_var: Counter = Counter()
    by_kind: Counter = Counter()
    raw = [action_rw(a) for a in acts]
    control = {v.index for v in inst.layout.vars if v.dom.kind not in ("value", "ghost")}

    def conflict(ra: set, wa: set, rb: set, wb: set) -> set:
        return (wa & (rb | wb)) | (wb & ra)

    for (a, b), n in dep.items():
        vs = conflict(t.reads[a], t.writes[a], t.reads[b], t.writes[b])
        for v in vs:
            by_var[names[v]] += n
        code = conflict(raw[a][0], raw[a][1], raw[b][0], raw[b][1])
        if code & control:
            by_kind["the code's own control state (task pc, current, flags, ...)"] += n
        elif code:
            by_kind["FP contents only (copies and the write monitor's retiring)"] += n
        else:
            by_kind["only what the properties checked on them read"] += n
    seeds = bin(t.useful).count("1")
    print(f"\ndependency census: {inst.variant.name} {inst.config.describe()}, "
          f"{len(states):,} reachable states, {len(acts)} step instances "
          f"({seeds} can seed a proper stubborn set at all)")
    print(f"pairs of steps enabled together on different CPUs (summed over states): "
          f"{total:,}; dependent: {ndep:,} ({100 * ndep / max(1, total):.1f}%)")
    print("  of the dependent ones, dependent through:")
    for k, n in by_kind.most_common():
        print(f"    {k}: {100 * n / max(1, ndep):.1f}%")
    rows = [(v, f"{100 * n / max(1, ndep):.1f}%") for v, n in by_var.most_common(15)]
    print(tabulate(rows, headers=("variable making them dependent", "share of dependent "
                                  "pairs")))
    sample = random.Random(1).sample(states, min(20_000, len(states)))
    commuting(inst, comp, t, sample)
    first_coupling(inst, comp, t, sample)


def _by_action(comp, s: bytes) -> dict:  # noqa: ANN001
    by: dict[int, list] = {}
    for aid, inp, nxt, viol in comp.successors(s):
        by.setdefault(aid, []).append((inp, nxt, frozenset(viol)))
    return by


def commuting(inst: Instance, comp, t, sample: list[bytes]) -> None:  # noqa: ANN001
    """How many pairs of steps enabled together on different CPUs commute semantically
    (see the module docstring), against how many the read/write sets call independent."""
    acts = inst.actions
    conj = [compile_predicate(c) for e in inst.invariants.values() for c in conjuncts(e)]

    def falsified(before: bytes, after: bytes) -> tuple:
        return tuple(p(before) and not p(after) for p in conj)

    pairs = commute = static_indep = 0
    for s in sample:
        by = _by_action(comp, s)
        en = sorted(by)
        for i, a in enumerate(en):
            for b in en[i + 1:]:
                if acts[a].param("cpu") == acts[b].param("cpu"):
                    continue
                pairs += 1
                static_indep += not (t.dep[a] >> b & 1)
                ok = True
                for inpa, sa, va in by[a]:
                    for inpb, sb, vb in by[b]:
                        rb = comp.bodies[b](sa, inpb) if comp.guards[b](sa) else None
                        ra = comp.bodies[a](sb, inpa) if comp.guards[a](sb) else None
                        ok = (rb is not None and ra is not None and rb[0] == ra[0]
                              and frozenset(rb[1]) == vb and frozenset(ra[1]) == va
                              and falsified(s, sa) == falsified(sb, ra[0])
                              and falsified(s, sb) == falsified(sa, rb[0]))
                        if not ok:
                            break
                    if not ok:
                        break
                commute += ok
    print(f"\nsemantic commutation over {len(sample):,} sampled states: of {pairs:,} pairs of "
          f"steps enabled together on different CPUs, {commute:,} "
          f"({100 * commute / max(1, pairs):.1f}%) commute; the read/write sets call "
          f"{static_indep:,} ({100 * static_indep / max(1, pairs):.1f}%) independent")


def traced_closure(acts: list, seed: int, enabled: int, dep_of: Callable[[int], int],
                   enabling_of: Callable[[int], int], *, whole: bool
                   ) -> tuple[int, tuple[int, str, int] | None]:
    """The stubborn-set closure from ``seed`` (an enabled member adds ``dep_of(m)``, a
    disabled one ``enabling_of(m)``) and the first step of another CPU it took in, as
    (that step, the rule, the member that added it), or None.  Without ``whole`` the
    closure stops at that step."""
    cpu = acts[seed].param("cpu")
    T, todo, found = 1 << seed, [seed], None
    while todo and (whole or found is None):
        m = todo.pop(0)
        if enabled >> m & 1:
            add, rule = dep_of(m), "depends on the enabled member"
        else:
            add, rule = enabling_of(m), "can enable the disabled member"
        for b in members(add & ~T):
            T |= 1 << b
            todo.append(b)
            if found is None and acts[b].param("cpu") not in (cpu, None):
                found = (b, rule, m)
    return T, found


def print_couplings(chains: Counter, closures: int, title: str) -> None:
    """The most frequent first couplings (`traced_closure`) of ``closures`` closures."""
    print(f"\nthe first step of another CPU {title} ({closures:,} closures):")
    rows = [(f"{n / max(1, closures):.1%}", added, rule, member)
            for (added, rule, member), n in chains.most_common(10)]
    print(tabulate(rows, headers=("share", "step of another CPU", "because it",
                                  "member")))


def first_coupling(inst: Instance, comp, t, sample: list[bytes]) -> None:  # noqa: ANN001
    """From each seed that could yield a reduction, the first step of another CPU the
    stubborn set's closure takes in, and why (see the module docstring)."""
    acts = inst.actions
    preds = [[compile_predicate(c) for c, _ in cs] for cs in t.nes]
    chains: Counter = Counter()
    closures = 0
    for s in sample:
        enabled = 0
        for aid in _by_action(comp, s):
            enabled |= 1 << aid

        def enabling_of(m: int, s: bytes = s) -> int:
            return t.nes[m][next(k for k, p in enumerate(preds[m]) if not p(s))][1]

        for seed in members(enabled & t.useful):
            closures += 1
            _T, found = traced_closure(acts, seed, enabled, t.dep.__getitem__,
                                       enabling_of, whole=False)
            chains[(acts[found[0]].name, found[1], acts[found[2]].name) if found else
                   ("(none: the closure stays on the seed's CPU)", "", "")] += 1
    print_couplings(chains, closures, f"taken into a stubborn set (from the useful seeds "
                    f"of {len(sample):,} sampled states)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--big", action="store_true")
    ap.add_argument("--why", action="store_true", help="only the dependency census")
    ap.add_argument("--timeout", type=float, default=600.0,
                    help="per run, seconds (default 600)")
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    if not args.why:
        rows = []
        for label, variant, cfg in configs(args.big):
            inst = Instance(Config(**cfg), get_variant(variant))
            for por in (False, True):
                r = run(inst, por, args.timeout)
                rows.append({"configuration": label, **r})
                print(tabulate([rows[-1]], headers="keys"), flush=True)
        print()
        print(tabulate(rows, headers="keys"))
        print(f"load average at end: {os.getloadavg()}")
    census(Instance(Config(cpus=2, preempt="PREEMPT", prove_locking=False,
                           trace_irqflags=False), get_variant("v4.18")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
