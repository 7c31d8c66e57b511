"""Verdicts of every variant with each optional host-ABI event (exec, signal,
ptrace_fpr_set, fork; sve_set_vl with SVE only, at vector lengths 128 and 256), without
and with SVE: `python bench/bench_events.py [--cpus N]`.

Each run is `explore` at tasks=1 vmm_threads=1 vcpus=1, no-lockdep (the lockdep-only
finding of the seed and rc1 is the same with or without events), VHE with SVE and nVHE
without; prints states, time and the violated properties with their first line.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from checker.explicit.explore import explore_bfs  # noqa: E402
from checker.instance import PROPERTY_NAMES, Instance  # noqa: E402
from model.config import Config  # noqa: E402
from model.variants import get_variant  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cpus", type=int, default=1)
    ap.add_argument("--max-states", type=int, default=3_000_000)
    ap.add_argument("--event", action="append")
    ap.add_argument("--variant", action="append")
    ap.add_argument("--sve", choices=("no", "yes", "both"), default="both")
    args = ap.parse_args()
    events = args.event or ["exec", "signal", "ptrace_fpr_set", "fork", "sve_set_vl"]
    variants = args.variant or ["v4.17", "seed", "v4.18-rc1", "v4.18"]
    sves = {"no": [False], "yes": [True], "both": [False, True]}[args.sve]
    for ev in events:
        for sve in sves:
            if ev == "sve_set_vl" and not sve:
                continue  # needs SVE with several vector lengths
            vls = (128, 256) if ev == "sve_set_vl" else ()
            for name in variants:
                cfg = Config(cpus=args.cpus, sve=sve, vhe=sve, lockdep=False, events=(ev,),
                             sve_vls=vls)
                inst = Instance(cfg, get_variant(name))
                t = time.time()
                res, _ = explore_bfs(inst, list(PROPERTY_NAMES), max_states=args.max_states)
                bad = sorted(res.violations)
                print(f"{ev:15} sve={int(sve)} {name:10} states {res.stats.states:>9,} "
                      f"{time.time() - t:6.1f}s complete={res.complete} violated={bad}",
                      flush=True)
                for prop, tr in sorted(res.violations.items()):
                    print(f"    {prop} ({len(tr.steps)} steps): {str(tr.violation)[:200]}",
                          flush=True)
                    print("      " + " / ".join(s.label for s in tr.steps), flush=True)


if __name__ == "__main__":
    main()
