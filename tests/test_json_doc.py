"""docs/json.md lists every field the commands print with --json (it cannot go stale)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from checker.cli import main

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "json.md").read_text()


def _documented(section: str) -> set[str]:
    body = DOC.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`([a-z_]+)`", body)) | set(re.findall(r'"([a-z_]+)"', body))


def _undocumented(obj: object, section: str, skip: tuple[str, ...] = ()) -> set[str]:
    doc = _documented(section)
    keys: set[str] = set()

    def walk(o: object, depth: int) -> None:
        if isinstance(o, dict):
            for k, v in o.items():
                if k in skip:
                    continue
                keys.add(k)
                if depth < 2:
                    walk(v, depth + 1)
        elif isinstance(o, list):
            for v in o:
                walk(v, depth)

    walk(obj, 0)
    return {k for k in keys if re.fullmatch(r"[a-z_]+", k)} - doc


def _run(capsys, *args: str) -> dict:
    main(list(args))
    return json.loads(capsys.readouterr().out)


def test_explore_fields_documented(tmp_path, capsys) -> None:
    out = _run(capsys, "explore", "--cpus", "1", "--nvhe", "--json", "--out", str(tmp_path))
    props = set(out["runs"][0]["properties"])
    guards = set(out["runs"][0]["guards"])
    assert not _undocumented(out, "explore", ("config", *props, *guards))
    sim = _run(capsys, "explore", "--cpus", "1", "--nvhe", "--json", "--simulate", "3",
               "--depth", "4", "--out", str(tmp_path))
    assert not _undocumented(sim, "explore", ("config", "step_coverage", *props, *guards))
    hc = _run(capsys, "explore", "--cpus", "1", "--nvhe", "--kconfig", "preempt", "--json",
              "--hash-compaction", "--out", str(tmp_path))
    assert "hash_compaction" in hc["runs"][0]
    assert not _undocumented(hc, "explore", ("config", *props, *guards))


def test_bmc_and_prove_fields_documented(tmp_path, capsys) -> None:
    out = _run(capsys, "bmc", "--depth", "2", "--cpus", "1", "--nvhe", "--json",
               "--out", str(tmp_path))
    assert not _undocumented(out, "bmc", ("config", "no_loss", "no_leak", "kernel_asserts",
                                          *out["runs"][0]["properties"]))
    # No user task: the same rows and failures (a VIOLATED seed) as with one, 40% of the time
    out = _run(capsys, "prove", "--cpus", "1", "--tasks", "0", "--nvhe", "--json", "--out",
               str(tmp_path))
    assert not _undocumented(out, "prove", ("config",))


def test_export_fields_documented(tmp_path, capsys) -> None:
    out = _run(capsys, "export", "--promela", str(tmp_path / "m.pml"), "--cpus", "1",
               "--nvhe", "--json")
    assert out["files"] and not _undocumented(out, "export", ("config",))
