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

What is modelled: a full register write at the task's own vector length (the header's
VL is the tracee's current SVE VL or SVL, also with --sve-vls/--sme-vls: a write at
another length, whose vec_set_vector_length() first changes the tracee's VL, is modelled
for NT_ARM_ZA only, `za_set_at_vl`; at the current VL it only records the on-exec VL, no
FP effect), as for
NT_ARM_SVE without SME (`model.variants.v6.sve_set`).  The
FPSIMD-format payload of NT_ARM_SVE/NT_ARM_SSVE and partial writes are not modelled
(v6.16 refuses an FPSIMD payload for NT_ARM_SSVE; in v6.8-v6.15 it leaves a streaming
task with fp_type FP_STATE_FPSIMD).  Allocation failures (-ENOMEM) are not modelled.

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
from model.dsl import Const, Var


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
    k.fp_write_memory(target, [tgt.sve_state.v, tgt.sve_state.zhi, tgt.uw.fpsr], zhi=True,
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


# ------------------------------------------------------------------------------- v6.16
def ssve_set_v616(k: Ctx, target: int) -> None:
    """arch/arm64/kernel/ptrace.c (v6.16, read in v6.18.2): ssve_set() -> sve_set_common(
    type ARM64_VEC_SME) for NT_ARM_SSVE with full SVE-format data (an FPSIMD payload is
    -EINVAL since f916dd32a943): `model.variants.v6_16.sve_set_common_v616` with
    sme_alloc(target, false) before sve_alloc(target, true), and the streaming switch's
    ARM64_VEC_SME case (SVCR.SM and TIF_SME set)."""
    from model.variants import v6_16
    v6_16.sve_set_common_v616(k, target, sme=True)


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


FUNCTIONS_V68 = {"ssve_set": ssve_set_v68, "za_set": za_set, "za_set_at_vl": za_set_at_vl}
NEW_FUNCTIONS = list(FUNCTIONS_V68)
