"""Issue 10's targets, each measured in this one run and printed with its figure.

Usage (from the repository root; needs gcc, and spin for the SPIN row; ~5 minutes on a
quiet 2-core machine, ~25 more with --long):

    python bench/bench_targets.py           # every target
    python bench/bench_targets.py --long    # also the explorer on the large
                                            # configurations (--timeout 600 per hyp mode)

One row per target: what the issue asks, the figure measured now, whether it is reached,
and the command that measures the same thing alone.  The other bench scripts measure
each figure in more detail (bench_big, bench_scale, bench_spin, bench_por,
bench_por_bound, bench_native); this one puts the targets side by side, on the model as
it is, at one load (printed, with the cores the machine has).  Rates are per CPU-second
of the search (compilation excluded, the library cached first), one worker, POR off,
nVHE, every property, default preemption (split).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench_big  # noqa: E402
import bench_por  # noqa: E402
import bench_scale  # noqa: E402
import bench_spin  # noqa: E402
from tabulate import tabulate  # noqa: E402

from checker.instance import Instance  # noqa: E402
from model.config import Config  # noqa: E402
from model.variants import get_variant  # noqa: E402

BIG = ["--cpus", "3", "--tasks", "2", "--vcpus", "2", "--vmm-threads", "2"]
SVE = ["--sve", "--cpus", "2"]
ROWS: list[list[str]] = []


def row(target: str, figure: str, reached: bool | None, command: str) -> None:
    ROWS.append([target, figure, "n/a" if reached is None else "yes" if reached else "NO",
                 command])
    print(" | ".join(ROWS[-1]), file=sys.stderr, flush=True)


def _inst(variant: str, **cfg: object) -> Instance:
    return Instance(Config(vhe=False, **cfg), get_variant(variant))  # type: ignore[arg-type]


def prove_target(name: str, opts: list[str], modes: list[str], limit: float,
                 gib_limit: float | None) -> None:
    """One prove command over ``modes`` (all of them in one process, as a user runs it)."""
    with tempfile.TemporaryDirectory() as cti:
        rep, code, wall, gib = bench_big.run_json(["prove", "--variant", "v4.18", *opts,
                                                   *modes, "--out", cti])
    verdicts = [r["verdict"] for r in rep["runs"]] if rep else [f"exit {code}"]
    ok = code == 0 and wall < limit and (gib_limit is None or gib < gib_limit)
    row(name, f"prove: {', '.join(verdicts)} in {wall:.0f} s wall, {gib:.2f} GiB", ok,
        f"python -m checker prove --variant v4.18 {' '.join(opts + modes)}")


def explore_target(name: str, opts: list[str], mode: str, timeout: int) -> None:
    r = bench_big.explore_row(name, "v4.18", opts, mode, timeout)
    done = r[3] in ("holds",) or r[3].startswith("violated")
    row(f"{name} ({mode})", f"explore --symmetry: {r[3]}; {r[4]}; {r[5]} s, {r[6]} GiB",
        done and float(r[5]) < timeout, f"python -m checker explore --variant v4.18 "
        f"{' '.join(opts)} {mode} --symmetry --timeout {timeout}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--long", action="store_true",
                    help="also explore the large configurations (600 s per hyp mode)")
    args = ap.parse_args()
    print(f"load average at start: {bench_scale._load()}; cores: {os.cpu_count()}",
          file=sys.stderr)

    # 1. The large configuration, both hyp modes, under 10 minutes and 8 GiB.
    big = "v4.18 big (3 CPUs, 2 tasks, 2 vcpus, 2 VMM threads), both hyp modes: < 600 s, < 8 GiB"
    prove_target(big, BIG, [], 600, 8)
    if args.long:
        for mode in ("--nvhe", "--vhe"):
            explore_target("v4.18 big", BIG, mode, 600)
    # 2. v4.18 --sve --cpus 2 under 60 s (SVE with KVM needs VHE: one hyp mode).
    prove_target("v4.18 --sve --cpus 2 (VHE): < 60 s", SVE, ["--vhe"], 60, None)
    if args.long:
        explore_target("v4.18 --sve --cpus 2", SVE, "--vhe", 600)

    # 3. States per CPU-second, bytes per state (exact mode).
    for variant, cfg in (("v4.17", {}), ("v4.18", {"cpus": 3})):
        inst = _inst(variant, **cfg)
        best = min((bench_scale.run(inst) for _ in range(3)), key=lambda r: r["cpu"])
        flag = " --cpus 3" if cfg else ""
        row(f"{variant}{flag}: >= 1,000,000 states/CPU-s, reductions off",
            f"{best['rate']:,.0f} states/CPU-s ({best['states']:,} states, best of 3)",
            best["rate"] >= 1e6, f"python -m checker explore --variant {variant}{flag} "
            "--nvhe --no-por --engine native --workers 1")
        row(f"{variant}{flag}: <= 64 bytes per stored state (exact mode)",
            f"{best['bps']:.1f} bytes/state", best["bps"] <= 64,
            "(same command: 'bytes per state')")
        if variant == "v4.18":
            hc = bench_scale.run(inst, workers=2, compact=True)
            row(f"{variant}{flag}: hash compaction at 8 bytes per state, P(miss) printed",
                f"{hc['table_bps']:.1f} bytes/state in the visited set (8-byte "
                f"fingerprints, table at most 7/8 full), {hc['bps']:.1f} peak; "
                f"P(missed state) {hc['miss']:.1e}; {hc['states']:,} states",
                None, f"python -m checker explore --variant {variant}{flag} --nvhe "
                "--hash-compaction")
            # 4. Workers.
            machine, mload = bench_scale.machine_speedup()
            w1 = bench_scale.run(inst, workers=1)
            w2 = bench_scale.run(inst, workers=2)
            same = (w1["states"], w1["transitions"], w1["verdict"]) == (
                w2["states"], w2["transitions"], w2["verdict"])
            speed = w1["wall"] / w2["wall"]
            row(f"{variant}{flag}: --workers 2 >= 1.7x over 1, identical results",
                f"{speed:.2f}x ({w1['wall']:.2f} s -> {w2['wall']:.2f} s), identical: "
                f"{'yes' if same else 'NO'}; 2 workers spent {w2['cpu'] / w1['cpu']:.2f}x "
                f"the CPU-s of 1; a parallel C loop got {machine:.2f}x (load {mload})",
                speed >= 1.7 and same,
                f"python -m checker explore --variant {variant}{flag} --nvhe --no-por "
                "--workers 1 / --workers 2")

    # 5. SPIN on the same model.
    if shutil.which("spin") and shutil.which("gcc"):
        inst = _inst("v4.17")
        fp = bench_spin.fpcheck(inst, 1)
        with tempfile.TemporaryDirectory(prefix="bench-targets-") as d:
            sp = bench_spin.spin(inst, Path(d), fp["states"])
        ratio = (fp["states"] / fp["cpu"]) / (sp["states"] / sp["cpu"])
        row("v4.17: >= 3x SPIN's states per CPU-s on the same model (equal state counts)",
            f"{ratio:.1f}x (fpcheck {fp['states']:,} states in {fp['cpu']:.2f} CPU-s, "
            f"pan {sp['states']:,} in {sp['cpu']:.2f})",
            ratio >= 3 and sp["states"] == fp["states"], "python bench/bench_spin.py "
            "--only v4.17 --no-workers --no-symmetry")
    else:
        row("v4.17: >= 3x SPIN's states per CPU-s", "not measured: spin or gcc missing",
            None, "apt-get install spin gcc")

    # 6. Partial-order reduction.
    inst = _inst("v4.17")
    off, on = bench_por.run(inst, False, None), bench_por.run(inst, True, None)
    row("v4.17: POR derived from the model, on by default; counts with and without",
        f"{off['states']:,} states without, {on['states']:,} with; {on['reduced']:,} "
        "states expanded with a reduced set (ARCHITECTURE.md and bench_por_bound.py: why "
        "none)", on["states"] < off["states"],
        "python -m checker explore --variant v4.17 --nvhe [--no-por]")

    # 7. Symmetry, per state.  The group of order 12 on bounded runs: the first 5M
    # states plain and the first 5M orbits (the whole space is out of reach).
    for variant, cfg, cap in (("v4.17", {}, 10**9), ("v4.18", {"cpus": 3}, 10**9),
                              ("v4.18", {"cpus": 3, "tasks": 2}, 5_000_000)):
        inst = _inst(variant, **cfg)
        reps = 3 if cap == 10**9 else 1  # the best of three where a run takes seconds
        plain = min((bench_scale.run(inst, max_states=cap) for _ in range(reps)),
                    key=lambda r: r["cpu"])
        sym = min((bench_scale.run(inst, symmetry=True, max_states=cap)
                   for _ in range(reps)), key=lambda r: r["cpu"])
        opts = "".join(f" --{k} {v}" for k, v in cfg.items())
        order = {(2, 1): 2, (3, 1): 6, (3, 2): 12}[(cfg.get("cpus", 2), cfg.get("tasks", 1))]
        bounded = " (first 5M states)" if cap < 10**9 else ""
        ratio = sym["rate"] / plain["rate"]
        row(f"{variant}{opts}: symmetry (group of order {order}) no slower per state"
            f"{bounded}", f"{ratio:.2f}x: {sym['rate']:,.0f} against {plain['rate']:,.0f} "
            "states/CPU-s", ratio >= 1.0, f"python -m checker explore --variant {variant}"
            f"{opts} --nvhe --no-por --workers 1 [--symmetry]")

    print(tabulate(ROWS, headers=("target (issue 10)", "measured now", "reached",
                                  "command")))
    print(f"\nload average at the end: {bench_scale._load()}; cores: {os.cpu_count()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
