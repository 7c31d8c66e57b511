"""`show --against VARIANT`: the same events on another variant, side by side; the first
step where they differ is marked, so a missing change becomes visible."""

from __future__ import annotations

import json

from checker.cli import main

from .conftest import MUTANTS_FILE

MF = ["--variant-file", str(MUTANTS_FILE)]


def test_missing_change_is_shown_at_first_difference(traces, capsys) -> None:
    # mutant-ctxsync-keeps-foreign: ctxsync does not clear TIF_FOREIGN_FPSTATE.  The
    # trace's own table never mentions the flag (it does not change); the seed's does.
    assert main(["show", traces["guest_loss"], "--against", "seed", *MF]) == 0
    out = capsys.readouterr().out
    assert "◀ first difference" in out
    first = next(line for line in out.splitlines() if "◀ first difference" in line)
    assert "guest_exit" in first
    assert "seed also does vmm0.TIF_FOREIGN_FPSTATE: 1→0" in out
    assert "CANNOT TAKE THIS STEP" in out  # the fixed code never lets the guest trap again


def test_against_json_and_html(traces, tmp_path, capsys) -> None:
    assert main(["show", traces["guest_loss"], "--against", "seed", "--format", "json",
                 *MF]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["against"] == "seed" and data["first_difference"] >= 1
    page = tmp_path / "p.html"
    assert main(["show", traces["guest_loss"], "--against", "seed", "--html", str(page),
                 *MF]) == 0
    text = page.read_text()
    assert 'id="against"' in text and text.count('class="firstdiff"') == 1


def test_against_same_variant_is_identical(traces, capsys) -> None:
    assert main(["show", traces["asserts"], "--against", "seed"]) == 0
    assert "behave identically on all 6 steps" in capsys.readouterr().out


def test_against_unknown_variant_is_usage_error(traces, capsys) -> None:
    assert main(["show", traces["asserts"], "--against", "nope"]) == 2
    assert "unknown variant 'nope'" in capsys.readouterr().err
