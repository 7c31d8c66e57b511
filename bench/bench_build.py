"""Build time of model instances, and proof that the generated model is unchanged.

Usage (from the repository root):

    python bench/bench_build.py              # build times + state/transition counts
    python bench/bench_build.py --build-only # build times only (no search)
    python bench/bench_build.py --big        # also v6.10 --event signal --sme (nVHE)

Building an instance (`checker.instance.Instance(cfg, variant)`: `model.steps.split_plan`,
then `model.steps.build_actions`, with the IRQ-window inlining of `model.ctx.Ctx`) runs
every modelled kernel function once per step instance, and once more per resume step of
a split step; the IRQ inlined at each IRQ point is recorded once and replayed
(`Ctx._inline_irq`).  Per configuration this prints the CPU seconds of the build, the
number of actions, a structural fingerprint of the built layout and actions (every
statement, expression, input, local and name), and, unless ``--build-only``, the state
and transition counts of an exhaustive native search (1 worker, no POR, all
properties), its CPU seconds and states per CPU-second.

``EXPECTED`` holds the counts measured with the code before the build-speed work (commit
e866510, `python bench/bench_build.py` there): a row whose counts differ is marked
``CHANGED`` and the script exits 1.  With ``--replay-off`` the inlined IRQs are built
each time (`model.ctx.REPLAY_IRQS = False`): the fingerprints must be the same as with
replay.
"""

from __future__ import annotations

import argparse
import resource
import shlex
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from checker.cli_common import (  # noqa: E402
    ArgParser,
    add_model_options,
    instances_from_args,
)
from checker.instance import PROPERTY_NAMES, Instance, build_fingerprint  # noqa: E402

# The configurations (`explore` options); each builds one instance (one hyp mode).
CONFIGS = [
    "--variant v4.17 --nvhe",
    "--variant v4.18 --nvhe",
    "--variant v4.18 --sve --cpus 1 --vhe",
    "--variant v6.1 --nvhe --event signal --cpus 1",
    "--variant v6.10 --sme --nvhe --cpus 1 --tasks 1 --vcpus 0 --vmm-threads 0"
    " --kconfig preempt",
    "--variant v6.10 --sme --sme-vls 128,256 --event sme_set_vl --event ptrace_fpr_set"
    " --cpus 1 --tasks 1 --vcpus 0 --vmm-threads 0 --kconfig preempt --nvhe",
    "--variant v6.16 --sve --sve-guest --vhe --cpus 1 --tasks 0",
    "--variant v6.16 --sve --sve-vls 128,256 --event sve_set_vl --event signal --cpus 1"
    " --vcpus 0 --vmm-threads 0 --nvhe",
]
BIG = ["--variant v6.10 --event signal --sme --nvhe",
       # the SME configuration whose native rate was 20x below v4.18's (issue 10)
       "--variant v6.10 --sme --sme-vls 128,256 --event sme_set_vl --event ptrace_fpr_set"
       " --cpus 1 --tasks 2 --vcpus 0 --vmm-threads 0 --kconfig preempt --nvhe"]

# (states, transitions) before the build-speed work (see the module docstring).  The last
# row grew when a VL change inside a signal handler was modelled (helper sigvl: the
# handler's prctl and rt_sigreturn's record VL tests; 40,049 / 299,046 before).
EXPECTED: dict[str, tuple[int, int]] = dict(zip(CONFIGS, [
    (1_023_952, 7_190_262),
    (193_784, 1_403_924),
    (4_774_064, 23_645_831),
    (65_067, 424_400),
    (7_397, 52_434),
    (35_026, 284_980),
    (12_488, 49_520),
    (103_845, 699_162),
], strict=True))


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def build(options: str) -> tuple[Instance, float]:
    p = ArgParser()
    add_model_options(p)
    t0 = _cpu()
    (inst,) = instances_from_args(p.parse_args(shlex.split(options)))
    return inst, _cpu() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-only", action="store_true", help="no search")
    ap.add_argument("--big", action="store_true", help="also: " + "; ".join(BIG))
    ap.add_argument("--replay-off", action="store_true",
                    help="build every inlined IRQ (model.ctx.REPLAY_IRQS = False)")
    args = ap.parse_args()
    if args.replay_off:
        import model.ctx

        model.ctx.REPLAY_IRQS = False
    changed = 0
    for options in CONFIGS + (BIG if args.big else []):
        inst, secs = build(options)
        row = (f"{secs:7.2f} CPU-s build  {len(inst.actions):4d} actions  "
               f"{build_fingerprint(inst)[:16]}")
        if not args.build_only:
            from checker.native.explore import explore_native, native_model

            native_model(inst)  # compiled (or loaded from the cache) before timing
            res, _ = explore_native(inst, list(PROPERTY_NAMES), max_states=10**9,
                                    workers=1, por=False)
            st = res.stats
            counts = (st.states, st.transitions)
            mark = ""
            if options in EXPECTED and EXPECTED[options] != counts:
                mark = f"  CHANGED (before: {EXPECTED[options][0]:,} states, " \
                       f"{EXPECTED[options][1]:,} transitions)"
                changed += 1
            row += (f"  {st.states:>11,} states {st.transitions:>12,} transitions "
                    f"{st.cpu_seconds:7.2f} CPU-s search {st.cpu_rate:>11,.0f} states/CPU-s"
                    f"{mark}")
        print(f"{row}  {options}", flush=True)
    return 1 if changed else 0


if __name__ == "__main__":
    t0 = time.perf_counter()
    rc = main()
    print(f"total {time.perf_counter() - t0:.1f} s wall", file=sys.stderr)
    sys.exit(rc)
