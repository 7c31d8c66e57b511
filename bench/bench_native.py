"""Benchmark of the native engine against the Python reference engine (issue 10 targets).

Usage (from the repository root):

    python bench/bench_native.py                 # the standard set below (~2-5 min)
    python bench/bench_native.py --big           # also v4.18 3 CPUs/2 tasks/2 vcpus/2 VMM
                                                 # threads, both hyp modes (the 10-min target)
    python bench/bench_native.py --no-python     # native rows only
    python bench/bench_native.py --only v4.17    # the rows of one variant
    python bench/bench_native.py --rate          # only the per-state speed target (below)
    python bench/bench_native.py --rate --repeat 5

Rows, each run in this process one after the other (reductions off, all properties):

* v4.17 at the default configuration (nVHE; 1,023,952 states): python, native on 1 and
  on 2 workers, native with hash compaction;
* v4.18 ``--cpus 3`` (nVHE; 4,845,548 states): python, native on 1 and 2 workers;
* v4.18 ``--sve --cpus 2`` (VHE, the only mode with SVE and vcpus): native, 1 and 2
  workers (the 60-second target);
* with ``--big``: v4.18 ``--cpus 3 --tasks 2 --vcpus 2 --vmm-threads 2``, nVHE and VHE,
  native on all cores (the 10-minute / 8 GiB target).

Columns: states, transitions, wall time of the search (compilation excluded: the compiled
library is cached, and built before timing), CPU seconds of the whole process (all
threads), distinct states per CPU-second, bytes per stored state (native: peak bytes of
its tables and state arrays / states; python: growth of the process's peak RSS / states),
the speed-up of 2 workers over 1 (wall), and the verdicts.  The equivalent single
commands are ``python -m checker explore --variant V [config] --nvhe --engine
native|python --workers N [--hash-compaction] --max-states 1000000000``.

The figures depend on the machine's load: on a shared machine, read CPU-seconds and
states per CPU-second rather than wall time, and expect the 2-worker speed-up to show
only when two cores are actually free.

``--rate``: the per-state speed target only (at least 1,000,000 distinct states per
CPU-second with reductions off): the native engine on 1 worker, no POR, on v4.17 at the
default configuration and v4.18 ``--cpus 3`` (nVHE), each run ``--repeat`` times (default
3); per run the load average just before it, states, CPU seconds of the search, states
per CPU-second and bytes per stored state, then the best run per configuration.  The
equivalent single command is ``python -m checker explore --variant V [--cpus 3] --nvhe
--quiet --workers 1 --no-por`` (its last line prints the same figures).  On a shared
machine other processes' cache and memory traffic slow a run down even in CPU time:
read the best run, with its load.  Each configuration runs in two builds of the compiled
model, alternated run by run: the plain one and the profile-guided one (`explore --pgo`:
gcc's -fprofile-use after a training search of the first 300,000 states); the build
times are printed first (0 when the library is already cached).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tabulate import tabulate  # noqa: E402

from checker.explicit.explore import explore_bfs  # noqa: E402
from checker.instance import PROPERTY_NAMES, Instance  # noqa: E402
from checker.native.explore import explore_native, native_model  # noqa: E402
from model.config import Config  # noqa: E402
from model.variants import get_variant  # noqa: E402

ALL = list(PROPERTY_NAMES)


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _verdicts(res) -> str:
    bad = [f"{p} ({len(t)})" for p, t in res.violations.items()]
    return ("VIOLATED " + ", ".join(bad)) if bad else ("holds" if res.complete
                                                        else "incomplete")


def run(inst: Instance, engine: str, workers: int = 1, compact: bool = False) -> dict:
    if engine == "python":
        rss0, c0, t0 = _rss(), _cpu(), time.perf_counter()
        res, _ = explore_bfs(inst, ALL, max_states=10**9)
        wall, cpu = time.perf_counter() - t0, _cpu() - c0
        grown = max(0, _rss() - rss0)
        bps = grown / res.stats.states if grown else float("nan")
    else:
        native_model(inst)  # compile (or load from the cache) before timing
        res, _ = explore_native(inst, ALL, max_states=10**9, workers=workers,
                                compact=compact)
        wall, cpu = res.stats.elapsed, res.stats.cpu_seconds
        bps = res.stats.bytes_per_state
    st = res.stats
    return {
        "engine": engine + (f" w{workers}" if engine == "native" else "")
        + (" hc" if compact else ""),
        "states": st.states, "transitions": st.transitions, "wall": wall, "cpu": cpu,
        "rate": st.states / cpu if cpu > 0 else 0.0, "bps": bps, "verdict": _verdicts(res),
        "miss": getattr(st, "miss_probability", None), "complete": res.complete,
    }


def rate(repeat: int, only: str | None) -> None:
    """The --rate section (see the module docstring)."""
    plan = [("v4.17", "default", Config(vhe=False)),
            ("v4.18", "--cpus 3", Config(cpus=3, vhe=False))]
    rows, best = [], []
    for variant, label, cfg in plan:
        if only and variant != only:
            continue
        inst = Instance(cfg, get_variant(variant))
        builds = ("plain", "pgo")
        for build in builds:  # compiled (or loaded) before timing
            t0 = time.perf_counter()
            native_model(inst, pgo=build == "pgo")
            print(f"{variant} {label}: {build} build {time.perf_counter() - t0:.1f} s"
                  " (0 if cached)", file=sys.stderr)
        runs: dict[str, list] = {b: [] for b in builds}
        for k in range(repeat):
            for build in builds:  # alternated, so both see the same load
                name = f"{variant} {label} nVHE, {build} build"
                load = "/".join(f"{x:.2f}" for x in os.getloadavg())
                res, _ = explore_native(inst, ALL, max_states=10**9, workers=1, por=False,
                                        pgo=build == "pgo")
                st = res.stats
                runs[build].append((st.cpu_rate, load, st))
                rows.append((name, k + 1, load, f"{st.states:,}",
                             f"{st.cpu_seconds:.2f}", f"{st.cpu_rate:,.0f}",
                             f"{st.bytes_per_state:.1f}"))
                print(tabulate(rows[-1:], tablefmt="plain"), flush=True, file=sys.stderr)
        for build in builds:
            r, load, st = max(runs[build], key=lambda x: x[0])
            best.append((f"{variant} {label} nVHE, {build} build", load, f"{st.states:,}",
                         f"{st.cpu_seconds:.2f}", f"{r:,.0f}", f"{st.bytes_per_state:.1f}",
                         "yes" if r >= 1_000_000 else "no"))
    print(tabulate(rows, headers=("configuration (native, 1 worker, no POR)", "run",
                                  "load 1/5/15 min", "states", "CPU s", "states/CPU-s",
                                  "B/state")))
    print()
    print(tabulate(best, headers=("best run", "load", "states", "CPU s", "states/CPU-s",
                                  "B/state", ">= 1M/CPU-s")))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--big", action="store_true", help="add the large v4.18 configuration")
    ap.add_argument("--no-python", action="store_true", help="skip the Python engine rows")
    ap.add_argument("--only", metavar="VARIANT", help="only the rows of this variant")
    ap.add_argument("--rate", action="store_true",
                    help="only the states-per-CPU-second target (1 worker, no POR)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per configuration (--rate)")
    args = ap.parse_args()
    if args.rate:
        rate(args.repeat, args.only)
        return
    py = not args.no_python
    plan: list[tuple[str, Config, list[tuple[str, int, bool]]]] = [
        ("v4.17", Config(vhe=False),
         ([("python", 1, False)] if py else [])
         + [("native", 1, False), ("native", 2, False), ("native", 2, True)]),
        ("v4.18", Config(cpus=3, vhe=False),
         ([("python", 1, False)] if py else []) + [("native", 1, False), ("native", 2, False)]),
        ("v4.18", Config(cpus=2, sve=True, vhe=True),
         [("native", 1, False), ("native", 2, False)]),
    ]
    if args.big:
        for vhe in (False, True):
            plan.append(("v4.18", Config(cpus=3, tasks=2, vcpus=2, vmm_threads=2, vhe=vhe),
                         [("native", 2, False)]))
    rows = []
    for variant, cfg, runs in plan:
        if args.only and variant != args.only:
            continue
        inst = Instance(cfg, get_variant(variant))
        walls: dict[int, float] = {}
        for engine, workers, compact in runs:
            r = run(inst, engine, workers, compact)
            if engine == "native" and not compact:
                walls[workers] = r["wall"]
            speed = ""
            if engine == "native" and workers == 2 and not compact and 1 in walls:
                speed = f"{walls[1] / r['wall']:.2f}x"
            rows.append((f"{variant} {cfg.describe()}", r["engine"], f"{r['states']:,}",
                         f"{r['transitions']:,}", f"{r['wall']:.2f}", f"{r['cpu']:.2f}",
                         f"{r['rate']:,.0f}", f"{r['bps']:.0f}", speed,
                         r["verdict"] + (f"; P(miss) {r['miss']:.1e}" if r["miss"] is not None
                                         else "")))
            print(tabulate(rows[-1:], tablefmt="plain"), flush=True, file=sys.stderr)
    print(tabulate(rows, headers=("configuration", "engine", "states", "transitions",
                                  "wall s", "CPU s", "states/CPU-s", "B/state",
                                  "2w speed-up", "verdicts")))


if __name__ == "__main__":
    main()
