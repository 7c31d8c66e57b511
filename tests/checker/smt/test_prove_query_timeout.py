"""`prove --query-timeout S`: every solver query gets its own timeout; a part whose query
hits it makes its obligation unknown (the table says which parts) and the proof goes on
(checker/smt/induction.py, `_check`, `_consecution`; checker/smt/cli.py)."""

from __future__ import annotations

import json

import pytest
import z3

from checker.cli import main
from checker.instance import PROPERTY_NAMES, Instance
from checker.smt import induction
from checker.smt.encode import Encoding
from checker.smt.induction import prove
from model.config import Config
from model.variants import get_variant

SLOW_SLOTS = ("cpu0.regs.v", "cpu0.regs.fpsr")  # coherence parts made to time out
SLOW_LEMMA = "v417_binding_is_live"


@pytest.fixture
def slow_queries(monkeypatch) -> set[int]:
    """Make the queries of two `coherence` parts and of one lemma time out whenever a query
    timeout is given (z3 AST ids are hash-consed, so the query `Not(part)` that prove
    builds has the id recorded here): deterministic, unlike a real timeout."""
    ids: set[int] = set()
    # The queries are kept alive: a freed AST's id is reused by later ones, which would
    # then "time out" too (seen once in CI, where the worker had run other tests first).
    alive: list[z3.ExprRef] = []
    _LEMMAS.clear()
    named = Encoding.coherence_named_parts

    def slow(query: z3.ExprRef) -> None:
        alive.append(query)
        ids.add(query.get_id())

    def coherence_named_parts(self, f):  # noqa: ANN001, ANN202
        out = named(self, f)
        for n, p in out:
            if n in SLOW_SLOTS:
                slow(z3.Not(p))
        return out

    pred = Encoding.pred

    def slow_pred(self, e, f):  # noqa: ANN001, ANN202
        out = pred(self, e, f)
        if e is not None and e is _lemma_expr(self.inst):
            slow(z3.Not(out))
        return out

    check = induction._check

    def fake_check(solver, query, deadline, query_timeout=None):  # noqa: ANN001, ANN202
        # a slow query stays slow when prove splits it by action (`_decide`: q & sel == a)
        whole = query.arg(0) if z3.is_and(query) and query.num_args() == 2 else query
        if query_timeout is not None and (query.get_id() in ids or whole.get_id() in ids):
            return z3.unknown, True
        return check(solver, query, deadline, query_timeout)

    monkeypatch.setattr(Encoding, "coherence_named_parts", coherence_named_parts)
    monkeypatch.setattr(Encoding, "pred", slow_pred)
    monkeypatch.setattr(induction, "_check", fake_check)
    return ids


_LEMMAS: dict[int, object] = {}


def _lemma_expr(inst: Instance) -> object:
    from properties.lemmas import lemmas_for

    if id(inst) not in _LEMMAS:
        lems = [lm for lm in lemmas_for(inst.layout, inst.variant) if lm.name == SLOW_LEMMA]
        _LEMMAS[id(inst)] = lems[0].build(inst.layout) if lems else None
    return _LEMMAS[id(inst)]


def _lemmas(inst: Instance) -> dict[str, tuple[str, object]]:
    from properties.lemmas import lemmas_for

    return {lem.name: (lem.reason, _lemma_expr(inst) if lem.name == SLOW_LEMMA
                       else lem.build(inst.layout))
            for lem in lemmas_for(inst.layout, inst.variant)}


def _table(res) -> list[tuple]:  # noqa: ANN001
    return [(o.name, o.status("initiation"), o.status("consecution"), o.timed_out)
            for o in res.obligations]


@pytest.mark.parametrize("jobs", [1, 2])
def test_timed_out_parts_make_their_obligation_unknown(slow_queries, jobs: int) -> None:
    """v4.17, one CPU (proved in under a second): with the parts of two obligations timing
    out, those two are unknown (saying which parts), every other obligation is still
    decided, and the verdict is UNKNOWN; --jobs 2 gives the same table."""
    inst = Instance(Config(preemption="merged", cpus=1), get_variant("v4.17"))
    res = prove(inst, list(PROPERTY_NAMES), lemmas=_lemmas(inst), query_timeout=30,
                jobs=jobs)
    assert slow_queries
    assert res.verdict == "UNKNOWN"
    rows = {o.name: o for o in res.obligations}
    coh = rows["coherence"]
    n = len(coh.part_names)
    assert n > 2 and coh.consecution == coh.initiation == "unknown"
    assert coh.status("consecution") == (
        f"unknown (2 of {n} parts timed out at 30 s: {', '.join(SLOW_SLOTS)})")
    assert [coh.part_names[i] for i in coh.timed_out["consecution"]] == list(SLOW_SLOTS)
    # the parts after a timed-out one were still checked
    assert all(s is not None for s in coh.part_seconds)
    lem = rows[SLOW_LEMMA]
    assert lem.status("consecution") == "unknown (timed out at 30 s)"
    others = [o for o in res.obligations if o.name not in ("coherence", SLOW_LEMMA)]
    assert others and all(o.ok and not o.timed_out["consecution"] for o in others), \
        [row for row in _table(res) if row[0] not in ("coherence", SLOW_LEMMA)]


def test_a_cti_still_decides_with_timed_out_parts(slow_queries) -> None:
    """The seed (one CPU, merged) has a CTI for locking_rules: it is found and written as
    without the option, next to coherence's timed-out parts, and the verdict is CTI."""
    inst = Instance(Config(preemption="merged", cpus=1), get_variant("seed"))
    one = prove(inst, list(PROPERTY_NAMES), query_timeout=30)
    assert one.verdict == "CTI"
    assert "locking_rules" in [o.name for o in one.failed()]
    coh = next(o for o in one.obligations if o.name == "coherence")
    assert coh.consecution == "unknown" and len(coh.timed_out["consecution"]) == 2


def test_query_timeout_cli(tmp_path, capsys) -> None:
    """A real 1 ms query timeout: some query of v4.17's proof runs out (exit 3, UNKNOWN),
    the table and the JSON say which parts, and bad values are a one-line usage error."""
    args = ["prove", "--variant", "v4.17", "--cpus", "1", "--nvhe", "--jobs", "1",
            "--query-timeout", "0.001", "--out", str(tmp_path)]
    assert main(args) == 3
    cap = capsys.readouterr()
    assert "UNKNOWN" in cap.out and "timed out at 0.001 s" in cap.out
    assert "prove: coherence: consecution" in cap.err  # progress, one line per obligation
    assert main([*args, "--json"]) == 3
    run = json.loads(capsys.readouterr().out)["runs"][0]
    assert run["verdict"] == "UNKNOWN" and run["query_timeout"] == 0.001
    late = [o for o in run["obligations"] if o["timed_out"]["consecution"]]
    assert late and all(o["consecution"] == "unknown" for o in late)
    assert all(set(o["timed_out"]["consecution"]) <= set(o["parts"]) for o in late
               if o["parts"])
    coh = next(o for o in run["obligations"] if o["name"] == "coherence")
    assert len(coh["part_seconds"]) == len(coh["parts"]) > 1
    for bad in ("0", "-1", "abc", "nan"):
        assert main(["prove", "--query-timeout", bad]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: argument --query-timeout: must be a positive number")
        assert "\n" not in err
    with pytest.raises(ValueError):
        prove(Instance(Config(cpus=1), get_variant("v4.17")), ["no_loss"], query_timeout=0)
