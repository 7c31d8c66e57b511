"""Benchmark of the explicit explorer: states/s and time to each verdict.

Usage: python bench/bench_explore.py [--repeat N] [--variant V ...] [--cpus N] [--tasks N]
       [--symmetry]

Runs the default configuration (2 CPUs, 1 task, 1 VMM thread, 1 vcpu, nVHE) for each
variant on one core and prints distinct states, transitions, elapsed time, states/s and
the time at which each property got its verdict (violations: when found; holds: at the
end of the exploration).
"""

from __future__ import annotations

import argparse
import time

from tabulate import tabulate

from checker.explicit.compile import compiled
from checker.explicit.explore import explore_bfs
from checker.instance import PROPERTY_NAMES, Instance
from model.config import Config
from model.variants import get_variant


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--variant", action="append", default=[])
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--tasks", type=int, default=1)
    ap.add_argument("--symmetry", action="store_true",
                    help="symmetry reduction over the plain tasks and the CPUs")
    args = ap.parse_args()
    rows = []
    for name in args.variant or ["seed", "v4.17", "v4.18"]:
        t0 = time.perf_counter()
        inst = Instance(Config(cpus=args.cpus, tasks=args.tasks), get_variant(name))
        _ = compiled(inst)
        build = time.perf_counter() - t0
        best = None
        for _ in range(args.repeat):
            res, _ = explore_bfs(inst, list(PROPERTY_NAMES), symmetry=args.symmetry)
            if best is None or res.stats.elapsed < best.stats.elapsed:
                best = res
        st = best.stats
        verdicts = ", ".join(
            f"{p}: {'VIOLATED' if p in best.violations else 'holds'} "
            f"@{st.time_to_verdict.get(p, st.elapsed):.2f}s"
            for p in PROPERTY_NAMES
        )
        rows.append((name, f"{st.states:,}", f"{st.transitions:,}", st.depth,
                     f"{build:.2f}s", f"{st.elapsed:.2f}s", f"{st.rate:,.0f}", verdicts))
    print(tabulate(rows, headers=("variant", "states", "transitions", "depth", "build",
                                  "explore", "states/s", "time to verdict")))


if __name__ == "__main__":
    main()
