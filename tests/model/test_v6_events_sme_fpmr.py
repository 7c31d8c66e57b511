"""The optional events with FPMR (`--fpmr`) and SME (`--sme`) on the v6 variants
(model/variants/v6_events.py): their FPMR and SME statements against the C they mirror, the
v6.9-v6.14 FPMR findings (exec keeps the old program's FPMR, fixed by a90878f297d3; signal
delivery saves the live FPMR whoever it belongs to, fixed by 929fa99b1215) and v6.16
holding."""

from __future__ import annotations

import pytest

from checker.explicit.explore import explore_bfs
from checker.instance import Instance
from model.config import Config, kconfig_preset
from model.variants import get_variant
from properties.fp import PROPERTY_NAMES

from .probe import Probe

PREEMPT = kconfig_preset("preempt")
SMALL = dict(cpus=1, tasks=2, vmm_threads=0, vcpus=0, preemption="merged", **PREEMPT)


def probe(variant: str, **cfg) -> Probe:
    return Probe(variant, **{**dict(cpus=1, tasks=2, vmm_threads=0, vcpus=0, **PREEMPT),
                             **cfg})


def _explore(variant: str, **cfg):  # noqa: ANN202
    res, _ = explore_bfs(Instance(Config(**{**SMALL, **cfg}), get_variant(variant)),
                         list(PROPERTY_NAMES))
    assert res.complete
    return res


# T0 in the kernel with its state live and bound on cpu0 (FPMR included).
LIVE = {"cpu0.current": "T0", "T0.pc": "KERNEL", "T0.TIF_FOREIGN_FPSTATE": "0",
        "cpu0.fpsimd_last_state.st": "T0.uw", "T0.fpsimd_cpu": "cpu0",
        "cpu0.regs.v": "T0", "cpu0.regs.fpsr": "T0", "cpu0.regs.fpmr": "T0",
        "T0.uw.v": "T0~", "T0.uw.fpsr": "T0~", "T0.uw.fpmr": "T0~"}
# T0 in the kernel with its state saved and not live; cpu0's registers hold T1's.
FOREIGN = {"cpu0.current": "T0", "T0.pc": "KERNEL", "T0.TIF_FOREIGN_FPSTATE": "1",
           "T0.fpsimd_cpu": "NR_CPUS", "cpu0.fpsimd_last_state.st": "T1.uw",
           "T1.fpsimd_cpu": "cpu0", "cpu0.regs.v": "T1", "cpu0.regs.fpsr": "T1",
           "cpu0.regs.fpmr": "T1", "T0.uw.v": "T0", "T0.uw.fpsr": "T0", "T0.uw.fpmr": "T0"}


# ------------------------------------------------------------------ FPMR: C semantics
def test_exec_resets_fpmr_only_from_v616() -> None:
    """fpsimd_flush_thread(): v6.9-v6.15 zero uw.fpsimd_state but leave thread.uw.fpmr;
    v6.16 (a90878f297d3) sets it to 0 too."""
    for variant, fpmr in (("v6.10", "T0~"), ("v6.14", "T0~"), ("v6.16", "0")):
        st, viol = probe(variant, fpmr=True, events=("exec",)).run(
            "fpsimd_flush_thread", task="T0", **LIVE)
        assert not viol
        assert st["T0.uw.v"] == "0" and st["T0.uw.fpmr"] == fpmr, variant


def test_signal_frame_fpmr_v610_reads_the_register_v616_the_thread() -> None:
    """preserve_fpmr_context(): v6.9-v6.15 store read_sysreg_s(SYS_FPMR) into
    thread.uw.fpmr and the frame without testing TIF_FOREIGN_FPSTATE (another task's FPMR
    when current's state is not live); v6.16 copies thread.uw.fpmr after its save+flush."""
    st, viol = probe("v6.10", fpmr=True, events=("signal",)).run(
        "do_signal", task="T0", inputs=(False,) * 8, **FOREIGN)
    assert not viol
    assert st["T0.uw.fpmr"] == st["T0.sigframe.fpmr"] == "T1"
    assert st["T0.sigframe.v"] == "T0"
    st, viol = probe("v6.16", fpmr=True, events=("signal",)).run(
        "do_signal", task="T0", inputs=(False,) * 8, **FOREIGN)
    assert not viol
    assert st["T0.uw.fpmr"] == st["T0.sigframe.fpmr"] == "T0"
    # live state: both versions put current's own FPMR in the frame
    for variant in ("v6.10", "v6.16"):
        st, _ = probe(variant, fpmr=True, events=("signal",)).run(
            "do_signal", task="T0", inputs=(False,) * 8, **LIVE)
        assert st["T0.sigframe.fpmr"] == "T0", variant


def test_sigreturn_fpmr_v610_writes_the_register_v616_the_thread() -> None:
    """restore_fpmr_context(): v6.9-v6.15 write_sysreg_s() the record's value into FPMR
    (after fpsimd_update_current_state() loaded and bound the state: here the register);
    v6.16 stores it in thread.uw.fpmr (the state was saved and flushed first)."""
    pre = {**LIVE, "T0.pc": "USER", "T0.in_handler": "1", "T0.sigframe.v": "T0~",
           "T0.sigframe.fpsr": "T0~", "T0.sigframe.fpmr": "T0~"}
    st, viol = probe("v6.10", fpmr=True, events=("signal",)).run(
        "sys_rt_sigreturn", task="T0", inputs=(False,) * 12, **pre)
    assert not viol
    assert st["cpu0.regs.fpmr"] == "T0" and st["T0.uw.fpmr"] != "T0"
    st, viol = probe("v6.16", fpmr=True, events=("signal",)).run(
        "sys_rt_sigreturn", task="T0", inputs=(False,) * 12, **pre)
    assert not viol
    assert st["T0.uw.fpmr"] == "T0" and st["T0.TIF_FOREIGN_FPSTATE"] == "1"


def test_fork_copies_thread_uw_fpmr() -> None:
    """arch_dup_task_struct(): ``*dst = *src`` copies thread.uw.fpmr (after v6.10's preserve
    / v6.16's save+flush stored the live FPMR there): the child's is its parent's."""
    for variant in ("v6.10", "v6.16"):
        st, viol = probe(variant, fpmr=True, events=("fork",)).run(
            "_do_fork", 1, task="T0", inputs=(False,) * 8, **{**LIVE, "T0.syscall_body": "1"})
        assert not viol
        assert st["T0.uw.fpmr"] == "T0" and st["T1.uw.fpmr"] == "T1", variant


def test_tracer_writes_fpmr_alone() -> None:
    """fpmr_set() (NT_ARM_FPMR, v6.9-v6.16): thread.uw.fpmr = the tracer's value, then
    fpsimd_flush_task_state(target).  A new FPMR generation alone: the tracee's V values
    keep their label; an NT_PRFPREG write (fpr_set) is the converse."""
    pre = {"cpu0.current": "T1", "T1.pc": "KERNEL", "T0.pc": "KERNEL",
           "cpu0.fpsimd_last_state.st": "T0.uw", "T0.fpsimd_cpu": "cpu0",
           "T0.TIF_FOREIGN_FPSTATE": "0", "cpu0.regs.v": "T0", "cpu0.regs.fpmr": "T0",
           "T0.uw.v": "T0", "T0.uw.fpsr": "T0", "T0.uw.fpmr": "T0"}
    p = probe("v6.16", fpmr=True, events=("ptrace_fpr_set",))
    st, viol = p.run("fpmr_set", 0, task="T1", **pre)
    assert not viol
    assert st["T0.uw.fpmr"] == "T0" and st["cpu0.regs.fpmr"] == "T0~"
    assert st["T0.uw.v"] == st["cpu0.regs.v"] == "T0"
    assert st["T0.TIF_FOREIGN_FPSTATE"] == "1" and st["T0.fpsimd_cpu"] == "NR_CPUS"
    st, viol = p.run("fpr_set", 0, task="T1", **pre)
    assert not viol
    assert st["T0.uw.v"] == "T0" and st["cpu0.regs.v"] == "T0~"
    assert st["T0.uw.fpmr"] == st["cpu0.regs.fpmr"] == "T0"


# ------------------------------------------------------------------ FPMR: verdicts
def test_exec_fpmr_finding_v610_fixed_in_v616() -> None:
    """a90878f297d3: after execve() the new program reads the old program's FPMR on v6.9 to
    v6.15 (no_loss, 4 steps, one task); v6.16 holds."""
    res = _explore("v6.10", fpmr=True, events=("exec",), tasks=1)
    assert set(res.violations) == {"no_loss"}
    trace = res.violations["no_loss"]
    assert len(trace.steps) == 4 and trace.steps[-1].state["cpu0.regs.fpmr"] == "T0~"
    assert not _explore("v6.16", fpmr=True, events=("exec",)).violations


def test_signal_fpmr_finding_v610_fixed_in_v616() -> None:
    """929fa99b1215: a signal delivered while the task's state is not live puts the CPU's
    FPMR into its frame and thread.uw.fpmr: with one task the register's reset value
    (no_loss, 4 steps); with two another task's FPMR (no_leak, 6 steps: the curated trace,
    replayed by tests/checker/inspect/test_curated.py).  v6.16 holds with a second task and
    a tracer, and the situations are reached there."""
    res = _explore("v6.10", fpmr=True, events=("signal",), tasks=1)
    assert set(res.violations) == {"no_loss"}
    assert len(res.violations["no_loss"].steps) == 4
    assert not _explore("v6.16", fpmr=True, events=("signal",), tasks=1).violations
    res = _explore("v6.16", fpmr=True, events=("signal", "ptrace_fpr_set"))
    assert not res.violations
    for g in ("signal_with_another_tasks_fpmr_live", "fpmr_set_with_tracee_state_live"):
        assert res.guards_reached.get(g) is not None, g


@pytest.mark.parametrize("events", [("fork",), ("exec", "ptrace_fpr_set"), ("cpu_pm",)])
def test_fpmr_with_events_holds_on_v616(events: tuple[str, ...]) -> None:
    """v6.16 with --fpmr holds with the other events (exec with a tracer's NT_PRFPREG and
    NT_ARM_FPMR writes: the partial generations keep the zero FPMR expectation apart)."""
    assert not _explore("v6.16", fpmr=True, events=events).violations


# ------------------------------------------------------------------ SME: C semantics
# T0 in the kernel, its state saved (not live) with ZA enabled and the SME trap open.
SME_SAVED = {"cpu0.current": "T0", "T0.pc": "KERNEL", "T0.TIF_FOREIGN_FPSTATE": "1",
             "T0.fpsimd_cpu": "NR_CPUS", "T0.TIF_SME": "1", "T0.svcr.ZA": "1",
             "T0.sme_state.za": "T0", "T0.uw.v": "T0", "T0.uw.fpsr": "T0",
             "ghost.T0.za": "1", "ghost.T0.za_written": "1"}


@pytest.mark.parametrize("variant", ["v6.10", "v6.16"])
def test_exec_clears_the_sme_state(variant: str) -> None:
    """fpsimd_flush_thread() with SME (v6.8-v6.16, the same text): TIF_SME cleared,
    sme_state detached, svcr = 0; sys_execve's ghosts: SM and ZA must be clear."""
    st, viol = probe(variant, sme=True, tasks=1, events=("exec",)).run(
        "sys_execve", task="T0", **{**SME_SAVED, "T0.svcr.SM": "1"})
    assert not viol
    assert st["T0.TIF_SME"] == "0" and st["T0.sme_state.za"] == "0"
    assert st["T0.svcr.SM"] == st["T0.svcr.ZA"] == "0"
    assert st["ghost.T0.za"] == st["ghost.T0.sm"] == "0"


@pytest.mark.parametrize("variant", ["v6.10", "v6.16"])
def test_fork_child_inherits_za(variant: str) -> None:
    """A fork (no CLONE_VM) of a parent with ZA enabled: the child gets a copy of ZA
    (v6.10 arch_dup_task_struct()'s kmemdup, v6.16 copy_thread_za()), svcr.ZA and
    TIF_SME; without ZA it gets no sme_state and TIF_SME clear."""
    p = probe(variant, sme=True, events=("fork",))
    st, viol = p.run("_do_fork", 1, task="T0", inputs=(False,) * 8,
                     **{**SME_SAVED, "T0.syscall_body": "1"})
    assert not viol
    assert st["T1.sme_state.za"] == "T1" and st["T1.svcr.ZA"] == "1"
    assert st["T1.TIF_SME"] == "1" and st["ghost.T1.za"] == "1"
    assert st["T1.svcr.SM"] == "0" and st["ghost.T1.sm"] == "0"
    st, viol = p.run("_do_fork", 1, task="T0", inputs=(False,) * 8,
                     **{**SME_SAVED, "T0.syscall_body": "1", "T0.svcr.ZA": "0",
                        "ghost.T0.za": "0"})
    assert not viol
    assert st["T1.sme_state.za"] == "0" and st["T1.svcr.ZA"] == "0"
    assert st["T1.TIF_SME"] == "0"


def test_v616_fork_child_leaves_streaming_mode() -> None:
    """v6.16's task_smstop_sm(dst): a child copied with svcr.SM set gets SM clear, its
    saved V zeroed and fp_type FPSIMD; v6.10 copies svcr.SM as it is."""
    pre = {**SME_SAVED, "T0.syscall_body": "1", "T0.svcr.SM": "1"}
    st, _ = probe("v6.16", sme=True, events=("fork",)).run(
        "_do_fork", 1, task="T0", inputs=(False,) * 8, **pre)
    assert st["T1.svcr.SM"] == "0" and st["T1.uw.v"] == "0" and st["T1.fp_type"] == "FPSIMD"
    st, _ = probe("v6.10", sme=True, events=("fork",)).run(
        "_do_fork", 1, task="T0", inputs=(False,) * 8, **pre)
    assert st["T1.svcr.SM"] == "1"


def test_fpr_set_on_a_streaming_tracee_zero_pads() -> None:
    """fpr_set() on a tracee stopped in streaming mode (its state saved SVE-format,
    fp_type SVE, svcr.SM): sve_sync_to_fpsimd() first (v6: by fp_type, SME included),
    then the zero-padding into sve_state (v6.10: TIF_SVE or thread_sm_enabled(); v6.16:
    fp_type), so the reload in streaming mode gives the tracer's V values."""
    pre = {"cpu0.current": "T1", "T1.pc": "KERNEL", "T0.pc": "KERNEL",
           "T0.TIF_FOREIGN_FPSTATE": "1", "T0.fpsimd_cpu": "NR_CPUS", "T0.TIF_SME": "1",
           "T0.svcr.SM": "1", "T0.fp_type": "SVE", "T0.sve_state.v": "T0",
           "T0.sve_state.zhi": "T0", "T0.sve_state.p": "T0", "T0.uw.v": "T0~",
           "T0.uw.fpsr": "T0"}
    for variant in ("v6.10", "v6.16"):
        st, viol = probe(variant, sme=True, events=("ptrace_fpr_set",)).run(
            "fpr_set", 0, task="T1", **pre)
        assert not viol
        assert st["T0.uw.v"] == st["T0.sve_state.v"] == "T0", variant
        assert st["T0.sve_state.zhi"] == st["T0.sve_state.p"] == "0", variant


# ------------------------------------------------------------------ SME: verdicts
@pytest.mark.parametrize("variant", ["v6.10", "v6.16"])
@pytest.mark.parametrize("event", ["exec", "cpu_pm"])
def test_sme_with_events_holds_at_one_task(variant: str, event: str) -> None:
    """--sme with exec and with CPU PM, one CPU and one task (the preempt Kconfig, merged):
    every property holds on v6.10 (its SME findings need two tasks or two CPUs) and v6.16."""
    res = _explore(variant, sme=True, tasks=1, events=(event,))
    assert not res.violations, list(res.violations)
    if event == "exec":
        assert res.guards_reached.get("exec_with_za_enabled") is not None
