"""The optional platform events (cpu_pm, cpu_hotplug, efi) in the SMT engine: BMC finds
the same shortest counterexamples as the explorer on broken copies of the events' code,
and nothing on the real code within the bound; `prove` proves v4.17 and v4.18 with every
event on (properties/lemmas.py: efi_buffers_at_rest, offline_cpu_runs_idle and v4.17's
failed-CPU-PM-entry case)."""

from __future__ import annotations

import pytest

from checker.explicit.explore import explore_bfs
from checker.instance import PROPERTY_NAMES, Instance
from checker.smt.bmc import bmc
from checker.smt.induction import prove
from model.config import Config
from model.variants import get_variant
from tests.checker.smt.test_bmc import _replays
from tests.model.test_cpu_hotplug import _no_dead_callback
from tests.model.test_cpu_pm import _v417_exit_forgets_foreign
from tests.model.test_efi import _buffer_path_skips_restore

ALL = list(PROPERTY_NAMES)
ONE = {"cpus": 1, "tasks": 1, "vmm_threads": 0, "vcpus": 0}


@pytest.mark.parametrize("make,cfg", [
    (_no_dead_callback, {**ONE, "cpus": 2, "events": ("cpu_hotplug",)}),
    (_v417_exit_forgets_foreign, {**ONE, "events": ("cpu_pm",)}),
    (_buffer_path_skips_restore, {**ONE, "events": ("efi",)}),
])
def test_broken_event_code_caught_with_explorer_length(make, cfg) -> None:
    inst = Instance(Config(**{"preemption": "merged", **cfg}), make())
    ex, _ = explore_bfs(inst, ALL)
    assert ex.violations
    longest = max(len(t) for t in ex.violations.values())
    res = bmc(inst, ALL, longest)
    for prop in ALL:
        r = res.props[prop]
        if prop in ex.violations:
            assert r.verdict == "VIOLATED" and r.depth == len(ex.violations[prop]), prop
            _replays(inst, r.trace)
        else:
            assert r.verdict == "NOT_FOUND", prop


@pytest.mark.parametrize("variant,cfg", [
    ("v4.18", {**ONE, "cpus": 2, "events": ("cpu_hotplug", "cpu_pm", "efi")}),
    ("v4.17", {**ONE, "events": ("cpu_pm", "efi")}),
])
def test_real_event_code_clean_within_bound(variant, cfg) -> None:
    inst = Instance(Config(**{"preemption": "merged", **cfg}), get_variant(variant))
    ex, _ = explore_bfs(inst, ALL)
    assert ex.complete and not ex.violations
    res = bmc(inst, ALL, 6)
    assert {r.verdict for r in res.props.values()} == {"NOT_FOUND"}


EVENTS = ("cpu_hotplug", "cpu_pm", "efi")


@pytest.mark.parametrize("variant,cfg", [
    ("v4.18", {"events": EVENTS}),
    ("v4.17", {"events": EVENTS, "vhe": True}),
])
def test_prove_with_every_event_on(variant, cfg) -> None:
    res = prove(Instance(Config(**{"preemption": "merged", **cfg}), get_variant(variant)), ALL)
    bad = [(o.name, o.initiation, o.consecution) for o in res.obligations if not o.ok]
    assert res.verdict == "PROVED", bad
    names = {o.name for o in res.obligations}
    assert {"efi_buffers_at_rest", "offline_cpu_runs_idle"} <= names
