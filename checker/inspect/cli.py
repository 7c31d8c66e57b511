"""Subcommands `show` and `replay` (registered into `python -m checker`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from checker.cli_common import EXIT_OK, UsageError, load_variant_files, print_json
from checker.inspect.load import load
from checker.inspect.show import FORMATS, render_state, render_steps
from checker.trace import Trace, TraceError

MAX_MISMATCHES = 12


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser(
        "show", help="show a counterexample trace: what changed at each step, and why it fails",
        description="Print a trace as a step table (step, CPU, context, kernel functions, "
        "and only what changed), with the violation in plain words at the end.")
    s.add_argument("trace", metavar="TRACE", help="trace file (JSON, from explore/bmc/prove)")
    s.add_argument("--tree", action="store_true",
                   help="print the call tree of every step (default: of the failing step)")
    s.add_argument("--full", action="store_true",
                   help="list every function and every change (and, in JSON, every state)")
    s.add_argument("--cpu", type=int, metavar="N", help="only the steps on CPU N")
    s.add_argument("--step", type=int, metavar="K",
                   help="the whole state after step K (0: the initial state)")
    s.add_argument("--format", choices=FORMATS, default="table",
                   help="output format (default: table)")
    s.add_argument("--variant-file", metavar="FILE.py", action="append", default=[],
                   help="the file defining the trace's variant (if it is a user's variant "
                        "whose recorded file moved) or the --against one")
    s.add_argument("--against", metavar="VARIANT",
                   help="replay the same events on another variant (e.g. the fixed one) "
                        "and show both side by side, marking the first step where they "
                        "differ: a missing change shows up there")
    s.add_argument("--html", metavar="OUT.html",
                   help="also write a self-contained HTML view (swimlanes per CPU)")
    s.set_defaults(func=cmd_show)

    r = sub.add_parser(
        "replay", help="re-execute a trace on the model: does the violation happen again?",
        description="Replay a trace by its event labels on a variant (default: the one that "
        "produced it). Exit 1: the violation reproduces; exit 0: it does not (the output "
        "says where the replay diverges); exit 2: the trace or the options are unusable.")
    r.add_argument("trace", metavar="TRACE", help="trace file (JSON)")
    r.add_argument("--variant", help="replay on this variant instead of the trace's")
    r.add_argument("--variant-file", metavar="FILE.py", action="append", default=[],
                   help="load extra variants from a Python file defining VARIANT or VARIANTS")
    r.add_argument("--json", action="store_true", help="print a machine-readable result")
    r.add_argument("--all-mismatches", action="store_true",
                   help=f"list every state mismatch (default: the first {MAX_MISMATCHES})")
    r.set_defaults(func=cmd_replay)


def _load(path: str) -> Trace:
    try:
        return load(path)
    except TraceError as exc:
        raise UsageError(str(exc)) from None


def _warn_if_inconsistent(path: str, trace: Trace, variant_files: list[str]) -> None:
    """`show` renders what the file says, but says so when the file is not a faithful
    record of its variant (edited, truncated or stale)."""
    from checker.inspect.replay import build_instance, consistency_problem

    try:
        problem = consistency_problem(
            trace, build_instance(trace, None, load_variant_files(variant_files)))
    except UsageError as exc:
        problem = f"cannot be checked: {exc}"
    if problem:
        print(f"warning: {path} is not a consistent trace of variant {trace.variant}: "
              f"{problem}", file=sys.stderr)


def cmd_show(args: argparse.Namespace) -> int:
    trace = _load(args.trace)
    _warn_if_inconsistent(args.trace, trace, args.variant_file)
    ncpu = int(trace.config.get("cpus", 1))
    if args.cpu is not None and not 0 <= args.cpu < ncpu:
        raise UsageError(f"--cpu {args.cpu}: the trace has CPUs 0..{ncpu - 1}")
    if args.step is not None and not 0 <= args.step <= len(trace.steps):
        raise UsageError(f"--step {args.step}: the trace has steps 0..{len(trace.steps)}")
    cmp = None
    if args.against:
        from checker.inspect.against import compare
        from checker.inspect.replay import build_instance

        cmp = compare(trace, build_instance(trace, args.against,
                                            load_variant_files(args.variant_file)))
    if args.html:
        from checker.inspect.html import render_html

        out = Path(args.html)
        try:
            out.write_text(render_html(trace, source=args.trace, against=cmp),
                           encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {args.html}: {exc.strerror}") from None
        print(f"wrote {args.html}", file=sys.stderr)
    if cmp is not None:
        from checker.inspect.against import render_comparison

        if args.format == "json":
            print_json({"variant": cmp.variant, "against": cmp.other,
                        "first_difference": cmp.first_diff, "summary": cmp.summary})
        else:
            sys.stdout.write(render_comparison(cmp))
        return EXIT_OK
    if args.step is not None:
        text = render_state(trace, args.step, args.format, args.trace)
    else:
        text = render_steps(trace, args.format, args.full, args.cpu, args.trace, args.tree)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return EXIT_OK


def cmd_replay(args: argparse.Namespace) -> int:
    from checker.inspect.replay import build_instance, consistency_problem, replay

    trace = _load(args.trace)
    extra = load_variant_files(args.variant_file)
    own = build_instance(trace, None, extra)
    problem = consistency_problem(trace, own)
    if problem:
        raise UsageError(f"{args.trace} is not a consistent trace of variant "
                         f"{trace.variant}: {problem}")
    inst = own if args.variant in (None, trace.variant) else build_instance(
        trace, args.variant, extra)
    res = replay(trace, inst)
    if args.json:
        print_json(res.to_json())
        return res.exit_code
    if res.fingerprint_warning:
        print(f"warning: {res.fingerprint_warning}", file=sys.stderr)
    print(f"replaying {args.trace}: {len(trace.steps)} steps, {trace.kind} for "
          f"{trace.property}, recorded on variant {trace.variant}; replayed on variant "
          f"{inst.variant.name} ({inst.config.describe()})")
    print(res.verdict)
    for note in res.notes:
        print(f"  note: {note}")
    if res.mismatches:
        shown = res.mismatches if args.all_mismatches else res.mismatches[:MAX_MISMATCHES]
        print(f"  state mismatches ({len(res.mismatches)}):")
        for m in shown:
            print(f"    {m.text()}")
        if len(shown) < len(res.mismatches):
            print(f"    ... {len(res.mismatches) - len(shown)} more (--all-mismatches)")
    return res.exit_code
