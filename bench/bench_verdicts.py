"""Every built-in variant's verdicts under each Kconfig preset, and with each option and
optional event: `python bench/bench_verdicts.py [--preset P ...] [--variant V ...]
[--case NAME ...] [--timeout S] [--preemption merged|split|both]`.

Each run is `python -m checker explore --json` (the engine it picks: native where it can),
both hyp modes unless the case needs one; prints one row per (case, variant, preset):
the violated properties with their shortest lengths ("V n"), the states per hyp mode and
the wall time, or why the run gave no verdict (exit 3: a bound).  Used to restate the
verdicts in README and the closing notes; not a test (a full run takes tens of minutes).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model.config import KCONFIG_PRESETS  # noqa: E402
from model.events import EVENTS  # noqa: E402

VARIANTS = ["v4.17", "seed", "v4.18-rc1", "v4.18", "v4.18-fpexc32-fix", "v4.18-vcpu-reset-fix",
            "v4.18-fork-fix", "v6.1", "v6.8", "v6.9", "v6.10", "v6.12", "v6.13", "v6.14", "v6.16",
            "v6.16-ptrace-fixes"]
# Today's kernels model the optional events too (model/variants/v6_events.py, docs/scope.md
# section 11) but no AArch32 guest; the events of today's kernels only are refused on the
# 2018 variants (a usage error row).  By default the v6 variants run these cases (the
# events multiply their states); `--case` chooses any.
V6_CASES = ("default", "sve-1cpu")
V6_ONLY_EVENTS = ("event-kthread_kernel_neon", "event-vcpu_init", "event-guest_hidden_sve")

# case name -> extra explore arguments (default sizes: 2 CPUs, 1 task, 1 VMM thread, 1 vcpu)
CASES: dict[str, list[str]] = {
    "default": [],
    "sve-1cpu": ["--sve", "--vhe", "--cpus", "1"],
    "aarch32-guest": ["--aarch32-guest"],
    **{f"event-{e}": ["--event", e] for e in EVENTS if e not in ("vcpu_reset", "sve_set_vl")},
    # per-task vector lengths need SVE and two of them; host tasks only (vcpus have no
    # SVE in the 2018 model, and with them the space does not finish in minutes)
    "event-sve_set_vl": ["--event", "sve_set_vl", "--sve", "--vhe", "--cpus", "1",
                         "--sve-vls", "128,256", "--vcpus", "0", "--vmm-threads", "0"],
    "event-vcpu_reset": ["--event", "vcpu_reset", "--vcpus", "2", "--vmm-threads", "2",
                         "--tasks", "0", "--nvhe", "--hash-compaction"],
}


def run(variant: str, preset: str, extra: list[str], timeout: float) -> str:
    cmd = [sys.executable, "-m", "checker", "explore", "--variant", variant, "--kconfig",
           preset, "--json", "--quiet", "--timeout", str(int(timeout)), "--out",
           "/tmp/fpcheck-bench-verdicts", *extra]
    t = time.time()
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.time() - t
    if p.returncode == 2:
        return f"usage error: {p.stderr.strip().splitlines()[-1] if p.stderr else '?'}"
    try:
        data = json.loads(p.stdout)
    except json.JSONDecodeError:
        return f"exit {p.returncode}, no JSON ({p.stderr.strip()[-200:]})"
    bad: dict[str, int] = {}
    states = []
    for r in data["runs"]:
        # (a run stopped by --timeout before this hyp mode began has no states)
        states.append(f"{r['states']:,}" if "states" in r else "not explored")
        for prop, v in r["properties"].items():
            if v["verdict"] == "VIOLATED":
                bad[prop] = min(bad.get(prop, 10**9), v.get("length") or 10**9)
    verdict = ", ".join(f"{k} V{n}" for k, n in bad.items()) or "holds"
    stopped = [r.get("stopped") for r in data["runs"] if r.get("stopped")]
    if stopped:  # a bound was hit: what was found stands, "holds" would not
        verdict = f"INCOMPLETE (stopped: {', '.join(stopped)}), found so far: {verdict}"
    return f"{verdict}  [states {' / '.join(states)}; {wall:.1f}s]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", action="append", choices=sorted(KCONFIG_PRESETS))
    ap.add_argument("--variant", action="append", choices=VARIANTS)
    ap.add_argument("--case", action="append", choices=sorted(CASES))
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--preemption", choices=("merged", "split", "both"), default="split",
                    help="explore's --preemption (both: each row twice, to compare)")
    args = ap.parse_args()
    modes = ["merged", "split"] if args.preemption == "both" else [args.preemption]
    presets = args.preset or list(KCONFIG_PRESETS)
    for case in args.case or list(CASES):
        for variant in args.variant or VARIANTS:
            v6 = variant.startswith("v6")
            if args.case is None and (v6 and case not in V6_CASES
                                      or not v6 and case in V6_ONLY_EVENTS):
                continue
            if v6 and case == "aarch32-guest":
                continue
            for preset in presets:
                for mode in modes:
                    extra = [*CASES[case], "--preemption", mode]
                    print(f"{case:28s} {variant:22s} {preset:15s} {mode:7s} "
                          f"{run(variant, preset, extra, args.timeout)}", flush=True)


if __name__ == "__main__":
    main()
