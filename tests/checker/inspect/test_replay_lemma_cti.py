"""A counterexample to induction about a strengthening lemma replays too."""

from __future__ import annotations

from checker.cli import main

MUTANTS = "counterexamples/mutants.py"


def test_lemma_cti_replays(tmp_path, capsys) -> None:
    code = main(["prove", "--variant-file", MUTANTS, "--variant", "mutant-put-fp-no-flush",
                 "--nvhe", "--no-lockdep", "--cpus", "1", "--out", str(tmp_path)])
    assert code == 1
    ctis = sorted(p for p in tmp_path.glob("*.json") if "smt-induction" in p.name)
    lemma_ctis = [p for p in ctis if "-seed_" in p.name]
    assert lemma_ctis, [p.name for p in ctis]
    capsys.readouterr()
    assert main(["replay", str(lemma_ctis[0]), "--variant-file", MUTANTS]) == 1
    assert "REPRODUCES" in capsys.readouterr().out
