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
    inst = Instance(Config(cpus=1, vcpus=0, vmm_threads=0, events=("exec",)),
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
    inst = Instance(Config(cpus=1, vcpus=0, vmm_threads=0, events=("exec",)), bad)
    res, _ = explore_bfs(inst, ["no_loss"], stop_early=True)
    assert "no_loss" in res.violations
    assert any(s.action == "exec" for s in res.violations["no_loss"].steps)
