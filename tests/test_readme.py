"""The README's "Checking your own patch" example works as written."""

from __future__ import annotations

import re
from pathlib import Path

from checker.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_readme_variant_example(tmp_path, capsys) -> None:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```python\n(# my_fix.py\n.*?)```", text, re.S).group(1)
    f = tmp_path / "my_fix.py"
    f.write_text(block)
    code = main(["explore", "--variant-file", str(f), "--variant", "my-fix", "--cpus", "1",
                 "--quiet", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert re.search(r"kernel_asserts +holds", out)


def test_readme_lemma_example(tmp_path, capsys) -> None:
    """The "Adding a lemma" example: without its lemma the variant is refused with an
    unreachable CTI on the inherited lemma; with it, it is proved."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```python\n(# keep_host.py\n.*?)```", text, re.S).group(1)
    f = tmp_path / "keep_host.py"
    f.write_text(block)
    args = ["prove", "--variant-file", str(f), "--cpus", "1", "--nvhe", "--out", str(tmp_path)]
    assert main(args) == 0
    assert "PROVED" in capsys.readouterr().out
    bare = tmp_path / "bare.py"
    bare.write_text(block.split("\n\ndef fp_host_flag_kept")[0] + "\n\n" + re.search(
        r"(VARIANT = .*?__hyp_switch_fpsimd=__hyp_switch_fpsimd,)", block, re.S).group(1)
        + ")\n")
    assert main(["prove", "--variant-file", str(bare), "--cpus", "1", "--nvhe",
                 "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "seed_fp_host_flag (lemma): counterexample to induction" in out
    # The inherited lemma is false in reachable states of the patched variant (its first
    # conjunct is what the patch changes), so the CTI z3 returns may have an unreachable
    # pre-state or a reachable one; which one depends on the solver's history in the
    # process.  Both refute the lemma, not the code.
    assert ("the pre-state is UNREACHABLE" in out
            or "the lemma is FALSE in a reachable state" in out)
