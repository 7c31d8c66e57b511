"""Unit tests of each modelled kernel function against the C semantics it names."""

from __future__ import annotations

import pytest

from model.config import kconfig_preset
from tests.model.probe import Probe

PREEMPT_NOLOCKDEP = kconfig_preset("preempt")  # the old lockdep=False

LIVE_VMM = {  # vmm0 runs on cpu0 with its own state live and bound
    "cpu0.current": "vmm0",
    "vmm0.pc": "KERNEL",
    "cpu0.regs.v": "vmm0",
    "cpu0.regs.fpsr": "vmm0",
    "cpu0.fpsimd_last_state.st": "vmm0.uw",
    "vmm0.fpsimd_cpu": "cpu0",
    "vmm0.TIF_FOREIGN_FPSTATE": "0",
    "vmm0.uw.v": "vmm0~",
    "vmm0.uw.fpsr": "vmm0~",
}
GUEST_BOUND = {  # after ctxsync: the guest's registers are live and bound to cpu0
    **LIVE_VMM,
    "cpu0.regs.v": "G0",
    "cpu0.regs.fpsr": "G0",
    "cpu0.fpsimd_last_state.st": "vcpu0.fp_regs",
    "vcpu0.fp_regs.v": "G0~",
    "vcpu0.fp_regs.fpsr": "G0~",
    "vcpu0.flags.FP_ENABLED": "1",
    "vcpu0.mutex": "vmm0",
    "vmm0.preempt_notifier": "vcpu0",
    "vmm0.uw.v": "vmm0",
    "vmm0.uw.fpsr": "vmm0",
}


@pytest.fixture
def seed() -> Probe:
    return Probe("seed")


@pytest.fixture
def v417() -> Probe:
    return Probe("v4.17")


# ------------------------------------------------------------------ fpsimd.c (seed)
def test_fpsimd_save_saves_into_last_state_st(seed: Probe) -> None:
    post, viol = seed.run("fpsimd_save", **LIVE_VMM, **{"cpu0.irqs_disabled": "1"})
    assert post["vmm0.uw.v"] == "vmm0" and post["vmm0.uw.fpsr"] == "vmm0"
    assert viol == []


def test_fpsimd_save_saves_a_bound_vcpu_into_the_vcpu(seed: Probe) -> None:
    post, _ = seed.run("fpsimd_save", **GUEST_BOUND, **{"cpu0.irqs_disabled": "1"})
    assert post["vcpu0.fp_regs.v"] == "G0"
    assert post["vmm0.uw.v"] == "vmm0"  # current's own buffer untouched


def test_fpsimd_save_does_nothing_when_foreign(seed: Probe) -> None:
    state = {**LIVE_VMM, "vmm0.TIF_FOREIGN_FPSTATE": "1", "cpu0.irqs_disabled": "1"}
    post, _ = seed.run("fpsimd_save", **state)
    assert post["vmm0.uw.v"] == "vmm0~"


def test_fpsimd_save_warns_with_irqs_and_bh_enabled(seed: Probe) -> None:
    _, viol = seed.run("fpsimd_save", **LIVE_VMM)
    assert viol == ["fpsimd_save: WARN WARN_ON(!in_softirq() && !irqs_disabled())"]
    _, viol = seed.run("fpsimd_save", **LIVE_VMM, **{"cpu0.softirq_count": "1"})
    assert viol == []


@pytest.mark.parametrize("st,cpu,foreign", [
    ("vmm0.uw", "cpu0", "0"), ("vmm0.uw", "cpu1", "1"), ("T0.uw", "cpu0", "1"),
    ("NULL", "cpu0", "1"),
])
def test_fpsimd_thread_switch_computes_next_foreign(seed: Probe, st, cpu, foreign) -> None:
    state = {"cpu0.current": "T0", "T0.TIF_FOREIGN_FPSTATE": "1", "cpu0.irqs_disabled": "1",
             "cpu0.fpsimd_last_state.st": st, "vmm0.fpsimd_cpu": cpu,
             "vmm0.TIF_FOREIGN_FPSTATE": "0" if foreign == "1" else "1"}
    post, viol = seed.run("fpsimd_thread_switch", 1, task="T0", **state)
    assert post["vmm0.TIF_FOREIGN_FPSTATE"] == foreign
    assert viol == []


def test_fpsimd_thread_switch_to_kernel_thread_sets_foreign(seed: Probe) -> None:
    post, _ = seed.run("fpsimd_thread_switch", 3, task="T0",
                       **{"cpu0.current": "T0", "cpu0.irqs_disabled": "1",
                          "idle1.TIF_FOREIGN_FPSTATE": "0"})
    assert post["idle1.TIF_FOREIGN_FPSTATE"] == "1"


def test_fpsimd_flush_cpu_state_seed_sets_foreign(seed: Probe, v417: Probe) -> None:
    post, _ = seed.run("fpsimd_flush_cpu_state", **LIVE_VMM)
    assert post["cpu0.fpsimd_last_state.st"] == "NULL"
    assert post["vmm0.TIF_FOREIGN_FPSTATE"] == "1"
    post, _ = v417.run("fpsimd_flush_cpu_state", **LIVE_VMM)
    assert post["cpu0.fpsimd_last_state.st"] == "NULL"
    assert post["vmm0.TIF_FOREIGN_FPSTATE"] == "0"  # v4.17: only st = NULL


def test_fpsimd_restore_current_state_loads_and_binds(seed: Probe) -> None:
    state = {"cpu0.current": "T0", "T0.TIF_FOREIGN_FPSTATE": "1", "cpu0.regs.v": "kneon",
             "cpu0.regs.fpsr": "kneon"}
    post, viol = seed.run("fpsimd_restore_current_state", task="T0", inputs=(False,), **state)
    assert (post["cpu0.regs.v"], post["cpu0.regs.fpsr"]) == ("T0", "T0")
    assert post["cpu0.fpsimd_last_state.st"] == "T0.uw"
    assert post["T0.fpsimd_cpu"] == "cpu0"
    assert post["T0.TIF_FOREIGN_FPSTATE"] == "0"
    assert post["cpu0.softirq_count"] == "0"
    assert viol == []


def test_kernel_neon_begin_saves_flushes_and_disables_preemption(seed: Probe) -> None:
    post, viol = seed.run("kernel_neon_begin", inputs=(False,), **LIVE_VMM)
    assert post["vmm0.uw.v"] == "vmm0"
    assert post["cpu0.fpsimd_last_state.st"] == "NULL"
    assert post["vmm0.TIF_FOREIGN_FPSTATE"] == "1"
    assert post["cpu0.kernel_neon_busy"] == "1"
    assert post["cpu0.preempt_count"] == "1"
    assert viol == []


def test_kernel_neon_begin_bugs_unless_may_use_simd(seed: Probe) -> None:
    _, viol = seed.run("kernel_neon_begin", inputs=(False,), **LIVE_VMM,
                       **{"cpu0.kernel_neon_busy": "1"})
    assert "kernel_neon_begin: BUG BUG_ON(!may_use_simd())" in viol


def test_kernel_neon_end_warns_if_not_busy(seed: Probe) -> None:
    _, viol = seed.run("kernel_neon_end", **{"cpu0.preempt_count": "1"})
    assert viol == ["kernel_neon_end: WARN WARN_ON(!busy)"]


def test_v417_kernel_neon_begin_skips_save_for_kernel_threads(v417: Probe) -> None:
    state = {"cpu0.current": "idle0", "idle0.TIF_FOREIGN_FPSTATE": "0"}
    post, viol = v417.run("kernel_neon_begin", task="idle0", inputs=(False,), **state)
    assert post["idle0.TIF_FOREIGN_FPSTATE"] == "0"  # the mm check skips it
    assert viol == []


# ------------------------------------------------------------------ softirq.c
def test_local_bh_enable_with_irqs_off_is_a_lockdep_splat(seed: Probe) -> None:
    _, viol = seed.run("local_bh_enable", inputs=(False,),
                       **{"cpu0.softirq_count": "1", "cpu0.irqs_disabled": "1"})
    assert viol == ["__local_bh_enable_ip: lockdep lockdep_assert_irqs_enabled(): "
                    "local_bh_enable() with IRQs disabled"]
    _, viol = Probe("seed", **PREEMPT_NOLOCKDEP).run(
        "local_bh_enable", inputs=(False,), **{"cpu0.softirq_count": "1",
                                                "cpu0.irqs_disabled": "1"})
    assert viol == []


def test_local_bh_enable_runs_a_pending_softirq(seed: Probe) -> None:
    post, viol = seed.run("local_bh_enable", inputs=(True,), **LIVE_VMM,
                          **{"cpu0.softirq_count": "1"})
    # The softirq's kernel-mode NEON saved vmm0's state and clobbered the registers.
    assert post["vmm0.uw.v"] == "vmm0"
    assert post["cpu0.regs.v"] == "kneon"
    assert post["vmm0.TIF_FOREIGN_FPSTATE"] == "1"
    assert post["cpu0.softirq_count"] == "0" and post["cpu0.irqs_disabled"] == "0"
    assert viol == []


def test_local_bh_enable_does_not_nest_softirqs(seed: Probe) -> None:
    post, _ = seed.run("local_bh_enable", inputs=(True,), **LIVE_VMM,
                       **{"cpu0.softirq_count": "2"})
    assert post["cpu0.regs.v"] == "vmm0"


# ------------------------------------------------------------------ kvm/fpsimd.c (seed)
def test_kvm_arch_vcpu_load_fp_sets_fp_host(seed: Probe) -> None:
    post, viol = seed.run("kvm_arch_vcpu_load_fp", 0,
                          **{"vcpu0.flags.FP_ENABLED": "1", "cpu0.current": "vmm0"})
    assert post["vcpu0.flags.FP_ENABLED"] == "0"
    assert post["vcpu0.flags.FP_HOST"] == "1"
    assert viol == []


def test_kvm_arch_vcpu_load_fp_bugs_for_kernel_threads(seed: Probe) -> None:
    _, viol = seed.run("kvm_arch_vcpu_load_fp", 0, task="idle0")
    assert viol == ["kvm_arch_vcpu_load_fp: BUG BUG_ON(!current->mm)"]


def test_ctxsync_binds_the_vcpu_when_guest_regs_live(seed: Probe) -> None:
    state = {**LIVE_VMM, "cpu0.regs.v": "G0", "vcpu0.flags.FP_ENABLED": "1",
             "vmm0.TIF_FOREIGN_FPSTATE": "1", "cpu0.irqs_disabled": "1"}
    post, viol = seed.run("kvm_arch_vcpu_ctxsync_fp", 0, **state)
    assert post["cpu0.fpsimd_last_state.st"] == "vcpu0.fp_regs"
    assert post["vmm0.TIF_FOREIGN_FPSTATE"] == "0"
    assert viol == []


def test_ctxsync_does_nothing_without_fp_enabled_and_warns_with_irqs_on(seed: Probe) -> None:
    post, viol = seed.run("kvm_arch_vcpu_ctxsync_fp", 0, **LIVE_VMM)
    assert post["cpu0.fpsimd_last_state.st"] == "vmm0.uw"
    assert viol == ["kvm_arch_vcpu_ctxsync_fp: WARN WARN_ON_ONCE(!irqs_disabled())"]


def test_put_fp_saves_guest_and_invalidates(seed: Probe) -> None:
    post, viol = seed.run("kvm_arch_vcpu_put_fp", 0, inputs=(False,), **GUEST_BOUND)
    assert post["vcpu0.fp_regs.v"] == "G0"
    assert post["cpu0.fpsimd_last_state.st"] == "NULL"
    assert post["vmm0.TIF_FOREIGN_FPSTATE"] == "1"
    assert viol == []


def test_put_fp_rebinds_current_when_guest_never_used_fp(seed: Probe) -> None:
    state = {**LIVE_VMM, "cpu0.fpsimd_last_state.st": "NULL", "vmm0.fpsimd_cpu": "NR_CPUS"}
    post, _ = seed.run("kvm_arch_vcpu_put_fp", 0, inputs=(False,), **state)
    assert post["cpu0.fpsimd_last_state.st"] == "vmm0.uw"
    assert post["vmm0.fpsimd_cpu"] == "cpu0"


def test_put_fp_from_sched_out_enables_bh_with_irqs_off(seed: Probe) -> None:
    _, viol = seed.run("kvm_sched_out", 0, inputs=(False,), **GUEST_BOUND,
                       **{"cpu0.irqs_disabled": "1"})
    assert any("lockdep_assert_irqs_enabled" in v for v in viol)
    _, viol = Probe("v4.18").run("kvm_sched_out", 0, **GUEST_BOUND,
                                 **{"cpu0.irqs_disabled": "1"})
    assert viol == []


# ------------------------------------------------------------------ hyp/switch.c
@pytest.mark.parametrize("vhe", [False, True])
@pytest.mark.parametrize("foreign,trapped", [("1", True), ("0", False)])
def test_activate_traps_traps_fp_unless_guest_regs_live(vhe, foreign, trapped) -> None:
    p = Probe("seed", vhe=vhe)
    state = {"vcpu0.flags.FP_ENABLED": "1", "vcpu0.flags.FP_HOST": "1",
             "vcpu0.host_thread_info": "vmm0", "vmm0.TIF_FOREIGN_FPSTATE": foreign}
    post, viol = p.run("__activate_traps", 0, **state)
    trap = post["cpu0.CPACR_EL1.FPEN"] == "0" if vhe else post["cpu0.CPTR_EL2.TFP"] == "1"
    assert trap == trapped
    assert post["vcpu0.flags.FP_ENABLED"] == ("0" if trapped else "1")
    assert post["vcpu0.flags.FP_HOST"] == ("0" if trapped else "1")
    assert viol == []


def test_hyp_switch_fpsimd_saves_host_then_loads_guest(seed: Probe) -> None:
    state = {**LIVE_VMM, "vcpu0.flags.FP_HOST": "1", "vcpu0.host_fpsimd_state": "vmm0.uw",
             "cpu0.CPTR_EL2.TFP": "1"}
    post, viol = seed.run("__hyp_switch_fpsimd", 0, **state)
    assert post["vmm0.uw.v"] == "vmm0"
    assert (post["cpu0.regs.v"], post["cpu0.regs.fpsr"]) == ("G0", "G0")
    assert post["vcpu0.flags.FP_HOST"] == "0" and post["vcpu0.flags.FP_ENABLED"] == "1"
    assert post["cpu0.CPTR_EL2.TFP"] == "0"
    assert viol == []


def test_hyp_switch_fpsimd_without_fp_host_does_not_save(seed: Probe) -> None:
    post, _ = seed.run("__hyp_switch_fpsimd", 0, **LIVE_VMM)
    assert post["vmm0.uw.v"] == "vmm0~"


def test_v417_guest_trap_and_exit_swap_through_host_ctxt(v417: Probe) -> None:
    post, _ = v417.run("fixup_guest_exit_fp", 0, **LIVE_VMM, **{"cpu0.CPTR_EL2.TFP": "1"})
    assert post["cpu0.host_ctxt.fp_regs.v"] == "vmm0"
    assert post["cpu0.regs.v"] == "G0"
    state = {**LIVE_VMM, "cpu0.regs.v": "G0", "cpu0.regs.fpsr": "G0",
             "cpu0.host_ctxt.fp_regs.v": "vmm0", "cpu0.host_ctxt.fp_regs.fpsr": "vmm0"}
    post, _ = v417.run("__kvm_vcpu_run_exit", 0, **state)
    assert post["vcpu0.fp_regs.v"] == "G0"
    assert post["cpu0.regs.v"] == "vmm0"
    assert post["cpu0.CPTR_EL2.TFP"] == "0"


# ------------------------------------------------------------------ values
def test_fp_write_supersedes_the_previous_generation(seed: Probe) -> None:
    state = {**LIVE_VMM, "vmm0.uw.v": "vmm0", "cpu0.regs.v": "vmm0"}
    post, _ = seed.run("user_fp_write", **state)
    assert post["cpu0.regs.v"] == "vmm0"
    assert post["vmm0.uw.v"] == "vmm0~"
