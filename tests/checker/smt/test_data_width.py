"""Data bits are encoded in `DATA_WIDTH` bits, not their real widths (checker/smt/encode.py,
"Data width"): the verdicts are those of the real widths, and an encoding that would need
more distinct values than its width holds is refused."""

from __future__ import annotations

import pytest

from checker.explicit.explore import explore_bfs
from checker.instance import PROPERTY_NAMES, Instance
from checker.smt import encode
from checker.smt.bmc import bmc
from checker.smt.encode import EncodeError, Encoding
from checker.smt.induction import prove
from model.config import Config, kconfig_preset
from model.variants import get_variant
from tests.broken_variants import BROKEN

PREEMPT = kconfig_preset("preempt")
REAL = 1 << 12  # wider than every slice: each kind at its real width


def _table(res) -> list[tuple[str, str, str]]:
    return [(o.name, o.initiation, o.consecution) for o in res.obligations]


@pytest.mark.parametrize("variant,cfg", [
    ("v4.18", {"cpus": 2, "tasks": 2, **PREEMPT}),  # PROVED
    ("hyp-switch-skips-host-save", {"cpus": 1, **PREEMPT}),  # a CTI or a counterexample
    # SVE slices (Z above 128, P), SME's ZA and FPCR
    ("v6.16", {"cpus": 1, "tasks": 1, "vcpus": 0, "vmm_threads": 0, "sme": True,
               "sve": True, **PREEMPT}),
])
def test_prove_gives_the_real_widths_verdicts(variant, cfg, monkeypatch) -> None:
    v = BROKEN[variant] if variant in BROKEN else get_variant(variant)
    inst = Instance(Config(**{"preemption": "merged", **cfg}), v)
    narrow = prove(inst, list(PROPERTY_NAMES))
    monkeypatch.setattr(encode, "DATA_WIDTH", REAL)
    real = prove(inst, list(PROPERTY_NAMES))
    assert _table(narrow) == _table(real)
    assert narrow.verdict == real.verdict


def test_bmc_finds_the_same_counterexample_at_both_widths(monkeypatch) -> None:
    inst = Instance(Config(preemption="merged", cpus=1, tasks=0, **PREEMPT),
                    BROKEN["put-fp-no-flush"])
    ex, _ = explore_bfs(inst, ["no_loss"])
    depth = len(ex.violations["no_loss"])
    narrow = bmc(inst, ["no_loss"], depth, bits=True).props["no_loss"]
    monkeypatch.setattr(encode, "DATA_WIDTH", REAL)
    real = bmc(inst, ["no_loss"], depth, bits=True).props["no_loss"]
    assert narrow.verdict == real.verdict == "VIOLATED"
    assert narrow.depth == real.depth == depth


def test_the_widths() -> None:
    inst = Instance(Config(preemption="merged", cpus=1, sve=True, vhe=True),
                    get_variant("v4.18"))
    enc = Encoding(inst)
    assert enc.real_width["v"] == 128 and enc.real_width["p"] == 32
    assert enc.width["v"] == enc.width["p"] == encode.DATA_WIDTH
    assert enc.frame("f").ghost[(0, "v")].size() == encode.DATA_WIDTH
    assert Encoding(inst, data_width=REAL).width == enc.real_width


def test_more_values_than_the_width_holds_is_refused() -> None:
    """Two bits hold 0 and three others: a fourth distinct V constant could make a
    satisfiable query unsatisfiable (four values pairwise distinct), so it is refused."""
    inst = Instance(Config(preemption="merged", cpus=1), get_variant("v4.18"))
    enc = Encoding(inst, data_width=2)
    n_v = sum(1 for k in enc.kind.values() if k == "v") + len(enc.owners)
    assert n_v > 3
    with pytest.raises(EncodeError, match="DATA_WIDTH"):
        enc.frame("f")
    # the same constant asked for twice is one value
    ok = Encoding(inst, data_width=2)
    for _ in range(5):
        ok.data_var("x", "v")
