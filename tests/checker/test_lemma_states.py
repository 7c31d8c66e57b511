"""checker/lemma_states.py: the lemmas as invariants of the explicit engines."""

from __future__ import annotations

import pytest

from checker.instance import Instance
from checker.lemma_states import (
    LEMMA_PREFIX,
    claimed_lemmas,
    lemmas_on_reachable_states,
    with_invariants,
)
from checker.native.build import compiler
from model.config import Config, kconfig_preset
from model.variants import get_variant
from properties.lemmas import lemmas_for
from tests.broken_variants import BROKEN

CFG = Config(preemption="merged", cpus=1, **kconfig_preset("preempt"))


def test_the_claimed_lemmas_become_invariants_of_a_copy() -> None:
    inst = Instance(CFG, get_variant("v4.17"))
    own = dict(inst.invariants)
    lemmas = claimed_lemmas(inst)
    assert set(lemmas) == {LEMMA_PREFIX + lem.name
                           for lem in lemmas_for(inst.layout, inst.variant)}
    probe = with_invariants(inst, lemmas)
    assert probe.invariants == {**own, **lemmas} and inst.invariants == own
    assert probe.actions is inst.actions  # not rebuilt
    with pytest.raises(ValueError, match="no_loss"):
        with_invariants(inst, {"no_loss": own["no_loss"]})


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
    assert any(n.startswith(LEMMA_PREFIX) for n in ref.violations)
    assert len(inst.invariants) + len(claimed_lemmas(inst)) > 32  # past one machine word
    assert {n: len(t.steps) for n, t in ref.violations.items()} == \
        {n: len(t.steps) for n, t in nat.violations.items()}
