"""--simulate: seeded random walks that report violations as ordinary traces, never a
"holds"."""

from __future__ import annotations

import json

from checker.cli import main
from checker.explicit.simulate import _loop_erase, simulate
from checker.instance import KERNEL_ASSERTS, PROPERTY_NAMES, Instance
from model.config import Config
from model.variants import get_variant


def test_walks_are_reproducible_from_the_seed() -> None:
    inst = Instance(Config(preemption="merged", cpus=2), get_variant("seed"))
    a = simulate(inst, list(PROPERTY_NAMES), walks=40, depth=40, seed=11)
    b = simulate(inst, list(PROPERTY_NAMES), walks=40, depth=40, seed=11)
    assert (a.stats.states, a.stats.transitions, dict(a.coverage)) == \
        (b.stats.states, b.stats.transitions, dict(b.coverage))
    ta, tb = a.violations[KERNEL_ASSERTS], b.violations[KERNEL_ASSERTS]
    assert [s.label for s in ta.steps] == [s.label for s in tb.steps]
    c = simulate(inst, list(PROPERTY_NAMES), walks=40, depth=40, seed=12)
    assert dict(c.coverage) != dict(a.coverage)
    assert a.walks == 40 and not a.complete and a.verdict("no_loss") == \
        "no violation in 40 walks"


def test_loop_erase_keeps_a_real_execution() -> None:
    # items: (aid, inp, pre, nxt, viol); states a -> b -> a -> c
    path = [(0, (), b"a", b"b", ()), (1, (), b"b", b"a", ()), (2, (), b"a", b"c", ())]
    assert _loop_erase(path) == [path[2]]


def test_violation_is_a_replayable_trace(tmp_path, capsys) -> None:
    code = main(["explore", "--simulate", "100", "--depth", "40", "--seed", "5", "--nvhe",
                 "--json", "--out", str(tmp_path)])
    run = json.loads(capsys.readouterr().out)["runs"][0]
    assert code == 1
    sim = run["simulation"]
    assert sim["walks"] == 100 and sim["seed"] == 5 and sim["distinct_states"] > 100
    assert sim["step_coverage"]["schedule"] > 0
    ka = run["properties"]["kernel_asserts"]
    assert ka["verdict"] == "VIOLATED" and ka["length"] >= 6  # BFS's shortest is 6
    assert run["properties"]["no_loss"]["verdict"] == "no violation in 100 walks"
    assert main(["replay", ka["counterexample"]]) == 1
    assert "REPRODUCES" in capsys.readouterr().out


def test_clean_run_exits_zero_without_claiming_holds(capsys) -> None:
    code = main(["explore", "--variant", "v4.18", "--simulate", "30", "--depth", "30",
                 "--seed", "1", "--cpus", "1", "--vhe", "--out", "/tmp/fpcheck-unused"])
    out = capsys.readouterr().out
    assert code == 0
    assert "no violation in 30 walks" in out and " holds" not in out
    assert "step coverage:" in out and "seed 1" in out
