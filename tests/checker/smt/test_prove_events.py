"""`prove` with the optional process events (exec, fork, signal) on the variants whose
code is fixed for them (properties/lemmas.py: the task-state helpers know the post-exec
"must read zero" ghost, `_tok_ok`; the fork child's empty slot, `_alive` and
dead_fork_slot_at_rest; a fork in progress, fork_in_progress; the signal frame,
signal_frame_state).  Small configurations: one CPU, two plain tasks, no vcpu,
Kconfig preset preempt, merged preemption, VHE only (no vcpu: both hyp modes are the
same proof)."""

from __future__ import annotations

import pytest

from checker.instance import PROPERTY_NAMES, Instance
from checker.smt.induction import prove
from model.config import Config, kconfig_preset
from model.variants import get_variant
from tests.checker.smt.test_lemmas import check_lemmas_on_reachable_states

ALL = list(PROPERTY_NAMES)
SMALL = {"cpus": 1, "tasks": 2, "vcpus": 0, "vmm_threads": 0, "vhe": True,
         "preemption": "merged", **kconfig_preset("preempt")}


def _prove(variant: str, **cfg):  # noqa: ANN202
    return prove(Instance(Config(**{**SMALL, **cfg}), get_variant(variant)), ALL)


# Rows marked slow are covered in CI by the row with the same variant and preemption and a
# superset of their events (v6.16 exec+signal; v4.18-fork-fix fork+signal): exec and
# signal only add steps (model/events.py) and leave the initial states as they are, so
# the larger model's reachable states contain the smaller one's (the added state at its
# initial value), and its proof covers them.  They still run with `-m slow`: they
# exercise the lemmas with the other event's state absent.
@pytest.mark.parametrize("variant,cfg", [
    pytest.param("v6.16", {"events": ("exec",)}, marks=pytest.mark.slow),
    ("v4.18", {"events": ("exec",)}),
    ("v6.16", {"events": ("fork",)}),
    ("v6.10", {"events": ("signal",)}),
    ("v6.16", {"events": ("exec", "signal")}),
    # split preemption: the windows inside _do_fork() and sys_rt_sigreturn()
    # (fork_in_progress, signal_frame_state)
    pytest.param("v4.18-fork-fix", {"events": ("fork",), "preemption": "split"},
                 marks=pytest.mark.slow),
    ("v4.18", {"events": ("signal",), "preemption": "split"}),
    # fork and signal together: the child's copy of its parent's frame (fork_in_progress,
    # dead_fork_slot_at_rest, signal_frame_state by sigreturn phase; the encoding's fork
    # part of coherence)
    ("v4.18-fork-fix", {"events": ("fork", "signal"), "preemption": "split"}),
])
def test_event_is_proved(variant, cfg) -> None:
    res = _prove(variant, **cfg)
    bad = [(o.name, o.initiation, o.consecution) for o in res.obligations if not o.ok]
    assert res.verdict == "PROVED", bad


def test_without_the_event_lemmas_fork_is_not_proved() -> None:
    """The new lemmas carry the proof: without fork_in_progress the split fork of
    v4.18-fork-fix has a counterexample to induction."""
    from properties.lemmas import lemmas_for

    inst = Instance(Config(**{**SMALL, "events": ("fork",), "preemption": "split"}),
                    get_variant("v4.18-fork-fix"))
    lemmas = {lem.name: (lem.reason, lem.build(inst.layout))
              for lem in lemmas_for(inst.layout, inst.variant) if lem.name != "fork_in_progress"}
    assert prove(inst, ALL, lemmas=lemmas).verdict == "CTI"


@pytest.mark.parametrize("variant,cfg", [
    ("v6.16", {"events": ("exec",), "preemption": "split"}),
    ("v6.10", {"events": ("exec", "signal")}),
    ("v6.10", {"events": ("exec", "fork")}),
    ("v4.18-fork-fix", {"events": ("exec", "fork"), "preemption": "split"}),
])
def test_event_lemmas_hold_in_every_explored_state(variant, cfg) -> None:
    """The independent check of the lemmas with the explicit engine (as
    tests/checker/smt/test_lemmas.py, with the events on)."""
    check_lemmas_on_reachable_states(variant, {**SMALL, **cfg})


@pytest.mark.parametrize("variant", ["v4.18-fork-fix"])
def test_fork_and_signal_lemmas_hold_in_every_reachable_state(variant) -> None:
    """Fork and signal together under split preemption (44,785 states; v6.16's 57,073
    pass too, left out for CI time): every
    lemma claimed for the variant holds in every reachable state (the native engine, with
    the lemmas as extra invariants: checker.smt.classify.check_lemmas_reachable)."""
    from checker.smt.classify import check_lemmas_reachable
    from properties.lemmas import lemmas_for

    inst = Instance(Config(**{**SMALL, "events": ("fork", "signal"), "preemption": "split"}),
                    get_variant(variant))
    lemmas = {lem.name: lem.build(inst.layout) for lem in lemmas_for(inst.layout, inst.variant)}
    checks, bug = check_lemmas_reachable(inst, lemmas)
    assert bug is None
    assert {n for n, c in checks.items() if c.holds is not True} == set()
    assert "signal_frame_state" in checks and "fork_in_progress" in checks


# KVM_SET_ONE_REG preempted between two registers' copy_from_user() (split preemption):
# the continuation points' facts (model.state.WindowFacts: the vcpu mutex held, the slots
# already stored) carry mutex_by_pc, the guest's saved state mid-write and
# generation_only_where_stored.  One CPU, the VMM thread and its vcpu.
ONE_REG = {"cpus": 1, "vcpus": 1, "vmm_threads": 1, "vhe": True, "preemption": "split",
           "events": ("set_one_reg",)}


@pytest.mark.parametrize("variant,cfg", [
    ("v4.18", {"tasks": 1}),
    # an SVE vcpu: FPSR in fp_regs, then Z in sve_state, with a window between each
    ("v6.14", {"tasks": 0, "sve": True, "sve_guest": True, "vhe": False}),
])
def test_set_one_reg_is_proved(variant, cfg) -> None:
    res = prove(Instance(Config(**{**ONE_REG, **cfg}), get_variant(variant)), ALL)
    bad = [(o.name, o.initiation, o.consecution) for o in res.obligations if not o.ok]
    assert res.verdict == "PROVED", bad


def test_without_generation_only_where_stored_set_one_reg_is_not_proved() -> None:
    """The lemma carries the proof: without it a CPU may still hold the guest's latest
    value while the ioctl has written only part of the new one (a CTI)."""
    from properties.lemmas import lemmas_for

    inst = Instance(Config(**{**ONE_REG, "tasks": 1}), get_variant("v4.18"))
    lemmas = {lem.name: (lem.reason, lem.build(inst.layout))
              for lem in lemmas_for(inst.layout, inst.variant)
              if lem.name != "generation_only_where_stored"}
    assert prove(inst, ALL, lemmas=lemmas).verdict == "CTI"


@pytest.mark.parametrize("variant,cfg", [
    ("v4.18", {"tasks": 1, "vmm_threads": 2}),
    ("v6.14", {"tasks": 0, "sve": True, "sve_guest": True, "vhe": False}),
])
def test_set_one_reg_lemmas_hold_in_every_explored_state(variant, cfg) -> None:
    check_lemmas_on_reachable_states(variant, {**ONE_REG, **cfg})


@pytest.mark.parametrize("event", ["fork", "set_one_reg"])
def test_v6_1_events_are_proved(event) -> None:
    """v6.1's own FPSIMD context (the busy flag) around the event paths, one CPU with a
    task, the VMM thread and its vcpu, split preemption (the other events prove too:
    the closing note's table)."""
    cfg = {"cpus": 1, "vhe": True, "events": (event,)}
    res = prove(Instance(Config(**cfg), get_variant("v6.1")), ALL)
    assert res.verdict == "PROVED", [o.name for o in res.obligations if not o.ok]
