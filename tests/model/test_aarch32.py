"""AArch32 guests: every hyp access to FPEXC32_EL2, against the C of each version
(arch/arm64/kvm/hyp/switch.c at v4.17, the seed, v4.18; hyp/entry.S at v4.17), and the
verdicts they give (the seed's series loses a 32-bit guest's FPEXC; v4.19-rc3 fixed it)."""

from __future__ import annotations

import pytest

from checker.explicit.explore import explore_bfs
from checker.instance import PROPERTY_NAMES, Instance
from model.config import Config
from model.variants import get_variant
from tests.model.probe import Probe

IN_GUEST_FP_LIVE = {  # G0 runs on cpu0 with its FP state (incl. FPEXC) loaded by hyp
    "cpu0.current": "vmm0",
    "vmm0.pc": "LOOP_TOP",
    "vcpu0.mutex": "vmm0",
    "vmm0.preempt_notifier": "vcpu0",
    "vcpu0.host_thread_info": "vmm0",
    "vcpu0.host_fpsimd_state": "vmm0.uw",
    "vmm0.TIF_FOREIGN_FPSTATE": "0",
    "vcpu0.flags.FP_ENABLED": "1",
    "cpu0.regs.v": "G0",
    "cpu0.regs.fpsr": "G0",
    "cpu0.FPEXC32_EL2": "G0",
    "cpu0.fpsimd_last_state.st": "vcpu0.fp_regs",
    "vcpu0.fp_regs.v": "G0~",
    "vcpu0.fp_regs.fpsr": "G0~",
    "vcpu0.sys_regs.FPEXC32_EL2": "G0~",
    "cpu0.irqs_disabled": "1",
}


def probe(variant: str, **cfg) -> Probe:
    return Probe(variant, guest_aarch32=True, **cfg)


def test_fpexc32_slots_exist_only_for_aarch32_guests() -> None:
    names = set(Probe("seed").layout.by_name)
    assert "cpu0.FPEXC32_EL2" not in names and "vcpu0.sys_regs.FPEXC32_EL2" not in names
    p = probe("seed")
    assert {"cpu0.FPEXC32_EL2", "cpu1.FPEXC32_EL2", "vcpu0.sys_regs.FPEXC32_EL2"} <= set(
        p.layout.by_name)
    assert p.state() == p.layout.initial_state()
    assert p.layout.state_dict(p.state())["vcpu0.sys_regs.FPEXC32_EL2"] == "G0"


@pytest.mark.parametrize("variant", ["v4.17", "seed", "v4.18"])
def test_activate_traps_fpsimd32_forces_en(variant) -> None:
    """__activate_traps_fpsimd32(): FPEXC32_EL2 = 1 << 30 (the token 0), whatever it held."""
    post, viol = probe(variant).run("__activate_traps_fpsimd32", 0, **IN_GUEST_FP_LIVE)
    assert post["cpu0.FPEXC32_EL2"] == "0" and viol == []


def test_activate_traps_fpsimd32_is_nothing_for_aarch64() -> None:
    post, _ = Probe("seed").run("__activate_traps_fpsimd32", 0)
    assert "cpu0.FPEXC32_EL2" not in post


@pytest.mark.parametrize("variant,kept", [
    ("seed", False), ("v4.18-rc1", False), ("v4.18", False), ("v4.18-fpexc32-fix", True)])
def test_activate_traps_with_fp_live(variant, kept) -> None:
    """__activate_traps() re-entering with FP_ENABLED and TIF_FOREIGN_FPSTATE clear: FP
    stays untrapped; before the v4.19-rc3 fix the guest's live FPEXC is overwritten."""
    post, _ = probe(variant).run("__activate_traps", 0, **IN_GUEST_FP_LIVE)
    assert post["cpu0.CPTR_EL2.TFP"] == "0"
    assert post["cpu0.FPEXC32_EL2"] == ("G0" if kept else "0")


@pytest.mark.parametrize("variant", ["seed", "v4.18-fpexc32-fix"])
def test_activate_traps_trapping_forces_en(variant) -> None:
    """With the guest's state not live (TIF_FOREIGN_FPSTATE set) FP is trapped and EN forced
    in every version, so the guest's first FP access traps to EL2, not to its own EL1."""
    state = {**IN_GUEST_FP_LIVE, "vmm0.TIF_FOREIGN_FPSTATE": "1"}
    post, _ = probe(variant).run("__activate_traps", 0, **state)
    assert post["cpu0.CPTR_EL2.TFP"] == "1" and post["cpu0.FPEXC32_EL2"] == "0"
    assert post["vcpu0.flags.FP_ENABLED"] == "0"


@pytest.mark.parametrize("variant", ["seed", "v4.18"])
def test_hyp_switch_fpsimd_restores_fpexc32(variant) -> None:
    state = {**IN_GUEST_FP_LIVE, "vcpu0.flags.FP_ENABLED": "0", "vcpu0.flags.FP_HOST": "1",
             "cpu0.regs.v": "vmm0", "cpu0.regs.fpsr": "vmm0", "cpu0.FPEXC32_EL2": "0",
             "vcpu0.fp_regs.v": "G0", "vcpu0.fp_regs.fpsr": "G0",
             "vcpu0.sys_regs.FPEXC32_EL2": "G0", "cpu0.CPTR_EL2.TFP": "1"}
    post, viol = probe(variant).run("__hyp_switch_fpsimd", 0, **state)
    assert (post["cpu0.regs.v"], post["cpu0.FPEXC32_EL2"]) == ("G0", "G0")
    assert post["vmm0.uw.v"] == "vmm0" and viol == []


@pytest.mark.parametrize("enabled,saved", [("1", "G0"), ("0", "G0~")])
def test_seed_exit_saves_fpexc32_only_if_fp_enabled(enabled, saved) -> None:
    """kvm_vcpu_run_vhe()/__kvm_vcpu_run_nvhe() exit: if FP_ENABLED, __fpsimd_save_fpexc32()."""
    state = {**IN_GUEST_FP_LIVE, "vmm0.pc": "IN_GUEST", "vcpu0.flags.FP_ENABLED": enabled}
    post, _ = probe("seed").run("__kvm_vcpu_run_exit", 0, **state)
    assert post["vcpu0.sys_regs.FPEXC32_EL2"] == saved
    assert post["cpu0.FPEXC32_EL2"] == "G0"  # the register itself is left alone


def test_v417_fp_trap_and_exit_move_fpexc32() -> None:
    """v4.17: hyp/entry.S __fpsimd_guest_restore loads FPEXC32_EL2 from sys_regs; the exit
    path saves it back when the guest used FP (CPTR_EL2.TFP clear)."""
    p = probe("v4.17")
    state = {**IN_GUEST_FP_LIVE, "vmm0.pc": "IN_GUEST", "vcpu0.flags.FP_ENABLED": "0",
             "cpu0.regs.v": "vmm0", "cpu0.regs.fpsr": "vmm0", "cpu0.FPEXC32_EL2": "0",
             "vcpu0.sys_regs.FPEXC32_EL2": "G0", "cpu0.CPTR_EL2.TFP": "1"}
    post, _ = p.run("__fpsimd_guest_restore", 0, **state)
    assert post["cpu0.FPEXC32_EL2"] == "G0" and post["cpu0.host_ctxt.fp_regs.v"] == "vmm0"
    state = {**IN_GUEST_FP_LIVE, "vmm0.pc": "IN_GUEST", "cpu0.FPEXC32_EL2": "G0",
             "vcpu0.sys_regs.FPEXC32_EL2": "G0~", "cpu0.host_ctxt.fp_regs.v": "vmm0"}
    post, _ = p.run("__kvm_vcpu_run_exit", 0, **state)
    assert post["vcpu0.sys_regs.FPEXC32_EL2"] == "G0" and post["cpu0.regs.v"] == "vmm0"
    post, _ = p.run("__kvm_vcpu_run_exit", 0, **{**state, "cpu0.CPTR_EL2.TFP": "1"})
    assert post["vcpu0.sys_regs.FPEXC32_EL2"] == "G0~"


def test_writes_and_kernel_neon_and_fpexc32() -> None:
    """The guest's write is a new generation of FPEXC too; host user code and kernel-mode
    NEON never touch FPEXC32_EL2; a save helper does not move it."""
    p = probe("seed")
    post, _ = p.run("guest_fp_write", 0, **IN_GUEST_FP_LIVE)
    assert post["cpu0.FPEXC32_EL2"] == "G0" and post["vcpu0.sys_regs.FPEXC32_EL2"] == "G0~"
    state = {**IN_GUEST_FP_LIVE, "cpu0.FPEXC32_EL2": "G0~"}
    post, _ = p.run("guest_fp_write", 0, **state)
    assert post["cpu0.FPEXC32_EL2"] == "G0"
    post, _ = p.run("kernel_fp_write", **IN_GUEST_FP_LIVE)
    assert post["cpu0.regs.v"] == "kneon.task" and post["cpu0.FPEXC32_EL2"] == "G0"
    post, _ = p.run("user_fp_write", **{**IN_GUEST_FP_LIVE, "vmm0.pc": "USER"})
    assert post["cpu0.FPEXC32_EL2"] == "G0"
    post, _ = p.run("fpsimd_save", **IN_GUEST_FP_LIVE)
    assert post["vcpu0.fp_regs.v"] == "G0" and post["vcpu0.sys_regs.FPEXC32_EL2"] == "G0~"


# ------------------------------------------------------------------ verdicts (1 CPU)
def _explore(variant: str, **cfg):
    inst = Instance(Config(preemption="merged",
                           cpus=1, guest_aarch32=True, **cfg), get_variant(variant))
    res, _ = explore_bfs(inst, list(PROPERTY_NAMES))
    assert res.complete
    return inst, res


@pytest.mark.parametrize("variant", ["seed", "v4.18-rc1", "v4.18"])
@pytest.mark.parametrize("vhe", [False, True])
def test_series_loses_a_32bit_guests_fpexc(variant, vhe) -> None:
    """Exit with FP_ENABLED saves FPEXC, handle_exit, re-entry with the state still live:
    __activate_traps_fpsimd32() overwrites the guest's FPEXC with EN, FP stays untrapped and
    the guest reads hyp's constant (no_loss, 10 steps)."""
    _, res = _explore(variant, vhe=vhe, lockdep=False)
    # (and, at the seed and rc1, put_fp's locking-rule finding, on every configuration)
    assert set(res.violations) == {"no_loss"} | (
        set() if variant == "v4.18" else {"locking_rules"})
    trace = res.violations["no_loss"]
    assert len(trace) == 10
    last = trace.steps[-1]
    assert last.label.startswith("enter_guest") and "__activate_traps_fpsimd32" in last.functions
    assert last.state["cpu0.FPEXC32_EL2"] == "0"


@pytest.mark.parametrize("variant", ["v4.17", "v4.18-fpexc32-fix"])
@pytest.mark.parametrize("vhe", [False, True])
def test_fixed_versions_keep_the_fpexc(variant, vhe) -> None:
    inst, res = _explore(variant, vhe=vhe)
    assert res.violations == {}
    reached = res.guards_reached["aarch32_reenter_fp_live"]
    if variant == "v4.17":
        assert reached is None and "aarch32_reenter_fp_live" in inst.unreachable_by_design()
    else:
        assert reached is not None


@pytest.mark.parametrize("variant", ["v6.10", "v6.16"])
def test_v6_reenters_a_32bit_guest_with_its_state_live_and_keeps_the_fpexc(variant) -> None:
    """v6's re-entry with the guest's registers still GUEST_OWNED (no trap: hyp leaves
    FPEXC32_EL2 as the guest left it) is reached, and the guest's FPEXC is kept."""
    _, res = _explore(variant, tasks=0)
    assert res.violations == {}
    assert res.guards_reached["aarch32_reenter_fp_live"] is not None
