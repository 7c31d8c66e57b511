"""Today's kernels (model/variants/v6.py): v6.9 and v6.10, against the C they mirror."""

from __future__ import annotations

import pytest

from checker.cli import main
from checker.explicit.explore import explore_bfs
from checker.instance import Instance
from model.config import Config, kconfig_preset
from model.state import Layout
from model.variants import get_variant, variants
from properties.fp import PROPERTY_NAMES

from .probe import Probe

PREEMPT = kconfig_preset("preempt")
# One CPU, two plain tasks: the smallest setting of #15 (history.md 2.15).
SMALL = dict(cpus=1, tasks=2, vmm_threads=0, vcpus=0, vhe=False, **PREEMPT)


# ------------------------------------------------------------------ state and variants
@pytest.mark.parametrize("name", ["seed", "v4.17", "v4.18-rc1", "v4.18"])
def test_2018_variants_declare_no_new_state(name: str) -> None:
    """The v6 state is declared only for the variants that need it: a 2018 variant's
    layout is exactly the plain one (same variables, same domains), and it has no
    kernel-NEON-section step."""
    cfg = Config(preemption="merged")
    inst = Instance(cfg, get_variant(name))
    plain = Layout(cfg)
    assert [(v.name, v.dom.labels) for v in inst.layout.vars] == \
        [(v.name, v.dom.labels) for v in plain.vars]
    assert not [a for a in inst.actions if a.name == "syscall_kernel_neon_end"]


def test_v6_variants_are_pinned_to_their_trees(capsys) -> None:
    table = variants()
    for name, release in (("v6.9", "v6.9.0"), ("v6.10", "v6.10.0")):
        v = table[name]
        assert v.release == release
        repo, _, commit = v.tree.partition("@")
        assert "/" in repo and len(commit) == 40
    assert table["v6.10"].parent == "v6.9"
    assert main(["variants"]) == 0
    out = capsys.readouterr().out
    assert "b1202024224738c7135d199f95d34c215ad45ca3" in out
    assert "fabd51deb839d02c50146f1bea784d71e2955a21" in out


def test_v6_refuses_what_it_does_not_model(capsys) -> None:
    # v6.8 has no FPMR (SVE vcpus with SME are modelled since: test_v6_sme_sve_guest.py)
    assert main(["explore", "--variant", "v6.8", "--cpus", "1", "--quiet",
                 "--event", "signal", "--sve", "--fpmr", "--sve-guest"]) == 2
    err = capsys.readouterr().err.strip()
    assert "not modelled" in err
    assert len(err.splitlines()) == 1


# ------------------------------------------------------------------ C semantics
def probe(variant: str = "v6.9") -> Probe:
    return Probe(variant, cpus=1, tasks=2, vmm_threads=0, vcpus=0, **PREEMPT)


def test_kernel_neon_begin_in_task_context_is_preemptible() -> None:
    """v6.8+ kernel_neon_begin(): saves the live user state, sets TIF_KERNEL_FPSTATE,
    flushes the CPU's state, and leaves preemption and bottom halves enabled."""
    p = probe()
    st, viol = p.run("kernel_neon_begin", task="T0", **{
        "cpu0.current": "T0", "cpu0.regs.v": "T0", "cpu0.regs.fpsr": "T0",
        "T0.uw.v": "T0~", "T0.uw.fpsr": "T0~", "T0.TIF_FOREIGN_FPSTATE": "0",
        "cpu0.fpsimd_last_state.st": "T0.uw", "T0.fpsimd_cpu": "cpu0"})
    assert not viol
    assert st["T0.uw.v"] == "T0" and st["T0.uw.fpsr"] == "T0"
    assert st["T0.TIF_KERNEL_FPSTATE"] == "1" and st["T0.TIF_FOREIGN_FPSTATE"] == "1"
    assert st["cpu0.fpsimd_last_state.st"] == "NULL"
    assert st["cpu0.preempt_count"] == "0" and st["cpu0.softirq_count"] == "0"


def _in_section(**extra: str) -> dict[str, str]:
    """T1 is inside a kernel-NEON section, switched out on cpu0 with its state saved;
    T0 runs on cpu0 with its user state live and bound."""
    base = {"cpu0.current": "T0", "cpu0.regs.v": "T0", "cpu0.regs.fpsr": "T0",
            "T0.TIF_FOREIGN_FPSTATE": "0", "cpu0.fpsimd_last_state.st": "T0.uw",
            "T0.fpsimd_cpu": "cpu0", "T1.pc": "KERNEL_NEON", "T1.TIF_KERNEL_FPSTATE": "1",
            "T1.kernel_fpsimd_state.v": "kneon.T1", "T1.kernel_fpsimd_state.fpsr": "kneon.T1",
            "T1.kernel_fpsimd_cpu": "cpu0", "cpu0.irqs_disabled": "1"}
    base.update(extra)
    return base


def test_v69_switch_to_kernel_neon_task_keeps_the_stale_binding() -> None:
    """v6.9 fpsimd_thread_switch() to a task with TIF_KERNEL_FPSTATE: its kernel state is
    loaded and only next's TIF_FOREIGN_FPSTATE is set; fpsimd_last_state still names
    T0's user state (#15)."""
    st, viol = probe("v6.9").run("fpsimd_thread_switch", 1, task="T0", **_in_section())
    assert not viol
    assert st["cpu0.regs.v"] == "kneon.T1"
    assert st["T0.uw.v"] == "T0"  # saved first
    assert st["cpu0.fpsimd_last_state.st"] == "T0.uw"
    assert st["T1.TIF_FOREIGN_FPSTATE"] == "1"


def test_v610_switch_to_kernel_neon_task_flushes() -> None:
    """v6.10 (e92bee9f861b): the same switch flushes the CPU's state afterwards:
    last->st = NULL and TIF_FOREIGN_FPSTATE set on current (still the outgoing T0)."""
    st, viol = probe("v6.10").run("fpsimd_thread_switch", 1, task="T0", **_in_section())
    assert not viol
    assert st["cpu0.regs.v"] == "kneon.T1"
    assert st["cpu0.fpsimd_last_state.st"] == "NULL"
    assert st["T0.TIF_FOREIGN_FPSTATE"] == "1"


def test_kernel_state_load_is_elided_when_held() -> None:
    """fpsimd_load_kernel_state(): no load while last->st is the task's kernel state and
    kernel_fpsimd_cpu is this CPU (the registers are left as they are)."""
    pre = _in_section(**{"cpu0.fpsimd_last_state.st": "T1.kernel", "cpu0.regs.v": "kneon",
                         "T0.TIF_FOREIGN_FPSTATE": "1"})
    st, _ = probe("v6.9").run("fpsimd_load_kernel_state", 1, task="T0", **pre)
    assert st["cpu0.regs.v"] == "kneon"
    pre["T1.kernel_fpsimd_cpu"] = "NR_CPUS"
    st, _ = probe("v6.9").run("fpsimd_load_kernel_state", 1, task="T0", **pre)
    assert st["cpu0.regs.v"] == "kneon.T1"


def test_switch_out_of_a_section_saves_and_binds_the_kernel_state() -> None:
    """fpsimd_thread_switch() from a task with TIF_KERNEL_FPSTATE:
    fpsimd_save_kernel_state(current) saves the registers and binds them."""
    p = probe("v6.10")
    st, viol = p.run("fpsimd_thread_switch", 2, task="T1", **{
        "cpu0.current": "T1", "T1.pc": "KERNEL_NEON", "T1.TIF_KERNEL_FPSTATE": "1",
        "cpu0.regs.v": "kneon.T1", "cpu0.regs.fpsr": "kneon.T1", "cpu0.irqs_disabled": "1"})
    assert not viol
    assert st["T1.kernel_fpsimd_state.v"] == "kneon.T1"
    assert st["cpu0.fpsimd_last_state.st"] == "T1.kernel"
    assert st["T1.kernel_fpsimd_cpu"] == "cpu0"


def test_softirq_neon_inside_a_section_saves_and_restores_it() -> None:
    """A softirq's kernel_neon_begin() inside a task's section saves the section's
    registers (fpsimd_save_kernel_state), and its kernel_neon_end() reloads them."""
    p = probe("v6.10")
    st, viol = p.run("handle_irq", task="T1", inputs=(True,) * 8, **{
        "cpu0.current": "T1", "T1.pc": "KERNEL_NEON", "T1.TIF_KERNEL_FPSTATE": "1",
        "cpu0.regs.v": "kneon.T1", "cpu0.regs.fpsr": "kneon.T1"})
    assert not viol
    assert st["cpu0.regs.v"] == "kneon.T1" and st["cpu0.regs.fpsr"] == "kneon.T1"
    assert st["T1.kernel_fpsimd_state.v"] == "kneon.T1"
    assert st["T1.TIF_KERNEL_FPSTATE"] == "1"
    assert st["ghost.kernel_neon_readback_lost"] == "0"


# ------------------------------------------------------------------ the bug and its fix
def _verdicts(variant, **cfg) -> set[str]:
    res, _ = explore_bfs(Instance(Config(preemption="merged",
                                         **cfg), variant), list(PROPERTY_NAMES))
    assert res.complete
    return set(res.violations)


def test_v69_has_bug_15_and_v610_fixes_it() -> None:
    """#15 (e92bee9f861b) found by the general properties on one CPU with two tasks: the
    user task's reload is elided (no_leak: it reads kernel NEON data) and a section's
    kernel-state reload is elided (no_loss); v6.10 holds every property there and with
    a vcpu thread and a vcpu."""
    assert _verdicts(get_variant("v6.9"), **SMALL) == {"no_leak", "no_loss"}
    assert _verdicts(get_variant("v6.10"), **SMALL) == set()
    assert _verdicts(get_variant("v6.10"), cpus=1, vhe=False, **PREEMPT) == set()


def test_forgetting_dead_kernel_state_changes_no_verdict() -> None:
    """forget_dead_kernel_state (a model-only canonicalisation of thread.kernel_fpsimd_state
    after kernel_neon_end) merges states but changes no verdict: with and without it."""
    for name, expect in (("v6.9", {"no_leak", "no_loss"}), ("v6.10", set())):
        keep = get_variant(name).derive(f"{name}-keep-dead", "without the canonicalisation",
                                        options={"forget_dead_kernel_state": False})
        assert _verdicts(keep, **SMALL) == expect


SVE_SMALL = dict(cpus=2, tasks=1, vmm_threads=0, vcpus=0, vhe=False, sve=True, **PREEMPT)


def test_v610_has_bug_13_and_v612_fixes_it() -> None:
    """#13 (751ecf6afd65) with SVE on two CPUs and one task: do_sve_acc() preempted before
    get_cpu_fpsimd_context() converts in memory while the task is still bound to its old
    CPU; found by kernel_asserts (do_sve_acc's WARN) and no_loss.  v6.12 holds."""
    res, _ = explore_bfs(Instance(Config(preemption="merged", **SVE_SMALL), get_variant("v6.10")),
                         ["kernel_asserts", "no_loss"], stop_early=True)
    assert {"kernel_asserts", "no_loss"} <= set(res.violations)
    trace = res.violations["kernel_asserts"]
    assert len(trace.steps) == 12
    assert _verdicts(get_variant("v6.12"), **SVE_SMALL) == set()


def test_sve_trap_is_preemptible_before_its_locked_part() -> None:
    """v6.x do_sve_acc(): sve_alloc() first (the task is then at SVE_ACC, preemptible),
    then under get_cpu_fpsimd_context() TIF_SVE and sve_init_regs(); the live case
    zeroes the Z bits above 127 and P/FFR and enables EL0 SVE (bind)."""
    p = Probe("v6.10", cpus=1, tasks=1, vmm_threads=0, vcpus=0, sve=True, **PREEMPT)
    live = {"cpu0.current": "T0", "T0.pc": "USER", "cpu0.regs.v": "T0", "cpu0.regs.fpsr": "T0",
            "T0.TIF_FOREIGN_FPSTATE": "0", "cpu0.fpsimd_last_state.st": "T0.uw",
            "T0.fpsimd_cpu": "cpu0"}
    st, viol = p.run("do_sve_acc", task="T0", **live)
    assert not viol and st["T0.pc"] == "SVE_ACC" and st["cpu0.softirq_count"] == "0"
    live["T0.pc"] = "SVE_ACC"
    st, viol = p.run("do_sve_acc_locked", task="T0", **live)
    assert not viol
    assert st["T0.TIF_SVE"] == "1" and st["cpu0.CPACR_EL1.ZEN_EL0EN"] == "1"
    assert st["cpu0.regs.zhi"] == "0" and st["cpu0.regs.p"] == "0"
    foreign = dict(live, **{"T0.TIF_FOREIGN_FPSTATE": "1"})
    for variant, flushed in (("v6.10", False), ("v6.12", True)):
        st, _ = Probe(variant, cpus=1, tasks=1, vmm_threads=0, vcpus=0, sve=True,
                      **PREEMPT).run("do_sve_acc_locked", task="T0", **foreign)
        assert st["T0.fp_type"] == "SVE" and st["cpu0.CPACR_EL1.ZEN_EL0EN"] == "0"
        assert (st["T0.fpsimd_cpu"] == "NR_CPUS") is flushed


def test_v68_is_v69s_code_and_has_bug_15() -> None:
    """v6.8.0 (vivo50kff/linux-6.8 @ bc4fae0d) differs from v6.9.0 in the modelled files only
    by host FPMR and code the model does not have (model/variants/v6.py make_v68): the
    same function table, and #15 is found there as on v6.9 (no_leak and no_loss, 8 steps
    on one CPU with two tasks)."""
    table = variants()
    v = table["v6.8"]
    assert v.release == "v6.8.0" and v.parent == "v6.9"
    assert v.tree == "vivo50kff/linux-6.8@bc4fae0d3fa35153a7509231d7ef715e86135279"
    assert v.functions == table["v6.9"].functions
    res, _ = explore_bfs(Instance(Config(**SMALL), v), list(PROPERTY_NAMES))
    assert set(res.violations) == {"no_leak", "no_loss"}
    assert len(res.violations["no_leak"].steps) == len(res.violations["no_loss"].steps) == 8
