"""Trace files: schema validation and one-line errors (exit 2, no traceback)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from checker.inspect.load import load
from checker.inspect.schema import SchemaError, trace_schema, validate
from checker.trace import TraceError

from .conftest import ROOT, edited


def test_real_traces_validate(traces) -> None:
    for path in traces.values():
        data = json.loads(Path(path).read_text())
        validate(data)
        assert len(load(path).steps) == len(data["steps"])


def test_schema_is_strict_where_it_matters() -> None:
    s = trace_schema()
    with pytest.raises(SchemaError, match=r"\$: missing required field 'steps'"):
        validate({"format": "fpcheck-trace", "version": 1, "kind": "cti", "engine": "x",
                  "variant": "seed", "config": {"cpus": 1, "tasks": 1, "vmm_threads": 1,
                                                "vcpus": 1, "vhe": True},
                  "property": "no_loss", "violation": "", "initial": {}}, s)
    with pytest.raises(SchemaError, match="expected integer, got boolean"):
        validate(True, {"type": "integer"})
    with pytest.raises(SchemaError, match="must be one of"):
        validate("x", {"enum": ["counterexample", "cti"]})


@pytest.mark.parametrize("edit,message", [
    (lambda d: d.update(version=2), "trace format version 2; this fpcheck reads version 1"),
    (lambda d: d.update(format="other"), "is not an fpcheck trace"),
    (lambda d: d["steps"][0].pop("action"), "$.steps[0]: missing required field 'action'"),
    (lambda d: d["steps"][1]["params"].update(cpu="zero"),
     "$.steps[1].params.cpu: expected integer, got string"),
    (lambda d: d.update(kind="guess"), "$.kind: must be one of"),
    (lambda d: d["steps"][2]["state"].pop("cpu0.current"), "does not have the same variables"),
])
def test_bad_traces_are_one_line_errors(traces, tmp_path, edit, message) -> None:
    bad = edited(traces["asserts"], tmp_path / "bad.json", edit)
    with pytest.raises(TraceError) as exc:
        load(bad)
    assert message in str(exc.value) and "\n" not in str(exc.value)


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "checker", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


@pytest.mark.parametrize("command", ["show", "replay"])
def test_cli_errors_exit_2_without_traceback(traces, tmp_path, command) -> None:
    malformed = tmp_path / "malformed.json"
    malformed.write_text('{"format": "fpcheck-trace", "version": 1, "steps": [')
    wrong_version = edited(traces["asserts"], tmp_path / "v9.json",
                           lambda d: d.update(version=9))
    cases = {
        str(malformed): "is not valid JSON",
        wrong_version: "trace format version 9",
        str(tmp_path / "missing.json"): "does not exist",
    }
    for path, message in cases.items():
        p = _run(command, path)
        assert p.returncode == 2, p.stderr
        assert "Traceback" not in p.stderr
        assert len(p.stderr.strip().splitlines()) == 1 and message in p.stderr


def test_replay_unknown_event_and_variant_exit_2(traces, tmp_path) -> None:
    def rename(d):
        d["steps"][3]["action"] = "teleport"
        d["steps"][3]["label"] = "teleport(cpu0, vmm0)"
    cases = {
        (edited(traces["asserts"], tmp_path / "ev.json", rename),):
            "step 4: event 'teleport(cpu0, vmm0)': the model has no step 'teleport'",
        (edited(traces["asserts"], tmp_path / "par.json",
                lambda d: d["steps"][0]["params"].update(cpu=7)),):
            "step 1: event 'schedule(cpu0, idle0, -> vmm0)': no step schedule with",
        (edited(traces["asserts"], tmp_path / "var.json",
                lambda d: d.update(variant="v9.9")),):
            "unknown variant 'v9.9'",
        (traces["asserts"], "--variant", "nosuch"): "unknown variant 'nosuch'",
        (edited(traces["asserts"], tmp_path / "cfg.json",
                lambda d: d["config"].update(cpus=9)),): "--cpus must be between 1 and 4",
        (edited(traces["asserts"], tmp_path / "prop.json",
                lambda d: d.update(property="no_bugs")),): "property 'no_bugs'",
    }
    for args, message in cases.items():
        p = _run("replay", *args)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        assert "Traceback" not in p.stderr
        assert len(p.stderr.strip().splitlines()) == 1 and message in p.stderr, p.stderr
