"""v6.16 (model/variants/v6_16.py): the 2025 host-side fixes against the C they mirror, #22
on v6.14 and its fix, and the two defects of v6.16's reworked ptrace SVE write."""

from __future__ import annotations

from checker.explicit.explore import explore_bfs
from checker.instance import Instance
from checker.native.explore import explore_native
from checker.smt.bmc import bmc
from model.config import Config, kconfig_preset
from model.state import Layout
from model.variants import get_variant, variants
from properties.fp import PROPERTY_NAMES

from .probe import Probe

PREEMPT = kconfig_preset("preempt")
# #22's smallest setting: one CPU, a tracer and a tracee (two plain tasks), no vcpu.
TRACER = dict(cpus=1, tasks=2, vmm_threads=0, vcpus=0, vhe=True, sve=True,
              preemption="merged", **PREEMPT)


def probe(variant: str = "v6.16") -> Probe:
    return Probe(variant, cpus=1, tasks=2, vmm_threads=0, vcpus=0, sve=True, **PREEMPT)


# ------------------------------------------------------------------ the variants
def test_v616_is_pinned_and_derived_from_v614() -> None:
    table = variants()
    v = table["v6.16"]
    assert v.parent == "v6.14" and v.release == "v6.16-rc1"
    assert v.tree == "torvalds/linux@398edaa12f9cf2be7902f306fc023c20e3ebd3e4"
    assert table["v6.16-rc3"].parent == "v6.16"
    assert table["v6.16-ptrace-fixes"].parent == "v6.16-rc3"
    for fn in ("fpsimd_syscall_enter", "fpsimd_syscall_exit",
               "fpsimd_save_and_flush_current_state"):
        assert fn in v.functions and fn not in table["v6.14"].functions
    # KVM is v6.14's.
    for fn in ("kvm_arch_vcpu_load_fp", "kvm_arch_vcpu_put_fp", "fixup_guest_exit_fp"):
        assert v.functions[fn] is table["v6.14"].functions[fn]


def test_to_save_is_state_only_with_sve() -> None:
    """fpsimd_last_state.to_save is a variable only for v6.16 with SVE (nothing reads it
    in a way that matters without SVE); the default configuration's layout is v6.14's."""
    feats = frozenset(get_variant("v6.16").option("state_features"))
    names = {v.name for v in Layout(Config(sve=True, vcpus=0, vmm_threads=0), feats).vars}
    assert "cpu0.fpsimd_last_state.to_save" in names
    plain = Layout(Config(), feats)
    old = Layout(Config(), frozenset(get_variant("v6.14").option("state_features")))
    assert [v.name for v in plain.vars] == [v.name for v in old.vars]


# ------------------------------------------------------------------ C semantics
LIVE = {"cpu0.current": "T0", "T0.pc": "USER", "cpu0.regs.v": "T0", "cpu0.regs.fpsr": "T0",
        "cpu0.regs.zhi": "T0", "cpu0.regs.p": "T0", "T0.TIF_FOREIGN_FPSTATE": "0",
        "T0.TIF_SVE": "1", "cpu0.CPACR_EL1.ZEN_EL0EN": "1",
        "cpu0.fpsimd_last_state.st": "T0.uw", "T0.fpsimd_cpu": "cpu0",
        "T0.fp_type": "FPSIMD"}


def test_syscall_entry_discards_live_sve_and_sets_to_save_fpsimd() -> None:
    """v6.16 el0_svc() -> fpsimd_syscall_enter(): with TIF_SVE the live Z bits above 127
    and P/FFR are zeroed, TIF_SVE and EL0 SVE stay on, to_save = FP_STATE_FPSIMD."""
    st, viol = probe().run("el0_svc", task="T0", **LIVE)
    assert not viol
    assert st["cpu0.regs.zhi"] == "0" and st["cpu0.regs.p"] == "0"
    assert st["cpu0.regs.v"] == "T0"
    assert st["T0.TIF_SVE"] == "1" and st["cpu0.CPACR_EL1.ZEN_EL0EN"] == "1"
    assert st["cpu0.fpsimd_last_state.to_save"] == "FPSIMD"
    assert st["T0.in_syscall"] == "1" and st["T0.pc"] == "KERNEL"


def test_save_follows_to_save_not_in_syscall() -> None:
    """v6.16 fpsimd_save_user_state(): in a syscall, to_save FPSIMD saves FPSIMD-only; a
    rebind (to_save CURRENT) saves the full SVE state although in_syscall() holds.
    v6.14 saved FPSIMD-only whenever in_syscall() (#22)."""
    pre = dict(LIVE, **{"T0.pc": "KERNEL", "T0.in_syscall": "1",
                        "cpu0.fpsimd_last_state.to_save": "FPSIMD"})
    st, _ = probe().run("fpsimd_save_user_state", task="T0", inputs=(False,) * 16, **pre)
    assert st["T0.fp_type"] == "FPSIMD" and st["T0.uw.v"] == "T0"
    pre["cpu0.fpsimd_last_state.to_save"] = "CURRENT"
    st, _ = probe().run("fpsimd_save_user_state", task="T0", inputs=(False,) * 16, **pre)
    assert st["T0.fp_type"] == "SVE" and st["T0.sve_state.zhi"] == "T0"
    del pre["cpu0.fpsimd_last_state.to_save"]
    st, _ = probe("v6.14").run("fpsimd_save_user_state", task="T0", inputs=(False,) * 16,
                               **pre)
    assert st["T0.fp_type"] == "FPSIMD" and st["T0.sve_state.zhi"] == "0"


def test_bind_resets_to_save_and_syscall_exit_too() -> None:
    """fpsimd_bind_task_to_cpu() sets to_save = FP_STATE_CURRENT (and the EL0 SVE trap
    from TIF_SVE); ret_to_user's last iteration calls fpsimd_syscall_exit() for a syscall
    only (to_save CURRENT), not for the return from a trap."""
    pre = dict(LIVE, **{"cpu0.fpsimd_last_state.to_save": "FPSIMD",
                        "cpu0.fpsimd_last_state.st": "NULL", "T0.TIF_SVE": "0"})
    st, _ = probe().run("fpsimd_bind_task_to_cpu", task="T0", **pre)
    assert st["cpu0.fpsimd_last_state.to_save"] == "CURRENT"
    assert st["cpu0.CPACR_EL1.ZEN_EL0EN"] == "0"
    ret = dict(LIVE, **{"T0.pc": "KERNEL", "cpu0.fpsimd_last_state.to_save": "FPSIMD"})
    st, _ = probe().run("ret_to_user", task="T0", **dict(ret, **{"T0.in_syscall": "0"}))
    assert st["cpu0.fpsimd_last_state.to_save"] == "FPSIMD" and st["T0.pc"] == "USER"
    st, _ = probe().run("ret_to_user", task="T0", **dict(ret, **{"T0.in_syscall": "1"}))
    assert st["cpu0.fpsimd_last_state.to_save"] == "CURRENT" and st["T0.pc"] == "USER"


def test_task_fpsimd_load_leaves_the_trap_to_the_bind() -> None:
    """v6.16 task_fpsimd_load(): an FPSIMD-format state clears TIF_SVE but no longer
    writes CPACR_EL1.ZEN (v6.14 called sve_user_disable() there)."""
    pre = {"cpu0.current": "T0", "T0.pc": "KERNEL", "T0.TIF_SVE": "1",
           "cpu0.CPACR_EL1.ZEN_EL0EN": "1", "cpu0.softirq_count": "1"}
    st, viol = probe().run("task_fpsimd_load", task="T0", **pre)
    assert not viol and st["T0.TIF_SVE"] == "0" and st["cpu0.CPACR_EL1.ZEN_EL0EN"] == "1"
    st, _ = probe("v6.14").run("task_fpsimd_load", task="T0", **pre)
    assert st["cpu0.CPACR_EL1.ZEN_EL0EN"] == "0"


def test_switch_to_kernel_neon_task_flushes_before_loading() -> None:
    """#21 (01098d893fa8): fpsimd_thread_switch() to a task in a kernel-NEON section
    flushes first, so fpsimd_load_kernel_state() never elides the load: with this CPU
    still bound to next's kernel state (and registers holding other data) v6.14 elides
    the reload, v6.16 reloads."""
    pre = {"cpu0.current": "T0", "cpu0.irqs_disabled": "1", "T0.TIF_FOREIGN_FPSTATE": "1",
           "T1.pc": "KERNEL_NEON", "T1.TIF_KERNEL_FPSTATE": "1",
           "T1.kernel_fpsimd_state.v": "kneon.T1", "T1.kernel_fpsimd_state.fpsr": "kneon.T1",
           "T1.kernel_fpsimd_cpu": "cpu0", "cpu0.fpsimd_last_state.st": "T1.kernel",
           "cpu0.regs.v": "kneon", "cpu0.regs.fpsr": "kneon"}
    st, viol = probe().run("fpsimd_thread_switch", 1, task="T0", **pre)
    assert not viol
    assert st["cpu0.regs.v"] == "kneon.T1" and st["cpu0.fpsimd_last_state.st"] == "NULL"
    st, _ = probe("v6.14").run("fpsimd_thread_switch", 1, task="T0", **pre)
    assert st["cpu0.regs.v"] == "kneon"


def test_v616_sve_set_leaves_tif_sve_and_zeroes_the_tracers_state() -> None:
    """v6.16 sve_set_common() on a system without SME: fp_type SVE but TIF_SVE left clear
    (fixed by 128a7494a9f1), and the memset hits current's (the tracer's)
    uw.fpsimd_state (fixed by 5cbb61bf4168); the fixed variant sets TIF_SVE and zeroes
    the tracee's."""
    pre = {"cpu0.current": "T1", "T1.pc": "KERNEL", "T0.pc": "KERNEL",
           "T1.uw.v": "T1", "T1.uw.fpsr": "T1", "T0.uw.v": "T0", "T0.uw.fpsr": "T0",
           "T0.TIF_FOREIGN_FPSTATE": "0", "T0.fpsimd_cpu": "cpu0"}
    st, viol = probe().run("sve_set", 0, task="T1", **pre)
    assert not viol
    assert st["T0.fp_type"] == "SVE" and st["T0.TIF_SVE"] == "0"
    assert st["T1.uw.v"] == "0" and st["T1.uw.fpsr"] == "0"
    assert st["T0.sve_state.zhi"] == "T0" and st["T0.uw.fpsr"] == "T0"
    assert st["T0.TIF_FOREIGN_FPSTATE"] == "1" and st["T0.fpsimd_cpu"] == "NR_CPUS"
    st, _ = probe("v6.16-ptrace-fixes").run("sve_set", 0, task="T1", **pre)
    assert st["T0.TIF_SVE"] == "1" and st["T1.uw.v"] == "T1" and st["T0.uw.v"] == "0"


def test_save_and_flush_current_state() -> None:
    """v6.16's new fpsimd_save_and_flush_current_state(): save under
    get_cpu_fpsimd_context(), then fpsimd_flush_task_state(current)."""
    pre = dict(LIVE, **{"T0.pc": "KERNEL", "T0.TIF_SVE": "0"})
    st, viol = probe().run("fpsimd_save_and_flush_current_state", task="T0", **pre)
    assert not viol
    assert st["T0.uw.v"] == "T0" and st["T0.TIF_FOREIGN_FPSTATE"] == "1"
    assert st["T0.fpsimd_cpu"] == "NR_CPUS" and st["cpu0.softirq_count"] == "0"


# ------------------------------------------------------------------ #22 and its fix
def test_v614_has_bug_22_and_v616_fixes_it() -> None:
    """#22 (398edaa12f9c) on one CPU with a tracer: a tracer's NT_ARM_SVE write at T0's
    syscall stop is reloaded, then a softirq's kernel_neon_begin() saves it FPSIMD-only
    because in_syscall(): the tracer's Z bits above 127 are gone (no_loss, 13 steps).
    v6.16 with the later ptrace fixes holds every property there (272,526 states; 225,585
    before p_written's "must read zero" value, model/state.py P_GHOST)."""
    res, _ = explore_native(Instance(Config(**TRACER), get_variant("v6.14")), ["no_loss"],
                            stop_early=True, workers=1)  # shape asserted: one worker
    trace = res.violations["no_loss"]
    assert len(trace.steps) == 13
    assert [s for s in trace.steps if s.action == "ptrace_sve_set"]
    fixed, _ = explore_native(Instance(Config(**TRACER), get_variant("v6.16-ptrace-fixes")),
                              list(PROPERTY_NAMES))
    assert fixed.complete and not fixed.violations
    assert fixed.stats.states == 272_526


def test_v616_ptrace_write_defects_are_found() -> None:
    """v6.16's sve_set_common() (no SME): the tracee returns with fp_type SVE and TIF_SVE
    clear, and task_fpsimd_load()'s WARN_ON_ONCE fires (kernel_asserts, 4 steps: the
    syzbot report 128a7494a9f1 fixed); the tracer, whose state was saved in its
    uw.fpsimd_state, returns to EL0 with V0-V31 and FPSR/FPCR zero (no_loss, 4 steps:
    5cbb61bf4168)."""
    res, _ = explore_bfs(Instance(Config(**TRACER), get_variant("v6.16")),
                         ["kernel_asserts", "no_loss"], stop_early=True)
    assert len(res.violations["kernel_asserts"].steps) == 4
    assert "test_and_set_thread_flag(TIF_SVE)" in res.violations["kernel_asserts"].violation
    assert len(res.violations["no_loss"].steps) == 4


def test_bmc_finds_the_v616_ptrace_defects_at_the_explorers_length() -> None:
    """bmc finds both v6.16 ptrace defects in 4 steps, the explorer's shortest length (about
    3 s).  (#22 on v6.14 needs depth 13: `python -m checker bmc --variant v6.14 --sve
    --cpus 1 --tasks 2 --vmm-threads 0 --vcpus 0 --vhe --kconfig preempt --property
    no_loss --depth 13` did not finish in 1,500 s on the shared 2-core machine.)"""
    res = bmc(Instance(Config(**TRACER), get_variant("v6.16")), ["kernel_asserts", "no_loss"],
              4)
    assert {p: (r.verdict, r.depth) for p, r in res.props.items()} == {
        "kernel_asserts": ("VIOLATED", 4), "no_loss": ("VIOLATED", 4)}


# ---------------------------------------------- v6.16-rc3: kvmarm-fixes-6.16-3's CPTR rework
def test_v616rc3_vhe_guest_exit_untraps_host_el0_sve_and_sme() -> None:
    """e62dd507844f: VHE's __deactivate_cptr_traps() writes CPACR_EL1 = FPEN | ZEN | SMEN
    (EL0 and EL1 enables) on a guest exit; v6.14's kept EL0 SVE/SME trapped."""
    pre = {"cpu0.CPACR_EL1.ZEN_EL0EN": "0", "cpu0.CPACR_EL1.SMEN_EL0EN": "0"}
    kw = dict(cpus=1, tasks=0, vmm_threads=1, vcpus=1, vhe=True, sve=True, sme=True,
              **PREEMPT)
    st, viol = Probe("v6.16-rc3", **kw).run("__deactivate_traps", 0, **pre)
    assert not viol
    assert st["cpu0.CPACR_EL1.ZEN_EL0EN"] == "1" and st["cpu0.CPACR_EL1.SMEN_EL0EN"] == "1"
    st, _ = Probe("v6.16", **kw).run("__deactivate_traps", 0, **pre)
    assert st["cpu0.CPACR_EL1.ZEN_EL0EN"] == "0" and st["cpu0.CPACR_EL1.SMEN_EL0EN"] == "0"


def test_v616rc3_holds_with_host_el0_untrapped_after_exit() -> None:
    """The commit message's argument (the host state was flushed at vcpu load, so
    TIF_FOREIGN_FPSTATE forces a reload and bind, which sets the EL0 traps, before EL0
    runs) checked, not assumed: one CPU, a VMM thread with a vcpu, SVE and SME, VHE.  The
    untrapped window is reached: the state count differs from v6.16-rc1's (175,832; 174,467
    before p_written's P_ZERO, 152,019 before FPCR had its own slice with SME)."""
    cfg = Config(cpus=1, tasks=0, vmm_threads=1, vcpus=1, vhe=True, sve=True, sme=True,
                 **PREEMPT)
    res, _ = explore_native(Instance(cfg, get_variant("v6.16-rc3")), list(PROPERTY_NAMES))
    assert res.complete and not res.violations
    # (170,027 before P_GHOST's P_ZERO; 147,579 before FPCR had its own slice)
    assert res.stats.states == 171_392
