"""Explicit-state exploration: breadth-first, so every counterexample is a shortest one.

Visited states are kept in a dict (state tuple -> index) with parent links (index of the
predecessor, action id, input combination) for trace reconstruction.  Every property is
checked on the fly:
* invariants on every state when it is first reached;
* kernel assertions on every transition;
* reachability guards on every transition.
The first violation of each property is a shortest one (BFS order), and so is the first
failing transition of each assertion *site* (`model.dsl.Check` id): one shortest trace per
site, not only per property.  A BUG or a counter overflow (model.dsl.FATAL_KINDS) ends
its path: nothing follows such a step.  Exploration goes on until every state is
expanded (so all properties get a verdict) unless ``stop_early`` or a resource limit
(checker.limits: --max-states, --timeout, --max-memory, Ctrl-C) stops it; what was found
until then is returned, with the reason and how far the search got.
A state with no enabled step at all is a deadlock.

With ``symmetry`` (see checker.explicit.symmetry) every successor is canonicalised
before the visited-set lookup, so one representative per orbit is stored and expanded.
Counterexamples stay real executions: they are rebuilt by replaying from the initial
state, choosing at each step a concrete action whose successor has the canonical form
of the next state on the BFS path (one exists by symmetry), so shortest lengths are
those of the unreduced search.  Without it nothing below differs from the plain search.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from checker.explicit.compile import compile_predicate, compiled
from checker.instance import KERNEL_ASSERTS, STEP_PROPERTIES, Instance
from checker.limits import CHECK_EVERY, Limits
from checker.trace import Step, Trace
from model.dsl import FATAL_KINDS, And, ModelError


@dataclass
class Stats:
    """How far a search got.  ``depth`` is the BFS level reached (for a simulation: the
    longest walk); ``queued`` the states stored but not expanded when it stopped (0 when
    complete)."""

    states: int = 0
    transitions: int = 0
    depth: int = 0
    elapsed: float = 0.0
    queued: int = 0
    time_to_verdict: dict[str, float] = field(default_factory=dict)  # property -> s
    time_to_site: dict[str, float] = field(default_factory=dict)  # check id -> s
    reduced: int = 0  # states expanded with a proper stubborn set (partial-order reduction)

    @property
    def rate(self) -> float:
        return self.states / self.elapsed if self.elapsed > 0 else 0.0


@dataclass
class ExploreResult:
    """The outcome of one search of one model instance (any engine fills it the same way).

    * ``complete``: every reachable state was expanded (verdicts "holds" are proofs for
      the configuration); False when ``stop_reason`` is set.
    * ``violations``: property name -> its shortest counterexample.  For
      ``kernel_asserts`` it is the shortest over all assertion sites (its last step may
      fail several; the trace's ``violation`` joins their ids).
    * ``assertion_sites``: assertion site (``model.dsl.Check.id``, e.g.
      ``"__local_bh_enable_ip: lockdep lockdep_assert_irqs_enabled(): ..."``) -> the
      shortest trace whose last step fails that site, for every site that fails anywhere
      in the explored space, in the order found (non-decreasing length).  Only when
      ``kernel_asserts`` is among the properties.  ``Trace.assertion`` is the site's id,
      except for the sites failing in the last step of ``violations["kernel_asserts"]``:
      that very Trace object is their entry (write it once; its ``violation`` names them).
    * ``check_kinds``: check id -> kind (WARN, BUG, lockdep, overflow) for those sites.
    * ``guards_reached``: guard name -> shortest trace reaching it, None if not reached.
    * ``deadlock``: a shortest trace to a state with no enabled step, or None.
    * ``coverage``: step template name -> transitions fired; ``check_coverage``: check
      id -> transitions on which it failed.
    * ``stop_reason``: None when complete; else why the search stopped early, one of
      checker.limits.STOP_TEXT's keys (max-states, timeout, max-memory, interrupted,
      stop-early).  ``stats.queued`` and ``stats.depth`` say how far it got.
    """

    complete: bool  # every reachable state was expanded
    stats: Stats
    violations: dict[str, Trace]  # property -> shortest counterexample
    guards_reached: dict[str, Trace | None]
    deadlock: Trace | None
    coverage: Counter  # action template name -> times fired
    check_coverage: Counter  # assertion id -> times evaluated false
    assertion_sites: dict[str, Trace] = field(default_factory=dict)  # check id -> trace
    check_kinds: dict[str, str] = field(default_factory=dict)  # check id -> kind
    stop_reason: str | None = None
    por: bool = False  # partial-order reduction was on: traces may not be shortest

    def verdict(self, prop: str) -> str:
        if prop in self.violations:
            return "VIOLATED"
        return "holds" if self.complete else "not violated (incomplete)"


def explore_bfs(
    inst: Instance,
    properties: list[str],
    *,
    max_states: int | None = None,
    stop_early: bool = False,
    progress: Callable[[Stats, int], None] | None = None,
    keep_graph: bool = False,
    symmetry: bool = False,
    limits: Limits | None = None,
    por: bool = False,
) -> tuple[ExploreResult, list | None]:
    """Breadth-first search of ``inst`` for ``properties`` (see the module docstring).

    ``max_states`` (or ``limits.max_states``) bounds the states stored; ``limits`` also
    bounds wall time and memory and reacts to Ctrl-C (polled every
    checker.limits.CHECK_EVERY expanded states).  With ``por``, partial-order reduction
    (checker.por): each state stores the successors of a stubborn set only, when the
    provisos allow (no fatal failure in it, all its successors new at this BFS level);
    every enabled transition is still checked for assertions and guards.  Not combined
    with ``symmetry`` (then off).  Returns the result and, with ``keep_graph``, [states,
    edges, index] for checker.graph."""
    if limits is not None and limits.max_states is not None:
        max_states = limits.max_states if max_states is None else min(max_states,
                                                                        limits.max_states)
    comp = compiled(inst)
    actions = inst.actions
    successors = comp.successors
    canon = None
    if symmetry:
        from checker.explicit.symmetry import Symmetry

        sym = Symmetry(inst.layout)
        if not sym.trivial:
            canon = sym.canon
            raw_successors = successors

            def successors(s: bytes) -> list:
                return [(aid, inp, canon(nxt), viol) for aid, inp, nxt, viol in raw_successors(s)]
    invs = [(name, compile_predicate(e)) for name, e in inst.invariants.items()
            if name in properties]
    step_props = [p for p in STEP_PROPERTIES if p in properties]
    # assertion index -> the step property it belongs to (kernel_asserts, locking_rules)
    check_prop = [inst.property_of_check(cid) for cid in comp.check_ids]
    check_asserts = bool(step_props)
    guard_map: dict[int, list[tuple[int, Callable]]] = {}
    guard_names = [g.name for g, _ in inst.guard_preds]
    for gi, (_g, per) in enumerate(inst.guard_preds):
        for aid, e in per.items():
            guard_map.setdefault(aid, []).append((gi, compile_predicate(e)))
    guard_hit: dict[int, tuple[int, int, tuple]] = {}
    # BUG() kills the kernel and an overflowed counter has no representable successor:
    # nothing follows such a step.
    bug_ids = {n for n, cid in enumerate(comp.check_ids)
               if comp.checks[cid].kind in FATAL_KINDS}
    reducer = None
    if por and not symmetry:
        reducer = _Reducer(inst, bug_ids)

    init = bytes(inst.layout.initial_state())
    root = init if canon is None else canon(init)
    index: dict[tuple, int] = {root: 0}
    states: list[tuple] = [root]
    parent: list[int] = [-1]
    via: list[tuple[int, tuple] | None] = [None]
    violations: dict[str, Trace] = {}
    deadlock: Trace | None = None
    coverage: Counter = Counter()
    check_cov: Counter = Counter()
    edges: list | None = [] if keep_graph else None
    stats = Stats()
    t0 = time.perf_counter()
    stop_props = set(properties)

    def path(i: int) -> list[int]:
        out = []
        while i >= 0:
            out.append(i)
            i = parent[i]
        return out[::-1]

    def trace_to(i: int, prop: str, text: str, last: tuple | None = None,
                 gi: int | None = None, assertion: str = "") -> Trace:
        if canon is not None:
            return concrete_trace_to(i, prop, text, last, gi, assertion)
        steps = []
        for j in path(i)[1:]:
            aid, inp = via[j]
            steps.append(Step.make(inst, actions[aid], inp, states[j],
                                   [comp.check_ids[v] for v in viol_of(j)],
                                   states[parent[j]]))
        if last is not None:
            aid, inp, nxt, viol = last
            steps.append(Step.make(inst, actions[aid], inp, nxt, viol, states[i]))
        return Trace.make(inst, prop, text, init, steps, engine="explicit-bfs",
                          assertion=assertion)

    def viol_of(j: int) -> list:
        """The assertions (indices) failing on the BFS edge into state j (WARN-kind only:
        a fatal one has no successor), recomputed: the hot loop does not keep them."""
        aid, inp = via[j]
        return list(comp.bodies[aid](states[parent[j]], inp)[1])

    def concrete_trace_to(i: int, prop: str, text: str, last: tuple | None,
                          gi: int | None, assertion: str = "") -> Trace:
        """A real execution through the orbits of the BFS path to state i (symmetry):
        each step is a concrete action whose successor canonicalises to the next state
        on the path; the last one (a failed assertion or a reached guard) must also
        fail the same assertions, or satisfy the same guard in its pre-state."""

        def any_step(aid: int, viol: list, cur: bytes) -> bool:
            return True

        def last_step(aid: int, viol: list, cur: bytes) -> bool:
            if gi is not None:
                return any(g == gi and pred(cur) for g, pred in guard_by_aid[aid] or ())
            return {comp.check_ids[v] for v in viol} == set(last[3])

        hops = [(states[j], any_step) for j in path(i)[1:]]
        if last is not None:
            hops.append((last[2], last_step))
        steps = []
        cur = init
        for target, ok in hops:
            best = None
            for aid, inp, nxt, viol in raw_successors(cur):
                if canon(nxt) != target or not ok(aid, viol, cur):
                    continue
                rank = 0 if not viol else 1 if bug_ids.isdisjoint(viol) else 2
                if best is None or rank < best[0]:
                    best = (rank, aid, inp, nxt, viol)
            if best is None:
                raise ModelError(f"symmetry reduction: no concrete step rebuilds the trace "
                                 f"to {prop} (the model is not symmetric)")
            _, aid, inp, nxt, viol = best
            steps.append(Step.make(inst, actions[aid], inp, nxt,
                                   [comp.check_ids[v] for v in viol], cur))
            cur = nxt
        return Trace.make(inst, prop, text, init, steps, engine="explicit-bfs",
                          assertion=assertion)

    def record(prop: str, trace: Trace) -> None:
        if prop not in violations:
            violations[prop] = trace
            stats.time_to_verdict[prop] = time.perf_counter() - t0

    for name, pred in invs:
        if not pred(init):
            record(name, trace_to(0, name, f"{name} fails in the initial state"))

    head = 0
    complete = True
    stop_reason: str | None = None
    next_report = 10_000
    next_poll = CHECK_EVERY if limits is not None else -1
    fired = [0] * len(actions)
    failed = [0] * len(comp.check_ids)
    # Per assertion site (check index): the first failing transition, BFS order, so a
    # shortest one: (state index, action id, inputs, successor, failed check indices).
    site_hit: list[tuple | None] = [None] * len(comp.check_ids)
    site_order: list[int] = []
    ka_hit: tuple | None = None  # the transition of the kernel_asserts trace
    guard_by_aid: list = [guard_map.get(aid) for aid in range(len(actions))]
    open_guards = len(guard_names)
    # One compiled predicate for all invariants still unviolated: a single call per new
    # state; the individual ones are only consulted when it fails.
    def combined(names: list[str]):
        exprs = [e for n, e in inst.invariants.items() if n in names]
        return [compile_predicate(And(tuple(exprs)))] if exprs else []

    inv_preds = combined([name for name, _ in invs if name not in violations])
    level_end = 1  # index of the first state of the next BFS level
    depth = 0
    transitions = 0
    setdefault = index.setdefault
    while head < len(states):
        if stop_early and stop_props <= set(violations):
            complete, stop_reason = False, "stop-early"
            break
        if head == next_poll:
            next_poll += CHECK_EVERY
            stop_reason = limits.exceeded()
            if stop_reason is not None:
                complete = False
                break
        if head == level_end:
            level_end = len(states)
            depth += 1
        s = states[head]
        i = head
        head += 1
        succ = successors(s)
        if not succ:
            if deadlock is None:
                deadlock = trace_to(i, "deadlock", "no step is enabled in this state")
            continue
        ample = None
        if reducer is not None and len(succ) > 1:
            ample = reducer.choose(s, succ, index, level_end)
        transitions += len(succ) if ample is None else sum(
            1 for t in succ if ample >> t[0] & 1)
        for aid, inp, nxt, viol in succ:
            if ample is None or ample >> aid & 1:
                fired[aid] += 1
            if viol:
                for v in viol:
                    failed[v] += 1
                    if site_hit[v] is None:
                        site_hit[v] = (i, aid, inp, nxt, viol)
                        site_order.append(v)
                        stats.time_to_site[comp.check_ids[v]] = time.perf_counter() - t0
                for prop in step_props:
                    if prop not in violations:
                        mine = [v for v in viol if check_prop[v] == prop]
                        if mine:
                            names = [comp.check_ids[v] for v in viol]
                            record(prop, trace_to(
                                i, prop, "; ".join(comp.check_ids[v] for v in mine),
                                (aid, inp, nxt, names)))
                            if prop == KERNEL_ASSERTS:
                                ka_hit = site_hit[mine[0]]
                if bug_ids and not bug_ids.isdisjoint(viol):
                    continue  # BUG() kills the kernel: nothing follows this step
            if open_guards:
                gl = guard_by_aid[aid]
                if gl:
                    for gi, pred in gl:
                        if gi not in guard_hit and pred(s):
                            guard_hit[gi] = (i, aid, inp, nxt)
                            open_guards -= 1
            if ample is not None and not ample >> aid & 1:
                continue  # checked above, not stored: outside the stubborn set
            if keep_graph:
                edges.append((i, nxt, aid))
            j = len(states)
            if setdefault(nxt, j) != j:
                continue
            states.append(nxt)
            parent.append(i)
            via.append((aid, inp))
            for pred in inv_preds:
                if not pred(nxt):
                    for name, p in invs:
                        if name not in violations and not p(nxt):
                            record(name, trace_to(j, name, f"{name} fails after this step"))
                    inv_preds = combined([name for name, _ in invs if name not in violations])
                    break
        if max_states is not None and len(states) >= max_states:
            complete = head >= len(states)
            if not complete:
                stop_reason = "max-states"
            break
        if progress is not None and len(states) >= next_report:
            stats.states = len(states)
            stats.elapsed = time.perf_counter() - t0
            progress(stats, len(states) - head)
            next_report += 10_000

    stats.transitions = transitions
    stats.depth = depth + (1 if len(states) > level_end else 0)
    for aid, n in enumerate(fired):
        if n:
            coverage[actions[aid].name] += n
    for cid, n in enumerate(failed):
        if n:
            check_cov[comp.check_ids[cid]] += n
    stats.states = len(states)
    stats.queued = len(states) - head
    stats.elapsed = time.perf_counter() - t0
    sites: dict[str, Trace] = {}
    if check_asserts:
        for v in site_order:
            if site_hit[v] is ka_hit:
                # The same transition as the kernel_asserts trace: the same trace.
                sites[comp.check_ids[v]] = violations[KERNEL_ASSERTS]
                continue
            i, aid, inp, nxt, viol = site_hit[v]
            cid = comp.check_ids[v]
            names = [comp.check_ids[x] for x in viol]
            sites[cid] = trace_to(i, check_prop[v], cid, (aid, inp, nxt, names),
                                  assertion=cid)
    guards: dict[str, Trace | None] = {}
    for gi, name in enumerate(guard_names):
        hit = guard_hit.get(gi)
        if hit is None:
            guards[name] = None
        else:
            i, aid, inp, nxt = hit
            guards[name] = trace_to(i, name, f"guard {name} reached", (aid, inp, nxt, []), gi)
    graph = None
    if keep_graph:
        graph = [states, edges, index]
    kinds = {cid: comp.checks[cid].kind for cid in check_cov}
    result = ExploreResult(complete, stats, violations, guards, deadlock, coverage, check_cov,
                           sites, kinds, None if complete else stop_reason,
                           por=reducer is not None)
    if reducer is not None:
        stats.reduced = reducer.reduced
    return result, graph


class _Reducer:
    """Per-state choice of the stubborn set (checker.por) with the provisos."""

    def __init__(self, inst: Instance, bug_ids: set[int]) -> None:
        from checker.por import por_tables

        self.tables = t = por_tables(inst)
        self.bug_ids = bug_ids
        self.conj = [[compile_predicate(c) for c, _ in cs] for cs in t.nes]
        self.reduced = 0  # states expanded with a proper stubborn set

    def choose(self, s: bytes, succ: list, index: dict, level_end: int) -> int | None:
        """The bitset of actions whose successors are stored, or None (all)."""
        enabled = 0
        for t in succ:
            enabled |= 1 << t[0]
        if enabled & (enabled - 1) == 0:
            return None  # one enabled action
        conj = self.conj

        def false_conj(a: int) -> int:
            for k, pred in enumerate(conj[a]):
                if not pred(s):
                    return k
            raise ModelError(f"partial-order reduction: step {a} has no false guard "
                             "conjunct although it is disabled")

        bug_ids = self.bug_ids
        for amp in self.tables.candidates(enabled, false_conj):
            ok = True
            for aid, _inp, nxt, viol in succ:
                if not amp >> aid & 1:
                    continue
                if viol and not bug_ids.isdisjoint(viol):
                    ok = False  # a fatal failure: no successor to continue from
                    break
                j = index.get(nxt)
                if j is not None and j < level_end:
                    ok = False  # cycle proviso: a successor in this level or an earlier one
                    break
            if ok:
                self.reduced += 1
                return amp
        return None
