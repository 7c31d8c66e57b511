"""Signals (event ``signal``): delivery (setup_rt_frame) and rt_sigreturn
(model/kernel/signal.py), and what no_loss/no_leak mean across them."""

from __future__ import annotations

import pytest

from checker.explicit.explore import explore_bfs
from checker.instance import PROPERTY_NAMES, Instance
from model.config import Config
from model.variants import get_variant
from tests.model.probe import Probe

LIVE = {  # T0 in do_notify_resume with its state live on cpu0
    "cpu0.current": "T0", "T0.pc": "KERNEL", "T0.TIF_FOREIGN_FPSTATE": "0",
    "cpu0.fpsimd_last_state.st": "T0.uw", "T0.fpsimd_cpu": "cpu0",
    "cpu0.regs.v": "T0", "cpu0.regs.fpsr": "T0", "T0.uw.v": "T0~", "T0.uw.fpsr": "T0~",
}
CFG = {"cpus": 1, "vcpus": 0, "vmm_threads": 0, "events": ("signal",)}


@pytest.mark.parametrize("variant", ["v4.17", "seed", "v4.18"])
def test_delivery_saves_live_registers_into_the_frame(variant: str) -> None:
    p = Probe(variant, **CFG)
    post, viol = p.run("do_signal", task="T0", inputs=(False,), **LIVE)
    assert viol == []
    assert (post["T0.sigframe.v"], post["T0.sigframe.fpsr"]) == ("T0", "T0")
    assert post["T0.in_handler"] == "1" and post["ghost.T0.sigframe_fresh"] == "1"
    assert post["cpu0.regs.v"] == "T0"  # the handler runs on the interrupted registers


def test_delivery_with_sve_fills_the_sve_record() -> None:
    p = Probe("v4.18", sve=True, vhe=True, **CFG)
    state = {**LIVE, "T0.TIF_SVE": "1", "cpu0.regs.zhi": "T0", "cpu0.regs.p": "T0",
             "cpu0.CPACR_EL1.ZEN_EL0EN": "1"}
    post, _ = p.run("do_signal", task="T0", inputs=(False,), **state)
    assert post["T0.sigframe.sve_regs"] == "1"
    assert (post["T0.sigframe.zhi"], post["T0.sigframe.p"]) == ("T0", "T0")
    assert post["T0.uw.v"] == "T0"  # sve_to_fpsimd() for fpsimd_context


@pytest.mark.parametrize("variant", ["v4.17", "v4.18"])
def test_sigreturn_loads_the_frame(variant: str) -> None:
    p = Probe(variant, **CFG)
    state = {**LIVE, "T0.pc": "USER", "T0.in_handler": "1", "T0.sigframe.v": "T0~",
             "T0.sigframe.fpsr": "T0~"}
    post, viol = p.run("sys_rt_sigreturn", task="T0", inputs=(False,), **state)
    assert viol == []
    assert (post["cpu0.regs.v"], post["cpu0.regs.fpsr"]) == ("T0", "T0")
    assert (post["T0.uw.v"], post["T0.uw.fpsr"]) == ("T0", "T0")
    assert post["T0.in_handler"] == "0" and post["T0.TIF_FOREIGN_FPSTATE"] == "0"


def test_v417_sigreturn_binds_only_if_foreign() -> None:
    p = Probe("v4.17", **CFG)
    state = {**LIVE, "T0.pc": "USER", "T0.in_handler": "1",
             "cpu0.fpsimd_last_state.st": "NULL", "T0.fpsimd_cpu": "NR_CPUS"}
    post, _ = p.run("sys_rt_sigreturn", task="T0", inputs=(False,), **state)
    assert post["cpu0.fpsimd_last_state.st"] == "NULL"  # not rebound: FOREIGN was clear
    post, _ = Probe("v4.18", **CFG).run("sys_rt_sigreturn", task="T0", inputs=(False,),
                                        **state)
    assert post["cpu0.fpsimd_last_state.st"] == "T0.uw"


def test_sve_sigreturn_restores_high_bits_and_p_from_the_record() -> None:
    p = Probe("v4.18", sve=True, vhe=True, **CFG)
    state = {**LIVE, "T0.pc": "USER", "T0.in_handler": "1", "T0.sigframe.sve_regs": "1"}
    post, viol = p.run("sys_rt_sigreturn", task="T0", inputs=(False,), **state)
    assert viol == []
    assert post["T0.TIF_SVE"] == "1" and post["cpu0.CPACR_EL1.ZEN_EL0EN"] == "1"
    assert {post[f"cpu0.regs.{s}"] for s in ("v", "fpsr", "zhi", "p")} == {"T0"}
    assert post["T0.sve_state.v"] == "T0"  # fpsimd_to_sve() from fpsimd_context


@pytest.mark.parametrize("variant", ["v4.17", "seed", "v4.18"])
def test_signals_hold_on_two_cpus(variant: str) -> None:
    """No loss or leak across delivery and sigreturn, with migration; the model delivers
    a signal while the task's state is live on another CPU."""
    inst = Instance(Config(preemption="merged", cpus=2, vcpus=0, vmm_threads=0, events=("signal",)),
                    get_variant(variant))
    res, _ = explore_bfs(inst, list(PROPERTY_NAMES))
    assert res.complete and not res.violations
    assert res.guards_reached.get("signal_with_state_live_elsewhere") is not None


def test_delivery_without_preserve_loses() -> None:
    """A setup_rt_frame that copies uw without saving the live registers first writes
    a stale frame: the handler reads an old value (no_loss on the frame)."""
    from model.ctx import Ctx

    def setup_rt_frame(k: Ctx) -> None:
        k.preserve_fpsimd_context()

    bad = get_variant("v4.18").derive("no-preserve", "test", setup_rt_frame=setup_rt_frame)
    res, _ = explore_bfs(Instance(Config(preemption="merged",
                                         **CFG), bad), ["no_loss"], stop_early=True)
    assert "no_loss" in res.violations
