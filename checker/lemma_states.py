"""The lemmas of `prove` checked explicitly: on every reachable state of a configuration.

`prove` shows lemmas and properties inductive; that they hold on the reachable states
follows only if the z3 encoding has every transition of the model.  Checking them here,
on the states the explicit engines reach, is the independent half of that argument (and,
when a proof ends in a counterexample to induction, tells a lemma that is false in a
reachable state, with its shortest trace, from one that is only too weak).

Each lemma becomes an invariant named ``lemma:NAME`` of its own instance
(`Instance.lemma_invariants`), so both explicit engines check it like any property: the
native engine where a C compiler is found (a complete search of the reachable states,
reductions off), the reference engine otherwise.
"""

from __future__ import annotations

from checker.explicit.explore import ExploreResult, explore_bfs
from checker.instance import LEMMA_PREFIX, Instance
from checker.native.build import NativeUnavailable


def lemmas_on_reachable_states(inst: Instance, *, engine: str = "auto",
                               max_states: int | None = None) -> ExploreResult:
    """Explore ``inst``'s configuration with every lemma claimed for its variant as an
    invariant; the result's violations are keyed ``lemma:NAME`` (shortest traces).

    ``engine``: "native", "python" or "auto" (native, the reference engine if no
    compiler).  Other properties are not checked (their verdicts are `explore`'s)."""
    with_lemmas = Instance(inst.config, inst.variant, lemma_invariants=True)
    names = [n for n in with_lemmas.invariants if n.startswith(LEMMA_PREFIX)]
    if engine in ("auto", "native"):
        from checker.native.explore import explore_native

        try:
            return explore_native(with_lemmas, names, max_states=max_states)[0]
        except NativeUnavailable:
            if engine == "native":
                raise
    return explore_bfs(with_lemmas, names, max_states=max_states)[0]
