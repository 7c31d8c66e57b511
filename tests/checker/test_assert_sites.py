"""One shortest trace per assertion site, and the real call stack at a failing check."""

from __future__ import annotations

import json

from checker.cli import main
from checker.explicit.compile import compiled
from checker.explicit.explore import explore_bfs
from checker.explicit.interp import run_traced
from checker.inspect.describe import assert_path, verdict
from checker.instance import KERNEL_ASSERTS, PROPERTY_NAMES, Instance
from checker.trace import Step, Trace, trace_from_json
from model.config import Config
from model.ctx import Ctx
from model.variants import get_variant
from tests.checker.test_overflow import NEON_END_NO_PREEMPT_ENABLE, OVERFLOW

LOCKDEP_BH = ("__local_bh_enable_ip: lockdep lockdep_assert_irqs_enabled(): "
              "local_bh_enable() with IRQs disabled")


def kernel_neon_begin_irqs_off(k: Ctx) -> None:
    """Test mutant of kernel_neon_begin(): masks IRQs around its bh-disabled section, so
    its own local_bh_enable() runs with IRQs off (a lockdep splat), while the
    local_bh_enable() of fpsimd_restore_current_state(), which ran the softirq that
    called it, passed the same checks a moment before."""
    cpu = k.this_cpu
    k.check(k.may_use_simd(), "BUG", "kernel_neon_begin", "BUG_ON(!may_use_simd())")
    k.local_irq_disable()
    k.local_bh_disable()
    k.set(cpu.kernel_neon_busy, True)
    k.fpsimd_save()
    k.fpsimd_flush_cpu_state()
    k.preempt_disable()
    k.local_bh_enable()
    k.local_irq_enable()


def _action(inst: Instance, name: str, **params: int) -> int:
    want = tuple(sorted(params.items()))
    return next(i for i, a in enumerate(inst.actions) if a.name == name and a.params == want)


def test_stack_names_the_real_caller_of_a_primitive_reached_twice() -> None:
    """ret_to_user with a softirq pending: local_bh_enable() is reached from
    fpsimd_restore_current_state() (passes) and, inside the softirq it runs, from
    kernel_neon_begin() (fails).  The stack is the one at the failing check; the old
    guess from first-call order named fpsimd_restore_current_state's neighbours."""
    variant = get_variant("seed").derive("test-neon-begin-irqs-off", "test",
                                         kernel_neon_begin=kernel_neon_begin_irqs_off)
    inst = Instance(Config(preemption="merged", cpus=1, vhe=True), variant)
    comp = compiled(inst)
    s0 = inst.layout.initial_state()
    to_t0 = next(i for i, a in enumerate(inst.actions)  # idle0 -> T0 on cpu0
                 if a.name == "schedule" and a.param("next") == 0 and comp.guards[i](bytes(s0)))
    s1, viol = comp.fire(to_t0, s0, (False,) * len(inst.actions[to_t0].inputs))
    assert not viol
    ret = _action(inst, "ret_to_user", cpu=0, task=0)
    act = inst.actions[ret]
    assert comp.guards[ret](bytes(s1))
    # the softirq is pending at local_bh_enable(); no IRQ is taken inside the step
    inputs = tuple(n.startswith("softirq pending at local_bh_enable") for n in act.inputs)
    nxt, viol_i, called, stacks = run_traced(act, s1, inputs)
    assert called.count("local_bh_enable") == 2 and "kernel_neon_begin" in called
    assert LOCKDEP_BH in viol_i
    assert stacks[LOCKDEP_BH] == (
        "ret_to_user", "fpsimd_restore_current_state", "local_bh_enable", "do_softirq",
        "__do_softirq", "softirq_handler_using_neon", "kernel_neon_begin",
        "local_bh_enable")
    # The compiled engine agrees on the step (same successor, same failing sites).
    nxt_c, viol_c = comp.fire(ret, s1, inputs)
    assert nxt_c == nxt and set(viol_c) == set(viol_i)
    # A trace step records it, and the verdict prints it.
    step = Step.make(inst, act, inputs, nxt, viol_c, s1)
    assert step.stacks[LOCKDEP_BH][-2:] == ["kernel_neon_begin", "local_bh_enable"]
    trace = Trace.make(inst, KERNEL_ASSERTS, LOCKDEP_BH, s0, [step], "test")
    assert trace_from_json(trace.to_json()).steps[0].stacks == step.stacks
    assert "softirq_handler_using_neon → kernel_neon_begin → local_bh_enable" in \
        verdict(trace).headline
    # Without recorded stacks (old traces) the guess misses the real caller.
    old = Step(step.action, step.label, step.params, step.inputs, step.functions,
               step.state, step.violations)
    assert "kernel_neon_begin" not in assert_path(old, LOCKDEP_BH)


def test_seed_finding_has_its_full_stack() -> None:
    inst = Instance(Config(preemption="merged", cpus=1, vhe=True), get_variant("seed"))
    res, _ = explore_bfs(inst, [KERNEL_ASSERTS])
    tr = res.violations[KERNEL_ASSERTS]
    assert tr.steps[-1].stacks[LOCKDEP_BH] == [
        "__schedule", "fire_sched_out_preempt_notifiers", "kvm_sched_out",
        "kvm_arch_vcpu_put", "kvm_arch_vcpu_put_fp", "local_bh_enable"]


def test_each_site_gets_its_own_shortest_trace() -> None:
    """The unbalanced preempt_disable mutant fails two sites: the counter overflow (IRQs
    whose softirqs use NEON, each leaving the count one higher, taken at the IRQ points
    of one step) and the seed's lockdep splat (6 steps).  Each gets a trace whose last
    step fails it; BMC (below) finds each at the same length, so none is longer than
    needed."""
    inst = Instance(Config(preemption="merged", cpus=1, vhe=True), NEON_END_NO_PREEMPT_ENABLE)
    res, _ = explore_bfs(inst, list(PROPERTY_NAMES))
    sites = res.assertion_sites
    # (on the debug preset the locking rules add their own sites: the leaked preempt
    # count makes schedule() and mutex_lock() atomic, and the seed's put_fp unmasks IRQs
    # under the rq lock)
    assert {OVERFLOW, LOCKDEP_BH} <= set(sites)
    assert res.check_kinds[OVERFLOW] == "overflow" and res.check_kinds[LOCKDEP_BH] == "lockdep"
    assert len(sites[LOCKDEP_BH]) == 6 and len(sites[OVERFLOW]) < 6
    lengths = [len(t) for t in sites.values()]
    assert lengths == sorted(lengths)  # found in BFS order
    for cid, tr in sites.items():
        assert cid in tr.steps[-1].violations
        assert all(cid not in s.violations for s in tr.steps[:-1])
    # The property's trace is the shortest site's (the same object, written once).
    assert sites[OVERFLOW] is res.violations[KERNEL_ASSERTS]
    assert sites[LOCKDEP_BH].assertion == LOCKDEP_BH
    assert res.stats.time_to_site.keys() == sites.keys()


def test_bmc_finds_each_site_at_the_same_length() -> None:
    from checker.smt.bmc import bmc

    # No user task: the same seven sites at the same lengths as with one (the KVM
    # thread's paths reach them all), a fifth of the states and a smaller BMC encoding.
    inst = Instance(Config(preemption="merged", cpus=1, tasks=0, vhe=True),
                    NEON_END_NO_PREEMPT_ENABLE)
    ref, _ = explore_bfs(inst, [KERNEL_ASSERTS])
    want = {c: len(t) for c, t in ref.assertion_sites.items()}
    assert len(want) == 7
    res = bmc(inst, [KERNEL_ASSERTS], max(want.values()), each_site=True)
    assert {c: r.depth for c, r in res.sites.items()} == want
    for cid, r in res.sites.items():
        assert cid in r.trace.steps[-1].violations and r.trace.assertion == cid


def test_cli_lists_sites_and_writes_one_file_each(tmp_path, capsys) -> None:
    code = main(["explore", "--cpus", "1", "--vhe", "--json", "--out", str(tmp_path),
                 "--variant-file", "counterexamples/mutants.py",
                 "--variant", "mutant-neon-end-no-preempt-enable"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    rows = data["runs"][0]["assertions"]
    by_id = {r["id"]: r for r in rows}
    assert by_id[OVERFLOW]["kind"] == "overflow" and by_id[LOCKDEP_BH]["length"] == 6
    files = {r["counterexample"] for r in rows}
    assert len(files) == len(rows)
    assert all((tmp_path / f.rsplit("/", 1)[-1]).exists() for f in files)
    assert by_id[OVERFLOW]["counterexample"] == \
        data["runs"][0]["properties"]["kernel_asserts"]["counterexample"]
    per_site = json.loads(open(by_id[LOCKDEP_BH]["counterexample"]).read())
    assert per_site["assertion"] == LOCKDEP_BH
    # replay checks that very site
    assert main(["replay", by_id[LOCKDEP_BH]["counterexample"], "--variant-file",
                 "counterexamples/mutants.py"]) == 1
    assert "REPRODUCES: kernel_asserts is violated again at step 6" in \
        capsys.readouterr().out


def test_native_engine_reports_the_same_sites() -> None:
    """The native engine records each check's first failing transition in C: the same
    sites, lengths and kinds as the reference engine, and the overflow as a finding."""
    import pytest

    from checker.native import NativeUnavailable, explore_native
    from model.config import kconfig_preset

    # (the preempt preset: on debug the mutant's schedule step has more IRQ points than
    # the native engine enumerates, and explore falls back to the Python engine)
    inst = Instance(Config(preemption="merged", cpus=1, vhe=True, **kconfig_preset("preempt")),
                    NEON_END_NO_PREEMPT_ENABLE)
    try:
        nat, _ = explore_native(inst, list(PROPERTY_NAMES), workers=2)
    except NativeUnavailable as exc:
        pytest.skip(f"no native engine here: {exc}")
    ref, _ = explore_bfs(inst, list(PROPERTY_NAMES))
    assert {c: len(t) for c, t in nat.assertion_sites.items()} == \
        {c: len(t) for c, t in ref.assertion_sites.items()}
    assert list(nat.assertion_sites) == list(ref.assertion_sites)
    assert nat.check_kinds == ref.check_kinds
    assert (nat.stats.states, nat.stats.transitions) == (ref.stats.states, ref.stats.transitions)
    for cid, tr in nat.assertion_sites.items():
        assert cid in tr.steps[-1].violations and tr.steps[-1].stacks[cid]
