"""FPCR's own slice with SME (model/state.py `Image.fpcr`): a change of PSTATE.SM sets FPSR
to its reset value and keeps FPCR (the Arm ARM's rule, model/variants/v6_sme.py
`sme_write_svcr`), so with SME FPSR and FPCR are two slices, copied together by every
helper that copies the pair, with their own "must read" rules (properties/fp.py
`expected`: FPCR by its own ghost ``fpcr_expect_zero``).  Without SME the pair stays one
slice and the layout is what it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.inspect.load import load
from checker.inspect.replay import build_instance, replay
from checker.interp import predicate
from model.dsl import Var
from properties.fp import no_leak, no_loss

from .probe import Probe

# One CPU, two user tasks, no KVM, SME without SVE, the task at EL0 with its state live.
SME = dict(cpus=1, tasks=2, vmm_threads=0, vcpus=0, vhe=True, sme=True)
LIVE = {"cpu0.current": "T0", "T0.pc": "USER", "cpu0.CPACR_EL1.SMEN_EL0EN": "1",
        "T0.TIF_FOREIGN_FPSTATE": "0", "T0.fpsimd_cpu": "cpu0",
        "cpu0.fpsimd_last_state.st": "T0.uw", "cpu0.regs.v": "T0", "cpu0.regs.fpsr": "T0",
        "cpu0.regs.fpcr": "T0"}
FPSR_TRACE = (Path(__file__).resolve().parents[2] / "counterexamples"
              / "v6.10-ssve-nodata-fpsr-no_loss-vhe-c1t2v0m0-sme-server-explicit-bfs.json")


def _holds(p: Probe, prop, st: dict[str, str]) -> bool:  # noqa: ANN001
    return predicate(prop(p.layout))(p.state(**st))


@pytest.mark.parametrize("sme", [False, True])
def test_every_fpsr_slice_has_an_fpcr_beside_it_only_with_sme(sme: bool) -> None:
    """Every image that holds FPSR (CPU registers, host_ctxt, uw.fpsimd_state, the
    kernel-mode state, vcpu fp_regs, the signal frame, the EFI buffer) holds FPCR beside it
    with SME; without SME no FPCR slice or ghost exists (FPSR is the pair)."""
    p = Probe("v6.10", cpus=1, tasks=1, vmm_threads=1, vcpus=1, vhe=True, sme=sme,
              events=("signal", "exec", "efi"))
    imgs = [img for img in p.layout.all_images() if isinstance(img.fpsr, Var)]
    assert {img.name.split(".", 1)[1] for img in imgs} >= {
        "regs", "uw", "fp_regs", "sigframe", "efi_fpsimd_state", "kernel_fpsimd_state"}
    for img in imgs:
        assert isinstance(img.fpcr, Var) == sme, img.name
    names = {v.name for v in p.layout.vars}
    assert ("ghost.T0.exec_zero_fpcr" in names) == sme
    assert not any(n.endswith(".fpcr") for n in names) or sme


def test_sm_change_resets_fpsr_and_keeps_fpcr() -> None:
    """The task's own SMSTART: V and FPSR zero (the reset token), FPCR untouched; the
    ghost is a new generation of everything but FPCR (its other copies keep their
    label); no_loss then holds, and fails if FPCR were zeroed or FPSR kept."""
    p = Probe("v6.10", **SME)
    pre = {**LIVE, "T0.uw.fpsr": "T0", "T0.uw.fpcr": "T0"}
    st, viol = p.run("user_svcr_write", 1, 0, task="T0", **pre)
    assert not viol
    assert st["cpu0.SVCR.SM"] == "1" and st["ghost.T0.exec_zero"] == "1"
    assert st["cpu0.regs.v"] == "0" and st["cpu0.regs.fpsr"] == "0"
    assert st["cpu0.regs.fpcr"] == "T0" and st["T0.uw.fpcr"] == "T0"
    assert st["T0.uw.fpsr"] == "T0~"
    assert _holds(p, no_loss, st) and _holds(p, no_leak, st)
    assert not _holds(p, no_loss, {**st, "cpu0.regs.fpcr": "0"})
    assert not _holds(p, no_loss, {**st, "cpu0.regs.fpcr": "T0~"})
    assert not _holds(p, no_loss, {**st, "cpu0.regs.fpsr": "T0~"})


def test_after_exec_an_sm_change_keeps_the_zero_fpcr_expectation() -> None:
    """exec zeroes FPCR as a new value (ghost exec_zero_fpcr); a later SMSTART keeps FPCR,
    so the task must still read a zero FPCR; its next own write ends both ghosts."""
    p = Probe("v6.10", **SME, events=("exec",))
    pre = {**LIVE, "cpu0.regs.v": "0", "cpu0.regs.fpsr": "0", "cpu0.regs.fpcr": "0",
           "ghost.T0.exec_zero": "1", "ghost.T0.exec_zero_fpcr": "1"}
    st, _ = p.run("user_svcr_write", 1, 0, task="T0", **pre)
    assert st["ghost.T0.exec_zero_fpcr"] == "1" and st["cpu0.regs.fpcr"] == "0"
    assert _holds(p, no_loss, st)
    assert not _holds(p, no_loss, {**st, "cpu0.regs.fpcr": "T0"})
    st, _ = p.run("user_ssve_write", task="T0", **{k: v for k, v in st.items()
                                                   if k in p.layout.by_name})
    assert st["ghost.T0.exec_zero_fpcr"] == "0" and st["ghost.T0.exec_zero"] == "0"
    assert st["cpu0.regs.fpcr"] == "T0" and _holds(p, no_loss, st)


def test_exec_sets_the_fpcr_ghost_and_zeroes_uw_fpcr() -> None:
    p = Probe("v6.10", **SME, events=("exec",))
    st, _ = p.run("sys_execve", task="T0", **{**LIVE, "T0.pc": "KERNEL"})
    assert st["ghost.T0.exec_zero_fpcr"] == "1" and st["ghost.T0.exec_zero"] == "1"
    st, _ = p.run("fpsimd_flush_thread", task="T0", **{**LIVE, "T0.pc": "KERNEL",
                                                       "T0.uw.fpcr": "T0"})
    assert st["T0.uw.fpcr"] == "0" and st["T0.uw.fpsr"] == "0"


def test_save_and_load_move_fpcr_with_fpsr() -> None:
    """fpsimd_save_state()/fpsimd_load_state() and the SVE-format sve_save_state()/
    sve_load_state() move FPSR and FPCR together (entry-fpsimd.S: one MRS/MSR pair each)."""
    p = Probe("v6.10", **SME)
    uw = p.layout.tasks[0].uw
    sv = p.layout.tasks[0].sve_state
    regs = {"cpu0.regs.fpsr": "T0", "cpu0.regs.fpcr": "T1"}
    st, _ = p.run("fpsimd_save_state", uw, task="T0", **regs)
    assert st["T0.uw.fpsr"] == "T0" and st["T0.uw.fpcr"] == "T1"
    st, _ = p.run("sve_save_state", sv, uw, task="T0", **regs)
    assert st["T0.uw.fpsr"] == "T0" and st["T0.uw.fpcr"] == "T1"
    mem = {"T0.uw.fpsr": "T1", "T0.uw.fpcr": "T0"}
    st, _ = p.run("fpsimd_load_state", uw, task="T0", **mem)
    assert st["cpu0.regs.fpsr"] == "T1" and st["cpu0.regs.fpcr"] == "T0"
    st, _ = p.run("sve_load_state", sv, uw, task="T0", **mem)
    assert st["cpu0.regs.fpsr"] == "T1" and st["cpu0.regs.fpcr"] == "T0"


def test_saved_state_smstop_per_version() -> None:
    """The kernel's SMSTOP SM on a saved streaming state at signal delivery: v6.16's
    task_smstop_sm() sets FPSR to the reset value and leaves FPCR (fpsimd.c, v6.18.2);
    v6.8-v6.15's setup_return() memsets the whole uw.fpsimd_state, FPCR included."""
    pre = {**LIVE, "T0.pc": "KERNEL", "T0.svcr.SM": "1", "ghost.T0.sm": "1",
           "T0.uw.fpsr": "T0", "T0.uw.fpcr": "T0", "T0.uw.v": "T0", "T0.in_handler": "0"}
    st, _ = Probe("v6.16", **SME, events=("signal",)).run("setup_return", task="T0", **pre)
    assert st["T0.uw.v"] == "0" and st["T0.uw.fpsr"] == "0" and st["T0.uw.fpcr"] == "T0"
    st, _ = Probe("v6.10", **SME, events=("signal",)).run("setup_return", task="T0", **pre)
    assert st["T0.uw.v"] == "0" and st["T0.uw.fpsr"] == "0" and st["T0.uw.fpcr"] == "0"


def test_v610_header_only_mode_change_keeps_the_old_fpsr() -> None:
    """The finding the split makes visible (counterexamples/README.md, 5 steps): a tracer's
    header-only NT_ARM_SSVE write puts T1 into streaming mode but leaves its saved FPSR,
    which the reload puts back where entering streaming mode resets it (FPCR kept, as the
    architecture keeps it).  Reproduces on v6.10 (and plain v6.16, 5cbb61bf4168's memset
    of the tracer); v6.16-ptrace-fixes zeroes the tracee's FPSR/FPCR and does not."""
    trace = load(str(FPSR_TRACE))
    assert len(trace.steps) == 5 and trace.steps[1].action == "ptrace_ssve_set_nodata"
    last = trace.steps[-1].state
    assert last["ghost.T1.exec_zero"] == "1" and last["cpu0.SVCR.SM"] == "1"
    assert last["cpu0.regs.fpsr"] == "T1" and last["cpu0.regs.fpcr"] == "T1"
    assert last["cpu0.regs.v"] == "0"
    assert replay(trace, build_instance(trace, "v6.10", {})).reproduces
    assert not replay(trace, build_instance(trace, "v6.16-ptrace-fixes", {})).reproduces
