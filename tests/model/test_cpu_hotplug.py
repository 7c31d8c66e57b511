"""CPU hotplug (event cpu_hotplug): fpsimd_cpu_dead and the down/up paths against the C
(model/kernel/cpu_hotplug.py, model/kernel/fpsimd.py)."""

from __future__ import annotations

import pytest

from checker.explicit.explore import explore_bfs
from checker.instance import Instance
from model.config import Config
from model.variants import get_variant
from tests.model.probe import Probe

EV = {"events": ("cpu_hotplug",)}
T0_ON_CPU1 = {  # T0 last ran on cpu1 (saved when switched out); cpu1 now runs idle1
    "cpu1.fpsimd_last_state.st": "T0.uw",
    "T0.fpsimd_cpu": "cpu1",
    "cpu1.regs.v": "T0",
    "cpu1.regs.fpsr": "T0",
    "T0.uw.v": "T0",
    "T0.uw.fpsr": "T0",
}


@pytest.mark.parametrize("variant", ["v4.17", "seed", "v4.18-rc1", "v4.18"])
def test_fpsimd_cpu_dead_forgets_the_dead_cpus_binding(variant) -> None:
    p = Probe(variant, **EV)
    post, viol = p.run("fpsimd_cpu_dead", 1, cpu=0, task="T0",
                       **T0_ON_CPU1, **{"cpu0.current": "T0", "cpu1.current": "idle1"})
    assert post["cpu1.fpsimd_last_state.st"] == "NULL"
    assert post["T0.fpsimd_cpu"] == "cpu1"  # the task's side is untouched
    assert viol == []


def test_cpu_down_loses_power_and_runs_the_dead_callback() -> None:
    p = Probe("v4.18", **EV)
    pre = {**T0_ON_CPU1, "cpu1.current": "idle1"}
    post, viol = p.run("_cpu_down", 1, cpu=1, task="idle1", inputs=(True,), **pre)
    assert post["cpu1.online"] == "0"
    assert post["cpu1.regs.v"] == post["cpu1.regs.fpsr"] == "unknown"
    assert post["cpu1.fpsimd_last_state.st"] == "NULL"
    assert viol == []


@pytest.mark.parametrize("vhe,trap_var,untrapped", [
    (False, "cpu1.CPTR_EL2.TFP", "0"), (True, "cpu1.CPACR_EL1.FPEN", "1")])
def test_cpu_up_boots_with_host_fp_enabled_and_el0_sve_trapped(vhe, trap_var, untrapped) -> None:
    p = Probe("v4.18", sve=vhe, vhe=vhe, **EV)
    pre = {"cpu1.online": "0", trap_var: "1" if untrapped == "0" else "0"}
    if vhe:
        pre["cpu1.CPACR_EL1.ZEN_EL0EN"] = "1"
    post, viol = p.run("_cpu_up", 1, cpu=1, task="idle1", **pre)
    assert post["cpu1.online"] == "1" and post[trap_var] == untrapped
    if vhe:
        assert post["cpu1.CPACR_EL1.ZEN_EL0EN"] == "0"
    assert viol == []


def test_offline_cpu_runs_nothing() -> None:
    inst = Instance(Config(preemption="merged", **EV), get_variant("seed"))
    S = inst.layout
    for a in inst.actions:
        if a.name in ("cpu_down", "cpu_up"):
            continue
        state = list(S.initial_state())
        state[S.cpu[a.param("cpu")].online.index] = 0
        from checker.explicit.interp import guard_holds
        assert not guard_holds(a, tuple(state)), a.label


def _no_dead_callback():
    def fpsimd_cpu_dead(k, cpu):
        """fpsimd_cpu_dead() as before 32365e64a20e: no CPUHP callback at all."""

    return get_variant("v4.18").derive("v4.18-no-cpu-dead", "test",
                                       fpsimd_cpu_dead=fpsimd_cpu_dead)


def test_event_exercises_the_dead_callback() -> None:
    """Without fpsimd_cpu_dead (the bug 32365e64a20e fixed in 2015): a task whose state
    was bound to a CPU that went down and came back returns to EL0 on it without a
    reload, reading the reset CPU's UNKNOWN registers."""
    cfg = Config(preemption="merged", cpus=2, tasks=1, vmm_threads=0, vcpus=0, **EV)
    good, _ = explore_bfs(Instance(cfg, get_variant("v4.18")), ["no_loss", "no_leak"])
    assert good.complete and not good.violations
    bad, _ = explore_bfs(Instance(cfg, _no_dead_callback()), ["no_loss"])
    labels = [s.label for s in bad.violations["no_loss"].steps]
    assert any(x.startswith("cpu_down") for x in labels)
    assert any(x.startswith("cpu_up") for x in labels)


def test_one_cpu_has_no_hotplug_steps() -> None:
    inst = Instance(Config(preemption="merged", cpus=1, **EV), get_variant("seed"))
    assert not {a.name for a in inst.actions} & {"cpu_down", "cpu_up"}
