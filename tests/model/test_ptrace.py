"""ptrace (event ``ptrace_fpr_set``, and the SVE regset): the stop/resume steps and
fpr_set() on a stopped tracee (model/kernel/ptrace.py)."""

from __future__ import annotations

import pytest

from checker.explicit.explore import explore_bfs
from checker.instance import PROPERTY_NAMES, Instance
from model.config import Config
from model.variants import get_variant
from tests.model.probe import Probe

CFG = {"cpus": 2, "tasks": 1, "vmm_threads": 1, "vcpus": 0, "events": ("ptrace_fpr_set",)}
STOPS = {**CFG, "events": ("ptrace_fpr_set", "ptrace_stop")}


def test_stop_switches_out_and_blocks_scheduling() -> None:
    p = Probe("v4.18", **STOPS)
    post, viol = p.run("ptrace_stop", p.layout.TASK.index("idle0"), task="T0",
                       **{"cpu0.current": "T0", "T0.pc": "KERNEL"})
    assert viol == [] and post["T0.ptrace_stopped"] == "1" and post["cpu0.current"] == "idle0"
    inst = Instance(Config(preemption="merged", **STOPS), get_variant("v4.18"))
    for a in inst.actions:
        if a.name == "schedule" and dict(a.params)["next"] == 0:
            assert "T0.ptrace_stopped" in repr(a.guard)  # runnable(next)


def test_fpr_set_writes_a_new_generation_and_flushes() -> None:
    """fpr_set: uw.fpsimd_state gets the tracer's data, the tracee's CPU copy is
    invalidated (fpsimd_cpu = NR_CPUS): the v4.17 and v4.18 code is the same."""
    for variant in ("v4.17", "v4.18"):
        p = Probe(variant, **CFG)
        post, viol = p.run("fpr_set", 0, task="vmm0",
                           **{"cpu0.current": "vmm0",
                              "T0.fpsimd_cpu": "cpu1", "cpu1.fpsimd_last_state.st": "T0.uw",
                              "cpu1.regs.v": "T0"})
        assert viol == []
        assert (post["T0.uw.v"], post["T0.uw.fpsr"]) == ("T0", "T0")
        assert post["cpu1.regs.v"] == "T0~" and post["T0.fpsimd_cpu"] == "NR_CPUS"


def test_fpr_set_on_sve_tracee_zero_pads_sve_state() -> None:
    p = Probe("v4.18", sve=True, vhe=True, **CFG)
    post, _ = p.run("fpr_set", 0, task="vmm0",
                    **{"cpu0.current": "vmm0", "T0.TIF_SVE": "1",
                       "T0.sve_state.v": "T0", "T0.sve_state.zhi": "T0",
                       "T0.sve_state.p": "T0", "ghost.T0.p_written": "1"})
    assert post["T0.sve_state.v"] == "T0" and post["T0.uw.v"] == "T0"
    assert post["T0.sve_state.zhi"] == "0" and post["T0.sve_state.p"] == "0"
    assert post["ghost.T0.zhi_written"] == "0" and post["ghost.T0.p_written"] == "0"


def test_writes_need_a_stopped_switched_out_tracee() -> None:
    for cfg, stop in ((CFG, False), (STOPS, True)):
        inst = Instance(Config(preemption="merged",
                               **cfg, sve=True, vhe=True), get_variant("v4.18"))
        names = {a.name for a in inst.actions}
        assert {"ptrace_fpr_set", "ptrace_sve_set"} <= names
        assert ("ptrace_stop" in names) == stop
        for a in inst.actions:
            if a.name in ("ptrace_fpr_set", "ptrace_sve_set"):
                g = repr(a.guard)
                assert "current" in g and "KERNEL" in g
                assert ("ptrace_stopped" in g) == stop


def _project(inst: Instance, states) -> set:  # noqa: ANN001
    keep = [v.index for v in inst.layout.vars if not v.name.endswith("ptrace_stopped")]
    return {tuple(s[i] for i in keep) for s in states}


@pytest.mark.slow  # four complete reference-engine explorations with the graph kept
def test_explicit_stops_reach_the_same_states() -> None:
    """The argument of model.steps._stopped_target, checked on a finer model: with the
    ptrace stop/resume steps (event ptrace_stop) the reachable states, without the
    stopped flags, are exactly those of the coarse model, with a vcpu (the KVM_RUN
    syscall-entry stop) and with SVE (NT_ARM_SVE writes)."""
    for extra in ({"cpus": 1, "vcpus": 1}, {"cpus": 1, "vcpus": 0, "sve": True}):
        sets, verdicts = [], []
        for cfg in (CFG, STOPS):
            inst = Instance(Config(preemption="merged", **{**cfg, **extra, "lockdep": False}),
                            get_variant("v4.18"))
            res, graph = explore_bfs(inst, list(PROPERTY_NAMES), keep_graph=True)
            assert res.complete
            sets.append(_project(inst, graph[0]))
            verdicts.append(set(res.violations))
        assert sets[0] == sets[1] and verdicts[0] == verdicts[1]


def test_fpr_set_holds_and_reaches_a_live_tracee() -> None:
    """v4.18 holds with fpr_set on two CPUs, and the model writes a tracee whose state is
    still in another CPU's registers (guard tracee_state_live_at_fpr_set)."""
    inst = Instance(Config(preemption="merged", **CFG), get_variant("v4.18"))
    res, _ = explore_bfs(inst, list(PROPERTY_NAMES))
    assert res.complete and not res.violations
    assert res.guards_reached.get("tracee_state_live_at_fpr_set") is not None
    assert res.coverage["ptrace_fpr_set"] > 0


def test_fpr_set_without_flush_loses() -> None:
    """Without fpsimd_flush_task_state() the tracee returns to its stale registers."""
    from model.ctx import Ctx

    def fpr_set(k: Ctx, target: int) -> None:
        k.__fpr_set(target)
        k.sve_sync_from_fpsimd_zeropad(target)

    bad = get_variant("v4.18").derive("no-flush", "test", fpr_set=fpr_set)
    inst = Instance(Config(preemption="merged", **{**CFG, "cpus": 1}), bad)
    res, _ = explore_bfs(inst, ["no_loss"], stop_early=True)
    assert "no_loss" in res.violations
