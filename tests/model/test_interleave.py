"""Interleaving points derived from the execution state (model/interleave.py, Ctx)."""

from __future__ import annotations

from checker.explicit.explore import explore_bfs
from checker.instance import PROPERTY_NAMES, Instance
from model.config import Config
from model.ctx import Ctx
from model.dsl import If, Input, walk_stmts
from model.interleave import ExecState, entry_state
from model.state import Layout
from model.variants import get_variant
from tests.broken_variants import BROKEN


def _points(inst: Instance, step: str) -> list[str]:
    return [i for a in inst.actions if a.name == step for i in a.inputs if i.startswith("IRQ")]


def test_exec_state_tracks_counts_and_restores() -> None:
    S = Layout(Config(preemption="merged", cpus=1))
    k = Ctx(S, get_variant("seed"), 0, 0)
    k.begin_step(S.tasks[0].pc.eq("KERNEL"))
    cpu = S.cpu[0]
    assert k.irq_possible()
    k.local_bh_disable()
    assert k._exec.value(cpu.softirq_count) == ("d", 1) and not k.irq_possible()
    k.local_bh_enable()
    assert k._exec.value(cpu.softirq_count) == ("d", 0) and k.irq_possible()
    k.local_irq_disable()
    assert not k.irq_possible()
    flags = k.let("flags", cpu.irqs_disabled)
    k.local_irq_enable()
    k.set(cpu.irqs_disabled, flags)  # local_irq_restore(flags) with IRQs masked
    assert not k.irq_possible()


def test_exec_state_join_and_facts() -> None:
    S = Layout(Config(preemption="merged", cpus=1))
    busy = S.cpu[0].kernel_neon_busy
    e = entry_state()
    e.assume(busy.eq(1))
    assert e.eval(busy.eq(0)) == ("c", 0)
    f = ExecState()
    assert e.join(f).eval(busy.eq(0)) is None


def test_irq_sets_specialise_to_known_state() -> None:
    """Inside a kernel-NEON section (kernel_neon_busy known set) the IRQ's softirq cannot
    use NEON: it changes nothing, so no point is emitted there.  (The IRQ's softirq checks
    the locking rule on this CPU's rq->lock, so the step must know the lock is free, as it
    is at every step boundary: __schedule() takes and drops it within its step.)"""
    S = Layout(Config(preemption="merged", cpus=1))
    k = Ctx(S, get_variant("seed"), 0, 0)
    k.begin_step(S.tasks[0].pc.eq("KERNEL") & S.cpu[0].rq_lock.eq(0))
    assert not k.irq_sets().identity  # may_use_simd() unknown: NEON may run
    k.set(S.cpu[0].kernel_neon_busy, True)
    assert k.irq_sets().identity


def test_points_follow_the_protection() -> None:
    """The seed's put_fp runs under local_bh_disable(): no IRQ inside it; without the
    pair, IRQ points appear inside kvm_arch_vcpu_put_fp."""
    cfg = Config(preemption="merged", cpus=1)
    seed = Instance(cfg, get_variant("seed"))
    assert not [p for p in _points(seed, "vcpu_put") if "put_fp" in p or "bind" in p]
    mutant = Instance(cfg, BROKEN["put-fp-no-bh"])
    inside = [p for p in _points(mutant, "vcpu_put") if "fpsimd_bind_task_to_cpu" in p
              or "fpsimd_save" in p]
    assert inside


def test_no_points_in_user_or_guest_code() -> None:
    inst = Instance(Config(preemption="merged", cpus=1), get_variant("seed"))
    for a in inst.actions:
        if a.name in ("user_fp_write", "guest_fp_write", "guest_fp_trap", "guest_exit", "irq"):
            assert not any(i.startswith("IRQ") for i in a.inputs), a.label


def test_irq_point_is_guarded_by_execution_state() -> None:
    """Every IRQ point's condition reads the CPU's IRQ mask and softirq count."""
    inst = Instance(Config(preemption="merged", cpus=1), get_variant("seed"))
    S = inst.layout
    for a in inst.actions:
        for st in walk_stmts(a.body):
            if isinstance(st, If) and any(isinstance(x, Input) and x.name.startswith("IRQ")
                                          for x in _leaves(st.cond)):
                names = {x.name for x in _leaves(st.cond) if hasattr(x, "index")}
                assert S.cpu[0].irqs_disabled.name in names
                assert S.cpu[0].softirq_count.name in names


def _leaves(e):
    from model.dsl import walk_exprs
    return list(walk_exprs(e))


def test_put_fp_without_bh_pair_leaks_kernel_neon_data() -> None:
    """Issue 7 item 7: dropping put_fp's local_bh_disable() opens a window where a
    softirq's kernel NEON runs between the TIF_FOREIGN_FPSTATE test and the rebind;
    the task later returns to user space with kernel data (not only fpsimd_save's
    WARN, which is all the model found when steps were declared atomic)."""
    inst = Instance(Config(preemption="merged", cpus=1), BROKEN["put-fp-no-bh"])
    res = explore_bfs(inst, list(PROPERTY_NAMES))[0]
    assert {"no_loss", "no_leak", "kernel_asserts"} <= set(res.violations)


def test_seed_states_unchanged_by_irq_points() -> None:
    """Without TRACE_IRQFLAGS the protections of the unmodified code keep every IRQ point
    equivalent to an IRQ between steps: the reachable states of the seed are the same as
    with atomic steps.  (With TRACE_IRQFLAGS the seed's local_bh_enable() under rq->lock
    unmasks IRQs inside __schedule(), and the IRQ points there are real: README.)"""
    inst = Instance(Config.with_kconfig("preempt", preemption="merged",
                                        cpus=1, vmm_threads=2), get_variant("seed"))
    res = explore_bfs(inst, list(PROPERTY_NAMES))[0]
    assert res.stats.states == 4472


def test_kernel_neon_tokens_per_kind() -> None:
    S = Layout(Config(preemption="merged", cpus=1))
    task, soft = S.kneon_section(False), S.kneon_section(True)
    assert S.VALUE.labels[task] == "kneon.task" and S.VALUE.labels[soft] == "kneon.softirq"
    assert S.is_kneon(S.KNEON) and S.is_kneon(task) and not S.is_kneon(S.latest(0))


def test_kernel_neon_section_reads_back_own_data() -> None:
    """The seed's sections read back their own data: the ghost never sets, and no
    section token survives a step (it is relabelled plain kneon at the read-back).
    (Without TRACE_IRQFLAGS: with it, an IRQ inside the seed's __schedule() really
    overwrites a section's data, README "Verdicts per kernel configuration".)"""
    inst = Instance(Config.with_kconfig("preempt", preemption="merged",
                                        cpus=1), get_variant("seed"))
    res, graph = explore_bfs(inst, ["no_loss"], keep_graph=True)
    assert "no_loss" not in res.violations
    S = inst.layout
    lost = S.kneon_lost.index
    toks = {S.kneon_section(False), S.kneon_section(True)}
    for s in graph[0]:
        assert s[lost] == 0
        assert not any(s[v.index] in toks for v in S.vars if v.dom is S.VALUE)


def test_may_use_simd_ignoring_busy_loses_kernel_neon_data() -> None:
    """Issue 7 item 8: a may_use_simd() that ignores kernel_neon_busy lets a softirq's
    NEON run inside a task's section; the section's read-back sees the softirq's data
    (no_loss), not only kernel_neon_end()'s WARN."""
    inst = Instance(Config(preemption="merged", cpus=1), BROKEN["may-use-simd-ignores-busy"])
    res = explore_bfs(inst, list(PROPERTY_NAMES))[0]
    assert "no_loss" in res.violations and "kernel_asserts" in res.violations


def test_known_preemption_windows_of_the_seed() -> None:
    """The windows the build finds in the seed (each argued in ARCHITECTURE.md,
    "Preemption"); a new one in a variant is reported by `explore`."""
    from model.interleave import preemption_windows

    inst = Instance(Config(preemption="merged", cpus=1), get_variant("seed"))
    steps = sorted({s for s, _ in preemption_windows(inst.actions)})
    assert steps == ["ret_to_user", "syscall_kernel_neon"]


def test_neon_begin_enabling_bh_early_opens_a_preemption_window() -> None:
    from model.interleave import preemption_windows

    cfg = Config(preemption="merged", cpus=1)
    seed = preemption_windows(Instance(cfg, get_variant("seed")).actions)
    mutant = preemption_windows(Instance(cfg, BROKEN["neon-begin-early-bh"]).actions)
    new = mutant - seed
    assert new and all(s == "syscall_kernel_neon" for s, _ in new)
    assert any("fpsimd_save" in w for _, w in new)


def test_explore_notes_new_preemption_windows(capsys, tmp_path) -> None:
    from checker.cli import main

    main(["explore", "--variant-file", "counterexamples/mutants.py", "--variant",
          "mutant-neon-begin-early-bh", "--cpus", "1", "--nvhe", "--quiet",
          "--property", "no_leak", "--preemption", "merged", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert "step syscall_kernel_neon may be preempted inside where seed may not" in err
