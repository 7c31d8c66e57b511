"""Bounded model checking on the z3 encoding (checker.smt.encode).

For k = 0, 1, ..., K the solver holds

    I(s0) & T(s0,s1) & T(s1,s2) & ... & T(s(k-1),sk)

and asks, per property not yet violated at a smaller depth, for

    ~P(sk)                       (invariants no_loss, no_leak)
    viol(T(s(k-1),sk))           (kernel_asserts / locking_rules: some assertion of that
                                  property fails in step k)

Depth grows one step at a time, so the first counterexample found is a shortest one, the
same length as the explorer's (BFS).  As in the explorer, nothing follows a step that
fails a fatal assertion (BUG, counter overflow: model.dsl.FATAL_KINDS): such a step is
only ever the last one of a path (and an invariant is not checked after it).

With ``each_site``, every assertion *site* gets its own shortest counterexample, as in the
explorer: at each depth, after the ``kernel_asserts`` query, the solver is asked for a
failure of a site not found yet (the disjunction of the open sites' conditions, i.e. the
found ones excluded), each model found is replayed and recorded for every new site its
last step fails, and the query is repeated at the same depth until unsat; then the depth
grows, up to the bound.  A counterexample is read back as explicit states and
replayed through the reference interpreter (checker.interp); a mismatch raises
`ReplayMismatch` (the two interpreters disagree: a bug in one of them).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import z3

from checker.instance import STEP_PROPERTIES, Instance
from checker.interp import guard_holds, predicate, run_action
from checker.smt.encode import Encoding, Frame, StepEnc
from checker.trace import Step, Trace
from model.dsl import ModelError

ENGINE = "smt-bmc"


class ReplayMismatch(Exception):
    """An SMT trace does not replay in the explicit engine."""


@dataclass
class BmcPropResult:
    prop: str
    verdict: str  # VIOLATED | NOT_FOUND (within the bound) | UNKNOWN
    depth: int  # length of the counterexample, or the bound checked
    seconds: float
    trace: Trace | None = None
    reason: str = ""


@dataclass
class BmcResult:
    inst: Instance
    bound: int
    bits: bool = False
    props: dict[str, BmcPropResult] = field(default_factory=dict)
    seconds: float = 0.0
    # With each_site: assertion site (check id) -> its shortest counterexample (verdict
    # VIOLATED), in the order found (non-decreasing length).
    sites: dict[str, BmcPropResult] = field(default_factory=dict)
    sites_searched: bool = False

    @property
    def violated(self) -> bool:
        return any(p.verdict == "VIOLATED" for p in self.props.values())

    @property
    def unknown(self) -> bool:
        return any(p.verdict == "UNKNOWN" for p in self.props.values())


def replay(inst: Instance, states: list[tuple], steps: list[tuple[int, tuple]]
           ) -> list[list[str]]:
    """Replay (action id, inputs) from states[0] with the reference interpreter; check every
    guard and every successor against ``states``; return the violated check ids per step."""
    s = states[0]
    out = []
    for i, (aid, inp) in enumerate(steps):
        if not guard_holds(inst.actions[aid], tuple(s)):
            raise ReplayMismatch(
                f"step {i + 1}: {inst.actions[aid].label} is not enabled in the explicit engine")
        try:
            nxt, viol, _ = run_action(inst.actions[aid], tuple(s), tuple(inp))
        except ModelError as exc:
            nxt, viol = states[i + 1], [f"model: {exc}"]
        if nxt != states[i + 1]:
            diff = [f"{v.name}: smt {inst.layout.label(v, states[i + 1][v.index])} explicit "
                    f"{inst.layout.label(v, nxt[v.index])}"
                    for v in inst.layout.vars if nxt[v.index] != states[i + 1][v.index]]
            raise ReplayMismatch(
                f"step {i + 1} ({inst.actions[aid].label}) differs: {'; '.join(diff)}")
        out.append(viol)
        s = nxt
    return out


def extract(enc: Encoding, m: z3.ModelRef, frames: list[Frame], steps: list[StepEnc]
            ) -> tuple[list[tuple], list[tuple[int, tuple]], list[list[str]]]:
    """States, (action, inputs) and SMT-side violated check ids of the model's path."""
    states = [enc.state_of(m, f) for f in frames]
    sizes = [v.dom.size for v in enc.S.vars]
    for i in range(1, len(states)):
        # A counter driven out of its domain (a model error, reported as a violation of
        # counters_in_range) has no label: show it unchanged.
        states[i] = tuple(x if x < n else p
                          for x, n, p in zip(states[i], sizes, states[i - 1], strict=True))
    acts = [enc.step_of(m, st) for st in steps]
    viols = []
    for st, (aid, _) in zip(steps, acts, strict=False):
        viols.append([cid for a, cid, c in st.violations
                      if a == aid and z3.is_true(m.eval(c, model_completion=True))])
    return states, acts, viols


def make_trace(inst: Instance, prop: str, text: str, states: list[tuple],
               acts: list[tuple[int, tuple]], viols: list[list[str]], engine: str,
               kind: str = "counterexample", assertion: str = "") -> Trace:
    steps = []
    for i, (aid, inp) in enumerate(acts):
        try:
            steps.append(Step.make(inst, inst.actions[aid], inp, states[i + 1], viols[i],
                                   states[i]))
        except ModelError:  # a counter overflow: list the functions the step may call
            steps.append(Step.make(inst, inst.actions[aid], inp, states[i + 1], viols[i]))
    return Trace.make(inst, prop, text, states[0], steps, engine=engine, kind=kind,
                      assertion=assertion)


def bmc(inst: Instance, props: list[str], depth: int, *, timeout: float | None = None,
        bits: bool = False, start: int = 0, each_site: bool = False) -> BmcResult:
    """Shortest counterexamples of length <= ``depth`` for each property in ``props``.

    One incremental solver holds I(s0) & T(s0,s1) & ... & T(s(k-1),sk); per depth one
    query asks for the disjunction of the open properties' violations, and only when it
    is satisfiable each property separately.  ``bits=False`` (the default) encodes
    provenance tokens only and uses z3's incremental bit-blasting QF_BV solver; on
    reachable states the token check is exactly the bit-level one (the encoding's
    ``coherence`` invariant, proved by `prove`), and the data vectors make bit-blasting
    slower (one to two orders of magnitude at their real widths, 128 bits for V; they are
    now encoded in `checker.smt.encode.DATA_WIDTH` bits).  ``bits=True`` carries the
    data too (general solver).  ``timeout`` (seconds) bounds the whole run; properties
    still open when it runs out are UNKNOWN at the depth reached."""
    t0 = time.perf_counter()
    enc = Encoding(inst, bits=bits)
    solver = z3.Solver() if bits else z3.SolverFor("QF_BV")
    frames = [enc.frame("s0")]
    steps: list[StepEnc] = []
    solver.add(enc.init(frames[0]))
    result = BmcResult(inst, depth, bits)
    open_props = list(props)
    invs = {p: predicate(inst.invariants[p]) for p in props if p in inst.invariants}

    def remaining() -> float | None:
        if timeout is None:
            return None
        return timeout - (time.perf_counter() - t0)

    def check(query: z3.BoolRef) -> z3.CheckSatResult:
        left = remaining()
        if left is not None:
            if left <= 0:
                return z3.unknown
            solver.set("timeout", max(1, int(left * 1000)))
        return solver.check(query)

    def query_of(prop: str, k: int) -> z3.BoolRef | None:
        if prop in STEP_PROPERTIES:
            if k == 0:
                return None
            conds = [c for _, cid, c in steps[-1].violations
                     if inst.property_of_check(cid) == prop]
            return z3.Or(conds) if conds else None
        bad = z3.Not(enc.property(prop, frames[k]))
        return z3.And(bad, z3.Not(enc.fatal(steps[-1]))) if k > 0 else bad

    def model_path() -> tuple[list, list, list, list]:
        m = solver.model()
        states, acts, smt_viols = extract(enc, m, frames, steps)
        if states[0] != inst.layout.initial_state():
            raise ReplayMismatch("SMT initial state differs from the model's")
        return states, acts, replay(inst, states, acts), smt_viols

    def find_sites(k: int) -> bool:
        """Every site first failing at depth k; False if the solver gave up."""
        while True:
            conds = [c for _, cid, c in steps[-1].violations if cid not in result.sites]
            if not conds:
                return True
            r = check(z3.Or(conds))
            if r == z3.unsat:
                return True
            if r == z3.unknown:
                return False
            states, acts, viols, _ = model_path()
            new = [cid for cid in dict.fromkeys(viols[-1]) if cid not in result.sites]
            if not new:
                raise ReplayMismatch(
                    f"SMT reports a new assertion site failing at step {k}; the explicit "
                    f"engine reports {viols[-1] or 'none'}")
            for cid in new:
                prop = inst.property_of_check(cid)
                trace = make_trace(inst, prop, cid, states, acts, viols, ENGINE, assertion=cid)
                result.sites[cid] = BmcPropResult(prop, "VIOLATED", k,
                                                  time.perf_counter() - t0, trace)

    def found(prop: str, k: int) -> None:
        states, acts, viols, smt_viols = model_path()
        if prop in STEP_PROPERTIES:
            mine = inst.split_violations(viols[-1]).get(prop)
            if not mine:
                raise ReplayMismatch(
                    f"SMT reports {prop} failures {smt_viols[-1]} in the last "
                    "step; the explicit engine reports none of that property")
            text = "; ".join(mine)
        else:
            if invs[prop](states[-1]):
                raise ReplayMismatch(
                    f"{prop} fails in the SMT model's last state but holds there "
                    "in the explicit engine")
            text = f"{prop} fails after this step" if k else \
                f"{prop} fails in the initial state"
        trace = make_trace(inst, prop, text, states, acts, viols, ENGINE)
        result.props[prop] = BmcPropResult(prop, "VIOLATED", k, time.perf_counter() - t0,
                                           trace)
        open_props.remove(prop)

    sites_open = each_site and any(p in props for p in STEP_PROPERTIES)
    result.sites_searched = sites_open
    for k in range(depth + 1):
        if not open_props and not sites_open:
            break
        if k > 0:
            if steps:
                # Nothing follows a fatal step (as in the explorer).
                solver.add(z3.Not(enc.fatal(steps[-1])))
            frames.append(enc.frame(f"s{k}"))
            st = enc.step(k, frames[k - 1], frames[k])
            steps.append(st)
            solver.add(st.constraint)
        if k < start:
            continue
        if sites_open and k > 0 and not find_sites(k):
            sites_open = False  # the solver gave up: the sites found so far stand
        queries = {p: q for p in open_props if (q := query_of(p, k)) is not None}
        if not queries:
            continue
        r = check(z3.Or(list(queries.values())))
        if r == z3.unsat:
            continue
        for prop, q in queries.items():
            r = check(q)
            if r == z3.sat:
                found(prop, k)
            elif r == z3.unknown:
                result.props[prop] = BmcPropResult(
                    prop, "UNKNOWN", k, time.perf_counter() - t0,
                    reason=solver.reason_unknown())
                open_props.remove(prop)
    for prop in open_props:
        result.props[prop] = BmcPropResult(prop, "NOT_FOUND", depth, time.perf_counter() - t0)
    result.props = {p: result.props[p] for p in props}
    result.seconds = time.perf_counter() - t0
    return result


__all__ = ["BmcPropResult", "BmcResult", "ReplayMismatch", "bmc", "replay"]
