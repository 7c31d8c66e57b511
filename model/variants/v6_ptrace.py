"""The tracer's writes of SVE/SME state with SME (Config.sme): arch/arm64/kernel/ptrace.c
sve_set_common() for NT_ARM_SVE and NT_ARM_SSVE, and za_set() for NT_ARM_ZA.

Read where:

* v6.8.0 (vivo50kff/linux-6.8 @ bc4fae0d3fa3) and v6.10.0 (msgeden/cryptocap-arm64-linux-6.10
  @ fabd51deb839): sve_set_common() and za_set() are the same text in both (compared);
  v6.9 takes them too (its ptrace.c adds NT_ARM_FPMR, model/kernel/ptrace.py fpmr_set);
* v6.16: v6.18.2 (gfunkmonk/linux-6.18.2 @ 062668f4d006), whose sve_set_common() is the
  v6.16 rework (model/variants/v6_16.py says why) and whose za_set() is v6.10's text;
  128a7494a9f1 (the index copy of its 6.18-stable patch) only drops the
  `if (system_supports_sme())` around the "Enter/exit streaming mode" switch, so with SME
  it changes nothing.

What is modelled: by default a full SVE-format register write at the task's own vector
length (the header's VL is the tracee's current SVE VL or SVL; at the current VL
vec_set_vector_length() only records the on-exec VL, no FP effect), as for NT_ARM_SVE
without SME (`model.variants.v6.sve_set`).  The rest of sve_set_common() is the
version's `sve_set_common` (`sve_set_common_v68`, `sve_set_common_v616`), reached by the
steps of three optional events (model/events.py, model/steps.py):

* ``ptrace_sve_fpsimd``: the FPSIMD-format payload (flags SVE_PT_REGS_FPSIMD: a
  struct user_fpsimd_state, V0-V31, FPSR, FPCR, written by __fpr_set()) of NT_ARM_SVE and
  NT_ARM_SSVE.  v6.8-v6.15 accept it for NT_ARM_SSVE too, after the streaming block has
  set SVCR.SM: the tracee is left in streaming mode with fp_type FP_STATE_FPSIMD, a
  state nothing else creates (every streaming-mode save is SVE-format).  v6.16 refuses
  it with -EINVAL (f916dd32a943 "arm64/fpsimd: ptrace: Mandate SVE payload for
  streaming-mode state", v6.16-rc1: present in torvalds/linux ptrace.c @ f916dd32a943,
  absent @ its parent b93e685ecff7; its code comment: streaming SVE data is always
  stored in SVE format, so SVE-formatted data is required "to avoid the risk that we
  configure the task into an invalid state");
* ``ptrace_sve_nodata``: a header without register data (sve.rst: "it is permissible
  to omit the payload, in which case only the vector length and flags are changed");
* ``ptrace_sve_vl``: a header VL other than the tracee's (steps ptrace_sve_set_vl,
  ptrace_ssve_set_vl, with --sve-vls / --sme-vls and events sve_set_vl / sme_set_vl):
  vec_set_vector_length(target, type, vl) first (the version's sve_set_vector_length /
  sme_set_vector_length, the tracee being stopped and not current), then the write at
  the new length; likewise for NT_ARM_ZA (`za_set_at_vl`).

Partial payloads (a copyin that stops inside the register data) are not modelled: the
ABI leaves their effect unspecified (sve.rst: "The effect of writing a partial,
incomplete payload is unspecified"), so no property constrains them, and the model's one
Z slot stands for all 32 registers (a write of some of them is not expressible).
Allocation failures (-ENOMEM) and -EIO (register data with a VL the system does not
support: the steps choose supported lengths only) are not modelled.

The FPSIMD-format reload of such a streaming tracee (task_fpsimd_load(): SVCR with SM
set, then fpsimd_load_state(), LDP of Q registers and MSR FPSR/FPCR) executes only
instructions that are legal in Streaming SVE mode without FEAT_SME_FA64: the Arm ARM
Supplement for SME (DDI 0616 A.a, appendix E1.1, as transcribed in QEMU's
target/arm/tcg/sme-fa64.decode) makes illegal the Advanced SIMD vector, single-element,
structure load/store and crypto instructions and FJCVTZS, and lists "Load/store pair of
FP registers" and the other SIMD&FP register loads/stores as legal.  So the model has no
check there: the load works and the tracee runs in streaming mode with the tracer's V
(Z bits above 127 zeroed by the V writes, P zeroed by the SM change).  What the model
checks is what the general properties say about every later reader of the state.
Found that way on v6.8-v6.10 (counterexamples/README.md, tests/model/test_v6_ptrace_payload.py):
the reload of such a tracee writes SVCR with SM already set when the CPU is still in
streaming mode with another task's registers (nothing is zeroed) and loads only V/FPSR/
FPCR, so the tracee reads the other task's P0-P15 at EL0 (no_leak, 8 steps); and its own
PR_SME_SET_VL then takes V from the zeroed sve_state (vec_set_vector_length():
thread_sm_enabled() -> sve_to_fpsimd()), losing the tracer's values (no_loss, 10 steps).
With event ptrace_sve_nodata (header-only writes; the ghost per version: `_nodata_ghost_v68`
from sve.rst, `_nodata_ghost_v616` from 316283f276eb's stated intent): on v6.8-v6.10 a
header-only NT_ARM_SSVE write on a tracee already in streaming mode zeroes its sve_state
(sve_alloc(target, true); fpsimd_sync_to_sve() restores V only for an FPSIMD-format state),
so its registers are lost (no_loss, 11 steps); v6.16 zeroes on purpose, and plain v6.16
zeroes the tracer's uw.fpsimd_state instead of the tracee's, which then reads its old
FPSR/FPCR (no_loss, 5 steps; 5cbb61bf4168).

Each write is one step: the tracee is in a ptrace stop and switched out
(ptrace_check_attach() -> wait_task_inactive(), model/kernel/ptrace.py), so nothing else
reads or writes its thread struct meanwhile (its FP state is in memory: the stop's
context switch saved it), and the tracer's own FP state is not touched except where the
C does (v6.16's memset of current's uw.fpsimd_state, a plain memory write while the
tracer's registers may be live: it matters only through a later save or load, which are
steps of their own).  The tracer's copyin may fault and sleep, but that interleaves
nothing with the tracee; the steps are not split (model.steps.TRACER_STEPS).
"""

from __future__ import annotations

from model.ctx import Ctx
from model.dsl import Const, Expr, Var
from model.state import P_ZERO


def _zero(k: Ctx) -> Const:
    return Const(k.S.VALUE, k.S.ZERO)


def tracer_sm_ghost(k: Ctx, target: int, sm: int) -> None:
    """Ghost (not kernel code): after a tracer's NT_ARM_SVE (``sm`` 0) or NT_ARM_SSVE
    (``sm`` 1) write the tracee runs with PSTATE.SM as the regset says
    (Documentation/arch/arm64/sme.rst: writing NT_ARM_SSVE puts the task in streaming
    mode, writing SVE data through NT_ARM_SVE takes it out)."""
    ghost = k.task(target).sm_expected
    if isinstance(ghost, Var):
        k.set(ghost, sm)


def _tracer_regs_write(k: Ctx, target: int) -> None:
    """The copyin of a full SVE-format payload: Z (V and the bits above) and P (FFR only
    outside streaming mode without FA64: the P slice stands for P0-P15) into
    target->thread.sve_state, FPSR/FPCR into uw.fpsimd_state: a new generation of the
    tracee's state that it must read back whole (`Ctx.fp_write_memory`)."""
    tgt = k.task(target)
    k.fp_write_memory(target, [tgt.sve_state.v, tgt.sve_state.zhi, *tgt.uw.fpsr_slots()], zhi=True,
                      p_slots=[tgt.sve_state.p], p_defined=True)


# ---------------------------------------------------------------- v6.8-v6.15 (read: v6.10)
def sve_set_common_streaming_v68(k: Ctx, target: int, sme: bool) -> None:
    """The "Enter/exit streaming mode" block of sve_set_common() (v6.8-v6.15, read in
    v6.8.0 and v6.10.0), if system_supports_sme(): old_svcr = target->thread.svcr; for
    NT_ARM_SVE (type ARM64_VEC_SVE) clear SVCR.SM; for NT_ARM_SSVE (ARM64_VEC_SME) set
    SVCR.SM, sme_alloc(target, false) (keeps an existing sme_state; a new one is
    zeroed, which nothing reads while SVCR.ZA is clear, so the model writes nothing, as in
    `model.variants.v6_sme.sve_alloc_keep`) and set TIF_SME; if svcr changed,
    sve_alloc(target, true) (sve_state zeroed)."""
    tgt = k.task(target)
    new = 1 if sme else 0
    changed = k.let("svcr_changed", tgt.svcr_sm.ne(new))
    k.set(tgt.svcr_sm, new)
    if sme:
        k.update_tsk_thread_flag(target, "TIF_SME", True)
    with k.If(changed):
        k.sve_alloc(target)


def sve_set_sme_v68(k: Ctx, target: int) -> None:
    """arch/arm64/kernel/ptrace.c (v6.8-v6.15, read in v6.8.0 and v6.10.0): sve_set() ->
    sve_set_common(type ARM64_VEC_SVE) for NT_ARM_SVE with SME, full SVE data at the same
    VL: the streaming block (`sve_set_common_streaming_v68`: SVCR.SM cleared, sve_state
    zeroed if it was set); then as without SME (`model.variants.v6.sve_set`:
    sve_alloc(target, true), fpsimd_sync_to_sve() (its thread_sm_enabled() test is false
    now, SM was just cleared), TIF_SVE, fp_type FP_STATE_SVE, the copyin,
    fpsimd_flush_task_state(target)).  SVCR.ZA, sme_state and TIF_SME are left as they
    are.  Ghost: the tracee runs with SM clear (`tracer_sm_ghost`)."""
    from model.variants import v6
    sve_set_common_streaming_v68(k, target, sme=False)
    v6.sve_set(k, target)
    tracer_sm_ghost(k, target, 0)


def ssve_set_v68(k: Ctx, target: int) -> None:
    """arch/arm64/kernel/ptrace.c (v6.8-v6.15, read in v6.8.0 and v6.10.0): ssve_set() ->
    sve_set_common(type ARM64_VEC_SME) for NT_ARM_SSVE, full SVE-format data at the same
    SVL, on a stopped tracee: the streaming block (`sve_set_common_streaming_v68`: SVCR.SM
    set, TIF_SME set, sve_state zeroed if SM was clear); sve_alloc(target, true) (zeroed);
    fpsimd_sync_to_sve(target) does nothing (thread_sm_enabled() is now true); TIF_SVE is
    not touched ("Only enable SVE if we are configuring normal SVE"); fp_type =
    FP_STATE_SVE; the copyin (`_tracer_regs_write`); fpsimd_flush_task_state(target).
    Ghost: the tracee then runs in streaming mode (`tracer_sm_ghost`)."""
    tgt = k.task(target)
    sve_set_common_streaming_v68(k, target, sme=True)
    k.sve_alloc(target)
    k.set(tgt.fp_type, "SVE")
    _tracer_regs_write(k, target)
    k.fpsimd_flush_task_state(target)
    tracer_sm_ghost(k, target, 1)


# The payload kinds of an NT_ARM_SVE / NT_ARM_SSVE write (the steps' ``payload`` index):
# full SVE-format data, FPSIMD-format data (SVE_PT_REGS_FPSIMD), a header without data.
PAYLOADS = ("sve", "fpsimd", "nodata")


def _vec_set_vector_length(k: Ctx, target: int, sme: bool, vl: int | None) -> None:
    """sve_set_common()'s vec_set_vector_length(target, type, header.vl, flags) for a
    header VL other than the tracee's (``vl`` an index into Config.sve_vls or
    Config.sme_vls, a supported length; None: the tracee's own VL, no FP effect): the
    version's `sve_set_vector_length` (ARM64_VEC_SVE) or `sme_set_vector_length`
    (ARM64_VEC_SME), with target != current."""
    if vl is None:
        return
    if sme:
        k.sme_set_vector_length(target, vl)
    else:
        k.sve_set_vector_length(target, vl)


def sve_set_common_v68(k: Ctx, target: int, sme: bool, payload: str = "sve",
                       vl: int | None = None) -> None:
    """arch/arm64/kernel/ptrace.c (v6.8-v6.15: the same function in v6.8.0, v6.10.0, v6.13.7
    and v6.14.0, compared, only a comment differs; v6.12-v6.14 reach it without SME;
    v6.1's differs: `model.variants.v6_1_sme.sve_set_common_v61`):
    sve_set_common(target, ..., type) for NT_ARM_SVE (``sme`` False, ARM64_VEC_SVE) or
    NT_ARM_SSVE (``sme`` True, ARM64_VEC_SME) on a stopped tracee, with payload kind
    ``payload`` (`PAYLOADS`) and header VL ``vl`` (None: the tracee's).

    vec_set_vector_length() (`_vec_set_vector_length`); with SME the streaming block
    (`sve_set_common_streaming_v68`: SVCR.SM set or cleared, for ARM64_VEC_SME
    sme_alloc(target, false) and TIF_SME, sve_state zeroed if SVCR changed).
    FPSIMD-only case: __fpr_set(target) (sve_sync_to_fpsimd(target): fp_type SVE ->
    sve_to_fpsimd(); the whole user_fpsimd_state copied in: `model.kernel.ptrace.__fpr_set`,
    a new generation of the tracee's V and FPSR/FPCR, Z bits above 127 zero, P/FFR not
    defined), clear TIF_SVE, fp_type = FP_STATE_FPSIMD, whatever the type: for
    ARM64_VEC_SME the tracee is now in streaming mode with an FPSIMD-format state.
    Otherwise (no registers or full SVE): sve_alloc(target, true) (zeroed);
    fpsimd_sync_to_sve(target) (fpsimd_to_sve() unless TIF_SVE or thread_sm_enabled():
    for NT_ARM_SVE the block has just cleared SM, so the model's TIF_SVE-only
    `fpsimd_sync_to_sve` is the same; for NT_ARM_SSVE SM is set and it does nothing, as
    without the call); TIF_SVE set for ARM64_VEC_SVE only; fp_type = FP_STATE_SVE; with
    data, the copyin (`_tracer_regs_write`).  Then fpsimd_flush_task_state(target).
    Ghosts: the tracee runs with PSTATE.SM as the regset says (`tracer_sm_ghost`); a
    header without data (`_nodata_ghost_v68`)."""
    tgt = k.task(target)
    sm_before = (k.let("sm_before", tgt.svcr_sm.eq(1))
                 if payload == "nodata" and k.config.sme else None)
    _vec_set_vector_length(k, target, sme, vl)
    if k.config.sme:
        sve_set_common_streaming_v68(k, target, sme)
    if payload == "fpsimd":
        k.__fpr_set(target)
        k.update_tsk_thread_flag(target, "TIF_SVE", False)
        k.set(tgt.fp_type, "FPSIMD")
        k.fpsimd_flush_task_state(target)
        tracer_sm_ghost(k, target, 1 if sme else 0)
        return
    k.sve_alloc(target)
    if not sme:
        k.fpsimd_sync_to_sve(target)
        k.update_tsk_thread_flag(target, "TIF_SVE", True)
    k.set(tgt.fp_type, "SVE")
    if payload == "sve":
        _tracer_regs_write(k, target)
    k.fpsimd_flush_task_state(target)
    tracer_sm_ghost(k, target, 1 if sme else 0)
    if payload == "nodata":
        _nodata_ghost_v68(k, target, sme, sm_before)


def _nodata_ghost_v68(k: Ctx, target: int, sme: bool, sm_before: Expr | None) -> None:
    """Ghost (not kernel code) of a header-only NT_ARM_SVE / NT_ARM_SSVE write, v6.8-v6.15:
    sve.rst (v6.10.0 and v6.18.2, the same text): "it is permissible to omit the payload,
    in which case only the vector length and flags are changed (along with any
    consequences of those changes)", and "Any SETREGSET of NT_ARM_SVE will exit streaming
    mode if the target was in streaming mode and any SETREGSET of NT_ARM_SSVE will enter
    streaming mode".  So the tracee's values stay its latest (no new generation), except
    for the consequences: a VL change's (the version's vec_set_vector_length ghost: Z
    bits above 127 and P/FFR unspecified) and a change of streaming mode's (``sm_before``,
    the tracee's thread.svcr.SM before the write, differs from the regset's).

    A mode change's architectural effect (Arm ARM, ResetSVEState() on SMSTART/SMSTOP, as
    `model.variants.v6_sme.sme_write_svcr` models it): Z (so V), P and FFR zero, FPSR set
    to its reset value, FPCR kept; FPMR is not touched by ptrace (78b23877dbba; the event
    is refused with --fpmr: `model.variants.v6.check_config`).  With SME FPSR and FPCR are
    separate slices (model/state.py `Image.fpcr`), so the ghost says exactly that, as for
    the task's own SMSTART/SMSTOP: ``expect_zero`` (V zero, FPSR the reset token), FPCR
    unchanged (its latest, or zero after exec: ``fpcr_expect_zero`` is left alone), zero Z
    bits above 127, zero P/FFR (P_ZERO; sme.rst section 3 says as much for the ABI: "When
    switching between modes via software interfaces such as ptrace if no register content
    is provided as part of switching no state will be assumed to be shared and everything
    will be zeroed", v6.10.0 and v6.18.2).  Not a new generation: the tracee's other copies
    keep their label (a later reload of one is still a loss, V must be zero), and a fresh
    signal frame stays fresh (the frame is memory the write does not touch).

    What the v6.8-v6.15 code does (read in v6.10.0, `sve_set_common_v68`): sve_state is
    zeroed (sve_alloc(target, true) after the streaming block, and by the block when SVCR
    changed); fpsimd_sync_to_sve() then does nothing for NT_ARM_SSVE (SM is now set) and,
    for NT_ARM_SVE with TIF_SVE clear, copies uw.fpsimd_state's V into the zeroed
    sve_state (what the tracee then reads as V is that copy); fp_type becomes
    FP_STATE_SVE; uw.fpsimd_state's FPSR and FPCR are kept, so the tracee reads its old
    FPSR where the architecture's mode change resets it (no_loss; before the split of the
    slice the model could check only FPCR's rule and had a ghost, fpsr_kept, for it)."""
    if sm_before is None:  # without SME there is no streaming mode to change
        return
    t = k.task(target)
    with k.If(sm_before.ne(1 if sme else 0)):
        with k.atomic():
            k.set(t.expect_zero, 1)
            k.set(t.zhi_expected, 0)
            k.set(t.p_written, P_ZERO)


def _nodata_ghost_v616(k: Ctx, target: int) -> None:
    """Ghost (not kernel code) of a header-only NT_ARM_SVE / NT_ARM_SSVE write, v6.16 on.
    316283f276eb (v6.16-rc1, "Consistently handle partial writes to NT_ARM_(S)SVE") made
    sve_set_common() zero the tracee's whole register image before the payload is copied
    in, whatever the mode change: sve_alloc(target, true) zeroes sve_state (Z, P, FFR) and
    "Always zero V regs, FPSR, and FPCR" memsets uw.fpsimd_state.  Its intent is stated by
    5cbb61bf4168's message (which fixed the memset's target, the stable-review copy in the
    index): "The memset is meant to give the tracee a defined zero register image before
    the user-supplied payload is copied in (for partial writes, header-only writes, and
    FPSIMD<->SVE format switches)".  So from v6.16 a header-only write is a new generation
    of the tracee's state whose value is zero, as after exec: it must read zero V and
    FPSR/FPCR (``expect_zero``: uw.fpsimd_state zeroed, and fp_type FP_STATE_SVE, so the
    reload takes V from the zeroed sve_state and FPSR/FPCR from uw.fpsimd_state) and zero
    Z bits above 127 and zero P/FFR (sve_state zeroed: ``p_written`` P_ZERO).  FPMR
    (thread.uw.fpmr, outside uw.fpsimd_state) and ZA
    (sme_alloc(target, false) keeps sme_state) are not touched.  sve.rst (still in v6.18.2)
    says a payload-less write changes "only the vector length and flags" and keeps "the
    thread's FPSIMD state": the code's stated intent, not the document, is what this ghost
    follows; the two disagree from v6.16.  Applies with and without SME."""
    t = k.task(target)
    k.supersede(target, "fp")
    with k.atomic():
        k.set(t.expect_zero, 1)
        if isinstance(t.fpcr_expect_zero, Var):  # (SME) the memset zeroes FPCR too
            k.set(t.fpcr_expect_zero, 1)
        if isinstance(t.zhi_expected, Var):
            k.set(t.zhi_expected, 0)
        if isinstance(t.p_written, Var):
            k.set(t.p_written, P_ZERO)


# ------------------------------------------------------------------------------- v6.16
def sve_set_common_v616(k: Ctx, target: int, sme: bool, payload: str = "sve",
                        vl: int | None = None) -> None:
    """arch/arm64/kernel/ptrace.c (v6.16, read in v6.18.2; the FPSIMD refusal also in the
    index copy @ f916dd32a943): sve_set_common() for NT_ARM_SVE (``sme`` False) or
    NT_ARM_SSVE (``sme`` True) on a stopped tracee (target != current), with payload kind
    ``payload`` (`PAYLOADS`) and header VL ``vl`` (None: the tracee's).

    fpsimd_flush_task_state(target) first; an FPSIMD-format payload for ARM64_VEC_SME is
    -EINVAL (f916dd32a943: nothing else happens); vec_set_vector_length()
    (`_vec_set_vector_length`); for ARM64_VEC_SME sme_alloc(target, false) (keeps an
    existing sme_state; a new one is zeroed, which nothing reads while SVCR.ZA is clear:
    no write here); unless FPSIMD-format, sve_alloc(target, true) (sve_state zeroed); the
    streaming-mode block (the version's `sve_set_common_mode`); the memset of a
    uw.fpsimd_state (the version's `sve_set_common_zero_fpsimd`: current's in v6.16, the
    target's after 5cbb61bf4168).  FPSIMD-format (NT_ARM_SVE): clear TIF_SVE, fp_type =
    FP_STATE_FPSIMD, __fpr_set(target) (`model.kernel.ptrace.__fpr_set`: a new generation
    of V and FPSR/FPCR).  Otherwise fp_type = FP_STATE_SVE and, with data, the tracer's
    Z/P/FFR into target->thread.sve_state and FPSR/FPCR into its uw.fpsimd_state.
    Ghosts: the tracee runs with PSTATE.SM as the regset says (`tracer_sm_ghost`); a
    header without data (`_nodata_ghost_v616`: it must read zero)."""
    tgt = k.task(target)
    k.fpsimd_flush_task_state(target)
    if payload == "fpsimd" and sme:
        return  # -EINVAL: "Require the user to provide SVE formatted data"
    _vec_set_vector_length(k, target, sme, vl)
    if payload != "fpsimd":
        k.sve_alloc(target)
    k.sve_set_common_mode(target, sme)
    k.sve_set_common_zero_fpsimd(target)
    if payload == "fpsimd":
        k.update_tsk_thread_flag(target, "TIF_SVE", False)
        k.set(tgt.fp_type, "FPSIMD")
        k.__fpr_set(target)
        tracer_sm_ghost(k, target, 0)
        return
    k.set(tgt.fp_type, "SVE")
    if payload == "sve":
        k.fp_write_memory(target, [tgt.sve_state.v, tgt.sve_state.zhi, *tgt.uw.fpsr_slots()],
                          zhi=True, p_slots=[tgt.sve_state.p], p_defined=True)
    tracer_sm_ghost(k, target, 1 if sme else 0)
    if payload == "nodata":
        _nodata_ghost_v616(k, target)


def ssve_set_v616(k: Ctx, target: int) -> None:
    """arch/arm64/kernel/ptrace.c (v6.16, read in v6.18.2): ssve_set() -> sve_set_common(
    type ARM64_VEC_SME) for NT_ARM_SSVE with full SVE-format data (an FPSIMD payload is
    -EINVAL since f916dd32a943): `model.variants.v6_16.sve_set_common_v616` with
    sme_alloc(target, false) before sve_alloc(target, true), and the streaming switch's
    ARM64_VEC_SME case (SVCR.SM and TIF_SME set)."""
    sve_set_common_v616(k, target, sme=True)


# ------------------------------------------------------------------- v6.8-v6.18: za_set
def za_set(k: Ctx, target: int, data: bool = True) -> None:
    """arch/arm64/kernel/ptrace.c (v6.8-v6.18: the same text in v6.8.0, v6.10.0 and v6.18.2):
    za_set() for PTRACE_SETREGSET NT_ARM_ZA on a stopped tracee, at the same SVL
    (vec_set_vector_length() does nothing here): if there is no sve_state,
    sve_alloc(target, false) (a new buffer is zeroed; it is read only after a
    streaming-mode save or an SVE-format write fills it, so the model writes nothing);
    sme_alloc(target, !thread_za_enabled()) (sme_state zeroed unless SVCR.ZA is set).
    ``data`` false (a header without ZA data): clear SVCR.ZA ("If there is no data then
    disable ZA").  ``data`` true: the whole ZA array into sme_state (a new ZA generation
    of the tracee, ghost), set TIF_SME and SVCR.ZA.  Then fpsimd_flush_task_state(target).
    Ghost: the tracee runs with PSTATE.ZA as written, and reads back the tracer's ZA."""
    tgt = k.task(target)
    with k.If(tgt.svcr_za.eq(0)):
        k.set(tgt.sme_state, _zero(k))
    if data:
        k.supersede_za(target)
        k.set(tgt.sme_state, Const(k.S.VALUE, k.S.latest(target)))
        k.update_tsk_thread_flag(target, "TIF_SME", True)
        k.set(tgt.svcr_za, 1)
        k.set(tgt.za_written, 1)
        k.set(tgt.za_expected, 1)
    else:
        k.set(tgt.svcr_za, 0)
        k.set(tgt.za_expected, 0)
    k.fpsimd_flush_task_state(target)


def za_set_at_vl(k: Ctx, target: int, vl: int) -> None:
    """arch/arm64/kernel/ptrace.c (v6.8-v6.18: the same text in v6.10.0 and v6.18.2):
    za_set() with ZA data and header.vl = ``vl`` (Config.sme_vls; a supported length):
    vec_set_vector_length(target, ARM64_VEC_SME, header.vl, flags) first, whatever the
    tracee's VL (the version's `sme_set_vector_length`: nothing at the same length;
    otherwise, the tracee being stopped and not current, fpsimd_flush_task_state(target)
    and the version's discard of the SME state, ZA and, up to v6.15, PSTATE.SM), then the
    write at the new length (`za_set`)."""
    k.sme_set_vector_length(target, vl)
    za_set(k, target, data=True)


FUNCTIONS_V68 = {"ssve_set": ssve_set_v68, "za_set": za_set, "za_set_at_vl": za_set_at_vl,
                 "sve_set_common": sve_set_common_v68}
NEW_FUNCTIONS = list(FUNCTIONS_V68)
