"""The native engine's scale figures (issue 10): symmetry, hash compaction, workers.

Usage (from the repository root; needs gcc):

    python bench/bench_scale.py                     # every section below
    python bench/bench_scale.py --section symmetry  # one section (repeatable)
    python bench/bench_scale.py --only v4.17        # the rows of one variant
    python bench/bench_scale.py --section symmetry --group12
                                     # also v4.18 --cpus 3 --tasks 2 (a group of order 12),
                                     # on its first 5M states plain and 5M orbits: under
                                     # split preemption the whole space is far larger than
                                     # the 16.7M states it had merged

Sections, each run in this process one after the other, on v4.17 at the default
configuration (2 CPUs, 1 task; 173,626 states) and v4.18 ``--cpus 3`` (704,435 states),
nVHE, every property, POR off (the figures are per state of the full graph); the workers
section adds the first 4M states of v4.18 ``--cpus 3 --tasks 2``:

* ``symmetry``: the native engine with and without ``--symmetry``, 1 worker, the best of
  three runs each: states, CPU seconds of the search, distinct states per CPU-second,
  and the symmetric run's rate as a fraction of the plain one's (target: no slower per
  state);
* ``compaction``: exact mode and ``--hash-compaction``, 2 workers: states (equal, or the
  compaction run missed some); per state: the peak memory of the engine's tables and
  state arrays, of which the visited set (exact: 32-bit tag + state number; compaction:
  the 8-byte fingerprint, in slots at most 3/4 resp. 7/8 full), and the parent links
  written to a temporary file (compaction); the printed probability of a missed state;
* ``workers``: ``--workers 1`` and ``--workers 2``: wall and CPU seconds of the search,
  the speed-up (target 1.7x on 2 cores), the CPU seconds of 2 workers over 1 (the cost of
  the parallel search itself: locks, shared counters, barriers), whether states,
  transitions and verdicts are identical, and the load average (``uptime``) read just
  before each run: on a shared machine the speed-up only shows when two cores are free.
  As a yardstick, the same section first times a trivially parallel C loop (no shared
  data) on 1 and 2 threads: its speed-up is what the machine offers at that moment.

The search's own time is measured (the compiled library is cached and built before
timing).  Equivalent single commands: ``python -m checker explore --variant V [--cpus 3]
--nvhe --engine native --no-por [--symmetry] [--hash-compaction] --workers N``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tabulate import tabulate  # noqa: E402

from checker.instance import PROPERTY_NAMES, Instance  # noqa: E402
from checker.native.explore import explore_native, native_model  # noqa: E402
from model.config import Config  # noqa: E402
from model.variants import get_variant  # noqa: E402

ALL = list(PROPERTY_NAMES)
PLAN = [("v4.17", Config(vhe=False)), ("v4.18", Config(cpus=3, vhe=False))]
SECTIONS = ("symmetry", "compaction", "workers")


def _load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def _verdicts(res) -> str:
    bad = sorted(res.violations)
    return ("violated " + ", ".join(bad)) if bad else ("holds" if res.complete
                                                        else "incomplete")


def run(inst: Instance, *, workers: int = 1, symmetry: bool = False,
        compact: bool = False, max_states: int = 10**9) -> dict:
    native_model(inst)  # compile (or load from the cache) before timing
    load = _load()
    res, _ = explore_native(inst, ALL, max_states=max_states, workers=workers,
                            symmetry=symmetry, compact=compact)
    st = res.stats
    return {"states": st.states, "transitions": st.transitions, "wall": st.elapsed,
            "cpu": st.cpu_seconds, "rate": st.states / st.cpu_seconds if st.cpu_seconds
            else 0.0, "bps": st.bytes_per_state, "miss": st.miss_probability,
            "table_bps": st.table_bytes_per_state,
            "disk_bps": st.disk_bytes / st.states if st.states else 0.0,
            "verdict": _verdicts(res), "load": load, "complete": res.complete}


_SPIN_C = r"""
#include <pthread.h>
#include <stdlib.h>
static void *f(void *a) { volatile unsigned long x = 0;
  for (unsigned long i = 0; i < 600000000UL; i++) x += i; return a; }
int main(int argc, char **argv) { int n = atoi(argv[1]); pthread_t t[2];
  for (int k = 0; k < n; k++) pthread_create(&t[k], 0, f, 0);
  for (int k = 0; k < n; k++) pthread_join(t[k], 0); return 0; }
"""


def machine_speedup() -> tuple[float, str]:
    """The wall-clock speed-up of 2 threads over 1 on a loop with no shared data (each
    thread does the same work), and the load average before it."""
    from checker.native.build import compiler

    cc = compiler() or "gcc"
    load = _load()
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as d:
        src, exe = Path(d) / "spin.c", Path(d) / "spin"
        src.write_text(_SPIN_C)
        subprocess.run([cc, "-O1", "-pthread", "-o", str(exe), str(src)], check=True)
        walls = {}
        for n in (1, 2):
            t0 = time.perf_counter()
            subprocess.run([str(exe), str(n)], check=True)
            walls[n] = time.perf_counter() - t0
    # 2 threads do twice the work of 1: the speed-up is 2 * wall(1) / wall(2).
    return 2 * walls[1] / walls[2], load


def _emit(rows: list, row: tuple) -> None:
    rows.append(row)
    print(tabulate([row], tablefmt="plain"), file=sys.stderr, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--section", action="append", choices=SECTIONS,
                    help="run only this section (repeatable; default: all)")
    ap.add_argument("--only", metavar="VARIANT", help="only the rows of this variant")
    ap.add_argument("--group12", action="store_true",
                    help="symmetry section: add v4.18 --cpus 3 --tasks 2 (order 12)")
    args = ap.parse_args()
    sections = args.section or list(SECTIONS)
    plan = list(PLAN)
    if args.group12 or "workers" in sections:
        plan.append(("v4.18", Config(cpus=3, tasks=2, vhe=False)))
    machine = machine_speedup() if "workers" in sections else None
    sym_rows: list = []
    hc_rows: list = []
    w_rows: list = []
    for variant, cfg in plan:
        if args.only and variant != args.only:
            continue
        inst = Instance(cfg, get_variant(variant))
        name = f"{variant} {cfg.describe()}"
        if "symmetry" in sections and (cfg.tasks == 1 or args.group12):
            # The best of three runs each: these searches take 0.05-0.7 CPU-seconds.
            reps = 1 if cfg.tasks > 1 else 3
            cap = 5_000_000 if cfg.tasks > 1 else 10**9
            plain = min((run(inst, max_states=cap) for _ in range(reps)),
                        key=lambda r: r["cpu"])
            _emit(sym_rows, (name, "plain", f"{plain['states']:,}", f"{plain['cpu']:.2f}",
                             f"{plain['rate']:,.0f}", "", plain["verdict"], plain["load"]))
            sym = min((run(inst, symmetry=True, max_states=cap) for _ in range(reps)),
                      key=lambda r: r["cpu"])
            _emit(sym_rows, (name, "--symmetry", f"{sym['states']:,}", f"{sym['cpu']:.2f}",
                             f"{sym['rate']:,.0f}", f"{sym['rate'] / plain['rate']:.2f}x",
                             sym["verdict"], sym["load"]))
        if "compaction" in sections and cfg.tasks == 1:
            for compact in (False, True):
                r = run(inst, workers=2, compact=compact)
                miss = "" if r["miss"] is None else f"{r['miss']:.1e}"
                _emit(hc_rows, (name, "--hash-compaction" if compact else "exact",
                                f"{r['states']:,}", f"{r['bps']:.1f}",
                                f"{r['table_bps']:.1f}", f"{r['disk_bps']:.1f}", miss,
                                f"{r['rate']:,.0f}", r["verdict"], r["load"]))
        if "workers" in sections:
            # v4.18 --cpus 3 --tasks 2: its first 4M states (about 4 CPU-s), long enough
            # to average over the other processes' scheduling.
            cap = 4_000_000 if cfg.tasks > 1 else 10**9
            if cfg.tasks > 1:
                name += " (first 4M states)"
            w1 = run(inst, workers=1, max_states=cap)
            w2 = run(inst, workers=2, max_states=cap)
            same = (w1["states"], w1["transitions"], w1["verdict"]) == (
                w2["states"], w2["transitions"], w2["verdict"])
            if cap < 10**9:  # a bounded run stops after a level's first states: counts vary
                same = w1["verdict"] == w2["verdict"]
            _emit(w_rows, (name, f"{w1['states']:,}", f"{w1['wall']:.2f}", f"{w1['cpu']:.2f}",
                           w1["load"], f"{w2['wall']:.2f}", f"{w2['cpu']:.2f}", w2["load"],
                           f"{w1['wall'] / w2['wall']:.2f}x",
                           f"{w2['cpu'] / w1['cpu']:.2f}", "yes" if same else "NO"))
            if machine is not None:
                w_rows[-1] += (f"{machine[0]:.2f}x ({machine[1]})",)
    if sym_rows:
        print(tabulate(sym_rows, headers=("configuration (native, 1 worker)", "search",
                                          "states", "CPU s", "states/CPU-s",
                                          "rate vs plain", "verdicts", "load avg")))
        print()
    if hc_rows:
        print(tabulate(hc_rows, headers=("configuration (native, 2 workers)", "mode",
                                         "states", "peak B/state", "visited set B/state",
                                         "disk B/state", "P(missed state)", "states/CPU-s",
                                         "verdicts", "load avg")))
        print()
    if w_rows:
        print(tabulate(w_rows, headers=("configuration (native)", "states", "wall 1w",
                                        "CPU s 1w", "load avg", "wall 2w", "CPU s 2w",
                                        "load avg", "speed-up", "CPU 2w/1w",
                                        "same result",
                                        "machine: a parallel loop's speed-up (load)")))
        print()
    print(f"cores: {os.cpu_count()}; load average (1/5/15 min) at the end: {_load()}")


if __name__ == "__main__":
    main()
