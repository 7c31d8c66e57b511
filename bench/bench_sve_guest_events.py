"""Verdicts with SVE vcpus (`--sve --sve-guest`) and each optional event (default variants:
v6.10, v6.13, v6.14 and v6.16-ptrace-fixes; any variant that accepts --sve-guest):
`python bench/bench_sve_guest_events.py [--variant V] [--event E] [--vls 128,256]
[--timeout S]`.

Each run is `python -m checker explore` (native engine, both hyp modes, the preempt Kconfig
preset, merged preemption points) at the smallest setting the event needs (one CPU and the
VMM thread alone with one SVE vcpu unless the row says otherwise); prints per hyp mode
the states, the time and the violated properties with their shortest counterexample's
length and steps.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# event -> the sizes it needs beyond the base (cpus 1, tasks 0, vmm_threads 1, vcpus 1)
SIZES: dict[str, dict[str, int]] = {
    "set_one_reg": {},
    "vcpu_reset": {"vcpus": 2},  # one VMM thread runs both (PSCI CPU_ON from one to the other)
    "cpu_pm": {},
    "cpu_hotplug": {"cpus": 2},
    "efi": {},
    "signal": {},
    "exec": {},
    "fork": {"tasks": 1},
    "ptrace_fpr_set": {"tasks": 1},
    "sve_set_vl": {},
    "kvm_run_kernel_neon": {},
}


def run(variant: str, event: str, vls: str, timeout: int, extra: list[str]) -> None:
    size = {"cpus": 1, "tasks": 0, "vmm-threads": 1, "vcpus": 1, **SIZES[event]}
    cmd = [sys.executable, "-m", "checker", "explore", "--variant", variant, "--sve",
           "--sve-guest", "--event", event, "--quiet", "--json", "--timeout", str(timeout),
           "--kconfig", "preempt", "--preemption", "merged",
           "--out", "/tmp/bench_sve_guest_events"]
    cmd += [a for k, v in size.items() for a in (f"--{k}", str(v))]
    if event == "sve_set_vl" and not vls:
        vls = "128,256"
    if vls:
        cmd += ["--sve-vls", vls]
    cmd += extra
    t = time.time()
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.time() - t
    try:
        runs = json.loads(out.stdout)["runs"]
    except (json.JSONDecodeError, KeyError):
        print(f"{variant} {event}: no verdict ({out.stdout[-300:]} {out.stderr[-300:]})",
              flush=True)
        return
    sizes = " ".join(f"{k}={v}" for k, v in size.items())
    print(f"$ {' '.join(cmd[1:])}   ({wall:.1f}s wall)", flush=True)
    for r in runs:
        hyp = "VHE" if r["config"]["vhe"] else "nVHE"
        bad = {p: v for p, v in r["properties"].items()
               if v["verdict"].lower() == "violated"}
        print(f"{variant:18} {event:14} {hyp:4} vls={vls or '-':8} {sizes}: states"
              f" {r.get('states', 0):>10,} {r.get('seconds', 0):7.2f}s"
              f" complete={r['complete']} stopped={r.get('stopped')}"
              f" violated={sorted(bad) or '-'}", flush=True)
        for p, v in sorted(bad.items()):
            steps = json.loads(Path(v["counterexample"]).read_text())["steps"]
            print(f"    {p} ({v['length']} steps): " + " / ".join(s["action"] for s in steps)
                  + f"  [{v['counterexample']}]", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", action="append")
    ap.add_argument("--event", action="append")
    ap.add_argument("--vls", action="append", help="--sve-vls value ('' for one VL)")
    ap.add_argument("--timeout", type=int, default=300)
    ap.add_argument("extra", nargs="*", help="more explore options (after --)")
    args = ap.parse_args()
    for event in args.event or list(SIZES):
        for vls in args.vls if args.vls is not None else ["", "128,256"]:
            for variant in args.variant or ["v6.10", "v6.13", "v6.14", "v6.16-ptrace-fixes"]:
                run(variant, event, vls, args.timeout, args.extra)


if __name__ == "__main__":
    main()
