"""The lemmas of `prove` checked explicitly: on every reachable state of a configuration.

`prove` shows lemmas and properties inductive; that they hold on the reachable states
follows only if the z3 encoding has every transition of the model.  Checking them on the
states the explicit engines reach is the independent half of that argument, and, when a
proof ends in a counterexample to induction, tells a lemma that is false in a reachable
state (with its shortest trace) from one that is only too weak.  Used by
`explore --lemmas`, by `prove`'s classification of lemma CTIs (checker/smt/classify.py)
and by the test suite.

Each lemma becomes an extra invariant of a copy of the instance (the same layout and
steps, not rebuilt), so both explicit engines check it like any property.
"""

from __future__ import annotations

import copy

from checker.explicit.explore import ExploreResult, explore_bfs
from checker.instance import Instance
from checker.limits import Limits
from model.dsl import Expr
from properties.lemmas import lemmas_for

LEMMA_PREFIX = "lemma:"  # how `explore --lemmas` names a lemma among the properties


def claimed_lemmas(inst: Instance) -> dict[str, Expr]:
    """Every lemma `prove` uses for ``inst``'s variant, as ``lemma:NAME`` -> predicate."""
    return {LEMMA_PREFIX + lem.name: lem.build(inst.layout)
            for lem in lemmas_for(inst.layout, inst.variant)}


def with_invariants(inst: Instance, extra: dict[str, Expr]) -> Instance:
    """``inst`` with ``extra`` (names other than its properties') added to its invariants;
    the engines build their executable form anew for it."""
    clash = set(extra) & set(inst.invariants)
    if clash:
        raise ValueError(f"invariant names already taken: {sorted(clash)}")
    probe = copy.copy(inst)
    probe.__dict__.pop("_engine_cache", None)
    probe.__dict__["invariants"] = {**inst.invariants, **extra}
    return probe


def lemmas_on_reachable_states(inst: Instance, lemmas: dict[str, Expr] | None = None, *,
                               engine: str = "auto", max_states: int | None = None,
                               limits: Limits | None = None) -> ExploreResult:
    """Explore ``inst``'s configuration with ``lemmas`` (default: `claimed_lemmas`) as
    extra invariants; the result's violations are keyed by the lemmas' names (shortest
    traces), plus any of the instance's own invariants met on the way.

    ``engine``: "native", "python" or "auto" (native where it can run: a C compiler and a
    model the code generator supports; the reference engine otherwise).  The instance's
    step properties (kernel_asserts, locking_rules) are not checked."""
    if lemmas is None:
        lemmas = claimed_lemmas(inst)
    probe = with_invariants(inst, lemmas)
    names = list(probe.invariants)
    if engine in ("auto", "native"):
        from checker.native import NativeUnavailable, NativeUnsupported, explore_native

        try:
            return explore_native(probe, names, max_states=max_states, limits=limits)[0]
        except (NativeUnavailable, NativeUnsupported):
            if engine == "native":
                raise
    return explore_bfs(probe, names, max_states=max_states, limits=limits)[0]
