"""exec (event ``exec``): fpsimd_flush_thread from flush_thread, and what the new
program must read (model/kernel/process.py, fpsimd.py)."""

from __future__ import annotations

import pytest

from checker.explicit.explore import explore_bfs
from checker.instance import PROPERTY_NAMES, Instance
from model.config import Config
from model.variants import get_variant
from tests.model.probe import Probe

LIVE = {  # T0 in execve(), its state live on cpu0
    "cpu0.current": "T0", "T0.pc": "KERNEL", "T0.TIF_FOREIGN_FPSTATE": "0",
    "cpu0.fpsimd_last_state.st": "T0.uw", "T0.fpsimd_cpu": "cpu0",
    "cpu0.regs.v": "T0", "cpu0.regs.fpsr": "T0",
}


@pytest.mark.parametrize("variant", ["v4.17", "seed", "v4.18"])
def test_flush_thread_zeroes_and_invalidates(variant: str) -> None:
    """fpsimd_flush_thread: memset uw.fpsimd_state, fpsimd_cpu = NR_CPUS,
    TIF_FOREIGN_FPSTATE set, all under local_bh_disable (no assertion fails)."""
    p = Probe(variant, events=("exec",))
    post, viol = p.run("sys_execve", task="T0", inputs=(False,), **LIVE)
    assert viol == []
    assert (post["T0.uw.v"], post["T0.uw.fpsr"]) == ("0", "0")
    assert post["T0.fpsimd_cpu"] == "NR_CPUS" and post["T0.TIF_FOREIGN_FPSTATE"] == "1"
    # ghost: the old program's values are superseded, the new one must read zero
    assert post["cpu0.regs.v"] == "T0~" and post["ghost.T0.exec_zero"] == "1"
    assert post["cpu0.softirq_count"] == "0"


def test_flush_thread_with_sve_drops_sve_state() -> None:
    p = Probe("v4.18", sve=True, vhe=True, events=("exec",))
    state = {**LIVE, "T0.TIF_SVE": "1", "T0.sve_state.v": "T0", "T0.sve_state.zhi": "T0",
             "T0.sve_state.p": "T0", "ghost.T0.p_written": "1"}
    post, viol = p.run("sys_execve", task="T0", inputs=(False,), **state)
    assert viol == []  # TIF_SVE is cleared before sve_free()'s WARN_ON
    assert post["T0.TIF_SVE"] == "0"
    assert {post[f"T0.sve_state.{s}"] for s in ("v", "zhi", "p")} == {"0"}
    assert post["ghost.T0.zhi_written"] == "0" and post["ghost.T0.p_written"] == "0"


def test_sve_free_warns_if_tif_sve_still_set() -> None:
    p = Probe("v4.18", sve=True, vhe=True, events=("exec",))
    _, viol = p.run("sve_free", task="T0", **{"T0.TIF_SVE": "1"})
    assert any("sve_free" in v for v in viol)


def test_the_new_program_reads_zero_after_exec() -> None:
    """no_loss after exec: the reload gives the zeroed state; the old program's values
    in the registers would be a violation (ret_to_user must reload)."""
    inst = Instance(Config(preemption="merged", cpus=1, vcpus=0, vmm_threads=0, events=("exec",)),
                    get_variant("v4.18"))
    res, _ = explore_bfs(inst, list(PROPERTY_NAMES))
    assert res.complete and not res.violations
    assert res.coverage["exec"] > 0


def test_exec_without_the_reload_flag_loses() -> None:
    """A flush_thread that forgets TIF_FOREIGN_FPSTATE lets the new program read the old
    program's registers: no_loss catches it (674c242c9323 fixed such a bug in 2015)."""
    from model.ctx import Ctx
    from model.dsl import Const

    def fpsimd_flush_thread(k: Ctx) -> None:
        k.local_bh_disable()
        k.set(k.cur.uw.v, Const(k.S.VALUE, k.S.ZERO))
        k.set(k.cur.uw.fpsr, Const(k.S.VALUE, k.S.ZERO))
        k.fpsimd_flush_task_state(k.current)
        k.local_bh_enable()

    bad = get_variant("v4.18").derive("no-foreign", "test",
                                      fpsimd_flush_thread=fpsimd_flush_thread)
    inst = Instance(Config(preemption="merged",
                           cpus=1, vcpus=0, vmm_threads=0, events=("exec",)), bad)
    res, _ = explore_bfs(inst, ["no_loss"], stop_early=True)
    assert "no_loss" in res.violations
    assert any(s.action == "exec" for s in res.violations["no_loss"].steps)


# ------------------------------------------------------------------ fork (event fork)
FORK = {"tasks": 2, "vcpus": 0, "vmm_threads": 0, "events": ("fork",)}
PARENT_LIVE = {  # T0 in its fork() syscall, its state live on cpu0 (memory is older)
    "cpu0.current": "T0", "T0.pc": "KERNEL", "T0.syscall_body": "1",
    "T0.TIF_FOREIGN_FPSTATE": "0", "cpu0.fpsimd_last_state.st": "T0.uw",
    "T0.fpsimd_cpu": "cpu0", "cpu0.regs.v": "T0", "cpu0.regs.fpsr": "T0",
    "T0.uw.v": "T0~", "T0.uw.fpsr": "T0~",
}


@pytest.mark.parametrize("variant", ["v4.17", "seed", "v4.18"])
def test_fork_preserves_then_copies_as_the_childs_own(variant: str) -> None:
    """arch_dup_task_struct: fpsimd_preserve_current_state() saves the live registers,
    then *dst = *src copies uw.fpsimd_state (the parent's latest becomes the child's
    latest), TIF_FOREIGN_FPSTATE and fpsimd_cpu; copy_thread: fpsimd_flush_task_state;
    wake_up_new_task: the child exists, on its way to user space."""
    p = Probe(variant, **FORK)
    post, viol = p.run("_do_fork", 1, task="T0", inputs=(False,) * 8, **PARENT_LIVE)
    assert viol == []
    assert (post["T0.uw.v"], post["T0.uw.fpsr"]) == ("T0", "T0")  # the preserve
    assert (post["T1.uw.v"], post["T1.uw.fpsr"]) == ("T1", "T1")  # the child's own now
    assert post["cpu0.regs.v"] == "T0"  # the parent's registers stay the parent's
    assert post["T1.TIF_FOREIGN_FPSTATE"] == "0"  # copied with thread_info ...
    assert post["T1.fpsimd_cpu"] == "NR_CPUS"  # ... but copy_thread flushed the child
    assert (post["T1.created"], post["T1.pc"], post["T0.syscall_body"]) == ("1", "KERNEL", "0")


def test_fork_copies_a_stale_parent_value_as_the_childs_stale_one() -> None:
    """Without the preserve's save (the parent's memory older than its registers) the
    child's copy is an older value of the child: what no_loss catches."""
    p = Probe("v4.18", **FORK)
    state = {**PARENT_LIVE, "T0.TIF_FOREIGN_FPSTATE": "1"}  # the save is skipped
    post, _ = p.run("_do_fork", 1, task="T0", inputs=(False,) * 8, **state)
    assert post["T1.uw.v"] == "T1~"


def test_copy_thread_unaliases_sve_state() -> None:
    p = Probe("v4.18", sve=True, vhe=True, **FORK)
    state = {**PARENT_LIVE, "T0.TIF_SVE": "1", "T0.sve_state.v": "T0",
             "T0.sve_state.zhi": "T0", "T0.sve_state.p": "T0"}
    post, viol = p.run("_do_fork", 1, task="T0", inputs=(False,) * 8, **state)
    assert viol == []
    assert post["T1.TIF_SVE"] == "0" and post["T0.TIF_SVE"] == "1"
    assert {post[f"T1.sve_state.{s}"] for s in ("v", "zhi", "p")} == {"0"}
    # the syscall ABI: the child's Z bits above 127 and P/FFR are unspecified
    assert post["ghost.T1.zhi_written"] == "0" and post["ghost.T1.p_written"] == "0"


def test_the_child_cannot_run_before_fork_and_exits_for_good() -> None:
    inst = Instance(Config.with_kconfig("preempt", preemption="merged",
                                        cpus=1, **FORK), get_variant("v4.18"))
    names = {a.label for a in inst.actions}
    assert "fork(cpu0, T0, child T1)" in names and "exit(cpu0, T1, -> T0)" in names
    assert not any(a.name == "fork" and a.param("task") == 1 for a in inst.actions)
    p = Probe("v4.18", **FORK)
    post, viol = p.run("do_exit", 2, task="T1", inputs=(False,) * 8,
                       **{"cpu0.current": "T1", "T1.created": "1", "cpu0.regs.v": "T1",
                          "T1.uw.v": "T1"})
    assert viol == []
    assert post["T1.created"] == "0" and post["cpu0.current"] == "idle0"
    assert post["cpu0.regs.v"] == "T1~"  # a dead task's values are nobody's latest


@pytest.mark.parametrize("variant", ["v4.17", "seed", "v4.18-rc1", "v4.18"])
def test_fork_holds_and_reaches_its_situations(variant: str) -> None:
    inst = Instance(Config.with_kconfig("preempt", preemption="merged",
                                        cpus=2, **FORK), get_variant(variant))
    res, _ = explore_bfs(inst, list(PROPERTY_NAMES))
    assert res.complete and not res.violations
    for g in ("fork_with_parent_state_live", "fork_with_parent_live_elsewhere",
              "fork_reuses_bound_task_struct"):
        assert res.guards_reached[g] is not None, g
    assert res.coverage["fork"] > 0 and res.coverage["exit"] > 0


def _fork_mutants():
    from model.kernel import process

    def arch_dup_task_struct(k, child):  # noqa: ANN001, ANN202 - the C without the preserve
        process.copy_task_struct(k, child)

    def copy_thread(k, child):  # noqa: ANN001, ANN202 - no fpsimd_flush_task_state(p)
        k.update_tsk_thread_flag(child, "TIF_SVE", False)

    base = get_variant("v4.18")
    return [base.derive("no-preserve", "test", arch_dup_task_struct=arch_dup_task_struct),
            base.derive("no-flush", "test", copy_thread=copy_thread)]


@pytest.mark.parametrize("bad", _fork_mutants(), ids=lambda v: v.name)
def test_fork_without_preserve_or_flush_loses(bad) -> None:  # noqa: ANN001
    """Without the preserve the child copies memory older than the parent's registers;
    without copy_thread's flush a child in a reused task_struct is switched in on a CPU
    whose registers still hold the dead task's state as if they were its own."""
    inst = Instance(Config.with_kconfig("preempt", preemption="merged", cpus=2, **FORK), bad)
    res, _ = explore_bfs(inst, ["no_loss"], stop_early=True)
    assert "no_loss" in res.violations
    steps = [s.action for s in res.violations["no_loss"].steps]
    assert "fork" in steps
    if bad.name == "no-flush":
        assert "exit" in steps


def test_fork_of_an_sve_parent_loses_its_v_values_and_the_fix_keeps_them(tmp_path) -> None:
    """docs/scope.md section 7 item 7, at v4.18 (the same at v4.17 and rc1): a tracer's
    NT_ARM_SVE write at the fork syscall's entry stop leaves the parent's latest V values
    only in its sve_state (TIF_SVE); arch_dup_task_struct() copies the older
    uw.fpsimd_state and copy_thread() clears the child's TIF_SVE, so the child returns
    from fork with the parent's older V values.  Later kernels convert first
    (fpsimd_sync_from_effective_state): variant v4.18-fork-fix."""
    from checker.cli import main
    from checker.cli_common import write_trace

    cfg = Config.with_kconfig("preempt", preemption="merged",
                              cpus=1, tasks=2, vcpus=0, vmm_threads=1, sve=True,
                              vhe=True, events=("fork",))
    res, _ = explore_bfs(Instance(cfg, get_variant("v4.18")), ["no_loss"], stop_early=True)
    tr = res.violations["no_loss"]
    actions = [s.action for s in tr.steps]
    assert "ptrace_sve_set" in actions and "fork" in actions
    path = write_trace(tr, str(tmp_path))
    assert main(["replay", path, "--variant", "v4.18-fork-fix", "--json"]) == 0
    assert main(["replay", path, "--json"]) == 1
