"""CPU PM (event cpu_pm): fpsimd_cpu_pm_notifier and its callers against the C of each
version (model/kernel/cpu_pm.py, model/kernel/fpsimd.py, model/variants/v4_17.py)."""

from __future__ import annotations

import pytest

from checker.explicit.explore import explore_bfs
from checker.instance import Instance
from model.config import Config
from model.variants import get_variant
from tests.model.probe import Probe

EV = {"events": ("cpu_pm",)}
T0_LIVE = {  # T0 runs on cpu0 in a syscall, its own latest value live and bound
    "cpu0.current": "T0",
    "T0.pc": "KERNEL",
    "cpu0.regs.v": "T0",
    "cpu0.regs.fpsr": "T0",
    "cpu0.fpsimd_last_state.st": "T0.uw",
    "T0.fpsimd_cpu": "cpu0",
    "T0.TIF_FOREIGN_FPSTATE": "0",
    "T0.uw.v": "T0~",
    "T0.uw.fpsr": "T0~",
}
T0_BOUND_IDLE = {  # idle0 runs on cpu0; T0 (asleep) still has its state there
    **T0_LIVE, "cpu0.current": "idle0",
}
ENTER_OK, ENTER_FAILS = False, True
KEPT, LOST = False, True


@pytest.fixture(params=["seed", "v4.18-rc1", "v4.18"])
def lazy(request) -> Probe:
    return Probe(request.param, **EV)


@pytest.fixture
def v417() -> Probe:
    return Probe("v4.17", **EV)


def test_enter_saves_and_flushes(lazy: Probe) -> None:
    post, viol = lazy.run("fpsimd_cpu_pm_notifier", "CPU_PM_ENTER", task="T0",
                          **T0_LIVE, **{"cpu0.irqs_disabled": "1"})
    assert (post["T0.uw.v"], post["T0.uw.fpsr"]) == ("T0", "T0")
    assert post["cpu0.fpsimd_last_state.st"] == "NULL"
    assert post["T0.TIF_FOREIGN_FPSTATE"] == "1"
    assert viol == []


def test_exit_does_nothing_after_v4_17(lazy: Probe) -> None:
    pre = {**T0_LIVE, "cpu0.irqs_disabled": "1"}
    post, viol = lazy.run("fpsimd_cpu_pm_notifier", "CPU_PM_EXIT", task="T0", **pre)
    assert post == lazy.layout.state_dict(lazy.state(**pre)) and viol == []


def test_enter_checks_fpsimd_save_context(lazy: Probe) -> None:
    _, viol = lazy.run("fpsimd_cpu_pm_notifier", "CPU_PM_ENTER", task="T0", **T0_LIVE)
    assert viol == ["fpsimd_save: WARN WARN_ON(!in_softirq() && !irqs_disabled())"]


def test_v417_enter_saves_own_buffer_and_exit_sets_foreign(v417: Probe) -> None:
    pre = {**T0_LIVE, "cpu0.irqs_disabled": "1"}
    post, viol = v417.run("fpsimd_cpu_pm_notifier", "CPU_PM_ENTER", task="T0", **pre)
    assert post["T0.uw.v"] == "T0" and post["cpu0.fpsimd_last_state.st"] == "NULL"
    assert post["T0.TIF_FOREIGN_FPSTATE"] == "0"  # v4.17's flush leaves the flag alone
    assert viol == []
    post, _ = v417.run("fpsimd_cpu_pm_notifier", "CPU_PM_EXIT", task="T0", **pre)
    assert post["T0.TIF_FOREIGN_FPSTATE"] == "1"


def test_v417_kernel_thread_is_not_saved_nor_flagged(v417: Probe) -> None:
    pre = {**T0_BOUND_IDLE, "cpu0.irqs_disabled": "1", "idle0.TIF_FOREIGN_FPSTATE": "0"}
    post, _ = v417.run("fpsimd_cpu_pm_notifier", "CPU_PM_ENTER", task="idle0", **pre)
    assert post["T0.uw.v"] == "T0~"  # current->mm is NULL: no save
    assert post["cpu0.fpsimd_last_state.st"] == "NULL"
    post, _ = v417.run("fpsimd_cpu_pm_notifier", "CPU_PM_EXIT", task="idle0", **pre)
    assert post["idle0.TIF_FOREIGN_FPSTATE"] == "0"


@pytest.mark.parametrize("inputs,regs,st", [
    ((ENTER_OK, LOST), "unknown", "NULL"),
    ((ENTER_OK, KEPT), "T0", "NULL"),
    ((ENTER_FAILS, LOST), "T0", "NULL"),  # ENTER ran, ENTER_FAILED, no power-down
])
def test_cpuidle_power_down(lazy: Probe, inputs, regs, st) -> None:
    post, viol = lazy.run("do_idle", task="idle0", inputs=inputs, **T0_BOUND_IDLE)
    assert post["cpu0.regs.v"] == regs and post["cpu0.regs.fpsr"] == regs
    assert post["cpu0.fpsimd_last_state.st"] == st
    assert post["T0.uw.v"] == "T0~"  # idle's notifier saves nothing: T0 was saved when
    assert post["cpu0.irqs_disabled"] == "0"  # it was switched out
    assert viol == []


def test_cpu_pm_keeps_trap_controls() -> None:
    """cpu_do_suspend/cpu_do_resume save and restore CPACR_EL1: ZEN_EL0EN survives."""
    p = Probe("v4.18", sve=True, vhe=True, **EV)
    pre = {**T0_LIVE, "cpu0.CPACR_EL1.ZEN_EL0EN": "1", "T0.TIF_SVE": "1"}
    post, _ = p.run("suspend_enter", task="T0", inputs=(ENTER_OK, LOST), **pre)
    assert post["cpu0.CPACR_EL1.ZEN_EL0EN"] == "1" and post["cpu0.regs.zhi"] == "unknown"
    assert post["T0.sve_state.v"] == "T0"  # saved in SVE format before the power-down


@pytest.mark.parametrize("variant,foreign", [("seed", "1"), ("v4.18", "1"), ("v4.17", "1")])
def test_system_suspend_from_a_task(variant, foreign) -> None:
    post, viol = Probe(variant, **EV).run("suspend_enter", task="T0",
                                          inputs=(ENTER_OK, LOST), **T0_LIVE)
    assert post["T0.uw.v"] == "T0" and post["cpu0.regs.v"] == "unknown"
    assert post["T0.TIF_FOREIGN_FPSTATE"] == foreign  # so ret_to_user reloads
    assert viol == []


def _v417_exit_forgets_foreign():
    from model.variants import v4_17

    def fpsimd_cpu_pm_notifier(k, cmd):
        if cmd == "CPU_PM_ENTER":
            v4_17.fpsimd_cpu_pm_notifier(k, cmd)

    return get_variant("v4.17").derive("v4.17-pm-exit-no-foreign", "test",
                                       fpsimd_cpu_pm_notifier=fpsimd_cpu_pm_notifier)


def test_event_exercises_v417_exit_flag() -> None:
    """v4.17 needs CPU_PM_EXIT's TIF_FOREIGN_FPSTATE (its flush does not set it): without
    it a task that suspended the system returns to EL0 with power-lost registers."""
    cfg = Config(preemption="merged", cpus=1, tasks=1, vmm_threads=0, vcpus=0, **EV)
    good, _ = explore_bfs(Instance(cfg, get_variant("v4.17")), ["no_loss", "no_leak"])
    assert good.complete and not good.violations
    bad, _ = explore_bfs(Instance(cfg, _v417_exit_forgets_foreign()), ["no_loss"])
    tr = bad.violations["no_loss"]
    assert any(s.label.startswith("suspend_enter") for s in tr.steps)


def test_steps_only_with_the_event() -> None:
    names = {a.name for a in Instance(Config(), get_variant("seed")).actions}
    assert not names & {"cpu_idle_pm", "suspend_enter"}
    inst = Instance(Config(preemption="merged", **EV), get_variant("seed"))
    assert {"cpu_idle_pm", "suspend_enter"} <= {a.name for a in inst.actions}
    assert "unknown" in inst.layout.VALUE.labels
    assert "unknown" not in Instance(Config(), get_variant("seed")).layout.VALUE.labels
