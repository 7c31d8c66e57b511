"""Issue 10's large configurations: which engine answers, how fast, in how much memory.

Usage (from the repository root):

    python bench/bench_big.py                        # every row, prove and explore
    python bench/bench_big.py --only big             # one row (names: see --help)
    python bench/bench_big.py --engine prove         # only the induction proofs
    python bench/bench_big.py --explore-timeout 600  # the issue's 10-minute budget

Each row is one configuration the issue names as out of reach of the explorer, run per
hyp mode as a user would, each command in its own process (its peak RSS is read from
``wait4``, so it includes z3 or the native engine's tables, not this script):

* ``prove``: ``python -m checker prove ... --json`` (k-induction with the variant's
  lemmas, bit-exact): PROVED is an exhaustive verdict, every reachable state of that
  configuration, obtained without enumerating them; the time and memory are those of the
  whole command (building the instance, the encoding and every obligation);
* ``explore``: ``python -m checker explore ... --symmetry --json --timeout T`` (native
  engine, all cores): a verdict if it finishes, otherwise how far it got (distinct states
  stored, BFS depth, states still queued) when the timeout stopped it (exit 3).

A violated property is also a verdict (``prove`` then names the failing obligation, and a
counterexample to induction is not a bug until explore or bmc reproduces it).  The
printed load average is read just before each command: on a shared 2-core machine the
wall times only mean something next to it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tabulate import tabulate

ROOT = Path(__file__).resolve().parent.parent

MODES = ("--nvhe", "--vhe")
BIG = ["--cpus", "3", "--tasks", "2", "--vcpus", "2", "--vmm-threads", "2"]
# (row name, variant, options, hyp modes): the configurations (v4.18), and the
# same sizes on 2018's other release and today's code for comparison.  SVE with KVM needs
# VHE (kvm_arch_check_sve_has_vhe), so that row has one mode.
ROWS: list[tuple[str, str, list[str], tuple[str, ...]]] = [
    ("big", "v4.18", BIG, MODES),
    ("sve-2cpus", "v4.18", ["--sve", "--cpus", "2"], ("--vhe",)),
    ("cpus3-tasks2", "v4.18", ["--cpus", "3", "--tasks", "2"], MODES),
    ("big-v4.17", "v4.17", BIG, MODES),
    ("big-v6.14", "v6.14", BIG, MODES),
]


def _load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def run_json(argv: list[str]) -> tuple[dict | None, int, float, float]:
    """Run ``python -m checker ARGV --json``: (parsed report or None, exit code, wall
    seconds, peak RSS in GiB of the child)."""
    with tempfile.TemporaryFile() as out:
        t = time.perf_counter()
        p = subprocess.Popen([sys.executable, "-m", "checker", *argv, "--json"], cwd=ROOT,
                             stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t
        out.seek(0)
        try:
            report = json.loads(out.read().decode())
        except ValueError:
            report = None
    return report, p.returncode, wall, usage.ru_maxrss / 2**20


def prove_row(name: str, variant: str, opts: list[str], mode: str,
              timeout: int) -> list:
    load = _load()
    with tempfile.TemporaryDirectory() as cti_dir:
        rep, code, wall, gib = run_json(["prove", "--variant", variant, *opts, mode,
                                         "--timeout", str(timeout), "--out", cti_dir])
    if rep is None:
        return [name, mode, "prove", f"exit {code}, no report", "", f"{wall:.0f}",
                f"{gib:.2f}", load]
    run = rep["runs"][0]
    failed = [o["name"] for o in run["obligations"]
              if "FAIL" in (o["initiation"], o["consecution"])
              or "unknown" in (o["initiation"], o["consecution"])]
    slowest = max(run["obligations"], key=lambda o: o["seconds"])
    detail = (f"{len(run['obligations'])} obligations; slowest {slowest['name']} "
              f"{slowest['seconds']:.0f} s")
    if failed:
        detail += "; not proved: " + ", ".join(failed)
    return [name, mode, "prove", run["verdict"], detail, f"{wall:.0f}", f"{gib:.2f}", load]


def explore_row(name: str, variant: str, opts: list[str], mode: str,
                timeout: int) -> list:
    load = _load()
    with tempfile.TemporaryDirectory() as out_dir:
        rep, code, wall, gib = run_json(["explore", "--variant", variant, *opts, mode,
                                         "--symmetry", "--timeout", str(timeout),
                                         "--out", out_dir])
    if rep is None:
        return [name, mode, "explore --symmetry", f"exit {code}, no report", "",
                f"{wall:.0f}", f"{gib:.2f}", load]
    run = rep["runs"][0]
    bad = sorted(p for p, v in run["properties"].items()
                 if v["verdict"].startswith("violated"))
    if run["complete"]:
        verdict = "violated " + ", ".join(bad) if bad else "holds"
    else:
        verdict = f"stopped ({run.get('stopped') or 'bound'})" + (
            ", violated " + ", ".join(bad) if bad else ", nothing violated so far")
    detail = (f"{run['states']:,} states, depth {run['depth']}, "
              f"{run.get('queued') or 0:,} queued, {run['states_per_second']:,} states/s")
    return [name, mode, "explore --symmetry", verdict, detail, f"{wall:.0f}", f"{gib:.2f}",
            load]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", metavar="ROW",
                    help="only this row: " + ", ".join(r[0] for r in ROWS))
    ap.add_argument("--engine", choices=("prove", "explore", "both"), default="both")
    ap.add_argument("--mode", choices=("nvhe", "vhe"), action="append",
                    help="hyp mode (repeatable; default both)")
    ap.add_argument("--prove-timeout", type=int, default=1200,
                    help="seconds per prove command (default 1200)")
    ap.add_argument("--explore-timeout", type=int, default=120,
                    help="seconds per explore command (default 120; the issue's budget "
                         "is 600)")
    args = ap.parse_args()
    rows = [r for r in ROWS if not args.only or args.only == r[0]]
    if not rows:
        ap.error(f"no row matches {args.only!r}; rows: {', '.join(r[0] for r in ROWS)}")
    out = []
    for name, variant, opts, modes in rows:
        wanted = [f"--{m}" for m in args.mode] if args.mode else MODES
        for mode in [m for m in wanted if m in modes]:
            if args.engine in ("prove", "both"):
                out.append(prove_row(name, variant, opts, mode, args.prove_timeout))
                print(" | ".join(map(str, out[-1])), flush=True)
            if args.engine in ("explore", "both"):
                out.append(explore_row(name, variant, opts, mode, args.explore_timeout))
                print(" | ".join(map(str, out[-1])), flush=True)
    print()
    print("rows: " + "; ".join(f"{n} = {v} {' '.join(o)}" for n, v, o, _ in rows))
    print(tabulate(out, headers=("row", "mode", "engine", "verdict", "detail", "wall s",
                                 "peak RSS GiB", "load avg")))
    print(f"\ncores: {os.cpu_count()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
