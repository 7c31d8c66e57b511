"""What every checker subcommand shares: model options, errors, exit codes, trace output."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import tempfile
import traceback
from pathlib import Path

from checker.instance import PROPERTY_NAMES, Instance, check_property_names
from checker.trace import Trace
from model.config import (
    DEFAULT_KCONFIG,
    KCONFIG_OPTIONS,
    KCONFIG_PRESETS,
    PREEMPTION_MODES,
    Config,
    apply_kconfig_options,
    kconfig_preset,
    parse_sme_vls,
    parse_sve_vls,
)
from model.ctx import MissingFunction
from model.dsl import ModelError
from model.events import DEFAULT_EVENTS, EVENTS
from model.steps import inert_events
from model.variant import Variant
from model.variants import (
    VariantError,
    get_variant,
    load_variant_file,
    user_frame,
    variants,
)

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
    g.add_argument("--variant", default=None,
                   help="code version to check (default: seed, or the one variant of a "
                        "--variant-file; list: `python -m checker variants`)")
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
    g.add_argument("--sve-vls", default="", metavar="VL,VL",
                   help="with --sve: the SVE vector lengths in bits the system supports (two "
                        "or three, e.g. 128,256): tasks may then have different vector "
                        "lengths (event sve_set_vl); default: one vector length")
    g.add_argument("--sve-guest", action="store_true",
                   help="with --sve (v6.x variants): the vcpus have SVE (max VL: the largest"
                        " of --sve-vls), with the guest's ZCR_EL1 and, on nVHE, ZCR_EL2 and"
                        " the host SVE trap; both hyp modes are checked")
    g.add_argument("--sme", action="store_true",
                   help="the system supports SME (PSTATE.SM/ZA, ZA, TIF_SME; one streaming"
                        " vector length unless --sme-vls; with or without --sve): v6.8-v6.10"
                        " and v6.16 (and v6.16-ptrace-fixes)")
    g.add_argument("--sme-vls", default="", metavar="VL,VL",
                   help="with --sme: the streaming (SME) vector lengths in bits the system"
                        " supports (two or three powers of two from 128 to 2048, e.g."
                        " 128,256; separate from --sve-vls: a system's SVE and SME sets"
                        " differ): tasks may then have different streaming vector lengths"
                        " (event sme_set_vl); default: one streaming vector length")
    presets = ", ".join(f"{n} ({' '.join(_preset_words(n))})" for n in KCONFIG_PRESETS)
    g.add_argument("--fpmr", action="store_true",
                   help="the CPUs have FEAT_FPMR: FPMR is part of each task's FP state "
                        "(variants v6.9 on)")
    g.add_argument("--guest-fpmr", action="store_true",
                   help="the VM has FPMR too (kvm_has_fpmr(); variants v6.12 on; needs --fpmr)")
    g.add_argument("--kconfig", action="append", default=None, metavar="NAME",
                   help=f"kernel configuration preset (repeatable; `all` for every one; "
                        f"default {DEFAULT_KCONFIG}): {presets}")
    g.add_argument("--config", action="append", default=[], metavar="OPTION=y|n",
                   dest="kconfig_options",
                   help="override one Kconfig option of the preset (repeatable): "
                        f"{', '.join(KCONFIG_OPTIONS)}; e.g. --config PROVE_LOCKING=n")
    g.add_argument("--no-lockdep", action="store_true",
                   help="alias for --config PROVE_LOCKING=n --config TRACE_IRQFLAGS=n (with "
                        "the default preset: --kconfig preempt)")
    g.add_argument("--aarch32-guest", action="store_true",
                   help="the vcpus are AArch32 guests (KVM_ARM_VCPU_EL1_32BIT)")
    g.add_argument("--preemption", choices=PREEMPTION_MODES, default="split",
                   help="split (default): explore a context switch wherever a step's code "
                        "is preemptible (CONFIG_PREEMPT; steps split at those points); "
                        "merged: do not split steps (fewer states; a holds then assumes the "
                        "preemption windows explore lists are harmless)")
    g.add_argument("--event", action="append", default=None, metavar="NAME",
                   help="include an optional kernel path (repeatable; `all` for every one; "
                        "default: model.events.DEFAULT_EVENTS; list: `python -m checker events`)")
    g.add_argument("--property", action="append", default=[], metavar="NAME",
                   help=f"property to check (repeatable; default all: {', '.join(PROPERTY_NAMES)})")
    p.add_argument("--json", action="store_true", help="print a machine-readable verdict")
    p.add_argument("--junit", metavar="FILE.xml",
                   help="also write a JUnit XML report (one test case per property, guard "
                        "or proof obligation and configuration) for CI")
    p.add_argument("--debug", action="store_true",
                   help="on an error in a variant file, also print the Python traceback")


def hyp_modes(args: argparse.Namespace) -> list[bool]:
    """The VHE settings to check: both by default (VHE only with --sve and vcpus)."""
    if args.hyp == "vhe":
        return [True]
    if args.hyp == "nvhe":
        return [False]
    if getattr(args, "sve", False) and args.vcpus and not getattr(args, "sve_guest", False):
        return [True]
    return [False, True]


def _preset_words(name: str) -> list[str]:
    f = KCONFIG_PRESETS[name]
    return [f["preempt"]] + [o for o, on in (("PROVE_LOCKING", f["prove_locking"]),
                                             ("TRACE_IRQFLAGS", f["trace_irqflags"])) if on]


def kconfigs_from_args(args: argparse.Namespace) -> list[dict]:
    """The Kconfig field sets to check: one per chosen preset, with the overrides applied;
    ValueError (a usage error) on an unknown preset, option or a bad combination."""
    names: list[str] = []
    for item in getattr(args, "kconfig", None) or [DEFAULT_KCONFIG]:
        names += [n.strip() for n in item.split(",") if n.strip()]
    if "all" in names:
        names = list(KCONFIG_PRESETS)
    options = list(getattr(args, "kconfig_options", []) or [])
    if getattr(args, "no_lockdep", False):
        options += ["PROVE_LOCKING=n", "TRACE_IRQFLAGS=n"]
    out: list[dict] = []
    for name in dict.fromkeys(names):
        fields = apply_kconfig_options(kconfig_preset(name), options)
        if fields not in out:
            out.append(fields)
    return out


def events_from_args(args: argparse.Namespace, variant: Variant | None = None
                     ) -> tuple[str, ...]:
    chosen = getattr(args, "event", None)
    if chosen is None:
        return DEFAULT_EVENTS
    names: list[str] = []
    for item in chosen:
        names += [n.strip() for n in item.split(",") if n.strip()]
    if "all" in names:
        # Every event the configuration can have: sve_set_vl needs SVE with several
        # vector lengths.
        several = getattr(args, "sve", False) and len(
            parse_sve_vls(getattr(args, "sve_vls", "") or "")) > 1
        svls = getattr(args, "sme", False) and len(
            parse_sme_vls(getattr(args, "sme_vls", "") or "")) > 1
        # guest_hidden_sve is about vcpus without SVE on SVE hardware (v6 variants), and
        # vcpu_init exists where the variant models KVM_ARM_VCPU_INIT (v6.1, v6.8+).
        hidden = (getattr(args, "sve", False) and not getattr(args, "sve_guest", False)
                  and getattr(args, "vcpus", 0) != 0
                  and (variant is None or variant.option("sve_guest", False)))
        init = variant is None or variant.functions.get("kvm_arch_vcpu_ioctl_vcpu_init")
        # kthread_kernel_neon needs preemptible task-context kernel NEON (v6.8+).
        kthread = variant is None or "kernel_fpstate" in variant.option("state_features", ())
        return tuple(e for e in EVENTS if (e != "sve_set_vl" or several)
                     and (e != "sme_set_vl" or svls) and (e != "guest_hidden_sve" or hidden)
                     and (e != "vcpu_init" or init) and (e != "kthread_kernel_neon" or kthread))
    return tuple(names)


def load_variant_files(paths: list[str]) -> dict[str, Variant]:
    """The variants defined by the user's files (one-line error on a bad file)."""
    extra: dict[str, Variant] = {}
    try:
        for f in paths:
            for name, v in load_variant_file(f).items():
                if name in extra:
                    raise VariantError(f"variant {name!r} is defined in both "
                                       f"{extra[name].source['path']} and {f}")
                extra[name] = v
    except VariantError as exc:
        raise UsageError(str(exc)) from None
    return extra


def choose_variant(name: str | None, extra: dict[str, Variant]) -> Variant:
    """--variant NAME, else the one variant the files define, else seed."""
    if name is None:
        if len(extra) == 1:
            return next(iter(extra.values()))
        if extra:
            raise UsageError(f"the variant files define {len(extra)} variants "
                             f"({', '.join(sorted(extra))}): choose one with --variant")
        name = "seed"
    try:
        return get_variant(name, extra)
    except VariantError as exc:
        raise UsageError(str(exc)) from None


_TRUTH_HINT = (" (a model expression was used as a Python truth value: write conditions"
               " with `&`, `|`, `~` instead of `and`, `or`, `not`, and branch with"
               " `with k.If(...)` instead of a Python `if`)")


def _bad_signature(variant: Variant, exc: BaseException) -> str | None:
    """A TypeError raised when the model calls one of the user's functions with the C
    function's arguments: point at the user's definition."""
    m = re.match(r"(\w+)\(\) (takes|got|missing)", str(exc))
    fn = variant.functions.get(m.group(1)) if isinstance(exc, TypeError) and m else None
    code = getattr(fn, "__code__", None)
    if code is None or Path(code.co_filename).resolve() != Path(variant.source["path"]).resolve():
        return None
    return (f"{variant.source['path']}:{code.co_firstlineno}: the model calls "
            f"k.{m.group(1)}(...) with the arguments of the built-in {m.group(1)}; "
            "give your function the same parameters")


def _missing_function(variant: Variant, exc: MissingFunction) -> str:
    """What asked for a function the variant lacks, and which built-in variants have it."""
    by = f"step {exc.step}"
    if exc.events:
        by += f" (event {', '.join(exc.events)})"
    having = [name for name, v in variants().items() if exc.function in v.functions]
    fix = ("leave the event out" if exc.events else "derive the variant from one that has it"
           if having else "add the function to the variant")
    if having:
        fix += f" or choose a variant that models it: {', '.join(having)}"
    return f"{by} calls {exc.function}(), which this variant does not model; {fix}"


def build_error(variant: Variant, exc: BaseException) -> str:
    """One line for a variant that fails to build: where (file:line and the offending
    expression, when the error passes through the user's file) and the likely fix."""
    where = ""
    if variant.source is not None:
        loc = user_frame(exc, variant.source["path"]) or _bad_signature(variant, exc)
        where = f"{loc}: " if loc else ""
    msg = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, ModelError):
        msg = str(exc)
        if "no truth value" in msg:
            msg += _TRUTH_HINT
    elif isinstance(exc, MissingFunction) and exc.step is not None:
        msg = _missing_function(variant, exc)
    elif isinstance(exc, AttributeError):
        msg = f"variant is incomplete: {exc}"
    return f"variant {variant.name} does not build: {where}{msg}"


def instances_from_args(args: argparse.Namespace) -> list[Instance]:
    extra = load_variant_files(args.variant_file)
    variant = choose_variant(args.variant, extra)
    try:
        check_property_names(args.property)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        kconfigs = kconfigs_from_args(args)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return [_build(args, variant, kconfig, vhe) for kconfig in kconfigs
            for vhe in hyp_modes(args)]


def _build(args: argparse.Namespace, variant: Variant, kconfig: dict, vhe: bool) -> Instance:
    try:
        cfg = Config(cpus=args.cpus, tasks=args.tasks, vmm_threads=args.vmm_threads,
                     vcpus=args.vcpus, vhe=vhe, **kconfig,
                     sve=getattr(args, "sve", False),
                     guest_aarch32=getattr(args, "aarch32_guest", False),
                     events=events_from_args(args, variant),
                     preemption=getattr(args, "preemption", "split"),
                     sve_vls=parse_sve_vls(getattr(args, "sve_vls", "") or ""),
                     sve_guest=getattr(args, "sve_guest", False),
                     sme=getattr(args, "sme", False),
                     sme_vls=parse_sme_vls(getattr(args, "sme_vls", "") or ""),
                     fpmr=getattr(args, "fpmr", False),
                     guest_fpmr=getattr(args, "guest_fpmr", False))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        inst = Instance(cfg, variant)
    except Exception as exc:  # noqa: BLE001 - a variant's code failing to build
        if getattr(args, "debug", False):
            traceback.print_exc()
        raise UsageError(build_error(variant, exc)) from None
    noted = args.__dict__.setdefault("_noted_inert", set())  # once per command, not per mode
    for event in inert_events(inst.layout):
        if event not in noted:
            noted.add(event)
            print(f"note: event {event} adds no step to this configuration, so no verdict"
                  f" covers it ({EVENTS[event]})", file=sys.stderr)
    return inst


def selected_properties(args: argparse.Namespace) -> list[str]:
    return list(args.property) or list(PROPERTY_NAMES)


def trace_filename(trace: Trace) -> str:
    cfg = trace.config
    mode = "vhe" if cfg.get("vhe") else "nvhe"
    prop = trace.property
    if trace.assertion:
        # One file per assertion site: its function, kind and a short hash of its id.
        fn, _, rest = trace.assertion.partition(": ")
        digest = hashlib.sha1(trace.assertion.encode()).hexdigest()[:6]
        prop += f"@{fn}-{rest.split(' ', 1)[0]}-{digest}"
    kconfig = Config.from_json(cfg).kconfig_name or "custom"
    # Hardware features that change the state: without them a file of another
    # configuration would have the same name.
    hw = "".join(f"-{tag}" for key, tag in (("sve_guest", "sveguest"), ("fpmr", "fpmr"),
                                              ("guest_fpmr", "guestfpmr")) if cfg.get(key))
    name = f"{trace.variant}-{prop}-{mode}-c{cfg['cpus']}t{cfg['tasks']}" \
           f"v{cfg['vcpus']}m{cfg['vmm_threads']}{hw}-{kconfig}-{trace.engine}" \
           f"{'-cti' if trace.kind == 'cti' else ''}.json"
    return re.sub(r"[^A-Za-z0-9_.@-]", "_", name)


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


def report_junit(args: argparse.Namespace, command: str, runs: list[dict]) -> None:
    if not getattr(args, "junit", None):
        return
    from checker.junit import write_junit

    try:
        write_junit(args.junit, command, runs)
    except OSError as exc:
        raise UsageError(f"cannot write {args.junit}: {exc.strerror}") from None


def print_json(obj: object) -> None:
    json.dump(obj, sys.stdout, indent=1)
    sys.stdout.write("\n")
