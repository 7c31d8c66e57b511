"""checker/lemma_states.py: the lemmas as invariants of the explicit engines."""

from __future__ import annotations

import pytest

from checker.instance import LEMMA_PREFIX, Instance
from checker.lemma_states import lemmas_on_reachable_states
from checker.native.build import compiler
from model.config import Config, kconfig_preset
from model.variants import get_variant
from properties.lemmas import lemmas_for
from tests.broken_variants import BROKEN

CFG = Config(preemption="merged", cpus=1, **kconfig_preset("preempt"))


def test_every_claimed_lemma_is_an_invariant_and_only_on_request() -> None:
    inst = Instance(CFG, get_variant("v4.17"))
    assert not any(n.startswith(LEMMA_PREFIX) for n in inst.invariants)
    with_lemmas = Instance(CFG, get_variant("v4.17"), lemma_invariants=True)
    claimed = {LEMMA_PREFIX + lem.name for lem in lemmas_for(inst.layout, inst.variant)}
    assert claimed and claimed <= set(with_lemmas.invariants)
    assert set(with_lemmas.invariants) - claimed == set(inst.invariants)


def test_a_fixed_variant_keeps_every_lemma() -> None:
    res = lemmas_on_reachable_states(Instance(CFG, get_variant("v4.17")), engine="python")
    assert res.complete and not res.violations


@pytest.mark.skipif(compiler() is None, reason="no C compiler: the native engine is not built")
def test_a_broken_variant_breaks_its_parents_lemmas_alike_in_both_engines() -> None:
    """put_fp without the flush (a mutant of the seed) inherits the seed's lemmas, and some
    are false in its reachable states: both engines name the same lemmas, with shortest
    traces of the same length."""
    inst = Instance(CFG, BROKEN["put-fp-no-flush"])
    ref = lemmas_on_reachable_states(inst, engine="python")
    nat = lemmas_on_reachable_states(inst, engine="native")
    assert ref.violations
    assert {n: len(t.steps) for n, t in ref.violations.items()} == \
        {n: len(t.steps) for n, t in nat.violations.items()}
