"""The optimisation level of the native build (``FPCHECK_NATIVE_OPT``) changes only the
speed: -O0 (the test suite's), -O1 (the default) and -O2 give the same states,
transitions, depth, verdicts and shortest lengths; a bad level is refused with a clear
message."""

from __future__ import annotations

import pytest

from checker.instance import PROPERTY_NAMES, Instance
from checker.native import explore_native
from checker.native.build import OPT_ENV, NativeUnavailable, compiler, opt_flag
from model.config import Config, kconfig_preset
from tests.broken_variants import BROKEN

pytestmark = pytest.mark.skipif(compiler() is None, reason="no C compiler (gcc) on PATH")

ALL = list(PROPERTY_NAMES)


def _search(level: str, monkeypatch: pytest.MonkeyPatch) -> tuple:
    monkeypatch.setenv(OPT_ENV, level)
    # a fresh Instance: the compiled library is cached per instance (native_model)
    inst = Instance(Config(preemption="merged", cpus=1, **kconfig_preset("preempt")),
                    BROKEN["put-fp-no-flush"])
    res, _ = explore_native(inst, ALL, workers=1)
    return (res.stats.states, res.stats.transitions, res.stats.depth,
            {p: len(t.steps) for p, t in res.violations.items()})


def test_levels_give_the_same_search(monkeypatch) -> None:
    o0, o1, o2 = (_search(level, monkeypatch) for level in ("0", "1", "2"))
    assert o0 == o1 == o2
    assert o1[3], "the broken copy's violations are found"


def test_a_bad_level_is_refused(monkeypatch) -> None:
    monkeypatch.setenv(OPT_ENV, "3")
    with pytest.raises(NativeUnavailable, match="FPCHECK_NATIVE_OPT='3' is not one of"):
        opt_flag()
