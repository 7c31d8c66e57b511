"""Random simulation: seeded random walks, for configurations too large to exhaust.

Each walk starts in the initial state and takes up to ``depth`` steps, each chosen
uniformly among the enabled transitions (every action and input combination the compiled
successor function yields, as the explorer sees them).  Properties are checked as the
explorer checks them: invariants on every state reached, kernel assertions (each site) on
every transition, reachability guards on every transition.  A walk ends early at a state
with no enabled step (a deadlock) or after a BUG or a counter overflow
(model.dsl.FATAL_KINDS: nothing follows those).  Violations are ordinary traces
(`checker.trace.Trace`, engine ``explicit-simulate``), replayable with ``python -m checker
replay``; each is the shortest found over all walks, with the walk's cycles cut out (a
walk that comes back to a state it visited before can skip the loop in between: still a
real execution, shorter).  Nothing here is a proof: a property not violated is reported
as "no violation in N walks", never "holds".

Reproducible: the same seed, model, configuration and options give the same walks (the
successor order of checker.explicit.compile is deterministic).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from checker.explicit.compile import compile_predicate, compiled
from checker.explicit.explore import ExploreResult, Stats
from checker.instance import KERNEL_ASSERTS, Instance
from checker.limits import CHECK_EVERY, Limits
from checker.trace import Step, Trace
from model.dsl import FATAL_KINDS, And

ENGINE = "explicit-simulate"


@dataclass
class SimulateResult(ExploreResult):
    """An `ExploreResult` of a simulation (``complete`` is always False).  ``walks`` is the
    number of walks finished, ``seed`` the random seed, ``max_depth`` the walk length
    bound, ``stats.transitions`` the steps taken, ``stats.states`` the distinct states
    seen, ``stats.depth`` the longest walk."""

    walks: int = 0
    walks_requested: int = 0
    seed: int = 0
    max_depth: int = 0

    def verdict(self, prop: str) -> str:
        if prop in self.violations:
            return "VIOLATED"
        return f"no violation in {self.walks:,} walks"


def _loop_erase(path: list[tuple]) -> list[tuple]:
    """Cut the cycles out of a walk: path items are (aid, inp, pre, nxt, viol); when a
    step leaves a state already left earlier, everything in between is dropped."""
    out: list[tuple] = []
    pos: dict[bytes, int] = {}
    for item in path:
        pre = item[2]
        if pre in pos:
            del out[pos[pre]:]
            pos = {p[2]: k for k, p in enumerate(out)}
        pos[pre] = len(out)
        out.append(item)
    return out


def simulate(
    inst: Instance,
    properties: list[str],
    *,
    walks: int,
    depth: int,
    seed: int,
    limits: Limits | None = None,
    progress: Callable[[Stats, int], None] | None = None,
) -> SimulateResult:
    """``walks`` random walks of at most ``depth`` steps from the initial state."""
    comp = compiled(inst)
    actions = inst.actions
    successors = comp.successors
    rng = random.Random(seed)
    invs = [(name, compile_predicate(e)) for name, e in inst.invariants.items()
            if name in properties]
    all_invs = [compile_predicate(And(tuple(inst.invariants[n] for n, _ in invs)))] \
        if invs else []
    check_asserts = KERNEL_ASSERTS in properties
    guard_names = [g.name for g, _ in inst.guard_preds]
    guard_by_aid: list[list] = [[] for _ in actions]
    for gi, (_g, per) in enumerate(inst.guard_preds):
        for aid, e in per.items():
            guard_by_aid[aid].append((gi, compile_predicate(e)))
    fatal = {n for n, cid in enumerate(comp.check_ids) if comp.checks[cid].kind in FATAL_KINDS}

    init = bytes(inst.layout.initial_state())
    seen: set[bytes] = {init}
    stats = Stats()
    t0 = time.perf_counter()
    fired = [0] * len(actions)
    failed = [0] * len(comp.check_ids)
    best_prop: dict[str, tuple[list, str]] = {}  # property -> (path, text)
    best_site: dict[int, list] = {}  # check index -> path
    best_guard: dict[int, list] = {}  # guard index -> path (last step reaches it)
    deadlock_path: list | None = None
    stop_reason: str | None = None
    for name, pred in invs:
        if not pred(init):
            best_prop[name] = ([], f"{name} fails in the initial state")

    def keep(table: dict, key: object, path: list) -> bool:
        old = table.get(key)
        old_len = len(old[0]) if isinstance(old, tuple) else len(old) if old is not None \
            else None
        if old_len is None or len(path) < old_len:
            return True
        return False

    done = 0
    taken = 0
    next_poll = CHECK_EVERY
    next_report = 10_000
    longest = 0
    for _ in range(walks):
        s = init
        path: list[tuple] = []
        for _d in range(depth):
            succ = successors(s)
            if not succ:
                if deadlock_path is None or len(path) < len(deadlock_path):
                    deadlock_path = list(path)
                break
            aid, inp, nxt, viol = succ[rng.randrange(len(succ))]
            fired[aid] += 1
            taken += 1
            path.append((aid, inp, s, nxt, viol))
            for gi, pred in guard_by_aid[aid]:
                if pred(s) and keep(best_guard, gi, path):
                    best_guard[gi] = list(path)
            if viol:
                snapshot = list(path)
                for v in viol:
                    failed[v] += 1
                    if check_asserts and keep(best_site, v, path):
                        best_site[v] = snapshot
                        stats.time_to_site.setdefault(comp.check_ids[v],
                                                      time.perf_counter() - t0)
                if check_asserts and keep(best_prop, KERNEL_ASSERTS, path):
                    best_prop[KERNEL_ASSERTS] = (snapshot, "; ".join(
                        comp.check_ids[v] for v in viol))
                    stats.time_to_verdict.setdefault(KERNEL_ASSERTS, time.perf_counter() - t0)
                if not fatal.isdisjoint(viol):
                    break
            seen.add(nxt)
            for pred in all_invs:
                if not pred(nxt):
                    for name, p in invs:
                        if not p(nxt) and keep(best_prop, name, path):
                            best_prop[name] = (list(path), f"{name} fails after this step")
                            stats.time_to_verdict.setdefault(name, time.perf_counter() - t0)
            s = nxt
            if taken >= next_poll and limits is not None:
                next_poll = taken + CHECK_EVERY
                stop_reason = limits.exceeded(len(seen))
                if stop_reason is not None:
                    break
        longest = max(longest, len(path))
        if stop_reason is not None:
            break
        done += 1
        if progress is not None and taken >= next_report:
            next_report = taken + 10_000
            stats.states, stats.elapsed = len(seen), time.perf_counter() - t0
            progress(stats, walks - done)

    def trace(path: list, prop: str, text: str, assertion: str = "") -> Trace:
        path = _loop_erase(path)
        steps = [Step.make(inst, actions[aid], inp, nxt,
                           [comp.check_ids[v] for v in viol], pre)
                 for aid, inp, pre, nxt, viol in path]
        return Trace.make(inst, prop, text, init, steps, engine=ENGINE, assertion=assertion)

    violations = {p: trace(path, p, text) for p, (path, text) in best_prop.items()}
    violations = {p: violations[p] for p in properties if p in violations}
    sites = {}
    ka_path = best_prop.get(KERNEL_ASSERTS, (None,))[0]
    for v, path in sorted(best_site.items(), key=lambda kv: len(_loop_erase(kv[1]))):
        cid = comp.check_ids[v]
        if path is ka_path:  # the kernel_asserts trace itself (see ExploreResult)
            sites[cid] = violations[KERNEL_ASSERTS]
            continue
        sites[cid] = trace(path, KERNEL_ASSERTS, cid, assertion=cid)
    guards: dict[str, Trace | None] = {}
    for gi, name in enumerate(guard_names):
        path = best_guard.get(gi)
        guards[name] = None if path is None else trace(path, name, f"guard {name} reached")
    deadlock = None if deadlock_path is None else trace(
        deadlock_path, "deadlock", "no step is enabled in this state")
    coverage: Counter = Counter()
    for aid, n in enumerate(fired):
        if n:
            coverage[actions[aid].name] += n
    check_cov: Counter = Counter()
    for v, n in enumerate(failed):
        if n:
            check_cov[comp.check_ids[v]] += n
    stats.states = len(seen)
    stats.transitions = taken
    stats.depth = longest
    stats.elapsed = time.perf_counter() - t0
    stats.queued = walks - done
    return SimulateResult(
        complete=False, stats=stats, violations=violations, guards_reached=guards,
        deadlock=deadlock, coverage=coverage, check_coverage=check_cov,
        assertion_sites=sites, check_kinds={c: comp.checks[c].kind for c in check_cov},
        stop_reason=stop_reason, walks=done, walks_requested=walks, seed=seed,
        max_depth=depth)


__all__ = ["ENGINE", "SimulateResult", "simulate"]
