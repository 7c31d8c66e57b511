"""Real traces for the inspect tests, made by the explorer on the seed and on mutants."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checker.cli_common import write_trace
from checker.explicit.explore import explore_bfs
from checker.instance import Instance
from model.config import Config, kconfig_preset
from model.variants import get_variant, load_variant_file

PREEMPT_NOLOCKDEP = kconfig_preset("preempt")  # the old lockdep=False

ROOT = Path(__file__).resolve().parents[3]
CURATED = ROOT / "counterexamples"
MUTANTS_FILE = CURATED / "mutants.py"


def mutants() -> dict:
    return load_variant_file(str(MUTANTS_FILE))


def _explore(tmp: Path, variant, prop: str, **cfg) -> str:
    inst = Instance(Config(**{"preemption": "merged", **cfg}), variant)
    res, _ = explore_bfs(inst, [prop], stop_early=True)
    assert prop in res.violations, f"{variant.name} should violate {prop}"
    return write_trace(res.violations[prop], str(tmp))


@pytest.fixture(scope="session")
def traces(tmp_path_factory) -> dict[str, str]:
    """name -> path of a freshly generated trace file."""
    tmp = tmp_path_factory.mktemp("traces")
    m = mutants()
    return {
        # the seed's real finding: 6 steps, one CPU
        "asserts": _explore(tmp, get_variant("seed"), "kernel_asserts", cpus=1, vhe=True),
        # a guest leak (IRQ-masked spans while in the guest), two CPUs
        "leak": _explore(tmp, m["mutant-hyp-ignores-foreign"], "no_leak", cpus=2,
                         **PREEMPT_NOLOCKDEP),
        # a loss of guest state, one CPU
        "guest_loss": _explore(tmp, m["mutant-ctxsync-keeps-foreign"], "no_loss", cpus=1,
                               **PREEMPT_NOLOCKDEP),
        # a loss on migration: both CPUs busy
        "migration": _explore(tmp, m["mutant-switch-ignores-cpu"], "no_loss", cpus=2,
                              vcpus=0, vmm_threads=0, **PREEMPT_NOLOCKDEP),
    }


def edited(src: str, dst: Path, edit) -> str:
    """Copy a trace file with ``edit(data)`` applied; returns the new path."""
    data = json.loads(Path(src).read_text())
    edit(data)
    dst.write_text(json.dumps(data))
    return str(dst)
