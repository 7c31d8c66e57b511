"""Partial-order reduction (checker/por.py) in both explicit engines.

* On the real model: verdicts, failing assertion sites, reached guards and deadlocks are
  the same with and without it (seed, v4.17, v4.18, the curated broken variants), POR
  never stores more states, and the Python and native engines agree with it on.
* On random guarded-command models built over the layout's variables (independent
  "processes" with their own program counters, shared variables, assertions, fatal
  BUGs, invariants, guards and cycles), where the reduction really removes states:
  every property's verdict, the set of failing assertion sites, the reached guards and
  deadlock-freedom are preserved; the two engines store exactly the same states.
* The tables are derived (no per-step list): a step's reads include its guard, its body
  and what the properties checked on it read.
"""

from __future__ import annotations

import json
import random

import pytest

from checker.cli import main
from checker.explicit.explore import explore_bfs
from checker.instance import PROPERTY_NAMES, Instance
from checker.native.build import compiler
from checker.por import action_rw, build_tables, members
from model.config import Config
from model.dsl import (
    Action,
    AddC,
    Assert,
    Assign,
    Check,
    Const,
    Eq,
    Expr,
    If,
    Not,
    Var,
    all_of,
)
from model.variants import get_variant
from properties.fp import Guard
from tests.broken_variants import BROKEN

ALL = list(PROPERTY_NAMES)
PREEMPT = {"preempt": "PREEMPT", "prove_locking": False, "trace_irqflags": False}
native = pytest.mark.skipif(compiler() is None, reason="no C compiler (gcc) on PATH")


def _outcome(res) -> dict:
    return {
        "verdicts": {p: res.verdict(p) for p in ALL},
        "sites": sorted(res.assertion_sites),
        "guards": sorted(g for g, t in res.guards_reached.items() if t is not None),
        "deadlock": res.deadlock is not None,
    }


def _explore(inst: Instance, por: bool):
    """The native engine where there is a compiler (fast), else the reference engine."""
    if compiler() is not None:
        from checker.native import explore_native

        return explore_native(inst, ALL, por=por, workers=2)[0]
    return explore_bfs(inst, ALL, por=por)[0]


# Several variants and configurations (the seed's lineage on the `preempt` preset: on
# TRACE_IRQFLAGS kernels its steps have more IRQ points than the native engine takes).
REAL = [
    ("seed", {"cpus": 1, **PREEMPT}),
    ("seed", {"cpus": 2, "vhe": True, **PREEMPT}),
    ("v4.17", {"cpus": 2, **PREEMPT}),
    ("v4.18", {"cpus": 2}),
    ("v4.18", {"cpus": 1, "sve": True, "vhe": True, **PREEMPT}),
    ("ctxsync-keeps-foreign", {"cpus": 1, **PREEMPT}),
    ("update-fp-enabled-ignores-foreign", {"cpus": 2, **PREEMPT}),
    ("switch-ignores-cpu", {"cpus": 2, **PREEMPT}),
    ("deactivate-keeps-tfp", {"cpus": 1, **PREEMPT}),
    ("may-use-simd-ignores-busy", {"cpus": 1, **PREEMPT}),
    ("put-fp-no-bh", {"cpus": 1, **PREEMPT}),
    # split steps (the default; the others pin merged): resume steps in the relation too
    ("v4.18", {"cpus": 2, "preemption": "split", **PREEMPT}),
]

# Findings the suite pins elsewhere, found with POR on too.
FINDINGS = {"seed": "locking_rules", "ctxsync-keeps-foreign": "no_loss",
            "update-fp-enabled-ignores-foreign": "no_leak",
            "deactivate-keeps-tfp": "host_fp_untrapped",
            "may-use-simd-ignores-busy": "no_loss", "put-fp-no-bh": "no_leak"}


@pytest.mark.parametrize("variant,cfg", REAL, ids=[f"{v}-{i}" for i, (v, _) in enumerate(REAL)])
def test_real_model_same_verdicts(variant: str, cfg: dict) -> None:
    """Same verdicts, failing sites, reached guards and deadlocks with and without POR;
    never more states; every known finding still found."""
    inst = Instance(Config(**{"preemption": "merged", **cfg}),
                    BROKEN.get(variant) or get_variant(variant))
    full = _explore(inst, False)
    red = _explore(inst, True)
    assert red.por and not full.por
    assert _outcome(red) == _outcome(full)
    assert red.stats.states <= full.stats.states
    if variant in FINDINGS:
        assert red.verdict(FINDINGS[variant]) == "VIOLATED"
    for p, tr in red.violations.items():  # a reduced trace is never shorter than BFS's
        assert len(tr) >= len(full.violations[p])


@pytest.mark.parametrize("variant,cfg", [c for c in REAL if c[1]["cpus"] == 1],
                         ids=lambda x: x if isinstance(x, str) else "")
def test_reference_engine_same_verdicts(variant: str, cfg: dict) -> None:
    """The reference engine too (small configurations), and the native engine stores
    exactly its states with POR on."""
    inst = Instance(Config(**{"preemption": "merged", **cfg}),
                    BROKEN.get(variant) or get_variant(variant))
    if cfg.get("sve"):
        pytest.skip("large for the reference engine; covered natively above")
    full, _ = explore_bfs(inst, ALL)
    red, _ = explore_bfs(inst, ALL, por=True)
    assert _outcome(red) == _outcome(full)
    assert red.stats.states <= full.stats.states
    if compiler() is not None:
        from checker.native import explore_native

        nat, _ = explore_native(inst, ALL, por=True, workers=2)
        assert _outcome(nat) == _outcome(red)
        assert (nat.stats.states, nat.stats.transitions, nat.stats.reduced) == \
            (red.stats.states, red.stats.transitions, red.stats.reduced)


def test_reads_include_guard_body_and_properties() -> None:
    inst = Instance(Config(preemption="merged", cpus=1, **PREEMPT), get_variant("v4.18"))
    t = build_tables(inst)
    names = [v.name for v in inst.layout.vars]
    for aid, a in enumerate(inst.actions):
        r, w = action_rw(a)
        assert r <= t.reads[aid] and w == t.writes[aid]
        for b in members(t.dep[aid]):
            wb, rb = t.writes[b], t.reads[b]
            assert (w & (rb | wb)) or (wb & t.reads[aid]), (a.label, inst.actions[b].label)
    irq = next(i for i, a in enumerate(inst.actions) if a.name == "irq")
    # the guard irq_with_guest_live reads the registers in the irq step's pre-state
    assert "cpu0.regs.v" in {names[v] for v in t.reads[irq]}


# ------------------------------------------------------------ random synthetic models


def _synthetic(seed: int) -> Instance:
    """A random guarded-command model over some of the layout's variables: three
    processes, each a cycle of program points (its own counter), sharing a few flags;
    assertions (one possibly fatal), two invariants and a guard."""
    rng = random.Random(seed)
    inst = Instance(Config(preemption="merged", cpus=2, **PREEMPT), get_variant("v4.18"))
    S = inst.layout
    ints = [v for v in S.vars if v.dom.kind == "int" and v.dom.size >= 3]
    flags = [v for v in S.vars if v.dom.kind == "bool"]
    rng.shuffle(ints)
    rng.shuffle(flags)
    init = S.initial_state()
    pcs, shared = ints[:3], flags[:3]
    actions: list[Action] = []

    def test(v: Var) -> Expr:
        return v.eq(rng.randrange(v.dom.size)) if rng.random() < 0.5 else v.eq(init[v.index])

    for p, pc in enumerate(pcs):
        n = pc.dom.size
        for k in range(n):
            guard = pc.eq(k)
            if rng.random() < 0.3:
                guard = guard & test(rng.choice(shared))
            body: list = [Assign(pc, Const(pc.dom, (k + 1) % n if rng.random() < 0.8
                                           else rng.randrange(n)))]
            r = rng.random()
            f = rng.choice(shared)
            if r < 0.3:
                body.append(Assign(f, Not(f)))
            elif r < 0.45:
                body.append(If(f.eq(1), (Assign(f, Const(f.dom, 0)),), ()))
            if rng.random() < 0.25:
                g = rng.choice(shared)
                kind = "BUG" if rng.random() < 0.2 else "WARN"
                body.append(Assert(g.eq(init[g.index]),
                                   Check(f"p{p}.{k}: {kind} {g.name}", kind, f"p{p}", g.name)))
            if rng.random() < 0.15:
                other = rng.choice(pcs)
                body.append(Assign(other, Const(other.dom, init[other.index])))
            actions.append(Action(f"p{p}", (("cpu", 0), ("task", 0)), f"p{p}@{k}", guard,
                                  tuple(body), (), ()))
    inst.actions = actions
    a, b = rng.sample(pcs, 2)
    inst.__dict__["invariants"] = {
        "no_loss": Not(all_of([a.eq(a.dom.size - 1), b.eq(b.dom.size - 1)])),
        "no_leak": Not(all_of([shared[0].eq(1), shared[1].eq(1), shared[2].eq(1)])),
        "host_fp_untrapped": Eq(Const(shared[0].dom, 0), Const(shared[0].dom, 0)),
    }
    watched = rng.randrange(len(actions))
    g = Guard("synthetic_guard", "", lambda S, a: None)
    inst.__dict__["guard_preds"] = [(g, {watched: pcs[2].eq(pcs[2].dom.size - 1)}),
                                    (g, {0: shared[1].eq(1) & shared[2].eq(0)})]
    return inst


def _addc_free(inst: Instance) -> bool:
    from model.dsl import walk_exprs, walk_stmts
    return not any(isinstance(e, AddC) for a in inst.actions for st in walk_stmts(a.body)
                   if isinstance(st, Assign) for e in walk_exprs(st.expr))


def test_synthetic_models_preserve_everything() -> None:
    reduced_somewhere = 0
    for seed in range(24):
        inst = _synthetic(seed)
        assert _addc_free(inst)
        full, _ = explore_bfs(inst, ALL)
        red, _ = explore_bfs(inst, ALL, por=True)
        assert _outcome(red) == _outcome(full), seed
        assert red.stats.states <= full.stats.states
        reduced_somewhere += red.stats.states < full.stats.states
    assert reduced_somewhere >= 5  # the reduction really removes states on these models


@native
def test_synthetic_models_native_matches_python() -> None:
    from checker.native import explore_native

    for seed in range(0, 24, 3):
        inst = _synthetic(seed)
        py, _ = explore_bfs(inst, ALL, por=True)
        for workers in (1, 2):
            nat, _ = explore_native(inst, ALL, por=True, workers=workers)
            assert _outcome(nat) == _outcome(py), seed
            assert (nat.stats.states, nat.stats.transitions) == \
                (py.stats.states, py.stats.transitions), seed


# ------------------------------------------------------------------------------- CLI


def test_cli_por_default_and_no_por(tmp_path, capsys) -> None:
    base = ["explore", "--variant", "v4.18", "--cpus", "1", "--kconfig", "preempt", "--quiet",
            "--out", str(tmp_path), "--json", "--engine", "python"]
    assert main(base) == 0
    on = json.loads(capsys.readouterr().out)
    assert main(base + ["--no-por"]) == 0
    off = json.loads(capsys.readouterr().out)
    assert [r["por"] for r in on["runs"]] == [True, True]
    assert [r["por"] for r in off["runs"]] == [False, False]
    for a, b in zip(on["runs"], off["runs"], strict=True):
        assert {p: v["verdict"] for p, v in a["properties"].items()} == \
            {p: v["verdict"] for p, v in b["properties"].items()}
        assert a["states"] <= b["states"]


def test_cli_trace_records_por(tmp_path, capsys) -> None:
    out = tmp_path / "cx"
    code = main(["explore", "--variant", "seed", "--cpus", "1", "--nvhe", "--quiet",
                 "--kconfig", "preempt", "--out", str(out), "--engine", "python"])
    text = capsys.readouterr().out
    assert code == 1
    assert "partial-order reduction: on, 0 of 3,385 states" in text
    # nothing was reduced here, so the traces are the plain BFS's shortest ones
    assert "--no-por for the shortest" not in text
    files = sorted(out.glob("*.json"))
    assert files and all(json.loads(f.read_text())["por"] is True for f in files)
    code = main(["explore", "--variant", "seed", "--cpus", "1", "--nvhe", "--quiet",
                 "--kconfig", "preempt", "--out", str(out), "--engine", "python", "--no-por"])
    assert code == 1
    assert "partial-order reduction" not in capsys.readouterr().out
    assert all(json.loads(f.read_text())["por"] is False for f in sorted(out.glob("*.json")))


def test_caveat_when_states_were_reduced(capsys) -> None:
    """When the reduction left out successors, BFS traces are shortest in the reduced
    graph only, and explore says so."""
    from checker.cli import _por_reordered, _print_run

    inst = _synthetic(3)
    res, _ = explore_bfs(inst, ALL, por=True)
    assert res.stats.reduced > 0 and _por_reordered(res) and res.violations
    _print_run(inst, ALL, res, {p: "x.json" for p in res.violations},
               {c: "y.json" for c in res.assertion_sites}, [], False)
    assert "shortest under POR; --no-por for the shortest" in capsys.readouterr().out
