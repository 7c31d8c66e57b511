"""The "must read zero" value of the ghost p_written (model/state.py `P_GHOST`): where the
kernel guarantees a task zero P0-P15/FFR, no_loss (properties/fp.py `p_value_ok`) demands
zero there; where they are unspecified it demands nothing (only no_leak applies).

The sites, each against the C and the ABI text it follows: the task's own change of
PSTATE.SM and the syscall's SMSTOP SM (the Arm ARM's rule, model/variants/v6_sme.py
`_expect_zero_after_sm_change`); a handler entered from streaming mode (v6_events.py
`_handler_entry_ghost`); a header-only NT_ARM_SVE/SSVE write that changes the mode
(v6.8-v6.15, sme.rst section 3) and every one from v6.16 (316283f276eb's zeroing); the
syscall ABI from v6.9 (sve.rst "System call behaviour", model.ctx `Ctx.syscall_p_ghost`),
with exec and fork's child.  Unspecified stays unspecified: a syscall up to v6.8 (and in
2018), a vector-length change, a sigreturn without SVE register data."""

from __future__ import annotations

import pytest

from checker.explicit.compile import compile_predicate
from model.config import kconfig_preset
from model.state import P_GHOST
from properties.fp import no_loss

from .probe import Probe

SERVER = kconfig_preset("server")
SME_ONLY = dict(cpus=1, tasks=2, vmm_threads=0, vcpus=0, vhe=True, sme=True, **SERVER)
SVE_ONE = dict(cpus=1, tasks=2, vmm_threads=0, vcpus=0, vhe=True, sve=True)
# The tracee T0 stopped in a syscall, its state saved (FPSIMD format, non-streaming) and
# still in cpu0's registers; the tracer T1 runs in ptrace() (as test_v6_ptrace_payload.py).
STOPPED = {"cpu0.current": "T1", "T1.pc": "KERNEL", "T0.pc": "KERNEL",
           "T1.uw.v": "T1", "T1.uw.fpsr": "T1", "T0.uw.v": "T0", "T0.uw.fpsr": "T0",
           "cpu0.regs.v": "T0", "T0.TIF_FOREIGN_FPSTATE": "0", "T0.fpsimd_cpu": "cpu0",
           "T0.fp_type": "FPSIMD"}
# T0 at EL0 on cpu0 with EL0 SVE enabled: it reads P0-P15/FFR.
AT_EL0 = {"cpu0.current": "T0", "T0.pc": "USER", "T0.TIF_FOREIGN_FPSTATE": "0",
          "T0.fpsimd_cpu": "cpu0", "cpu0.fpsimd_last_state.st": "T0.uw", "T0.TIF_SVE": "1",
          "cpu0.CPACR_EL1.ZEN_EL0EN": "1", "T0.fp_type": "SVE",
          "cpu0.regs.v": "T0", "cpu0.regs.fpsr": "T0"}


def test_the_ghost_has_three_values_only_with_sve_or_sme() -> None:
    """p_written is a variable of domain P_GHOST with SVE (or SME), a constant without."""
    assert P_GHOST.labels == ("0", "1", "zero")
    var = Probe("v6.16", **SVE_ONE).layout.by_name["ghost.T0.p_written"]
    assert var.dom is P_GHOST
    assert "ghost.T0.p_written" not in Probe("v6.16", cpus=1, tasks=2, vmm_threads=0,
                                             vcpus=0).layout.by_name


@pytest.mark.parametrize("p, pw, ok", [
    ("0", "zero", True), ("T0", "zero", False), ("T0~", "zero", False),
    ("T0", "1", True), ("0", "1", False), ("T0~", "0", True), ("0", "0", True)])
def test_no_loss_reads_p_by_the_ghost(p: str, pw: str, ok: bool) -> None:
    """no_loss at EL0 with SVE enabled: P_ZERO demands a zero P slot (a stale or even the
    latest nonzero P is a loss), P_LATEST the latest P, P_UNDEFINED nothing."""
    probe = Probe("v6.16", **SVE_ONE)
    pred = compile_predicate(no_loss(probe.layout))
    state = probe.state(**AT_EL0, **{"cpu0.regs.p": p, "ghost.T0.p_written": pw})
    assert pred(state) is ok


def test_no_loss_does_not_read_p_with_el0_sve_off() -> None:
    """With EL0 SVE trapped the task cannot read P: no demand (the trap's sve_alloc() or
    sve_flush_live() zeroes P before it can)."""
    probe = Probe("v6.16", **SVE_ONE)
    pred = compile_predicate(no_loss(probe.layout))
    state = probe.state(**{**AT_EL0, "cpu0.CPACR_EL1.ZEN_EL0EN": "0", "T0.TIF_SVE": "0",
                           "T0.fp_type": "FPSIMD", "cpu0.regs.p": "T1",
                           "ghost.T0.p_written": "zero"})
    assert pred(state)


@pytest.mark.parametrize("variant, after", [("v6.8", "0"), ("v6.10", "zero"),
                                            ("v6.16", "zero"), ("v4.18", "0"), ("v6.1", "0")])
def test_syscall_abi_by_version(variant: str, after: str) -> None:
    """el0_svc(): the syscall ABI's P/FFR (`Ctx.syscall_p_ghost`): zero from v6.9 (the
    v6.9.0 sve.rst drops v6.8's "userspace should not make assumptions about this"),
    unspecified before; a task whose latest P was its own SVE write loses that claim."""
    p = Probe(variant, **SVE_ONE)
    pre = {**AT_EL0, "cpu0.regs.p": "T0", "ghost.T0.p_written": "1"}
    # (v4.18 and v6.1 have no fp_type; v4.18 names fpsimd_last_state otherwise)
    st, viol = p.run("el0_svc", task="T0",
                     **{k: v for k, v in pre.items() if k in p.layout.by_name})
    assert not viol
    assert st["ghost.T0.p_written"] == after
    if after == "zero":
        # the code agrees: fp_user_discard()/fpsimd_syscall_enter()'s sve_flush_live()
        assert st["cpu0.regs.p"] == "0"


def test_user_sm_change_must_read_zero_p() -> None:
    """The task's own SMSTART (the Arm ARM: P0-P15 and FFR zeroed on a PSTATE.SM change)."""
    p = Probe("v6.16", **SME_ONLY)
    st, viol = p.run("user_svcr_write", 1, 0, task="T0",
                     **{"cpu0.current": "T0", "T0.pc": "USER", "cpu0.CPACR_EL1.SMEN_EL0EN": "1",
                        "ghost.T0.p_written": "1", "cpu0.regs.p": "T0"})
    assert not viol
    assert st["ghost.T0.p_written"] == "zero" and st["cpu0.regs.p"] == "0"
    assert st["ghost.T0.sm"] == "1"


@pytest.mark.parametrize("variant, streaming, after", [
    ("v6.10", False, "zero"),  # NT_ARM_SSVE enters streaming mode: everything zeroed
    ("v6.10", True, "1"),      # already streaming: no mode change, the ghost stays
    ("v6.16", True, "zero"), ("v6.16-ptrace-fixes", False, "zero"),
    ("v6.16-ptrace-fixes", True, "zero")])
def test_header_only_ptrace_write(variant: str, streaming: bool, after: str) -> None:
    """A header-only NT_ARM_SSVE write (event ptrace_sve_nodata): v6.8-v6.15 zero P
    (sve_alloc(target, true), fp_type SVE) and the ABI says so only for a change of mode
    (sme.rst section 3); v6.16 zeroes the whole image by design (316283f276eb), so the
    tracee must read zero P/FFR whatever the mode (`_nodata_ghost_v616`)."""
    pre = {"T0.svcr.SM": "1", "T0.TIF_SME": "1", "T0.fp_type": "SVE",
           "T0.sve_state.v": "T0", "ghost.T0.sm": "1"} if streaming else {}
    p = Probe(variant, **SME_ONLY, events=("ptrace_sve_nodata",))
    st, viol = p.run("sve_set_common", 0, True, "nodata", None, task="T1",
                     **{**STOPPED, **pre, "ghost.T0.p_written": "1", "T0.sve_state.p": "T0"})
    assert not viol
    assert st["ghost.T0.p_written"] == after
    assert st["T0.sve_state.p"] == "0"  # sve_alloc(target, true): what the reload reads


def test_vl_change_and_data_less_sigreturn_stay_unspecified() -> None:
    """sve.rst: a vector-length change makes P/FFR "unspecified"; a sigreturn whose
    sve_context has no register data makes the SVE registers "non-live and take
    unspecified values" (section 5): P_UNDEFINED, even from v6.9."""
    p = Probe("v6.16", **{**SVE_ONE, "sve_vls": (128, 256)}, events=("sve_set_vl",))
    st, viol = p.run("sve_set_vector_length", 0, 1, task="T1",
                     **{"cpu0.current": "T1", "T1.pc": "KERNEL", "T0.pc": "KERNEL",
                        "T0.sve_vl": "128", "ghost.T0.p_written": "zero"})
    assert not viol
    assert st["ghost.T0.p_written"] == "0"
    p = Probe("v6.16", **SVE_ONE, events=("signal",))
    for regs, after in (("0", "0"), ("1", "1")):
        st, viol = p.run("sys_rt_sigreturn", task="T0",
                         **{**AT_EL0, "T0.in_handler": "1", "T0.sigframe.sve_regs": regs,
                            "ghost.T0.p_written": "zero"})
        assert not viol
        assert st["ghost.T0.p_written"] == after
