"""The explicit explorer on the real model: verdicts, exact state counts, shortest traces."""

from __future__ import annotations

import pytest

from checker.explicit.compile import compiled
from checker.explicit.explore import explore_bfs
from checker.instance import PROPERTY_NAMES, Instance
from model.config import Config
from model.variants import get_variant
from tests.broken_variants import BROKEN

ALL = list(PROPERTY_NAMES)


def run(variant: str, **cfg):
    inst = Instance(Config(**cfg), get_variant(variant))
    return inst, explore_bfs(inst, ALL)[0]


# Pinned state counts: a change in these means the model's behaviour changed.  A transition
# is a distinct (action, successor, failed checks) triple: input values with the same
# outcome are one transition (so the seed's counts fell when violating duplicates merged).
@pytest.mark.parametrize("variant,cfg,states,transitions", [
    ("seed", {"cpus": 1}, 546, 2465),
    ("seed", {"cpus": 1, "vhe": True}, 546, 2465),
    ("seed", {"cpus": 1, "vmm_threads": 2}, 4472, 25619),
    ("v4.17", {"cpus": 1}, 970, 4098),
    ("v4.17", {"cpus": 1, "tasks": 0, "vcpus": 2}, 516, 1473),
    ("v4.18", {"cpus": 1}, 546, 2365),
    ("seed", {"cpus": 2}, 27774, 204062),
])
def test_state_counts(variant, cfg, states, transitions) -> None:
    _, res = run(variant, **cfg)
    assert res.complete
    assert (res.stats.states, res.stats.transitions) == (states, transitions)
    assert res.deadlock is None


def test_seed_enables_bottom_halves_with_irqs_off_in_sched_out() -> None:
    _, res = run("seed", cpus=1)
    assert set(res.violations) == {"kernel_asserts"}
    trace = res.violations["kernel_asserts"]
    assert [s.label for s in trace.steps] == [
        "schedule(cpu0, idle0, -> vmm0)",
        "ret_to_user(cpu0, vmm0)",
        "ret_to_user(cpu0, vmm0)",
        "kvm_run(cpu0, vmm0, vcpu0)",
        "vcpu_load(cpu0, vmm0, vcpu0)",
        "schedule(cpu0, vmm0, -> T0)",
    ]
    last = trace.steps[-1]
    assert "kvm_sched_out" in last.functions and "kvm_arch_vcpu_put_fp" in last.functions
    assert last.violations == ["__local_bh_enable_ip: lockdep lockdep_assert_irqs_enabled():"
                               " local_bh_enable() with IRQs disabled"]


@pytest.mark.parametrize("variant,cfg", [
    ("seed", {"cpus": 2, "lockdep": False}),
    ("v4.18", {"cpus": 2}),
    ("v4.17", {"cpus": 1, "vmm_threads": 2}),
])
def test_fixed_variants_hold(variant, cfg) -> None:
    inst, res = run(variant, **cfg)
    assert res.complete and res.violations == {}
    by_design = inst.unreachable_by_design()
    applicable = {g.name for g, per in inst.guard_preds
                  if per and g.scope(inst.config) is None}
    for name, trace in res.guards_reached.items():
        if name not in applicable or name in by_design or (
                name == "migrate_with_live_state" and cfg["cpus"] == 1):
            assert trace is None
        else:
            assert trace is not None, f"guard {name} never reached"


@pytest.mark.parametrize("name,props,length,cfg", [
    ("ctxsync-keeps-foreign", {"no_loss"}, 13, {}),
    ("update-fp-enabled-ignores-foreign", {"no_loss", "no_leak"}, 11, {}),
    ("hyp-switch-skips-host-save", {"no_loss"}, 13, {}),
    ("put-fp-no-flush", {"no_loss", "no_leak"}, 11, {}),
    ("switch-ignores-cpu", {"no_loss"}, 10,
     {"cpus": 2, "vmm_threads": 0, "vcpus": 0}),
    # nVHE exit leaves CPTR_EL2.TFP set: the host now runs with FP trapped to EL2.
    ("deactivate-keeps-tfp", {"host_fp_untrapped"}, 7, {}),
])
def test_broken_copies_are_caught(name, props, length, cfg) -> None:
    inst = Instance(Config(**{"cpus": 1, "lockdep": False, **cfg}), BROKEN[name])
    res, _ = explore_bfs(inst, ALL)
    assert set(res.violations) == props
    assert {len(res.violations[p]) for p in props} == {length}


def test_max_states_stops_incomplete() -> None:
    inst = Instance(Config(cpus=1), get_variant("v4.17"))
    res, _ = explore_bfs(inst, ALL, max_states=100)
    assert not res.complete
    assert res.verdict("no_loss") == "not violated (incomplete)"


def test_counterexample_replays_through_the_compiled_model() -> None:
    inst, res = run("seed", cpus=1)
    trace = res.violations["kernel_asserts"]
    state = inst.layout.initial_state()
    comp = compiled(inst)
    labels = {a.label: i for i, a in enumerate(inst.actions)}
    for step in trace.steps:
        aid = labels[step.label]
        assert comp.guards[aid](state)
        state, viol = comp.fire(aid, state, tuple(step.inputs.values()))
        assert inst.layout.state_dict(state) == step.state
        assert viol == step.violations


def test_deadlock_is_reported() -> None:
    def stuck_ioctl(k, vcpu):
        """A broken KVM_RUN that masks IRQs and 'enters the guest' without the vcpu."""
        k.local_irq_disable()
        k.goto("IN_GUEST")

    variant = get_variant("seed").derive("stuck", "never returns",
                                         kvm_vcpu_ioctl_run=stuck_ioctl)
    inst = Instance(Config(cpus=1, tasks=0), variant)
    res, _ = explore_bfs(inst, ALL)
    assert res.deadlock is not None
    assert res.deadlock.steps[-1].label == "kvm_run(cpu0, vmm0, vcpu0)"


def test_state_graph_export(tmp_path) -> None:
    import networkx as nx

    from checker.graph import write_graph

    inst = Instance(Config(cpus=1), get_variant("seed"))
    res, graph = explore_bfs(inst, ALL, keep_graph=True)
    path = tmp_path / "g.graphml"
    write_graph(inst, graph, res, str(path))
    g = nx.read_graphml(path)
    assert g.number_of_nodes() == 546
    assert sum(1 for _, d in g.nodes(data=True) if d["counterexample"]) == 7
    dot = tmp_path / "g.dot"
    write_graph(inst, graph, res, str(dot))
    assert dot.read_text().startswith("digraph fpcheck {")
