"""`prove --jobs N`: the consecution queries checked in forked processes
(checker/smt/induction.py, `_consecution`) give the same table as one process."""

from __future__ import annotations

import os
import signal

import pytest

from checker.cli import main
from checker.instance import PROPERTY_NAMES, Instance
from checker.smt import induction
from checker.smt.induction import _worker_check, prove
from model.config import Config
from model.variants import get_variant


def _table(res) -> list[tuple]:  # noqa: ANN001
    return [(o.name, o.kind, o.initiation, o.consecution, o.trace.kind if o.trace else None)
            for o in res.obligations]


@pytest.mark.parametrize("variant,verdict", [("v4.17", "PROVED"), ("seed", "CTI")])
def test_jobs_give_the_same_table(variant: str, verdict: str) -> None:
    """One CPU, merged preemption: v4.17 is proved; the seed has CTIs (its lockdep splat
    in kvm_arch_vcpu_put_fp), whose traces the parent builds from its own model of the
    failing query (a worker's model cannot cross the fork) and replays as usual."""
    cfg = Config(preemption="merged", cpus=1)
    one = prove(Instance(cfg, get_variant(variant)), list(PROPERTY_NAMES))
    two = prove(Instance(cfg, get_variant(variant)), list(PROPERTY_NAMES), jobs=2)
    assert one.verdict == two.verdict == verdict
    assert _table(one) == _table(two)
    assert [o.name for o in one.failed()] == [o.name for o in two.failed()]


def test_prove_jobs_option(capsys) -> None:
    assert main(["prove", "--variant", "v4.17", "--cpus", "1", "--nvhe", "--jobs", "2"]) == 0
    assert "PROVED" in capsys.readouterr().out
    assert main(["prove", "--jobs", "0"]) == 2
    assert capsys.readouterr().err.strip() == "error: --jobs must be positive"
    with pytest.raises(ValueError):
        prove(Instance(Config(cpus=1), get_variant("v4.17")), ["no_loss"], jobs=0)


def _dying_worker_check(qi: int) -> tuple[int, str, float, bool]:
    """A `prove --jobs` worker killed from outside (as the OOM killer would) on its
    first query."""
    if qi == 0:
        os.kill(os.getpid(), signal.SIGKILL)
    return _worker_check(qi)


def test_a_killed_worker_does_not_hang_the_proof(monkeypatch, capsys) -> None:
    """The queries a lost worker held are checked in the main process: same table as one
    process, and one line on stderr says so."""
    cfg = Config(preemption="merged", cpus=1)
    one = prove(Instance(cfg, get_variant("v4.17")), list(PROPERTY_NAMES))
    monkeypatch.setattr(induction, "_worker_check", _dying_worker_check)
    two = prove(Instance(cfg, get_variant("v4.17")), list(PROPERTY_NAMES), jobs=2)
    assert two.verdict == one.verdict == "PROVED"
    assert _table(one) == _table(two)
    err = capsys.readouterr().err
    assert "a --jobs worker process died" in err and "main process" in err
