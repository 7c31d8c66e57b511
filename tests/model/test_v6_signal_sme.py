"""Signal delivery, rt_sigreturn and EFI runtime calls with SME on the v6 variants
(model/variants/v6_events.py setup_return_v68/v616, preserve_za_context_v68,
restore_za_context_v68/v616, the SM flag of preserve_sve_context_v6 and
restore_sve_fpsimd_context_*; model/variants/v6_sme.py __efi_fpsimd_begin_sme/_end_sme):
their statements against the C they mirror (v6.8.0/v6.10.0 signal.c and fpsimd.c, v6.16 as
read in v6.18.2), the v6.8-v6.10 sigreturn ZA finding's mechanism (fixed by 929fa99b1215 in
v6.16) and small explorations."""

from __future__ import annotations

import pytest

from checker.instance import Instance
from checker.native.explore import explore_native
from model.config import Config, kconfig_preset
from model.variants import get_variant
from properties.fp import PROPERTY_NAMES

from .probe import Probe

PREEMPT = kconfig_preset("preempt")
SMALL = dict(cpus=1, tasks=1, vmm_threads=0, vcpus=0, preemption="merged", **PREEMPT)


def probe(variant: str, **cfg) -> Probe:
    return Probe(variant, **{**dict(cpus=1, tasks=1, vmm_threads=0, vcpus=0, sme=True,
                                    events=("signal",), **PREEMPT), **cfg})


def _explore(variant: str, stop_early: bool = False, **cfg):  # noqa: ANN202
    res, _ = explore_native(Instance(Config(**{**SMALL, "sme": True, **cfg}),
                                     get_variant(variant)),
                            list(PROPERTY_NAMES), por=True, stop_early=stop_early)
    assert res.complete or stop_early
    return res


# T0 in the kernel (about to get a signal) in streaming mode with ZA enabled, its state
# live and bound on cpu0 (the registers hold its streaming Z/P and its ZA).
STREAMING_LIVE = {
    "cpu0.current": "T0", "T0.pc": "KERNEL", "T0.TIF_FOREIGN_FPSTATE": "0",
    "cpu0.fpsimd_last_state.st": "T0.uw", "T0.fpsimd_cpu": "cpu0", "T0.TIF_SME": "1",
    "cpu0.CPACR_EL1.SMEN_EL0EN": "1", "cpu0.SVCR.SM": "1", "cpu0.SVCR.ZA": "1",
    "cpu0.regs.v": "T0", "cpu0.regs.fpsr": "T0", "cpu0.regs.zhi": "T0", "cpu0.regs.p": "T0",
    "cpu0.ZA": "T0", "T0.uw.v": "T0~", "T0.uw.fpsr": "T0~",
    "ghost.T0.sm": "1", "ghost.T0.za": "1", "ghost.T0.za_written": "1",
    "ghost.T0.zhi_written": "1", "ghost.T0.p_written": "1"}


@pytest.mark.parametrize("variant", ["v6.10", "v6.16"])
def test_delivery_in_streaming_mode_writes_the_sm_record_and_za(variant: str) -> None:
    """setup_rt_frame(): the save (v6.10 fpsimd_signal_preserve_current_state(), v6.16
    fpsimd_save_and_flush_current_state()) stores the streaming registers SVE-format and ZA;
    preserve_sve_context() writes SVE_SIG_FLAG_SM with the Z/P payload,
    preserve_za_context() the ZA data; setup_return() clears thread.svcr (SM and ZA),
    zeroes uw.fpsimd_state and sets fp_type FPSIMD (v6.10's memset, v6.16's
    task_smstop_sm()).  Ghosts: the handler must run with SM and ZA clear and read zero;
    the frame keeps the interrupted expectations."""
    st, viol = probe(variant).run("do_signal", task="T0", inputs=(False,) * 16,
                                  **STREAMING_LIVE)
    assert not viol
    assert st["T0.sigframe.sve_regs"] == st["T0.sigframe.sve_flags_sm"] == "1"
    assert st["T0.sigframe.v"] == st["T0.sigframe.zhi"] == st["T0.sigframe.p"] == "T0"
    assert st["T0.sigframe.za_regs"] == "1" and st["T0.sigframe.za"] == "T0"
    assert st["T0.svcr.SM"] == st["T0.svcr.ZA"] == "0"
    assert st["T0.uw.v"] == st["T0.uw.fpsr"] == "0" and st["T0.fp_type"] == "FPSIMD"
    assert st["T0.sme_state.za"] == "T0" and st["T0.TIF_SME"] == "1"
    assert st["ghost.T0.sm"] == st["ghost.T0.za"] == "0"
    assert st["ghost.T0.exec_zero"] == "1" and st["ghost.T0.zhi_written"] == "0"
    assert st["ghost.T0.sigframe.sm_expected"] == st["ghost.T0.sigframe.za_expected"] == "1"
    assert st["ghost.T0.sigframe_fresh"] == "1" and st["T0.in_handler"] == "1"
    if variant == "v6.10":
        # sme_smstop() on the live registers: the state stays bound, zeroed, SM/ZA off
        assert st["T0.TIF_FOREIGN_FPSTATE"] == "0"
        assert st["cpu0.SVCR.SM"] == st["cpu0.SVCR.ZA"] == "0"
        assert st["cpu0.regs.v"] == st["cpu0.regs.zhi"] == "0"
    else:
        # saved and flushed first: no live SMSTOP; the reload's SVCR write leaves SM/ZA
        assert st["T0.TIF_FOREIGN_FPSTATE"] == "1"
        assert st["cpu0.SVCR.SM"] == "1"


@pytest.mark.parametrize("variant", ["v6.10", "v6.16"])
def test_delivery_without_sme_state_writes_no_sme_data(variant: str) -> None:
    """Neither streaming nor ZA: the SVE record has no payload and no SM flag (fp_type
    FPSIMD), za_context no data; the handler's expectations are the interrupted ones."""
    pre = {k: v for k, v in STREAMING_LIVE.items()
           if k not in ("cpu0.SVCR.SM", "cpu0.SVCR.ZA", "ghost.T0.sm", "ghost.T0.za")}
    st, viol = probe(variant).run("do_signal", task="T0", inputs=(False,) * 16, **pre)
    assert not viol
    assert st["T0.sigframe.sve_regs"] == st["T0.sigframe.sve_flags_sm"] == "0"
    assert st["T0.sigframe.za_regs"] == "0" and st["T0.sigframe.v"] == "T0"
    assert st["ghost.T0.exec_zero"] == "0"


# T0 at EL0 in its handler, state live with SM and ZA off; its frame records streaming
# mode (payload) and ZA.
HANDLER_FRAME = {
    "cpu0.current": "T0", "T0.pc": "USER", "T0.in_handler": "1", "T0.TIF_FOREIGN_FPSTATE": "0",
    "cpu0.fpsimd_last_state.st": "T0.uw", "T0.fpsimd_cpu": "cpu0", "T0.TIF_SME": "1",
    "cpu0.CPACR_EL1.SMEN_EL0EN": "1", "cpu0.regs.v": "T0", "cpu0.regs.fpsr": "T0",
    "T0.sigframe.v": "T0~", "T0.sigframe.fpsr": "T0~", "T0.sigframe.zhi": "T0~",
    "T0.sigframe.p": "T0~", "T0.sigframe.sve_regs": "1", "T0.sigframe.sve_flags_sm": "1",
    "T0.sigframe.za_regs": "1", "T0.sigframe.za": "T0~"}


@pytest.mark.parametrize("variant", ["v6.10", "v6.16"])
def test_sigreturn_restores_streaming_mode_and_za(variant: str) -> None:
    """rt_sigreturn of a frame with SVE_SIG_FLAG_SM and ZA data:
    restore_sve_fpsimd_context() copies the payload, sets thread.svcr.SM (not TIF_SVE) and
    fp_type SVE; restore_za_context() sme_alloc()s, copies ZA, sets TIF_SME and svcr.ZA
    (v6.10 after fpsimd_flush_task_state(); v6.16 after restore_sigframe()'s save+flush):
    the state is not live, so the return to user space reloads it with SM and ZA."""
    st, viol = probe(variant).run("sys_rt_sigreturn", task="T0", inputs=(False,) * 40,
                                  **HANDLER_FRAME)
    assert not viol
    assert st["T0.svcr.SM"] == st["T0.svcr.ZA"] == st["T0.TIF_SME"] == "1"
    assert st["T0.fp_type"] == "SVE" and st["T0.TIF_FOREIGN_FPSTATE"] == "1"
    assert st["T0.sve_state.zhi"] == st["T0.sve_state.p"] == st["T0.sme_state.za"] == "T0"
    assert st["ghost.T0.sm"] == st["ghost.T0.za"] == st["ghost.T0.za_written"] == "1"
    assert st["T0.sigframe.za_regs"] == "0" and st["T0.in_handler"] == "0"


def test_sigreturn_without_za_data_v610_leaves_za_on_v616_reloads() -> None:
    """The v6.8-v6.10 finding's mechanism (fixed by 929fa99b1215, v6.16): the handler
    enabled ZA and its state was saved since (thread.svcr.ZA set); it returns through a
    frame without ZA data.  v6.10: fpsimd_update_current_state() loads and binds the state
    with thread.svcr's ZA (PSTATE.ZA on), then restore_za_context() only clears
    thread.svcr.ZA: the task goes back to user space with PSTATE.ZA set although its frame
    says ZA off.  v6.16: the state is saved and flushed first and only merged, so the
    return to user space reloads it with svcr.ZA clear."""
    pre = {**HANDLER_FRAME, "T0.TIF_FOREIGN_FPSTATE": "1", "T0.fpsimd_cpu": "NR_CPUS",
           "cpu0.fpsimd_last_state.st": "NULL", "T0.svcr.ZA": "1", "T0.sme_state.za": "T0",
           "T0.sigframe.sve_regs": "0", "T0.sigframe.sve_flags_sm": "0",
           "T0.sigframe.za_regs": "0", "T0.sigframe.za": "0", "ghost.T0.za": "1"}
    st, viol = probe("v6.10").run("sys_rt_sigreturn", task="T0", inputs=(False,) * 40, **pre)
    assert not viol
    assert st["ghost.T0.za"] == "0" and st["T0.svcr.ZA"] == "0"
    assert st["cpu0.SVCR.ZA"] == "1" and st["T0.TIF_FOREIGN_FPSTATE"] == "0"
    st, viol = probe("v6.16").run("sys_rt_sigreturn", task="T0", inputs=(False,) * 40, **pre)
    assert not viol
    assert st["T0.svcr.ZA"] == "0" and st["T0.TIF_FOREIGN_FPSTATE"] == "1"


# ---------------------------------------------------------------------------- EFI
def efi_probe(variant: str, sve: bool) -> Probe:
    return probe(variant, sve=sve, events=("efi",))


@pytest.mark.parametrize("variant", ["v6.10", "v6.16"])
def test_efi_buffer_path_leaves_and_reenters_streaming_mode(variant: str) -> None:
    """__efi_fpsimd_begin()'s buffer path with SVE and SME (IRQs off, an oops's pstore
    write): efi_sm_state = SVCR.SM, sve_save_state() (Z, P, FPSR), SM cleared (zeroing
    the registers); the firmware runs non-streaming; __efi_fpsimd_end() sets SM again
    and sve_load_state() gives the interrupted streaming registers back.  ZA untouched."""
    pre = {**STREAMING_LIVE, "cpu0.current": "idle0"}
    st, viol = efi_probe(variant, True).run("die", task="idle0", **pre)
    assert not viol
    assert st["cpu0.SVCR.SM"] == st["cpu0.SVCR.ZA"] == "1"
    for slot in ("v", "fpsr", "zhi", "p"):
        assert st[f"cpu0.regs.{slot}"] == "T0", slot
    assert st["cpu0.ZA"] == "T0"


@pytest.mark.parametrize("variant", ["v6.10", "v6.16"])
def test_efi_buffer_path_sme_only_calls_firmware_streaming(variant: str) -> None:
    """On a system with SME and no SVE the buffer path is fpsimd_save_state() and leaves
    PSTATE.SM as it is: the firmware runs in streaming mode (the model's BUG: its FP/SIMD
    is illegal there)."""
    pre = {**STREAMING_LIVE, "cpu0.current": "idle0"}
    pre = {k: v for k, v in pre.items() if not k.endswith((".zhi", ".p", "zhi_written",
                                                           "p_written"))}
    _st, viol = efi_probe(variant, False).run("die", task="idle0", **pre)
    assert any("PSTATE.SM set" in v for v in viol), viol


def test_efi_explored_v610() -> None:
    """--sme --event efi on v6.10, one CPU and one task (native engine): without SVE the
    BUG above is reached (an oops in a kernel thread running after a streaming task, whose
    registers stay live in streaming mode) and nothing else fails; with SVE every property
    holds and the buffer path is reached in streaming mode (v6.16 has the same text: the
    same verdicts, measured in the report)."""
    res = _explore("v6.10", events=("efi",))
    assert set(res.violations) == {"kernel_asserts"}, list(res.violations)
    res = _explore("v6.10", events=("efi",), sve=True)
    assert not res.violations, list(res.violations)
    assert res.guards_reached.get("efi_buffer_in_streaming_mode") is not None



@pytest.mark.slow
def test_v616_lemmas_hold_on_every_reachable_state_with_sme_signals() -> None:
    """The lemmas `prove` uses for v6.16-ptrace-fixes hold in every reachable state of
    `--sme --event signal --cpus 1 --tasks 1 --vcpus 0 --vmm-threads 0` (debug, split, nVHE:
    520,595 states): signal_frame_in_handler reads the fresh frame by the snapshot ghosts
    (the handler entry's SMSTOP ghost changes the task's own), sme_streaming_saved_as_sve
    allows rt_sigreturn's window between restore_sve_fpsimd_context()'s SM and fp_type
    writes, and setup_return_v616 is one event (its windows, after the handler-entry
    ghost, broke v6_task_saved_unless_live and v6_sve_type_needs_tif_sve); signal_sme_frame,
    sigreturn_sme_paths and sigreturn_sme_copies (rt_sigreturn's windows by the frame's
    flags) hold too.  Slow: a native build (about 11 CPU-s of search)."""
    from checker.lemma_states import LEMMA_PREFIX, lemmas_on_reachable_states
    inst = Instance(Config(cpus=1, tasks=1, vmm_threads=0, vcpus=0, sme=True, vhe=False,
                           events=("signal",)), get_variant("v6.16-ptrace-fixes"))
    res = lemmas_on_reachable_states(inst, engine="native")
    # (520,595 since the SVE record has its own copy of V, model.state.Image.zv; 492,115
    # since P/FFR can be demanded zero, model/state.py P_ZERO; 475,545 since FPCR has its
    # own slice with SME and an SME-only system merges V in fpsimd_update_current_state();
    # 373,775 before)
    assert res.complete and res.stats.states == 520_595
    assert not [n for n in res.violations if n.startswith(LEMMA_PREFIX)]


@pytest.mark.slow
def test_v616_ptrace_fixes_with_sme_signals_is_proved_merged() -> None:
    """`prove` of the same configuration with --preemption merged (no preemption inside a
    step: rt_sigreturn's windows are gone, its restores are one step), debug kernel, VHE:
    PROVED (6.6 s; nVHE 12.7 s; the split proof takes 6-11 minutes, README).  Slow (CI
    time, 3.7 s): CI proves the same configuration with two SVLs and PR_SME_SET_VL added
    (tests/model/test_v6_signal_vl.py), the same signal code with VL changes on top."""
    from checker.smt.induction import prove

    inst = Instance(Config(cpus=1, tasks=1, vmm_threads=0, vcpus=0, sme=True, vhe=True,
                           preemption="merged", events=("signal",)),
                    get_variant("v6.16-ptrace-fixes"))
    res = prove(inst, list(PROPERTY_NAMES))
    bad = [(o.name, o.initiation, o.consecution) for o in res.obligations if not o.ok]
    assert res.verdict == "PROVED", bad
    assert {"signal_sme_frame", "sigreturn_sme_paths"} <= {o.name for o in res.obligations}
