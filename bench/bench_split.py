"""Benchmark of `prove`'s split of a hard consecution query by action (`_decide` in
checker/smt/induction.py): one obligation's consecution query, assumed every other
obligation as `prove` does, checked as one query and as one query per action of the step.

    python bench/bench_split.py OBLIGATION [--timeout S] -- PROVE-MODEL-OPTIONS...

e.g. (279 s whole, 37 s split, VHE, 2026-12-02):

    python bench/bench_split.py vl_change_in_progress -- --variant v6.16-ptrace-fixes \\
        --sme --sme-vls 128,256 --event signal --event sme_set_vl --cpus 1 --tasks 1 \\
        --vcpus 0 --vmm-threads 0 --preemption split --vhe

OBLIGATION is a property or a lemma of the configuration (one part: not `coherence` or
`value_sets`).  Prints the result and wall seconds of each way, and the slowest actions.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import z3  # noqa: E402

from checker.cli import build_parser  # noqa: E402
from checker.cli_common import instances_from_args  # noqa: E402
from checker.smt.encode import Encoding  # noqa: E402
from checker.smt.induction import QuerySolver  # noqa: E402
from checker.value_sets import value_sets  # noqa: E402
from model.dsl import any_of  # noqa: E402
from properties.lemmas import lemmas_for  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("obligation")
    ap.add_argument("--timeout", type=float, default=600.0,
                    help="seconds per query (default 600)")
    ap.add_argument("model", nargs=argparse.REMAINDER,
                    help="after --: the model options of `prove`")
    args = ap.parse_args()
    model = [a for a in args.model if a != "--"]
    insts = instances_from_args(build_parser().parse_args(["prove", *model]))
    if len(insts) != 1:
        ap.error("the model options name more than one configuration: give --vhe or --nvhe")
    inst = insts[0]
    enc = Encoding(inst, bits=True)
    lemmas = {lem.name: lem.build(inst.layout) for lem in lemmas_for(inst.layout,
                                                                      inst.variant)}
    if args.obligation not in lemmas and args.obligation not in inst.invariants:
        ap.error(f"{args.obligation} is neither a lemma nor a property of this configuration")
    # Inv(s) as prove assumes it: the domains, every property and lemma, the value sets,
    # coherence.
    pre, post = enc.frame("p0"), enc.frame("p1")
    inv = [enc.domain(pre)] + [enc.property(p, pre) for p in inst.invariants]
    inv += [enc.pred(e, pre) for e in lemmas.values()]
    inv += [enc.pred(any_of(inst.layout.vars[i].eq(x) for x in sorted(vs)), pre)
            for i, vs in value_sets(inst.layout, inst.actions).items()]
    inv += enc.coherence_parts(pre)
    step = enc.step(1, pre, post)
    solver = QuerySolver()
    solver.add(z3.And(inv), step.constraint)
    goal = (enc.pred(lemmas[args.obligation], post) if args.obligation in lemmas
            else enc.property(args.obligation, post))
    ms = int(args.timeout * 1000)
    print(f"{inst.variant.name}, {len(inst.actions)} actions, obligation "
          f"{args.obligation}", flush=True)
    t = time.perf_counter()
    r = solver.check(z3.Not(goal), ms)
    print(f"whole query: {r}, {time.perf_counter() - t:.1f} s", flush=True)
    t = time.perf_counter()
    results, times = [], []
    for aid, a in enumerate(inst.actions):
        t1 = time.perf_counter()
        results.append(str(solver.check(z3.And(z3.Not(goal), step.sel == aid), ms)))
        times.append((time.perf_counter() - t1, a.label))
    verdict = "sat" if "sat" in results else "unknown" if "unknown" in results else "unsat"
    slowest = ", ".join(f"{label} {s:.2f} s" for s, label in sorted(times, reverse=True)[:3])
    print(f"split by action: {verdict}, {time.perf_counter() - t:.1f} s "
          f"({len(results)} queries; slowest: {slowest})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
