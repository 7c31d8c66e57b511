"""What every checker subcommand shares: model options, errors, exit codes, trace output."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from pathlib import Path

from checker.instance import PROPERTY_NAMES, Instance, check_property_names
from checker.trace import Trace
from model.config import Config
from model.dsl import ModelError
from model.events import DEFAULT_EVENTS, EVENTS
from model.variants import VariantError, get_variant, load_variant_file

EXIT_OK = 0  # all properties hold
EXIT_VIOLATION = 1  # a property is violated (counterexample written)
EXIT_USAGE = 2  # usage or input error
EXIT_BOUND = 3  # a resource bound was hit before an answer

# New counterexamples go here (git-ignored); counterexamples/ itself holds the curated,
# documented ones (see counterexamples/README.md).
DEFAULT_OUT = "counterexamples/found"


class UsageError(Exception):
    """A one-line, user-facing error: exit code 2."""


class ArgParser(argparse.ArgumentParser):
    """argparse that reports errors in one line with exit code 2 (no usage dump)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see --help)")


def add_model_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("model")
    g.add_argument("--variant", default="seed",
                   help="code version to check (default: seed; list: `python -m checker variants`)")
    g.add_argument("--variant-file", metavar="FILE.py", action="append", default=[],
                   help="load extra variants from a Python file defining VARIANT or VARIANTS")
    g.add_argument("--cpus", type=int, default=2, help="physical CPUs (1-4, default 2)")
    g.add_argument("--tasks", type=int, default=1,
                   help="host user tasks besides the VMM threads (0-3, default 1)")
    g.add_argument("--vcpus", type=int, default=1, help="vcpus of the VM (0-2, default 1)")
    g.add_argument("--vmm-threads", type=int, default=1,
                   help="VMM threads issuing KVM_RUN (0-2, default 1; 2 exercises "
                        "kvm_arch_vcpu_run_pid_change)")
    mode = g.add_mutually_exclusive_group()
    mode.add_argument("--vhe", dest="hyp", action="store_const", const="vhe",
                      help="check VHE hyp mode only")
    mode.add_argument("--nvhe", dest="hyp", action="store_const", const="nvhe",
                      help="check nVHE hyp mode only")
    g.add_argument("--sve", action="store_true",
                   help="the system supports SVE (one vector length); with vcpus this needs "
                        "VHE, so only VHE is checked")
    g.add_argument("--no-lockdep", action="store_true",
                   help="kernel without CONFIG_PROVE_LOCKING: lockdep assertions not checked")
    g.add_argument("--aarch32-guest", action="store_true",
                   help="the vcpus are AArch32 guests (KVM_ARM_VCPU_EL1_32BIT)")
    g.add_argument("--event", action="append", default=None, metavar="NAME",
                   help="include an optional kernel path (repeatable; `all` for every one; "
                        "default: model.events.DEFAULT_EVENTS; list: `python -m checker events`)")
    g.add_argument("--property", action="append", default=[], metavar="NAME",
                   help=f"property to check (repeatable; default all: {', '.join(PROPERTY_NAMES)})")
    p.add_argument("--json", action="store_true", help="print a machine-readable verdict")


def hyp_modes(args: argparse.Namespace) -> list[bool]:
    """The VHE settings to check: both by default (VHE only with --sve and vcpus)."""
    if args.hyp == "vhe":
        return [True]
    if args.hyp == "nvhe":
        return [False]
    if getattr(args, "sve", False) and args.vcpus:
        return [True]
    return [False, True]


def events_from_args(args: argparse.Namespace) -> tuple[str, ...]:
    chosen = getattr(args, "event", None)
    if chosen is None:
        return DEFAULT_EVENTS
    names: list[str] = []
    for item in chosen:
        names += [n.strip() for n in item.split(",") if n.strip()]
    return tuple(EVENTS) if "all" in names else tuple(names)


def instances_from_args(args: argparse.Namespace) -> list[Instance]:
    extra: dict = {}
    try:
        for f in args.variant_file:
            extra.update(load_variant_file(f))
        variant = get_variant(args.variant, extra)
    except VariantError as exc:
        raise UsageError(str(exc)) from None
    try:
        check_property_names(args.property)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    out = []
    for vhe in hyp_modes(args):
        try:
            cfg = Config(cpus=args.cpus, tasks=args.tasks, vmm_threads=args.vmm_threads,
                         vcpus=args.vcpus, vhe=vhe, lockdep=not args.no_lockdep,
                         sve=getattr(args, "sve", False),
                         guest_aarch32=getattr(args, "aarch32_guest", False),
                         events=events_from_args(args))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        try:
            out.append(Instance(cfg, variant))
        except AttributeError as exc:  # a variant calling a function it does not have
            raise UsageError(f"variant {variant.name} is incomplete: {exc}") from None
        except ModelError as exc:  # e.g. a variant branching on register contents
            raise UsageError(f"variant {variant.name} is not a valid model: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - a user's variant code failing to build
            raise UsageError(f"variant {variant.name} failed to build: "
                             f"{type(exc).__name__}: {exc}") from None
    return out


def selected_properties(args: argparse.Namespace) -> list[str]:
    return list(args.property) or list(PROPERTY_NAMES)


def trace_filename(trace: Trace) -> str:
    cfg = trace.config
    mode = "vhe" if cfg.get("vhe") else "nvhe"
    name = f"{trace.variant}-{trace.property}-{mode}-c{cfg['cpus']}t{cfg['tasks']}" \
           f"v{cfg['vcpus']}m{cfg['vmm_threads']}-{trace.engine}.json"
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def write_trace(trace: Trace, directory: str = DEFAULT_OUT) -> str:
    """Write atomically (temp file + rename) so a crash never leaves half a trace."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    path = d / trace_filename(trace)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(trace.dumps())
    os.replace(tmp, path)
    return str(path)


def print_json(obj: object) -> None:
    json.dump(obj, sys.stdout, indent=1)
    sys.stdout.write("\n")
