"""The kernel configuration (Kconfig) dimension: each primitive under each setting, against
the C of kernel/softirq.c, include/linux/{irqflags,bottom_half,lockdep}.h and
kernel/sched/core.c at v4.17/v4.18; the locks and locking rules; where preemption is
enabled under each preemption model (model.steps.preemptible)."""

from __future__ import annotations

import pytest

from checker.explicit.compile import compile_predicate
from model.config import KCONFIG_PRESETS, Config, apply_kconfig_options, kconfig_preset
from model.state import PCS, Layout
from model.steps import VOLUNTARY_SCHED_POINTS, preemptible
from tests.model.probe import Probe

PRESETS = list(KCONFIG_PRESETS)
IRQ_ON_RULE = ("local_irq_enable: locking irqs_on_under_irqsafe_lock: IRQs unmasked while "
               "this CPU's rq->lock (taken with IRQs off) is held")
SOFTIRQ_RULE = ("__do_softirq: locking softirq_under_irqsafe_lock: softirq handlers run "
                "while this CPU's rq->lock (taken with IRQs off) is held")
LOCKDEP_BH = ("__local_bh_enable_ip: lockdep lockdep_assert_irqs_enabled(): "
              "local_bh_enable() with IRQs disabled")


def probe(kconfig: str, variant: str = "seed", **cfg) -> Probe:
    return Probe(variant, **kconfig_preset(kconfig), **cfg)


def fields(kconfig: str) -> dict:
    return KCONFIG_PRESETS[kconfig]


# ------------------------------------------------------------------ configuration
def test_presets_and_their_rules() -> None:
    assert Config(preemption="merged").kconfig_name == "debug"
    assert fields("debug") == {"preempt": "PREEMPT", "prove_locking": True,
                               "trace_irqflags": True}
    assert fields("distro") == {"preempt": "PREEMPT_VOLUNTARY", "prove_locking": False,
                                "trace_irqflags": False}
    with pytest.raises(ValueError, match="PROVE_LOCKING selects"):
        Config(preemption="merged", prove_locking=True, trace_irqflags=False)
    with pytest.raises(ValueError, match="unknown preemption model"):
        Config(preemption="merged", preempt="PREEMPT_RT")
    assert apply_kconfig_options(fields("debug"), ["CONFIG_PREEMPT_NONE=y",
                                                   "PROVE_LOCKING=n"]) == {
        "preempt": "PREEMPT_NONE", "prove_locking": False, "trace_irqflags": True}


def test_old_traces_lockdep_flag_maps_to_presets() -> None:
    assert Config.from_json({"cpus": 1, "lockdep": True}).kconfig_name == "debug"
    assert Config.from_json({"cpus": 1, "lockdep": False}).kconfig_name == "preempt"
    c = Config.with_kconfig("distro", preemption="merged", cpus=1)
    assert Config.from_json(c.to_json()) == c
    assert "kconfig=distro (PREEMPT_VOLUNTARY)" in c.describe()


# ------------------------------------------------------------------ bottom halves
@pytest.mark.parametrize("kconfig", PRESETS)
def test_local_bh_disable(kconfig) -> None:
    """TRACE_IRQFLAGS: the out-of-line __local_bh_disable_ip() WARNs in hardirq context;
    the inline one does not.  Both only add to the count (IRQ mask restored)."""
    p = probe(kconfig)
    post, viol = p.run("local_bh_disable", **{"cpu0.in_irq": "1", "cpu0.irqs_disabled": "1"})
    assert post["cpu0.softirq_count"] == "1" and post["cpu0.irqs_disabled"] == "1"
    warn = ["__local_bh_disable_ip: WARN WARN_ON_ONCE(in_irq())"]
    assert viol == (warn if fields(kconfig)["trace_irqflags"] else [])


@pytest.mark.parametrize("kconfig", PRESETS)
def test_local_bh_enable_with_irqs_masked(kconfig) -> None:
    """__local_bh_enable_ip() with IRQs masked and nothing pending: lockdep's assert only
    with PROVE_LOCKING; with TRACE_IRQFLAGS it returns with IRQs *unmasked*."""
    p = probe(kconfig)
    post, viol = p.run("local_bh_enable", inputs=(False,),
                       **{"cpu0.softirq_count": "1", "cpu0.irqs_disabled": "1"})
    f = fields(kconfig)
    assert post["cpu0.softirq_count"] == "0"
    assert post["cpu0.irqs_disabled"] == ("0" if f["trace_irqflags"] else "1")
    assert viol == ([LOCKDEP_BH] if f["prove_locking"] else [])


@pytest.mark.parametrize("kconfig", PRESETS)
def test_local_bh_enable_under_the_rq_lock(kconfig) -> None:
    """Under rq->lock with IRQs masked (kvm_sched_out's situation).  No softirq pending:
    only TRACE_IRQFLAGS' final local_irq_enable() breaks a rule.  Softirq pending: every
    configuration runs it (IRQs unmasked by __do_softirq) under the lock."""
    f = fields(kconfig)
    p = probe(kconfig)
    state = {"cpu0.softirq_count": "1", "cpu0.irqs_disabled": "1", "cpu0.rq.lock": "1",
             "cpu0.preempt_count": "2"}
    post, viol = p.run("local_bh_enable", inputs=(False,), **state)
    rules = [v for v in viol if ": locking " in v]
    assert rules == ([IRQ_ON_RULE] if f["trace_irqflags"] else [])
    post, viol = p.run("local_bh_enable", inputs=(True,), **state)
    rules = [v for v in viol if ": locking " in v]
    # __do_softirq: the rule itself, then its own local_irq_enable() (and the handler's
    # kernel_neon_begin() -> local_bh_enable() with TRACE_IRQFLAGS), then the final one.
    assert rules[0] == SOFTIRQ_RULE and IRQ_ON_RULE in rules
    assert post["cpu0.regs.v"] == "kneon"  # the handler's NEON ran inside the switch
    assert post["cpu0.irqs_disabled"] == ("0" if f["trace_irqflags"] else "1")


def test_local_bh_enable_with_irqs_on_runs_softirq_on_every_config() -> None:
    for kconfig in PRESETS:
        post, viol = probe(kconfig).run("local_bh_enable", inputs=(True,),
                                        **{"cpu0.softirq_count": "1"})
        assert post["cpu0.regs.v"] == "kneon" and post["cpu0.irqs_disabled"] == "0"
        assert viol == [], kconfig


# ------------------------------------------------------------------ IRQ flags
def test_irq_enable_and_restore_under_rq_lock() -> None:
    p = probe("distro")
    _, viol = p.run("local_irq_enable", **{"cpu0.rq.lock": "1", "cpu0.irqs_disabled": "1"})
    assert viol == [IRQ_ON_RULE]
    _, viol = p.run("local_irq_enable", **{"cpu0.irqs_disabled": "1"})
    assert viol == []


@pytest.mark.parametrize("kconfig", PRESETS)
def test_irq_exit_asserts_irqs_masked_with_lockdep(kconfig) -> None:
    """arm64 has __ARCH_IRQ_EXIT_IRQS_DISABLED: irq_exit() asserts (PROVE_LOCKING only)."""
    _, viol = probe(kconfig).run("irq_exit", **{"cpu0.in_irq": "1", "cpu0.softirq_count": "1"})
    assert viol == (["irq_exit: lockdep lockdep_assert_irqs_disabled()"]
                    if fields(kconfig)["prove_locking"] else [])


# ------------------------------------------------------------------ locks
@pytest.mark.parametrize("kconfig", PRESETS)
def test_schedule_takes_and_releases_the_rq_lock(kconfig) -> None:
    post, viol = probe(kconfig, "v4.18").run("__schedule", 0, task="idle0",
                                             **{"cpu0.current": "idle0"})
    assert post["cpu0.rq.lock"] == "0" and post["cpu0.irqs_disabled"] == "0"
    assert post["cpu0.preempt_count"] == "0" and post["cpu0.current"] == "T0"
    assert viol == []
    # schedule() from atomic context: "BUG: scheduling while atomic"
    _, viol = probe(kconfig, "v4.18").run("__schedule", 0, task="idle0",
                                          **{"cpu0.current": "idle0",
                                             "cpu0.preempt_count": "1"})
    assert any("sleep_in_atomic" in v for v in viol)


@pytest.mark.parametrize("kconfig", PRESETS)
def test_sched_out_notifier_runs_under_the_rq_lock(kconfig) -> None:
    """kvm_sched_out() -> put_fp inside __schedule: the seed's bh pair breaks a rule on
    every configuration once a softirq is pending (and always with TRACE_IRQFLAGS);
    v4.18's local_irq_save/restore breaks none and leaves IRQs masked."""
    state = {"cpu0.current": "vmm0", "vmm0.pc": "LOOP_TOP", "vmm0.preempt_notifier": "vcpu0",
             "vcpu0.mutex": "vmm0", "vmm0.TIF_FOREIGN_FPSTATE": "0",
             "cpu0.fpsimd_last_state.st": "vmm0.uw", "vmm0.fpsimd_cpu": "cpu0"}
    f = fields(kconfig)
    _, viol = probe(kconfig).run("__schedule", 0, inputs=(False,), **state)
    rules = {v.split(": locking ")[1].split(":")[0] for v in viol if ": locking " in v}
    assert rules == ({"irqs_on_under_irqsafe_lock"} if f["trace_irqflags"] else set())
    if f["trace_irqflags"]:  # __switch_to's fpsimd_save() then runs with IRQs on
        assert "fpsimd_save: WARN WARN_ON(!in_softirq() && !irqs_disabled())" in viol
    _, viol = probe(kconfig).run("__schedule", 0, inputs=(True,), **state)
    rules = {v.split(": locking ")[1].split(":")[0] for v in viol if ": locking " in v}
    assert "softirq_under_irqsafe_lock" in rules
    _, viol = probe(kconfig, "v4.18").run("__schedule", 0, **state)
    assert viol == []


@pytest.mark.parametrize("kconfig", ["debug", "distro"])
def test_vcpu_mutex_is_a_sleeping_lock(kconfig) -> None:
    p = probe(kconfig)
    post, viol = p.run("mutex_lock", p.layout.vcpus[0].mutex, "&vcpu->mutex")
    assert post["vcpu0.mutex"] == "vmm0" and viol == []
    for atomic in ({"cpu0.preempt_count": "1"}, {"cpu0.irqs_disabled": "1"},
                   {"cpu0.softirq_count": "1"}, {"cpu0.rq.lock": "1"}):
        _, viol = p.run("mutex_lock", p.layout.vcpus[0].mutex, "&vcpu->mutex", **atomic)
        assert viol == ["might_sleep: locking sleep_in_atomic: mutex_lock(&vcpu->mutex) may "
                        "sleep in atomic context"], atomic
    post, viol = p.run("mutex_unlock", p.layout.vcpus[0].mutex, "&vcpu->mutex",
                       **{"vcpu0.mutex": "T0"})
    assert post["vcpu0.mutex"] == "NULL"
    assert viol == ["mutex_unlock: locking mutex_owner: mutex_unlock(&vcpu->mutex) by a task "
                    "that does not hold it"]


@pytest.mark.parametrize("vhe", [False, True])
def test_kvm_run_takes_the_mutex_and_map_fp_may_sleep_in_nvhe(vhe) -> None:
    p = probe("debug", vhe=vhe)
    post, viol = p.run("kvm_vcpu_ioctl_run", 0, **{"vmm0.pc": "USER"})
    assert post["vcpu0.mutex"] == "vmm0" and viol == []
    # called with preemption off, nVHE's create_hyp_mappings() (kvm_hyp_pgd_mutex) would
    # sleep in atomic context; VHE's returns at once
    _, viol = p.run("kvm_arch_vcpu_run_map_fp", 0, **{"cpu0.preempt_count": "1"})
    assert bool(viol) == (not vhe)


# ------------------------------------------------------------------ preemption model
@pytest.mark.parametrize("kconfig", PRESETS)
def test_where_preemption_is_enabled(kconfig) -> None:
    """CONFIG_PREEMPT: at every program point with IRQs on and counts zero (incl. after
    the loop, before vcpu_put); otherwise only at the explicit scheduling points."""
    S = Layout(Config.with_kconfig(kconfig, preemption="merged", cpus=1))
    t = S.TASK.index("vmm0")
    pred = compile_predicate(preemptible(S, 0, t))
    full = fields(kconfig)["preempt"] == "PREEMPT"
    for pc in PCS:
        state = list(S.initial_state())
        state[S.cpu[0].current.index] = t
        state[S.tasks[t].pc.index] = S.tasks[t].pc.dom.index(pc)
        expect = full or pc in VOLUNTARY_SCHED_POINTS
        assert pred(bytes(state)) == expect, (kconfig, pc)
        state[S.cpu[0].preempt_count.index] = 1
        assert not pred(bytes(state))
    assert "LOOP_EXIT" not in VOLUNTARY_SCHED_POINTS and "LOOP_TOP" in VOLUNTARY_SCHED_POINTS
