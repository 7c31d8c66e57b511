"""`python -m checker`: explore | variants | (bmc | prove: checker.smt) | (show | replay:
checker.inspect).  Each engine package contributes its subcommands through a
``register(subparsers)`` function, so this module stays the dispatcher only."""

from __future__ import annotations

import argparse
import importlib
import random
import sys
from collections.abc import Sequence

from tabulate import tabulate

from checker.cli_common import (
    DEFAULT_OUT,
    EXIT_BOUND,
    EXIT_OK,
    EXIT_USAGE,
    EXIT_VIOLATION,
    ArgParser,
    UsageError,
    add_model_options,
    instances_from_args,
    print_json,
    report_junit,
    selected_properties,
    write_trace,
)
from checker.explicit.explore import ExploreResult, Stats, explore_bfs
from checker.inspect.show import render_steps
from checker.instance import KERNEL_ASSERTS, Instance
from checker.lemma_states import claimed_lemmas, with_invariants
from checker.limits import (
    STOP_TEXT,
    Limits,
    default_max_memory,
    parse_size,
    sigint_stops,
)
from model.dsl import ModelError
from model.events import DEFAULT_EVENTS, EVENTS
from model.variants import VariantError, load_variant_file, variants
from properties.locking import explain

# The Python engine's default bound (~300 bytes per state: about 1.5 GB); the native
# engine is bounded by memory (checker.native.explore.default_max_bytes).
PYTHON_MAX_STATES = 5_000_000

# Subcommand providers: modules with register(subparsers).  Missing ones are skipped so
# an engine under construction never breaks the others.
PROVIDERS = ("checker.smt.cli", "checker.inspect.cli", "checker.export.cli")


def build_parser() -> argparse.ArgumentParser:
    p = ArgParser(
        prog="python -m checker",
        description="fpcheck: model checker for arm64 FPSIMD sharing between host tasks, "
        "kernel-mode NEON and KVM guests.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgParser)

    e = sub.add_parser("explore", help="explicit-state exhaustive exploration (BFS)",
                       description="Explore every interleaving of the model breadth-first and "
                       "check the properties; prints one row per property, then statistics.")
    add_model_options(e)
    e.add_argument("--max-states", type=int, default=None,
                   help="stop with exit 3 after this many distinct states (default: "
                        f"{PYTHON_MAX_STATES:,} with the Python engine; the native engine "
                        "stops at 3/4 of the machine's memory instead)")
    e.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="stop with exit 3 after this many seconds of wall time (all hyp "
                        "modes together); what was found so far is reported and written")
    e.add_argument("--max-memory", default=None, metavar="SIZE",
                   help="stop with exit 3 when the process's resident memory exceeds SIZE "
                        "(e.g. 4G, 512M; default 80%% of the memory available at start; "
                        "`none` for no guard)")
    e.add_argument("--simulate", type=int, default=None, metavar="N",
                   help="instead of the exhaustive search, N random walks of at most "
                        "--depth steps (for configurations too large to exhaust); never "
                        "claims that a property holds")
    e.add_argument("--depth", type=int, default=100, metavar="D",
                   help="with --simulate: the length of each walk (default 100)")
    e.add_argument("--seed", type=int, default=None,
                   help="with --simulate: the random seed (default: a fresh one, printed; "
                        "the same seed, options and model give the same walks)")
    e.add_argument("--stop-early", action="store_true",
                   help="stop as soon as every selected property is violated")
    e.add_argument("--coverage", action="store_true",
                   help="print how often each modelled step fired; warn about steps that never did")
    e.add_argument("--out", default=DEFAULT_OUT, metavar="DIR",
                   help=f"directory for counterexample files (default {DEFAULT_OUT}/)")
    e.add_argument("--lemmas", action="store_true",
                   help="also check, in every reachable state, each lemma `prove` uses for "
                        "the variant (properties lemma:NAME; after a counterexample to "
                        "induction: a false lemma gets its shortest trace here, one that "
                        "only needs strengthening holds)")
    e.add_argument("--sites", action="store_true",
                   help="also report, for no_loss and no_leak, a shortest counterexample per "
                        "site (what is read wrong: a register slice, ZA, PSTATE.SM/ZA, a "
                        "kernel NEON read-back, a signal frame: properties NAME.SITE), so "
                        "that one short violation does not hide another")
    e.add_argument("--graph", metavar="OUT.graphml",
                   help="write the state graph (GraphML, or DOT if the name ends in .dot) "
                        "for small configurations")
    e.add_argument("--symmetry", action="store_true",
                   help="symmetry reduction: store one state per orbit under permutations "
                        "of the plain user tasks (T0..) and of the CPUs (with their idle "
                        "tasks); verdicts and shortest trace lengths are unchanged, traces "
                        "are real executions")
    e.add_argument("--no-por", action="store_true",
                   help="turn off partial-order reduction (on by default except with "
                        "--symmetry, --graph and --hash-compaction; it keeps every "
                        "verdict, but once it has reduced a state counterexamples are "
                        "shortest in the reduced graph only)")
    e.add_argument("--engine", choices=("native", "python"), default=None,
                   help="native: the model compiled to C with the system C compiler (gcc), "
                        "multi-threaded, bit-packed states (default when a compiler is "
                        "available); python: the reference engine (always used for "
                        "--graph)")
    e.add_argument("--workers", type=int, default=None, metavar="N",
                   help="native engine: search threads (default: all cores); state counts "
                        "and verdicts do not depend on it")
    e.add_argument("--hash-compaction", action="store_true",
                   help="native engine: store 64-bit fingerprints of the states instead of "
                        "the states (far less memory; prints the probability that a state "
                        "was missed)")
    e.add_argument("--pgo", action="store_true",
                   help="native engine: build the compiled model profile-guided (gcc's "
                        "-fprofile-use after a training search of its first 300,000 "
                        "states): about 5%% faster per state, at about twice the first "
                        "build's time (cached like any build); the same search")
    e.add_argument("--quiet", action="store_true", help="no progress line on stderr")
    e.set_defaults(func=cmd_explore)

    v = sub.add_parser("variants", help="list the code versions the checker knows")
    v.add_argument("--variant-file", action="append", default=[], metavar="FILE.py")
    v.set_defaults(func=cmd_variants)

    ev = sub.add_parser("events", help="list the optional kernel paths (--event NAME)")
    ev.set_defaults(func=cmd_events)

    for name in PROVIDERS:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue
            raise
        mod.register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "command", None):
            parser.print_help()
            return EXIT_USAGE
        return int(args.func(args))
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ModelError as exc:  # raised while exploring: a model or variant bug
        print(f"error: the model failed while running: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_BOUND
    except BrokenPipeError:  # e.g. `| head`: the reader left; say nothing more
        sys.stderr.close()
        return EXIT_OK


# ----------------------------------------------------------------------------- variants
def cmd_variants(args: argparse.Namespace) -> int:
    table = variants()
    try:
        for f in args.variant_file:
            table.update(load_variant_file(f))
    except VariantError as exc:
        raise UsageError(str(exc)) from None
    rows = [(v.name, v.parent or "-", v.release or "-", v.tree or "-", v.description)
            for v in table.values()]
    print(tabulate(rows, headers=("variant", "derived from", "release", "tree@commit",
                                  "description")))
    return EXIT_OK


def cmd_events(args: argparse.Namespace) -> int:
    rows = [(name, "yes" if name in DEFAULT_EVENTS else "", doc) for name, doc in EVENTS.items()]
    print(tabulate(rows, headers=("event", "default", "what it models")))
    return EXIT_OK


# ----------------------------------------------------------------------------- explore
class _Progress:
    """A progress line on stderr, once a run has taken more than two seconds."""

    def __init__(self) -> None:
        self.shown = False
        self.last = 0.0

    def __call__(self, stats: Stats, queued: int) -> None:
        if stats.elapsed < 2.0 or stats.elapsed - self.last < 0.5:
            return
        self.shown, self.last = True, stats.elapsed
        print(f"\r  {stats.states:,} states, {queued:,} queued, {stats.rate:,.0f} states/s, "
              f"{stats.elapsed:.1f}s", end="", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.shown:
            print(file=sys.stderr)


def _guard_rows(inst: Instance, res: ExploreResult) -> list[tuple[str, str, str]]:
    by_design = inst.unreachable_by_design()
    rows = []
    for g, per_action in inst.guard_preds:
        tr = res.guards_reached.get(g.name)
        out_of_scope = g.scope(inst.config)
        if out_of_scope is not None:
            rows.append((g.name, "n/a", out_of_scope))
        elif not per_action:
            rows.append((g.name, "n/a", "no step of this configuration can reach it"))
        elif g.name in by_design:
            status = "n/a" if tr is None else "reached (unexpected)"
            rows.append((g.name, status, by_design[g.name]))
        elif tr is not None:
            rows.append((g.name, "reached", f"in {len(tr)} steps"))
        else:
            walks = getattr(res, "walks", None)
            status = ("NEVER REACHED" if res.complete else "not reached yet" if walks is None
                      else f"not reached in {walks:,} walks")
            rows.append((g.name, status, g.doc))
    return rows


def _engine_for(args: argparse.Namespace) -> str:
    """The engine to run: native unless asked otherwise or it cannot do the job."""
    python_only = [opt for opt, on in (("--graph", args.graph),) if on]
    if args.engine == "python":
        for opt, on in (("--hash-compaction", args.hash_compaction), ("--pgo", args.pgo)):
            if on:
                raise UsageError(f"{opt} needs the native engine")
        return "python"
    if python_only:
        if args.engine == "native" or args.hash_compaction or args.pgo:
            raise UsageError(f"{python_only[0]} is only available with --engine python")
        return "python"
    return "native"


def _note_new_preemption_windows(inst: Instance) -> None:
    """A variant that opens a preemption window inside a step that its parent does not
    have: say so.  With --preemption split the model explores a context switch there
    (the step is split at the point, model/interleave.py "Preemption"); the note tells
    the user their change did that (and may be why the state space grew)."""
    from model.interleave import preemption_windows
    from model.variants import get_variant

    if inst.variant.name in variants() or not inst.variant.parent:
        return
    try:
        parent = Instance(inst.config, get_variant(inst.variant.parent))
    except Exception:  # noqa: BLE001 - the parent is only a reference point here
        return
    new = sorted(preemption_windows(inst.actions) - preemption_windows(parent.actions))
    for step in dict.fromkeys(s for s, _ in new):
        where = sorted({w for s, w in new if s == step})
        more = f" (and {len(where) - 1} more)" if len(where) > 1 else ""
        print(f"note: variant {inst.variant.name}: step {step} may be preempted inside "
              f"where {inst.variant.parent} may not, {where[0]}{more}; "
              + ("explored as a context switch there" if inst.config.preemption == "split"
                 else "not explored (--preemption split explores it)")
              + " (model/interleave.py, Preemption)", file=sys.stderr)


def _note_merged_preemption(inst: Instance) -> None:
    """With --preemption merged, say which preemptible windows were not explored."""
    from model.interleave import preemption_windows

    if inst.config.preemption != "merged" or inst.config.preempt != "PREEMPT":
        return
    steps = sorted({s for s, _ in preemption_windows(inst.actions)})
    if steps:
        print(f"note: preemption merged: a context switch inside {', '.join(steps)} is not "
              "explored; a verdict holds only if those windows are harmless (--preemption "
              "split explores them)", file=sys.stderr)


def _explore(inst: Instance, args: argparse.Namespace, props: list[str], engine: str,
             progress: _Progress | None, limits: Limits
             ) -> tuple[ExploreResult, list | None, str]:
    if engine == "native":
        from checker.native import NativeUnavailable, NativeUnsupported, explore_native

        try:
            res, _ = explore_native(inst, props, max_states=args.max_states,
                                    stop_early=args.stop_early, progress=progress,
                                    workers=args.workers, compact=args.hash_compaction,
                                    limits=limits, por=_por(args),
                                    symmetry=args.symmetry, pgo=args.pgo)
            return res, None, "native"
        except (NativeUnavailable, NativeUnsupported) as exc:
            # Unsupported: a construct the C generator does not know, or a step with more
            # inputs than it enumerates (checker.native.codegen.MAX_INPUTS).
            if args.hash_compaction:
                raise UsageError(f"--hash-compaction needs the native engine: {exc}") from None
            print(f"note: native engine unavailable ({exc}); using the Python engine",
                  file=sys.stderr)
    res, graph = explore_bfs(
        inst, props, max_states=args.max_states or PYTHON_MAX_STATES,
        stop_early=args.stop_early,
        progress=progress, keep_graph=bool(args.graph), symmetry=args.symmetry,
        limits=limits, por=_por(args),
    )
    return res, graph, "python"


def _por(args: argparse.Namespace) -> bool:
    """Partial-order reduction (checker.por): on unless --no-por, and not combined with
    symmetry (canonical states and stubborn sets are not proved sound together here),
    --graph (the graph would be the reduced one) or hash compaction (the cycle proviso
    needs the states' BFS levels, which fingerprints do not keep)."""
    return not (args.no_por or args.symmetry or args.graph or args.hash_compaction)


def _limits_from_args(args: argparse.Namespace) -> Limits:
    if args.max_states is not None and args.max_states < 1:
        raise UsageError("--max-states must be positive")
    if args.timeout is not None and args.timeout <= 0:
        raise UsageError("--timeout must be positive")
    if args.max_memory is None:
        max_memory = default_max_memory()
    elif args.max_memory.strip().lower() == "none":
        max_memory = None
    else:
        try:
            max_memory = parse_size(args.max_memory)
        except ValueError as exc:
            raise UsageError(f"--max-memory: {exc}") from None
    return Limits(max_states=args.max_states, timeout=args.timeout, max_memory=max_memory)


def cmd_explore(args: argparse.Namespace) -> int:
    limits = _limits_from_args(args)
    if args.simulate is not None:
        if args.simulate < 1:
            raise UsageError("--simulate must be positive")
        if args.depth < 1:
            raise UsageError("--depth must be positive")
        if args.graph or args.symmetry or args.stop_early:
            raise UsageError("--simulate does not combine with --graph, --symmetry or "
                             "--stop-early")
        if args.seed is None:
            args.seed = random.SystemRandom().randrange(1 << 32)
    elif args.seed is not None:
        raise UsageError("--seed needs --simulate")
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be positive")
    engine = "python" if args.simulate is not None else _engine_for(args)
    props = selected_properties(args)
    insts = instances_from_args(args)
    summary = []
    codes: list[int] = []
    printed: dict = {}  # counterexamples already printed (the same events in nVHE and VHE)
    with sigint_stops():
        limits.start()
        for inst in insts:
            reason = limits.exceeded()
            if reason is not None:
                # The limit ran out on an earlier hyp mode: this one is not searched.
                codes.append(EXIT_BOUND)
                summary.append({
                    "variant": inst.variant.name, "config": inst.config.to_json(),
                    "complete": False, "stopped": reason, "exit_code": EXIT_BOUND,
                    "explored": False,
                    "properties": {p: {"verdict": f"not explored ({STOP_TEXT[reason]})",
                                       "counterexample": None, "length": None,
                                       "violation": None, "seconds": None}
                                   for p in props}})
                if not args.json:
                    print(f"\n== variant {inst.variant.name}: {inst.config.describe()}\n"
                          f"not explored: {STOP_TEXT[reason]}")
                continue
            _note_new_preemption_windows(inst)
            _note_merged_preemption(inst)
            inst_props = props
            if args.sites:
                sites = inst.site_invariants(props)
                inst = with_invariants(inst, sites)
                inst_props = props + list(sites)
            if args.lemmas:
                lemmas = claimed_lemmas(inst)
                inst = with_invariants(inst, lemmas)
                inst_props = props + list(lemmas)
            code, entry, used = _explore_one(args, inst, inst_props, limits, len(insts),
                                             engine, printed)
            if used == "python":
                engine = "python"  # a fallback notice is printed once
            codes.append(code)
            summary.append(entry)
    exit_code = combine_exit_codes(codes)
    report_junit(args, "explore", summary)
    if args.json:
        print_json({"exit_code": exit_code, "runs": summary})
    return exit_code


def _explore_one(args: argparse.Namespace, inst: Instance, props: list[str], limits: Limits,
                 n_insts: int, engine: str, printed: dict) -> tuple[int, dict, str]:
    mode = "VHE" if inst.config.vhe else "nVHE"
    progress = None if (args.quiet or args.json) else _Progress()
    graph = None
    if args.simulate is not None:
        from checker.explicit.simulate import simulate

        res = simulate(inst, props, walks=args.simulate, depth=args.depth, seed=args.seed,
                       limits=limits, progress=progress)
        used = "python"
    else:
        res, graph, used = _explore(inst, args, props, engine, progress, limits)
    if progress is not None:
        progress.done()
    if args.simulate is None:
        for t in [*res.violations.values(), *res.assertion_sites.values(),
                  *(g for g in res.guards_reached.values() if g is not None),
                  *([res.deadlock] if res.deadlock is not None else [])]:
            t.por = res.por
    files = {p: write_trace(t, args.out) for p, t in res.violations.items()}
    ka = res.violations.get(KERNEL_ASSERTS)
    site_files = {cid: files[KERNEL_ASSERTS] if t is ka else write_trace(t, args.out)
                  for cid, t in res.assertion_sites.items()}
    guard_rows = _guard_rows(inst, res)
    unreached = [r[0] for r in guard_rows if r[1] == "NEVER REACHED"]
    violated = [p for p in props if p in res.violations]
    if violated or (res.complete and unreached):
        code = EXIT_VIOLATION
    elif res.stop_reason is not None:
        code = EXIT_BOUND
    elif not res.complete and args.simulate is None:
        code = EXIT_BOUND
    else:
        code = EXIT_OK
    if args.graph:
        from checker.graph import write_graph

        write_graph(inst, graph, res, _graph_path(args.graph, mode, n_insts))
    entry = _summary(inst, props, res, files, site_files, guard_rows, code)
    entry["engine"] = used
    if args.simulate is None:
        entry["por"] = res.por
        entry["por_reduced_states"] = getattr(res.stats, "reduced", 0)
    if getattr(res.stats, "miss_probability", None) is not None:
        entry["hash_compaction"] = {
            "miss_probability": res.stats.miss_probability,
            "visited_set_bytes_per_state": round(res.stats.table_bytes_per_state, 2),
            "peak_bytes_per_state": round(res.stats.bytes_per_state, 2),
            "links_on_disk_bytes": res.stats.disk_bytes}
    if not args.json:
        _print_run(inst, props, res, files, site_files, guard_rows, args.coverage, printed,
                   args.symmetry)
    return code, entry, used


def combine_exit_codes(codes: list[int]) -> int:
    """A violation anywhere wins; otherwise a bound hit anywhere; otherwise success."""
    for code in (EXIT_VIOLATION, EXIT_BOUND):
        if code in codes:
            return code
    return EXIT_OK


def _graph_path(path: str, mode: str, n: int) -> str:
    if n == 1:
        return path
    stem, dot, ext = path.rpartition(".")
    return f"{stem}-{mode.lower()}.{ext}" if dot else f"{path}-{mode.lower()}"


def _site_rows(res: ExploreResult, site_files: dict) -> list[dict]:
    return [
        {"id": cid, "kind": res.check_kinds.get(cid, ""), "length": len(tr),
         "counterexample": site_files.get(cid),
         "transitions": res.check_coverage.get(cid, 0),
         "seconds": res.stats.time_to_site.get(cid)}
        for cid, tr in res.assertion_sites.items()
    ]


def _summary(inst: Instance, props: list[str], res: ExploreResult, files: dict,
             site_files: dict, guard_rows: list, code: int) -> dict:
    out = {
        "variant": inst.variant.name,
        "config": inst.config.to_json(),
        "complete": res.complete,
        "stopped": res.stop_reason,
        "exit_code": code,
        "properties": {
            p: {
                "verdict": res.verdict(p),
                "counterexample": files.get(p),
                "length": len(res.violations[p]) if p in res.violations else None,
                "violation": res.violations[p].violation if p in res.violations else None,
                "seconds": res.stats.time_to_verdict.get(p),
            }
            for p in props
        },
        "assertions": _site_rows(res, site_files),
        "guards": {name: status for name, status, _ in guard_rows},
        "deadlock": res.deadlock is not None,
        "states": res.stats.states,
        "transitions": res.stats.transitions,
        "depth": res.stats.depth,
        "queued": res.stats.queued,
        "seconds": round(res.stats.elapsed, 3),
        "states_per_second": round(res.stats.rate),
    }
    walks = getattr(res, "walks", None)
    if walks is not None:
        out["simulation"] = {"walks": walks, "walks_requested": res.walks_requested,
                             "seed": res.seed, "depth": res.max_depth,
                             "steps": res.stats.transitions,
                             "distinct_states": res.stats.states,
                             "longest_walk": res.stats.depth,
                             "step_coverage": dict(res.coverage)}
    return out


def _stop_note(res: ExploreResult, symmetry: bool = False) -> str:
    if res.stop_reason is None:
        return "" if res.complete else "  (INCOMPLETE)"
    hint = {"max-states": "; raise it", "timeout": "; raise it",
            "max-memory": "; raise it" if symmetry else "; raise it or use --symmetry",
            }.get(res.stop_reason, "")
    return f"  (INCOMPLETE: {STOP_TEXT[res.stop_reason]}{hint})"


def _what(tr) -> str:  # noqa: ANN001 - checker.trace.Trace
    """The table's "what": for an invariant, who reads what (the first finding)."""
    from checker.inspect.describe import verdict

    v = verdict(tr)
    text = v.findings[0].short if v.findings else tr.violation
    return text if len(text) <= 140 else text[:137] + "..."


def _signature(tr) -> tuple:  # noqa: ANN001 - checker.trace.Trace
    return (tr.property, tuple((s.label, tuple(sorted(s.inputs.items()))) for s in tr.steps))


def _print_run(inst: Instance, props: list[str], res: ExploreResult, files: dict,
               site_files: dict, guard_rows: list, coverage: bool,
               printed: dict | None = None, symmetry: bool = False) -> None:
    """``printed``: counterexample signature -> the configuration it was printed for, so
    that the same events found in another hyp mode are printed once."""
    walks = getattr(res, "walks", None)
    how = "" if walks is None else (f", simulation: {walks:,} random walks of at most "
                                    f"{res.max_depth} steps, seed {res.seed}")
    print(f"\n== variant {inst.variant.name}: {inst.config.describe()}{how}")
    rows = []
    for p in props:
        tr = res.violations.get(p)
        rows.append((p, res.verdict(p), len(tr) if tr else "",
                     f"{res.stats.time_to_verdict[p]:.2f}s" if tr else "",
                     _what(tr) if tr else ""))
    print(tabulate(rows, headers=("property", "verdict", "trace steps", "found after",
                                  "what")))
    print()
    print(tabulate(guard_rows, headers=("reachability guard", "status", "")))
    if res.deadlock is not None:
        print(f"\nDEADLOCK: a state with no enabled step, reached in {len(res.deadlock)} steps")
    if walks is None:
        print(f"\nstates {res.stats.states:,}  transitions {res.stats.transitions:,}  "
              f"depth {res.stats.depth}  time {res.stats.elapsed:.2f}s  "
              f"{res.stats.rate:,.0f} states/s" + _stop_note(res, symmetry))
        if res.por:
            print(f"partial-order reduction: on, {res.stats.reduced:,} of "
                  f"{res.stats.states - res.stats.queued:,} states expanded with a "
                  "proper stubborn set (--no-por to compare)")
        _print_native_stats(res)
        if res.stop_reason is not None:
            print(f"stopped at BFS depth {res.stats.depth} with {res.stats.queued:,} states "
                  f"still queued: verdicts other than VIOLATED are not proofs; `python -m "
                  "checker prove` with the same model options proves a configuration too "
                  "large to explore (README: \"Configurations too large to explore\")")
    else:
        names = list(dict.fromkeys(a.name for a in inst.actions))
        never = [n for n in names if not res.coverage.get(n)]
        print(f"\nwalks {walks:,} of {res.walks_requested:,}  steps "
              f"{res.stats.transitions:,}  distinct states {res.stats.states:,}  "
              f"longest walk {res.stats.depth}  time {res.stats.elapsed:.2f}s  "
              f"seed {res.seed}" + ("" if res.stop_reason is None else _stop_note(res)))
        print(f"step coverage: {len(names) - len(never)} of {len(names)} modelled steps fired"
              + (f"; never: {', '.join(never)}" if never else ""))
    failed = sorted(res.check_coverage)
    if not res.assertion_sites and len(failed) > 1:  # an engine without per-site traces
        print("\nkernel assertions and locking rules violated somewhere in the state space:")
        for cid in failed:
            print(f"  {cid}  ({res.check_coverage[cid]:,} transitions)")
    if res.assertion_sites:
        print(f"\nassertion sites that fail ({len(res.assertion_sites)}), each with its "
              "shortest counterexample:" if walks is None and not _por_reordered(res) else
              f"\nassertion sites that fail ({len(res.assertion_sites)}), each with a "
              "counterexample (shortest under POR; --no-por for the shortest):"
              if walks is None else
              f"\nassertion sites that fail ({len(res.assertion_sites)}), each with the "
              "shortest counterexample found:")
        rows = [(r["kind"], r["id"], r["length"], f"{r['transitions']:,}",
                 r["counterexample"]) for r in _site_rows(res, site_files)]
        print(tabulate(rows, headers=("kind", "assertion site", "steps", "transitions",
                                      "trace file")))
    rules = [inst.checks[c].rule for c in failed
             if c in inst.checks and inst.checks[c].kind == "locking"]
    if rules:
        print(f"\nlocking rules broken, and what kernels show ({inst.config.describe_kconfig()}"
              " checked here):")
        for r in dict.fromkeys(rules):
            print(f"  {explain(r, inst.config)}")
    for p, tr in res.violations.items():
        what = "Shortest counterexample" if walks is None else \
            "Shortest counterexample found"
        if walks is None and _por_reordered(res):
            what = "Counterexample (shortest under POR; --no-por for the shortest)"
        sig = _signature(tr)
        if printed is not None and sig in printed:
            print(f"\n{what} for {p} ({len(tr)} steps), written to {files[p]}: the same "
                  f"events as the one shown above for {printed[sig]}")
            continue
        if printed is not None:
            printed[sig] = inst.config.describe()
        print(f"\n{what} for {p} ({len(tr)} steps), written to {files[p]}"
              f" (`python -m checker show {files[p]} --html out.html` for a picture):")
        print(render_steps(tr))
    if coverage:
        _print_coverage(inst, res)


def _por_reordered(res: ExploreResult) -> bool:
    """Partial-order reduction left out some successors, so a BFS counterexample is a
    shortest one in the reduced graph only (with no state reduced, it is the plain BFS)."""
    return res.por and getattr(res.stats, "reduced", 0) > 0


def _print_native_stats(res: ExploreResult) -> None:
    st = res.stats
    if not hasattr(st, "peak_bytes"):
        return
    print(f"native engine: {st.workers} worker(s), {st.cpu_seconds:.2f} CPU-s "
          f"({st.cpu_rate:,.0f} states per CPU-second), {st.bytes_per_state:.0f} bytes "
          "per state")
    if st.miss_probability is not None:
        print(f"hash compaction: 64-bit fingerprints ({st.table_bytes_per_state:.1f} bytes "
              f"per state in the visited set), parent links in a temporary file "
              f"({st.disk_bytes / 2**20:.0f} MiB); probability that a state was missed "
              f"(optimistic, as TLC estimates it): {st.miss_probability:.1e}")


def _print_coverage(inst: Instance, res: ExploreResult) -> None:
    names = []
    for a in inst.actions:
        if a.name not in names:
            names.append(a.name)
    rows = [(n, res.coverage.get(n, 0)) for n in names]
    print()
    print(tabulate(rows, headers=("modelled step", "fired")))
    never = [n for n, c in rows if c == 0]
    if never:
        print(f"WARNING: steps that never fired: {', '.join(never)}")
    fired_fns = {f for a in inst.actions if res.coverage.get(a.name) for f in a.functions}
    all_fns = {f for a in inst.actions for f in a.functions}
    unused = sorted(all_fns - fired_fns)
    if unused:
        print(f"WARNING: modelled functions in no fired step: {', '.join(unused)}")
    if res.check_coverage:
        print()
        print(tabulate(sorted(res.check_coverage.items()),
                       headers=("assertion violated", "transitions")))
