"""Proofs by (k-)induction on the z3 encoding (checker.smt.encode).

Obligations: every selected property, every strengthening lemma of properties/lemmas.py
that applies to the variant, ``value_sets`` (the values each variable can hold in this
configuration, from checker.value_sets: proved like a lemma, so CTIs never show values
the configuration cannot produce), the encoding's bit ``coherence`` (with bits), and
``counters_in_range`` (no step drives a counter out of its domain, which the explicit
engine would report as a model error).  With

    Inv(s) = dom(s) & /\\ state obligations (properties, lemmas, coherence) at s
    T(s, s')   the transition relation, viol(T) its assertion failures

each state obligation P is proved by

    initiation   I(s0) -> P(s0)
    consecution  Inv(s) & T(s,s') -> P(s')

``kernel_asserts`` and ``locking_rules`` (each over its own assertions) by consecution
``Inv(s) & T(s,s') -> ~viol(T)`` (initiation: n/a).
With k > 1 (k-induction) initiation is the base case "I(s0) & T(s0,s1) & ... &
T(s(k-2),s(k-1)) -> P(s_i) for i < k (and no step fails an assertion)", and consecution
assumes Inv at s0..s(k-1) and no failing step among the first k-1:

    Inv(s0) & T(s0,s1) & ~viol & Inv(s1) & ... & Inv(s(k-1)) & T(s(k-1),sk) -> P(sk)

A failed consecution gives a counterexample to induction (CTI): pre-state(s), step,
post-state, as a Trace of kind "cti" (its first state is not claimed reachable); a failed
initiation gives a real counterexample (kind "counterexample").  Every CTI is replayed in
the explicit interpreter as a self-check.  Results are typed; printing is in checker.smt.cli.
"""

from __future__ import annotations

import multiprocessing
import signal
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

import z3

from checker.instance import KERNEL_ASSERTS, STEP_PROPERTIES, Instance
from checker.smt.bmc import extract, make_trace, replay
from checker.smt.encode import Encoding, Frame, StepEnc
from checker.trace import Trace
from checker.value_sets import value_sets
from model.dsl import any_of
from properties.lemmas import lemmas_for

ENGINE = "smt-induction"
MODEL_ERROR = "model:"


@dataclass
class Obligation:
    """One row of the proof table."""

    name: str
    kind: str  # property | lemma | encoding
    doc: str
    initiation: str = "-"  # ok | FAIL | unknown | n/a
    consecution: str = "-"  # ok | FAIL | unknown
    seconds: float = 0.0
    trace: Trace | None = None  # a CTI or a counterexample
    # The queries behind the verdicts: a state obligation is checked one query per
    # conjunct ("part": a slot of `coherence`, a variable of `value_sets`, else the whole
    # formula), a step obligation one query.  Per consecution part its seconds (None: not
    # checked, after a sat part), and per case the indices of the parts whose query hit
    # the per-query timeout (`prove(query_timeout=...)`), which makes the case unknown.
    part_names: list[str] = field(default_factory=list)
    part_seconds: list[float | None] = field(default_factory=list)
    timed_out: dict[str, list[int]] = field(
        default_factory=lambda: {"initiation": [], "consecution": []})
    query_timeout: float | None = None
    # consecution parts whose query was still open after SPLIT_AFTER s, so decided one
    # action at a time (`_decide`)
    split_parts: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.initiation in ("ok", "n/a") and self.consecution == "ok"

    def status(self, case: str) -> str:
        """The table's text for ``case`` (initiation or consecution): its verdict, and for
        an unknown one the parts that timed out, e.g. "unknown (2 of 25 parts timed out
        at 300 s: x, y)"."""
        verdict = getattr(self, case)
        parts = self.timed_out[case]
        if verdict != "unknown" or not parts:
            return verdict
        total = len(self.part_names)
        if total <= 1:
            return f"unknown (timed out at {self.query_timeout:g} s)"
        names = [self.part_names[i] for i in parts if i < total]
        shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
        return (f"unknown ({len(parts)} of {total} parts timed out at "
                f"{self.query_timeout:g} s: {shown})")


@dataclass
class ProveResult:
    inst: Instance
    k: int
    bits: bool
    obligations: list[Obligation] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def verdict(self) -> str:
        """PROVED, VIOLATED (a real counterexample), CTI (not inductive), VACUOUS (the
        lemmas and the transition relation contradict each other) or UNKNOWN."""
        obs = self.obligations
        if any(o.name == "nonvacuous" and o.consecution == "FAIL" for o in obs):
            return "VACUOUS"
        if any(o.initiation == "FAIL" for o in obs):
            return "VIOLATED"
        if any(o.consecution == "FAIL" for o in obs):
            return "CTI"
        if all(o.ok for o in obs):
            return "PROVED"
        return "UNKNOWN"

    def failed(self) -> list[Obligation]:
        return [o for o in self.obligations if o.trace is not None]


# Each query is decided on a fresh one-shot solver, not on one incremental solver for
# all of them (the engine's first design).  z3's incremental solver cannot eliminate
# variables (solve-eqs, elim-uncnstr: a later query might mention them) and on the larger
# proofs a few queries took it most of the time; a one-shot solver runs these tactics on
# the shared assertions together with its query first.  The part of the preprocessing
# that does not eliminate variables (`SHARED_TACTICS`) runs once on the shared
# assertions.  Measured on this machine (same load, old/new): v6.16-ptrace-fixes with
# SVE and a tracer 62/28 s, v4.18 at the default configuration 22/11 s, v4.17 11/7 s;
# small 2-induction proofs of v4.17 4/5 s (the per-query preprocessing is their cost).
SHARED_TACTICS = ("simplify", "propagate-values")
QUERY_TACTICS = ("solve-eqs", "elim-uncnstr", "simplify", "smt")


class QuerySolver:
    """The assertions a group of queries shares (the base case's path, or Inv & T for
    consecution); `check` decides one query against them on a fresh solver
    (`SHARED_TACTICS` once, `QUERY_TACTICS` per query), and `model` is the last
    satisfiable check's model.  propagate-values keeps the equation of each variable it
    replaces, so a query may still mention every variable."""

    def __init__(self) -> None:
        self._assertions: list[z3.BoolRef] = []
        self._simplified: list[z3.BoolRef] | None = None
        self._model: z3.ModelRef | None = None

    def add(self, *fs: z3.BoolRef) -> None:
        self._assertions.extend(fs)
        self._simplified = None

    def _shared(self) -> list[z3.BoolRef]:
        if self._simplified is None:
            goal = z3.Goal()
            goal.add(*self._assertions)
            subgoals = z3.Then(*SHARED_TACTICS)(goal)
            assert len(subgoals) == 1  # neither tactic splits a goal
            self._simplified = list(subgoals[0])
        return self._simplified

    def check(self, query: z3.BoolRef, timeout_ms: int | None = None) -> z3.CheckSatResult:
        s = z3.Then(*QUERY_TACTICS).solver()
        if timeout_ms is not None:
            s.set("timeout", timeout_ms)
        s.add(*self._shared())
        s.add(query)
        r = s.check()
        self._model = s.model() if r == z3.sat else None
        return r

    def model(self) -> z3.ModelRef:
        assert self._model is not None, "model() after a check that was not sat"
        return self._model


# A consecution query still open after this many seconds is decided again one action at a
# time (`_decide`).  Measured: on v6.16-ptrace-fixes --sme --sme-vls 128,256 --event signal
# --event sme_set_vl (1 CPU, 1 task, split, VHE) lemma vl_change_in_progress took 279 s as
# one query and 37 s as its 114 per-action queries (the slowest 0.4 s, most of each the
# preprocessing of the shared assertions); on v4.18 with 2 CPUs, 2 tasks, 2 vcpus and 2 VMM
# threads a 6 s query took 5.9 s split.  So a query is split only once it has proved hard.
SPLIT_AFTER = 10.0


@dataclass
class Split:
    """How a consecution query is split: its last step's action selector and the number of
    actions (each query ``q`` becomes ``q & sel == a`` for every action a)."""

    sel: z3.BitVecRef
    actions: int


def _decide(solver: QuerySolver, query: z3.BoolRef, deadline: float | None,
            query_timeout: float | None, split: Split | None
            ) -> tuple[z3.CheckSatResult, bool, int | None, bool]:
    """`_check`, but a query the solver has not decided within `SPLIT_AFTER` seconds (or
    ``query_timeout`` if shorter) is checked again as one query per action of the last
    step (each with ``query_timeout``): sat as soon as one is (the third value is that
    action, whose query's model is the solver's), else unknown if one is, else unsat.  The
    second value says whether a query timeout (not the deadline) left it unknown, the
    last whether the query was split."""
    if split is None:
        return (*_check(solver, query, deadline, query_timeout), None, False)
    first = SPLIT_AFTER if query_timeout is None else min(SPLIT_AFTER, query_timeout)
    r, late = _check(solver, query, deadline, first)
    if not late:  # decided, or the proof's deadline stopped it
        return r, False, None, False
    results, any_late = [], False
    for aid in range(split.actions):
        r, late = _check(solver, z3.And(query, split.sel == aid), deadline, query_timeout)
        any_late |= late
        if r == z3.sat:
            return r, False, aid, True
        results.append(r)
    return _worst(results), any_late, None, True


def _check(solver: QuerySolver, query: z3.BoolRef, deadline: float | None,
           query_timeout: float | None = None) -> tuple[z3.CheckSatResult, bool]:
    """Check ``query`` within the global ``deadline`` and its own ``query_timeout``
    (seconds, each None for none): the result, and whether the query timeout (not the
    deadline) was what stopped it (unknown)."""
    left = None if deadline is None else deadline - time.perf_counter()
    if left is not None and left <= 0:
        return z3.unknown, False
    if left is not None and (query_timeout is None or left < query_timeout):
        return solver.check(query, max(1, int(left * 1000))), False
    if query_timeout is None:
        return solver.check(query), False
    r = solver.check(query, max(1, int(query_timeout * 1000)))
    return r, r == z3.unknown


Parts = list[tuple[str, z3.BoolRef]]  # a state obligation's conjuncts, each with a name


def _parts(ob: Parts) -> list[z3.BoolRef]:
    return [f for _, f in ob]


def _worst(results: list[z3.CheckSatResult]) -> z3.CheckSatResult:
    """An obligation's result from its parts': sat if one is, else unknown if one is."""
    for r in (z3.sat, z3.unknown):
        if r in results:
            return r
    return z3.unsat


def _is_counter(cid: str) -> bool:
    """An overflow site or a model error: obligation ``counters_in_range``.  A check id
    is "function: kind text" (model.ctx.Ctx.check, model.dsl.overflow_check)."""
    return cid.startswith(MODEL_ERROR) or cid.partition(": ")[2].startswith("overflow ")


def _of_property(inst: Instance, prop: str):  # noqa: ANN202 - StepEnc -> list[BoolRef]
    """The violation conditions of a step that belong to step property ``prop``."""

    def conds(st: StepEnc) -> list[z3.BoolRef]:
        return [c for _, cid, c in st.violations
                if not _is_counter(cid) and inst.property_of_check(cid) == prop]

    return conds


def _model_errors(st: StepEnc) -> list[z3.BoolRef]:
    return [c for _, cid, c in st.violations if _is_counter(cid)]


def prove(inst: Instance, props: list[str], *, k: int = 1, timeout: float | None = None,
          bits: bool = True, lemmas: dict[str, tuple[str, object]] | None = None,
          jobs: int = 1, query_timeout: float | None = None,
          progress: Callable[[Obligation], None] | None = None) -> ProveResult:
    """Prove ``props`` (names of properties) by k-induction with the variant's lemmas.

    ``lemmas`` overrides the lemma set: name -> (reason, model Expr).  ``jobs`` > 1 checks
    the consecution queries in that many forked processes (`_consecution`); the verdicts
    do not depend on it.  ``timeout`` is one deadline for the whole proof;
    ``query_timeout`` (seconds) bounds each query on its own: a part whose query hits it
    makes its obligation unknown (`Obligation.timed_out` says which parts) and the proof
    goes on with the other parts and obligations.  A part that is sat (a CTI) decides its
    obligation whatever its other parts give.  ``progress`` (with jobs = 1) is called
    with each obligation's row once its consecution is decided."""
    if k < 1:
        raise ValueError("k must be at least 1")
    if jobs < 1:
        raise ValueError("jobs must be at least 1")
    if query_timeout is not None and not query_timeout > 0:
        raise ValueError("query_timeout must be positive")
    t0 = time.perf_counter()
    deadline = None if timeout is None else t0 + timeout
    enc = Encoding(inst, bits=bits)
    if lemmas is None:
        lemmas = {lem.name: (lem.reason, lem.build(inst.layout))
                  for lem in lemmas_for(inst.layout, inst.variant)}
    state_obs: list[tuple[Obligation, object]] = []  # (row, Frame -> BoolRef)
    for p in props:
        if p in STEP_PROPERTIES:
            continue
        state_obs.append((Obligation(p, "property", _doc(p)),
                          lambda f, p=p: [(p, enc.property(p, f))]))
    for name, (reason, expr) in lemmas.items():
        state_obs.append((Obligation(name, "lemma", reason),
                          lambda f, e=expr, name=name: [(name, enc.pred(e, f))]))
    sets = value_sets(inst.layout, inst.actions)
    if sets:
        # One conjunct per variable, checked one query each as `coherence` is: on v6.16 SME
        # with signals the whole conjunction got no answer in 300 s, its 32 parts were
        # unsat in 23 s (README, "Proofs").
        per_var = [(inst.layout.vars[i].name, any_of(inst.layout.vars[i].eq(x)
                                                     for x in sorted(vs)))
                   for i, vs in sets.items()]
        state_obs.append((Obligation(
            "value_sets", "encoding",
            "each variable holds only values the configuration's statements can produce "
            f"(static analysis, {len(sets)} variables restricted)"),
            lambda f, es=per_var: [(n, enc.pred(e, f)) for n, e in es]))
    if bits:
        state_obs.append((Obligation(
            "coherence", "encoding",
            "a slot holding o's latest token holds o's last written bits; zero slots are 0"),
            enc.coherence_named_parts))
    step_obs: list[tuple[Obligation, object]] = []
    for p in STEP_PROPERTIES:
        if p in props:
            step_obs.append((Obligation(p, "property", _doc(p)), _of_property(inst, p)))
    step_obs.append((Obligation(
        "counters_in_range", "encoding",
        "no step takes a counter (preempt/softirq count) out of its domain"), _model_errors))
    result = ProveResult(inst, k, bits)
    result.obligations = [o for o, _ in state_obs] + [o for o, _ in step_obs]
    assume_no_viol = [fn for o, fn in step_obs]
    for o in result.obligations:
        o.query_timeout = query_timeout

    def inv(f: Frame) -> z3.BoolRef:
        return z3.And([enc.domain(f)] + [p for _, fn in state_obs for p in _parts(fn(f))])

    # ---------------------------------------------------------------- base case
    base = QuerySolver()
    frames = [enc.frame("b0")]
    steps: list[StepEnc] = []
    base.add(enc.init(frames[0]))
    for i in range(k):
        if i > 0:
            frames.append(enc.frame(f"b{i}"))
            st = enc.step(i, frames[i - 1], frames[i])
            steps.append(st)
            base.add(st.constraint)
        for ob, fn in state_obs:
            if ob.initiation not in ("-", "ok"):
                continue
            t = time.perf_counter()
            r = _check_parts(base, fn(frames[i]), deadline, query_timeout,
                             ob.timed_out["initiation"])
            ob.seconds += time.perf_counter() - t
            ob.initiation = _verdict(r, ob.initiation)
            if r == z3.sat and ob.trace is None:
                ob.trace = _trace(enc, base.model(), frames, steps, ob.name,
                                  f"{ob.name} fails in a reachable state", "counterexample")
        for ob, fn in step_obs:
            if i == 0:
                continue
            if ob.initiation not in ("-", "ok"):
                continue
            t = time.perf_counter()
            r, late = _check(base, z3.Or(fn(steps[-1]) or [z3.BoolVal(False)]), deadline,
                             query_timeout)
            if late and 0 not in ob.timed_out["initiation"]:
                ob.timed_out["initiation"].append(0)
            ob.seconds += time.perf_counter() - t
            ob.initiation = _verdict(r, ob.initiation)
            if r == z3.sat and ob.trace is None:
                ob.trace = _trace(enc, base.model(), frames, steps, ob.name,
                                  "an assertion fails in a reachable step", "counterexample")
        # later frames assume earlier steps were clean, as consecution does
        if i > 0:
            for fn in assume_no_viol:
                base.add(z3.Not(z3.Or(fn(steps[-1]) or [z3.BoolVal(False)])))
    for ob, _ in state_obs + step_obs:
        if ob.initiation == "-":
            ob.initiation = "n/a"

    # ---------------------------------------------------------------- inductive step
    solver = QuerySolver()
    frames = [enc.frame("p0")]
    steps = []
    for i in range(k):
        solver.add(inv(frames[i]))
        frames.append(enc.frame(f"p{i + 1}"))
        st = enc.step(i + 1, frames[i], frames[i + 1])
        steps.append(st)
        solver.add(st.constraint)
        if i < k - 1:
            for fn in assume_no_viol:
                solver.add(z3.Not(z3.Or(fn(st) or [z3.BoolVal(False)])))
    # Vacuity guard: if Inv & T had no model at all, every consecution would "hold".
    sanity = Obligation("nonvacuous", "encoding",
                        "Inv(s) & T(s,s') is satisfiable (the proof is not vacuous)",
                        initiation="n/a")
    sanity.query_timeout = query_timeout
    t = time.perf_counter()
    r, late = _check(solver, z3.BoolVal(True), deadline, query_timeout)
    sanity.seconds = time.perf_counter() - t
    sanity.consecution = "ok" if r == z3.sat else "FAIL" if r == z3.unsat else "unknown"
    if late:
        sanity.timed_out["consecution"].append(0)
    result.obligations.append(sanity)
    last = frames[-1]
    # The consecution queries, in table order: (obligation, part, query) per conjunct of a
    # state obligation ("this part is false after the step") and one per step obligation
    # ("some assertion of it fails in the step").  An obligation's verdict is sat (a CTI,
    # from its first sat part) if a part is sat, else unknown if a part is, else unsat.
    queries: list[tuple[int, int, z3.BoolRef]] = []
    texts: dict[int, str] = {}
    obs = [o for o, _ in state_obs] + [o for o, _ in step_obs]
    for n, (ob, fn) in enumerate(state_obs):
        named = fn(last)
        ob.part_names = [name for name, _ in named]
        queries += [(n, j, z3.Not(part)) for j, (_, part) in enumerate(named)]
        texts[n] = (f"{ob.name} is not preserved by the last step (CTI: the first state is "
                    "not claimed reachable)")
    for n, (ob, fn) in enumerate(step_obs, start=len(state_obs)):
        conds = fn(steps[-1])
        ob.part_names = [ob.name] if conds else []
        if conds:
            queries.append((n, 0, z3.Or(conds)))
        texts[n] = ("an assertion fails in the last step from a state satisfying every lemma "
                    "(CTI: not claimed reachable)")
    for ob in obs:
        ob.part_seconds = [None] * len(ob.part_names)

    def record(n: int, c: Consecution) -> None:
        ob = obs[n]
        ob.seconds += sum(s for s in c.part_seconds.values())
        ob.consecution = _verdict(c.result, "-")
        ob.timed_out["consecution"] = sorted(c.timed_out)
        ob.split_parts = sorted(c.split)
        for j, s in c.part_seconds.items():
            ob.part_seconds[j] = s
        if c.model is not None and ob.trace is None:
            ob.trace = _trace(enc, c.model, frames, steps, ob.name, texts[n], "cti")
        if progress is not None:
            progress(ob)  # (jobs 1) with its CTI, if any, already built

    done = _consecution(solver, queries, deadline, jobs, query_timeout,
                        record if jobs == 1 else None,
                        Split(steps[-1].sel, len(inst.actions)))
    for n, ob in enumerate(obs):
        c = done.get(n)
        if c is None:
            ob.consecution = "ok"  # no query: a step obligation without assertions
            continue
        if jobs != 1:
            record(n, c)
        if c.model is not None and ob.trace is None:
            ob.trace = _trace(enc, c.model, frames, steps, ob.name, texts[n], "cti")
    result.seconds = time.perf_counter() - t0
    return result


def _check_parts(solver: QuerySolver, ob: Parts, deadline: float | None,
                 query_timeout: float | None, timed_out: list[int]) -> z3.CheckSatResult:
    """Is some conjunct of ``ob`` false in a model of ``solver``?  One query per conjunct,
    up to the first sat one (whose model is the solver's); unknown if none is sat and one
    is unknown; unsat when every conjunct holds.  Parts whose query timed out are added
    to ``timed_out``."""
    results = []
    for j, part in enumerate(_parts(ob)):
        r, late = _check(solver, z3.Not(part), deadline, query_timeout)
        if late and j not in timed_out:
            timed_out.append(j)
        if r == z3.sat:
            return r
        results.append(r)
    return _worst(results)


# The forked workers' view of the parent's solver and queries (set just before the fork;
# z3 objects cannot be pickled, so the workers inherit them instead).
_SHARED: tuple[QuerySolver, list[tuple[int, int, z3.BoolRef]], float | None,
               float | None, Split | None] | None = None
_RESULTS = {"sat": z3.sat, "unsat": z3.unsat, "unknown": z3.unknown}


@dataclass
class Consecution:
    """One obligation's consecution queries: `_worst` of their results, a model of its
    first sat part (if any), the seconds per part checked, and the parts that timed out."""

    result: z3.CheckSatResult = field(default_factory=lambda: z3.unsat)
    model: z3.ModelRef | None = None
    part_seconds: dict[int, float] = field(default_factory=dict)
    timed_out: set[int] = field(default_factory=set)
    split: set[int] = field(default_factory=set)  # parts decided one action at a time

    def add(self, part: int, r: z3.CheckSatResult, seconds: float, late: bool,
            was_split: bool) -> None:
        """Fold one part's query (as `_decide` answered it) into the obligation's."""
        self.part_seconds[part] = seconds
        if late:
            self.timed_out.add(part)
        if was_split:
            self.split.add(part)
        self.result = _worst([self.result, r])


def _worker_init() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C


def _timed_check(qi: int) -> tuple[str, float, bool, int | None, bool]:
    """Query ``qi`` of `_SHARED`: its result, the seconds it took, whether it timed out,
    the action whose query was sat when it was split, and whether it was (`_decide`)."""
    assert _SHARED is not None
    solver, queries, deadline, query_timeout, split = _SHARED
    t = time.perf_counter()
    r, late, aid, was_split = _decide(solver, queries[qi][2], deadline, query_timeout,
                                      split)
    return str(r), time.perf_counter() - t, late, aid, was_split


def _worker_check(qi: int) -> tuple[int, str, float, bool, int | None, bool]:
    return (qi, *_timed_check(qi))


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Shut the pool down without waiting for queries still running (after Ctrl-C or a
    lost worker): its workers are killed, none is left behind."""
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        proc.kill()
    pool.shutdown(wait=True, cancel_futures=True)


def _consecution(solver: QuerySolver, queries: list[tuple[int, int, z3.BoolRef]],
                 deadline: float | None, jobs: int, query_timeout: float | None = None,
                 on_done: Callable[[int, Consecution], None] | None = None,
                 split: Split | None = None) -> dict[int, Consecution]:
    """Check each (obligation, part, query) on ``solver`` (which holds Inv and the steps).

    Returns, per obligation with a query, its `Consecution`: sat if one of its parts is
    (with a model of the first such part in list order: a worker's model cannot cross the
    fork, so that query is checked again here), else unknown if one is (a timeout), else
    unsat.  With ``jobs`` = 1 the queries run in order here, an obligation's later parts
    are skipped once one is sat, and ``on_done`` is called as each obligation is decided.
    With more, they run in ``jobs`` processes forked from this one: each inherits the
    shared assertions and checks the queries it is handed, one at a time; all queries are
    checked, and the result per obligation is the same.  A query still open after
    `SPLIT_AFTER` seconds is split by the last step's action (``split``, `_decide`).
    (Fork, not spawn: the solver and the queries are z3 objects of this process.)"""
    results: dict[int, tuple[str, float, bool, int | None, bool]] = {}
    if jobs == 1 or len(queries) < 2:
        out: dict[int, Consecution] = {}
        for qi, (n, j, q) in enumerate(queries):
            c = out.setdefault(n, Consecution())
            if c.result != z3.sat:
                t = time.perf_counter()
                r, late, _, was_split = _decide(solver, q, deadline, query_timeout, split)
                c.add(j, r, time.perf_counter() - t, late, was_split)
                if r == z3.sat:
                    c.model = solver.model()
            last_part = qi + 1 == len(queries) or queries[qi + 1][0] != n
            if on_done is not None and last_part:
                on_done(n, c)
        return out
    global _SHARED
    _SHARED = (solver, queries, deadline, query_timeout, split)
    pool = ProcessPoolExecutor(min(jobs, len(queries)), initializer=_worker_init,
                               mp_context=multiprocessing.get_context("fork"))
    try:
        futures = [pool.submit(_worker_check, qi) for qi in range(len(queries))]
        for fut in as_completed(futures):
            qi, *res = fut.result()
            results[qi] = tuple(res)
    except BrokenProcessPool:
        # A worker was killed from outside (e.g. by the kernel's OOM killer): the
        # queries not answered yet are checked here, so the table is still complete.
        lost = [qi for qi in range(len(queries)) if qi not in results]
        print(f"prove: a --jobs worker process died (killed from outside, e.g. for "
              f"memory); checking its {len(lost)} unanswered queries in the main "
              "process", file=sys.stderr)
        for qi in lost:
            results[qi] = _timed_check(qi)
    finally:
        _SHARED = None
        _stop_workers(pool)
    out = {}
    first_sat: dict[int, int] = {}
    for qi, (n, j, _) in enumerate(queries):
        r, seconds, late, _, was_split = results[qi]
        out.setdefault(n, Consecution()).add(j, _RESULTS[r], seconds, late, was_split)
        if r == "sat":
            first_sat.setdefault(n, qi)
    for n, qi in first_sat.items():
        # sat in a worker, so sat here: no deadline, the CTI is owed (of the action whose
        # query was sat if the worker split it)
        aid = results[qi][3]
        q = queries[qi][2] if aid is None or split is None else z3.And(
            queries[qi][2], split.sel == aid)
        out[n].model = solver.model() if solver.check(q) == z3.sat else None
    return out


def _verdict(r: z3.CheckSatResult, prev: str) -> str:
    if r == z3.sat:
        return "FAIL"
    if r == z3.unknown:
        return "unknown"
    return "ok" if prev in ("-", "ok") else prev


def _trace(enc: Encoding, m: z3.ModelRef, frames: list[Frame], steps: list[StepEnc],
           name: str, text: str, kind: str) -> Trace:
    states, acts, smt_viols = extract(enc, m, frames, steps)
    viols = replay(enc.inst, states, acts)  # self-check: raises ReplayMismatch
    for sv, ev in zip(smt_viols, viols, strict=False):
        if any(c.startswith(MODEL_ERROR) for c in ev):
            continue  # the explicit engine stops at a model error; z3 runs on
        real = [c for c in sv if not c.startswith(MODEL_ERROR)]
        if sorted(set(real)) != sorted(set(c for c in ev if not c.startswith(MODEL_ERROR))):
            from checker.smt.bmc import ReplayMismatch

            raise ReplayMismatch(f"assertion failures differ: smt {sv} explicit {ev}")
    if name in STEP_PROPERTIES and viols and viols[-1]:
        mine = enc.inst.split_violations(viols[-1]).get(name) or viols[-1]
        text = "; ".join(mine) + f" ({text})"
    return make_trace(enc.inst, name, text, states, acts, viols, ENGINE, kind)


def _doc(prop: str) -> str:
    from properties.fp import INVARIANTS, KERNEL_ASSERTS_DOC
    from properties.locking import LOCKING_RULES, LOCKING_RULES_DOC
    from properties.ownership import DATA_OWNERSHIP, DATA_OWNERSHIP_DOC

    for inv in INVARIANTS:
        if inv.name == prop:
            return inv.doc.split(".")[0].replace("\n", " ")
    if prop == LOCKING_RULES:
        return LOCKING_RULES_DOC.split(":")[0]
    if prop == DATA_OWNERSHIP:
        return DATA_OWNERSHIP_DOC.split(":")[0]
    return KERNEL_ASSERTS_DOC.split(".")[0] if prop == KERNEL_ASSERTS else ""


__all__ = ["Obligation", "ProveResult", "prove"]
