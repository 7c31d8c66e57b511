"""SME (the Scalable Matrix Extension) on the v6 variants where it is reachable: v6.8-v6.10, v6.16.

``--sme`` (Config.sme) is ``system_supports_sme()``; with or without ``--sve`` (Apple M4 has
SME without non-streaming SVE).  Read where:

* v6.8.0 and v6.9.0 (the v6 variants' trees): every SME path above is v6.10's, compared
  function by function (v6.9's fpsimd.c differs only in fpsimd_thread_switch(), by
  e92bee9f861b; v6.8's only by FPMR; fp_user_discard() is identical), so v6.8 and v6.9
  take these functions too;
* v6.10.0: msgeden/cryptocap-arm64-linux-6.10 @ fabd51deb839 (the v6 variants' tree):
  arch/arm64/kernel/fpsimd.c (task_fpsimd_load, fpsimd_save_user_state,
  fpsimd_bind_task_to_cpu, fpsimd_flush_cpu_state, fpsimd_thread_switch, do_sme_acc,
  sme_alloc, kernel_neon_begin), arch/arm64/kernel/entry-common.c (fp_user_discard),
  arch/arm64/include/asm/fpsimd.h (sme_smstop, sme_smstop_sm, sme_user_enable/disable,
  thread_sm_enabled, thread_za_enabled, sve_pffr);
* v6.16: the v6.18.2 snapshot (gfunkmonk/linux-6.18.2 @ 062668f4d006), whose
  task_fpsimd_load, fpsimd_save_user_state, fpsimd_bind_task_to_cpu,
  fpsimd_flush_cpu_state, fpsimd_thread_switch and do_sme_acc are those of the index
  copies torvalds/linux fpsimd.c @ 01098d893fa8 (#21's fix) and @ d3eaab3c7090 (#14's fix)
  as far as SME goes (model/variants/v6_16.py says which v6.16 text was compared with
  v6.18.2); v6.16's fpsimd_syscall_enter() (entry-common.c @ 398edaa12f9c) begins with
  sme_smstop_sm().

SME is ``depends on BROKEN`` in mainline from v6.12-rc7 (81235ae0c846) until v6.16-rc1
(33c4618d0ac0): ``--sme`` is refused on v6.12, v6.13 and v6.14 (Kconfig cannot select it).
Accepted on v6.8, v6.9, v6.10, v6.16 (and v6.16-ptrace-fixes).

What is modelled (state in model/state.py, Config.sme):

* per CPU: PSTATE.SM and PSTATE.ZA (SVCR), the ZA array (one value slot: every save and
  load moves the whole of ZA, so by data independence one token stands for all its rows),
  CPACR_EL1.SMEN_EL0EN (0: EL0 SME instructions trap to EL1, do_sme_acc());
* per task: TIF_SME, thread.svcr (SM and ZA bits), thread.sme_state (ZA);
  thread.sve_state (Z, P) and fp_type as for SVE (a streaming-mode save is in SVE
  format); the cpu_fp_state fields fpsimd_bind_task_to_cpu() records (sme_state, svcr,
  sme_vl) follow from ``last->st`` as sve_state and fp_type already do (which task is
  bound);
* the streaming vector length (SVL): one for every task by default; with ``--sme-vls``
  (Config.sme_vls, two or three powers of two) each task's thread.vl[ARM64_VEC_SME]
  (``sme_vl``) and each CPU's SMCR_EL1.LEN (``smcr``) are enum state, as ``--sve-vls``
  does for SVE (below, "Several streaming vector lengths"); no SME2 (ZT0: every
  ZA save/load path saves or loads ZT0 next to ZA under the same condition
  (system_supports_sme2()), so it would move exactly as ZA does and add no case); no
  FEAT_SME_FA64 (in streaming mode FFR is neither saved nor loaded, and not accessible to
  EL0: the P slice stands for P0-P15 there); FPMR with ``--fpmr`` (below);
* the architectural effect of changing PSTATE.SM (Arm ARM, "Changes to PSTATE.SM"; the
  kernel's comment in fpsimd_flush_cpu_state() and sme.rst: "entering or exiting streaming
  mode ... all register state is zeroed"): Z0-Z31 (so V0-V31), P0-P15 and FFR become zero
  and FPSR its reset value (token 0 in the FPSR slice), FPCR keeps its value (with SME
  FPCR is a slice of its own, model/state.py `Image.fpcr`), and FPMR 0 if implemented;
  PSTATE.ZA 0->1 zeroes ZA; ZA 1->0 makes it inaccessible (left as it is);
* user code: SMSTART/SMSTOP (any SM/ZA target, step ``user_svcr_write``), streaming SVE
  writes of Z/P, ZA writes, and the EL0 SME trap (``user_sme_trap`` -> do_sme_acc(),
  preemptible after its allocations at program point SME_ACC, ``sme_acc``);
* kernel paths: task_fpsimd_load (SVCR write, ZA load, streaming load in SVE format),
  fpsimd_save_user_state (SVCR and ZA save, streaming save in SVE format),
  fpsimd_bind_task_to_cpu (SMEN_EL0EN from TIF_SME), fpsimd_flush_cpu_state
  (sme_smstop()), through it kernel_neon_begin() and fpsimd_thread_switch() (#21), the
  syscall entry (v6.10 fp_user_discard(), v6.16 fpsimd_syscall_enter(): sme_smstop_sm(),
  ZA kept), do_sme_acc() (#14), and kernel-mode NEON, which must run with PSTATE.SM
  clear (Advanced SIMD instructions are illegal in streaming mode without FA64: an EL1
  undefined-instruction oops, a BUG here).

A context's own SMSTART/SMSTOP, and the syscall ABI's SMSTOP SM at syscall entry
(Documentation/arch/arm64/sme.rst: PSTATE.SM is cleared on syscall entry, ZA is
preserved), are writes of that context: the ghost state says the task must now read zero
(``expect_zero``) and runs with the new SM/ZA.  The kernel zeroing a context's unsaved
live state (e.g. fpsimd_flush_cpu_state()'s SMSTOP over data it has just loaded) is loss.

KVM (vcpus with SME; guests never have SME, as in every modelled release):

* v6.8-v6.13 kvm_arch_vcpu_load_fp(): HOST_SME_ENABLED = SMEN_EL0EN (a state variable with
  VHE only: nothing reads it with nVHE); if SVCR.SM or SVCR.ZA, the owner becomes
  FP_STATE_FREE and fpsimd_save_and_flush_cpu_state() (`kvm_arch_vcpu_load_fp_sme`);
  kvm_arch_vcpu_put_fp(): with VHE, SMEN_EL0EN = HOST_SME_ENABLED
  (`kvm_arch_vcpu_put_fp_sme`); v6.14 on (so v6.16): both gone, load_fp saves and flushes
  unconditionally, then WARN_ON_ONCE(system_supports_sme() && SVCR)
  (model/variants/v6.py kvm_arch_vcpu_load_fp_v614);
* hyp: VHE __activate_traps() clears CPACR_EL1.SMEN and the exit's reset value has
  SMEN_EL1EN only (model/variants/v6.py __activate_traps, __deactivate_traps,
  __deactivate_traps_v614); nVHE sets CPTR_EL2.TSM for the guest and clears it at the
  exit, which is not state here: the host's own CPACR_EL1 is switched by the EL1 sysreg
  save/restore, and a guest's SME instruction or SVCR access traps to EL2 and gets an
  UNDEF (handle_exit.c kvm_handle_unknown_ec(), sys_regs.c undef_access for SVCR) with no
  FP effect: an exit without FP work, which guest_exit already covers.  So the guest never
  changes PSTATE.SM/ZA or ZA, and the properties require (no_loss) that a guest never runs
  with PSTATE.SM set (its Advanced SIMD instructions would be illegal there);
* AArch32 vcpus (``--aarch32-guest``): the SME statements above do not depend on the
  guest's execution state and the FPEXC32_EL2 ones (model/kernel/hyp_switch.py) do not
  depend on SME (read in v6.10.0 and v6.18.2), so the model composes them
  (tests/model/test_v6_sme_kvm.py);
* a save of a vcpu's binding (ctxsync: .svcr the vcpu's, .sme_state NULL, .sve_state NULL
  without vcpu SVE, .sme_vl uninitialised) with SVCR set is an oops or a SIGKILL: a BUG
  (`_save_vcpu_state_sme`); an SVE vcpu's (Config.sve_guest, to_save FP_STATE_SVE) is
  saved as SVE into vcpu->arch.sve_state outside streaming mode
  (tests/model/test_v6_sme_sve_guest.py).

EFI runtime services (event efi; fpsimd.c __efi_fpsimd_begin/__efi_fpsimd_end, the same
text in v6.8.0 and v6.10.0 and, but for the per-CPU buffers, v6.18.2): the kernel-NEON
path SMSTOPs through kernel_neon_begin(); the buffer path saves SVCR.SM in efi_sm_state,
saves Z/P (FFR only outside streaming mode), clears SM and sets it again before the reload,
but only with SVE: on an SME-only system it saves V with fpsimd_save_state() and leaves
PSTATE.SM set, so the firmware (an ordinary non-streaming function) runs in streaming
mode (`efi_firmware_fp_write_sme`: a BUG; found on every modelled version, SME without SVE
only; curated, counterexamples/README.md).  fpsimd_save_state() itself (STP of Q registers,
MRS FPSR/FPCR) is legal in streaming mode; the firmware's Advanced SIMD vector instructions
are not.  No upstream fix: Ard Biesheuvel's "arm64/efi: Remove unneeded SVE/SME fallback
preserve/store handling" (committed 2025-12-15, after v6.18) removes the SM handling on SVE
systems too.  ZA is left alone on both paths.

Signal delivery and sigreturn with SME: model/variants/v6_events.py.

The tracer's NT_ARM_SVE, NT_ARM_SSVE and NT_ARM_ZA writes with SME:
model/variants/v6_ptrace.py.

FEAT_FPMR with SME (``--sme --fpmr``: v6.9, v6.10, v6.16; v6.8 has no FPMR code).  The
rule relied on: e5fa85fce08b "arm64/fpsimd: Don't corrupt FPMR when streaming mode changes"
(Mark Brown, rewritten by Mark Rutland; v6.16-rc1, backported to 6.12.y and 6.15.y; read
in its 6.15-stable posting) quotes ARM DDI 0487 L.a: when the effective PSTATE.SM changes
"by any method" the SVE vector and predicate registers and FFR are zeroed, FPSR is set to
0x0800009f and "FPMR is set to 0, if FPMR is implemented"; v6.16's task_smstop_sm()
(fpsimd.c, read in v6.18.2), the kernel's simulation of SMSTOP SM on a saved state,
zeroes thread.uw.fpmr alongside the V registers.  So:

* `sme_write_svcr` (every SM change the model makes: task_fpsimd_load()'s SVCR write,
  sme_smstop()/sme_smstop_sm() from fpsimd_flush_cpu_state(), kernel_neon_begin(), the
  syscall entry, v6.10's signal delivery and KVM's vcpu load, the EFI buffer path's two
  SVCR writes, user SMSTART/SMSTOP) resets the live FPMR;
* task_fpsimd_load(): v6.9/v6.10 (and up to v6.15) restore FPMR first, before the SVCR
  write (read in v6.9.0, v6.10.0, v6.14.0), so a reload whose SVCR.SM differs from the
  CPU's PSTATE.SM zeroes the FPMR it just restored: found by no_loss (10 steps, one CPU,
  two tasks: counterexamples/README.md); v6.16 restores it after SVCR (e5fa85fce08b; the
  order read in the index copy fpsimd.c @ 398edaa12f9c and in v6.18.2);
* fpsimd_save_user_state(): *(last->fpmr) = FPMR right after the TIF_FOREIGN_FPSTATE test,
  in every version (`model.variants.v6.fpmr_save`), so a save before an SMSTOP keeps it;
* the ghosts: a task's own SM change, the syscall ABI's SMSTOP SM and the handler entry
  after a streaming-mode signal make it expect a zero FPMR with its zero V (`expect_zero`,
  and the exec event's FPMR ghost with it); the SME signal frame's fpmr_context is checked;
* v6.16's task_smstop_sm() (signal delivery, fork's arch_dup_task_struct()) zeroes
  thread.uw.fpmr (model/variants/v6_events.py);
* ptrace: NT_ARM_SVE/NT_ARM_SSVE/NT_ARM_ZA writes that change the tracee's SVCR.SM leave
  thread.uw.fpmr alone in every version (78b23877dbba, "kselftest/arm64: fp-ptrace: Fix
  expected FPMR value when PSTATE.SM is changed": "ptrace has never altered FPMR in this
  way"), so model/variants/v6_ptrace.py has no FPMR statement; the tracee's reload then
  restores it (before SVCR in v6.9/v6.10: the same loss);
* the EFI buffer path (`__efi_fpsimd_begin_sme`) saves no FPMR (v6.8.0-v6.18.2) while its
  SVCR writes reset it;
* KVM: the SME block of vcpu load saves (FPMR included, through the binding's fpmr
  pointer) before its SMSTOP; hyp moves FPMR only for a VM with FPMR (v6.12 on), never
  with SME on the guest side.

Several streaming vector lengths (``--sme-vls``; read in v6.10.0 and v6.18.2, v6.8.0 for
vec_set_vector_length(); `--sve-vls` combines with it: the SVE and SME sets are separate
options because they are separate properties of a system, model/config.py Config):

* task_fpsimd_load(): if TIF_SME, sme_set_vq() at the task's SVL before the SVCR write
  (`_sme_load_part`), and in the FP_STATE_SVE case, if TIF_SVE, sve_set_vq() at its SVE VL
  (`_sve_set_vq_if_tif_sve`); do_sme_acc(): sme_set_vq() before the bind (`do_sme_acc_locked`);
* fpsimd_save_user_state(): vl = last->sme_vl in streaming mode, last->sve_vl otherwise,
  checked against RDVL (which reads the SVL in streaming mode): WARN, SIGKILL, no register
  save (SVCR and ZA are saved before it) (`sme_vl_check`);
* PR_SME_SET_VL (event ``sme_set_vl``, `sme_set_current_vl`): v6.8-v6.15
  `vec_set_vector_length_v68` (also PR_SVE_SET_VL with SME: its SME block), v6.16
  `sme_set_vector_length_v616` (change_live_vector_length());
* exec resets the SVL to the default (256 bits clamped, sme_setup()), fork copies it;
  SMCR_EL1.LEN boots at the smallest length; with nVHE SMCR_EL2.LEN stays at the maximum
  the EL2 init set and KVM never changes it (no SME guests), so SMCR_EL1 decides;
* no_loss: a task at EL0 with SME enabled runs at its own SVL
  (`properties.fp.sme_vl_readers`), and one at SVL 128 has no Z bits above 127 in streaming
  mode;
* a tracer's NT_ARM_ZA write at another SVL (step ptrace_za_set_vl, with events
  ptrace_fpr_set and sme_set_vl): `model.variants.v6_ptrace.za_set_at_vl`;
* a tracer's NT_ARM_SSVE write at another SVL (steps ptrace_ssve_set_vl*, event
  ptrace_sve_vl): `model.variants.v6_ptrace.sve_set_common_v68`;
* a VL change inside a signal handler: rt_sigreturn's test of the frame's SVL and its
  SIGSEGV (`model.kernel.signal.check_record`);
* not modelled: PR_SME_SET_VL_ONEXEC/PR_SME_VL_INHERIT.

SVE vcpus run with SME on v6.8-v6.10 and v6.16 (`_save_vcpu_state_sme`: bound with
to_save FP_STATE_SVE, saved at the vcpu's max VL).  Every optional
event runs with SME: exec, fork, ptrace_fpr_set,
ptrace_stop, signal, efi, cpu_pm and cpu_hotplug have their SME statements in
model/variants/v6_events.py and here; set_one_reg and vcpu_reset have none of their own
(KVM_SET_ONE_REG's syscall entry and kvm_reset_vcpu()'s put/load of a loaded vcpu are the
SME-aware el0_svc, kvm_arch_vcpu_put_fp and kvm_arch_vcpu_load_fp; arm.c and reset.c read
in v6.10.0 and v6.18.2).
"""

from __future__ import annotations

from collections.abc import Callable

from model.ctx import Ctx
from model.dsl import Const, Expr, Var, any_of
from model.kernel import efi, fpsimd
from model.state import P_ZERO
from model.variants import v6, v6_events, v6_ptrace


def _zero(k: Ctx) -> Const:
    return Const(k.S.VALUE, k.S.ZERO)


# ------------------------------------------------------------------ architectural helpers
def sme_write_svcr(k: Ctx, sm: Expr, za: Expr) -> None:
    """The architectural effect of a write of SVCR (MSR SVCR, SMSTART, SMSTOP; model helper,
    no C function): if PSTATE.SM changes, Z0-Z31 (hence V0-V31), P0-P15 and FFR are set to
    zero, FPSR to its reset value 0x0800009f (the FPSR slice gets token 0, which stands for
    that fixed value as for zero: no context's data), FPCR is left as it was (its own slice
    with SME, `model.state.Image.fpcr`, not written here) and, with FEAT_FPMR
    (Config.fpmr), FPMR is set to 0; if PSTATE.ZA goes from 0 to 1, ZA is zeroed; then SM
    and ZA take their new values.

    The rule (Arm ARM DDI 0487 L.a, entry to and exit from Streaming SVE mode) as quoted
    in e5fa85fce08b "arm64/fpsimd: Don't corrupt FPMR when streaming mode changes" (read
    in its 6.15-stable posting): when the effective PSTATE.SM changes "by any method",
    the SVE vector and predicate registers and FFR are zeroed, "FPSR is set to
    0x0000_0000_0800_009f" and "FPMR is set to 0, if FPMR is implemented".  v6.16's
    task_smstop_sm() (fpsimd.c, read in v6.18.2), the kernel's simulation of SMSTOP SM on
    a saved state, zeroes thread.uw.fpmr for the same reason.  Every path of the model
    that changes PSTATE.SM goes through here (SVCR writes in task_fpsimd_load(),
    sme_smstop()/sme_smstop_sm(), the EFI buffer path, user SMSTART/SMSTOP), so each one
    resets FPMR."""
    cpu = k.this_cpu
    regs = cpu.regs
    zero = _zero(k)
    with k.If(cpu.sm.ne(sm)):
        for slot in (regs.v, regs.fpsr, regs.zhi, regs.p, regs.fpmr):
            if isinstance(slot, Var):
                k.set(slot, zero)
    with k.If(cpu.za_on.eq(0) & za):
        k.set(cpu.za, zero)
    k.set(cpu.sm, sm)
    k.set(cpu.za_on, za)


def sme_smstop(k: Ctx) -> None:
    """arch/arm64/include/asm/fpsimd.h: sme_smstop(): MSR SVCRSMZA, #0 (SMSTOP): leave
    streaming mode and disable ZA."""
    k.sme_write_svcr(k.false, k.false)


def sme_smstop_sm(k: Ctx) -> None:
    """arch/arm64/include/asm/fpsimd.h: sme_smstop_sm(): MSR SVCRSM, #0 (SMSTOP SM): leave
    streaming mode, ZA unchanged."""
    k.sme_write_svcr(k.false, k.this_cpu.za_on.eq(1))


def sme_set_vq(k: Ctx, vl: Expr) -> None:
    """arch/arm64/include/asm/fpsimd.h (v5.19 on): sme_set_vq(vq_minus_1):
    sysreg_clear_set_s(SYS_SMCR_EL1, SMCR_ELx_LEN_MASK, vq_minus_1): SMCR_EL1.LEN, the
    streaming vector length of EL1/EL0 (with VHE the access reaches SMCR_EL2; with nVHE
    SMCR_EL2.LEN stays at the maximum the EL2 init set, so SMCR_EL1 decides).  ``vl`` is
    the caller's length (an index into Config.sme_vls: always a supported one, so the
    effective SVL is that length).  With one streaming VL nothing is state: no effect."""
    if isinstance(k.this_cpu.smcr, Var):
        k.set(k.this_cpu.smcr, vl)


def sme_vl_check(k: Ctx, sve_vl: Expr, sme_vl: Expr,
                 where: str = "fpsimd_save_user_state") -> Expr:
    """The VL check of fpsimd_save_user_state() with SME (v6.8-v6.16, the same text in
    v6.10.0 and v6.18.2): ``if (WARN_ON(sve_get_vl() != vl))`` force_signal_inject(SIGKILL)
    and return without saving, where ``vl`` is last->sme_vl in streaming mode and
    last->sve_vl otherwise, and sve_get_vl() (RDVL, "will account for SM") reads the
    streaming VL (SMCR_EL1.LEN) when PSTATE.SM is set and the SVE VL (ZCR_EL1.LEN) when it
    is not.  Returns the "lengths agree" condition under which the caller saves.  Only the
    kinds with several lengths are compared (one length cannot differ); with none it is
    not emitted.  The same assertion site as the check without SME
    (`model.variants.v6.sve_vl_check`); the SIGKILL itself is not modelled (the WARN is
    the finding, and the state is not saved, as in the C).  ``where``: the C function
    (v6.1's check is in fpsimd_save(), model/variants/v6_1_sme.py)."""
    cpu = k.this_cpu
    sme_ok = cpu.smcr.eq(sme_vl) if isinstance(cpu.smcr, Var) else None
    sve_ok = k.S.host_vl(k.cpu).eq(sve_vl) if k.S.multi_vl else None
    if sme_ok is None and sve_ok is None:
        return k.true
    ok_expr = ((cpu.sm.eq(1) & (sme_ok if sme_ok is not None else k.true))
               | (cpu.sm.eq(0) & (sve_ok if sve_ok is not None else k.true)))
    ok = k.let("vl_ok", ok_expr)
    k.check(ok.eq(1), "WARN", where,
            "WARN_ON(sve_get_vl() != vl): SIGKILL, state not saved")
    return ok.eq(1)


def sme_alloc(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c: sme_alloc(current, true): memset of the existing
    sme_state, or a kzalloc(GFP_KERNEL) (may sleep; failure, a SIGKILL, not modelled):
    current's saved ZA is zero."""
    k.set(k.cur.sme_state, _zero(k))


def sve_alloc_keep(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c: sve_alloc(current, false) from do_sme_acc(): an existing
    sve_state is left as it is, a new one is zeroed (kzalloc).  Either way nothing reads
    it before a save writes it: the trap leaves fp_type as it was (FPSIMD unless a
    streaming save wrote sve_state, which then exists and is kept), and a streaming-mode
    state is only loaded from sve_state after a streaming save.  So the model writes
    nothing."""


# --------------------------------------------------------------------- user code (EL0)
def _expect_zero_after_sm_change(k: Ctx, t) -> None:  # noqa: ANN001
    """Ghost (not kernel code): after its own change of PSTATE.SM (a new generation,
    `Ctx.supersede` with part "sm") task ``t`` must read zero V and the reset FPSR
    (``expect_zero``), zero Z bits above 127, zero P/FFR (P_ZERO: the Arm ARM's rule
    zeroes the predicate registers and FFR), and with FEAT_FPMR a
    zero FPMR (`sme_write_svcr`): the exec event's separate FPMR ghost
    (``fpmr_expect_zero``, where it exists) is set too, since `properties.fp.expected` then
    reads FPMR by that ghost alone.  FPCR is not written: the task reads what it read
    before (its latest, or zero after exec: ``fpcr_expect_zero`` unchanged)."""
    k.set(t.expect_zero, 1)
    k.set(t.zhi_expected, 0)
    k.set(t.p_written, P_ZERO)
    if k.config.fpmr and isinstance(t.fpmr_expect_zero, Var):
        k.set(t.fpmr_expect_zero, 1)


def user_svcr_write(k: Ctx, sm: int, za: int) -> None:
    """User code at EL0 with SME untrapped (CPACR_EL1.SMEN_EL0EN) executes SMSTART/SMSTOP
    (SM, ZA or both; MSR SVCR* with any target): the architectural effect
    (`sme_write_svcr`) is a write by the task itself: if SM changes, its registers are now
    zero and it must read zero (ghost ``expect_zero``, a new generation: `Ctx.supersede`),
    its Z bits above 127 and P/FFR zero too; if ZA is enabled afresh it must read a zero
    ZA.  One event (user code)."""
    cpu = k.this_cpu
    t = k.cur
    with k.atomic():
        new_sm = k.true if sm else k.false
        new_za = k.true if za else k.false
        with k.If(cpu.sm.ne(new_sm)):
            k.supersede(k.current, "sm")
            _expect_zero_after_sm_change(k, t)
        with k.If(cpu.za_on.eq(0) & new_za):
            k.set(t.za_written, 0)
        k.sme_write_svcr(new_sm, new_za)
        k.set(t.sm_expected, sm)
        k.set(t.za_expected, za)


def user_za_write(k: Ctx) -> None:
    """User code at EL0 with ZA enabled writes ZA (a new ZA generation of the task)."""
    with k.atomic():
        k.supersede_za(k.current)
        k.set(k.this_cpu.za, Const(k.S.VALUE, k.S.latest(k.current)))
        k.set(k.cur.za_written, 1)


def user_ssve_write(k: Ctx) -> None:
    """User code in streaming mode writes its Z registers (all streaming-VL bits), P0-P15
    and FPSR/FPCR (streaming SVE instructions)."""
    k.fp_write(k.current, k.this_cpu.regs, zhi=True)


# ------------------------------------------------------------ arch/arm64/kernel/fpsimd.c
def fpsimd_flush_cpu_state(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.x): fpsimd_flush_cpu_state(): fpsimd_last_state.st =
    NULL; if system_supports_sme(), sme_smstop() ("Leaving streaming mode enabled will
    cause issues for any kernel NEON"); set current's TIF_FOREIGN_FPSTATE."""
    k.set(k.this_cpu.last_st, "NULL")
    if k.config.sme:
        k.sme_smstop()
    k.set_thread_flag("TIF_FOREIGN_FPSTATE")


def _sme_load_part(k: Ctx) -> None:
    """The SME block of task_fpsimd_load() (v6.10, v6.16): sme_set_vq() at the task's
    streaming VL if TIF_SME (`sme_set_vq`: with one SVL no effect);
    write_sysreg_s(current->thread.svcr, SYS_SVCR) (with its architectural effect); if
    thread_za_enabled(): sme_load_state(thread.sme_state) (ZA; ZT0 with SME2, not
    modelled)."""
    t = k.cur
    if isinstance(k.this_cpu.smcr, Var):
        # "Ensure VL is set up for restoring data": if TIF_SME,
        # sme_set_vq(sve_vq_from_vl(task_get_sme_vl(current)) - 1)
        with k.If(k.test_thread_flag("TIF_SME")):
            k.sme_set_vq(t.sme_vl)
    k.sme_write_svcr(t.svcr_sm.eq(1), t.svcr_za.eq(1))
    with k.If(t.svcr_za.eq(1)):
        k.set(k.this_cpu.za, t.sme_state)


def _sve_insn_outside_streaming(k: Ctx) -> None:
    """The host executes an SVE instruction at EL1 with the CPU's current PSTATE.SM
    (`model.kernel.fpsimd._sve_insn`, nVHE's host SVE trap): CPTR_EL2.TZ traps SVE
    instructions only outside Streaming SVE mode (Arm ARM, CPTR_EL2.TZ; in streaming mode
    they are SME's, trapped by TSM, which is not state here: scope.md, SME row), so the
    trap is taken only while PSTATE.SM is clear.  ZCR_EL1 accesses trap in either mode
    (`model.kernel.fpsimd._sve_insn` itself)."""
    if not isinstance(k.this_cpu.cptr_tz, Var):
        return
    with k.If(k.this_cpu.sm.eq(0)):
        fpsimd._sve_insn(k)


def _load_regs(k: Ctx) -> None:
    """The last statement of task_fpsimd_load(): restore_sve_regs (fp_type SVE) ?
    sve_load_state(sve_pffr(), &uw.fpsimd_state.fpsr, restore_ffr) : fpsimd_load_state(
    &uw.fpsimd_state).  sve_pffr() picks the streaming VL if thread.svcr.SM (one VL per
    kind: the same slices)."""
    with k.If(k.cur.fp_type.eq("SVE")):
        _sve_insn_outside_streaming(k)
        k.sve_load_state(k.cur.sve_state, k.cur.uw)
    with k.Else():
        k.fpsimd_load_state(k.cur.uw)


def _sve_set_vq_if_tif_sve(k: Ctx) -> None:
    """The FP_STATE_SVE case's last statement in task_fpsimd_load() (v6.10 and v6.16, the
    same text in v6.10.0 and v6.18.2): if TIF_SVE, sve_set_vq(sve_vq_from_vl(
    task_get_sve_vl(current)) - 1): ZCR_EL1.LEN = the task's SVE VL (Config.sve_vls; with
    one SVE VL no effect).  A streaming state leaves TIF_SVE as it was, so a streaming
    task without TIF_SVE keeps the CPU's ZCR_EL1."""
    zcr = k.this_cpu.zcr
    if k.config.sve and (isinstance(zcr, Var) or isinstance(k.this_cpu.cptr_tz, Var)):
        with k.If(k.test_thread_flag("TIF_SVE")):
            fpsimd._sve_insn(k)  # a ZCR_EL1 access: nVHE's TZ traps it in either mode
            if isinstance(zcr, Var):
                k.set(zcr, k.cur.sve_vl)


def task_fpsimd_load_sme_v610(k: Ctx, fpmr_first: bool = True) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.10): task_fpsimd_load() with SME.  WARN_ON
    (preemptible()); WARN_ON(TIF_KERNEL_FPSTATE); by fp_type: FP_STATE_FPSIMD: if
    test_and_clear TIF_SVE, sve_user_disable(); FP_STATE_SVE: if !thread_sm_enabled() and
    !WARN_ON_ONCE(!test_and_set_thread_flag(TIF_SVE)), sve_user_enable() (a streaming
    state leaves TIF_SVE alone); sve_set_vq if TIF_SVE (`_sve_set_vq_if_tif_sve`); then the
    SME block
    (`_sme_load_part`), then the register load (`_load_regs`).  On a system without SVE
    sve_user_enable/disable() would touch RES0 bits: CPACR_EL1.ZEN is not state there.

    FPMR (`model.variants.v6.fpmr_load`, with FEAT_FPMR) is written first, right after
    the WARNs, before the SVCR write (v6.9.0, v6.10.0 and v6.14.0 read; from 203f2b95a882
    "arm64/fpsimd: Support FEAT_FPMR"): when the task's SVCR.SM differs from the CPU's
    PSTATE.SM, that SVCR write resets the FPMR just restored (`sme_write_svcr`).  Fixed by
    e5fa85fce08b ("arm64/fpsimd: Don't corrupt FPMR when streaming mode changes",
    v6.16-rc1; `task_fpsimd_load_sme_v616`).  ``fpmr_first=False``: the same function
    with that fix applied (the 6.12.y/6.15.y stable backports; a search device for the
    probe variants, counterexamples/probes.py)."""
    k.check(~k.preemptible(), "WARN", "task_fpsimd_load", "WARN_ON(preemptible())")
    k.check(~k.test_thread_flag("TIF_KERNEL_FPSTATE"), "WARN", "task_fpsimd_load",
            "WARN_ON(test_thread_flag(TIF_KERNEL_FPSTATE))")
    if fpmr_first:
        v6.fpmr_load(k)
    cpu, t = k.this_cpu, k.cur
    zen = cpu.zen_el0en
    with k.If(t.fp_type.eq("FPSIMD")):
        with k.If(k.test_thread_flag("TIF_SVE")):
            k.clear_thread_flag("TIF_SVE")
            if isinstance(zen, Var):
                k.set(zen, False)  # sve_user_disable()
    with k.Else():
        with k.If(t.svcr_sm.eq(0)):
            was = k.let("tif_sve", k.test_thread_flag("TIF_SVE"))
            k.set_thread_flag("TIF_SVE")
            k.check(was.eq(1), "WARN", "task_fpsimd_load",
                    "WARN_ON_ONCE(!test_and_set_thread_flag(TIF_SVE)) with fp_type SVE")
            if isinstance(zen, Var):
                with k.If(was.eq(1)):
                    k.set(zen, True)  # sve_user_enable()
        _sve_set_vq_if_tif_sve(k)
    _sme_load_part(k)
    if not fpmr_first:
        v6.fpmr_load(k)
    _load_regs(k)


def task_fpsimd_load_sme_v616(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.16): task_fpsimd_load() with SME: as v6.10's but
    without touching CPACR_EL1.ZEN (FP_STATE_FPSIMD: clear_thread_flag(TIF_SVE);
    FP_STATE_SVE: if !thread_sm_enabled(), WARN_ON_ONCE(!test_and_set_thread_flag
    (TIF_SVE))); the bind that follows sets the EL0 traps.  FPMR
    (`model.variants.v6.fpmr_load`) is written after the SME block's SVCR write and ZA
    load, before the register load (e5fa85fce08b, v6.16-rc1: "Fix this by moving the
    restore of FPMR later"; the order read in torvalds/linux fpsimd.c @ 398edaa12f9c,
    the v6.16 variant's commit, and in v6.18.2), so an SM change no longer resets it."""
    k.check(~k.preemptible(), "WARN", "task_fpsimd_load", "WARN_ON(preemptible())")
    k.check(~k.test_thread_flag("TIF_KERNEL_FPSTATE"), "WARN", "task_fpsimd_load",
            "WARN_ON(test_thread_flag(TIF_KERNEL_FPSTATE))")
    t = k.cur
    with k.If(t.fp_type.eq("FPSIMD")):
        k.clear_thread_flag("TIF_SVE")
    with k.Else():
        with k.If(t.svcr_sm.eq(0)):
            was = k.let("tif_sve", k.test_thread_flag("TIF_SVE"))
            k.set_thread_flag("TIF_SVE")
            k.check(was.eq(1), "WARN", "task_fpsimd_load",
                    "WARN_ON_ONCE(!test_and_set_thread_flag(TIF_SVE)) with fp_type SVE")
        _sve_set_vq_if_tif_sve(k)
    _sme_load_part(k)
    v6.fpmr_load(k)
    _load_regs(k)


def _save_user_state_sme(k: Ctx, sve_regs: Expr, vcpu_sve_regs: Expr) -> None:
    """fpsimd_save_user_state() with SME (v6.10, v6.16; ``sve_regs``: the version's
    condition for saving SVE registers of a task binding (to_save FP_STATE_CURRENT);
    ``vcpu_sve_regs`` the same for a vcpu's binding, where to_save is FP_STATE_FPSIMD).

    WARN_ON(preemptible()); return if current's TIF_FOREIGN_FPSTATE; with FEAT_FPMR
    *(last->fpmr) = FPMR (`model.variants.v6.fpmr_save`; the same statement, first after
    the test, in v6.9.0, v6.10.0 and @ 398edaa12f9c; emitted after the model's NULL
    checks below, which end the path: a NULL last->fpmr of a kernel-mode binding is the
    same oops); save_sve_regs from the version's test; then *last->svcr = SVCR; if SVCR.ZA,
    sme_save_state(last->sme_state) (ZA); if SVCR.SM, the streaming state overrides:
    save_sve_regs at vl = last->sme_vl, FFR only with FA64 (not modelled: the P slice);
    the VL check against RDVL (`sme_vl_check`: with several SVE or streaming lengths,
    WARN, SIGKILL and no save if they differ; not emitted with one length per kind); then
    sve_save_state(
    last->sve_state, &last->st->fpsr) and *last->fp_type = FP_STATE_SVE, or
    fpsimd_save_state(last->st) and FP_STATE_FPSIMD.  The pointers are those of the
    binding (`last->st`): a task's own (fpsimd_bind_task_to_cpu()), or a task's
    kernel-mode state (fpsimd_save_kernel_state(): only .st and .to_save are set, so
    last->svcr is NULL and ``*svcr = ...`` would oops: a BUG if ever reached), or a vcpu's
    state bound by ctxsync (`_save_vcpu_state_sme`)."""
    k.check(~k.preemptible(), "WARN", "fpsimd_save_user_state", "WARN_ON(preemptible())")
    cpu = k.this_cpu
    st = cpu.last_st
    with k.If(~k.test_thread_flag("TIF_FOREIGN_FPSTATE")):
        if k.cur.kernel_state is not None:
            kernel = any_of(st.eq(k.S.kernel_fpstate(t.index)) for t in k.S.tasks
                            if t.kernel_state is not None)
            k.check(~kernel, "BUG", "NULL dereference",
                    "*last->svcr = read_sysreg_s(SYS_SVCR) with a kernel-mode state bound"
                    " (svcr NULL)")
        k.check(st.ne("NULL"), "BUG", "NULL dereference", "FP save/restore through NULL")
        v6.fpmr_save(k)
        for t in k.S.tasks:
            if not t.mm:
                continue
            with k.If(st.eq(k.S.task_fpstate(t.index))):
                k.set(t.svcr_sm, cpu.sm)
                k.set(t.svcr_za, cpu.za_on)
                with k.If(cpu.za_on.eq(1)):
                    k.set(t.sme_state, cpu.za)  # sme_save_state(last->sme_state)
                with k.If(sve_regs | cpu.sm.eq(1)):
                    # vl = SVCR.SM ? last->sme_vl : last->sve_vl (the task's, set by
                    # fpsimd_bind_task_to_cpu()); the check against RDVL (an SVE
                    # instruction, before the save's)
                    _sve_insn_outside_streaming(k)
                    with k.If(sme_vl_check(k, t.sve_vl, t.sme_vl)):
                        k.sve_save_state(t.sve_state, st)
                        k.set(t.fp_type, "SVE")
                with k.Else():
                    k.fpsimd_save_state(t.uw)
                    k.set(t.fp_type, "FPSIMD")
        for v in k.S.vcpus:
            _save_vcpu_state_sme(k, v, vcpu_sve_regs)


def _save_vcpu_state_sme(k: Ctx, v, sve_regs: Expr) -> None:  # noqa: ANN001
    """The same save for a vcpu's state bound by kvm_arch_vcpu_ctxsync_fp() (v6.8-v6.16,
    arch/arm64/kvm/fpsimd.c): its cpu_fp_state has .svcr = &vcpu->arch.svcr (v6.8-v6.10;
    the SVCR sys_reg later: "Currently we do not support SME guests so SVCR is always 0
    and we just need a variable to point to"), .sme_state = NULL, no .sme_vl (the local
    struct's field is left uninitialised), .sve_state = vcpu->arch.sve_state (NULL for a
    vcpu without SVE), .sve_vl = vcpu->arch.sve_max_vl and .to_save = FP_STATE_SVE for an
    SVE vcpu (Config.sve_guest), else FP_STATE_FPSIMD.
    So: *svcr = SVCR (not modelled: nothing reads the vcpu's SVCR); if SVCR.ZA,
    sme_save_state(NULL): an oops (a BUG); if SVCR.SM, the streaming save at the
    uninitialised sme_vl: the VL check's WARN and SIGKILL of the VMM thread, or an oops
    through a NULL sve_state (a BUG: fatal either way, the guest's state is not saved);
    else, with ``sve_regs`` (the version's test of to_save: FP_STATE_SVE for an SVE vcpu),
    the VL check against sve_max_vl (`model.variants.v6.sve_vl_check`; one SVE VL with
    SME: not emitted) and sve_save_state(vcpu->arch.sve_state, &fp_regs.fpsr), or
    fpsimd_save_state(&vcpu->arch.ctxt.fp_regs); *last->fp_type (the vcpu's fp_type: not
    modelled).  For a vcpu without SVE an SVE save would go through its NULL sve_state:
    an oops (a BUG), as in v6.16's save without SME."""
    mine = k.this_cpu.last_st.eq(k.S.vcpu_fpstate(v.index))
    cpu = k.this_cpu
    sve_vcpu = bool(k.vcpu_has_sve(v.index))
    if not sve_vcpu:
        k.check(~(mine & sve_regs), "BUG", "NULL dereference",
                "sve_save_state() through a non-SVE vcpu's NULL sve_state")
    k.check(~(mine & cpu.za_on.eq(1)), "BUG", "NULL dereference",
            "sme_save_state(last->sme_state) with a vcpu bound (ctxsync's sme_state is NULL)")
    k.check(~(mine & cpu.sm.eq(1)), "BUG", "fpsimd_save_user_state",
            "streaming-mode save with a vcpu bound: VL check against ctxsync's uninitialised"
            " sme_vl (WARN, SIGKILL) or sve_save_state() through a NULL sve_state")
    if sve_vcpu:
        v6.save_sve_vcpu_binding(k, v, mine, sve_regs)
    else:
        with k.If(mine):
            k.fpsimd_save_state(v.fp_regs)


def fpsimd_save_user_state_sme_v610(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.10): fpsimd_save_user_state() with SME; SVE registers
    of a task binding saved if TIF_SVE && !in_syscall() (`_save_user_state_sme`)."""
    sve = k.test_thread_flag("TIF_SVE") & k.cur.in_syscall.eq(0) if k.config.sve \
        else k.false
    # a vcpu's binding has to_save FP_STATE_SVE for an SVE vcpu (Config.sve_guest), else
    # FP_STATE_FPSIMD (the model derives to_save in v6.10 from the binding)
    _save_user_state_sme(k, sve, k.true if k.config.sve_guest else k.false)


def fpsimd_save_user_state_sme_v616(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.16): fpsimd_save_user_state() with SME; SVE registers
    of a task binding saved if last->to_save == FP_STATE_CURRENT && TIF_SVE
    (`_save_user_state_sme`)."""
    sve = (k.this_cpu.last_to_save.eq("CURRENT") & k.test_thread_flag("TIF_SVE")
           if k.config.sve else k.false)
    # || last->to_save == FP_STATE_SVE: an SVE vcpu's binding (Config.sve_guest)
    vcpu_sve = sve | k.this_cpu.last_to_save.eq("SVE") if k.config.sve_guest else sve
    _save_user_state_sme(k, sve, vcpu_sve)


def do_sme_acc(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.10, v6.16): do_sme_acc() up to
    get_cpu_fpsimd_context(), for a trap with ISS "SME disabled" (the other SME traps are a
    SIGILL, not modelled): sve_alloc(current, false) (`sve_alloc_keep`); sme_alloc(current,
    true) (may sleep); the task is then preemptible (program point SME_ACC) until
    `do_sme_acc_locked`."""
    k.sve_alloc_keep()
    k.sme_alloc()
    k.goto("SME_ACC")


def do_sme_acc_locked(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v5.19-v6.15, read in v6.10): the rest of do_sme_acc():
    get_cpu_fpsimd_context(); if test_and_set_thread_flag(TIF_SME): WARN_ON(1); if the
    state is live (TIF_FOREIGN_FPSTATE clear): sme_set_vq(task_get_sme_vl(current)'s VQ
    - 1) (`sme_set_vq`) and fpsimd_bind_task_to_cpu() (which enables EL0 SME); otherwise
    nothing: the task's state may still be bound to another CPU (#14); put_cpu_fpsimd_context()."""
    k.local_bh_disable()
    do_sme_acc_in_context(k)
    k.local_bh_enable()
    k.goto("KERNEL")


def do_sme_acc_in_context(k: Ctx) -> None:
    """The statements of do_sme_acc() inside its get/put_cpu_fpsimd_context() (v5.19-v6.16:
    the same text; what the context is differs, v6.1's busy flag or local_bh_disable()): the
    TIF_SME WARN, TIF_SME set, then sme_set_vq() and the bind if the state is live, else
    `do_sme_acc_foreign` (a plain helper of the model, not a kernel function)."""
    k.check(~k.test_thread_flag("TIF_SME"), "WARN", "do_sme_acc",
            "WARN_ON(1): TIF_SME already set (with TIF_SME userspace shouldn't generate"
            " any traps)")
    k.set_thread_flag("TIF_SME")
    with k.If(~k.test_thread_flag("TIF_FOREIGN_FPSTATE")):
        k.sme_set_vq(k.cur.sme_vl)
        k.fpsimd_bind_task_to_cpu()
    with k.Else():
        k.do_sme_acc_foreign()


def do_sme_acc_foreign(k: Ctx) -> None:
    """The TIF_FOREIGN_FPSTATE case of do_sme_acc() (v5.19-v6.15): nothing (a helper of the
    model: the statement d3eaab3c7090 added)."""


def do_sme_acc_foreign_v616(k: Ctx) -> None:
    """The same case in v6.16 (d3eaab3c7090 "arm64/fpsimd: Discard stale CPU state when
    handling SME traps", #14): fpsimd_flush_task_state(current), so no CPU's registers
    count as current's any more."""
    k.fpsimd_flush_task_state(k.current)


# ------------------------------------------- prctl(PR_SME_SET_VL) / PR_SVE_SET_VL with SME
def _vl_change_ghost_sme(k: Ctx, t: int, sme_kind: bool, sm_cleared: bool) -> None:
    """Ghost (not kernel code): what the task must read after a change of its vector
    length (Documentation/arch/arm64/sme.rst section 6 and sve.rst section 6): Z bits above
    127, P0-P15 and FFR unspecified (the model's reading, as for SVE: Z-high zero, P/FFR
    undefined); for an SME VL change also ZA (PSTATE.ZA cleared: the task must run with ZA
    off) and, up to v6.15 (``sm_cleared``; the v6.10 sme.rst: "Changing the vector length
    causes PSTATE.ZA and PSTATE.SM to be cleared"; the v6.18.2 one drops PSTATE.SM),
    PSTATE.SM."""
    task = k.task(t)
    with k.atomic():
        k.set(task.zhi_expected, 0)
        k.set(task.p_written, 0)
        if sme_kind:
            k.set(task.za_expected, 0)
            if sm_cleared:
                k.set(task.sm_expected, 0)


def vec_set_vector_length_v68(k: Ctx, t: int, kind: str, vl: int) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.8-v6.15; the same text in v6.8.0 and v6.10.0):
    vec_set_vector_length(task, type, vl, 0) with SME (Config.sme), ``kind`` "SVE"
    (ARM64_VEC_SVE, PR_SVE_SET_VL) or "SME" (ARM64_VEC_SME, PR_SME_SET_VL), ``vl`` already
    a supported length (the step chooses it among the configured ones:
    find_supported_vector_length() maps any valid request to one); flags 0 (ONEXEC and
    INHERIT are not modelled: only vl_onexec and a TIF flag read at exec change).  If it
    is the task's VL of that kind: nothing.  Else: for task == current,
    get_cpu_fpsimd_context() and fpsimd_save_user_state() (FPSIMD-only while in_syscall(),
    SVCR and ZA with it); fpsimd_flush_task_state(task); if test_and_clear TIF_SVE or
    thread_sm_enabled(): sve_to_fpsimd(task) (V from sve_state, whatever fp_type says) and
    fp_type = FP_STATE_FPSIMD; if system_supports_sme() and (type is SME or svcr has
    neither SM nor ZA): svcr.SM and svcr.ZA cleared, TIF_SME cleared, free_sme; put the
    context; task_set_vl(); sve_free(task) and sve_alloc(task, true) (a zeroed buffer at
    the new size: the model's sve_state is zero either way); if free_sme, sme_free(task)
    (sme_state NULL: zero in the model; sme_alloc() zeroes it again before any use)."""
    task = k.task(t)
    cur_vl = task.sme_vl if kind == "SME" else task.sve_vl
    if not isinstance(cur_vl, Var):
        return
    zero = _zero(k)
    with k.If(cur_vl.ne(vl)):
        if t == k.current:
            k.local_bh_disable()
            k.fpsimd_save_user_state()
        k.fpsimd_flush_task_state(t)
        was_sve = k.let("tif_sve", k.test_tsk_thread_flag(t, "TIF_SVE"))
        k.update_tsk_thread_flag(t, "TIF_SVE", False)
        with k.If(was_sve.eq(1) | task.svcr_sm.eq(1)):
            k.sve_to_fpsimd(t)
            if isinstance(task.fp_type, Var):
                k.set(task.fp_type, "FPSIMD")
        free_sme = k.let("free_sme", k.true if kind == "SME"
                         else task.svcr_sm.eq(0) & task.svcr_za.eq(0))
        with k.If(free_sme.eq(1)):
            k.set(task.svcr_sm, False)
            k.set(task.svcr_za, False)
            k.update_tsk_thread_flag(t, "TIF_SME", False)
        if t == k.current:
            k.local_bh_enable()
        k.set(cur_vl, vl)
        for slot in task.sve_state.all_slots():  # sve_free(); sve_alloc(task, true)
            k.set(slot, zero)
        with k.If(free_sme.eq(1)):
            k.set(task.sme_state, zero)  # sme_free()
        _vl_change_ghost_sme(k, t, kind == "SME", sm_cleared=True)


def sve_set_vector_length_sme_v68(k: Ctx, t: int, vl: int) -> None:
    """PR_SVE_SET_VL on a system with SME (v6.8-v6.15): `vec_set_vector_length_v68` with
    ARM64_VEC_SVE (its SME block keeps the SME state of a task using SM or ZA)."""
    vec_set_vector_length_v68(k, t, "SVE", vl)


def sme_set_vector_length_v68(k: Ctx, t: int, vl: int) -> None:
    """PR_SME_SET_VL (v6.8-v6.15): `vec_set_vector_length_v68` with ARM64_VEC_SME (the
    model's name for that call, as sve_set_vector_length is for ARM64_VEC_SVE)."""
    vec_set_vector_length_v68(k, t, "SME", vl)


def sme_set_vector_length_v616(k: Ctx, t: int, vl: int) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.16 [I], read in v6.18.2: 49ce484187f7 and b87c8c4aca11
    of the v6.16-rc1 merge): vec_set_vector_length(task, ARM64_VEC_SME, vl, 0) ->
    change_live_vector_length(): new zeroed sve_state and sme_state allocated first; for
    task == current fpsimd_save_and_flush_current_state() (else
    fpsimd_flush_task_state(task)); fpsimd_sync_from_effective_state(task) (an SVE-format
    state's V into uw.fpsimd_state); task_set_vl(); the new sve_state;
    fpsimd_sync_to_effective_state_zeropad(task) (if fp_type is SVE, V zero-padded into
    it); svcr.ZA cleared and the new (zeroed) sme_state.  PSTATE.SM, TIF_SME, TIF_SVE and
    fp_type are left as they were ("Always preserve PSTATE.SM and the effective FPSIMD
    state")."""
    task = k.task(t)
    if not isinstance(task.sme_vl, Var):
        return
    with k.If(task.sme_vl.ne(vl)):
        v6_events.change_live_vector_length_v616(k, t, task.sme_vl, vl)
        k.set(task.svcr_za, False)
        k.set(task.sme_state, _zero(k))
        _vl_change_ghost_sme(k, t, True, sm_cleared=False)


def sme_set_current_vl(k: Ctx, vl: int) -> None:
    """arch/arm64/kernel/fpsimd.c (v5.19 on): sme_set_current_vl(arg) (prctl(PR_SME_SET_VL),
    from kernel/sys.c): if !system_supports_sme() or is_compat_task(), -EINVAL; else
    vec_set_vector_length(current, ARM64_VEC_SME, vl, flags) (`sme_set_vector_length`,
    the version's)."""
    k.sme_set_vector_length(k.current, vl)
    if isinstance(k.cur.syscall_body, Var):
        k.set(k.cur.syscall_body, False)  # the prctl's body is done


# ---------------------------------------------------------------- KVM (arch/arm64/kvm)
def kvm_arch_vcpu_load_fp_sme(k: Ctx, vcpu: int) -> None:
    """The SME block of kvm_arch_vcpu_load_fp() (arch/arm64/kvm/fpsimd.c, v5.19-v6.13; read
    in v6.8.0, v6.9.0 and v6.10.0, where it is the last statement before v6.10's pKVM
    WARN), with preemption off and IRQs on: if system_supports_sme(): HOST_SME_ENABLED =
    CPACR_EL1.SMEN_EL0EN (vcpu_clear_flag/vcpu_set_flag; a state variable with VHE only,
    the only mode that reads it); if SVCR has SM or ZA set ("If we leave PSTATE.SM enabled
    ... operations that should be valid may generate SME traps from EL1 to EL1 which we
    can't intercept"; "Do the same for PSTATE.ZA"): the owner = FP_STATE_FREE, then
    fpsimd_save_and_flush_cpu_state() (saves current's live state with its SVCR and ZA,
    unbinds it, SMSTOP)."""
    v = k.vcpu(vcpu)
    cpu = k.this_cpu
    if isinstance(v.host_sme_enabled, Var):
        k.set(v.host_sme_enabled, cpu.smen_el0en)
    with k.If(cpu.sm.eq(1) | cpu.za_on.eq(1)):
        k.set(k.kvm_fp_owner(vcpu), "FREE")
        k.fpsimd_save_and_flush_cpu_state()


def kvm_arch_vcpu_put_fp_sme(k: Ctx, vcpu: int) -> None:
    """The SME block of kvm_arch_vcpu_put_fp() (arch/arm64/kvm/fpsimd.c, v5.19-v6.13; read
    in v6.8.0-v6.10.0), first after local_irq_save(): if has_vhe() && system_supports_sme():
    SMEN_EL1EN set and SMEN_EL0EN = HOST_SME_ENABLED ("the Hyp code will reset CPACR_EL1
    to the default value and we need to reenable SME"), whether or not the guest owns the
    registers.  nVHE: nothing (hyp never touched the host's CPACR_EL1)."""
    if k.config.vhe:
        k.set(k.this_cpu.smen_el0en, k.vcpu(vcpu).host_sme_enabled)


# ---------------------------------------------------------------- syscall entry (ABI)
def sme_syscall_abi(k: Ctx) -> None:
    """Ghost monitor of the SME syscall ABI (Documentation/arch/arm64/sme.rst: a syscall
    clears PSTATE.SM, with the register effect of SMSTOP SM, and preserves ZA), taken at
    the SVC before the entry code's sme_smstop_sm(): if the task was in streaming mode it
    must now read zero registers (ghost expect_zero, a new generation) and run with SM
    clear.  Not kernel code."""
    t = k.cur
    with k.atomic():
        with k.If(k.this_cpu.sm.eq(1)):
            k.supersede(k.current, "sm")
            _expect_zero_after_sm_change(k, t)
        k.set(t.sm_expected, 0)


def el0_svc_sme_v610(k: Ctx) -> None:
    """arch/arm64/kernel/entry-common.c (v6.10): el0_svc() with SME: fp_user_discard():
    if system_supports_sme(), sme_smstop_sm() ("after a syscall we never have any
    streaming mode register state to track"); then, with SVE and TIF_SVE,
    sve_flush_live(true, vq) (Z bits above 127, P, FFR zeroed); DAIF masked throughout
    (`model.variants.v6.el0_svc_common_entry`)."""

    def fp_user_discard() -> None:
        k.sme_syscall_abi()
        k.sme_smstop_sm()
        if not k.config.sve:
            return
        with k.If(k.test_thread_flag("TIF_SVE")):
            fpsimd._sve_insn(k)  # sve_flush_live(), after sme_smstop_sm(): not streaming
            k.set(k.this_cpu.regs.zhi, _zero(k))
            k.set(k.this_cpu.regs.p, _zero(k))

    v6.el0_svc_common_entry(k, fp_user_discard)


def fpsimd_syscall_enter_sme_v616(k: Ctx) -> None:
    """arch/arm64/kernel/entry-common.c (v6.16, 398edaa12f9c): fpsimd_syscall_enter() with
    SME: sme_smstop_sm() ("Ensure PSTATE.SM is clear, but leave PSTATE.ZA as-is"), then as
    without SME (`model.variants.v6_16.fpsimd_syscall_enter`: nothing more without SVE)."""
    from model.variants import v6_16
    k.sme_syscall_abi()
    k.sme_smstop_sm()
    v6_16.fpsimd_syscall_enter(k)


# ------------------------------------------------------------------ kernel-mode NEON
def kernel_neon_streaming_check(k: Ctx, what: str) -> None:
    """Kernel-mode NEON executes Advanced SIMD instructions: in streaming mode without
    FEAT_SME_FA64 they are illegal and trap with an SME exception (EC 0x1D) taken to EL1,
    which el1h_64_sync_handler() (entry-common.c, v6.8-v6.10 read) has no case for: its
    default is __panic_unhandled().  A BUG (fatal) if PSTATE.SM is set there (the reason
    fpsimd_flush_cpu_state() does SMSTOP: "Leaving streaming mode enabled will cause
    issues for any kernel NEON")."""
    k.check(k.this_cpu.sm.eq(0), "BUG", what,
            "Advanced SIMD at EL1 with PSTATE.SM set (illegal in streaming mode: unhandled"
            " EL1 SME exception, panic)")


def kernel_fp_write_sme(k: Ctx) -> None:
    """`model.variants.v6.kernel_fp_write` with SME: the NEON work runs with PSTATE.SM
    clear (`kernel_neon_streaming_check`), checked at the instant of the write (the write
    is one event: no interleaving point between the check and it)."""
    with k.atomic():
        kernel_neon_streaming_check(k, "kernel_neon (write)")
    v6.kernel_fp_write(k)


def kernel_fp_read_sme(k: Ctx) -> None:
    """`model.variants.v6.kernel_fp_read` with SME: the read-back is NEON code too, checked
    at the instant of the read-back."""
    v6.kernel_fp_read(k)
    with k.atomic():
        kernel_neon_streaming_check(k, "kernel_neon (read-back)")


# ---------------------------------------------------------- EFI runtime services (event efi)
def __efi_fpsimd_begin_sme(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.8-v6.16; the same text in v6.8.0, v6.10.0 and, but for
    the per-CPU buffers, v6.18.2): __efi_fpsimd_begin() with SME.  WARN_ON(preemptible());
    if may_use_simd(): kernel_neon_begin() (the version's: it saves current's state with
    its SVCR and ZA and SMSTOPs, `fpsimd_flush_cpu_state`).  Otherwise, the buffer path:
    if system_supports_sve() (and efi_sve_state, allocated at boot): efi_sve_state_used =
    true; svcr = read SVCR, efi_sm_state = svcr.SM, ffr = !svcr.SM (no FA64: in streaming
    mode FFR is not saved; the model's P slice stands for P0-P15 there);
    sve_save_state(efi_sve_state, &efi_fpsimd_state.fpsr, ffr); then sysreg_clear_set_s(
    SVCR, SM, 0) (written only if SM was set: leaving streaming mode zeroes the registers,
    `sme_write_svcr`).  Without SVE (an SME-only system): fpsimd_save_state(
    &efi_fpsimd_state) whatever PSTATE.SM is, and SM is left as it is.  Then
    efi_fpsimd_state_used = true.  PSTATE.ZA and ZA are not touched on either path.
    FPMR (Config.fpmr) is neither saved here nor restored by `__efi_fpsimd_end_sme` (no
    FPMR statement in v6.9.0-v6.18.2), while both SVCR writes reset it: a task whose
    streaming-mode state is live on the CPU loses its FPMR (found by no_loss;
    counterexamples/README.md, v6.16-efi-fpmr-no_loss-*)."""
    cpu = k.this_cpu
    k.check(~k.preemptible(), "WARN", "__efi_fpsimd_begin", "WARN_ON(preemptible())")
    with k.If(k.may_use_simd()):
        k.kernel_neon_begin()
    with k.Else():
        if k.config.sve:
            k.set(cpu.efi_sve_state_used, True)
            k.set(cpu.efi_sm_state, cpu.sm)
            _sve_insn_outside_streaming(k)
            k.sve_save_state(cpu.efi_sve_state, cpu.efi_fpsimd_state)
            k.sme_write_svcr(k.false, cpu.za_on.eq(1))
        else:
            k.fpsimd_save_state(cpu.efi_fpsimd_state)
        k.set(cpu.efi_fpsimd_state_used, True)


def __efi_fpsimd_end_sme(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.8-v6.16, as `__efi_fpsimd_begin_sme`):
    __efi_fpsimd_end() with SME.  If !xchg(efi_fpsimd_state_used, false):
    kernel_neon_end().  Else, with SVE and efi_sve_state_used: if efi_sm_state,
    sysreg_clear_set_s(SVCR, 0, SM) (entering streaming mode zeroes the registers) and
    ffr = false; sve_load_state(efi_sve_state, &efi_fpsimd_state.fpsr, ffr) (Z, P and
    FPSR/FPCR back); efi_sve_state_used = false.  Otherwise fpsimd_load_state(
    &efi_fpsimd_state) (V and FPSR/FPCR; on an SME-only system in whatever mode the CPU is
    in).  efi_sm_state itself is not cleared (the model forgets it after the call:
    `model.kernel.efi.efi_buffers_dead`)."""
    cpu = k.this_cpu
    used = k.let("efi_fpsimd_state_used", cpu.efi_fpsimd_state_used)
    k.set(cpu.efi_fpsimd_state_used, False)
    with k.If(used.eq(0)):
        k.kernel_neon_end()
    with k.Else():
        if k.config.sve:
            with k.If(cpu.efi_sve_state_used.eq(1)):
                with k.If(cpu.efi_sm_state.eq(1)):
                    k.sme_write_svcr(k.true, cpu.za_on.eq(1))
                _sve_insn_outside_streaming(k)
                k.sve_load_state(cpu.efi_sve_state, cpu.efi_fpsimd_state)
                k.set(cpu.efi_sve_state_used, False)
            with k.Else():
                k.fpsimd_load_state(cpu.efi_fpsimd_state)
        else:
            k.fpsimd_load_state(cpu.efi_fpsimd_state)


def efi_firmware_fp_write_sme(k: Ctx) -> None:
    """`model.kernel.efi.efi_firmware_fp_write` with SME: the firmware is called as an
    ordinary (non-streaming) AAPCS64 function and uses FP/SIMD, whose Advanced SIMD
    instructions are illegal in streaming mode without FEAT_SME_FA64 (an EL1 SME
    exception el1h_64_sync_handler() has no case for: __panic_unhandled(); fpsimd.c's own
    comment in __efi_fpsimd_end(): "EFI calls are normal function calls so should not
    return in streaming mode"): a BUG if PSTATE.SM is set when the firmware runs.  Then
    the firmware's write (V and FPSR/FPCR; the Z bits above 127 zeroed by the V write)."""
    with k.atomic():
        k.check(k.this_cpu.sm.eq(0), "BUG", "efi firmware",
                "EFI runtime service entered with PSTATE.SM set (the firmware's FP/SIMD is"
                " illegal in streaming mode: unhandled EL1 SME exception, panic)")
    efi.efi_firmware_fp_write(k)
    if not k.config.sve and isinstance(k.this_cpu.regs.zhi, Var):
        # (SME-only) writing V zeroes the Z bits above 127 at any VL (efi_firmware_fp_write
        # zeroes them only with SVE)
        k.set(k.this_cpu.regs.zhi, _zero(k))


# ----------------------------------------------------------------- wiring into variants
def _with_sme(without: Callable[..., None], with_sme: Callable[..., None]
              ) -> Callable[..., None]:
    """The version's function: ``with_sme`` when Config.sme, else exactly ``without`` (so
    configurations without SME build the same statements as before)."""
    def fn(k: Ctx, *args: object) -> None:
        (with_sme if k.config.sme else without)(k, *args)
    fn.__name__ = with_sme.__name__
    fn.__doc__ = with_sme.__doc__
    return fn


NEW_FUNCTIONS = ["sme_write_svcr", "sme_smstop", "sme_smstop_sm", "sme_alloc",
                 "sve_alloc_keep", "user_svcr_write", "user_za_write", "user_ssve_write",
                 "do_sme_acc", "do_sme_acc_locked", "do_sme_acc_foreign", "sme_syscall_abi",
                 "kvm_arch_vcpu_load_fp_sme", "kvm_arch_vcpu_put_fp_sme",
                 "sme_set_vq", "sme_set_current_vl", "sme_set_vector_length",
                 *v6_ptrace.NEW_FUNCTIONS]


def v610_functions() -> dict[str, Callable[..., None]]:
    """The SME functions of v6.10 and the SME-aware replacements of its table."""
    return {
        "sme_write_svcr": sme_write_svcr, "sme_smstop": sme_smstop,
        "sme_smstop_sm": sme_smstop_sm, "sme_alloc": sme_alloc,
        "sve_alloc_keep": sve_alloc_keep, "user_svcr_write": user_svcr_write,
        "user_za_write": user_za_write, "user_ssve_write": user_ssve_write,
        "do_sme_acc": do_sme_acc, "do_sme_acc_locked": do_sme_acc_locked,
        "do_sme_acc_foreign": do_sme_acc_foreign, "sme_syscall_abi": sme_syscall_abi,
        "kvm_arch_vcpu_load_fp_sme": kvm_arch_vcpu_load_fp_sme,
        "kvm_arch_vcpu_put_fp_sme": kvm_arch_vcpu_put_fp_sme,
        "sme_set_vq": sme_set_vq, "sme_set_current_vl": sme_set_current_vl,
        "sme_set_vector_length": sme_set_vector_length_v68,
        "sve_set_vector_length": _with_sme(v6_events.sve_set_vector_length_v68,
                                           sve_set_vector_length_sme_v68),
        "task_fpsimd_load": _with_sme(v6.task_fpsimd_load, task_fpsimd_load_sme_v610),
        "fpsimd_save_user_state": _with_sme(v6.fpsimd_save_user_state,
                                            fpsimd_save_user_state_sme_v610),
        "el0_svc": _with_sme(v6.el0_svc, el0_svc_sme_v610),
        "kernel_fp_write": _with_sme(v6.kernel_fp_write, kernel_fp_write_sme),
        "kernel_fp_read": _with_sme(v6.kernel_fp_read, kernel_fp_read_sme),
        "__efi_fpsimd_begin": _with_sme(fpsimd.__efi_fpsimd_begin, __efi_fpsimd_begin_sme),
        "__efi_fpsimd_end": _with_sme(fpsimd.__efi_fpsimd_end, __efi_fpsimd_end_sme),
        "efi_firmware_fp_write": _with_sme(efi.efi_firmware_fp_write,
                                           efi_firmware_fp_write_sme),
        # ptrace: NT_ARM_SVE's streaming block, NT_ARM_SSVE, NT_ARM_ZA (v6_ptrace.py)
        "sve_set": _with_sme(v6.sve_set, v6_ptrace.sve_set_sme_v68),
        **v6_ptrace.FUNCTIONS_V68,
    }


def v616_functions() -> dict[str, Callable[..., None]]:
    """The SME-aware replacements of v6.16's table (the rest inherited from v6.10)."""
    from model.variants import v6_16
    return {
        "task_fpsimd_load": _with_sme(v6_16.task_fpsimd_load_v616, task_fpsimd_load_sme_v616),
        "fpsimd_save_user_state": _with_sme(v6_16.fpsimd_save_user_state_v616,
                                            fpsimd_save_user_state_sme_v616),
        "fpsimd_syscall_enter": _with_sme(v6_16.fpsimd_syscall_enter,
                                          fpsimd_syscall_enter_sme_v616),
        "do_sme_acc_foreign": do_sme_acc_foreign_v616,
        "ssve_set": v6_ptrace.ssve_set_v616,
        "sve_set_common": v6_ptrace.sve_set_common_v616,
        "sme_set_vector_length": sme_set_vector_length_v616,
        # PR_SVE_SET_VL: v6.16's change_live_vector_length() has no SME statement of its
        # own for ARM64_VEC_SVE (SM, ZA, TIF_SME and sme_state are kept)
        "sve_set_vector_length": v6_events.sve_set_vector_length_v616,
    }
