"""With SVE: every state the explorer reaches satisfies every lemma claimed for its
variant (the SVE counterpart of test_lemmas.py, on one CPU with VHE)."""

from __future__ import annotations

import pytest

from checker.instance import Instance
from model.config import Config, kconfig_preset
from model.dsl import TRUE
from model.variants import get_variant
from properties.lemmas import LEMMAS
from tests.checker.smt.test_lemmas import check_lemmas_on_reachable_states

PREEMPT_NOLOCKDEP = kconfig_preset("preempt")  # the old lockdep=False

SVE = {"cpus": 1, "vhe": True, "sve": True, **PREEMPT_NOLOCKDEP}
# v4.17's SVE lemmas are checked by induction in test_prove (test_sve_is_proved); the
# exhaustive cross-check here is kept to the seed and v4.18 (it costs ~25 s per variant).
CONFIGS = [
    ("seed", SVE),  # KVM refuses SVE (BUG_ON at vcpu load): host tasks only
    ("v4.18", SVE),
]


@pytest.mark.parametrize("variant,cfg", CONFIGS)
def test_lemmas_hold_in_every_explored_sve_state(variant, cfg) -> None:
    res = check_lemmas_on_reachable_states(variant, cfg)
    assert not res.violations


def test_sve_lemmas_are_true_without_sve() -> None:
    """Lemmas about SVE state are the constant TRUE when the system has no SVE."""
    layout = Instance(Config(preemption="merged", cpus=1), get_variant("v4.18")).layout
    sve_only = [lem for lem in LEMMAS if "sve" in lem.name]
    assert sve_only
    assert all(lem.build(layout) is TRUE for lem in sve_only)
