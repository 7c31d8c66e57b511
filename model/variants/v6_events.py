"""The optional events (model/events.py) on today's kernels: v6.8 to v6.16.

Merged into the v6 variants' tables by `model.variants.v6.make_v69` (``V68_FUNCTIONS``,
which v6.8 to v6.14 inherit) and `model.variants.v6_16.make_v616` (``V616_FUNCTIONS``).

Read where (trees pinned in model/variants/v6.py and v6_16.py):

* v6.8.0 (vivo50kff/linux-6.8 @ bc4fae0d), v6.10.0 (msgeden/cryptocap-arm64-linux-6.10 @
  fabd51de) and v6.14.0 (perishh/linux-6.14 @ 347b100e): arch/arm64/kernel/fpsimd.c,
  signal.c, process.c, ptrace.c, arch/arm64/kvm/arm.c, guest.c, reset.c.  For every
  function below the three trees have the same text (signal.c differs between them only
  in FPMR, POE and GCS records, none of them modelled; process.c's arch_dup_task_struct()
  only loses a BUILD_BUG_ON after v6.8); v6.9, v6.12 and v6.13 lie between them.
* v6.16-rc1: arch/arm64/kernel/fpsimd.c at torvalds/linux@398edaa12f9c and signal.c /
  process.c / ptrace.c / fpsimd.c's VL change read in v6.18.2 (gfunkmonk/linux-6.18.2 @
  062668f4): no pristine v6.16 tree can be fetched.  What v6.16 has of them is inferred [I]
  from the 2025 FPSIMD/SVE/SME series merged in v6.16-rc1 (the v6.16 arm64 pull's shortlog
  lists every commit named here; the series' revision lists in the index put
  929fa99b1215 and c94f2f326146 before 398edaa12f9c and the rest after it): 929fa99b1215
  ("signal: Always save+flush state early": setup_rt_frame() and restore_sigframe() call
  fpsimd_save_and_flush_current_state(), fpsimd_signal_preserve_current_state() is
  removed), c94f2f326146 ("Fix merging of FPSIMD state during signal return":
  fpsimd_update_current_state() only merges, it no longer loads), be625d803c3b and
  b465ace42620 (restore_sve_fpsimd_context() without a payload is
  restore_fpsimd_context()), b255be426913 ("Clarify sve_sync_*() functions": the
  helpers' later names, and the zeropad tests fp_type), e0cb0f26594c ("Consistently
  preserve FPSIMD state during clone()"), 8d61eef75679 (no current->mm test in
  arch_dup_task_struct()), 49ce484187f7/b87c8c4aca11 (VL changes:
  change_live_vector_length()).  The model keeps the 2018 table names
  (sve_sync_to_fpsimd, sve_sync_from_fpsimd_zeropad, sve_set_vector_length).

Kept from the 2018 table because the C text is the same in effect in v6.8-v6.16 (checked
in the trees above): __efi_fpsimd_begin()/__efi_fpsimd_end() (per-CPU efi_fpsimd_state,
efi_sve_state, the *_used flags; the kernel-NEON path calls the version's may_use_simd()
and kernel_neon_begin(), so in v6 it sets TIF_KERNEL_FPSTATE and a softirq inside the call
saves and restores the firmware's registers as kernel-mode state; e04796c8b598, which
drops the per-CPU buffers, is after v6.16), the EFI wrappers, cpu_pm.c, the hotplug
steps and fpsimd_cpu_dead() (the same text in every tree), fpr_set()/__fpr_set()
(ptrace.c: the same text from v4.17 to v6.16; the helpers it calls are the version's),
sve_sync_from_fpsimd_zeropad() up to v6.15 (TIF_SVE test; SME's thread_sm_enabled() is
false), ptrace_stop/ptrace_resume (generic), do_signal(),
preserve_fpsimd_context() up to v6.14, copy_task_struct() (``*dst = *src``),
wake_up_new_task(), do_exit(), sys_execve()/flush_thread() (process.c),
fpsimd_update_current_state() up to v6.15 (model.kernel.fpsimd's: merge, convert if
TIF_SVE, task_fpsimd_load() by fp_type, bind, all under the FPSIMD context),
kvm_vcpu_ioctl_set_one_reg()/kvm_arm_set_reg() (arm.c kvm_arch_vcpu_ioctl(): no
vcpu_load(); v6 first handles a pending KVM_REQ_VCPU_RESET, which only event vcpu_reset
raises; guest.c set_core_reg() writes vcpu->arch.ctxt.fp_regs; an SVE vcpu's Z/P/FFR
(set_sve_reg) and ZCR_EL1 and its reset (kvm_vcpu_reset_sve()): `kvm_arm_set_reg_v6`,
`kvm_reset_vcpu_v6`, read in v6.13.7 and v6.14.0).

vcpu_reset: v6 resets a vcpu in its *own* thread (kvm_psci_vcpu_on() only requests
KVM_REQ_VCPU_RESET; check_vcpu_requests() in the run loop, or the ONE_REG ioctls, call
kvm_reset_vcpu(), which puts and reloads a loaded vcpu around the memset), as v5.0 began
to: `check_vcpu_requests` is the model.variants.v4_18 one (the same shape in v6.10).

FPMR (Config.fpmr, v6.9 on; read in v6.9.0, v6.10.0, v6.13.7, v6.14.0 and v6.18.2, and
fpsimd.c @ 398edaa12f9c / d3eaab3c7090 for v6.16-rc1):

* exec: fpsimd_flush_thread() leaves thread.uw.fpmr alone up to v6.15 (the new program
  inherits the old one's FPMR: found, curated); v6.16 sets it to 0 (a90878f297d3,
  `fpsimd_flush_thread_v616`);
* fork: ``*dst = *src`` copies thread.uw.fpmr (model.kernel.process.copy_task_struct), in
  every version; copy_thread() has no FPMR statement;
* signal: v6.9-v6.15 preserve_fpmr_context() stores the *live* FPMR register into
  thread.uw.fpmr and the frame, and restore_fpmr_context() writes the record into the
  register, neither testing whose state the registers hold (found: a signal delivered to
  a task whose state is not live saves another task's FPMR; curated); v6.16 goes through
  thread.uw.fpmr after its save+flush (929fa99b1215);
* ptrace: NT_ARM_FPMR's fpmr_set() writes thread.uw.fpmr and flushes the tracee
  (model.kernel.ptrace.fpmr_set, step ptrace_fpmr_set with event ptrace_fpr_set); the
  NT_PRFPREG write leaves FPMR alone (a partial ghost generation, `Ctx.supersede`);
* no FPMR statement of their own (they run unchanged with --fpmr): CPU PM and hotplug
  (their save is fpsimd_save_user_state(), which stores FPMR; a power loss makes the
  register UNKNOWN like the others), EFI (__efi_fpsimd_begin/end save no FPMR; the model's
  firmware does not write it), the VL change (vec_set_vector_length() and v6.16's
  change_live_vector_length() have none), KVM_SET_ONE_REG and the vcpu reset (they write
  the vcpu's saved registers, its FPMR slot with them; the VMM's KVM_GET_ONE_REG reads
  FPMR only for a VM with FPMR, properties.fp.readers).

SME (Config.sme: v6.8-v6.10 and v6.16; read in v6.8.0, v6.10.0 and, for v6.16, v6.18.2):

* exec: fpsimd_flush_thread() clears TIF_SME, detaches sme_state and sets thread.svcr to 0
  (the same text in every version); the reload's SVCR write leaves streaming mode and ZA;
* fork (a plain fork, no CLONE_VM): v6.8-v6.15 arch_dup_task_struct() copies TIF_SME and
  svcr and, if ZA is enabled, duplicates sme_state, else drops it and clears TIF_SME
  (`_dup_sme_v68`); v6.16 applies task_smstop_sm() to the child, drops sme_state, TIF_SME
  and svcr.ZA, and copy_thread_za() gives them back when the parent has ZA enabled
  (`_dup_sme_v616`); the child inherits ZA either way;
* ptrace (NT_PRFPREG): sve_sync_to_fpsimd() and the zero-padding count streaming mode
  (v6.8-v6.15: TIF_SVE or thread_sm_enabled(), `sve_sync_from_fpsimd_zeropad_v68`;
  v6.16: fp_type); the tracer's NT_ARM_SSVE and NT_ARM_ZA writes are modelled in
  model/variants/v6_ptrace.py (`ssve_set_v68`, `sve_set_common_v68`/`_v616`, `za_set`);
* CPU PM and hotplug: the save is the SME-aware fpsimd_save_user_state() and the flush
  SMSTOPs (fpsimd_flush_cpu_state()); a power loss also loses ZA and resets PSTATE.SM/ZA
  (model.kernel.cpu_pm.cpu_lose_fp_regs);
* signal (read in signal.c of v6.8.0, v6.9.0 and v6.10.0, whose SME text is the same and
  unchanged up to v6.14.0; v6.16 [I] in v6.18.2): preserve_sve_context() writes
  SVE_SIG_FLAG_SM and the streaming registers when thread.svcr.SM
  (`preserve_sve_context_v6`), preserve_za_context() the ZA data when svcr.ZA
  (`preserve_za_context_v68`); setup_return() clears SM and ZA for the handler: v6.8-v6.15
  zero uw.fpsimd_state when streaming, clear thread.svcr and SMSTOP the live registers,
  whoever's they are by then (`setup_return_v68`), v6.16 applies task_smstop_sm() to the
  flushed state and clears svcr.ZA (`setup_return_v616`; TPIDR2_EL0 = 0 is not modelled:
  TPIDR2 is not FP register state, and no modelled path reads it); sigreturn's
  restore_sve_fpsimd_context() sets svcr.SM for a streaming record (clears it for a
  no-payload one) and restore_za_context() restores ZA (`restore_za_context_v68` after its
  own flush, `restore_za_context_v616` after restore_sigframe()'s save+flush).  The 2025
  fixes by Mark Rutland ("Always save+flush state early" 929fa99b1215, "Clear PSTATE.SM
  when restoring FPSIMD frame only", "Mandate SVE payload for streaming-mode state",
  "Clear TPIDR2 when delivering signals", task_smstop_sm()) are absent from v6.8-v6.14
  (checked: the v6.13.7 and v6.14.0 trees have v6.10's text) and present in v6.18.2; they
  are taken to be in v6.16-rc1 with the rest of that series [I].  Found on v6.8-v6.10
  (1 CPU, 1 task): a sigreturn through a frame without ZA data leaves PSTATE.ZA set
  (restore_za_context() clears only thread.svcr.ZA while the state
  fpsimd_update_current_state() loaded, with a svcr.ZA saved during the handler, stays
  live): fixed by 929fa99b1215 (read in its code: signal.c @ 929fa99b1215 in the index;
  its message was not found).  Also found, both in delivery's `setup_return_v68` and both
  gone with 929fa99b1215: an IRQ's kernel-mode NEON between its thread.svcr clear and its
  SMSTOP saves the live SVCR back, so the handler runs with ZA (or SM) set (1 task, 11
  steps), and its SMSTOP hits the registers of another task still bound to the CPU when
  current's own state is not live (2 tasks, 11 steps); the two mechanisms Mark Brown's
  unmerged 2024 patch "arm64/signal: Avoid corruption of SME state when entering signal
  handler" names (counterexamples/README.md);
* efi: model/variants/v6_sme.py (__efi_fpsimd_begin/end's efi_sm_state);
* set_one_reg and vcpu_reset: no SME statement of their own (arm.c's KVM_SET_ONE_REG and
  reset.c's kvm_reset_vcpu() in v6.10.0 and v6.18.2); their SME part is the syscall
  entry and the put_fp/load_fp around a loaded vcpu's reset, the SME-aware functions of
  model/variants/v6_sme.py (no longer refused with --sme;
  tests/model/test_v6_sme_kvm.py).

kvm_run_kernel_neon's v6 section is preemptible and has program points of its own
(RUN_NEON_TOP/RUN_NEON_EXIT): model/variants/v6.py kvm_run_kernel_neon.

forget_syscall() (regs->syscallno = NO_SYSCALL) in do_signal() and restore_sigframe() is
modelled (model.kernel.signal.forget_syscall): on v6.8-v6.15 fpsimd_save_user_state()
reads in_syscall(), and a save after sigreturn's FP restore (a softirq's
kernel_neon_begin() at the restore's local_bh_enable(), a context switch) must keep the
restored SVE state whole.  An earlier version of this model left in_syscall set until
ret_to_user and so reported a false no_loss (v6.10 ``--event signal --sve --cpus 1
--tasks 1``, 13 steps: the softirq's save after the restore stored FPSIMD only, the reload
dropped TIF_SVE, the task's restored Z bits above 127 and P/FFR were gone).  On v6.16
`forget_syscall_v616` leaves the model's in_syscall alone (see there).
"""

from __future__ import annotations

from contextlib import ExitStack

from model.ctx import Ctx
from model.dsl import Const, Expr, Ite, Var
from model.kernel.kvm_vcpu_ops import vcpu_fp_write_memory
from model.kernel.process import copy_task_struct
from model.kernel.signal import put_record_vl, put_za_record_vl, restore_fp_records
from model.state import GHOST_BOOL, P_GHOST, P_ZERO, SIGFRAME_SNAPSHOT, Image
from model.variants.v4_18 import check_vcpu_requests


def _set_fp_type(k: Ctx, t: int, value: str) -> None:
    """thread.fp_type = value, where the model keeps it (feature fp_type with SVE; without
    SVE every state is FP_STATE_FPSIMD and nothing reads the field)."""
    slot = k.task(t).fp_type
    if isinstance(slot, Var):
        k.set(slot, value)


def _fp_type_sve(k: Ctx, t: int):  # noqa: ANN202
    """``task->thread.fp_type == FP_STATE_SVE`` (false without SVE)."""
    slot = k.task(t).fp_type
    return slot.eq("SVE") if isinstance(slot, Var) else k.false


# ------------------------------------------------------------ arch/arm64/kernel/fpsimd.c
def fpsimd_preserve_current_state_v6(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.8-v6.16): fpsimd_preserve_current_state():
    get_cpu_fpsimd_context() (local_bh_disable()); fpsimd_save_user_state();
    put_cpu_fpsimd_context()."""
    k.local_bh_disable()
    k.fpsimd_save_user_state()
    k.local_bh_enable()


def fpsimd_signal_preserve_current_state_v68(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.8-v6.15; removed by 929fa99b1215 in v6.16):
    fpsimd_signal_preserve_current_state(): fpsimd_preserve_current_state(); then, if
    current->thread.fp_type == FP_STATE_SVE (v6.8+: the format of the saved state, not
    TIF_SVE, 61da7c8e2a60 "#16"), sve_to_fpsimd(current), outside the bh-disabled section
    (a context switch there finds TIF_FOREIGN_FPSTATE clear only if the registers are
    still current's, and saves the same values again)."""
    k.fpsimd_preserve_current_state()
    if k.config.sve or k.config.sme:
        with k.If(_fp_type_sve(k, k.current)):
            k.sve_to_fpsimd()


def sve_sync_to_fpsimd_v6(k: Ctx, t: int) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.8-v6.16; renamed fpsimd_sync_from_effective_state()
    after v6.16): sve_sync_to_fpsimd(task): if task->thread.fp_type == FP_STATE_SVE,
    sve_to_fpsimd(task) (2018: the test was TIF_SVE).  With SME too (Config.sme, with or
    without SVE): a streaming-mode save is SVE-format."""
    if k.config.sve or k.config.sme:
        with k.If(_fp_type_sve(k, t)):
            k.sve_to_fpsimd(t)


def fpsimd_flush_thread_v6(k: Ctx, fpmr_reset: bool = False) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.8-v6.16): fpsimd_flush_thread(), from flush_thread()
    at execve.

    get_cpu_fpsimd_context(); fpsimd_flush_task_state(current) (v6: it sets
    TIF_FOREIGN_FPSTATE itself); memset(&uw.fpsimd_state, 0); with SVE: clear TIF_SVE,
    detach sve_state (sve_state = NULL, kfree()d after the context is put: the model's
    NULL buffer is zero, as in `model.kernel.fpsimd.sve_free`; no WARN on TIF_SVE any
    more), fpsimd_flush_thread_vl(): thread.sve_vl = sve_vl_onexec or the default (the
    model has no ONEXEC/INHERIT: the default; its WARNs cannot fire); with SME
    (Config.sme) clear TIF_SME, detach sme_state, svcr = 0 and (with --sme-vls)
    fpsimd_flush_thread_vl(ARM64_VEC_SME): the SME default VL (the live PSTATE.SM/ZA
    are left: the reload's SVCR write clears them); (v6.16: FPMR,
    `fpsimd_flush_thread_v616`); fp_type = FP_STATE_FPSIMD; put_cpu_fpsimd_context().
    Bottom halves are off throughout: no softirq or preemption inside.  (The same text in
    v6.8.0 and v6.10.0, and in v6.16 but for FPMR.)"""
    k.local_bh_disable()
    flush_thread_statements(k, fpmr_reset)
    k.local_bh_enable()


def flush_thread_statements(k: Ctx, fpmr_reset: bool = False) -> None:
    """The statements of fpsimd_flush_thread() inside its FPSIMD context, v6.1 to v6.16
    (not a C function; `fpsimd_flush_thread_v6` says what they do, fp_type only where the
    layout has it, v6.2+)."""
    uw = k.cur.uw
    zero = Const(k.S.VALUE, k.S.ZERO)
    k.fpsimd_flush_task_state(k.current)
    k.set(uw.v, zero)
    k.zero_fpsr_fpcr(uw)
    if k.config.sve:
        k.clear_thread_flag("TIF_SVE")
        if isinstance(k.cur.sve_state.v, Var):
            for slot in k.cur.sve_state.all_slots():
                k.set(slot, zero)
        if isinstance(k.cur.sve_vl, Var):
            k.set(k.cur.sve_vl, k.config.default_vl_index)
    if k.config.sme:
        # clear TIF_SME; detach sme_state (NULL: zero, kfree()d after the context is
        # put); fpsimd_flush_thread_vl(ARM64_VEC_SME) (one SVL: a constant); svcr = 0
        k.clear_thread_flag("TIF_SME")
        k.set(k.cur.sme_state, zero)
        if isinstance(k.cur.sme_vl, Var):
            # (Config.sme_vls) fpsimd_flush_thread_vl(ARM64_VEC_SME): the SME default VL
            # (no vl_onexec: PR_SME_SET_VL_ONEXEC is not modelled)
            k.set(k.cur.sme_vl, k.config.sme_default_vl_index)
        k.set(k.cur.svcr_sm, False)
        k.set(k.cur.svcr_za, False)
    if fpmr_reset and k.config.fpmr:
        k.set(uw.fpmr, zero)  # v6.16: `fpsimd_flush_thread_v616`
    _set_fp_type(k, k.current, "FPSIMD")


def fpsimd_flush_thread_v616(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.16): fpsimd_flush_thread(): v6.8's statements
    (`fpsimd_flush_thread_v6`) and, if system_supports_fpmr() (Config.fpmr),
    current->thread.uw.fpmr = 0 before fp_type = FP_STATE_FPSIMD, inside the FPSIMD
    context (a90878f297d3 "arm64/fpsimd: Reset FPMR upon exec()", v6.16-rc1; read in
    fpsimd.c @ 398edaa12f9c, absent @ d3eaab3c7090 and in v6.9.0-v6.14.0, where the new
    program inherits the old one's FPMR)."""
    fpsimd_flush_thread_v6(k, fpmr_reset=True)


def fpsimd_update_current_state_v616(k: Ctx, state: Image) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.16, c94f2f326146 "Fix merging of FPSIMD state during
    signal return"; read at 398edaa12f9c): fpsimd_update_current_state(state): only the
    merge: uw.fpsimd_state = *state; if fp_type == FP_STATE_SVE, fpsimd_to_sve(current).
    No load and no bind: the caller has saved and flushed current's state first
    (fpsimd_save_and_flush_current_state() in restore_sigframe()), so the return to user
    space reloads it.  fpsimd_to_sve() returns early only on a system with neither SVE nor
    SME: an SME-only system merges too (a streaming state is SVE-format)."""
    uw = k.cur.uw
    k.set(uw.v, state.v)
    k.copy_fpsr_fpcr(uw, state)
    if k.config.sve or k.config.sme:
        with k.If(_fp_type_sve(k, k.current)):
            k.fpsimd_to_sve()


def fpsimd_cpu_pm_notifier_v6(k: Ctx, cmd: str) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.8-v6.18, the same text): fpsimd_cpu_pm_notifier():
    CPU_PM_ENTER: fpsimd_save_and_flush_cpu_state() (WARN_ON(preemptible()),
    local_irq_save(), fpsimd_save_user_state(): whatever is bound for current, its user
    state or a vcpu's; fpsimd_flush_cpu_state(): last->st = NULL and current's
    TIF_FOREIGN_FPSTATE); CPU_PM_EXIT: nothing; CPU_PM_ENTER_FAILED and the rest:
    NOTIFY_DONE.  A task's kernel-mode state bound by fpsimd_save_kernel_state() is
    unbound by the flush too (its owner reloads it: fpsimd_load_kernel_state() cannot
    elide the load once last->st is NULL)."""
    if cmd == "CPU_PM_ENTER":
        k.fpsimd_save_and_flush_cpu_state()


# ------------------------------------------------------------ arch/arm64/kernel/signal.c
def preserve_sve_context_v6(k: Ctx) -> None:
    """arch/arm64/kernel/signal.c (v6.8-v6.16): preserve_sve_context(ctx): vl = the
    task's SVE VL (in streaming mode the SVL, SVE_SIG_FLAG_SM and the streaming
    registers as payload: `sigframe_sm`, `put_record_vl`); vq = fp_type == FP_STATE_SVE ?
    sve_vq_from_vl(vl) : 0 (v6.8+, 61da7c8e2a60; 2018: TIF_SVE); the header says whether
    register data follows; if vq, current's whole sve_state (Z incl. the bits above 127,
    P/FFR) is copied into the record (the caller saved the registers first)."""
    t = k.cur
    if k.config.sme:
        # (SME) thread_sm_enabled(): vl = the task's SME VL (one VL per kind: the same
        # slices), flags = SVE_SIG_FLAG_SM, and the record carries the streaming-mode
        # registers (saved in SVE format; FFR, not saved without FA64, is not modelled:
        # the P slice stands for P0-P15); else as without SME
        sm = k.let("sm", t.svcr_sm.eq(1))
        k.set(t.sigframe_sm, sm)
        sve = k.let("vq", sm | _fp_type_sve(k, k.current))
    else:
        sm = None
        sve = k.let("vq", _fp_type_sve(k, k.current))
    k.set(t.sigframe_sve, sve)
    put_record_vl(k, sm)  # (the header's vl: model.kernel.signal)
    copy_sve_record_out(k, sve)


def copy_sve_record_out(k: Ctx, sve: Expr) -> None:
    """The copy of current's sve_state into the SVE record when it carries register data
    (``sve``), else the record's data slots stay unused (zero): a statement of
    preserve_sve_context() (v5.19-v6.16), not a C function.  With SME the record's own
    copy of Z bits [127:0] is a slot of its own (`model.state.Image.zv`)."""
    t, f = k.cur, k.cur.sigframe
    with k.If(sve):
        k.set(f.zhi, t.sve_state.zhi)
        k.set(f.p, t.sve_state.p)
        if isinstance(f.zv, Var):
            k.set(f.zv, t.sve_state.v)
    with k.Else():
        k.set(f.zhi, k.S.ZERO)
        k.set(f.p, k.S.ZERO)
        if isinstance(f.zv, Var):
            k.set(f.zv, k.S.ZERO)


def preserve_za_context_v68(k: Ctx) -> None:
    """arch/arm64/kernel/signal.c (v6.8-v6.16, the same text; CONFIG_ARM64_SME, called by
    setup_sigframe() when system_supports_sme()): preserve_za_context(ctx): vq = the SME
    VL's if thread_za_enabled(&current->thread) (thread.svcr.ZA), else 0; the header
    (size says whether ZA data follows); if vq, current's sme_state (ZA) is copied into
    the record (the caller saved the registers first).  (ZT0: SME2, not modelled.)"""
    t = k.cur
    za = k.let("za_vq", t.svcr_za.eq(1))
    k.set(t.sigframe_za, za)
    put_za_record_vl(k)  # (the header's vl: model.kernel.signal)
    with k.If(za):
        k.set(t.sigframe_zadata, t.sme_state)
    with k.Else():  # no ZA data in the record
        k.set(t.sigframe_zadata, k.S.ZERO)


def _handler_entry_ghost(k: Ctx) -> None:
    """Ghost (not kernel code), at setup_return(): "Signal handlers are invoked with ZA and
    streaming mode disabled" (signal.c; Documentation/arch/arm64/sme.rst).  First the
    frame's expectations are taken (`model.state.SIGFRAME_SNAPSHOT`: what the interrupted
    task had to read, which the fresh frame must hold); then the handler must run with
    PSTATE.SM and PSTATE.ZA clear, and if the task was in streaming mode, leaving it
    zeroes the registers (the architectural effect of SMSTOP; sme.rst: "entering or
    exiting streaming mode ... all register state is zeroed"): the handler must read zero
    V and FPSR (`expect_zero`), zero Z bits above 127 and zero P/FFR (P_ZERO: SMSTOP
    zeroes the predicate registers and FFR too).  Not a new generation: the frame keeps
    the interrupted values' label.  With
    FEAT_FPMR the handler must read a zero FPMR too (SMSTOP resets it: e5fa85fce08b's
    quote of the Arm ARM; v6.16's task_smstop_sm() zeroes thread.uw.fpmr), which
    ``expect_zero`` covers, and the exec event's separate ``fpmr_expect_zero`` with it."""
    t = k.cur
    with k.atomic():
        for g, src in SIGFRAME_SNAPSHOT:
            if isinstance(getattr(t, g), Var):
                k.set(getattr(t, g), getattr(t, src))
        # (ghost updates from ghosts only: no model condition may read a ghost)
        was_sm = t.sm_expected.eq(1)
        one, nil = Const(GHOST_BOOL, 1), Const(GHOST_BOOL, 0)
        k.set(t.expect_zero, Ite(was_sm, one, t.expect_zero))
        if isinstance(t.fpmr_expect_zero, Var):
            k.set(t.fpmr_expect_zero, Ite(was_sm, one, t.fpmr_expect_zero))
        if isinstance(t.zhi_expected, Var):
            k.set(t.zhi_expected, Ite(was_sm, nil, t.zhi_expected))
        if isinstance(t.p_written, Var):
            k.set(t.p_written, Ite(was_sm, Const(P_GHOST, P_ZERO), t.p_written))
        k.set(t.sm_expected, 0)
        k.set(t.za_expected, 0)


def setup_return_v68(k: Ctx) -> None:
    """arch/arm64/kernel/signal.c (v6.8-v6.15; the same text in v6.8.0, v6.9.0, v6.10.0,
    v6.13.7, v6.14.0): setup_return(), its SME part, after setup_sigframe() succeeded
    (so after the frame's records; still preemptible, bottom halves on): if
    system_supports_sme(): if thread.svcr.SM, memset(&uw.fpsimd_state, 0) and fp_type =
    FP_STATE_FPSIMD ("flush the saved FPSIMD register state in case it gets loaded");
    thread.svcr &= ~(ZA | SM); sme_smstop() on the live registers, whoever's state they
    hold: fpsimd_signal_preserve_current_state() at the top of setup_rt_frame() left
    current's state bound (TIF_FOREIGN_FPSTATE clear), but a context switch or a
    softirq's kernel_neon_begin() since may have unbound it, and the CPU's registers may
    then be bound to another task.  TIF_SME and sme_state are left (ZA is off for the
    handler; its data stays saved).  (TPIDR2 is not written in these versions.)"""
    _handler_entry_ghost(k)
    t = k.cur
    zero = Const(k.S.VALUE, k.S.ZERO)
    with k.If(t.svcr_sm.eq(1)):
        # the memset zeroes the whole struct: V, FPSR and FPCR (v6.16's task_smstop_sm()
        # keeps FPCR, as leaving streaming mode does)
        k.set(t.uw.v, zero)
        k.zero_fpsr_fpcr(t.uw)
        _set_fp_type(k, k.current, "FPSIMD")
    with k.atomic():  # one read-modify-write of thread.svcr: no window inside
        k.set(t.svcr_za, False)
        k.set(t.svcr_sm, False)
    k.sme_smstop()


def task_smstop_sm_v616(k: Ctx, t: int) -> None:
    """arch/arm64/include/asm/fpsimd.h / fpsimd.c (v6.16 [I], "arm64/fpsimd: Add
    task_smstop_sm()", read in v6.18.2): task_smstop_sm(task): if thread.svcr.SM: zero
    uw.fpsimd_state's V registers, FPSR = the SM-change value 0x0800009f (the model's
    token 0 for the FPSR slice, as `sme_write_svcr`; FPCR is not written), if
    system_supports_fpmr()
    (Config.fpmr) thread.uw.fpmr = 0, clear svcr.SM, fp_type = FP_STATE_FPSIMD: the
    saved state as leaving streaming mode leaves the registers."""
    task = k.task(t)
    zero = Const(k.S.VALUE, k.S.ZERO)
    with k.If(task.svcr_sm.eq(1)):
        k.set(task.uw.v, zero)
        k.set(task.uw.fpsr, zero)  # FPSR only: uw.fpsimd_state.fpcr is left as it is
        if k.config.fpmr:
            k.set(task.uw.fpmr, zero)
        k.set(task.svcr_sm, False)
        _set_fp_type(k, t, "FPSIMD")


def setup_return_v616(k: Ctx) -> None:
    """arch/arm64/kernel/signal.c (v6.16 [I], read in v6.18.2; the SME block of 929fa99b1215
    "signal: Always save+flush state early" and "signal: Clear TPIDR2 when delivering
    signals"): setup_return(), its SME part: task_smstop_sm(current); thread.svcr &=
    ~SVCR_ZA_MASK; TPIDR2_EL0 = 0 (not modelled).  No live SMSTOP: setup_rt_frame()
    saved and flushed current's state first, so the return to user space reloads it and
    task_fpsimd_load()'s SVCR write leaves streaming mode and ZA.

    One event, no window inside (an abstraction of the model, as for the 2018
    setup_rt_frame(): model/kernel/signal.py): setup_rt_frame() saved and flushed current's
    state first, so current is bound to no CPU (TIF_FOREIGN_FPSTATE set, fpsimd_cpu
    NR_CPUS) and nothing that can run in a window here reads or writes these fields of its
    thread struct: a context switch's fpsimd_save() and a softirq's kernel_neon_begin()
    save only the state bound to the CPU, fpsimd_thread_switch() reads current's
    TIF_KERNEL_FPSTATE and binding only, and no tracer can write a running task.  Where
    these statements interleave with them changes nothing they or the task see; with
    windows, the handler's ghosts (set first) and the thread struct disagree for a few
    statements, which every lemma about a saved task's state would have to spell out."""
    with k.atomic():
        _handler_entry_ghost(k)
        task_smstop_sm_v616(k, k.current)
        k.set(k.cur.svcr_za, False)


def preserve_fpsimd_context_v616(k: Ctx) -> None:
    """arch/arm64/kernel/signal.c (v6.16 [I], read in v6.18.2 where the helper has its later
    name): preserve_fpsimd_context(ctx): sve_sync_to_fpsimd(current) (929fa99b1215: the
    saved state may be SVE-format, so its V bits are copied into uw.fpsimd_state first),
    then copy uw.fpsimd_state (vregs, fpsr, fpcr) to the frame."""
    k.sve_sync_to_fpsimd(k.current)
    f, uw = k.cur.sigframe, k.cur.uw
    k.set(f.v, uw.v)
    k.copy_fpsr_fpcr(f, uw)


def setup_rt_frame_v616(k: Ctx) -> None:
    """arch/arm64/kernel/signal.c (v6.16 [I], 929fa99b1215; read in v6.18.2):
    setup_rt_frame(): fpsimd_save_and_flush_current_state() first (current's live state
    saved and unbound: TIF_FOREIGN_FPSTATE set, fpsimd_cpu = NR_CPUS, so nothing saves
    into its thread struct any more and the return to user space reloads it), then
    get_sigframe(), setup_sigframe(): preserve_fpsimd_context() and, with SVE or SME,
    preserve_sve_context(), (FPMR) and with SME preserve_za_context(); then
    setup_return(), whose FP part is SME only (`setup_return_v616`)."""
    k.fpsimd_save_and_flush_current_state()
    k.preserve_fpsimd_context()
    if k.config.sve or k.config.sme:
        k.preserve_sve_context()
    if k.config.fpmr:
        k.preserve_fpmr_context()
    if k.config.sme:
        k.preserve_za_context()
        k.setup_return()


def restore_fpsimd_context_v6(k: Ctx, frame: Image) -> None:
    """arch/arm64/kernel/signal.c (v6.8-v6.16): restore_fpsimd_context(user): read the
    frame's fpsimd_context into a local; clear_thread_flag(TIF_SVE); (v6.16 also clears
    SVCR.SM: `restore_fpsimd_context_v616`) fp_type = FP_STATE_FPSIMD;
    fpsimd_update_current_state(&fpsimd) (the
    version's: load and bind up to v6.15, merge only in v6.16)."""
    k.clear_thread_flag("TIF_SVE")
    _set_fp_type(k, k.current, "FPSIMD")
    k.fpsimd_update_current_state(frame)


def restore_fpsimd_context_v616(k: Ctx, frame: Image) -> None:
    """arch/arm64/kernel/signal.c (v6.16 [I], read in v6.18.2; "signal: Clear PSTATE.SM when
    restoring FPSIMD frame only"): restore_fpsimd_context(user): read_fpsimd_context();
    clear_thread_flag(TIF_SVE); thread.svcr &= ~SVCR_SM_MASK (v6.8-v6.15 lack it: there
    the no-payload SVE record's path clears SM itself, `restore_sve_fpsimd_context_v68`);
    fp_type = FP_STATE_FPSIMD; fpsimd_update_current_state(&fpsimd) (merge only)."""
    if k.config.sve:
        k.clear_thread_flag("TIF_SVE")
    if k.config.sme:
        k.set(k.cur.svcr_sm, False)
    _set_fp_type(k, k.current, "FPSIMD")
    k.fpsimd_update_current_state(frame)


def _copy_sve_record(k: Ctx, frame: Image) -> None:
    """The __copy_from_user() of the record's Z/P/FFR payload into current's sve_state (a
    statement of restore_sve_fpsimd_context(), not a C function)."""
    t = k.cur
    # the record's own copy of Z bits [127:0] (fpsimd_context's V is merged over it below,
    # where the version merges); without SME the model has one slice for both copies
    k.set(t.sve_state.v, frame.zv if isinstance(frame.zv, Var) else frame.v)
    k.set(t.sve_state.zhi, frame.zhi)
    k.set(t.sve_state.p, frame.p)


def restore_sve_fpsimd_context_v68(k: Ctx, frame: Image) -> None:
    """arch/arm64/kernel/signal.c (v6.8-v6.15): restore_sve_fpsimd_context(user), an SVE
    record at the task's VL (the only one the model's frames have).

    No payload: clear TIF_SVE, (SVCR.SM) fp_type = FP_STATE_FPSIMD, goto fpsimd_only.
    Payload: fpsimd_flush_task_state(current) (which sets TIF_FOREIGN_FPSTATE: "from now,
    fpsimd_thread_switch() won't touch thread.sve_state"); sve_alloc(current, true);
    copy the payload into sve_state; set TIF_SVE; fp_type = FP_STATE_SVE.  fpsimd_only:
    read the frame's fpsimd_context and fpsimd_update_current_state(&fpsimd) (merge V into
    sve_state if TIF_SVE, load, bind).  Preemptible throughout, bottom halves on."""
    t = k.cur
    with k.If(~t.sigframe_sve.eq(1)):
        if k.config.sve:
            k.clear_thread_flag("TIF_SVE")
        if k.config.sme:
            k.set(t.svcr_sm, False)  # current->thread.svcr &= ~SVCR_SM_MASK
        _set_fp_type(k, k.current, "FPSIMD")
    with k.Else():
        k.fpsimd_flush_task_state(k.current)
        k.sve_alloc()
        _copy_sve_record(k, frame)
        _set_sm_or_tif_sve(k)
        _set_fp_type(k, k.current, "SVE")
    k.fpsimd_update_current_state(frame)


def _set_sm_or_tif_sve(k: Ctx) -> None:
    """The statement of restore_sve_fpsimd_context() after the payload's copy (v6.8-v6.16,
    not a C function): if the record's flags have SVE_SIG_FLAG_SM, thread.svcr |= SM,
    else set_thread_flag(TIF_SVE) (thread.svcr.SM is left as it is then)."""
    if not k.config.sme:
        k.set_thread_flag("TIF_SVE")
        return
    with k.If(k.cur.sigframe_sm.eq(1)):
        k.set(k.cur.svcr_sm, True)
    with k.Else():
        if k.config.sve:
            k.set_thread_flag("TIF_SVE")


def restore_za_context_v68(k: Ctx, frame: Image) -> None:
    """arch/arm64/kernel/signal.c (v6.8-v6.15, the same text in v6.8.0-v6.10.0):
    restore_za_context(user), from restore_sigframe() after the FPSIMD/SVE (and FPMR)
    restore, preemptible: no ZA data in the record: thread.svcr &= ~SVCR_ZA_MASK and
    return (nothing else: the state restore_sve_fpsimd_context() just loaded and bound
    stays live with whatever PSTATE.ZA it was loaded with).  Data:
    fpsimd_flush_task_state(current); sme_alloc(current, true); copy the payload into
    sme_state; set TIF_SME; thread.svcr |= SVCR_ZA_MASK (the return to user space
    reloads, with ZA).  (-ENOMEM / -EFAULT: not modelled.)"""
    del frame
    _restore_za_context(k, flush=True)


def restore_za_context_v616(k: Ctx, frame: Image) -> None:
    """arch/arm64/kernel/signal.c (v6.16 [I], read in v6.18.2): restore_za_context(user):
    as v6.8's (`restore_za_context_v68`) without the fpsimd_flush_task_state():
    restore_sigframe() saved and flushed current's state first (929fa99b1215)."""
    del frame
    _restore_za_context(k, flush=False)


def _restore_za_context(k: Ctx, flush: bool) -> None:
    """The body both versions of restore_za_context() share; `flush`: v6.8-v6.15's
    fpsimd_flush_task_state(current) before the ZA data is written."""
    t = k.cur
    with k.If(t.sigframe_za.eq(1)):
        if flush:
            k.fpsimd_flush_task_state(k.current)
        k.sme_alloc()
        k.set(t.sme_state, t.sigframe_zadata)
        k.set_thread_flag("TIF_SME")
        k.set(t.svcr_za, True)
    with k.Else():
        k.set(t.svcr_za, False)


def restore_sve_fpsimd_context_v616(k: Ctx, frame: Image) -> None:
    """arch/arm64/kernel/signal.c (v6.16 [I], read in v6.18.2):
    restore_sve_fpsimd_context(user): no payload (not streaming): return
    restore_fpsimd_context(user) (b465ace42620).  Payload: sve_alloc(current, true) (no
    flush here any more: restore_sigframe() saved and flushed current's state first);
    copy the payload into sve_state; set TIF_SVE; fp_type = FP_STATE_SVE;
    read_fpsimd_context() and fpsimd_update_current_state(&fpsimd) (merge V into
    sve_state)."""
    t = k.cur
    # "Mandate SVE payload for streaming-mode state": only a non-streaming record without
    # a payload goes the FPSIMD way (a streaming one without a payload fails the size
    # check: -EINVAL; the kernel's frames always have one, and the model's handler does
    # not edit the records' headers)
    with k.If(~t.sigframe_sve.eq(1) & ~t.sigframe_sm.eq(1)):
        k.restore_fpsimd_context(frame)
    with k.Else():
        k.sve_alloc()
        _copy_sve_record(k, frame)
        _set_sm_or_tif_sve(k)
        _set_fp_type(k, k.current, "SVE")
        k.fpsimd_update_current_state(frame)


def forget_syscall_v616(k: Ctx) -> None:
    """arch/arm64/include/asm/ptrace.h (v6.16): forget_syscall(regs): regs->syscallno =
    NO_SYSCALL.  No v6.16 FP code reads in_syscall() any more (fpsimd_last_state.to_save
    replaced it, 398edaa12f9c), so the model keeps no regs->syscallno there: its per-task
    in_syscall records instead that the current kernel entry is el0_svc(), whose
    fpsimd_syscall_exit() runs on the way out whatever regs->syscallno says
    (entry-common.c, read in v6.18.2), and which forget_syscall() does not change.
    Nothing of the modelled state changes."""
    del k


def restore_sigframe_v616(k: Ctx, frame: Image) -> Var | None:
    """arch/arm64/kernel/signal.c (v6.16 [I], 929fa99b1215; read in v6.18.2):
    restore_sigframe(), its FP part: forget_syscall(regs) (`forget_syscall_v616`);
    fpsimd_save_and_flush_current_state(), then parse_user_sigframe() and, with an SVE
    record (always present when the system supports SVE) restore_sve_fpsimd_context(),
    else restore_fpsimd_context()."""
    k.forget_syscall()
    k.fpsimd_save_and_flush_current_state()
    # the records and their VL tests as in v6.8-v6.15: a failing record finds the task's
    # state saved and flushed, and a failing ZA record finds the SVE/FPSIMD and FPMR
    # records merged into its thread struct
    return restore_fp_records(k, frame)


def preserve_fpmr_context_v69(k: Ctx) -> None:
    """arch/arm64/kernel/signal.c (v6.9-v6.15, FEAT_FPMR): preserve_fpmr_context(ctx), from
    setup_sigframe() after the FPSIMD and SVE records: current->thread.uw.fpmr =
    read_sysreg_s(SYS_FPMR) (the live register, read whether or not it holds current's
    state: TIF_FOREIGN_FPSTATE is not tested, and the preserve at the top of
    setup_rt_frame() does not keep the state live: a context switch or a softirq's
    kernel_neon_begin() in between unbinds it); then the record's fpmr =
    current->thread.uw.fpmr."""
    f, uw = k.cur.sigframe, k.cur.uw
    k.set(uw.fpmr, k.this_cpu.regs.fpmr)
    k.set(f.fpmr, uw.fpmr)


def preserve_fpmr_context_v616(k: Ctx) -> None:
    """arch/arm64/kernel/signal.c (v6.16 [I], after 929fa99b1215; read in v6.18.2):
    preserve_fpmr_context(ctx): the record's fpmr = current->thread.uw.fpmr (setup_rt_frame()
    saved and flushed current's state first: uw.fpmr is its FPMR)."""
    k.set(k.cur.sigframe.fpmr, k.cur.uw.fpmr)


def restore_fpmr_context_v69(k: Ctx, frame: Image) -> None:
    """arch/arm64/kernel/signal.c (v6.9-v6.15, FEAT_FPMR): restore_fpmr_context(user), from
    restore_sigframe() after the FPSIMD/SVE restore (a frame without the record, or of the
    wrong size, is not modelled: the kernel always writes one): read the record's fpmr and
    write_sysreg_s(fpmr, SYS_FPMR): straight into the register, whoever's state it holds
    (the FPSIMD restore before it loaded and bound current's state, but it runs preemptible:
    a context switch in between saves and unbinds it).  thread.uw.fpmr is not written."""
    k.set(k.this_cpu.regs.fpmr, frame.fpmr)


def restore_fpmr_context_v616(k: Ctx, frame: Image) -> None:
    """arch/arm64/kernel/signal.c (v6.16 [I], read in v6.18.2): restore_fpmr_context(user):
    current->thread.uw.fpmr = the record's fpmr (restore_sigframe() saved and flushed
    current's state first, so the return to user space loads it)."""
    k.set(k.cur.uw.fpmr, frame.fpmr)


# ------------------------------------------------------------ arch/arm64/kernel/process.c
def _detach_child_fp(k: Ctx, child: int) -> None:
    """The statements of arch_dup_task_struct() after ``*dst = *src`` that v6.8 to v6.16
    share (not a C function): dst->thread.sve_state = NULL (the model's NULL buffer is
    zero, as in copy_thread()'s 2018 model); clear_tsk_thread_flag(dst, TIF_SVE);
    dst->thread.fp_type = FP_STATE_FPSIMD (SME's sme_state, TIF_SME and ZA: the callers'
    `_dup_sme_v68` / `_dup_sme_v616`)."""
    t = k.task(child)
    if isinstance(t.sve_state.v, Var):
        zero = Const(k.S.VALUE, k.S.ZERO)
        for slot in t.sve_state.all_slots():
            k.set(slot, zero)
    k.update_tsk_thread_flag(child, "TIF_SVE", False)
    _set_fp_type(k, child, "FPSIMD")


def _copy_kernel_fpstate(k: Ctx, child: int) -> None:
    """The part of ``*dst = *src`` that only v6.8+ has: TIF_KERNEL_FPSTATE,
    thread.kernel_fpsimd_state and kernel_fpsimd_cpu are copied with the rest of the
    task_struct.  The parent forks from its syscall (pc KERNEL), outside any kernel-mode
    NEON section, so they are its dead values (flag clear, state canonical: see
    forget_dead_kernel_state); copied as they are."""
    src, dst = k.cur, k.task(child)
    if dst.kernel_state is None or src.kernel_state is None:
        return
    k.update_tsk_thread_flag(child, "TIF_KERNEL_FPSTATE",
                             k.test_thread_flag("TIF_KERNEL_FPSTATE"))
    with k.atomic():
        for d, s_ in zip(dst.kernel_state.slots(), src.kernel_state.slots(), strict=True):
            k.set(d, s_)
        k.set(dst.kernel_fpsimd_cpu, src.kernel_fpsimd_cpu)


def _dup_sme_v68(k: Ctx, child: int) -> None:
    """The SME statements of arch_dup_task_struct() (v6.8-v6.15, read in v6.10.0; not a C
    function): ``*dst = *src`` copied TIF_SME and thread.svcr (SM and ZA); "in the unlikely
    event that we create a new thread with ZA enabled", if thread_za_enabled(&src->thread)
    dst gets a zeroed sve_state (the model's NULL buffer is zero too) and a kmemdup() of
    src's sme_state (the ZA contents, relabelled as the child's own: `Ctx.copy_as_child`);
    else dst's sme_state = NULL and TIF_SME is cleared.  Allocation failure (-ENOMEM) is
    not modelled."""
    src, dst = k.cur, k.task(child)
    k.update_tsk_thread_flag(child, "TIF_SME", k.test_thread_flag("TIF_SME"))
    k.set(dst.svcr_sm, src.svcr_sm)
    k.set(dst.svcr_za, src.svcr_za)
    with k.If(src.svcr_za.eq(1)):
        k.copy_as_child(dst.sme_state, src.sme_state, k.current, child)
    with k.Else():
        k.set(dst.sme_state, Const(k.S.VALUE, k.S.ZERO))
        k.update_tsk_thread_flag(child, "TIF_SME", False)
    _child_sme_ghosts(k, child)


def _child_sme_ghosts(k: Ctx, child: int) -> None:
    """Ghosts (not kernel code): the child returns from fork(): by the syscall ABI it runs
    with PSTATE.SM clear; it inherits its parent's ZA (sme.rst: a fork()ed child inherits
    ZA; a CLONE_VM clone is not modelled), so it must run with the parent's PSTATE.ZA and
    read the parent's ZA (relabelled as the child's, as its V registers are)."""
    src, dst = k.cur, k.task(child)
    with k.atomic():
        k.set(dst.sm_expected, 0)
        k.set(dst.za_expected, src.za_expected)
        k.set(dst.za_written, src.za_written)


def _dup_sme_v616(k: Ctx, child: int) -> None:
    """The SME statements of arch_dup_task_struct() and copy_thread() (v6.16 [I], read in
    v6.18.2; not a C function): task_smstop_sm(dst) (if dst's copied svcr has SM: its
    uw.fpsimd_state V zeroed, FPSR the SMSTOP value (token zero), FPMR 0 with
    Config.fpmr, SM cleared, fp_type FPSIMD); dst->thread.sme_state = NULL, TIF_SME cleared,
    svcr.ZA cleared; then copy_thread() for a fork without CLONE_VM (the model's):
    copy_thread_za(): if thread_za_enabled(&src->thread), a zeroed sve_state, a kmemdup()
    of sme_state (relabelled as the child's), TIF_SME set, svcr.ZA set.  (A CLONE_VM clone
    gets TPIDR2 0 and WARN_ON_ONCE(svcr.ZA): not modelled.)"""
    src, dst = k.cur, k.task(child)
    zero = Const(k.S.VALUE, k.S.ZERO)
    k.set(dst.svcr_sm, src.svcr_sm)
    with k.If(dst.svcr_sm.eq(1)):  # task_smstop_sm(dst)
        k.set(dst.uw.v, zero)
        k.set(dst.uw.fpsr, zero)  # FPSR only: FPCR kept
        if k.config.fpmr:
            k.set(dst.uw.fpmr, zero)
        k.set(dst.svcr_sm, False)
        _set_fp_type(k, child, "FPSIMD")
    k.set(dst.sme_state, zero)
    k.update_tsk_thread_flag(child, "TIF_SME", False)
    k.set(dst.svcr_za, False)
    with k.If(src.svcr_za.eq(1)):  # copy_thread() -> copy_thread_za()
        k.copy_as_child(dst.sme_state, src.sme_state, k.current, child)
        k.update_tsk_thread_flag(child, "TIF_SME", True)
        k.set(dst.svcr_za, True)
    _child_sme_ghosts(k, child)


def arch_dup_task_struct_v68(k: Ctx, child: int) -> None:
    """arch/arm64/kernel/process.c (v6.8-v6.15): arch_dup_task_struct(dst, src), in the
    parent's clone()/fork() syscall (IRQs on, preemptible, bottom halves on).

    if (current->mm) fpsimd_preserve_current_state() (saves current's state only if it
    is live: TIF_FOREIGN_FPSTATE clear); ``*dst = *src`` (uw.fpsimd_state, the thread
    flags, fpsimd_cpu, sve_vl, ...); then dst's sve_state = NULL, TIF_SVE cleared,
    (ZA/SME: `_dup_sme_v68`) fp_type = FP_STATE_FPSIMD.  The child's V registers are
    therefore the parent's uw.fpsimd_state *as it is*: when the parent's saved state is
    SVE-format (fp_type FP_STATE_SVE, e.g. written by a tracer's NT_ARM_SVE at a
    syscall-entry stop, which also flushes it so the preserve saves nothing) its V bits
    are in sve_state and uw.fpsimd_state is stale (e0cb0f26594c "Consistently preserve
    FPSIMD state during clone()" fixed it in v6.16)."""
    if k.cur.mm:
        k.fpsimd_preserve_current_state()
    copy_task_struct(k, child)
    _copy_kernel_fpstate(k, child)
    _detach_child_fp(k, child)
    if k.config.sme:
        _dup_sme_v68(k, child)


def arch_dup_task_struct_v616(k: Ctx, child: int) -> None:
    """arch/arm64/kernel/process.c (v6.16 [I]: e0cb0f26594c and 8d61eef75679; read in
    v6.18.2): arch_dup_task_struct(dst, src): fpsimd_save_and_flush_current_state() ("may
    have been altered by ptrace after entry to the kernel"); sve_sync_to_fpsimd(src) (the
    effective V bits into uw.fpsimd_state when the saved state is SVE-format); ``*dst =
    *src``; fp_type = FP_STATE_FPSIMD, sve_state = NULL, TIF_SVE cleared (SME:
    `_dup_sme_v616`).  No current->mm test any more."""
    k.fpsimd_save_and_flush_current_state()
    k.sve_sync_to_fpsimd(k.current)
    copy_task_struct(k, child)
    _copy_kernel_fpstate(k, child)
    _detach_child_fp(k, child)
    if k.config.sme:
        _dup_sme_v616(k, child)


def copy_thread_v6(k: Ctx, child: int) -> None:
    """arch/arm64/kernel/process.c (v6.8-v6.16): copy_thread(p, args), its FP part:
    fpsimd_flush_task_state(p) (fpsimd_cpu = NR_CPUS and, in v6, TIF_FOREIGN_FPSTATE: p
    may reuse a recently exited task's task_struct).  TIF_SVE and sve_state are dealt
    with in arch_dup_task_struct() since v5.x (ZA and SME there: `_dup_sme_v68`,
    `_dup_sme_v616` with v6.16's copy_thread_za()); TPIDR2, POE and GCS: not
    modelled."""
    k.fpsimd_flush_task_state(child)


# ------------------------------------------------------ arch/arm64/kvm: PSCI CPU_ON reset
def kvm_psci_vcpu_on_v6(k: Ctx, source: int, target: int) -> None:
    """arch/arm64/kvm/psci.c (v6.8-v6.16, the same text as v5.0's): kvm_psci_vcpu_on(): under
    the target's mp_state_lock, if it is stopped (the step is enabled only then): fill
    reset_state (pc, be, r0: no FP), reset = true, kvm_make_request(KVM_REQ_VCPU_RESET,
    target), smp_wmb(), mp_state = KVM_MP_STATE_RUNNABLE (the model's power_off cleared),
    kvm_vcpu_wake_up().  The target's registers are not touched here: it resets itself."""
    k.set(k.vcpu(target).reset_pending, True)
    k.set(k.vcpu(target).power_off, False)


def kvm_reset_vcpu_v6(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/reset.c (v6.8-v6.16): kvm_reset_vcpu(), from the vcpu's own thread
    (check_vcpu_requests() in the run loop, vcpu loaded; or the KVM_SET_ONE_REG/GET_ONE_REG
    ioctl's pending-reset check, vcpu not loaded): take reset_state under mp_state_lock
    (no FP); kvm_pmu_vcpu_reset(); preempt_disable(); loaded = (vcpu->cpu != -1): the
    model's "current has this vcpu loaded" (only the vcpu's own thread gets here); if
    loaded kvm_arch_vcpu_put() (its put_fp saves and flushes a guest-owned state: for an
    SVE vcpu into vcpu->arch.sve_state through the binding ctxsync made, after v6.13's
    ZCR_EL1 save); an SVE vcpu, finalized (the model's vcpus have run, and KVM_RUN refuses
    an unfinalized one: kvm_vcpu_initialized()/kvm_arm_vcpu_is_finalized()), gets
    kvm_vcpu_reset_sve(): memset of vcpu->arch.sve_state (Z0-Z31 at its max VL, P0-P15,
    FFR); memset of the core registers and of vcpu->arch.ctxt.fp_regs (FPSR/FPCR, and the
    vregs an SVE vcpu does not use); kvm_reset_sys_regs(): FPEXC32_EL2 and, for an SVE
    vcpu, ZCR_EL1 = 0 (sys_regs.c: its descriptor's reset_val 0; LEN 0 is the model's
    smallest length); if loaded kvm_arch_vcpu_load(); preempt_enable().  The new register
    values are a new generation of the guest's state (as in the 2018 model), P/FFR with
    them.  Read for SVE vcpus in reset.c and sys_regs.c of v6.13.7 and v6.14.0 (the same
    text for these statements; v6.14 only moves GUEST_HAS_SVE to a VM flag)."""
    loaded = k.let("loaded", k.cur.loaded_vcpu.eq(vcpu + 1))
    k.preempt_disable()
    with k.If(loaded.eq(1)):
        k.kvm_arch_vcpu_put(vcpu)
    vcpu_fp_write_memory(k, vcpu)
    zcr = k.vcpu(vcpu).zcr_el1
    if isinstance(zcr, Var):  # kvm_reset_sys_regs(): ZCR_EL1's reset_val
        k.set(zcr, 0)
    with k.If(loaded.eq(1)):
        k.kvm_arch_vcpu_load(vcpu)
    k.preempt_enable()


def kvm_arch_vcpu_ioctl_run_enter_guest_v6(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/arm.c (v6.8-v6.16): kvm_arch_vcpu_ioctl_run(), one loop iteration:
    xfer_to_guest_mode_handle_work() (a pending signal ends the loop: the enter step's
    bail-out input), then check_vcpu_requests() (KVM_REQ_SLEEP: the enter step's power_off
    condition; KVM_REQ_VCPU_RESET: kvm_reset_vcpu()), then from preempt_disable() to the
    guest entry as modelled in model/variants/v6.py.  Without event vcpu_reset no reset
    request exists and check_vcpu_requests() emits nothing."""
    from model.variants.v6 import kvm_arch_vcpu_ioctl_run_enter_guest

    k.check_vcpu_requests(vcpu)
    kvm_arch_vcpu_ioctl_run_enter_guest(k, vcpu)


def kvm_vcpu_ioctl_set_one_reg_v6(k: Ctx, vcpu: int) -> None:
    """virt/kvm/kvm_main.c kvm_vcpu_ioctl(KVM_SET_ONE_REG) -> arch/arm64/kvm/arm.c
    kvm_arch_vcpu_ioctl() (v6.8-v6.16): under vcpu->mutex, no vcpu_load(); "We could owe
    a reset due to PSCI": if kvm_check_request(KVM_REQ_VCPU_RESET), kvm_reset_vcpu() (the
    vcpu is not loaded); then kvm_arm_set_reg()."""
    v = k.vcpu(vcpu)
    k.el0_svc()
    k.mutex_lock(v.mutex, "&vcpu->mutex")
    if isinstance(v.reset_pending, Var):
        with k.If(v.reset_pending.eq(1)):
            k.set(v.reset_pending, False)
            k.kvm_reset_vcpu(vcpu)
    k.kvm_arm_set_reg(vcpu)
    k.mutex_unlock(v.mutex, "&vcpu->mutex")


def kvm_arch_vcpu_ioctl_vcpu_init_v6(k: Ctx, vcpu: int) -> None:
    """virt/kvm/kvm_main.c kvm_vcpu_ioctl(KVM_ARM_VCPU_INIT) -> arch/arm64/kvm/arm.c
    kvm_arch_vcpu_ioctl_vcpu_init() (read in v6.8.0, v6.10.0, v6.13.7, v6.14.0 and
    v6.18.2), on a vcpu that has run (the VMM's guest reset, e.g. QEMU's system reset),
    under vcpu->mutex and without vcpu_load() (the vcpu is not loaded: kvm_reset_vcpu()
    finds vcpu->cpu == -1):

    * kvm_vcpu_set_target(): the vcpu is initialised and its features unchanged, so
      kvm_reset_vcpu() (`kvm_reset_vcpu_v6`: the guest's FP registers zeroed, a new
      generation);
    * stage-2 unmap or I-cache invalidation, vcpu_reset_hcr(): no FP state;
    * v6.8-v6.13: vcpu->arch.cptr_el2 = kvm_get_reset_cptr_el2(vcpu) (asm/kvm_emulate.h),
      which on nVHE (not hVHE) is CPTR_NVHE_EL2_RES1 plus TZ if vcpu_has_sve() and
      guest_owns_fp_regs(): v6.8/v6.9 read the vcpu's own fp_state, which the last
      kvm_arch_vcpu_put_fp() left GUEST_OWNED if the guest used FP; v6.10-v6.13 read the
      per-CPU host_data->fp_owner of the CPU running the ioctl, left by whichever vcpu
      ran there last.  nVHE __activate_traps() starts from that value on every guest entry
      (`model.variants.v6.__activate_traps`).  v6.14 removed the field (2fd5b4b0e7b4
      "KVM: arm64: Calculate cptr_el2 traps on activating traps", whose message says
      the traps must be set on every run); v6.1's init writes the constant
      CPTR_EL2_DEFAULT (no TZ).  The variable exists with state feature vcpu_cptr_el2,
      SVE vcpus and nVHE (`model.state.VcpuVars` field cptr_el2_tz).
    * the "start in power-off" feature bit is not modelled: the VMM resets every vcpu
      runnable (mp_state KVM_MP_STATE_RUNNABLE: the model's power_off cleared).  A pending
      KVM_REQ_VCPU_RESET stays pending (nothing here clears requests)."""
    v = k.vcpu(vcpu)
    k.el0_svc()
    k.mutex_lock(v.mutex, "&vcpu->mutex")
    k.kvm_reset_vcpu(vcpu)
    if isinstance(v.cptr_el2_tz, Var):
        k.set(v.cptr_el2_tz, k.guest_owns_fp_regs(vcpu) if k.vcpu_has_sve(vcpu) else False)
    if isinstance(v.power_off, Var):  # mp_state = KVM_MP_STATE_RUNNABLE
        k.set(v.power_off, False)
    k.mutex_unlock(v.mutex, "&vcpu->mutex")


def kvm_arm_set_reg_v6(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/guest.c (v6.8-v6.16; SVE vcpus read in v6.13.7 and v6.14.0, whose
    guest.c differs only in kvm_arch_vcpu_ioctl_set_guest_debug()): kvm_arm_set_reg(), the
    FP registers the VMM's KVM_SET_ONE_REG calls can write, one step for all of them (a
    new generation of the guest's FP state, as in the 2018 model):

    * set_core_reg(): fp_regs.fpsr/fpcr and, for a vcpu without SVE, fp_regs.vregs[n];
      for an SVE vcpu core_reg_size_from_offset() refuses the V registers (-EINVAL: "the
      KVM_REG_ARM64_SVE regs must be used instead"), so fp_regs.vregs is not written;
    * set_sve_reg() (KVM_REG_ARM64_SVE, SVE vcpus only): sve_reg_to_region() maps Z0-Z31
      (the whole register at vcpu_sve_max_vq(): the V slice and the bits above 127) and
      P0-P15/FFR (slice 0 only) into vcpu->arch.sve_state; -EPERM unless
      kvm_arm_vcpu_sve_finalized() (the model's vcpus are finalized: KVM_RUN refuses an
      unfinalized one); copy_from_user() into sve_state.  (KVM_REG_ARM64_SVE_VLS:
      set_sve_vls() returns -EPERM once finalized: no effect.)
    * kvm_arm_sys_reg_set_reg(): FPEXC32_EL2 of an AArch32 guest, FPMR (v6.12+, a VM with
      FPMR), and ZCR_EL1 of an SVE vcpu (sve_visibility(); no set_user: kvm_sys_reg_set_user()
      stores the value in __vcpu_sys_reg(vcpu, ZCR_EL1)).  With several vector lengths the
      VMM may leave ZCR_EL1 alone or write any length up to the vcpu's max (a larger LEN
      is the max in effect: the effective-VL rule caps it by ZCR_EL2).

    The vcpu is not loaded (no vcpu_load() in kvm_arch_vcpu_ioctl(), and KVM_RUN, which
    holds vcpu->mutex while the vcpu is loaded, is not running): memory only."""
    v = k.vcpu(vcpu)
    vcpu_fp_write_memory(k, vcpu, core_v=v.sve_state is None)
    if isinstance(v.zcr_el1, Var):
        _vmm_write_zcr_el1(k, v.zcr_el1, k.config.vcpu_max_vl_index)


def _vmm_write_zcr_el1(k: Ctx, zcr: Var, max_index: int) -> None:
    """The VMM's KVM_SET_ONE_REG of ZCR_EL1 (a helper of the model): nothing, or one
    length up to ``max_index`` (a chain of environment choices)."""
    with k.If(k.nondet("the VMM writes ZCR_EL1")), ExitStack() as chain:
        for vl in range(max_index):
            with k.If(k.nondet(f"ZCR_EL1.LEN is VL {vl}")):
                k.set(zcr, vl)
            chain.enter_context(k.Else())
        k.set(zcr, max_index)


# -------------------------------------------------- prctl(PR_SVE_SET_VL): VL changes (SVE)
def _vl_change_ghost(k: Ctx, task) -> None:  # noqa: ANN001
    """Ghost, as in the 2018 model (model.kernel.fpsimd.sve_set_vector_length): after a VL
    change all of P0-P15, FFR and the Z bits above 127 are unspecified (sve.rst section
    6; the model's reading: Z-high zero, P/FFR undefined)."""
    with k.atomic():
        k.set(task.zhi_expected, 0)
        k.set(task.p_written, 0)


def sve_set_vector_length_v68(k: Ctx, t: int, vl: int) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.8-v6.15): vec_set_vector_length(task, ARM64_VEC_SVE, vl,
    0) (the model's table keeps the 2018 name), without flags (ONEXEC/INHERIT: not
    modelled, as in 2018), ``vl`` already a supported length.  If it is the task's VL:
    nothing.  Else: for task == current, get_cpu_fpsimd_context() and
    fpsimd_save_user_state() (in the prctl syscall: FPSIMD-only while in_syscall(), up to
    v6.15); fpsimd_flush_task_state(task); if test_and_clear_tsk_thread_flag(TIF_SVE):
    sve_to_fpsimd(task) (the low 128 bits of sve_state into uw.fpsimd_state, whatever
    fp_type says) and fp_type = FP_STATE_FPSIMD; (its SME block: with Config.sme the
    table has model/variants/v6_sme.py vec_set_vector_length_v68) put the context;
    task_set_vl(); sve_free(task) (WARN_ON(TIF_SVE)); sve_alloc(task, true) (a zeroed
    buffer at the new size: the model's sve_state is zero either way)."""
    task = k.task(t)
    if not isinstance(task.sve_vl, Var):
        return
    with k.If(task.sve_vl.ne(vl)):
        if t == k.current:
            k.local_bh_disable()
            k.fpsimd_save_user_state()
        k.fpsimd_flush_task_state(t)
        with k.If(k.test_tsk_thread_flag(t, "TIF_SVE")):
            k.update_tsk_thread_flag(t, "TIF_SVE", False)
            k.sve_to_fpsimd(t)
            _set_fp_type(k, t, "FPSIMD")
        if t == k.current:
            k.local_bh_enable()
        k.set(task.sve_vl, vl)
        k.sve_free(t)
        k.sve_alloc(t)
        _vl_change_ghost(k, task)


def sve_set_vector_length_v616(k: Ctx, t: int, vl: int) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.16 [I]: 49ce484187f7 "ptrace/prctl: Ensure VL changes do
    not resurrect stale data" and b87c8c4aca11 of the v6.16-rc1 merge; read in v6.18.2):
    vec_set_vector_length() -> change_live_vector_length(task, ARM64_VEC_SVE, vl): a new
    zeroed sve_state is allocated first; for task == current
    fpsimd_save_and_flush_current_state() (else fpsimd_flush_task_state(task));
    fpsimd_sync_from_effective_state(task) (the V bits of an SVE-format state into
    uw.fpsimd_state); task_set_vl(); the new buffer replaces sve_state;
    fpsimd_sync_to_effective_state_zeropad(task) (if fp_type is SVE, V zero-padded into
    it).  TIF_SVE and fp_type are left as they were."""
    task = k.task(t)
    if not isinstance(task.sve_vl, Var):
        return
    with k.If(task.sve_vl.ne(vl)):
        change_live_vector_length_v616(k, t, task.sve_vl, vl)
        _vl_change_ghost(k, task)


def change_live_vector_length_v616(k: Ctx, t: int, task_vl: Var, vl: int) -> None:
    """What v6.16's change_live_vector_length() does for either type (the caller has
    tested that the length changes; ``task_vl`` is the task's length of that type): for
    task == current fpsimd_save_and_flush_current_state(), else
    fpsimd_flush_task_state(task); fpsimd_sync_from_effective_state(task); task_set_vl();
    the new zeroed sve_state; fpsimd_sync_to_effective_state_zeropad(task).  The SME
    type's ZA and sme_state: `model.variants.v6_sme.sme_set_vector_length_v616`."""
    task = k.task(t)
    if t == k.current:
        k.fpsimd_save_and_flush_current_state()
    else:
        k.fpsimd_flush_task_state(t)
    k.sve_sync_to_fpsimd(t)
    k.set(task_vl, vl)
    zero = Const(k.S.VALUE, k.S.ZERO)
    for slot in task.sve_state.all_slots():
        k.set(slot, zero)
    k.sve_sync_from_fpsimd_zeropad(t)


def sve_sync_from_fpsimd_zeropad_v68(k: Ctx, t: int) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.8-v6.15, read in v6.10.0): sve_sync_from_fpsimd_zeropad(
    task) (ptrace only): return unless TIF_SVE or thread_sm_enabled() (the SME test the
    2018 function lacks); zero sve_state (Z, P/FFR) and copy uw.fpsimd_state's V into the
    low 128 bits (at the task's current VL: one VL per kind)."""
    if not (k.config.sve or k.config.sme):
        return
    task = k.task(t)
    cond = k.test_tsk_thread_flag(t, "TIF_SVE")
    if k.config.sme:
        cond = cond | task.svcr_sm.eq(1)
    zero = Const(k.S.VALUE, k.S.ZERO)
    with k.If(cond):
        for slot in task.sve_state.all_slots():
            k.set(slot, zero)
        k.set(task.sve_state.v, task.uw.v)


def sve_sync_from_fpsimd_zeropad_v616(k: Ctx, t: int) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.16 [I]: b255be426913 "Clarify sve_sync_*() functions",
    read in v6.18.2 as fpsimd_sync_to_effective_state_zeropad()): if the task's fp_type is
    FP_STATE_SVE (up to v6.15: TIF_SVE or streaming mode), zero its sve_state and copy
    uw.fpsimd_state's V into the low 128 bits."""
    if not (k.config.sve or k.config.sme):
        return
    task = k.task(t)
    zero = Const(k.S.VALUE, k.S.ZERO)
    with k.If(_fp_type_sve(k, t)):
        for slot in task.sve_state.all_slots():
            k.set(slot, zero)
        k.set(task.sve_state.v, task.uw.v)


V68_FUNCTIONS = {
    "fpsimd_preserve_current_state": fpsimd_preserve_current_state_v6,
    "fpsimd_signal_preserve_current_state": fpsimd_signal_preserve_current_state_v68,
    "sve_sync_to_fpsimd": sve_sync_to_fpsimd_v6,
    "fpsimd_flush_thread": fpsimd_flush_thread_v6,
    "fpsimd_cpu_pm_notifier": fpsimd_cpu_pm_notifier_v6,
    "preserve_fpmr_context": preserve_fpmr_context_v69,
    "restore_fpmr_context": restore_fpmr_context_v69,
    "preserve_sve_context": preserve_sve_context_v6,
    "restore_fpsimd_context": restore_fpsimd_context_v6,
    "restore_sve_fpsimd_context": restore_sve_fpsimd_context_v68,
    "arch_dup_task_struct": arch_dup_task_struct_v68,
    "sve_sync_from_fpsimd_zeropad": sve_sync_from_fpsimd_zeropad_v68,
    "copy_thread": copy_thread_v6,
    "kvm_psci_vcpu_on": kvm_psci_vcpu_on_v6,
    "check_vcpu_requests": check_vcpu_requests,
    "kvm_reset_vcpu": kvm_reset_vcpu_v6,
    "kvm_arch_vcpu_ioctl_run_enter_guest": kvm_arch_vcpu_ioctl_run_enter_guest_v6,
    "kvm_vcpu_ioctl_set_one_reg": kvm_vcpu_ioctl_set_one_reg_v6,
    "kvm_arch_vcpu_ioctl_vcpu_init": kvm_arch_vcpu_ioctl_vcpu_init_v6,
    "kvm_arm_set_reg": kvm_arm_set_reg_v6,
    "sve_set_vector_length": sve_set_vector_length_v68,
    "preserve_za_context": preserve_za_context_v68,
    "setup_return": setup_return_v68,
    "restore_za_context": restore_za_context_v68,
}
# Functions V68_FUNCTIONS adds that the 2018 table does not have.
V68_NEW = ["check_vcpu_requests", "kvm_arch_vcpu_ioctl_vcpu_init", "preserve_fpmr_context",
           "restore_fpmr_context", "preserve_za_context", "setup_return",
           "restore_za_context"]

V616_FUNCTIONS = {
    "fpsimd_update_current_state": fpsimd_update_current_state_v616,
    "preserve_fpsimd_context": preserve_fpsimd_context_v616,
    "setup_rt_frame": setup_rt_frame_v616,
    "restore_sve_fpsimd_context": restore_sve_fpsimd_context_v616,
    "restore_sigframe": restore_sigframe_v616,
    "forget_syscall": forget_syscall_v616,
    "preserve_fpmr_context": preserve_fpmr_context_v616,
    "restore_fpmr_context": restore_fpmr_context_v616,
    "fpsimd_flush_thread": fpsimd_flush_thread_v616,
    "arch_dup_task_struct": arch_dup_task_struct_v616,
    "sve_set_vector_length": sve_set_vector_length_v616,
    "sve_sync_from_fpsimd_zeropad": sve_sync_from_fpsimd_zeropad_v616,
    "restore_fpsimd_context": restore_fpsimd_context_v616,
    "setup_return": setup_return_v616,
    "restore_za_context": restore_za_context_v616,
    # removed by 929fa99b1215 (v6.16): a stray call is a build error
    "fpsimd_signal_preserve_current_state": None,
}
