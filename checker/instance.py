"""One model instance: a configuration and a variant, built and ready for the engines."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import sys
import tempfile
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

import model.ctx
from model.config import Config
from model.dsl import Action, Assert, Check, Domain, Expr, ModelError, Var, walk_stmts
from model.state import Layout
from model.steps import SplitPlan, build_actions, split_plan
from model.variant import Variant
from model.variants import variants as builtin_variants
from properties.fp import (
    GUARDS,
    INVARIANTS,
    KERNEL_ASSERTS,
    PROPERTY_NAMES,
    SITES,
    STEP_PROPERTIES,
    Guard,
)
from properties.locking import LOCKING_RULES, property_of

ROOT = Path(__file__).resolve().parent.parent


@cache
def model_fingerprint() -> str:
    """A hash of the model's and properties' source: traces record it to detect staleness.
    Computed once per process (the source does not change under a running checker)."""
    h = hashlib.sha256()
    for folder in ("model", "properties"):
        for p in sorted((ROOT / folder).rglob("*.py")):
            h.update(str(p.relative_to(ROOT)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


@dataclass
class Instance:
    config: Config
    variant: Variant
    layout: Layout = field(init=False)
    actions: list[Action] = field(init=False)

    def __post_init__(self) -> None:
        check = self.variant.option("check_config")
        why = check(self.variant, self.config) if check is not None else None
        if not why and self.config.sve_guest and not self.variant.option("sve_guest", False):
            why = (f"variant {self.variant.name}: --sve-guest (SVE vcpus) is not modelled for"
                   " this version (v6.1 and v6.8 to v6.16; not the 2018 variants)")
        if not why and self.config.sme and not self.variant.option("sme", False):
            why = self.variant.option("sme_refused") or (
                f"variant {self.variant.name}: --sme is not modelled for this version (its SME"
                " code was not read; v6.10 and v6.16 only)")
            if "{" in why:
                why = why.format(name=self.variant.name)
        if not why and self.config.fpmr and not self.variant.option("fpmr", False):
            why = (f"variant {self.variant.name}: --fpmr is not modelled for this version (its"
                   " code has no FPMR support, or it was not read with it: v6.9 on)")
        if not why and self.config.guest_fpmr and not self.variant.option("guest_fpmr", False):
            why = (f"variant {self.variant.name}: --guest-fpmr: this version's KVM does not"
                   " give guests FPMR (kvm_has_fpmr() exists from v6.12)")
        if not why and "guest_hidden_sve" in self.config.events:
            if not self.config.sve or self.config.sve_guest or not self.config.vcpus:
                why = ("event guest_hidden_sve is about vcpus without SVE on SVE hardware: it"
                       " needs --sve and vcpus, and not --sve-guest")
            elif not self.variant.option("sve_guest", False):
                why = (f"variant {self.variant.name}: event guest_hidden_sve is modelled for"
                       " v6.1 and v6.8 to v6.16 (their EL2 SVE trap control)")
        if (not why and "kthread_kernel_neon" in self.config.events
                and "kernel_fpstate" not in self.variant.option("state_features", ())):
            why = (f"variant {self.variant.name}: event kthread_kernel_neon is modelled where"
                   " task-context kernel NEON is preemptible (v6.8 on: TIF_KERNEL_FPSTATE);"
                   " before, a kernel thread's section is the softirq path on the idle"
                   " thread (docs/scope.md, kernel threads)")
        if why:
            raise ModelError(why)
        self.layout, actions = _build(self.config, self.variant)
        self.actions = list(actions)

    @cached_property
    def invariants(self) -> dict[str, Expr]:
        return {inv.name: inv.build(self.layout) for inv in INVARIANTS}

    def site_invariants(self, props: list[str] | None = None) -> dict[str, Expr]:
        """The sites of the invariants in ``props`` (default: all), as invariants named
        "<invariant>.<site>" (properties.fp.SITES): `explore --sites` checks them beside
        the invariants, so each site gets a shortest counterexample of its own."""
        out: dict[str, Expr] = {}
        for name, sites in SITES.items():
            if props is None or name in props:
                out.update({f"{name}.{site}": e for site, e in sites(self.layout).items()})
        return out

    @cached_property
    def guard_preds(self) -> list[tuple[Guard, dict[int, Expr]]]:
        """For each guard, the pre-state predicate per action id it applies to."""
        out = []
        for g in GUARDS:
            per: dict[int, Expr] = {}
            for i, a in enumerate(self.actions):
                e = g.applies(self.layout, a)
                if e is not None:
                    per[i] = e
            out.append((g, per))
        return out

    @cached_property
    def checks(self) -> dict[str, Check]:
        """Every assertion of the model: Check.id -> Check."""
        out: dict[str, Check] = {}
        for a in self.actions:
            for st in walk_stmts(a.body):
                if isinstance(st, Assert):
                    out.setdefault(st.check.id, st.check)
        return out

    def property_of_check(self, cid: str) -> str:
        """The step property (kernel_asserts or locking_rules) an assertion id belongs to;
        model errors (counters out of range) count as kernel_asserts."""
        check = self.checks.get(cid)
        return property_of(check) if check is not None else KERNEL_ASSERTS

    def split_violations(self, cids: list[str]) -> dict[str, list[str]]:
        """Violated assertion ids grouped by step property (only non-empty groups)."""
        out: dict[str, list[str]] = {}
        for cid in cids:
            out.setdefault(self.property_of_check(cid), []).append(cid)
        return out

    def unreachable_by_design(self) -> dict[str, str]:
        """Guards this variant declares unreachable, with the reason (e.g. v4.17 never
        leaves guest FP state live outside hyp)."""
        return dict(self.variant.option("unreachable_guards", {}))

    def __getattr__(self, name: str):  # noqa: ANN204 - only for the hint below
        if name == "compiled":  # each engine owns its executable form (engines are siblings)
            raise AttributeError("Instance.compiled moved: use "
                                 "checker.explicit.compile.compiled(inst)")
        raise AttributeError(name)


# The builds of this process, most recent last: (id of the variant, config) -> (variant,
# layout, actions).  A build is a pure function of the two (the model's functions are
# looked up in the variant's table, never patched), and its result is never mutated (an
# Action is frozen; each Instance gets its own list).  The CLI builds an instance once;
# the test suite built 910 in one run, only 514 of them distinct, 429 CPU-s in all.
# The variant is kept in the entry so that its id is not reused while the entry lives.
# Memory: the widest models take tens of MB (v6.10 signal with SME, split: 32 MB), the
# curated traces' builds 1.2 MB on average (89 of them: 103 MB).  128 entries: in a run
# of the suite on 2 processes (262 build CPU-s), 16 entries had 170 builds redone after
# their eviction (57 CPU-s); 128 would have kept 103 of them (32 CPU-s).
_BUILDS: OrderedDict[tuple[int, Config], tuple[Variant, Layout, tuple[Action, ...]]] = \
    OrderedDict()
BUILD_CACHE_SIZE = 128


def clear_build_cache() -> None:
    """Forget this process's builds (tests that build with model.ctx's debug switches:
    the cache key does not include them)."""
    _BUILDS.clear()


def _build(config: Config, variant: Variant) -> tuple[Layout, tuple[Action, ...]]:
    key = (id(variant), config)
    hit = _BUILDS.get(key)
    if hit is not None:
        _BUILDS.move_to_end(key)
        return hit[1], hit[2]
    disk = _disk_path(config, variant)
    built = _disk_load(disk) if disk is not None else None
    if built is None:
        features = frozenset(variant.option("state_features", ()))
        # Two builds: the first finds where steps may be preempted (model.steps.split_plan),
        # the second has a program point for each and splits the steps there.
        plan = (split_plan(config, features, variant)
                if config.preemption == "split" else SplitPlan())
        layout = plan.layout(config, features)
        built = (layout, tuple(build_actions(layout, variant, plan=plan)))
        if disk is not None:
            _disk_store(disk, built)
    _BUILDS[key] = (variant, *built)
    while len(_BUILDS) > BUILD_CACHE_SIZE:
        _BUILDS.popitem(last=False)
    return built


# A build cache on disk, shared by processes: on when the environment variable names a
# directory.  The test suite sets it for its session (tests/conftest.py): its two xdist
# processes built the same 101 configurations each (30 CPU-s), and loading a pickled build
# is about 6x faster than building it.  Off by default for the CLI, which builds once.
# Only built-in variants are stored (a variant derived in a test or a user's file may
# reuse a built-in's name with other functions), and only builds with model.ctx's default
# switches (the tests that change them also patch model.ctx's functions); the key has the
# model's source hash, the Python version, the variant's name and the configuration.
BUILD_CACHE_ENV = "FPCHECK_BUILD_CACHE"


def _disk_path(config: Config, variant: Variant) -> Path | None:
    folder = os.environ.get(BUILD_CACHE_ENV)
    if (not folder or builtin_variants().get(variant.name) is not variant
            or not model.ctx.REPLAY_IRQS or model.ctx.CHECK_IRQ_REPLAY):
        return None
    ident = repr((model_fingerprint(), sys.version, variant.name, config))
    return Path(folder) / (hashlib.sha256(ident.encode()).hexdigest()[:32] + ".pickle")


def _disk_load(path: Path) -> tuple[Layout, tuple[Action, ...]] | None:
    try:
        with open(path, "rb") as f:
            return pickle.load(f)
    except (OSError, EOFError, pickle.UnpicklingError):
        return None  # not there yet, or unreadable: build it


def _disk_store(path: Path, built: tuple[Layout, tuple[Action, ...]]) -> None:
    """Written whole or not at all: a temporary file renamed into place (two processes
    storing the same build write the same bytes)."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            pickle.dump(built, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except (OSError, pickle.PicklingError, RecursionError):
        if tmp is not None:  # a cache that cannot be written is only slower
            Path(tmp).unlink(missing_ok=True)


def _serialise(x: object, out: list[str]) -> None:
    t = type(x)
    if x is None or t in (int, str, bool, float):
        out.append(repr(x))
    elif t in (tuple, list):
        out.append("(")
        for y in x:  # type: ignore[attr-defined]
            _serialise(y, out)
            out.append(",")
        out.append(")")
    elif t is Var:
        out.append(f"V<{x.name}|{x.index}|{x.local}|{x.dom.name}>")  # type: ignore[attr-defined]
    elif t is Domain:
        out.append(f"D<{x.name}|{x.kind}|{x.labels}>")  # type: ignore[attr-defined]
    elif dataclasses.is_dataclass(x):
        out.append(t.__name__ + "[")
        for f in dataclasses.fields(x):
            _serialise(getattr(x, f.name), out)
            out.append(";")
        out.append("]")
    else:
        out.append(repr(x))


def build_fingerprint(inst: Instance) -> str:
    """A hash of the built layout and of every action, field by field (statements,
    expressions, locals by name, inputs, functions, labels, preemption windows): two
    builds of the same model give the same hash, and (but for a SHA-256 collision)
    different models different ones (bench/bench_build.py,
    tests/model/test_build_equivalence.py)."""
    out = [repr([(v.name, v.index, v.dom.name, v.dom.labels) for v in inst.layout.vars])]
    for a in inst.actions:
        _serialise(a, out)
        out.append("\n")
    return hashlib.sha256("".join(out).encode()).hexdigest()


def check_property_names(names: list[str]) -> list[str]:
    bad = [n for n in names if n not in PROPERTY_NAMES]
    if bad:
        raise ValueError(
            f"unknown property {bad[0]!r}; known: {', '.join(PROPERTY_NAMES)}"
        )
    return names or list(PROPERTY_NAMES)


__all__ = ["Instance", "KERNEL_ASSERTS", "LOCKING_RULES", "PROPERTY_NAMES", "STEP_PROPERTIES",
           "check_property_names", "model_fingerprint"]
