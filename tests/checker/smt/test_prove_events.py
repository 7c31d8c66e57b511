"""`prove` with the optional process events (exec, fork, signal) on the variants whose
code is fixed for them (properties/lemmas.py: the task-state helpers know the post-exec
"must read zero" ghost, `_tok_ok`; the fork child's empty slot, `_alive` and
dead_fork_slot_at_rest).  Small configurations: one CPU, two plain tasks, no vcpu,
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


@pytest.mark.parametrize("variant", ["v6.10", "v6.16", "v4.18"])
def test_exec_is_proved(variant) -> None:
    res = _prove(variant, events=("exec",))
    bad = [(o.name, o.initiation, o.consecution) for o in res.obligations if not o.ok]
    assert res.verdict == "PROVED", bad


@pytest.mark.parametrize("variant,cfg", [
    ("v6.16", {"events": ("exec",), "preemption": "split"}),
    ("v6.10", {"events": ("exec", "fork")}),
    ("v4.18-fork-fix", {"events": ("exec", "fork")}),
])
def test_event_lemmas_hold_in_every_explored_state(variant, cfg) -> None:
    """The independent check of the lemmas with the explicit engine (as
    tests/checker/smt/test_lemmas.py, with the events on)."""
    check_lemmas_on_reachable_states(variant, {**SMALL, **cfg})
