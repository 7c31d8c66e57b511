"""Benchmark of the z3 engine at the default configuration (2 CPUs, 1 task, 1 VMM thread,
1 vcpu), both hyp modes: the time of `prove` per property/lemma (bit-exact, 1-induction)
and of `bmc --depth 10` (tokens; and optionally with --bits).

    python bench/bench_smt.py [--variant v4.17] [--depth 10] [--bits] [--kconfig preempt]
                              [--jobs N]

Prints tables; the numbers are wall-clock seconds on this machine.  With ``--jobs N``,
each `prove` also runs with N processes (`prove --jobs`), and a line prints both wall
times, the CPU seconds of the parent and of the workers, the speed-up and whether the
tables agree; the load average is printed with it (the speed-up needs free cores).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import z3  # noqa: E402
from tabulate import tabulate  # noqa: E402

from checker.instance import PROPERTY_NAMES, Instance  # noqa: E402
from checker.smt.bmc import bmc  # noqa: E402
from checker.smt.induction import prove  # noqa: E402
from model.config import DEFAULT_KCONFIG, Config  # noqa: E402
from model.variants import get_variant  # noqa: E402


def _cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def _jobs_line(inst: Instance, props: list[str], jobs: int, one_wall: float,
               one) -> None:  # noqa: ANN001
    """`prove` again with ``jobs`` processes: wall, CPU (parent / reaped workers), agreement."""
    load = os.getloadavg()[0]
    c_self, c_kids = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    res = prove(inst, props, jobs=jobs)
    wall = time.perf_counter() - t0
    same = [(o.name, o.initiation, o.consecution) for o in res.obligations] == \
        [(o.name, o.initiation, o.consecution) for o in one.obligations]
    print(f"   --jobs {jobs}: {res.verdict} in {wall:.2f}s against {one_wall:.2f}s "
          f"({one_wall / wall:.2f}x); CPU {_cpu(resource.RUSAGE_SELF) - c_self:.1f}s parent + "
          f"{_cpu(resource.RUSAGE_CHILDREN) - c_kids:.1f}s workers; same table: {same}; "
          f"load average {load:.1f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variant", action="append", default=[],
                    help="variant(s) to time (default: v4.17 and v4.18 at the default "
                         "kernel configuration)")
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--bits", action="store_true", help="also time bmc with bit vectors")
    ap.add_argument("--jobs", type=int, default=1,
                    help="also time prove with this many processes (default: only one)")
    ap.add_argument("--kconfig", default=DEFAULT_KCONFIG,
                    help=f"kernel configuration preset (default {DEFAULT_KCONFIG})")
    args = ap.parse_args()
    runs = ([(v, args.kconfig) for v in args.variant] if args.variant
            else [("v4.17", args.kconfig), ("v4.18", args.kconfig)])
    print(f"z3 {z3.get_version_string()}, Python {platform.python_version()}, "
          f"{platform.machine()}")
    props = list(PROPERTY_NAMES)
    for variant, kconfig in runs:
        for vhe in (False, True):
            cfg = Config.with_kconfig(kconfig, vhe=vhe)
            inst = Instance(cfg, get_variant(variant))
            head = f"{variant}: {cfg.describe()}"
            t0 = time.perf_counter()
            res = prove(inst, props)
            total = time.perf_counter() - t0
            rows = [(o.name, o.kind, o.initiation, o.consecution, f"{o.seconds:.3f}")
                    for o in res.obligations]
            print(f"\n== prove, {head}: {res.verdict} in {total:.2f}s "
                  f"(encoding and solving; per-row times are solver queries)")
            print(tabulate(rows, headers=("property or lemma", "kind", "initiation",
                                          "consecution", "seconds")))
            if args.jobs > 1:
                _jobs_line(inst, props, args.jobs, total, res)
            for bits in ((False, True) if args.bits else (False,)):
                t0 = time.perf_counter()
                b = bmc(inst, props, args.depth, bits=bits)
                total = time.perf_counter() - t0
                verdicts = ", ".join(f"{p} {r.verdict}"
                                     + (f" at {r.depth}" if r.trace else "")
                                     for p, r in b.props.items())
                print(f"\n== bmc --depth {args.depth}{' --bits' if bits else ''}, {head}: "
                      f"{total:.2f}s ({verdicts})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
