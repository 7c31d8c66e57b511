"""Probe variants for v6.1 with SME: search devices, not kernel versions (as
counterexamples/probes.py).  Load with ``--variant-file counterexamples/probes_v61.py``."""

from __future__ import annotations

from model.ctx import Ctx
from model.dsl import Const
from model.variants import get_variant, v6, v6_1_sme


def ssve_set_with_tif_sme(k: Ctx, target: int) -> None:
    """v6.1's NT_ARM_SSVE write (`model.variants.v6_1_sme.ssve_set_v61`) that also sets the
    tracee's TIF_SME, as 5d0a8d2fba50 does (its sme_alloc(target, false) keeps ZA, which
    the model's write leaves as it is): closes the 7-step v6.1-ssve-no_loss-* finding so
    that the next shortest shows."""
    k.update_tsk_thread_flag(target, "TIF_SME", True)
    v6_1_sme.ssve_set_v61(k, target)


def sve_set_common_with_tif_sme(k: Ctx, target: int, sme: bool, payload: str = "sve",
                                vl: int | None = None) -> None:
    """v6.1's sve_set_common() for the payload events (`model.variants.v6_1_sme.
    sve_set_common_v61`) whose NT_ARM_SSVE write also sets the tracee's TIF_SME, as
    5d0a8d2fba50 does in the streaming block (set here after the call: nothing in
    between reads the tracee's TIF_SME)."""
    v6_1_sme.sve_set_common_v61(k, target, sme, payload, vl)
    if sme:
        k.update_tsk_thread_flag(target, "TIF_SME", True)


V61_SSVE_TIF_SME = get_variant("v6.1").derive(
    "probe-v6.1-ssve-tif-sme", "v6.1 whose NT_ARM_SSVE write sets TIF_SME (5d0a8d2fba50)",
    ssve_set=ssve_set_with_tif_sme, sve_set_common=sve_set_common_with_tif_sme)

def sve_sync_from_fpsimd_zeropad_with_sm(k: Ctx, t: int) -> None:
    """v6.1's sve_sync_from_fpsimd_zeropad() with 69af56ae56a4's SM test: merge the new V
    into sve_state if TIF_SVE or thread.svcr.SM (the model's merge: V into sve_state,
    the bits above 127 and P zeroed, as `model.kernel.fpsimd.sve_sync_from_fpsimd_zeropad`
    does for TIF_SVE)."""
    task = k.task(t)
    zero = Const(k.S.VALUE, k.S.ZERO)
    with k.If(k.test_tsk_thread_flag(t, "TIF_SVE") | task.svcr_sm.eq(1)):
        for slot in task.sve_state.all_slots():
            k.set(slot, zero)
        k.set(task.sve_state.v, task.uw.v)


V61_PTRACE_FIXES = V61_SSVE_TIF_SME.derive(
    "probe-v6.1-ptrace-fixes", "probe-v6.1-ssve-tif-sme with 69af56ae56a4's zeropad SM test",
    sve_sync_from_fpsimd_zeropad=sve_sync_from_fpsimd_zeropad_with_sm)

def sme_set_vector_length_target_tif_sme(k: Ctx, t: int, vl: int) -> None:
    """v6.1's vec_set_vector_length(task, ARM64_VEC_SME) with c9bb40b7f786: TIF_SME
    cleared on the task, not on current.  For task != current (a tracer's write) the
    caller's flag is put back as it was and the task's cleared if the VL changed; for
    task == current the two are the same flag (v6.1's own function)."""
    if t == k.current:
        v6_1_sme.sme_set_vector_length_v61(k, t, vl)
        return
    task = k.task(t)
    mine = k.let("caller_tif_sme", k.test_thread_flag("TIF_SME"))
    changed = k.let("vl_changes", task.sme_vl.ne(vl))
    v6_1_sme.sme_set_vector_length_v61(k, t, vl)
    k.update_thread_flag("TIF_SME", mine.eq(1))
    with k.If(changed.eq(1)):
        k.update_tsk_thread_flag(t, "TIF_SME", False)


V61_PTRACE_FIXES_VL = V61_PTRACE_FIXES.derive(
    "probe-v6.1-ptrace-fixes-vl", "probe-v6.1-ptrace-fixes with c9bb40b7f786 (the VL change"
    " clears the task's TIF_SME, not current's)",
    sme_set_vector_length=sme_set_vector_length_target_tif_sme)

def el0_svc_smstop_on_sm(k: Ctx) -> None:
    """v6.1's el0_svc() (`model.variants.v6_1_sme.el0_svc_sme_v61`) whose fp_user_discard()
    leaves streaming mode whenever SVCR.SM is set, TIF_SME or not: not a kernel version
    (v6.8's fp_user_discard() still tests TIF_SME), a search device that closes the
    7-step v6.1-ssve-no_loss-* finding (a tracer-made streaming task without TIF_SME keeps
    SM across a syscall) *without* giving the tracee TIF_SME, so that a shortest trace
    found on it that makes no syscall replays on v6.1 step for step."""
    t = k.cur
    if t.mm:
        k.set(k.this_cpu.irqs_disabled, True)
        k.sme_syscall_abi()
        with k.If(k.this_cpu.sm.eq(1)):
            k.sme_smstop_sm()
        if k.config.sve:
            k.clear_thread_flag("TIF_SVE")
            k.set(k.this_cpu.zen_el0en, False)
            k.set(t.zhi_expected, 0)
            k.set(t.p_written, 0)
        k.set(k.this_cpu.irqs_disabled, False)
    v6.syscall_entry_bookkeeping(k)
    k.goto("KERNEL")


V61_SYSCALL_SMSTOP = get_variant("v6.1").derive(
    "probe-v6.1-syscall-smstop", "v6.1 whose syscall entry leaves streaming mode without"
    " testing TIF_SME (a search device: closes the 7-step NT_ARM_SSVE finding, not TIF_SME),"
    " with 69af56ae56a4's zeropad SM test (closes the NT_PRFPREG finding)",
    el0_svc=el0_svc_smstop_on_sm,
    sve_sync_from_fpsimd_zeropad=sve_sync_from_fpsimd_zeropad_with_sm)

VARIANTS = [V61_SSVE_TIF_SME, V61_PTRACE_FIXES, V61_PTRACE_FIXES_VL, V61_SYSCALL_SMSTOP]
