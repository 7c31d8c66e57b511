"""The Promela export (checker/export) against the explorer: SPIN, run on the export of
the same instance with reductions off (``spin -o2 -a``, ``gcc -DNOREDUCE -DSAFETY``),
stores exactly the explorer's states and reports an assertion violation iff the explorer
finds a violation of a selected property.  Skipped where spin or gcc is missing."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from checker.cli import main
from checker.explicit.explore import explore_bfs
from checker.export import promela
from checker.export.promela import lazy_choices, to_promela
from checker.instance import PROPERTY_NAMES, Instance
from model.config import KCONFIG_PRESETS, Config
from model.variants import get_variant
from tests.broken_variants import BROKEN

ALL = list(PROPERTY_NAMES)
MISSING = [tool for tool in ("spin", "gcc") if shutil.which(tool) is None]
needs_spin = pytest.mark.skipif(
    bool(MISSING), reason=f"{' and '.join(MISSING)} not installed (Debian: apt-get install "
    "spin gcc); the SPIN cross-check needs both")


def _inst(variant: str, kconfig: str, **cfg) -> Instance:
    v = BROKEN.get(variant) or get_variant(variant)
    return Instance(Config(preemption="merged", **KCONFIG_PRESETS[kconfig], **cfg), v)


def run_spin(text: str, work: Path) -> tuple[int, int, str]:
    """(states stored, errors, pan's output) of SPIN on a Promela text, with reductions
    off and the search continuing after errors (-c0), so the count is the whole space."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "m.pml").write_text(text)
    subprocess.run(["spin", "-o2", "-a", "m.pml"], cwd=work, check=True,
                   capture_output=True, timeout=120)
    # -O0: these models are small; compiling is most of the time.
    subprocess.run(["gcc", "-O0", "-w", "-DNOREDUCE", "-DSAFETY", "-o", "pan", "pan.c"],
                   cwd=work, check=True, capture_output=True, timeout=300)
    out = subprocess.run(["./pan", "-m1000000", "-c0"], cwd=work, check=True,
                         capture_output=True, text=True, timeout=300).stdout
    assert "max search depth too small" not in out
    states = int(re.search(r"(\d+) states, stored", out).group(1))
    errors = int(re.search(r"errors: (\d+)", out).group(1))
    return states, errors, out


# (variant, kconfig, config, properties): small configurations covering the encodings:
# one d_step per input combination (v4.17), steps with more inputs choosing them lazily
# inside an atomic option (syscall_kernel_neon on the preempt preset), steps split into
# chains of d_steps (the budget lowered), a BUG/overflow ending the path (the mutant
# with an unbalanced preempt_enable), invariants violated (ctxsync), property selection.
CASES = [
    ("seed", "preempt", {"cpus": 1, "vhe": False}, ALL, 1000),
    ("v4.17", "debug", {"cpus": 1, "vhe": False}, ALL, 1000),
    ("v4.18", "preempt", {"cpus": 1, "vhe": True}, ALL, 60),
    ("ctxsync-keeps-foreign", "preempt", {"cpus": 1, "vhe": False}, ALL, 1000),
    ("neon-end-no-preempt-enable", "preempt", {"cpus": 1, "vhe": False},
     ["no_loss", "no_leak", "host_fp_untrapped"], 1000),
]


@needs_spin
@pytest.mark.parametrize("variant,kconfig,cfg,props,budget", CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_spin_agrees_with_the_explorer(variant: str, kconfig: str, cfg: dict,
                                       props: list[str], budget: int, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    inst = _inst(variant, kconfig, **cfg)
    monkeypatch.setattr(promela, "DSTEP_BUDGET", budget)
    model = to_promela(inst, props)
    if budget < 100:
        assert model.split_options > 0  # the chain layout is what this case checks
    res, _ = explore_bfs(inst, props)
    assert res.complete
    states, errors, out = run_spin(model.text, tmp_path)
    assert states == res.stats.states, out
    assert (errors > 0) == bool(res.violations), (sorted(res.violations), out)


@needs_spin
def test_the_cases_cover_violations_and_fatal_steps() -> None:
    """The cases above are not all clean: the broken ones violate what they should (so
    the verdict comparison is not vacuous) and the overflow mutant ends paths."""
    ctx = explore_bfs(_inst("ctxsync-keeps-foreign", "preempt", cpus=1, vhe=False), ALL)[0]
    assert "no_loss" in ctx.violations
    neon = explore_bfs(_inst("neon-end-no-preempt-enable", "preempt", cpus=1, vhe=False),
                       ALL)[0]
    assert any(kind == "overflow" for kind in neon.check_kinds.values())
    inst = _inst("seed", "preempt", cpus=1, vhe=False)
    assert any(lazy_choices(a) for a in inst.actions
               if len(promela.used_inputs(a)) > promela.EAGER_INPUTS)


def test_export_cli_writes_one_file_per_hyp_mode(tmp_path: Path, capsys) -> None:
    out = tmp_path / "m.pml"
    code = main(["export", "--promela", str(out), "--cpus", "1", "--kconfig", "preempt",
                 "--json"])
    assert code == 0
    files = json.loads(capsys.readouterr().out)["files"]
    assert [Path(f["path"]).name for f in files] == ["m-nvhe.pml", "m-vhe.pml"]
    for f in files:
        text = Path(f["path"]).read_text()
        assert "active proctype fpcheck()" in text and f["options"] >= f["actions"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m-nvhe.pml", "m-vhe.pml"]
    code = main(["export", "--promela", str(out), "--cpus", "1", "--nvhe"])
    assert code == 0 and out.exists()


def test_export_cli_errors(tmp_path: Path, capsys) -> None:
    for argv in (["export", "--promela", str(tmp_path / "no" / "m.pml"), "--cpus", "1"],
                 ["export", "--promela", str(tmp_path / "m.pml"), "--junit", "x.xml"],
                 ["export", "--promela", str(tmp_path / "m.pml"), "--cpus", "9"],
                 ["export", "--promela", str(tmp_path / "m.pml"), "--frobnicate"],
                 ["export", "--cpus", "1"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1, err
    assert list(tmp_path.iterdir()) == []
