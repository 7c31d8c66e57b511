"""`python -m checker bmc` and `python -m checker prove`: the z3 engine's subcommands.

Registered into checker.cli through `register(subparsers)`.  Solving is in
checker.smt.bmc / checker.smt.induction (typed results); this module only prints them.

Exit codes (as for explore): 0 proved; 1 counterexample or CTI (file written);
2 usage/input error; 3 unknown, timeout, or (bmc) no violation within the bound.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys

from tabulate import tabulate

from checker.cli_common import (
    DEFAULT_OUT,
    EXIT_BOUND,
    EXIT_OK,
    EXIT_VIOLATION,
    UsageError,
    add_model_options,
    instances_from_args,
    print_json,
    report_junit,
    selected_properties,
    write_trace,
)


def register(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser(
        "bmc", help="bounded model checking with z3 (shortest counterexamples up to --depth)",
        description="Unroll the model's transition relation from the initial state one step "
        "at a time up to --depth and look for a violation of each property; the first one "
        "found is a shortest one, written in the explorer's trace format and replayed in the "
        "explicit engine.  No violation within the bound exits 3 (not a proof: use prove).")
    add_model_options(b)
    b.add_argument("--depth", type=int, default=10, metavar="K",
                   help="maximum counterexample length in steps (default 10)")
    b.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="give up (exit 3) after this many seconds per hyp mode")
    b.add_argument("--bits", action="store_true",
                   help="carry the register data as bit vectors too (slower; tokens decide "
                        "loss/leak exactly on reachable states, see checker/smt/encode.py)")
    b.add_argument("--each-assertion", action="store_true",
                   help="a shortest counterexample for every kernel assertion site that "
                        "fails within the bound, not only the first (the search goes on "
                        "to --depth, excluding the sites already found)")
    b.add_argument("--sites", action="store_true",
                   help="also search each site of no_loss and no_leak (properties NAME.SITE, "
                        "as explore --sites): a shortest counterexample per site")
    b.add_argument("--out", default=DEFAULT_OUT, metavar="DIR",
                   help=f"directory for counterexample files (default {DEFAULT_OUT}/)")
    b.set_defaults(func=cmd_bmc)

    p = sub.add_parser(
        "prove", help="prove the properties by (k-)induction with the lemmas of "
        "properties/lemmas.py",
        description="Prove every property for every reachable state: initiation and "
        "consecution of each property and strengthening lemma (properties/lemmas.py), "
        "bit-exact by default.  A lemma or property that is not inductive gives a "
        "counterexample to induction (CTI), printed and written like a trace.")
    add_model_options(p)
    p.add_argument("--k", type=int, default=1, metavar="K",
                   help="k-induction depth (default 1: plain induction)")
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="give up (exit 3) after this many seconds per hyp mode")
    p.add_argument("--query-timeout", type=_seconds, default=None, metavar="SECONDS",
                   help="give each solver query (a part of an obligation's initiation or "
                        "consecution) at most this many seconds: a part that runs out makes "
                        "its obligation unknown and the proof goes on (the table says which "
                        "parts timed out; --timeout still bounds the whole proof)")
    p.add_argument("--no-bits", dest="bits", action="store_false",
                   help="prove about provenance tokens only (no bit vectors)")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="check the consecution queries in N processes (default: all "
                        "cores); verdicts do not depend on it")
    p.add_argument("--out", default=DEFAULT_OUT, metavar="DIR",
                   help=f"directory for CTI/counterexample files (default {DEFAULT_OUT}/)")
    p.set_defaults(func=cmd_prove)


def _seconds(text: str) -> float:
    """argparse type of --query-timeout: a positive finite number of seconds (argparse
    turns the error into a one-line usage error, exit 2)."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text!r}")
    return value


def _check_positive(name: str, value: float | None, allow_zero: bool = False) -> None:
    if value is None:
        return
    if value < 0 or (value == 0 and not allow_zero):
        raise UsageError(f"{name} must be {'non-negative' if allow_zero else 'positive'}")


def _command_line() -> str:
    return "python -m checker " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def _combine(codes: list[int]) -> int:
    for code in (EXIT_VIOLATION, EXIT_BOUND):
        if code in codes:
            return code
    return EXIT_OK


# ----------------------------------------------------------------------------- bmc
def cmd_bmc(args: argparse.Namespace) -> int:
    from checker.smt.bmc import bmc

    _check_positive("--depth", args.depth, allow_zero=True)
    _check_positive("--timeout", args.timeout)
    props = selected_properties(args)
    insts = instances_from_args(args)
    runs, codes = [], []
    for inst in insts:
        inst_props = props
        if args.sites:
            from checker.lemma_states import with_invariants

            sites = inst.site_invariants(props)
            inst, inst_props = with_invariants(inst, sites), props + list(sites)
        res = bmc(inst, inst_props, args.depth, timeout=args.timeout, bits=args.bits,
                  each_site=args.each_assertion)
        files = {p: write_trace(r.trace, args.out) for p, r in res.props.items() if r.trace}
        site_files = {cid: write_trace(r.trace, args.out) for cid, r in res.sites.items()}
        code = EXIT_VIOLATION if res.violated else EXIT_BOUND
        codes.append(code)
        runs.append({
            "variant": inst.variant.name,
            "config": inst.config.to_json(),
            "engine": "smt-bmc",
            "depth": args.depth,
            "bits": args.bits,
            "exit_code": code,
            "seconds": round(res.seconds, 3),
            "properties": {
                p: {"verdict": r.verdict, "length": r.depth if r.trace else None,
                    "bound": args.depth, "counterexample": files.get(p),
                    "violation": r.trace.violation if r.trace else None,
                    "seconds": round(r.seconds, 3), "reason": r.reason or None}
                for p, r in res.props.items()
            },
        })
        if res.sites_searched:
            runs[-1]["assertions"] = [
                {"id": cid, "kind": _kind(inst, cid),
                 "length": r.depth, "counterexample": site_files[cid],
                 "seconds": round(r.seconds, 3)}
                for cid, r in res.sites.items()]
        if not args.json:
            _print_bmc(inst, res, files, args.depth)
            if res.sites_searched:
                _print_sites(inst, res, site_files, args.depth)
    code = _combine(codes)
    report_junit(args, "bmc", runs)
    if args.json:
        print_json({"command": _command_line(), "exit_code": code, "runs": runs})
    return code


def _kind(inst, cid: str) -> str:  # noqa: ANN001
    from model.dsl import checks_of

    kinds = {c.id: c.kind for a in inst.actions for c in checks_of(a.body)}
    return kinds.get(cid, "")


def _print_sites(inst, res, site_files: dict, depth: int) -> None:  # noqa: ANN001
    if not res.sites:
        print(f"\nno kernel assertion site fails within {depth} steps")
        return
    print(f"\nassertion sites that fail within {depth} steps ({len(res.sites)}), each with "
          "its shortest counterexample (found ones excluded from later queries):")
    rows = [(_kind(inst, cid), cid, r.depth, site_files[cid]) for cid, r in res.sites.items()]
    print(tabulate(rows, headers=("kind", "assertion site", "steps", "trace file")))


def _bmc_word(verdict: str, depth: int) -> str:
    if verdict == "NOT_FOUND":
        return f"no violation within {depth} steps (bound reached, not a proof)"
    return verdict


def _print_bmc(inst, res, files: dict, depth: int) -> None:  # noqa: ANN001
    from checker.inspect.show import render_steps

    print(f"\n== bmc, variant {inst.variant.name}: {inst.config.describe()}, depth {depth}"
          f"{', with bit vectors' if res.bits else ', provenance tokens'}")
    rows = [(p, _bmc_word(r.verdict, depth), r.depth if r.trace else "", f"{r.seconds:.2f}s",
             r.trace.violation if r.trace else r.reason)
            for p, r in res.props.items()]
    print(tabulate(rows, headers=("property", "verdict", "trace steps", "time", "what")))
    print(f"\ntime {res.seconds:.2f}s")
    for p, r in res.props.items():
        if r.trace:
            print(f"\nShortest counterexample for {p} ({len(r.trace)} steps, replayed in the "
                  f"explicit engine), written to {files[p]}:")
            print(render_steps(r.trace, source=files[p]))


# ----------------------------------------------------------------------------- prove
def _progress(ob) -> None:  # noqa: ANN001 - induction.Obligation
    """(--query-timeout, --jobs 1) one line on stderr per obligation as it is decided."""
    split = (f", {len(ob.split_parts)} part(s) split by action" if len(ob.part_names) > 1
             else ", split by action") if ob.split_parts else ""
    print(f"prove: {ob.name}: consecution {ob.status('consecution')} "
          f"({ob.seconds:.1f}s{split})", file=sys.stderr, flush=True)


def cmd_prove(args: argparse.Namespace) -> int:
    from checker.smt.induction import prove

    if args.k < 1:
        raise UsageError("--k must be at least 1")
    _check_positive("--timeout", args.timeout)
    _check_positive("--jobs", args.jobs)
    jobs = args.jobs or os.cpu_count() or 1
    props = selected_properties(args)
    insts = instances_from_args(args)
    runs, codes = [], []
    for inst in insts:
        res = prove(inst, props, k=args.k, timeout=args.timeout, bits=args.bits, jobs=jobs,
                    query_timeout=args.query_timeout,
                    progress=_progress if args.query_timeout is not None else None)
        files = {o.name: write_trace(o.trace, args.out) for o in res.failed()}
        classes = _classify(inst, res, args.out, args.timeout)
        verdict = res.verdict
        if verdict == "CTI" and any(c.reachable or c.real_bug for c, _ in classes.values()):
            verdict = "VIOLATED"
        code = {"PROVED": EXIT_OK, "VIOLATED": EXIT_VIOLATION, "CTI": EXIT_VIOLATION}.get(
            verdict, EXIT_BOUND)
        codes.append(code)
        runs.append({
            "variant": inst.variant.name,
            "config": inst.config.to_json(),
            "engine": "smt-induction",
            "k": args.k,
            "bits": args.bits,
            "verdict": verdict,
            "exit_code": code,
            "seconds": round(res.seconds, 3),
            "query_timeout": args.query_timeout,
            "obligations": [
                {"name": o.name, "kind": o.kind, "doc": o.doc, "initiation": o.initiation,
                 "consecution": o.consecution, "seconds": round(o.seconds, 3),
                 "parts": o.part_names,
                 "part_seconds": [None if s is None else round(s, 3)
                                  for s in o.part_seconds],
                 "timed_out": {case: [o.part_names[i] if i < len(o.part_names) else o.name
                                      for i in idx] for case, idx in o.timed_out.items()},
                 "split_parts": [o.part_names[i] for i in o.split_parts],
                 "trace": files.get(o.name),
                 "trace_kind": o.trace.kind if o.trace else None,
                 **({"cti": _class_json(*classes[o.name])} if o.name in classes else {})}
                for o in res.obligations
            ],
        })
        if not args.json:
            _print_prove(inst, res, files, classes, verdict)
    code = _combine(codes)
    report_junit(args, "prove", runs)
    if args.json:
        print_json({"command": _command_line(), "exit_code": code, "runs": runs})
    return code


def _obligation_expr(inst, name: str):  # noqa: ANN001, ANN202 - model Expr or None
    from properties.lemmas import lemmas_for

    if name in inst.invariants:
        return inst.invariants[name]
    for lem in lemmas_for(inst.layout, inst.variant):
        if lem.name == name:
            return lem.build(inst.layout)
    return None


def _classify(inst, res, out: str, timeout: float | None) -> dict:  # noqa: ANN001
    """Obligation name -> (CtiClass, file of the real counterexample or None) per CTI.
    Lemma CTIs whose pre-state the bounded search could not place are settled by checking
    those lemmas on every reachable state (checker.smt.classify.check_lemmas_reachable)."""
    from checker.smt.classify import (
        CLASSIFY_SECONDS,
        LEMMA_CHECK_SECONDS,
        check_lemmas_reachable,
        classify_ctis,
    )
    from properties.lemmas import lemmas_for

    ctis = [o for o in res.failed() if o.trace.kind == "cti"]
    found = classify_ctis(inst, [(o.trace, _obligation_expr(inst, o.name)) for o in ctis],
                          seconds=timeout or CLASSIFY_SECONDS)
    classes = {}
    for o, c in zip(ctis, found, strict=True):
        c.of_lemma = o.kind == "lemma"
        classes[o.name] = c
    open_lemmas = {lem.name: lem.build(inst.layout)
                   for lem in lemmas_for(inst.layout, inst.variant)
                   if lem.name in classes and classes[lem.name].reachable is None
                   and classes[lem.name].real_bug is None}
    if open_lemmas:
        print(f"note: {len(open_lemmas)} lemma CTI(s) with a pre-state the bounded search "
              "could not place: checking those lemmas on every reachable state",
              file=sys.stderr)
        checks, bug = check_lemmas_reachable(inst, open_lemmas,
                                             timeout or LEMMA_CHECK_SECONDS)
        for n, chk in checks.items():
            if chk.trace is not None:
                chk.file = write_trace(chk.trace, out)
            classes[n].lemma = chk
            if bug is not None:
                classes[n].real_bug = bug
    out_classes = {}
    for n, c in classes.items():
        real_trace = c.trace if c.trace is not None else (c.real_bug[1] if c.real_bug else None)
        real = write_trace(real_trace, out) if real_trace is not None else None
        out_classes[n] = (c, real)
    return out_classes


def _class_json(c, real: str | None) -> dict:  # noqa: ANN001
    return {"reachable": c.reachable, "states_searched": c.searched, "engine": c.engine,
            "counterexample": real,
            "real_violation": c.real_bug[0] if c.real_bug else None,
            "broken_conjuncts": c.broken,
            "lemma_on_reachable_states": None if c.lemma is None else {
                "holds": c.lemma.holds, "states": c.lemma.states, "engine": c.lemma.engine,
                "counterexample": c.lemma.file},
            "nearest_reachable_differs": [{"var": v, "cti": a, "reachable": b}
                                          for v, a, b in c.nearest]}


VERDICT_TEXT = {
    "PROVED": "PROVED: every property holds in every reachable state of this configuration",
    "VIOLATED": "VIOLATED: a reachable state or step violates an obligation (counterexample)",
    "CTI": "NOT PROVED: an obligation is not inductive (counterexample to induction) from "
           "a state no execution reaches: the lemmas are too weak, or one is false in a "
           "reachable state (see below; README, \"Adding a lemma\")",
    "UNKNOWN": "UNKNOWN: the solver gave up (timeout) before an answer, or a counterexample "
               "to induction could not be classified",
    "VACUOUS": "NOT PROVED: the lemmas admit no transition at all, so a proof would be "
               "vacuous (an encoding or lemma bug)",
}


def _print_prove(inst, res, files: dict, classes: dict, verdict: str) -> None:  # noqa: ANN001
    import inspect

    from checker.inspect.show import render_state, render_steps
    from checker.trace import load_trace
    from properties.lemmas import lemmas_for

    how = "induction" if res.k == 1 else f"{res.k}-induction"
    print(f"\n== prove ({how}, {'bit-exact' if res.bits else 'tokens only'}), variant "
          f"{inst.variant.name}: {inst.config.describe()}")
    rows = [(o.name, o.kind, o.status("initiation"), o.status("consecution"),
             f"{o.seconds:.2f}s", " ".join(o.doc.split())) for o in res.obligations]
    print(tabulate(rows, headers=("property or lemma", "kind", "initiation", "consecution",
                                  "time", "reason"), maxcolwidths=[None, None, 30, 30, None, 60]))
    if verdict == "CTI" and any(c.reachable is None and (c.lemma is None or c.lemma.holds is None)
                                and c.real_bug is None for c, _ in classes.values()):
        verdict = "UNKNOWN"
    print(f"\n{VERDICT_TEXT[verdict]}  (total {res.seconds:.2f}s)")
    lemmas = {lem.name: lem for lem in lemmas_for(inst.layout, inst.variant)}
    shown = False
    for o in res.failed():
        tr = o.trace
        what = "counterexample to induction" if tr.kind == "cti" else "counterexample"
        print(f"\n{o.name} ({o.kind}): {what} written to {files[o.name]}")
        if o.name in lemmas:
            src = inspect.getsource(lemmas[o.name].build).rstrip()
            print(f"  reason: {lemmas[o.name].reason}\n  text (properties/lemmas.py):")
            print("\n".join("    " + line for line in src.splitlines()))
        if o.name in classes:
            c, real = classes[o.name]
            for line in c.text():
                print(f"  {line}")
            if real:
                print(f"  real counterexample written to {real}")
        if shown:
            continue
        shown = True
        if o.name in classes and classes[o.name][1]:
            c, real = classes[o.name]
            print(render_steps(load_trace(real), source=real))
            continue
        if tr.kind == "cti":
            print("\npre-state (satisfies every lemma and property; not claimed reachable):\n")
            print(render_state(tr, 0))
        print(render_steps(tr, source=files[o.name]))


__all__ = ["register"]
