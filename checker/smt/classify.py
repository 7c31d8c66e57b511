"""What a counterexample to induction (CTI) means: a real bug or a missing lemma.

`prove` reports a CTI when an obligation is not preserved by a step from a state that
satisfies every lemma.  That pre-state is either

* **reachable**: the CTI is a real counterexample.  A breadth-first search of the explicit
  engine from the initial state finds a shortest path to it; that path plus the CTI's
  steps is an ordinary counterexample (kind ``counterexample``), replayable like any
  other; or
* **unreachable**: the code may be right and the lemmas too weak.  The search exhausts
  the reachable states without meeting it; the report names the conjuncts of the broken
  obligation that are false after the step, and the variables in which the pre-state
  differs from the nearest reachable state (fewest differing variables): a new lemma
  must rule out that combination.

With a state space too large for that search (``max_states``) the answer is "unknown";
then `check_lemmas_reachable` settles what a lemma CTI means for the lemma itself: the
whole state space is explored (by the fastest explicit engine available) with the broken
lemmas as extra invariants.  A lemma false in a reachable state is *wrong* for this
configuration (its shortest counterexample shows where; no strengthening can prove it); a
lemma true in every reachable state is right but not inductive: a strengthening lemma is
missing.  The same search checks the properties, so a real bug is reported as such.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from checker.explicit.compile import compile_predicate, compiled
from checker.exprtext import expr_text
from checker.instance import STEP_PROPERTIES, Instance
from checker.trace import Step, Trace
from model.dsl import Expr, conjuncts

MAX_STATES = 300_000  # the reference engine's bound when the native one cannot run
# The reference engine searches first, up to this many states or seconds: most
# configurations a proof is developed on are smaller, and settled before a compiler would
# have started (the widest models step slowly in Python: a few hundred states a second).
PYTHON_FIRST_STATES = 20_000
PYTHON_FIRST_SECONDS = 5.0
LEMMA_CHECK_SECONDS = 600.0  # check_lemmas_reachable's default bound (wall time)
# The CLI's bound on the one search that places every CTI's pre-state (wall time; its
# --timeout when given): the reference engine's search costs minutes on the larger
# configurations, and an unplaced lemma CTI is still settled by check_lemmas_reachable.
CLASSIFY_SECONDS = 60.0


@dataclass
class LemmaCheck:
    """A lemma checked on every reachable state (`check_lemmas_reachable`)."""

    holds: bool | None  # None: the search stopped at its bound first
    states: int  # distinct states explored
    engine: str
    trace: Trace | None = None  # holds is False: a shortest path to a state falsifying it
    file: str | None = None  # where the CLI wrote that trace

    def text(self) -> list[str]:
        if self.holds is None:
            return [f"reachability of the pre-state unknown, and the lemma was not falsified "
                    f"in the first {self.states:,} reachable states ({self.engine} engine, "
                    "search bound)"]
        if self.holds:
            return [f"the lemma holds in every one of the {self.states:,} reachable states "
                    f"({self.engine} engine, exhaustive): it is true but not inductive, so a "
                    "strengthening lemma is missing (the pre-state is unreachable)"]
        where = f", written to {self.file}" if self.file else ""
        return [f"the lemma is FALSE in a reachable state ({len(self.trace)} steps from the "
                f"initial state{where}; {self.engine} engine): the lemma is wrong for this "
                "configuration, not the code; no strengthening can prove it"]


@dataclass
class CtiClass:
    reachable: bool | None  # None: unknown (search bound hit)
    searched: int  # states searched
    trace: Trace | None = None  # reachable: the real counterexample
    broken: list[str] = field(default_factory=list)  # false conjuncts after the step
    nearest: list[tuple[str, str, str]] = field(default_factory=list)  # var, cti, reachable
    # A property violated in a reachable state met by the search (the variant is buggy
    # even if this CTI's pre-state is not reachable): (property, counterexample).
    real_bug: tuple[str, Trace] | None = None

    def text(self) -> list[str]:
        if self.real_bug is not None and not self.reachable:
            prop, tr = self.real_bug
            return [f"the pre-state is not reachable, but the search met a REAL violation of "
                    f"{prop} in a reachable state ({len(tr)} steps): the variant is wrong, "
                    "whatever the lemmas say"]
        if self.reachable and self.of_lemma:
            return [f"the pre-state is REACHABLE ({len(self.trace) - self.cti_steps} steps "
                    "from the initial state): the lemma is FALSE in a reachable state, so it "
                    "is wrong for this code (restate it); no property is violated by this "
                    "trace"]
        if self.reachable:
            return [f"the pre-state is REACHABLE ({len(self.trace) - self.cti_steps} steps "
                    "from the initial state): this is a real counterexample, not a "
                    "missing lemma"]
        if self.reachable is None and self.lemma is not None:
            return self.lemma.text()
        if self.reachable is None:
            return [f"reachability of the pre-state unknown: not among the first "
                    f"{self.searched:,} reachable states ({self.engine} engine, search "
                    "bound)"]
        out = [f"the pre-state is UNREACHABLE (all {self.searched:,} reachable states "
               f"searched, {self.engine} engine): the lemmas are too weak, not necessarily "
               "the code"]
        if self.broken:
            out.append("after the step, these conjuncts of the obligation are false:")
            out += [f"  {b}" for b in self.broken]
        if self.nearest:
            out.append("the nearest reachable state differs in (variable: CTI value, "
                       "reachable value); a lemma must rule this combination out:")
            out += [f"  {v}: {a}, {b}" for v, a, b in self.nearest]
        return out

    cti_steps: int = 0
    # the obligation is a lemma (a reachable pre-state then refutes the lemma, not the code)
    of_lemma: bool = False
    # check_lemmas_reachable: the lemma on every reachable state (None: not run)
    lemma: LemmaCheck | None = None
    engine: str = "python"  # the explicit engine whose search placed the pre-state


def _state(inst: Instance, labels: dict[str, str]) -> bytes:
    return bytes(var.dom.index(labels[var.name]) for var in inst.layout.vars)


def classify_cti(inst: Instance, cti: Trace, obligation: Expr | None,
                 max_states: int = MAX_STATES) -> CtiClass:
    """Classify a CTI of ``prove`` (``obligation``: the broken state predicate, or None
    for kernel_asserts).  The search also checks the properties on the way, so a variant
    with a real bug is reported as such even when this CTI's pre-state is unreachable."""
    return classify_ctis(inst, [(cti, obligation)], max_states)[0]


@dataclass
class _Placement:
    """What one breadth-first search from the initial state found of the pre-states."""

    engine: str
    searched: int  # states stored
    exhausted: bool  # every reachable state was stored
    paths: dict[bytes, list[tuple[int, tuple]]]  # pre-state met -> (action id, inputs)
    nearest: dict[bytes, bytes]  # pre-state not met (exhausted only) -> closest state
    bug: tuple[str, Trace] | None  # a property violated on the way, shortest trace

    def decided(self, targets: list[bytes]) -> bool:
        return self.exhausted or all(t in self.paths for t in targets)


def classify_ctis(inst: Instance, ctis: list[tuple[Trace, Expr | None]],
                  max_states: int = MAX_STATES, seconds: float | None = None,
                  engine: str = "auto") -> list[CtiClass]:
    """`classify_cti` for several CTIs with one breadth-first search (every CTI's search
    is the same one from the initial state; only the pre-state sought differs): it stops
    when every pre-state was met, the reachable states are exhausted, or at its bound
    (then the unmet ones are "unknown").

    ``engine`` "auto": the reference engine first, for `PYTHON_FIRST_STATES` states or
    `PYTHON_FIRST_SECONDS` (a small configuration is settled before a compiler would
    have started); if that does not decide, the native engine
    (`checker.native.place_states`: no state bound but the memory guard, ``seconds``
    minus the time already spent, its build not counted), else (no compiler) the
    reference engine again up to ``max_states``.  "python" / "native": that engine only.
    ``seconds`` bounds the searches' wall time."""
    deadline = None if seconds is None else time.monotonic() + seconds
    targets = list(dict.fromkeys(_state(inst, cti.initial) for cti, _ in ctis))
    found = None
    if engine == "python":
        found = _search_python(inst, targets, max_states, deadline)
    elif engine == "auto":
        soon = time.monotonic() + PYTHON_FIRST_SECONDS
        found = _search_python(inst, targets, min(max_states, PYTHON_FIRST_STATES),
                               soon if deadline is None else min(deadline, soon))
    if engine != "python" and (found is None or not found.decided(targets)):
        left = None if deadline is None else deadline - time.monotonic()
        if left is None or left > 0:
            from checker.native import NativeUnavailable, NativeUnsupported

            try:
                found = _search_native(inst, targets, left)
            except (NativeUnavailable, NativeUnsupported):
                if engine == "native":
                    raise
                found = _search_python(inst, targets, max_states, deadline)
    assert found is not None
    return [_classified(inst, cti, obligation, found) for cti, obligation in ctis]


def _search_python(inst: Instance, targets: list[bytes], max_states: int,
                   deadline: float | None) -> _Placement:
    """The reference engine's breadth-first search for ``targets``."""
    succ = compiled(inst).successors
    init = bytes(inst.layout.initial_state())
    parent: dict[bytes, tuple[bytes, int, tuple] | None] = {init: None}
    props = [(n, compile_predicate(e)) for n, e in inst.invariants.items()]
    bug: tuple[str, bytes, tuple | None] | None = None  # property, state, failing step
    frontier = [init]
    unmet = set(targets) - {init}
    out_of_time = False
    while frontier and unmet and len(parent) < max_states and not out_of_time:
        nxt_frontier = []
        for n_done, s in enumerate(frontier):
            if deadline is not None and n_done % 256 == 0 and time.monotonic() > deadline:
                out_of_time = True
                break
            for aid, inp, nxt, viol in succ(s):
                if viol and bug is None:
                    prop = next(iter(inst.split_violations(list(viol))))
                    bug = (prop, s, (aid, inp))
                if nxt in parent:
                    continue
                parent[nxt] = (s, aid, inp)
                unmet.discard(nxt)
                if bug is None:
                    bad = next((n for n, p in props if not p(nxt)), None)
                    if bad is not None:
                        bug = (bad, nxt, None)
                nxt_frontier.append(nxt)
            if not unmet:
                break
        frontier = nxt_frontier
    exhausted = not frontier and not out_of_time
    paths = {t: [(aid, inp) for _, aid, inp, _ in _hops(parent, t)]
             for t in targets if t in parent}
    nearest = {}
    if exhausted:
        for t in targets:
            if t not in parent:
                nearest[t] = min(parent, key=lambda s, t=t: sum(
                    a != b for a, b in zip(s, t, strict=True)))
    real = None
    if bug is not None:
        prop, state, last = bug
        real = (prop, _path_trace(inst, parent, state, prop, last))
    return _Placement("python", len(parent), exhausted, paths, nearest, real)


def _search_native(inst: Instance, targets: list[bytes],
                   seconds: float | None) -> _Placement:
    """The native engine's breadth-first search for ``targets`` (checker.native)."""
    from checker.limits import Limits
    from checker.native import native_model, place_states

    native_model(inst)  # built (or loaded from the cache) before the clock starts
    props = list(inst.invariants) + list(STEP_PROPERTIES)
    res, placed = place_states(inst, [tuple(t) for t in targets], props,
                               limits=Limits(timeout=seconds).start())
    paths = {t: p.path for t, p in zip(targets, placed, strict=True) if p.path is not None}
    nearest = {t: bytes(p.nearest) for t, p in zip(targets, placed, strict=True)
               if p.nearest is not None}
    bug = min(res.violations.items(), key=lambda kv: len(kv[1].steps), default=None)
    return _Placement("native", res.stats.states, res.complete, paths, nearest, bug)


def _classified(inst: Instance, cti: Trace, obligation: Expr | None,
                found: _Placement) -> CtiClass:
    """One CTI's class from the shared search (`classify_ctis`)."""
    target = _state(inst, cti.initial)
    path = found.paths.get(target)
    res = CtiClass(True if path is not None else (False if found.exhausted else None),
                   found.searched, cti_steps=len(cti.steps), engine=found.engine)
    if path is not None:
        res.trace = _real_trace(inst, cti, path)
        return res
    res.real_bug = found.bug
    if obligation is not None and cti.steps:
        post = _state(inst, cti.steps[-1].state)
        res.broken = [expr_text(c) for c in conjuncts(obligation)
                      if not compile_predicate(c)(post)][:5]
    best = found.nearest.get(target)
    if res.reachable is False and best is not None:
        names = [v.name for v in inst.layout.vars]
        res.nearest = [(names[i], inst.layout.vars[i].dom.labels[target[i]],
                        inst.layout.vars[i].dom.labels[best[i]])
                       for i in range(len(names)) if best[i] != target[i]]
    return res


def _hops(parent: dict, s: bytes) -> list[tuple[bytes, int, tuple, bytes]]:
    hops = []
    while parent[s] is not None:
        prev, aid, inp = parent[s]
        hops.append((prev, aid, inp, s))
        s = prev
    return hops[::-1]


def _path_trace(inst: Instance, parent: dict, s: bytes, prop: str,
                last: tuple | None) -> Trace:
    """A shortest path to ``s`` (plus the failing step ``last``) as a counterexample."""
    steps = [Step.make(inst, inst.actions[aid], inp, nxt, [], prev)
             for prev, aid, inp, nxt in _hops(parent, s)]
    text = f"{prop} fails after this step"
    if last is not None:
        aid, inp = last
        nxt, viol = compiled(inst).fire(aid, s, inp)
        steps.append(Step.make(inst, inst.actions[aid], inp, nxt, viol, s))
        text = "; ".join(viol)
    return Trace.make(inst, prop, text, inst.layout.initial_state(), steps,
                      engine="smt-induction")


def _real_trace(inst: Instance, cti: Trace, path: list[tuple[int, tuple]]) -> Trace:
    """The path to the pre-state followed by the CTI's own steps."""
    by_key = {(a.name, a.params): i for i, a in enumerate(inst.actions)}
    hops = list(path)
    for st in cti.steps:
        aid = by_key[(st.action, tuple(sorted(st.params.items())))]
        hops.append((aid, tuple(bool(st.inputs.get(n, False))
                                for n in inst.actions[aid].inputs)))
    steps = []
    cur = bytes(inst.layout.initial_state())
    for aid, inp in hops:
        nxt, viol = compiled(inst).fire(aid, cur, inp)
        steps.append(Step.make(inst, inst.actions[aid], inp, nxt, viol, cur))
        cur = bytes(nxt)
    return Trace.make(inst, cti.property, cti.violation.replace(
        " (CTI: the first state is not claimed reachable)", "").replace(
        " (CTI: not claimed reachable)", ""), inst.layout.initial_state(), steps,
        engine="smt-induction")


def check_lemmas_reachable(inst: Instance, lemmas: dict[str, Expr],
                           timeout: float | None = LEMMA_CHECK_SECONDS
                           ) -> tuple[dict[str, LemmaCheck], tuple[str, Trace] | None]:
    """Explore every reachable state of ``inst`` with ``lemmas`` (name -> state predicate)
    as extra invariants, on the native engine where it can run (else the reference one,
    bounded by its usual state budget).  Returns each lemma's `LemmaCheck` and, if the
    search met a violation of one of the instance's own invariants, that property and its
    shortest counterexample (the variant has a real bug)."""
    from checker.lemma_states import LEMMA_PREFIX, lemmas_on_reachable_states
    from checker.limits import Limits
    from checker.native import NativeUnavailable, NativeUnsupported

    limits = Limits(timeout=timeout).start()
    own = dict(inst.invariants)
    # Prefixed: a lemma may share its name with a property (host_fp_untrapped).
    named = {LEMMA_PREFIX + n: e for n, e in lemmas.items()}
    try:
        res = lemmas_on_reachable_states(inst, named, engine="native", limits=limits)
        engine = "native"
    except (NativeUnavailable, NativeUnsupported):
        res = lemmas_on_reachable_states(inst, named, engine="python",
                                         max_states=MAX_STATES * 10, limits=limits)
        engine = "python"
    states = res.stats.states
    out = {}
    for n in lemmas:
        tr = res.violations.get(LEMMA_PREFIX + n)
        out[n] = LemmaCheck(False if tr is not None else (True if res.complete else None),
                            states, engine, trace=tr)
    bug = next(((p, res.violations[p]) for p in own if res.violations.get(p) is not None),
               None)
    return out, bug
