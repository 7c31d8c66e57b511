"""`replay`: re-execute a trace on the model, by event labels.

Each recorded step names a step template and its parameters (cpu, task, vcpu, next);
replay finds the model's action with the same name and parameters, checks that it is
enabled, and fires it with the recorded nondeterministic inputs.  The recorded states
are compared with the replayed ones (mismatches are reported, replay goes on), so a
trace from an older model, or one replayed on another variant, says precisely where it
stops matching.  At the end the trace's property is checked again: an invariant on the
final state, or the kernel assertions of the steps.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checker.cli_common import UsageError
from checker.instance import STEP_PROPERTIES, Instance, model_fingerprint
from checker.interp import guard_holds, predicate, run_action
from checker.lemma_states import LEMMA_PREFIX
from checker.trace import Trace
from model.config import Config
from model.dsl import Const, Eq, Expr, ModelError, Not, Var, conjuncts
from model.variant import Variant
from model.variants import VariantError, get_variant, load_variant_file, variants
from properties.lemmas import LEMMAS


@dataclass
class Mismatch:
    step: int  # 0: the initial state
    var: str
    recorded: str | None  # None: not in the trace
    replayed: str | None  # None: not in this model

    def text(self) -> str:
        where = "initial state" if self.step == 0 else f"after step {self.step}"
        if self.recorded is None:
            return f"{where}: {self.var} is not in the trace (model: {self.replayed})"
        if self.replayed is None:
            return f"{where}: {self.var} is not in this model (trace: {self.recorded})"
        return f"{where}: {self.var} recorded {self.recorded}, replayed {self.replayed}"


@dataclass
class ReplayResult:
    variant: str
    total: int
    replayed: int = 0
    reproduces: bool = False
    verdict: str = ""  # one line: what happened
    divergence: str | None = None  # "step 12: ... is not enabled in this variant"
    mismatches: list[Mismatch] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    fingerprint_warning: str | None = None

    @property
    def exit_code(self) -> int:
        return 1 if self.reproduces else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "variant": self.variant,
            "reproduces": self.reproduces,
            "steps": self.total,
            "steps_replayed": self.replayed,
            "verdict": self.verdict,
            "divergence": self.divergence,
            "state_mismatches": [m.text() for m in self.mismatches],
            "notes": self.notes,
            "fingerprint_warning": self.fingerprint_warning,
            "exit_code": self.exit_code,
        }


def build_instance(trace: Trace, variant_name: str | None = None,
                   extra: dict[str, Variant] | None = None) -> Instance:
    name = variant_name or trace.variant
    extra = dict(extra or {})
    src = trace.variant_file
    if name not in extra and name == trace.variant and src and name not in variants():
        extra.update(_recorded_variant_file(trace))
    try:
        variant = get_variant(name, extra)
    except VariantError as exc:
        where = "" if variant_name else " (named by the trace; choose one with --variant)"
        raise UsageError(f"{exc}{where}") from None
    try:
        cfg = Config.from_json(trace.config)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"the trace's configuration is not one this model has: {exc}") from None
    try:
        return Instance(cfg, variant)
    except (AttributeError, ModelError) as exc:
        raise UsageError(f"variant {variant.name} does not build: {exc}") from None


def _recorded_variant_file(trace: Trace) -> dict[str, Variant]:
    """Load the user's variant file the trace records, or say exactly what to pass."""
    src = trace.variant_file or {}
    path = Path(src.get("path", ""))
    if not path.is_file():
        raise UsageError(
            f"the trace was made with variant {trace.variant!r} from {src.get('path')}, which"
            f" does not exist here: pass --variant-file PATH (the file that defines it)")
    try:
        found = load_variant_file(str(path))
    except VariantError as exc:
        raise UsageError(str(exc)) from None
    if trace.variant not in found:
        raise UsageError(f"{path} no longer defines variant {trace.variant!r} (the trace's):"
                         " pass --variant-file with the file that does")
    if hashlib.sha256(path.read_bytes()).hexdigest() != src.get("sha256"):
        print(f"warning: {path} changed since the trace was written; replaying on its"
              " current content", file=sys.stderr)
    return found


def _explain_guard(inst: Instance, guard: Expr, state: tuple) -> str:
    """The conjuncts of a guard that are false, as 'var is X, not Y'."""
    out = []
    for p in conjuncts(guard):
        try:
            if predicate(p)(state):
                continue
        except ModelError:
            continue
        neg = isinstance(p, Not)
        e = p.a if neg else p
        if isinstance(e, Eq) and isinstance(e.a, Var) and isinstance(e.b, Const):
            now = e.a.dom.labels[state[e.a.index]]
            want = e.b.dom.labels[e.b.value]
            out.append(f"{e.a.name} is {now}" + (f", not {want}" if not neg else ""))
        else:
            out.append("a condition of the step is false")
    return "; ".join(dict.fromkeys(out))


def _state_from_labels(inst: Instance, labels: dict[str, str]) -> tuple[int, ...]:
    state = list(inst.layout.initial_state())
    for var in inst.layout.vars:
        if var.name not in labels:
            raise UsageError(f"the CTI's initial state has no value for {var.name}")
        try:
            state[var.index] = var.dom.index(labels[var.name])
        except ModelError:
            raise UsageError(f"the CTI's initial state gives {var.name} the value "
                             f"{labels[var.name]!r}, which this model does not have") from None
    return tuple(state)


def _compare(step: int, recorded: dict[str, str], replayed: dict[str, str]) -> list[Mismatch]:
    out = [Mismatch(step, k, v, replayed.get(k)) for k, v in recorded.items()
           if replayed.get(k) != v]
    out += [Mismatch(step, k, None, v) for k, v in replayed.items() if k not in recorded]
    return out



def _match_inputs(recorded: dict[str, bool], names: tuple[str, ...]) -> dict[str, bool]:
    """The recorded choice of each of a step's inputs.  An interleaving point is named
    after the write it precedes and numbered in the step ("IRQ in f before the write of
    x#3"); a model change that adds a write to the step (e.g. FPCR's own slice with SME,
    model/state.py Image.fpcr) renumbers the points after it.  So an input recorded under
    a name the step no longer has is matched by its name without the number and its rank
    among the recorded inputs of that name (the k-th IRQ point before a write of x is the
    k-th one still); exact names are taken first."""
    out = {n: bool(recorded[n]) for n in names if n in recorded}
    missing = [n for n in names if n not in recorded]
    if not missing:
        return out

    def stem(n: str) -> str:
        return n.rsplit("#", 1)[0]

    def rank(n: str) -> int:
        tail = n.rsplit("#", 1)[1] if "#" in n else ""
        return int(tail) if tail.isdigit() else 0

    spare: dict[str, list[str]] = {}
    for n in sorted((n for n in recorded if n not in names), key=rank):
        spare.setdefault(stem(n), []).append(n)
    seen: dict[str, int] = {}
    for n in names:
        k = seen.get(stem(n), 0)
        seen[stem(n)] = k + 1
        if n in out:
            continue
        # the k-th point of this stem in the step, where the trace's k-th is unmatched
        same = [m for m in names if stem(m) == stem(n)]
        recorded_same = sorted((m for m in recorded if stem(m) == stem(n)), key=rank)
        if len(same) == len(recorded_same) and k < len(recorded_same) \
                and recorded_same[k] in spare.get(stem(n), []):
            out[n] = bool(recorded[recorded_same[k]])
    return out


# The obligations `prove` adds about its own encoding (checker/smt/induction.py): a CTI of
# one of them is about bits and ghosts, which a replay in the explicit engine cannot see.
ENCODING_OBLIGATIONS = ("coherence", "value_sets", "counters_in_range", "nonvacuous")


def replay(trace: Trace, inst: Instance) -> ReplayResult:
    res = ReplayResult(inst.variant.name, len(trace.steps))
    here = model_fingerprint()
    if trace.fingerprint and trace.fingerprint != here:
        res.fingerprint_warning = (
            f"the trace was made by model version {trace.fingerprint}, this model is "
            f"version {here}; replaying by event labels")
    layout = inst.layout
    prop = trace.property
    predicates = dict(inst.invariants)
    # `explore --sites` names an invariant's sites NAME.SITE (built only for such a trace)
    if "." in prop:
        predicates.update(inst.site_invariants([prop.partition(".")[0]]))
    # A CTI of `prove` may be about a strengthening lemma rather than a property.
    predicates.update({lem.name: lem.build(inst.layout) for lem in LEMMAS})
    # `explore --lemmas` names them lemma:NAME.
    predicates.update({LEMMA_PREFIX + lem.name: lem.build(inst.layout) for lem in LEMMAS})
    if prop in ENCODING_OBLIGATIONS:
        raise UsageError(f"the trace is a counterexample to induction of {prop!r}, an "
                         "obligation of prove's SMT encoding about data bits and ghosts the "
                         "explicit engine does not keep: its steps cannot be checked here")
    if prop not in STEP_PROPERTIES and prop not in predicates:
        known = ", ".join([*inst.invariants, *STEP_PROPERTIES])
        raise UsageError(f"the trace is about property {prop!r}, which this model does not "
                         f"have (known: {known}, and the lemmas of properties/lemmas.py)")
    by_key = {(a.name, a.params): i for i, a in enumerate(inst.actions)}
    templates = {a.name for a in inst.actions}
    for i, s in enumerate(trace.steps, 1):
        if s.action not in templates:
            raise UsageError(f"step {i}: event {s.label!r}: the model has no step "
                             f"{s.action!r} (known: {', '.join(sorted(templates))})")
        if (s.action, tuple(sorted(s.params.items()))) not in by_key:
            raise UsageError(f"step {i}: event {s.label!r}: no step {s.action} with "
                             f"parameters {s.params} in this configuration")

    if trace.kind == "cti":
        state = _state_from_labels(inst, trace.initial)
    else:
        state = layout.initial_state()
        res.mismatches += _compare(0, trace.initial, layout.state_dict(state))

    pred = predicate(predicates[prop]) if prop not in STEP_PROPERTIES else None
    first_fail: int | None = None  # first step after which the property is violated
    fail_detail = ""
    if pred is not None and not pred(state):
        first_fail, fail_detail = 0, f"{prop} fails in the initial state"
    open_mismatch: dict[str, tuple] = {m.var: (m.recorded, m.replayed) for m in res.mismatches}

    def compare(step: int, recorded: dict[str, str]) -> None:
        """Record mismatches where they start or change, not again at every step."""
        now = {m.var: m for m in _compare(step, recorded, layout.state_dict(state))}
        for var, m in now.items():
            if open_mismatch.get(var) != (m.recorded, m.replayed):
                res.mismatches.append(m)
        open_mismatch.clear()
        open_mismatch.update({v: (m.recorded, m.replayed) for v, m in now.items()})

    for i, s in enumerate(trace.steps, 1):
        aid = by_key[(s.action, tuple(sorted(s.params.items())))]
        action = inst.actions[aid]
        if set(s.inputs) != set(action.inputs):
            res.notes.append(
                f"step {i}: the trace chose inputs {sorted(s.inputs) or 'none'}, this "
                f"variant's step has {list(action.inputs) or 'none'} (missing ones taken "
                "as no)")
        if not guard_holds(action, state):
            why = _explain_guard(inst, action.guard, state)
            res.divergence = (f"step {i}: {s.label} is not enabled in this variant"
                              + (f" ({why})" if why else ""))
            break
        chosen = _match_inputs(s.inputs, action.inputs)
        inputs = tuple(chosen.get(name, False) for name in action.inputs)
        state, viol, _ = run_action(action, state, inputs)
        res.replayed = i
        compare(i, s.state)
        if viol and set(viol) != set(s.violations):
            res.notes.append(f"step {i}: kernel assertion fails in the replay: "
                             f"{'; '.join(viol)}"
                             + ("" if not s.violations else
                                f" (the trace recorded: {'; '.join(s.violations)})"))
        if s.violations and not set(s.violations) & set(viol):
            res.notes.append(f"step {i}: the recorded kernel assertion does not fail in "
                             f"the replay: {'; '.join(s.violations)}")
        if first_fail is None:
            if pred is None and trace.assertion:
                # A per-site trace: it reproduces when that very site fails.
                if trace.assertion in viol:
                    first_fail, fail_detail = i, f"{s.label}: {trace.assertion}"
            elif pred is None and inst.split_violations(viol).get(prop):
                mine = inst.split_violations(viol)[prop]
                first_fail, fail_detail = i, f"{s.label}: {'; '.join(mine)}"
            elif pred is not None and not pred(state):
                first_fail, fail_detail = i, f"{prop} fails after {s.label}"
    if first_fail is not None:
        res.reproduces = True
        when = "in the initial state" if first_fail == 0 else f"at step {first_fail}"
        res.verdict = f"REPRODUCES: {prop} is violated again {when}: {fail_detail}"
        if res.total and first_fail < res.total:
            res.notes.append(f"the violation happens {res.total - first_fail} step(s) "
                             "earlier than in the trace")
        if res.divergence:
            res.notes.append(f"after that the replay diverges: {res.divergence}")
        return res
    if res.divergence:
        res.verdict = f"DOES NOT REPRODUCE: diverges at {res.divergence}"
        return res
    first = next((m for m in res.mismatches if m.step > 0), None)
    what = (f"the final state satisfies {prop}" if pred is not None
            else f"{trace.assertion} does not fail" if trace.assertion
            else "no kernel assertion fails" if prop == "kernel_asserts"
            else "no locking rule is broken")
    res.verdict = f"DOES NOT REPRODUCE: all {res.total} steps replay, but {what}"
    if first is not None:
        res.verdict += f"; the states first differ {first.text()}"
    return res


def consistency_problem(trace: Trace, own: Instance) -> str | None:
    """Why ``trace`` is not a faithful record of a run of its own variant ``own`` (None
    if it is): a step whose label disagrees with its parameters, a step that is not
    enabled, a recorded state the step does not produce, or (for a counterexample) a
    violation that does not happen: a truncated, edited or stale trace."""
    by_key = {(a.name, a.params): a for a in own.actions}
    for i, s in enumerate(trace.steps, 1):
        a = by_key.get((s.action, tuple(sorted(s.params.items()))))
        if a is not None and a.label != s.label:
            return (f"step {i}: the label {s.label!r} does not match its parameters "
                    f"{s.params} (the model's step with these parameters is {a.label!r})")
    res = replay(trace, own)
    stale = (" (the model changed since the trace was written: regenerate it)"
             if res.fingerprint_warning else "")
    if res.divergence:
        return f"{res.divergence}{stale}"
    if res.mismatches:
        return f"the recorded state does not match the model {res.mismatches[0].text()}{stale}"
    if not res.reproduces:
        return (f"its {trace.property} violation does not happen on its own variant "
                f"{own.variant.name} after all {len(trace.steps)} steps (truncated?){stale}")
    return None
