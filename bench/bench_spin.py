"""SPIN on the Promela export against fpcheck's native engine on the same model, and the
native engine's ``--workers 1`` vs ``--workers 2`` speed-up (issue 10).

Usage (from the repository root; needs spin and gcc):

    python bench/bench_spin.py                # v4.17 default and v4.18 --cpus 3 (nVHE)
    python bench/bench_spin.py --only v4.17   # one configuration
    python bench/bench_spin.py --no-workers   # skip the 1-vs-2-workers rows

For each configuration, in this one process, one after the other, reductions off and all
properties:

1. ``python -m checker export --promela`` (`checker.export.promela.to_promela`), then
   ``spin -o2 -a``, ``gcc -O2 -DNOREDUCE -DSAFETY -o pan pan.c`` (compile time printed
   apart) and ``./pan -m<depth> -w<hash>``: pan's "states, stored" (checked equal to
   fpcheck's count) and the CPU time of the pan process (user + system, from the
   operating system, so the DFS's start-up and memory allocation count, as they do for
   fpcheck);
2. fpcheck's native engine on one worker (``explore --engine native --workers 1``;
   compilation excluded: the library is cached and built before timing): states and the
   CPU seconds of the search (all threads);
3. the ratio of states per CPU-second (target: fpcheck at least 3x SPIN);
4. the native engine's wall time on 1 and on 2 workers on the same state space, the
   speed-up (target 1.7x on 2 cores), with the load average read just before: the
   speed-up only shows when two cores are actually free;
5. the native engine with and without ``--symmetry`` (v4.17 ``--cpus 2 --tasks 2``,
   v4.18 ``--cpus 3``): states, CPU seconds and states per CPU-second (target: no
   slower per state than the plain search).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tabulate import tabulate  # noqa: E402

from checker.export.promela import to_promela  # noqa: E402
from checker.instance import PROPERTY_NAMES, Instance  # noqa: E402
from checker.native.explore import explore_native, native_model  # noqa: E402
from model.config import Config  # noqa: E402
from model.variants import get_variant  # noqa: E402

ALL = list(PROPERTY_NAMES)
PLAN = [("v4.17", Config(vhe=False)), ("v4.18", Config(cpus=3, vhe=False))]
# Symmetry (native engine, plain vs --symmetry): groups of order 4 (2 CPUs x 2 tasks) and 6.
SYM_PLAN = [("v4.17", Config(cpus=2, tasks=2, vhe=False)), ("v4.18", Config(cpus=3, vhe=False))]


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def spin(inst: Instance, work: Path, expected_states: int) -> dict:
    """Export, compile and run pan; pan's states, CPU seconds and verdict."""
    (work / "m.pml").write_text(to_promela(inst, ALL).text)
    t0 = time.perf_counter()
    subprocess.run(["spin", "-o2", "-a", "m.pml"], cwd=work, check=True,
                   capture_output=True)
    subprocess.run(["gcc", "-O2", "-w", "-DNOREDUCE", "-DSAFETY", "-o", "pan", "pan.c"],
                   cwd=work, check=True)
    compile_s = time.perf_counter() - t0
    # DFS depth bound: the explorer's state count bounds it (each stored state is on the
    # stack at most once); the hash table: the next power of two above twice the states.
    depth = max(10_000, 2 * expected_states)
    hbits = max(18, (2 * expected_states).bit_length())
    load = _load()
    c0, t0 = _children_cpu(), time.perf_counter()
    out = subprocess.run(["./pan", f"-m{depth}", f"-w{hbits}"], cwd=work, check=True,
                         capture_output=True, text=True).stdout
    wall, cpu = time.perf_counter() - t0, _children_cpu() - c0
    if "max search depth too small" in out:
        raise SystemExit(f"pan: search depth {depth} too small")
    states = int(re.search(r"(\d+) states, stored", out).group(1))
    trans = int(re.search(r"(\d+) transitions", out).group(1))
    errors = int(re.search(r"errors: (\d+)", out).group(1))
    mem = re.search(r"([\d.]+)\s+total actual memory usage", out)
    return {"states": states, "transitions": trans, "cpu": cpu, "wall": wall,
            "compile": compile_s, "errors": errors, "load": load,
            "mem_mb": float(mem.group(1)) if mem else float("nan")}


def fpcheck(inst: Instance, workers: int, symmetry: bool = False) -> dict:
    native_model(inst)  # compile (or load from the cache) before timing
    load = _load()
    res, _ = explore_native(inst, ALL, max_states=10**9, workers=workers, symmetry=symmetry)
    st = res.stats
    return {"states": st.states, "transitions": st.transitions, "cpu": st.cpu_seconds,
            "wall": st.elapsed, "violated": sorted(res.violations), "load": load,
            "bps": st.bytes_per_state}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", metavar="VARIANT", help="only this variant's configuration")
    ap.add_argument("--no-workers", action="store_true", help="skip the 1-vs-2-workers rows")
    ap.add_argument("--no-symmetry", action="store_true", help="skip the symmetry rows")
    args = ap.parse_args()
    missing = [t for t in ("spin", "gcc") if shutil.which(t) is None]
    if missing:
        raise SystemExit(f"needs {' and '.join(missing)} (Debian: apt-get install spin gcc)")
    spin_rows, worker_rows, sym_rows = [], [], []
    for variant, cfg in PLAN:
        if args.only and variant != args.only:
            continue
        inst = Instance(cfg, get_variant(variant))
        name = f"{variant} {cfg.describe()}"
        fp = fpcheck(inst, 1)
        with tempfile.TemporaryDirectory(prefix="bench-spin-") as d:
            sp = spin(inst, Path(d), fp["states"])
        if sp["states"] != fp["states"]:
            print(f"WARNING {name}: SPIN stored {sp['states']:,} states, fpcheck "
                  f"{fp['states']:,}", file=sys.stderr)
        if (sp["errors"] > 0) != bool(fp["violated"]):
            print(f"WARNING {name}: verdicts differ (SPIN errors {sp['errors']}, fpcheck "
                  f"violated {fp['violated']})", file=sys.stderr)
        sp_rate = sp["states"] / sp["cpu"] if sp["cpu"] > 0 else float("nan")
        fp_rate = fp["states"] / fp["cpu"] if fp["cpu"] > 0 else float("nan")
        spin_rows.append((name, "SPIN (pan -DNOREDUCE -DSAFETY, -O2)", f"{sp['states']:,}",
                          f"{sp['transitions']:,}", f"{sp['cpu']:.2f}", f"{sp_rate:,.0f}",
                          f"compile {sp['compile']:.1f}s, {sp['mem_mb']:.0f} MB, "
                          f"errors {sp['errors']}", sp["load"], ""))
        spin_rows.append((name, "fpcheck native, 1 worker", f"{fp['states']:,}",
                          f"{fp['transitions']:,}", f"{fp['cpu']:.2f}", f"{fp_rate:,.0f}",
                          f"{fp['bps']:.0f} B/state, violated {fp['violated'] or 'none'}",
                          fp["load"], f"{fp_rate / sp_rate:.1f}x SPIN"))
        print(tabulate(spin_rows[-2:], tablefmt="plain"), file=sys.stderr, flush=True)
        if not args.no_workers:
            w1 = fpcheck(inst, 1)
            w2 = fpcheck(inst, 2)
            worker_rows.append((name, f"{w1['states']:,}", f"{w1['wall']:.2f}", w1["load"],
                                f"{w2['wall']:.2f}", w2["load"],
                                f"{w1['wall'] / w2['wall']:.2f}x"))
            print(tabulate(worker_rows[-1:], tablefmt="plain"), file=sys.stderr, flush=True)
    if not args.no_symmetry:
        for variant, cfg in SYM_PLAN:
            if args.only and variant != args.only:
                continue
            inst = Instance(cfg, get_variant(variant))
            for sym in (False, True):
                r = fpcheck(inst, 1, symmetry=sym)
                sym_rows.append((f"{variant} {cfg.describe()}",
                                 "--symmetry" if sym else "plain", f"{r['states']:,}",
                                 f"{r['cpu']:.2f}", f"{r['states'] / r['cpu']:,.0f}",
                                 r["load"]))
                print(tabulate(sym_rows[-1:], tablefmt="plain"), file=sys.stderr, flush=True)
    print(tabulate(spin_rows, headers=("configuration", "checker", "states", "transitions",
                                       "CPU s", "states/CPU-s", "notes", "load avg",
                                       "per state")))
    if worker_rows:
        print()
        print(tabulate(worker_rows, headers=("configuration", "states", "wall 1 worker",
                                             "load avg", "wall 2 workers", "load avg",
                                             "speed-up")))
    if sym_rows:
        print()
        print(tabulate(sym_rows, headers=("configuration (native, 1 worker)", "search",
                                          "states", "CPU s", "states/CPU-s", "load avg")))
    print(f"\ncores: {os.cpu_count()}; load average (1/5/15 min) at the end: {_load()}")


if __name__ == "__main__":
    main()
