"""Symmetry reduction (explore --symmetry): same verdicts and shortest lengths, fewer
states, real (replayable) counterexamples, and the group really is a symmetry."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.cli import main
from checker.explicit.compile import compiled
from checker.explicit.explore import explore_bfs
from checker.explicit.symmetry import Symmetry, rename
from checker.instance import PROPERTY_NAMES, Instance
from model.config import Config, kconfig_preset
from model.variants import get_variant, load_variant_file

ALL = list(PROPERTY_NAMES)
ROOT = Path(__file__).resolve().parents[2]
MUTANTS = load_variant_file(str(ROOT / "counterexamples" / "mutants.py"))


def replays(inst: Instance, trace) -> None:
    """The trace is a real execution of the compiled model, step by step."""
    comp = compiled(inst)
    labels = {a.label: i for i, a in enumerate(inst.actions)}
    state = inst.layout.initial_state()
    assert inst.layout.state_dict(state) == trace.initial
    for step in trace.steps:
        aid = labels[step.label]
        assert comp.guards[aid](state), step.label
        state, viol = comp.fire(aid, state, tuple(step.inputs.values()))
        assert inst.layout.state_dict(state) == step.state, step.label
        assert viol == step.violations, step.label


@pytest.mark.parametrize("variant,kconfig", [
    (get_variant("seed"), "debug"),
    (get_variant("v4.17"), "debug"),
    # preempt, not debug: the same three violated properties in 19,682 states (debug's
    # 36,024 took the reference engine 32 s twice over; the seed covers debug's lockdep)
    (MUTANTS["mutant-hyp-ignores-foreign"], "preempt"),
    (MUTANTS["mutant-put-fp-no-flush"], "preempt"),
    (get_variant("seed"), "distro"),
])
def test_same_verdicts_and_lengths_fewer_states(variant, kconfig) -> None:
    inst = Instance(Config.with_kconfig(kconfig, preemption="merged", cpus=1, tasks=2), variant)
    plain, _ = explore_bfs(inst, ALL)
    sym, _ = explore_bfs(inst, ALL, symmetry=True)
    assert plain.complete and sym.complete
    assert sym.stats.states < plain.stats.states
    assert {p: plain.verdict(p) for p in ALL} == {p: sym.verdict(p) for p in ALL}
    assert {p: len(t) for p, t in plain.violations.items()} == {
        p: len(t) for p, t in sym.violations.items()}
    assert {g: t and len(t) for g, t in plain.guards_reached.items()} == {
        g: t and len(t) for g, t in sym.guards_reached.items()}
    assert (plain.deadlock is None) == (sym.deadlock is None)
    for trace in list(sym.violations.values()) + [
            t for t in sym.guards_reached.values() if t is not None]:
        replays(inst, trace)


def test_traces_leave_the_representatives() -> None:
    """The stored representatives may run a trace on cpu1 where the execution started on
    cpu0: the rebuilt traces are concrete executions, not the representatives' path.
    (The preempt kconfig: 6 traces, 35 of their states moved, in a sixth of the debug
    kernel's time.)"""
    inst = Instance(Config(preemption="merged", cpus=2, tasks=1, **kconfig_preset("preempt")),
                    get_variant("seed"))
    sym, _ = explore_bfs(inst, ALL, symmetry=True)
    group = Symmetry(inst.layout)
    traces = list(sym.violations.values()) + [
        t for t in sym.guards_reached.values() if t is not None]
    assert traces
    moved = 0
    for trace in traces:
        replays(inst, trace)
        for step in trace.steps:
            s = bytes(v.dom.labels.index(step.state[v.name]) for v in inst.layout.vars)
            moved += group.canon(s) != s
    assert moved


@pytest.mark.parametrize("variant,cfg", [
    ("seed", {"cpus": 1, "tasks": 2}),
    ("v4.18", {"cpus": 2, "tasks": 1}),
    ("v4.17", {"cpus": 1, "tasks": 3, "vcpus": 0, "vmm_threads": 0}),
])
def test_group_preserves_the_reachable_states(variant, cfg) -> None:
    """Every permutation maps the reachable set onto itself, and the reduced search
    stores exactly one state per orbit."""
    inst = Instance(Config(**{"preemption": "merged", **cfg}), get_variant(variant))
    _, graph = explore_bfs(inst, ALL, keep_graph=True)
    sym_res, _ = explore_bfs(inst, ALL, symmetry=True)
    group = Symmetry(inst.layout)
    reach = set(graph[0])
    for perm in group.perms:
        assert {perm(s) for s in reach} == reach
    assert len({group.canon(s) for s in reach}) == sym_res.stats.states
    assert group.canon(bytes(inst.layout.initial_state())) == bytes(
        inst.layout.initial_state())


def test_group_size_and_trivial_cases() -> None:
    def size(**cfg) -> int:
        return Symmetry(Instance(Config(preemption="merged",
                                        **cfg), get_variant("seed")).layout).size

    assert size(cpus=1, tasks=1) == 1
    assert size(cpus=1, tasks=0) == 1
    assert size(cpus=1, tasks=2) == 2
    assert size(cpus=1, tasks=3) == 6
    assert size(cpus=2, tasks=3) == 12
    inst = Instance(Config(preemption="merged", cpus=1, tasks=1), get_variant("seed"))
    plain, _ = explore_bfs(inst, ALL)
    sym, _ = explore_bfs(inst, ALL, symmetry=True)
    assert plain.stats.states == sym.stats.states


def test_rename_whole_tokens_only() -> None:
    names = {"T0": "T1", "T1": "T0", "cpu0": "cpu1", "cpu1": "cpu0"}
    assert rename("ghost.T0.zhi_written", names) == "ghost.T1.zhi_written"
    assert rename("T1~", names) == "T0~"
    assert rename("vcpu0.fp_regs", names) == "vcpu0.fp_regs"
    assert rename("cpu0.regs.v", names) == "cpu1.regs.v"
    assert rename("NR_CPUS", names) == "NR_CPUS"


def test_cli_symmetric_trace_replays(tmp_path, capsys) -> None:
    mutants = str(ROOT / "counterexamples" / "mutants.py")
    code = main(["explore", "--variant-file", mutants, "--variant",
                 "mutant-hyp-ignores-foreign", "--cpus", "1", "--tasks", "2", "--nvhe",
                 "--no-lockdep", "--property", "no_leak", "--symmetry", "--quiet",
                 "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1, out
    files = list(tmp_path.glob("*.json"))
    assert len(files) == 1
    code = main(["replay", str(files[0]), "--variant-file", mutants])
    out = capsys.readouterr().out
    assert code == 1, out  # the violation reproduces
