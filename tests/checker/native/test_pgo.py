"""The profile-guided build of the compiled model (`explore --pgo`,
checker/native/build.py): a different library, the same search."""

from __future__ import annotations

from checker.cli import main
from checker.instance import PROPERTY_NAMES, Instance
from checker.native.explore import explore_native, native_model
from model.config import Config
from model.variants import get_variant


def test_pgo_build_explores_the_same_states_and_verdicts() -> None:
    inst = Instance(Config(cpus=1, preemption="merged"), get_variant("v4.18-rc1"))
    plain, _ = explore_native(inst, list(PROPERTY_NAMES), workers=1)
    pgo, _ = explore_native(inst, list(PROPERTY_NAMES), workers=1, pgo=True)
    assert native_model(inst, pgo=True).path != native_model(inst).path
    assert (pgo.stats.states, pgo.stats.transitions, pgo.stats.depth) == \
        (plain.stats.states, plain.stats.transitions, plain.stats.depth)
    assert plain.violations  # rc1 has findings: the same ones, equally short
    assert {p: len(t) for p, t in pgo.violations.items()} == \
        {p: len(t) for p, t in plain.violations.items()}


def test_pgo_needs_the_native_engine(capsys) -> None:
    assert main(["explore", "--engine", "python", "--pgo", "--cpus", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--pgo needs the native engine" in err and len(err.splitlines()) == 1
