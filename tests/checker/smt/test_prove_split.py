"""A consecution query the solver has not decided within `SPLIT_AFTER` seconds is decided
again one action of the last step at a time (checker/smt/induction.py, `_decide`): the
verdicts, the CTIs and the table are those of the whole queries."""

from __future__ import annotations

import z3

from checker.instance import PROPERTY_NAMES, Instance
from checker.smt import induction
from checker.smt.induction import prove
from model.config import Config
from model.variants import get_variant

FORCE = 1234.5  # SPLIT_AFTER while testing: a whole query checked with it "times out"


def split_everything(monkeypatch) -> list[int]:  # noqa: ANN001
    """From now on every consecution query is split: its whole query gives up at once
    (deterministic, unlike a real timeout); returns the count of per-action queries."""
    count = [0]
    check = induction._check

    def fake_check(solver, query, deadline, query_timeout=None):  # noqa: ANN001, ANN202
        if query_timeout == FORCE:
            return z3.unknown, True
        if z3.is_and(query) and z3.is_eq(query.arg(query.num_args() - 1)):
            count[0] += 1
        return check(solver, query, deadline, query_timeout)

    monkeypatch.setattr(induction, "SPLIT_AFTER", FORCE)
    monkeypatch.setattr(induction, "_check", fake_check)
    return count


def _table(res) -> list[tuple[str, str, str]]:  # noqa: ANN001
    return [(o.name, o.initiation, o.consecution) for o in res.obligations]


def test_split_queries_prove_what_whole_ones_prove(monkeypatch) -> None:
    inst = Instance(Config(preemption="merged", cpus=1), get_variant("v4.17"))
    whole = prove(inst, list(PROPERTY_NAMES), jobs=1)
    count = split_everything(monkeypatch)
    split = prove(inst, list(PROPERTY_NAMES), jobs=1)
    assert whole.verdict == split.verdict == "PROVED"
    assert _table(whole) == _table(split)
    assert count[0] > len(inst.actions)
    coh = next(o for o in split.obligations if o.name == "coherence")
    assert coh.split_parts == list(range(len(coh.part_names)))
    assert not any(o.split_parts for o in whole.obligations)


def test_a_split_query_finds_the_cti_of_the_whole_one(monkeypatch) -> None:
    """The seed (one CPU, merged) has a CTI for locking_rules; split, it is found by one
    action's query, and the CTI's step is that action failing an assertion (the model
    fixes sel; with --jobs 2 the parent asks that action's query again for the model)."""
    inst = Instance(Config(preemption="merged", cpus=1), get_variant("seed"))
    whole = prove(inst, list(PROPERTY_NAMES), jobs=1)
    split_everything(monkeypatch)
    split = prove(inst, list(PROPERTY_NAMES), jobs=2)
    assert whole.verdict == split.verdict == "CTI"
    assert _table(whole) == _table(split)
    (ob,) = [o for o in split.failed() if o.name == "locking_rules"]
    assert ob.split_parts == [0]
    assert ob.trace is not None and ob.trace.kind == "cti"
    assert ob.trace.steps[-1].violations
