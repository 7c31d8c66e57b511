"""Graceful limits: --timeout, --max-states, --max-memory and Ctrl-C stop the search
cleanly (verdicts so far, traces written, how far it got, exit 3 unless a violation was
found); a second Ctrl-C exits at once."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from checker.cli import main
from checker.explicit.explore import explore_bfs
from checker.instance import PROPERTY_NAMES, Instance
from checker.limits import Limits, parse_size
from model.config import Config
from model.variants import get_variant

ROOT = Path(__file__).resolve().parents[2]
BIG = ["--cpus", "3", "--tasks", "2", "--nvhe"]  # minutes to exhaust: never finishes here


def _popen(args: list[str], tmp_path: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "checker", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def _startup_cpu(args: list[str], tmp_path: Path) -> float:
    """The CPU seconds ``explore args`` takes to start its search: run it to its first
    state twice, the first time to build (and cache) the compiled model, whose compiler
    runs in a child process that `_wait_cpu` does not see, the second time to measure the
    start-up alone (the instance's two builds and code generation; it grows with the
    model, so a fixed figure would let the interrupt land before the search)."""
    cmd = [sys.executable, "-m", "checker", *args, "--max-states", "1", "--quiet",
           "--out", str(tmp_path / "warm")]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(cmd, cwd=ROOT, capture_output=True, env=env, timeout=300)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, cwd=ROOT, capture_output=True, env=env, timeout=300)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _wait_cpu(proc: subprocess.Popen, seconds: float, limit: float = 60.0) -> None:
    """Wait until the child has used ``seconds`` of CPU (`_startup_cpu`; robust on a
    loaded machine, unlike a fixed sleep)."""
    tick = os.sysconf("SC_CLK_TCK")
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit and proc.poll() is None:
        with open(f"/proc/{proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        if (int(fields[11]) + int(fields[12])) / tick >= seconds:
            return
        time.sleep(0.05)


def test_parse_size() -> None:
    assert parse_size("4G") == 4 << 30 and parse_size("512m") == 512 << 20
    assert parse_size("1.5GiB") == int(1.5 * (1 << 30)) and parse_size("1000") == 1000
    for bad in ("", "lots", "-1G", "0"):
        with pytest.raises(ValueError):
            parse_size(bad)


def test_limits_stop_the_search_with_a_reason() -> None:
    inst = Instance(Config(preemption="merged", cpus=2), get_variant("v4.17"))
    res, _ = explore_bfs(inst, list(PROPERTY_NAMES), limits=Limits(timeout=0.0).start())
    assert not res.complete and res.stop_reason == "timeout"
    assert res.verdict("no_loss") == "not violated (incomplete)"
    res, _ = explore_bfs(inst, list(PROPERTY_NAMES), limits=Limits(max_memory=1).start())
    assert res.stop_reason == "max-memory" and res.stats.queued > 0
    res, _ = explore_bfs(inst, list(PROPERTY_NAMES), limits=Limits(max_states=5000))
    assert res.stop_reason == "max-states" and 5000 <= res.stats.states
    assert res.stats.states + 0 == res.stats.states and res.stats.depth > 0


def test_timeout_keeps_what_was_found(tmp_path, capsys) -> None:
    # The clock would include building the instance and compiling the C model when it is
    # not cached (a fresh or loaded machine: over 20 s seen), so a first run builds both
    # (--max-states 1; the second run reuses the process's build and the cached library)
    # and the 4 s are the search's, which must get past the seed's 6-step violation.
    main(["explore", *BIG, "--max-states", "1", "--quiet", "--out", str(tmp_path / "warm")])
    capsys.readouterr()
    code = main(["explore", *BIG, "--timeout", "4", "--json", "--out", str(tmp_path)])
    run = json.loads(capsys.readouterr().out)["runs"][0]
    assert run["stopped"] == "timeout" and not run["complete"]
    assert run["queued"] > 0 and run["depth"] > 0 and run["states"] > 0
    ka = run["properties"]["kernel_asserts"]
    assert code == 1 and ka["verdict"] == "VIOLATED"  # a violation found is an answer
    assert Path(ka["counterexample"]).exists()
    # (on the default `debug` preset the seed loses state too; host_fp_untrapped it never
    # breaks)
    assert run["properties"]["host_fp_untrapped"]["verdict"] == "not violated (incomplete)"


def test_timeout_without_findings_exits_three(capsys) -> None:
    code = main(["explore", *BIG, "--variant", "v4.17", "--timeout", "0.5", "--quiet",
                 "--out", "/tmp/fpcheck-unused"])
    out = capsys.readouterr().out
    assert code == 3
    assert "INCOMPLETE: --timeout reached" in out and "still queued" in out


def test_bad_limits_are_usage_errors(capsys) -> None:
    for argv in (["explore", "--timeout", "0"], ["explore", "--max-memory", "lots"],
                 ["explore", "--simulate", "0"], ["explore", "--seed", "3"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1, err


def test_ctrl_c_prints_and_writes_what_was_found(tmp_path) -> None:
    startup = _startup_cpu(["explore", *BIG], tmp_path)
    proc = _popen(["explore", *BIG, "--json", "--out", str(tmp_path)], tmp_path)
    # past the seed's 6-step violation (found in milliseconds), far from the end
    _wait_cpu(proc, startup + 1.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    data = json.loads(out)
    run = data["runs"][0]
    assert run["stopped"] == "interrupted" and run["queued"] > 0
    assert run["properties"]["kernel_asserts"]["verdict"] == "VIOLATED"
    assert Path(run["properties"]["kernel_asserts"]["counterexample"]).exists()
    assert not list(tmp_path.glob(".tmp-*"))  # nothing half-written
    assert "interrupted" in err


def test_ctrl_c_without_findings_exits_three(tmp_path) -> None:
    startup = _startup_cpu(["explore", *BIG, "--variant", "v4.17"], tmp_path)
    proc = _popen(["explore", *BIG, "--variant", "v4.17", "--quiet", "--out",
                   str(tmp_path)], tmp_path)
    _wait_cpu(proc, startup + 1.0)  # past start-up, inside the first hyp mode
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 3
    assert "INCOMPLETE: interrupted (Ctrl-C)" in out and "not explored" not in out


def test_second_ctrl_c_exits_at_once() -> None:
    code = (
        "import os, signal, time\n"
        "from checker.limits import Interrupt, sigint_stops\n"
        "with sigint_stops():\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    time.sleep(0.2)\n"
        "    assert Interrupt.requested\n"
        "    print('first', flush=True)\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    time.sleep(10)\n"
        "    print('not reached')\n"
    )
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                       text=True, timeout=30, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 130 and r.stdout == "first\n"
    assert "aborted" in r.stderr and time.monotonic() - t0 < 8
