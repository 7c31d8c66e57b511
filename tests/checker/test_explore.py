"""The explicit explorer on the real model: verdicts, exact state counts, shortest traces."""

from __future__ import annotations

import pytest

from checker.explicit.compile import compiled
from checker.explicit.explore import explore_bfs
from checker.instance import PROPERTY_NAMES, Instance
from model.config import Config, kconfig_preset
from model.variants import get_variant
from tests.broken_variants import BROKEN

PREEMPT_NOLOCKDEP = kconfig_preset("preempt")  # the old lockdep=False

ALL = list(PROPERTY_NAMES)


def run(variant: str, **cfg):
    inst = Instance(Config(**{"preemption": "merged", **cfg}), get_variant(variant))
    return inst, explore_bfs(inst, ALL)[0]


# Pinned state counts: a change in these means the model's behaviour changed.  A transition
# is a distinct (action, successor, failed checks) triple: input values with the same
# outcome are one transition.  On a TRACE_IRQFLAGS kernel (the default `debug` preset) the
# seed's put_fp unmasks IRQs inside __schedule(), so IRQs are taken there (model/interleave)
# and the seed has many more states; the `preempt` preset is the old `lockdep=False`
# kernel.  The presets without CONFIG_PREEMPT have fewer states: no preemption after the
# run loop, before vcpu_put.
@pytest.mark.parametrize("variant,cfg,states,transitions", [
    ("seed", {"cpus": 1}, 1522, 11769),
    ("seed", {"cpus": 1, "vhe": True}, 1522, 11769),
    ("seed", {"cpus": 1, "vmm_threads": 2, **PREEMPT_NOLOCKDEP}, 4472, 25943),
    ("seed", {"cpus": 1, **kconfig_preset("distro")}, 486, 2125),
    ("v4.18", {"cpus": 1, **kconfig_preset("server")}, 486, 2047),
    ("v4.17", {"cpus": 1}, 970, 4098),
    ("v4.17", {"cpus": 1, "tasks": 0, "vcpus": 2}, 516, 1473),
    ("v4.18", {"cpus": 1}, 546, 2365),
    ("seed", {"cpus": 2, **PREEMPT_NOLOCKDEP}, 27774, 205994),
])
def test_state_counts(variant, cfg, states, transitions) -> None:
    _, res = run(variant, **cfg)
    assert res.complete
    assert (res.stats.states, res.stats.transitions) == (states, transitions)
    assert res.deadlock is None


def test_seed_enables_bottom_halves_with_irqs_off_in_sched_out() -> None:
    """Debug kernel (PROVE_LOCKING, TRACE_IRQFLAGS): kvm_sched_out -> put_fp's
    local_bh_enable() under rq->lock with IRQs off: lockdep's assert fires, TRACE_IRQFLAGS'
    local_irq_enable() unmasks IRQs under rq->lock (a locking rule), and __switch_to's
    fpsimd_save() then WARNs because IRQs are on."""
    _, res = run("seed", cpus=1)
    # ... and an IRQ taken there, in the middle of fpsimd_save_state(), whose softirq uses
    # kernel-mode NEON, leaves kernel data in the saved state: no_loss and no_leak.
    assert {p: len(t) for p, t in res.violations.items()} == {
        "kernel_asserts": 6, "locking_rules": 6, "no_loss": 11, "no_leak": 11}
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
    assert last.violations == [
        "__local_bh_enable_ip: lockdep lockdep_assert_irqs_enabled():"
        " local_bh_enable() with IRQs disabled",
        "local_irq_enable: locking irqs_on_under_irqsafe_lock: IRQs unmasked while this"
        " CPU's rq->lock (taken with IRQs off) is held",
        "fpsimd_save: WARN WARN_ON(!in_softirq() && !irqs_disabled())"]


@pytest.mark.parametrize("variant,kconfig,violated", [
    # No lockdep, no TRACE_IRQFLAGS: local_bh_enable() leaves IRQs masked, but a pending
    # softirq runs its handlers (IRQs unmasked by __do_softirq) under rq->lock.
    ("seed", "preempt", {"locking_rules"}),
    ("seed", "distro", {"locking_rules"}),
    ("seed", "server", {"locking_rules"}),
    # TRACE_IRQFLAGS without lockdep: IRQs unmasked under rq->lock on every such switch,
    # and __switch_to's fpsimd_save() WARNs.
    # ... and an IRQ can be taken in the middle of that fpsimd_save(): loss and leak.
    ("seed", "irqsoff-tracer", {"locking_rules", "kernel_asserts", "no_loss", "no_leak"}),
    ("v4.18-rc1", "distro", {"locking_rules"}),
    ("v4.18", "distro", set()),
    ("v4.18", "server", set()),
    ("v4.17", "distro", set()),
])
def test_verdicts_per_kernel_configuration(variant, kconfig, violated) -> None:
    inst = Instance(Config.with_kconfig(kconfig, preemption="merged", cpus=1), get_variant(variant))
    res, _ = explore_bfs(inst, ALL)
    assert res.complete and set(res.violations) == violated
    if "locking_rules" in violated:
        tr = res.violations["locking_rules"]
        assert len(tr) == 6 and "kvm_arch_vcpu_put_fp" in tr.steps[-1].functions


@pytest.mark.parametrize("variant,cfg", [
    ("v4.18", {"cpus": 2}),
    ("v4.18", {"cpus": 2, **kconfig_preset("distro")}),
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
    inst = Instance(Config(preemption="merged",
                           **{"cpus": 1, **PREEMPT_NOLOCKDEP, **cfg}), BROKEN[name])
    res, _ = explore_bfs(inst, ALL)
    # The copies are derived from the seed, whose put_fp breaks a locking rule (6 steps)
    # when there is a vcpu to put.
    assert set(res.violations) == props | ({"locking_rules"} if inst.config.vcpus else set())
    assert {len(res.violations[p]) for p in props} == {length}


def test_max_states_stops_incomplete() -> None:
    inst = Instance(Config(preemption="merged", cpus=1), get_variant("v4.17"))
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
    inst = Instance(Config(preemption="merged", cpus=1, tasks=0), variant)
    res, _ = explore_bfs(inst, ALL)
    assert res.deadlock is not None
    assert res.deadlock.steps[-1].label == "kvm_run(cpu0, vmm0, vcpu0)"


def test_state_graph_export(tmp_path) -> None:
    import networkx as nx

    from checker.graph import write_graph

    inst = Instance(Config(preemption="merged", cpus=1), get_variant("seed"))
    res, graph = explore_bfs(inst, ALL, keep_graph=True)
    path = tmp_path / "g.graphml"
    write_graph(inst, graph, res, str(path))
    g = nx.read_graphml(path)
    assert g.number_of_nodes() == 1522
    # the states on the four counterexamples (6, 6, 11 and 11 steps, sharing a prefix)
    assert sum(1 for _, d in g.nodes(data=True) if d["counterexample"]) == 13
    dot = tmp_path / "g.dot"
    write_graph(inst, graph, res, str(dot))
    assert dot.read_text().startswith("digraph fpcheck {")
