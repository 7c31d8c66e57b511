"""The optional events on today's kernels (model/variants/v6_events.py): the v6 functions
against the C they mirror, the refusals, each event reached and its verdicts at small
configurations, and the v6.8-v6.15 fork finding (fixed by e0cb0f26594c in v6.16)."""

from __future__ import annotations

import pytest

from checker.explicit.explore import explore_bfs
from checker.instance import Instance
from checker.native.explore import explore_native
from model.config import Config, kconfig_preset
from model.variants import get_variant
from properties.fp import PROPERTY_NAMES

from .probe import Probe

PREEMPT = kconfig_preset("preempt")
SMALL = dict(cpus=1, tasks=2, vmm_threads=0, vcpus=0, preemption="merged", **PREEMPT)


def probe(variant: str, **cfg) -> Probe:
    base = dict(cpus=1, tasks=2, vmm_threads=0, vcpus=0, **PREEMPT)
    base.update(cfg)
    return Probe(variant, **base)


# T0 in the kernel (a syscall) with its FPSIMD state live and bound on cpu0.
LIVE = {"cpu0.current": "T0", "T0.pc": "KERNEL", "T0.TIF_FOREIGN_FPSTATE": "0",
        "cpu0.fpsimd_last_state.st": "T0.uw", "T0.fpsimd_cpu": "cpu0",
        "cpu0.regs.v": "T0", "cpu0.regs.fpsr": "T0", "T0.uw.v": "T0~", "T0.uw.fpsr": "T0~"}
# T0's state saved SVE-format and unbound (fp_type SVE, TIF_FOREIGN_FPSTATE set): its V
# values are in sve_state, uw.fpsimd_state.vregs is older.
SAVED_SVE = {"cpu0.current": "T0", "T0.pc": "KERNEL", "T0.TIF_FOREIGN_FPSTATE": "1",
             "T0.fpsimd_cpu": "NR_CPUS", "T0.TIF_SVE": "1", "T0.fp_type": "SVE",
             "T0.sve_state.v": "T0", "T0.sve_state.zhi": "T0", "T0.sve_state.p": "T0",
             "T0.uw.v": "T0~", "T0.uw.fpsr": "T0"}


# ------------------------------------------------------------------ what is refused


def test_tables() -> None:
    """v6.8 to v6.14 share the v6.9 event functions; v6.16 replaces the signal and clone
    ones and has no fpsimd_signal_preserve_current_state() any more."""
    v610, v616 = get_variant("v6.10"), get_variant("v6.16")
    assert v610.functions["arch_dup_task_struct"].__name__ == "arch_dup_task_struct_v68"
    assert get_variant("v6.8").functions["fpsimd_flush_thread"].__name__ == \
        "fpsimd_flush_thread_v6"
    assert v616.functions["arch_dup_task_struct"].__name__ == "arch_dup_task_struct_v616"
    assert v616.functions["restore_sigframe"].__name__ == "restore_sigframe_v616"
    assert v616.functions.get("fpsimd_signal_preserve_current_state") is None
    assert "fpsimd_signal_preserve_current_state" in v610.functions


# ------------------------------------------------------------------ C semantics: exec
@pytest.mark.parametrize("variant", ["v6.10", "v6.16"])
def test_flush_thread(variant: str) -> None:
    """fpsimd_flush_thread() (v6.8-v6.16): flush_task_state (fpsimd_cpu NR_CPUS and
    TIF_FOREIGN_FPSTATE), uw zeroed, TIF_SVE cleared, sve_state detached, fp_type FPSIMD."""
    st, viol = probe(variant, sve=True).run("fpsimd_flush_thread", task="T0",
                                             **{**LIVE, "T0.TIF_SVE": "1",
                                                "T0.fp_type": "SVE", "T0.sve_state.v": "T0"})
    assert not viol
    assert st["T0.TIF_FOREIGN_FPSTATE"] == "1" and st["T0.fpsimd_cpu"] == "NR_CPUS"
    assert st["T0.uw.v"] == st["T0.uw.fpsr"] == st["T0.sve_state.v"] == "0"
    assert st["T0.TIF_SVE"] == "0" and st["T0.fp_type"] == "FPSIMD"
    assert st["cpu0.softirq_count"] == "0"


# ------------------------------------------------------------------ C semantics: signals
def test_v610_frame_follows_fp_type_not_tif_sve() -> None:
    """#16 (61da7c8e2a60, v6.8): preserve_sve_context() writes register data iff fp_type is
    SVE.  A task in a syscall whose state was saved FPSIMD-only keeps TIF_SVE: no data,
    and fpsimd_context holds the saved V values."""
    pre = {**LIVE, "T0.TIF_FOREIGN_FPSTATE": "1", "T0.fpsimd_cpu": "NR_CPUS",
           "T0.TIF_SVE": "1", "T0.fp_type": "FPSIMD", "T0.uw.v": "T0", "T0.uw.fpsr": "T0"}
    st, viol = probe("v6.10", sve=True, events=("signal",)).run(
        "do_signal", task="T0", inputs=(False,) * 4, **pre)
    assert not viol
    assert st["T0.sigframe.sve_regs"] == "0" and st["T0.sigframe.v"] == "T0"
    st, _ = probe("v6.10", sve=True, events=("signal",)).run(
        "do_signal", task="T0", inputs=(False,) * 4, **SAVED_SVE)
    assert st["T0.sigframe.sve_regs"] == "1"
    assert st["T0.sigframe.v"] == "T0" and st["T0.sigframe.zhi"] == "T0"  # sve_to_fpsimd


def test_v616_delivery_saves_and_flushes_first() -> None:
    """929fa99b1215 (v6.16): setup_rt_frame() saves and flushes current's state, then the
    frame is written from the thread struct (V from sve_state if fp_type is SVE)."""
    st, viol = probe("v6.16", events=("signal",)).run("do_signal", task="T0",
                                                      inputs=(False,) * 4, **LIVE)
    assert not viol
    assert st["T0.sigframe.v"] == "T0" and st["T0.uw.v"] == "T0"
    assert st["T0.TIF_FOREIGN_FPSTATE"] == "1" and st["T0.fpsimd_cpu"] == "NR_CPUS"


def test_sigreturn_v610_loads_v616_only_merges() -> None:
    """v6.8-v6.15 fpsimd_update_current_state() loads and binds the frame's values; v6.16's
    (c94f2f326146) only merges them into the thread struct after restore_sigframe()'s
    save and flush, so the return to user space loads them."""
    pre = {**LIVE, "T0.pc": "USER", "T0.in_handler": "1", "T0.sigframe.v": "T0~",
           "T0.sigframe.fpsr": "T0~"}
    st, viol = probe("v6.10", events=("signal",)).run("sys_rt_sigreturn", task="T0",
                                                      inputs=(False,) * 8, **pre)
    assert not viol
    assert st["cpu0.regs.v"] == "T0" and st["T0.TIF_FOREIGN_FPSTATE"] == "0"
    assert st["cpu0.fpsimd_last_state.st"] == "T0.uw"
    st, viol = probe("v6.16", events=("signal",)).run("sys_rt_sigreturn", task="T0",
                                                      inputs=(False,) * 8, **pre)
    assert not viol
    assert st["T0.uw.v"] == "T0" and st["T0.TIF_FOREIGN_FPSTATE"] == "1"
    assert st["T0.fpsimd_cpu"] == "NR_CPUS"  # the task is unbound; last->st left as it was


def test_sigreturn_forgets_the_syscall_before_the_fp_restore() -> None:
    """restore_sigframe() calls forget_syscall() before the FP records: on v6.8-v6.15,
    whose fpsimd_save_user_state() saves FPSIMD only while in_syscall(), the rest of
    rt_sigreturn is no longer in a syscall, so a save after the restore keeps the
    restored SVE state whole.  v6.16 reads no syscallno; its in_syscall marks the el0_svc
    entry whose fpsimd_syscall_exit() still runs on the way out."""
    pre = {**LIVE, "T0.pc": "USER", "T0.in_handler": "1", "T0.TIF_SVE": "1",
           "T0.fp_type": "SVE", "T0.sigframe.sve_regs": "1"}
    st, viol = probe("v6.10", sve=True, events=("signal",)).run(
        "sys_rt_sigreturn", task="T0", inputs=(False,) * 12, **pre)
    assert not viol
    assert st["T0.in_syscall"] == "0" and st["T0.TIF_SVE"] == "1"
    assert st["T0.fp_type"] == "SVE"
    st, viol = probe("v6.16", sve=True, events=("signal",)).run(
        "sys_rt_sigreturn", task="T0", inputs=(False,) * 12, **pre)
    assert not viol
    assert st["T0.in_syscall"] == "1"


@pytest.mark.parametrize("variant", ["v6.10", "v6.16"])
def test_sve_signal_round_trip_holds(variant: str) -> None:
    """An SVE task's signal delivery and sigreturn with a softirq's kernel-mode NEON at
    every window (one CPU, one task): every property holds.  Before forget_syscall() was
    modelled, v6.10 reported a false no_loss here (13 steps: the softirq's save after the
    restore stored FPSIMD only and the restored Z bits above 127 and P/FFR were lost)."""
    cfg = {**SMALL, "tasks": 1, "sve": True, "events": ("signal",)}
    res, _ = explore_native(Instance(Config(**cfg), get_variant(variant)),
                            list(PROPERTY_NAMES))
    assert res.complete and not res.violations, (variant, list(res.violations))
    assert res.stats.states > 1000


# ------------------------------------------------------------------ C semantics: clone
def test_clone_of_a_parent_saved_as_sve() -> None:
    """arch_dup_task_struct(): v6.10 copies uw.fpsimd_state as it is (the child's V is the
    parent's older value when its state was saved SVE-format); v6.16 (e0cb0f26594c)
    converts from sve_state first.  Both give the child fp_type FPSIMD, TIF_SVE clear and
    no sve_state; copy_thread() flushes it."""
    for variant, child_v in (("v6.10", "T1~"), ("v6.16", "T1")):
        st, viol = probe(variant, sve=True, events=("fork",)).run(
            "_do_fork", 1, task="T0", inputs=(False,) * 4,
            **{**SAVED_SVE, "T0.syscall_body": "1"})
        assert not viol, variant
        assert st["T1.uw.v"] == child_v, variant
        assert st["T1.TIF_SVE"] == "0" and st["T1.fp_type"] == "FPSIMD"
        assert st["T1.sve_state.v"] == "0" and st["T1.TIF_FOREIGN_FPSTATE"] == "1"
        assert st["T1.created"] == "1"


# ------------------------------------------------------------------ C semantics: CPU PM
def test_cpu_pm_enter_saves_and_flushes() -> None:
    """fpsimd_cpu_pm_notifier(CPU_PM_ENTER) (v6.8-v6.18): fpsimd_save_and_flush_cpu_state()
    (its WARN_ON(preemptible()) holds: IRQs are off)."""
    st, viol = probe("v6.16", events=("cpu_pm",)).run(
        "suspend_enter", task="T0", inputs=(False,) * 4, **LIVE)
    assert not viol
    assert st["T0.uw.v"] == "T0" and st["cpu0.fpsimd_last_state.st"] == "NULL"
    assert st["T0.TIF_FOREIGN_FPSTATE"] == "1"


# ------------------------------------------------------------------ explorations
ONE_VCPU = dict(tasks=0, vmm_threads=1, vcpus=1)
CASES = [  # events, configuration, reachability guards the events must reach
    (("signal",), dict(cpus=2, tasks=1), ["signal_with_state_live_elsewhere"]),
    (("fork",), {}, ["fork_with_parent_state_live", "fork_reuses_bound_task_struct"]),
    (("exec",), {}, ["exec_with_state_live"]),
    (("cpu_pm",), ONE_VCPU, ["suspend_with_live_task", "idle_pm_with_task_bound"]),
    (("cpu_hotplug",), dict(cpus=2, tasks=1), ["cpu_down_with_task_bound"]),
    (("efi",), ONE_VCPU, ["efi_neon_with_live_task", "efi_buffer_with_live_state",
                          "efi_with_vcpu_bound"]),
    (("ptrace_fpr_set", "ptrace_stop"), {}, ["tracee_state_live_at_fpr_set"]),
    (("set_one_reg",), ONE_VCPU, ["set_one_reg_after_run"]),
]


@pytest.mark.parametrize("variant", ["v6.10", "v6.16"])
@pytest.mark.parametrize("events,cfg,guards", CASES, ids=["+".join(c[0]) for c in CASES])
def test_event_holds_and_is_reached(variant: str, events: tuple[str, ...], cfg: dict,
                                    guards: list[str]) -> None:
    """Every property holds with the event on (one CPU, two tasks or the VMM thread and a
    vcpu; two CPUs where a guard needs another CPU; the preempt Kconfig, merged) and the
    event's guards are reached."""
    inst = Instance(Config(**{**SMALL, **cfg, "events": events}), get_variant(variant))
    res, _ = explore_bfs(inst, list(PROPERTY_NAMES))
    assert res.complete and not res.violations, (variant, events, list(res.violations))
    for g in guards:
        assert res.guards_reached.get(g) is not None, (variant, events, g)


# ------------------------------------------------------------------ the clone finding
def test_v614_clone_child_gets_stale_v_values_v616_fixes_it() -> None:
    """v6.8-v6.15 arch_dup_task_struct() copies uw.fpsimd_state without converting an
    SVE-format save: an SVE task's softirq kernel-mode NEON in el0_svc() before
    regs->syscallno is set (in_syscall() false) saves its state as SVE (fp_type SVE,
    TIF_FOREIGN_FPSTATE); its clone() then copies the older V values into the child
    (no_loss, 12 steps, one CPU, no tracer).  The curated trace
    (counterexamples/v6.14-fork-no_loss-...) replays on v6.8-v6.14 and not on v6.16
    (e0cb0f26594c: save, flush and convert first; tests/checker/inspect/test_curated.py)."""
    cfg = Config(cpus=1, tasks=2, vmm_threads=0, vcpus=0, vhe=True, sve=True,
                 preemption="merged", events=("fork",), **PREEMPT)
    res, _ = explore_native(Instance(cfg, get_variant("v6.14")), ["no_loss"],
                            stop_early=True, workers=1)  # shape asserted: one worker
    trace = res.violations["no_loss"]
    actions = [s.action for s in trace.steps]
    assert len(actions) == 12 and "fork" in actions and "ptrace_sve_set" not in actions


# ------------------------------------------------------------------ vcpu reset (PSCI CPU_ON)
def test_v6_vcpu_reset_puts_and_reloads_a_loaded_vcpu() -> None:
    """kvm_psci_vcpu_on() only requests the reset; kvm_reset_vcpu() (v6.8-v6.16), run by the
    target's own thread with the vcpu loaded, puts it (put_fp saves and flushes the
    guest-owned registers), rewrites fp_regs and loads it again."""
    p = Probe("v6.16", cpus=1, tasks=0, vmm_threads=2, vcpus=2, events=("vcpu_reset",),
              **PREEMPT)
    st, viol = p.run("kvm_psci_vcpu_on", 1, 0, task="vmm1",
                     **{"vcpu0.power_off": "1", "cpu0.current": "vmm1"})
    assert not viol
    assert st["vcpu0.requests.VCPU_RESET"] == "1" and st["vcpu0.power_off"] == "0"
    live = {"cpu0.current": "vmm0", "vmm0.pc": "LOOP_TOP", "vcpu0.mutex": "vmm0",
            "vmm0.preempt_notifier": "vcpu0", "cpu0.host_data.fp_owner": "GUEST_OWNED",
            "cpu0.fpsimd_last_state.st": "vcpu0.fp_regs", "vmm0.TIF_FOREIGN_FPSTATE": "0",
            "cpu0.regs.v": "G0", "cpu0.regs.fpsr": "G0"}
    st, viol = p.run("kvm_reset_vcpu", 0, task="vmm0", inputs=(False,) * 8, **live)
    assert not viol
    assert st["cpu0.fpsimd_last_state.st"] == "NULL"  # put_fp saved and flushed
    assert st["vcpu0.fp_regs.v"] == "G0" and st["cpu0.regs.v"] == "G0~"  # the reset's values
    assert st["cpu0.host_data.fp_owner"] == "FREE"  # v6.14+ load_fp
    assert st["cpu0.preempt_count"] == "0"


def test_v6_vcpu_reset_holds() -> None:
    """Two vcpus, two VMM threads, one CPU (preempt, merged): every property holds on v6.16
    with event vcpu_reset (63,638 states)."""
    cfg = Config(cpus=1, tasks=0, vmm_threads=2, vcpus=2, preemption="merged",
                 events=("vcpu_reset",), **PREEMPT)
    res, _ = explore_native(Instance(cfg, get_variant("v6.16")), list(PROPERTY_NAMES))
    assert res.complete and not res.violations
    assert res.stats.states == 63_638


# ------------------------------------------------------------------ VL changes
VL = dict(cpus=1, tasks=1, vmm_threads=0, vcpus=0, vhe=True, sve=True, sve_vls=(128, 256),
          preemption="merged", events=("sve_set_vl",), **PREEMPT)


def test_v614_vl_change_resurrects_stale_v_values_v616_holds() -> None:
    """prctl(PR_SVE_SET_VL) on v6.8-v6.15: vec_set_vector_length() saves current's live
    state FPSIMD-only (in_syscall()), then sees TIF_SVE (kept across syscalls since
    8c845e273104) and copies the stale low bits of sve_state over the V values just saved:
    no_loss, 10 steps, one task.  v6.16 (49ce484187f7: save and flush, convert from the
    effective state) holds there."""
    res, _ = explore_bfs(Instance(Config(**VL), get_variant("v6.14")), ["no_loss"],
                         stop_early=True)
    actions = [s.action for s in res.violations["no_loss"].steps]
    assert len(actions) == 10 and "sve_set_vl" in actions
    res, _ = explore_bfs(Instance(Config(**VL), get_variant("v6.16")), list(PROPERTY_NAMES))
    assert res.complete and not res.violations
    assert res.guards_reached.get("sve_set_vl_with_tif_sve") is not None
