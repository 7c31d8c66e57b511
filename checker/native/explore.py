"""The native engine: breadth-first exploration in generated, compiled C.

Same contract as `checker.explicit.explore.explore_bfs` (the reference engine it is tested
against): the same states, transitions, verdicts and shortest counterexample lengths, the
same `ExploreResult`.  Differences are in speed and memory only: states are bit-packed
into machine words, the visited set is a flat open-addressing table, the search runs on
``workers`` threads (level-synchronous BFS), and counterexamples are rebuilt from compact
parent links by replaying the steps with the reference interpreter (checker.interp),
which also yields the C functions each step entered.

With ``compact`` (hash compaction) the visited set stores 64-bit fingerprints only (8
bytes per state in slots kept at most 7/8 full): a state whose fingerprint collides with
another's is taken as seen and never explored; the result's stats carry the probability
of that having happened (as TLC reports it).  Memory then holds the fingerprints, the
states of the last two BFS levels and the latest chunk of parent links; older parent
links are written to an anonymous temporary file (as TLC keeps its trace on disk) and
read back only to rebuild counterexamples.
"""

from __future__ import annotations

import ctypes
import os
import resource
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from checker.explicit.compile import compiled
from checker.explicit.explore import ExploreResult, Stats
from checker.explicit.symmetry import Symmetry, permutation_maps, renamings
from checker.instance import KERNEL_ASSERTS, STEP_PROPERTIES, Instance
from checker.interp import holds, run_action
from checker.limits import Limits
from checker.native.build import NativeUnavailable, build_library
from checker.native.codegen import Generated, NativeUnsupported, generate, pack, unpack
from checker.por import por_tables
from checker.trace import Step, Trace
from model.dsl import ModelError, checks_of

ROOT_PARENT = 0xFFFFFFFF
STOP_USER, STOP_MAX, STOP_ERROR, STOP_EARLY, STOP_HARD, STOP_MEMORY = 1, 2, 3, 4, 5, 6
STOP_TARGETS = 7  # every state sought (`place_states`) is stored
ENGINE = "explicit-bfs"  # the trace files' engine name: the same search as the reference


@dataclass
class NativeStats(Stats):
    workers: int = 1
    compact: bool = False
    cpu_seconds: float = 0.0
    peak_bytes: int = 0
    miss_probability: float | None = None  # hash compaction only
    table_bytes: int = 0  # the visited set's slots at the end (part of peak_bytes)
    disk_bytes: int = 0  # hash compaction: parent links moved to a temporary file
    note: str = ""

    @property
    def bytes_per_state(self) -> float:
        return self.peak_bytes / self.states if self.states else 0.0

    @property
    def table_bytes_per_state(self) -> float:
        return self.table_bytes / self.states if self.states else 0.0

    @property
    def cpu_rate(self) -> float:
        return self.states / self.cpu_seconds if self.cpu_seconds > 0 else 0.0


@dataclass
class NativeModel:
    """The compiled library of one instance (built once, cached on the instance)."""

    gen: Generated
    dll: ctypes.CDLL
    path: str
    props_key: tuple = field(default_factory=tuple)


# The profile-guided build's training search (`native_model` with pgo): its first states
# (all properties, one worker, no reduction), enough for the step bodies, guards and the
# visited set's paths to be counted, short enough to cost well under a second.
PGO_TRAINING_STATES = 300_000


def native_model(inst: Instance, pgo: bool = False) -> NativeModel:
    """Generate, compile (cached by source hash) and load the C code of ``inst``.  With
    ``pgo`` the library is built profile-guided (checker/native/build.py), trained on the
    first `PGO_TRAINING_STATES` states of this very instance.

    Raises NativeUnavailable if there is no compiler, NativeUnsupported (a ModelError) if
    the model uses a construct the generator does not know."""
    cache = inst.__dict__.setdefault("_engine_cache", {})
    name = "native-pgo" if pgo else "native"
    if name not in cache:
        gen = generate(inst.actions, inst.layout.vars, inst.invariants,
                       [(g.name, per) for g, per in inst.guard_preds], por_tables(inst),
                       _symmetry_maps(inst))

        def train(dll: ctypes.CDLL) -> None:
            _search(inst, NativeModel(gen, dll, "(training)"), list(inst.invariants)
                    + list(STEP_PROPERTIES), max_states=PGO_TRAINING_STATES, workers=1)

        dll, path = build_library(gen.source, train if pgo else None)
        cache[name] = NativeModel(gen, dll, path)
    return cache[name]


def _symmetry_maps(inst: Instance) -> list | None:
    """The permutations of the instance's symmetry group (checker.explicit.symmetry), or
    None when the layout is not symmetric (the CLI then runs --symmetry in Python)."""
    try:
        return [permutation_maps(inst.layout, names) for names in renamings(inst.layout)]
    except ModelError:
        return None


def canonical(inst: Instance, gen: Generated, state: tuple[int, ...]) -> tuple[int, ...]:
    """The representative the native engine stores for ``state``'s orbit: the image
    whose packed words are smallest (the C function ``CANON``)."""
    sym = inst.__dict__.setdefault("_engine_cache", {}).get("symmetry")
    if sym is None:
        sym = inst.__dict__["_engine_cache"]["symmetry"] = Symmetry(inst.layout)
    images = [bytes(state)] + [perm(bytes(state)) for perm in sym.perms]
    return tuple(min(images, key=lambda b: pack(gen.slots, gen.nwords, tuple(b))))


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def default_max_bytes() -> int:
    """3/4 of physical memory: the search stops (exit 3) before the machine swaps."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * 3 // 4
    except (ValueError, OSError, AttributeError):
        return 0


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def explore_native(
    inst: Instance,
    properties: list[str],
    *,
    max_states: int | None = None,
    stop_early: bool = False,
    progress: Callable[[Stats, int], None] | None = None,
    workers: int | None = None,
    compact: bool = False,
    limits: Limits | None = None,
    max_bytes: int | None = None,
    por: bool = False,
    symmetry: bool = False,
    pgo: bool = False,
) -> tuple[ExploreResult, None]:
    """The native search; ``limits`` (timeout, memory, Ctrl-C: checker.limits) is polled
    by the Python thread that waits for the C search, which it stops cleanly.
    ``max_bytes`` bounds the engine's own tables (default: 3/4 of the machine's memory):
    reaching it stops the search cleanly, incomplete, like ``max_states``.  ``por``:
    partial-order reduction, the same as the reference engine's (checker.por), so the
    same states with it on; not with ``compact`` (its cycle proviso needs state
    numbers) nor with ``symmetry``, where it is off.
    ``symmetry``: store one state per orbit (as the reference engine's ``--symmetry``,
    same quotient counts and verdicts); counterexamples are rebuilt as real executions.
    ``pgo``: run the profile-guided build of the library (`native_model`): the same
    search, faster per state once built."""
    res, _ = _search(inst, native_model(inst, pgo), properties, max_states=max_states,
                     stop_early=stop_early, progress=progress, workers=workers,
                     compact=compact, limits=limits, max_bytes=max_bytes, por=por,
                     symmetry=symmetry)
    return res, None


@dataclass
class Placed:
    """Where `place_states` found one sought state, or the nearest stored one."""

    path: list[tuple[int, tuple[bool, ...]]] | None  # found: (action id, inputs) from init
    nearest: tuple[int, ...] | None = None  # not found, search complete: closest state
    distance: int | None = None  # its number of variables differing from the sought one


def place_states(inst: Instance, targets: list[tuple[int, ...]], properties: list[str], *,
                 workers: int | None = None, limits: Limits | None = None,
                 max_states: int | None = None) -> tuple[ExploreResult, list[Placed]]:
    """A breadth-first search for ``targets`` (states as tuples of the layout's values):
    it stops once every one is stored (so each path found is a shortest one), or at the
    usual bounds, checking ``properties`` on the way (the result's violations).  A target
    not found by a complete search is unreachable; it then comes with the reachable state
    that differs from it in the fewest variables (the first such in BFS order).  Exact
    mode, no reduction: every reachable state is stored as itself."""
    return _search(inst, native_model(inst), properties, max_states=max_states,
                   workers=workers, limits=limits, targets=targets)


def _search(inst: Instance, nm: NativeModel, properties: list[str], *,
            max_states: int | None = None, stop_early: bool = False,
            progress: Callable[[Stats, int], None] | None = None,
            workers: int | None = None, compact: bool = False,
            limits: Limits | None = None, max_bytes: int | None = None,
            por: bool = False, symmetry: bool = False,
            targets: list[tuple[int, ...]] | None = None
            ) -> tuple[ExploreResult, list[Placed]]:
    """`explore_native` in the library ``nm``; with ``targets`` (exact mode, no
    reduction) also where each of those states was found (`place_states`)."""
    if limits is not None and limits.max_states is not None:
        max_states = limits.max_states if max_states is None else min(max_states,
                                                                        limits.max_states)
    gen, dll = nm.gen, nm.dll
    workers = workers or default_workers()
    # One flag per invariant (the lemmas as invariants make more than a word's worth).
    inv_on = (ctypes.c_ubyte * max(1, len(gen.inv_names)))(
        *[int(name in properties) for name in gen.inv_names])
    check_asserts = any(p in properties for p in STEP_PROPERTIES)
    # The engine keeps one "first assertion failure" record for both step properties
    # (kernel_asserts, locking_rules) and one per check; _run() picks each property's
    # shortest from the per-check records.  Its early stop would fire on the first
    # failure of either, so it is not used when locking_rules is asked for.
    stop_early = stop_early and not (set(properties) & set(STEP_PROPERTIES)
                                     - {KERNEL_ASSERTS})
    init = inst.layout.initial_state()
    # As the reference engine: POR is off with symmetry (canonical representatives and
    # stubborn sets are not argued sound together) and with compaction (its cycle
    # proviso needs state numbers).
    por_on = por and not compact and not symmetry
    if symmetry and not gen.symmetric:
        if _symmetry_maps(inst) is None:
            raise NativeUnsupported("the layout is not symmetric")
        symmetry = False  # a trivial group: nothing to reduce
    root = canonical(inst, gen, tuple(init)) if symmetry else init
    words = (ctypes.c_uint64 * gen.nwords)(*pack(gen.slots, gen.nwords, root))
    sub_bits = 12 if workers > 1 else 8
    if max_bytes is None:
        max_bytes = default_max_bytes()
    h = dll.fp_new(workers, int(compact), max_states or 0, max_bytes, int(stop_early),
                   inv_on, int(check_asserts), sub_bits, words, int(por_on))
    if not h:
        raise NativeUnavailable("the native engine could not allocate its tables")
    if symmetry:
        dll.fp_symmetry(h, 1)
    try:
        if targets:
            assert not (compact or por_on or symmetry), "targets need every state, stored"
            flat = [w for t in targets for w in pack(gen.slots, gen.nwords, t)]
            if not dll.fp_targets(h, (ctypes.c_uint64 * len(flat))(*flat), len(targets)):
                raise NativeUnavailable("the native engine could not store its targets")
        res, placed = _run(inst, nm, h, properties, workers, compact, progress, init,
                           limits, symmetry, targets or [])
        res.por = por_on
        return res, placed
    finally:
        dll.fp_free(h)


def _run(inst: Instance, nm: NativeModel, h: int, properties: list[str], workers: int,
         compact: bool, progress: Callable[[Stats, int], None] | None,
         init: tuple[int, ...], limits: Limits | None = None,
         symmetry: bool = False, targets: list[tuple[int, ...]] = ()
         ) -> tuple[ExploreResult, list[Placed]]:
    gen, dll = nm.gen, nm.dll
    actions = inst.actions
    poll = (ctypes.c_uint64 * 10)()
    reason = [0]
    cpu0, t0 = _cpu(), time.perf_counter()

    def target() -> None:
        reason[0] = dll.fp_run(h)

    th = threading.Thread(target=target, name="fpcheck-native", daemon=True)
    th.start()
    limit_hit: str | None = None
    try:
        while th.is_alive():
            th.join(0.25 if limits is None else 0.1)
            if limits is not None and limit_hit is None and th.is_alive():
                limit_hit = limits.exceeded()
                if limit_hit is not None:
                    dll.fp_stop(h)  # the search stops; what it found is reported
            if progress is not None and th.is_alive():
                dll.fp_poll(h, poll)
                st = Stats(states=poll[0], elapsed=time.perf_counter() - t0)
                progress(st, max(0, poll[0] - poll[5]))
    except KeyboardInterrupt:
        dll.fp_stop(h)
        th.join()
        raise
    elapsed = time.perf_counter() - t0
    cpu = _cpu() - cpu0
    dll.fp_poll(h, poll)
    states, _, depth, _, transitions, expanded, peak, reduced, table, disk = list(poll)
    out = (ctypes.c_uint64 * 4)()

    def rec(kind: int, k: int = 0) -> tuple[int, int, int, int, float] | None:
        t = dll.fp_rec(h, kind, k, out)
        if not out[0]:
            return None
        aid = out[2] if out[2] < (1 << 63) else -1
        return out[0], out[1], aid, out[3], t

    if reason[0] == STOP_ERROR:
        err = rec(5)
        assert err is not None
        code, idx, aid, combo, _ = err
        raise ModelError(f"{gen.errors[code - 1]} in step {actions[aid].label}")
    complete = expanded >= states and reason[0] not in (STOP_USER, STOP_HARD, STOP_MEMORY,
                                                        STOP_TARGETS)
    stop_reason = None if complete else (
        limit_hit if reason[0] == STOP_USER and limit_hit is not None
        else {STOP_MAX: "max-states", STOP_EARLY: "stop-early", STOP_MEMORY: "max-memory",
              STOP_HARD: "max-memory", STOP_TARGETS: "targets-found"}.get(reason[0]))
    note = ""
    if reason[0] == STOP_HARD:
        note = "stopped: out of memory or of state numbers (2^32)"
    elif reason[0] == STOP_MEMORY:
        note = (f"stopped at the memory bound ({peak / 2**30:.1f} GiB; try "
                "--hash-compaction)")

    def path(idx: int) -> list[tuple[int, int]]:
        hops: list[tuple[int, int]] = []
        link = (ctypes.c_uint64 * 3)()
        while idx != 0:
            if not dll.fp_link(h, idx, link):
                raise ModelError(f"native engine: no parent link for state {idx}")
            hops.append((link[1], link[2]))
            idx = link[0]
        return hops[::-1]

    def inputs_of(aid: int, combo: int) -> tuple[bool, ...]:
        return tuple(bool(combo >> j & 1) for j in range(len(actions[aid].inputs)))

    def trace_to(idx: int, prop: str, text: str, last: tuple[int, int] | None = None,
                 gi: int | None = None) -> Trace:
        if symmetry:
            return concrete_trace_to(idx, prop, text, last, gi)
        steps = []
        cur = init
        for aid, combo in path(idx):
            inp = inputs_of(aid, combo)
            nxt, viol, _ = run_action(actions[aid], cur, inp)
            steps.append(Step.make(inst, actions[aid], inp, nxt, viol, cur))
            cur = nxt
        if not compact:
            stored = (ctypes.c_uint64 * gen.nwords)()
            if dll.fp_state(h, idx, stored) and list(stored) != pack(gen.slots, gen.nwords, cur):
                raise ModelError(f"native engine: replaying the path to state {idx} does not"
                                 " reach the stored state (engine bug)")
        if last is not None:
            aid, combo = last
            inp = inputs_of(aid, combo)
            nxt, viol, _ = run_action(actions[aid], cur, inp)
            steps.append(Step.make(inst, actions[aid], inp, nxt, viol, cur))
        return Trace.make(inst, prop, text, init, steps, engine=ENGINE)

    def concrete_trace_to(idx: int, prop: str, text: str, last: tuple[int, int] | None,
                          gi: int | None) -> Trace:
        """A real execution through the orbits of the stored path (--symmetry): the
        stored path is replayed on the representatives, and each step is matched by a
        concrete step of the real execution whose successor has the same representative
        (one exists by symmetry); the last one must also fail the same assertions, or
        satisfy the same guard in its pre-state (as checker.explicit.explore does)."""
        raw = compiled(inst)
        rep = canonical(inst, gen, tuple(init))
        cur = tuple(init)
        hops = [(aid, combo, False) for aid, combo in path(idx)]
        if last is not None:
            hops.append((last[0], last[1], True))
        steps = []
        for aid, combo, final in hops:
            nxt_rep, viol_rep, _ = run_action(actions[aid], rep, inputs_of(aid, combo))
            target = canonical(inst, gen, nxt_rep)
            best = None
            for a2, inp2, _nxt, _v in raw.successors(bytes(cur)):
                nxt, viol, _ = run_action(actions[a2], cur, inp2)
                if canonical(inst, gen, nxt) != target:
                    continue
                if final and gi is not None:
                    pred = inst.guard_preds[gi][1].get(a2)
                    if pred is None or not holds(pred, cur):
                        continue
                elif final and sorted(viol) != sorted(viol_rep):
                    continue
                rank = len(viol)
                if best is None or rank < best[0]:
                    best = (rank, a2, inp2, nxt, viol)
            if best is None:
                raise ModelError(f"symmetry reduction: no concrete step rebuilds the trace "
                                 f"to {prop} (the model is not symmetric)")
            _, a2, inp2, nxt, viol = best
            steps.append(Step.make(inst, actions[a2], inp2, nxt, viol, cur))
            cur, rep = nxt, target
        return Trace.make(inst, prop, text, init, steps, engine=ENGINE)

    violations: dict[str, Trace] = {}
    ttv: dict[str, float] = {}
    ttv_site: dict[str, float] = {}
    for k, name in enumerate(gen.inv_names):
        if name not in properties:
            continue
        r = rec(3, k)
        if r is not None:
            idx = r[1]
            text = (f"{name} fails in the initial state" if idx == 0
                    else f"{name} fails after this step")
            violations[name] = trace_to(idx, name, text)
            ttv[name] = r[4]
    # Per step property: the shortest of its checks' first failures (each per-check record
    # is a shortest failure of that check: the search is level-synchronous).
    best: dict[str, tuple[int, float, int, int, int]] = {}
    for k, cid in enumerate(gen.check_ids):
        prop = inst.property_of_check(cid)
        if prop not in properties:
            continue
        r = rec(1, k)
        if r is None:
            continue
        _, idx, aid, combo, t = r
        key = (len(path(idx)), t, idx, aid, combo)
        if prop not in best or key < best[prop]:
            best[prop] = key
    for prop, (_, t, idx, aid, combo) in best.items():
        tr = trace_to(idx, prop, "", (aid, combo))
        mine = inst.split_violations(tr.steps[-1].violations).get(prop, [])
        tr.violation = "; ".join(mine or tr.steps[-1].violations)
        violations[prop] = tr
        ttv[prop] = t
    # One shortest trace per assertion site (the engine records each check's first
    # failing transition, at the lowest BFS level), in the order of the reference engine:
    # by length, then by time found; a site failing in its property's trace shares it.
    sites: dict[str, Trace] = {}
    kinds: dict[str, str] = {}
    if any(p in properties for p in STEP_PROPERTIES):
        all_kinds = {c.id: c.kind for a in actions for c in checks_of(a.body)}
        hits = []
        for k, cid in enumerate(gen.check_ids):
            r = rec(1, k)
            if r is not None:
                hits.append((len(path(r[1])), r[4], k, cid, r))
        for _, t, _, cid, r in sorted(hits):
            _, idx, aid, combo, _ = r
            kinds[cid] = all_kinds.get(cid, "")
            prop = inst.property_of_check(cid)
            shared = best.get(prop)
            if shared is not None and (idx, aid, combo) == shared[2:5] and prop in violations:
                sites[cid] = violations[prop]
            else:
                sites[cid] = trace_to(idx, prop, cid, (aid, combo))
                sites[cid].assertion = cid
            ttv_site[cid] = t
    # Report properties in the order they were asked for, as the reference engine does.
    violations = {p: violations[p] for p in properties if p in violations}
    guards: dict[str, Trace | None] = {}
    for gi, name in enumerate(gen.guard_names):
        r = rec(2, gi)
        guards[name] = None if r is None else trace_to(
            r[1], name, f"guard {name} reached", (r[2], r[3]), gi)
    d = rec(4)
    deadlock = None if d is None else trace_to(d[1], "deadlock",
                                               "no step is enabled in this state")
    fired = (ctypes.c_uint64 * max(1, len(actions)))()
    failed = (ctypes.c_uint64 * max(1, len(gen.check_ids)))()
    dll.fp_counts(h, fired, failed)
    coverage: Counter = Counter()
    for aid, a in enumerate(actions):
        if fired[aid]:
            coverage[a.name] += fired[aid]
    check_cov: Counter = Counter()
    for k, cid in enumerate(gen.check_ids):
        if failed[k]:
            check_cov[cid] += failed[k]
    stats = NativeStats(states=states, transitions=transitions,
                        depth=depth + (1 if states > _frontier_end(dll, h) else 0),
                        elapsed=elapsed, time_to_verdict=ttv, workers=workers,
                        compact=compact, cpu_seconds=cpu, peak_bytes=peak, note=note,
                        queued=max(0, states - expanded), time_to_site=ttv_site,
                        reduced=reduced, table_bytes=table, disk_bytes=disk)
    if compact:
        # As TLC: the chance that some state was wrongly taken as seen is about
        # n * (generated - n) / 2^64 with n distinct states (optimistic estimate).
        stats.miss_probability = states * max(0, transitions - states) / 2.0**64
    placed = [_placed(gen, dll, h, t, complete, path, inputs_of) for t in targets]
    return ExploreResult(complete, stats, violations, guards, deadlock, coverage, check_cov,
                         sites, kinds, stop_reason), placed


def _placed(gen: Generated, dll: ctypes.CDLL, h: int, target: tuple[int, ...],
            complete: bool, path: Callable[[int], list[tuple[int, int]]],
            inputs_of: Callable[[int, int], tuple[bool, ...]]) -> Placed:
    """`Placed` for one target of a finished search (`place_states`)."""
    words = (ctypes.c_uint64 * gen.nwords)(*pack(gen.slots, gen.nwords, target))
    idx = dll.fp_find(h, words)
    if idx >= 0:
        return Placed([(aid, inputs_of(aid, combo)) for aid, combo in path(idx)])
    if not complete:
        return Placed(None)
    fields = [sl for sl in gen.slots if sl.bits]
    best = ctypes.c_uint64()
    dist = dll.fp_nearest(h, words, (ctypes.c_uint16 * len(fields))(*[f.word for f in fields]),
                          (ctypes.c_uint8 * len(fields))(*[f.shift for f in fields]),
                          (ctypes.c_uint64 * len(fields))(*[(1 << f.bits) - 1
                                                            for f in fields]),
                          len(fields), ctypes.byref(best))
    stored = (ctypes.c_uint64 * gen.nwords)()
    if dist < 0 or not dll.fp_state(h, best.value, stored):
        return Placed(None)
    return Placed(None, unpack(gen.slots, list(stored)), dist)


def _frontier_end(dll: ctypes.CDLL, h: int) -> int:
    poll = (ctypes.c_uint64 * 10)()
    dll.fp_poll(h, poll)
    return poll[1]
