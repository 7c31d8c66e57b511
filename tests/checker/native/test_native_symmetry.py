"""Symmetry reduction in the native engine (``explore --symmetry``, the default engine):
the same quotient as the reference engine's (states, transitions, depth), the same
verdicts, shortest lengths, guards and assertion sites, and counterexamples that are
real executions of the model."""

from __future__ import annotations

import json

import pytest

from checker.cli import main
from checker.explicit.explore import explore_bfs
from checker.instance import PROPERTY_NAMES, Instance
from checker.native import explore_native
from checker.native.build import compiler
from model.config import Config
from model.variants import get_variant
from tests.broken_variants import BROKEN
from tests.checker.test_symmetry import replays

ALL = list(PROPERTY_NAMES)

pytestmark = pytest.mark.skipif(compiler() is None, reason="no C compiler (gcc) on PATH")


@pytest.mark.parametrize("variant,kconfig,cfg", [
    ("seed", "preempt", {"cpus": 2, "vhe": False}),
    ("v4.17", "preempt", {"cpus": 1, "tasks": 2, "vhe": True}),
    ("v4.18", "preempt", {"cpus": 1, "tasks": 2, "vhe": False}),
    ("ctxsync-keeps-foreign", "preempt", {"cpus": 2, "vhe": False}),
    ("put-fp-no-flush", "preempt", {"cpus": 1, "tasks": 2, "vhe": False}),
    # split steps: continuation points and carried C locals are renamed like the rest
    ("v4.18", "preempt", {"cpus": 1, "tasks": 2, "vhe": False, "preemption": "split"}),
])
def test_native_symmetry_matches_the_reference(variant: str, kconfig: str, cfg: dict) -> None:
    inst = Instance(Config.with_kconfig(kconfig, **{"preemption": "merged", **cfg}),
                    BROKEN.get(variant) or get_variant(variant))
    ref, _ = explore_bfs(inst, ALL, symmetry=True)
    nat, _ = explore_native(inst, ALL, symmetry=True, workers=2)
    plain, _ = explore_native(inst, ALL, workers=1)
    assert ref.complete and nat.complete
    assert nat.stats.states < plain.stats.states
    assert (nat.stats.states, nat.stats.transitions, nat.stats.depth) == (
        ref.stats.states, ref.stats.transitions, ref.stats.depth)
    assert {p: nat.verdict(p) for p in ALL} == {p: ref.verdict(p) for p in ALL}
    assert {p: len(t) for p, t in nat.violations.items()} == {
        p: len(t) for p, t in ref.violations.items()}
    assert {g: t and len(t) for g, t in nat.guards_reached.items()} == {
        g: t and len(t) for g, t in ref.guards_reached.items()}
    assert {c: len(t) for c, t in nat.assertion_sites.items()} == {
        c: len(t) for c, t in ref.assertion_sites.items()}
    assert (nat.deadlock is None) == (ref.deadlock is None)
    for trace in (list(nat.violations.values()) + list(nat.assertion_sites.values())
                  + [t for t in nat.guards_reached.values() if t is not None]):
        replays(inst, trace)


def test_cli_symmetry_runs_natively(tmp_path, capsys) -> None:
    code = main(["explore", "--symmetry", "--cpus", "2", "--nvhe", "--variant", "v4.18",
                 "--json", "--out", str(tmp_path)])
    assert code == 0
    run = json.loads(capsys.readouterr().out)["runs"][0]
    assert run["engine"] == "native" and run["states"] == 96908  # 13,888 merged
