"""docs/scope.md, the scope ledger, stays true to the code.

The ledger's tables name, in a machine-readable way (see its "How to read the tables"),
the Python functions, variants, steps, events, options, guards and tests that model each
kernel path.  These tests resolve every such reference, check the table conventions, and
check two of the ledger's "left out" arguments on a finer model:

* `fpsimd_last_state.sve_in_use` is dead at v4.18-rc1/v4.18 (no step reads it), so keeping
  the seed's variable in those variants cannot change a verdict;
* task-context kernel-mode NEON in a kernel thread, and ksoftirqd serving a softirq that
  uses NEON, reach exactly the states and assertion failures that a softirq using NEON on
  top of the idle thread already reaches, so they need no step of their own;
* KVM_RUN's early returns before vcpu_load() reach the same states up to the vcpu's FP
  flags while it is not loaded, which nothing reads before the next load sets them.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from checker.explicit.compile import compile_model
from checker.instance import Instance
from model.config import Config
from model.ctx import Ctx
from model.dsl import Action, Assert, Assign, Expr, If, Var, walk_exprs, walk_stmts
from model.events import DEFAULT_EVENTS, EVENTS
from model.state import Layout
from model.steps import STEPS, Step, build_actions, running, softirq_can_run
from model.variants import get_variant, variants
from properties.fp import GUARDS

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "scope.md"
STATUSES = ("modelled", "partly", "left out", "planned", "n/a")
NEEDS_REFERENCE = ("modelled", "partly")
NEEDS_ARGUMENT = ("left out", "planned", "n/a", "partly")
MIN_ARGUMENT = 40  # characters of prose a left-out row needs at least
TICKED = re.compile(r"`([^`\s]+)`")
PREFIXES = ("model.", "properties.", "checker.", "fn@", "nofn@", "variant:", "step:",
            "event:", "config:", "guard:", "test:", "planned:")


# ---------------------------------------------------------------------- parsing
@dataclasses.dataclass(frozen=True)
class Row:
    line: int
    section: str
    cells: dict[str, str]

    @property
    def status(self) -> str:
        return self.cells["status"].strip()

    @property
    def last(self) -> str:
        return list(self.cells.values())[-1]


def _cells(line: str) -> list[str]:
    # A pipe inside a cell is written \| (GitHub Markdown); keep it out of the split.
    return [c.strip().replace("\0", "|") for c in
            line.replace("\\|", "\0").strip().strip("|").split("|")]


def ledger_rows(text: str) -> list[Row]:
    """Every body row of every table whose header has a ``status`` column."""
    lines = text.splitlines()
    rows: list[Row] = []
    section = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            section = line.lstrip("#").strip()
        is_header = (line.startswith("|") and i + 1 < len(lines)
                     and re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", lines[i + 1].strip()))
        if not is_header:
            i += 1
            continue
        header = [h.lower() for h in _cells(line)]
        i += 2
        while i < len(lines) and lines[i].startswith("|"):
            if "status" in header:
                cells = _cells(lines[i])
                assert len(cells) == len(header), (
                    f"docs/scope.md line {i + 1}: {len(cells)} cells, header has {len(header)}")
                rows.append(Row(i + 1, section, dict(zip(header, cells, strict=True))))
            i += 1
    return rows


def references(text: str) -> Iterator[str]:
    for token in TICKED.findall(text):
        if token.startswith(PREFIXES):
            yield token


# ---------------------------------------------------------------------- resolving
def _resolve_dotted(name: str) -> bool:
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def _test_defined(spec: str) -> bool:
    path, _, name = spec.partition("::")
    f = ROOT / path
    if not f.is_file() or not name:
        return False
    tree = ast.parse(f.read_text())
    return any(isinstance(n, ast.FunctionDef) and n.name == name for n in ast.walk(tree))


def resolve(ref: str) -> str | None:
    """None if ``ref`` holds, else why not."""
    kind, _, rest = ref.partition(":")
    if ref.startswith(("model.", "properties.", "checker.")):
        return None if _resolve_dotted(ref) else "does not import"
    if ref.startswith(("fn@", "nofn@")):
        vname, _, fname = ref.split("@", 1)[1].partition(":")
        table = variants()
        if vname not in table:
            return f"no variant {vname!r}"
        has = fname in table[vname].functions
        if ref.startswith("fn@") and not has:
            return f"variant {vname} has no function {fname}"
        if ref.startswith("nofn@") and has:
            return f"variant {vname} has function {fname} (the ledger says it is absent)"
        return None
    if kind == "variant":
        return None if rest in variants() else "no such variant"
    if kind == "step":
        return None if rest in {s.name for s in STEPS} else "no such step in model.steps.STEPS"
    if kind == "event":
        return None if rest in EVENTS else "not registered in model.events.EVENTS"
    if kind == "config":
        fields = {f.name for f in dataclasses.fields(Config)}
        return None if rest in fields else "no such field of model.config.Config"
    if kind == "guard":
        return None if rest in {g.name for g in GUARDS} else "no such guard in properties.fp"
    if kind == "test":
        return None if _test_defined(rest) else "no such test"
    if kind == "planned":
        return None
    return "unknown reference kind"


# ---------------------------------------------------------------------- the ledger
@pytest.fixture(scope="module")
def text() -> str:
    return DOC.read_text()


def test_ledger_is_linked_from_readme_and_architecture() -> None:
    for name in ("README.md", "ARCHITECTURE.md"):
        assert "docs/scope.md" in (ROOT / name).read_text(), f"{name} does not link the ledger"


def test_rows_follow_the_conventions(text: str) -> None:
    rows = ledger_rows(text)
    assert len(rows) > 50, "the ledger's tables were not found"
    bad = []
    for r in rows:
        if r.status not in STATUSES:
            bad.append(f"line {r.line}: status {r.status!r} is not one of {STATUSES}")
            continue
        checked = [x for x in references(r.last) if not x.startswith("planned:")]
        if r.status in NEEDS_REFERENCE and not checked:
            bad.append(f"line {r.line}: a {r.status} row must name where it is modelled")
        prose = TICKED.sub("", r.last)
        if r.status in NEEDS_ARGUMENT and len(prose.strip()) < MIN_ARGUMENT:
            bad.append(f"line {r.line}: a {r.status} row needs its argument")
    assert not bad, "\n".join(bad)


def test_every_reference_resolves(text: str) -> None:
    # The convention table in "How to read the tables" shows examples; the ledger proper
    # starts at section 1.
    refs = sorted(set(references(text[text.index("\n## 1."):])))
    assert len(refs) > 50
    bad = [f"`{r}`: {why}" for r in refs if (why := resolve(r)) is not None]
    assert not bad, "docs/scope.md names things that do not exist:\n" + "\n".join(bad)


def test_every_event_and_default_is_in_the_ledger(text: str) -> None:
    # A row written while the event was being added says `planned:event:NAME`; it still
    # names the event, so an event landing after the ledger's last update is covered.
    missing = [n for n in EVENTS
               if f"`event:{n}`" not in text and f"`planned:event:{n}`" not in text]
    assert not missing, (
        "add a row to docs/scope.md naming " + ", ".join(f"`event:{n}`" for n in missing)
        + " (what it models, and whether the default includes it and why)")
    assert set(DEFAULT_EVENTS) <= set(EVENTS)


def test_resolver_rejects_what_does_not_exist() -> None:
    """The resolver can fail: each kind of reference has a false case."""
    for ref in ("model.kernel.fpsimd.no_such_function", "fn@v4.17:fpsimd_save",
                "nofn@seed:fpsimd_save", "variant:v9.9", "step:no_step", "event:no_event",
                "config:no_field", "guard:no_guard", "test:tests/test_scope_ledger.py::nope",
                "unknown:thing"):
        assert resolve(ref) is not None, ref
    for ref in ("model.kernel.fpsimd.fpsimd_save", "fn@v4.17:task_fpsimd_save",
                "nofn@v4.17:fpsimd_save", "variant:v4.18", "step:schedule", "config:sve",
                "guard:guest_fp_live_at_irq",
                "test:tests/test_scope_ledger.py::test_resolver_rejects_what_does_not_exist"):
        assert resolve(ref) is None, ref


# ---------------------------------------------------------------------- left-out arguments
def _reads(action: Action) -> set[str]:
    """Names of the state variables an action reads (guard, conditions, right-hand sides,
    assertions)."""
    exprs: list[Expr] = [action.guard]
    for st in walk_stmts(action.body):
        if isinstance(st, Assign):
            exprs.append(st.expr)
        elif isinstance(st, If):
            exprs.append(st.cond)
        elif isinstance(st, Assert):
            exprs.append(st.cond)
    return {e.name for x in exprs for e in walk_exprs(x) if isinstance(e, Var) and not e.local}


def _readers_of_sve_in_use(variant: str) -> list[str]:
    layout = Layout(Config(preemption="merged", sve=True, vhe=True))
    names = {c.last_sve_in_use.name for c in layout.cpu}
    return [a.label for a in build_actions(layout, get_variant(variant)) if _reads(a) & names]


@pytest.mark.parametrize("variant", ["v4.18-rc1", "v4.18"])
def test_sve_in_use_is_dead_at_v4_18(variant: str) -> None:
    """v4.18 has no fpsimd_last_state.sve_in_use; the variants keep the seed's variable
    (its bind functions still write it) but no step may read it."""
    assert _readers_of_sve_in_use(variant) == []


def test_sve_in_use_is_read_where_it_exists() -> None:
    """Non-vacuity: at v4.17 and the seed sve_flush_cpu_state() reads it."""
    assert _readers_of_sve_in_use("v4.17")
    assert _readers_of_sve_in_use("seed")


def _kthread_steps() -> dict[str, Step]:
    """Kernel-thread paths the model has no step for.  The idle thread stands for every
    kernel thread (no mm, never binds FP state, TIF_FOREIGN_FPSTATE always set)."""

    def params(S: Layout) -> Iterator[dict[str, int]]:
        for c in range(S.config.cpus):
            yield {"cpu": c, "task": S.config.user_tasks + c}

    def guard(S: Layout, p: dict[str, int]) -> Expr:
        return running(S, p["cpu"], p["task"]) & softirq_can_run(S, p["cpu"])

    def ksoftirqd(k: Ctx, p: dict[str, int]) -> None:
        # kernel/softirq.c run_ksoftirqd(): IRQs off, __do_softirq() (the pending softirq
        # is the step's reason to run), IRQs on.
        k.local_irq_disable()
        k.__do_softirq()
        k.local_irq_enable()

    return {
        # dm-crypt in a kworker, raid6 in an md thread: may_use_simd(), begin, NEON, end.
        "kthread_kernel_neon": Step("kthread_kernel_neon", "a kernel thread uses kernel NEON",
                                    params, guard, lambda k, p: k.syscall_kernel_neon()),
        # softirqs deferred to ksoftirqd (or forced IRQ threading).
        "ksoftirqd": Step("ksoftirqd", "ksoftirqd serves a softirq that uses kernel NEON",
                          params, guard, ksoftirqd),
    }


def _reachable(layout: Layout, actions: list[Action]) -> tuple[set[bytes], set[str], set[str]]:
    """Reachable states, assertions that fail somewhere, and the names of the steps that
    change the state somewhere."""
    comp = compile_model(actions, len(layout.vars))
    init = bytes(layout.initial_state())
    seen = {init}
    frontier = [init]
    failed: set[str] = set()
    effective: set[str] = set()
    while frontier:
        nxt_frontier = []
        for s in frontier:
            for aid, _inp, nxt, viol in comp.successors(s):
                failed.update(comp.check_ids[v] for v in viol)
                if nxt != s:
                    effective.add(actions[aid].name)
                if nxt not in seen:
                    seen.add(nxt)
                    nxt_frontier.append(nxt)
        frontier = nxt_frontier
    return seen, failed, effective


@pytest.mark.parametrize("variant", ["v4.17", "seed", "v4.18-rc1", "v4.18"])
@pytest.mark.parametrize("vhe", [False, True])
def test_kthread_kernel_neon_is_subsumed(variant: str, vhe: bool) -> None:
    """Same reachable states and same failing assertions with and without steps for
    task-context kernel NEON in a kernel thread and for ksoftirqd serving a NEON softirq
    (1 CPU, 1 task, 1 VMM thread, 1 vcpu): both are the modelled softirq on top of the
    idle thread (`irq` step)."""
    layout = Layout(Config(preemption="merged", cpus=1, vhe=vhe))
    var = get_variant(variant)
    base = build_actions(layout, var)
    extra = build_actions(layout, var, list(_kthread_steps().values()))
    states, failed, _ = _reachable(layout, base)
    states_x, failed_x, effective = _reachable(layout, base + extra)
    for name in _kthread_steps():
        assert name in effective, f"the {name} step never fired"
    assert states_x == states
    assert failed_x == failed


def _early_return_step() -> Step:
    """virt/kvm/arm/arm.c kvm_arch_vcpu_ioctl_run(): an early return before vcpu_load()
    (not initialised, first-run init failure, MMIO completion, immediate_exit); then
    kvm_vcpu_ioctl() drops vcpu->mutex and the syscall returns."""

    def params(S: Layout) -> Iterator[dict[str, int]]:
        for c in range(S.config.cpus):
            for t in S.tasks:
                if t.vmm:
                    for v in range(S.config.vcpus):
                        yield {"cpu": c, "task": t.index, "vcpu": v}

    def guard(S: Layout, p: dict[str, int]) -> Expr:
        return (running(S, p["cpu"], p["task"]) & S.tasks[p["task"]].pc.eq("VCPU_LOAD")
                & S.vcpus[p["vcpu"]].mutex.eq(S.tasks[p["task"]].name))

    def run(k: Ctx, p: dict[str, int]) -> None:
        k.set(k.vcpu(p["vcpu"]).mutex, "NULL")
        k.goto("KERNEL")

    return Step("kvm_run_early_return", "KVM_RUN returns before vcpu_load", params, guard, run)


@pytest.mark.parametrize("variant,sve,vhe", [
    (v, False, vhe) for v in ("v4.17", "seed", "v4.18-rc1", "v4.18") for vhe in (False, True)
] + [("v4.17", True, True), ("v4.18-rc1", True, True), ("v4.18", True, True)])
def test_kvm_run_early_return_is_subsumed(variant: str, sve: bool, vhe: bool) -> None:
    """KVM_RUN's early returns need no step: with one, the reachable states differ only in
    the vcpu's FP flags while it is not loaded (every load sets them again before anything
    reads them, and no property reads them), and the failing assertions are the same."""
    # With SVE the state space is larger: the VMM thread alone (and the idle thread).
    layout = Layout(Config(preemption="merged", cpus=1, vhe=vhe, sve=sve, tasks=0 if sve else 1))
    var = get_variant(variant)
    base = build_actions(layout, var)
    extra = build_actions(layout, var, [_early_return_step()])
    flags = set()
    for v in layout.vcpus:
        flags |= {x.index for x in (v.fp_enabled, v.fp_host, v.host_sve_in_use,
                                    v.host_sve_enabled) if isinstance(x, Var)}
    # No property reads the flags (so projecting them away keeps every verdict).
    inst = Instance(layout.config, var)
    for name, e in inst.invariants.items():
        read = {x.index for x in walk_exprs(e) if isinstance(x, Var) and not x.local}
        assert not read & flags, f"property {name} reads a vcpu flag"

    def project(states: set[bytes]) -> set[tuple[int, ...]]:
        return {tuple(b for i, b in enumerate(s) if i not in flags) for s in states}

    states, failed, _ = _reachable(layout, base)
    states_x, failed_x, effective = _reachable(layout, base + extra)
    assert "kvm_run_early_return" in effective
    assert project(states_x) == project(states)
    assert failed_x == failed
