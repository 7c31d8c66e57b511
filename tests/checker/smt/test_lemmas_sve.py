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
# exhaustive cross-check here is kept to the seed and v4.18, on the native engine (v4.18 on
# one CPU has 474,377 states: 85 s on the reference engine, a few seconds compiled).
CONFIGS = [
    ("seed", SVE),  # KVM refuses SVE (BUG_ON at vcpu load): host tasks only
    ("v4.18", SVE),
    # preemption inside do_sve_acc() (sve_trap_preempted_state's continuation points),
    # with migration: two CPUs, one host task (62,538 states, about 2 s)
    ("v4.18", {**SVE, "cpus": 2, "vcpus": 0, "vmm_threads": 0, "preemption": "split"}),
]


@pytest.mark.parametrize("variant,cfg", CONFIGS)
def test_lemmas_hold_in_every_explored_sve_state(variant, cfg) -> None:
    res = check_lemmas_on_reachable_states(variant, cfg, engine="auto")
    assert not res.violations


def test_sve_lemmas_are_true_without_sve() -> None:
    """Lemmas about SVE state are the constant TRUE when the system has no SVE."""
    layout = Instance(Config(preemption="merged", cpus=1), get_variant("v4.18")).layout
    sve_only = [lem for lem in LEMMAS if "sve" in lem.name]
    assert sve_only
    assert all(lem.build(layout) is TRUE for lem in sve_only)


def test_v418_sve_split_needs_the_trap_preemption_lemma() -> None:
    """Under split preemption a task can be preempted inside do_sve_acc() before it sets
    TIF_SVE; without sve_trap_preempted_state that state is a CTI (the task's SVE ghost and
    sve_state look live), with it v4.18 is proved on two CPUs.  The CTI without it is
    shown on one CPU (the same failed obligations as on two, in a third of the time)."""
    from checker.instance import PROPERTY_NAMES
    from checker.smt.induction import prove
    from properties.lemmas import lemmas_for

    cfg = dict(vcpus=0, vmm_threads=0, vhe=True, sve=True, **PREEMPT_NOLOCKDEP)
    inst = Instance(Config(cpus=2, **cfg), get_variant("v4.18"))
    assert prove(inst, list(PROPERTY_NAMES)).verdict == "PROVED"
    inst = Instance(Config(cpus=1, **cfg), get_variant("v4.18"))
    without = {lem.name: (lem.reason, lem.build(inst.layout))
               for lem in lemmas_for(inst.layout, inst.variant)
               if lem.name != "sve_trap_preempted_state"}
    res = prove(inst, list(PROPERTY_NAMES), lemmas=without)
    assert res.verdict == "CTI"
    assert {o.name for o in res.failed()} == {"seed_task_saved_unless_live", "kernel_asserts"}
