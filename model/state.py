"""The state of the model: every variable, its domain and its initial value.

Register contents are modelled by *provenance tokens* rather than bits.  A slice (V, the
Z bits above V, FPSR/FPCR) holds one of:

* ``0``: zero (e.g. the Z bits above 127 after an FPSIMD load);
* ``kneon``: values written by kernel-mode NEON (may be key material), once the section
  that wrote them has read them back;
* ``kneon.task`` / ``kneon.softirq``: the data of a kernel-mode NEON section in task
  context / in a softirq *while it runs* (between its write and its read-back, inside one
  step), so that the read-back can tell its own data from another section's; the
  read-back relabels every copy to ``kneon`` (`Ctx.kernel_neon_read_back`);
* ``<ctx>``: the latest value written by context ``ctx`` (a host user task or a guest);
* ``<ctx>~``: an older value written by ``ctx`` (superseded by a later write);
* ``efi`` (only with the ``efi`` event): values written by EFI runtime-services firmware
  (model.kernel.efi): not any context's data, so a context that reads them has lost its
  state and sees firmware data;
* ``unknown`` (only with the ``cpu_pm`` or ``cpu_hotplug`` events): the architecturally
  UNKNOWN contents of a CPU's FP registers after it lost power (CPU PM power-down, or a
  CPU brought back online from reset).  Not another context's data (so not a leak), but
  never anyone's latest value (a context that reads it has lost its state).

This is exact for loss and leak by data independence: the kernel never branches on FP
contents, so all that matters about a value is who wrote it and whether it is still that
writer's latest write.  Collapsing every superseded generation into one ``~`` token keeps
the state space finite however often a context writes ("canonicalised generations"),
while still telling "the latest value" from "an older one" (loss) and "mine" from
"someone else's" (leak).  A context's ghost "last written value" is therefore implicit:
it is the token ``<ctx>``, and writes turn every other copy of ``<ctx>`` into ``<ctx>~``.

One register stands for all 32: every save/restore moves V0-V31 (and Z0-Z31) together, so
by data independence one Z register (V slice + high slice) and one FPSR/FPCR pair suffice.
Without SME that pair is one slice (``fpsr``): every helper copies FPSR and FPCR
together, and every write of one by a context writes the other.  With SME (Config.sme)
they are two slices, ``fpsr`` and ``fpcr`` (`Image.fpcr`), because a change of PSTATE.SM
sets FPSR to its reset value and leaves FPCR as it was (the Arm ARM's rule,
model/variants/v6_sme.py `sme_write_svcr`), and some saved-state edits of the kernel
write one and not the other (v6.16's task_smstop_sm()); each helper that copies FPSR and
FPCR copies both slices (`Image.fpsr_slots`, `Ctx.copy_fpsr_fpcr`).  With SVE (Config.sve) the
predicate registers P0-P15 and FFR are one more slice (``p``) of the CPU registers, of
thread.sve_state and of a signal frame's SVE record: they do *not* move with Z (an FPSIMD
load writes V and zeroes the Z bits above 127 but leaves P/FFR alone, Documentation/
arm64/sve.txt A.1 and the Arm ARM), so they have their own generations: a task's P
tokens are retired only when it writes P (`Ctx.supersede_p`), and its ghost
``p_written`` (domain `P_GHOST`) says whether its P/FFR hold a defined value it must read
back (after an SVE write), must read zero (where the kernel guarantees zero: e.g. a change
of PSTATE.SM, the v6.9+ syscall ABI) or are unspecified (after a syscall up to v6.8,
sve.txt section 3; after a vector-length change).  One vector length is
used everywhere.  With AArch32 guests (Config.guest_aarch32) a further
slice, FPEXC32_EL2, belongs to each CPU's registers and each vcpu's saved context
(`Image.fpexc`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from model.config import Config
from model.dsl import BOOL, GHOST_BOOL, Const, Domain, Expr, Ite, ModelError, Var, int_domain

PCS = (
    "USER",  # at EL0, running user code
    "KERNEL",  # in a syscall or on the ret_to_user path, IRQs on, preemptible
    "VCPU_LOAD",  # KVM_RUN: in kvm_arch_vcpu_ioctl_run, before vcpu_load()
    "LOOP_TOP",  # KVM_RUN: top of the run loop (cond_resched), vcpu loaded
    "IN_GUEST",  # KVM_RUN: the guest runs on this CPU
    "POST_EXIT",  # KVM_RUN: after local_irq_enable() following guest exit, preempt off
    "LOOP_EXIT",  # KVM_RUN: left the run loop, before vcpu_put()
    # v6.8+ (state feature kernel_fpstate): inside a task-context kernel-mode NEON
    # section, between kernel_neon_begin() and kernel_neon_end(), preemptible.
    "KERNEL_NEON",
    # v6.x with SVE (state feature fp_type): in do_sve_acc() after sve_alloc(), before
    # get_cpu_fpsimd_context(): preemptible (the allocation may sleep).
    "SVE_ACC",
)
# (Config.sme) in do_sme_acc() after sve_alloc()/sme_alloc(), before
# get_cpu_fpsimd_context(): preemptible (the allocations may sleep).  Appended to PCS only
# with SME, so that the other configurations' encodings are unchanged.
SME_PCS = ("SME_ACC",)
# (v6.8+, state feature kernel_fpstate, event kvm_run_kernel_neon) the VMM thread inside a
# preemptible kernel-mode NEON section in KVM_RUN, vcpu loaded, entered from the run
# loop's top or after the loop (before vcpu_put()), where it goes back to.  Appended
# only then, so that the other configurations' encodings are unchanged.
RUN_NEON_PCS = ("RUN_NEON_TOP", "RUN_NEON_EXIT")
# (event signal with a VL-change event whose lengths can differ: `Layout.sigreturn_can_fail`)
# SIGSEGV: a task whose rt_sigreturn failed (a frame record's VL is not the task's:
# -EINVAL -> badframe -> arm64_notify_segfault()) and which has not yet died of the
# SIGSEGV (get_signal() -> do_group_exit(), model.kernel.signal.sigsegv_exit); DEAD: it
# has (TASK_DEAD, switched out for the last time, never runnable again).  Appended only
# then, so that the other configurations' encodings are unchanged.
SIGSEGV_PCS = ("SIGSEGV", "DEAD")
PC = Domain("pc", PCS)

# State that only newer kernel versions have, declared only for the variants that need
# it (Variant.options["state_features"]), so that the 2018 variants' state is unchanged.
FEATURES: dict[str, str] = {
    "kernel_fpstate": "v6.8+ (aefbab8e77eb): TIF_KERNEL_FPSTATE, thread.kernel_fpsimd_state "
                      "and kernel_fpsimd_cpu; task-context kernel-mode NEON is preemptible "
                      "(program point KERNEL_NEON; one section token per task)",
    "vcpu_fp_state": "v6.0-v6.9: vcpu->arch.fp_state (FP_STATE_FREE/HOST_OWNED/GUEST_OWNED)",
    "host_data_fp_owner": "v6.10+: per-CPU host_data->fp_owner (replaces vcpu->arch.fp_state) "
                          "and host_data->fpsimd_state (the host state hyp saves)",
    "fp_type": "v6.2+ with SVE: thread.fp_type (the format of the saved state, FPSIMD or SVE) "
               "and in_syscall(current_pt_regs()) (pt_regs->syscallno) per task; "
               "do_sve_acc preemptible before its bh-disabled part (program point SVE_ACC)",
    "fpsimd_context_busy": "v5.3-v6.7 (6dcdefcde413): the per-CPU fpsimd_context_busy flag, "
                           "set by every get_cpu_fpsimd_context() (not only by "
                           "kernel_neon_begin() as 2018's kernel_neon_busy): the same "
                           "variable, named after the code that has it",
    "sve_acc": "with SVE: do_sve_acc() preemptible between sve_alloc() and "
               "get_cpu_fpsimd_context() as a step of its own (program point SVE_ACC) "
               "without thread.fp_type (v6.1); fp_type implies it",
    "to_save": "v6.16+ (398edaa12f9c) with SVE: per-CPU fpsimd_last_state.to_save "
               "(FP_STATE_CURRENT or FP_STATE_FPSIMD), which fpsimd_syscall_enter() sets "
               "to FPSIMD and a bind or fpsimd_syscall_exit() resets; the save reads it "
               "instead of in_syscall()",
    "vcpu_cptr_el2": "v5.x-v6.13 nVHE (gone in v6.14, 2fd5b4b0e7b4): vcpu->arch.cptr_el2, the "
                     "base value of __activate_traps(), which KVM_ARM_VCPU_INIT sets from "
                     "kvm_get_reset_cptr_el2() (TZ if the vcpu has SVE and the guest owns "
                     "the FP registers at that moment); a variable only with SVE vcpus, "
                     "nVHE and event vcpu_init",
    "host_sme_enabled": "v5.19-v6.13 with SME and VHE: the vcpu flag HOST_SME_ENABLED "
                        "(CPACR_EL1.SMEN_EL0EN as kvm_arch_vcpu_load_fp() found it, which "
                        "kvm_arch_vcpu_put_fp() restores; gone in v6.14)",
}
# enum fp_state in arch/arm64/include/asm/kvm_host.h (v6.0+): FREE is 0.
FP_OWNER = Domain("fp_state", ("FREE", "HOST_OWNED", "GUEST_OWNED"))
# enum fp_type (v6.2+): the format of a saved state (FP_STATE_CURRENT is only a to_save).
FP_TYPE = Domain("fp_type", ("FPSIMD", "SVE"))
# fpsimd_last_state.to_save (feature to_save): FP_STATE_CURRENT is 0 in enum fp_type, the
# value of the zero-initialised per-CPU variable at boot; FP_STATE_SVE is what ctxsync
# binds an SVE vcpu with, so it is a value only with SVE vcpus (Config.sve_guest,
# TO_SAVE_SVE_GUEST): without them the domain, and every trace, stays as it was.
TO_SAVE = Domain("to_save", ("CURRENT", "FPSIMD"))
TO_SAVE_SVE_GUEST = Domain("to_save", ("CURRENT", "FPSIMD", "SVE"))
# The ghost p_written (TaskVars.p_written, sf_p_written): what a task must read in its
# P0-P15/FFR.  P_UNDEFINED: unspecified (only no_leak constrains them); P_LATEST: its
# latest P write; P_ZERO: zero, where the kernel guarantees it (an SM change, the v6.9+
# syscall ABI, v6.16's header-only ptrace write, ...).  One three-valued ghost rather than
# a second boolean beside it: the three cases exclude each other, and the ghost exists
# only with SVE or SME (a constant elsewhere), so no non-SVE state or encoding changes.
P_GHOST = Domain("p_ghost", ("0", "1", "zero"), "ghost")
P_UNDEFINED, P_LATEST, P_ZERO = 0, 1, 2


@dataclass(frozen=True)
class Image:
    """An FP register image: the live registers of a CPU or a save area in memory."""

    name: str
    v: Var | Expr
    # FPSR, and FPCR too where ``fpcr`` is None (without SME: every helper copies the two
    # together and every context's write writes both, so one slice stands for the pair)
    fpsr: Var | Expr
    zhi: Var | Expr  # Z bits [VL-1:128]; constant 0 without SVE
    # FPEXC32_EL2 (AArch32 guests only): the CPU's register, or the vcpu's saved copy in
    # vcpu->arch.ctxt.sys_regs[FPEXC32_EL2].  None elsewhere.  No FPSIMD/SVE save or load
    # helper moves it (copy_image ignores it); hyp moves it explicitly.
    fpexc: Var | Expr | None = None
    # P0-P15 and FFR (SVE only; constant 0 elsewhere).  Not in `slots()`: P has its own
    # generations (see the module docstring), so it is handled by `p_slots()`.
    p: Var | Expr | None = None
    # FPMR (Config.fpmr, v6.9+ with FEAT_FPMR): the CPU's register, a task's
    # thread.uw.fpmr, a vcpu's FPMR (vcpu->arch.fpmr in v6.9/v6.10, the FPMR sys_reg from
    # v6.12).  None elsewhere (struct user_fpsimd_state has no FPMR: the kernel-mode and
    # EFI save areas never hold it).  Like FPEXC, no FPSIMD/SVE helper moves it
    # (copy_image ignores it): each FPMR statement of the C moves it explicitly.
    fpmr: Var | Expr | None = None
    # (Config.sme) FPCR, a slice of its own: a PSTATE.SM change resets FPSR and keeps FPCR
    # (model/variants/v6_sme.py sme_write_svcr).  None elsewhere (``fpsr`` is the pair).
    # Every image that holds FPSR holds FPCR beside it (struct user_fpsimd_state's fpsr
    # and fpcr, the CPU's registers, a signal frame's fpsimd_context, ...).
    fpcr: Var | Expr | None = None
    # (signal frames with Config.sme) sve_context's own copy of Z bits [127:0], beside
    # fpsimd_context's V (``v``).  Delivery writes the two alike, but a handler may edit
    # fpsimd_context alone, and the ABI (sve.rst, "Signal return") says Z bits [127:0]
    # are then restored from fpsimd_context; a streaming-mode restore that skips that
    # merge (v5.19-v6.15, fixed by c94f2f326146) takes them from this copy.  None
    # elsewhere (without SME every version merges, so one slice is exact).
    zv: Var | Expr | None = None

    def slots(self) -> tuple[Var, ...]:
        return tuple(x for x in (self.v, self.fpsr, self.zhi, self.fpexc, self.fpmr, self.fpcr,
                                 self.zv)
                     if isinstance(x, Var))

    def fpsr_slots(self) -> list[Var]:
        """The FPSR/FPCR slices that are state: ``fpsr`` (the pair without SME) and, with
        SME, ``fpcr``."""
        return [x for x in (self.fpsr, self.fpcr) if isinstance(x, Var)]

    @property
    def fpcr_or_pair(self) -> Var | Expr:
        """FPCR's slice: ``fpcr`` where it has its own, else ``fpsr`` (the pair)."""
        return self.fpcr if self.fpcr is not None else self.fpsr

    def p_slots(self) -> tuple[Var, ...]:
        return (self.p,) if isinstance(self.p, Var) else ()

    def all_slots(self) -> tuple[Var, ...]:
        return self.slots() + self.p_slots()


@dataclass
class CpuVars:
    index: int
    regs: Image
    last_st: Var  # fpsimd_last_state.st
    last_sve_in_use: Var  # fpsimd_last_state.sve_in_use
    irqs_disabled: Var
    preempt_count: Var
    softirq_count: Var  # softirq_count(): bh-disable depth plus a softirq being served
    hardirq: Var  # in_irq()
    current: Var
    fp_trap: Var  # nVHE: CPTR_EL2.TFP (1 = trap); VHE: CPACR_EL1.FPEN (1 = FP enabled)
    # kernel_neon_busy (v4.17-v4.18); with feature fpsimd_context_busy the per-CPU
    # fpsimd_context_busy of v5.3-v6.7, which every get_cpu_fpsimd_context() sets
    kernel_neon_busy: Var
    rq_lock: Var  # this CPU's rq->lock is held (taken only by __schedule in this model)
    host_ctxt: Image  # kvm_host_cpu_state.host_ctxt.gp_regs.fp_regs (v4.17's host save area)
    zen_el0en: Var | Expr  # CPACR_EL1.ZEN_EL0EN: EL0 may use SVE (constant 0 without SVE)
    # cpu_online_mask bit (event cpu_hotplug; constant 1 otherwise)
    online: Var | Expr = field(default=None)  # type: ignore[assignment]
    # arch/arm64/kernel/fpsimd.c per-CPU EFI save area (event efi; constants otherwise):
    # efi_fpsimd_state (V, FPSR/FPCR), efi_sve_state (Z: V slice and high slice, with SVE),
    # efi_fpsimd_state_used, efi_sve_state_used.
    efi_fpsimd_state: Image = field(default=None)  # type: ignore[assignment]
    efi_sve_state: Image = field(default=None)  # type: ignore[assignment]
    efi_fpsimd_state_used: Var | Expr = field(default=None)  # type: ignore[assignment]
    efi_sve_state_used: Var | Expr = field(default=None)  # type: ignore[assignment]
    # (event efi with SME and SVE) the per-CPU efi_sm_state: PSTATE.SM when
    # __efi_fpsimd_begin() saved the registers into the buffers.
    efi_sm_state: Var | Expr = field(default=None)  # type: ignore[assignment]
    # (feature host_data_fp_owner, v6.10+) host_data->fp_owner and host_data->fpsimd_state
    fp_owner: Var | Expr = None  # type: ignore[assignment]
    host_fpsimd_state: Var | Expr = None  # type: ignore[assignment]
    # ZCR_EL1.LEN, the live SVE vector length of EL0/EL1 (with VHE the host's ZCR_EL1
    # accesses go to ZCR_EL2): an index into Config.sve_vls; constant with one VL.
    zcr: Var | Expr = None  # type: ignore[assignment]
    # (feature to_save, with SVE; v6.16+) fpsimd_last_state.to_save
    last_to_save: Var | Expr = None  # type: ignore[assignment]
    # (Config.sve_guest, several VLs) the ZCR register the host kernel's ZCR_EL1 accesses
    # do not reach: nVHE: ZCR_EL2.LEN (hyp's; it limits the EL1/EL0 vector length); VHE:
    # ZCR_EL1.LEN proper (the host, at EL2, reaches it as ZCR_EL12: a guest's).  Use
    # Layout.zcr_el1_reg / zcr_el2_reg for the architectural registers.
    zcr2: Var | Expr = None  # type: ignore[assignment]
    # (Config.sve_guest or event guest_hidden_sve, nVHE) CPTR_EL2.TZ: SVE instructions and
    # ZCR_EL1 accesses at EL1/EL0 trap to EL2 (constant 0 otherwise)
    cptr_tz: Var | Expr = None  # type: ignore[assignment]
    # (Config.sme) PSTATE.SM, PSTATE.ZA (the SVCR bits), CPACR_EL1.SMEN_EL0EN and the ZA
    # array (one slot: every save/load moves the whole of ZA, so by data independence one
    # token stands for all its rows; no ZT0).  Constants otherwise.
    sm: Var | Expr = None  # type: ignore[assignment]
    za_on: Var | Expr = None  # type: ignore[assignment]
    smen_el0en: Var | Expr = None  # type: ignore[assignment]
    za: Var | Expr = None  # type: ignore[assignment]
    # (Config.sme_vls) SMCR_EL1.LEN, the live streaming vector length of EL0/EL1 (with VHE
    # the host's SMCR_EL1 accesses go to SMCR_EL2; with nVHE SMCR_EL2.LEN stays at the
    # maximum KVM's init set, so SMCR_EL1 alone decides): an index into Config.sme_vls;
    # constant with one streaming VL.
    smcr: Var | Expr = None  # type: ignore[assignment]


@dataclass
class TaskVars:
    index: int
    name: str
    mm: bool  # a user task (current->mm != NULL) or a kernel thread (idle)
    vmm: bool
    tif_foreign: Var | Expr
    tif_sve: Var | Expr
    fpsimd_cpu: Var | Expr
    pc: Var | Expr
    uw: Image  # thread.uw.fpsimd_state: V0-V31, FPSR/FPCR (its zhi is constant 0)
    loaded_vcpu: Var | Expr  # the vcpu whose preempt notifier is registered on this task
    sve_state: Image  # thread.sve_state: Z0-Z31 (V slice and high slice; no FPSR here)
    zhi_expected: Var | Expr  # ghost: the task's last write set Z bits above 127 (else 0)
    # ghost (SVE; domain P_GHOST): the task's P/FFR hold a defined value it must read
    # back (P_LATEST: its last P write), must read zero (P_ZERO: where the kernel
    # guarantees zero), or are unspecified (P_UNDEFINED: only no_leak applies).
    p_written: Var | Expr = None  # type: ignore[assignment]
    # ghost (event exec): the task has exec'd and not written FP since: it must read zero.
    expect_zero: Var | Expr = None  # type: ignore[assignment]
    # ghost (event exec with Config.fpmr): the same for FPMR alone.  FPMR has writes of
    # its own (a tracer's NT_ARM_FPMR) and is untouched by others (NT_PRFPREG), so after
    # exec the task may have to read a zero FPMR with a newer V, or the reverse.
    fpmr_expect_zero: Var | Expr = None  # type: ignore[assignment]
    # ghost (Config.sme with event exec or ptrace_sve_nodata): the task's FPCR must read
    # zero (exec's memset of uw.fpsimd_state, v6.16's header-only ptrace write) until it
    # writes FP.  FPCR has its own ghost because a PSTATE.SM change (which makes the task
    # read zero V and the reset FPSR: ``expect_zero``) leaves FPCR as it was, so after
    # exec and an SMSTART the task may have to read a zero FPCR, or after a write and an
    # SMSTART its latest FPCR, with the same zero V.  Without SME FPCR is in the ``fpsr``
    # slice and ``expect_zero`` covers it.
    fpcr_expect_zero: Var | Expr = None  # type: ignore[assignment]
    # Stopped in a ptrace stop (TASK_TRACED) and not runnable until the tracer resumes it
    # (event ptrace_stop; constant 0 otherwise).
    stopped: Var | Expr = None  # type: ignore[assignment]
    # (event signal) the rt_sigframe's FP records in user memory: fpsimd_context (V,
    # FPSR/FPCR) and, with SVE, sve_context's register data (Z bits above 127, P/FFR).
    sigframe: Image | None = None
    sigframe_sve: Var | Expr = None  # type: ignore[assignment]  # sve_context has regs
    in_handler: Var | Expr = None  # type: ignore[assignment]  # a handler runs on the frame
    # ghost (event signal): the frame was written by delivery and the task has not
    # written FP since: the frame must hold exactly the interrupted registers.
    sigframe_fresh: Var | Expr = None  # type: ignore[assignment]
    # (feature kernel_fpstate, v6.8+) TIF_KERNEL_FPSTATE, thread.kernel_fpsimd_state (V,
    # FPSR/FPCR: a struct user_fpsimd_state) and thread.kernel_fpsimd_cpu.
    tif_kernel_fpstate: Var | Expr = None  # type: ignore[assignment]
    kernel_state: Image | None = None
    kernel_fpsimd_cpu: Var | Expr = None  # type: ignore[assignment]
    # (feature fp_type, with SVE) thread.fp_type: 1 = FP_STATE_SVE, 0 = FP_STATE_FPSIMD;
    # in_syscall(current_pt_regs()): the task entered the kernel by a syscall.
    fp_type: Var | Expr = None  # type: ignore[assignment]
    # (event fork) the task exists: 0 until fork creates it (only the fork event's child
    # slot, `Layout.fork_child`; constant 1 for every other task).
    created: Var | Expr = None  # type: ignore[assignment]
    # (event sve_set_vl) thread.sve_vl: the task's SVE vector length, an index into
    # Config.sve_vls; constant where the configuration has one vector length.
    sve_vl: Var | Expr = None  # type: ignore[assignment]
    # (events fork, sve_set_vl) the task is inside a syscall's body (el0_svc entered it;
    # the body's end or the return to user space ends it: fork, prctl, rt_sigreturn and
    # KVM_RUN end it; exec and the other syscall bodies, which are not steps of their
    # own, leave it set): the syscall-only paths need it,
    # because pc KERNEL also stands for the exception-return path (after an IRQ or an
    # SVE trap from EL0), where no syscall can start.  Constant 1 otherwise.
    syscall_body: Var | Expr = None  # type: ignore[assignment]
    in_syscall: Var | Expr = None  # type: ignore[assignment]
    # (Config.sme) TIF_SME, thread.svcr's SM and ZA bits, thread.sme_state (ZA), and
    # ghosts: the PSTATE.SM/PSTATE.ZA the task must run with, and whether its ZA must hold
    # its latest ZA write (1) or zero (0, after its SMSTART ZA).
    tif_sme: Var | Expr = None  # type: ignore[assignment]
    svcr_sm: Var | Expr = None  # type: ignore[assignment]
    svcr_za: Var | Expr = None  # type: ignore[assignment]
    sme_state: Var | Expr = None  # type: ignore[assignment]
    sm_expected: Var | Expr = None  # type: ignore[assignment]
    za_expected: Var | Expr = None  # type: ignore[assignment]
    za_written: Var | Expr = None  # type: ignore[assignment]
    # (Config.sme_vls) thread.vl[ARM64_VEC_SME] (task_get_sme_vl()): the task's streaming
    # vector length, an index into Config.sme_vls; constant with one streaming VL.
    sme_vl: Var | Expr = None  # type: ignore[assignment]
    # (event signal with Config.sme) the frame's SME records: sve_context's
    # SVE_SIG_FLAG_SM, whether za_context carries ZA data, and that data (one slot, as ZA
    # is); and ghosts: what the task had to read when the signal was delivered (expect_zero,
    # zhi_expected, p_written, sm_expected, za_expected, za_written), taken before the
    # handler entry's SMSTOP changes them: while the frame is fresh it must hold those
    # (`SIGFRAME_SNAPSHOT`).  Constants otherwise.
    sigframe_sm: Var | Expr = None  # type: ignore[assignment]
    sigframe_za: Var | Expr = None  # type: ignore[assignment]
    sigframe_zadata: Var | Expr = None  # type: ignore[assignment]
    sf_expect_zero: Var | Expr = None  # type: ignore[assignment]
    sf_zhi_expected: Var | Expr = None  # type: ignore[assignment]
    sf_p_written: Var | Expr = None  # type: ignore[assignment]
    sf_sm_expected: Var | Expr = None  # type: ignore[assignment]
    sf_za_expected: Var | Expr = None  # type: ignore[assignment]
    sf_za_written: Var | Expr = None  # type: ignore[assignment]
    # (the same, with FPMR and the exec event: fpmr_expect_zero at delivery; a constant
    # unless fpmr_expect_zero is a variable)
    sf_fpmr_expect_zero: Var | Expr = None  # type: ignore[assignment]
    # (the same for fpcr_expect_zero, a constant unless it is a variable)
    sf_fpcr_expect_zero: Var | Expr = None  # type: ignore[assignment]
    # (event signal with sve_set_vl and several SVE VLs: Layout.frame_vl) the VL the frame's
    # sve_context header carries for a non-streaming record: the task's thread.sve_vl at
    # delivery (preserve_sve_context()), which restore_sve_fpsimd_context() compares with
    # the task's VL at rt_sigreturn.  None otherwise (the check cannot fail).
    sigframe_vl: Var | None = None
    # (event signal with sme_set_vl and several SVLs: Layout.frame_svl) the streaming VL at
    # delivery, which za_context's header carries (preserve_za_context()) and, for a
    # streaming record (SVE_SIG_FLAG_SM), sve_context's; compared with the task's SME VL
    # by restore_za_context() and restore_sve_fpsimd_context().  None otherwise.
    sigframe_svl: Var | None = None


# (event signal with SME) each snapshot ghost of TaskVars and the ghost it copies at delivery.
SIGFRAME_SNAPSHOT = (("sf_expect_zero", "expect_zero"), ("sf_zhi_expected", "zhi_expected"),
                     ("sf_p_written", "p_written"), ("sf_sm_expected", "sm_expected"),
                     ("sf_za_expected", "za_expected"), ("sf_za_written", "za_written"),
                     ("sf_fpmr_expect_zero", "fpmr_expect_zero"),
                     ("sf_fpcr_expect_zero", "fpcr_expect_zero"))


@dataclass
class VcpuVars:
    index: int
    name: str
    fp_regs: Image  # vcpu->arch.ctxt.gp_regs.fp_regs
    fp_enabled: Var
    fp_host: Var
    host_sve_in_use: Var
    host_thread_info: Var  # which task's thread_info hyp reads (NULL before run_map_fp)
    host_fpsimd_state: Var  # pointer to a task's uw.fpsimd_state (NULL before run_map_fp)
    host_sve_enabled: Var | Expr  # KVM_ARM64_HOST_SVE_ENABLED (v4.18; constant without SVE)
    pid: Var  # vcpu->pid: the task of the last KVM_RUN
    mutex: Var  # vcpu->mutex: the task holding it (a sleeping lock), NULL if free
    # vcpu->arch.power_off (PSCI CPU_OFF/CPU_ON; event vcpu_reset, else constant 0)
    power_off: Var | Expr
    # KVM_REQ_VCPU_RESET pending (v5.0's self-reset; event vcpu_reset, else constant 0)
    reset_pending: Var | Expr
    # (feature vcpu_fp_state, v6.0-v6.9) vcpu->arch.fp_state
    fp_state: Var | Expr = None  # type: ignore[assignment]
    # (feature vcpu_cptr_el2, nVHE, SVE vcpus, event vcpu_init) vcpu->arch.cptr_el2's TZ
    cptr_el2_tz: Var | Expr = None  # type: ignore[assignment]
    # (Config.sve_guest) vcpu->arch.sve_state: Z0-Z31 (V slice and the bits above 127) and
    # P0-P15/FFR of an SVE vcpu, at its max VL (FPSR/FPCR stay in fp_regs; fp_regs.v is
    # not used for an SVE vcpu).  None without SVE vcpus.
    sve_state: Image | None = None
    # (Config.sve_guest, several VLs) the vcpu's saved ZCR_EL1.LEN
    # (vcpu->arch.ctxt.sys_regs[ZCR_EL1], what the guest last wrote when not live)
    zcr_el1: Var | Expr = None  # type: ignore[assignment]
    # (Config.sme, VHE) the vcpu flag HOST_SME_ENABLED (v6.8-v6.13): CPACR_EL1.SMEN_EL0EN
    # as kvm_arch_vcpu_load_fp() found it, restored by kvm_arch_vcpu_put_fp().  The C
    # records it in both hyp modes but reads it only with VHE: a constant 0 otherwise.
    host_sme_enabled: Var | Expr = None  # type: ignore[assignment]


@dataclass(frozen=True)
class WindowFacts:
    """What is statically known at a continuation point (model.ctx `_window_facts`, by
    the constant propagation of model.interleave.ExecState) for every task that can wait
    there: the vcpus whose mutex it holds, and (slot name, token) for the FP value slots
    whose token is known, e.g. the slots a multi-register write has already stored.
    Hints for the lemmas that describe a task preempted inside a step; `prove` checks
    every lemma built from them, so a wrong hint is a failed proof, not a wrong verdict."""

    held: frozenset[int] = frozenset()
    tokens: frozenset[tuple[str, int]] = frozenset()

    def __and__(self, other: WindowFacts) -> WindowFacts:
        return WindowFacts(self.held & other.held, self.tokens & other.tokens)


@dataclass
class Layout:
    """All state variables of one configuration, with readable accessors."""

    config: Config
    # State features of newer kernels (FEATURES): none for the 2018 variants.
    features: frozenset[str] = frozenset()
    # Continuation points of steps split at a preemption point (model.steps.split_plan):
    # a task preempted inside a step waits there until it resumes, on any CPU.
    extra_pcs: tuple[str, ...] = ()
    # C locals a resumed step reads that the preempted part computed (model.steps
    # SplitPlan): (variable name, domain), kept in state while the task waits.
    carried: tuple[tuple[str, Domain], ...] = ()
    # (continuation pc, where its window opens: "function: the statement after it"), for
    # lemmas that describe a task waiting at a continuation point (properties/lemmas.py)
    pc_where: tuple[tuple[str, str], ...] = ()
    # (continuation pc, WindowFacts there), for the same lemmas
    pc_facts: tuple[tuple[str, WindowFacts], ...] = ()
    vars: list[Var] = field(default_factory=list)
    init: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        cfg = self.config
        self.features = frozenset(self.features)
        run_neon = "kernel_fpstate" in self.features and "kvm_run_kernel_neon" in cfg.events
        events = set(cfg.events)
        self.signals = "signal" in events
        # (Config.sme) the ghost fpcr_expect_zero: with the events that zero a task's
        # saved FPCR as a new value it must read (exec; v6.16's header-only ptrace write)
        self.fpcr_ghost = cfg.sme and bool(events & {"exec", "ptrace_sve_nodata"})
        # (event signal with sve_set_vl / sme_set_vl and several lengths of that kind) a
        # handler can change its VL, so a frame record's VL can differ from the task's at
        # rt_sigreturn: per-task frame VLs (TaskVars.sigframe_vl/sigframe_svl) and the
        # program points of a task killed by the failed sigreturn (SIGSEGV_PCS)
        self.frame_vl = self.signals and "sve_set_vl" in events and len(cfg.sve_vls) > 1
        self.frame_svl = self.signals and "sme_set_vl" in events and len(cfg.sme_vls) > 1
        self.PC = Domain("pc", PCS + (SME_PCS if cfg.sme else ())
                         + (RUN_NEON_PCS if run_neon else ())
                         + (SIGSEGV_PCS if self.sigreturn_can_fail else ())
                         + tuple(self.extra_pcs))
        unknown = sorted(self.features - set(FEATURES))
        if unknown:
            raise ModelError(f"unknown state features {unknown}; known: {sorted(FEATURES)}")
        kfp = "kernel_fpstate" in self.features
        # thread.fp_type and in_syscall() exist with SVE or SME (a streaming-mode save is
        # in SVE format, v6.x)
        fpt = "fp_type" in self.features and (cfg.sve or cfg.sme)
        # The Z bits above 127 and P0-P15/FFR exist in the registers with SVE, and with
        # SME in streaming mode (at the streaming VL; one slice stands for either length:
        # an SM change zeroes them, so no value crosses between the two lengths).
        zp = cfg.sve or cfg.sme
        nu = cfg.user_tasks
        self.task_names = [f"T{i}" for i in range(cfg.tasks)] + [
            f"vmm{i}" for i in range(cfg.vmm_threads)
        ]
        self.guest_names = [f"G{v}" for v in range(cfg.vcpus)]
        self.owner_names = self.task_names + self.guest_names
        # (event kthread_kernel_neon, state feature kernel_fpstate: v6.8+) a kernel thread
        # that is not bound to a CPU (a kworker or an md kthread) and runs preemptible
        # task-context kernel-mode NEON: the task after the idle threads.
        self.kworker: int | None = (
            nu + cfg.cpus if kfp and "kthread_kernel_neon" in events else None)
        all_tasks = self.task_names + [f"idle{c}" for c in range(cfg.cpus)] + (
            ["kworker"] if self.kworker is not None else [])
        value_labels = ["0", "kneon"]
        for o in self.owner_names:
            value_labels += [o, o + "~"]
        # A kernel-mode NEON section's data while the section runs: one token per kind.
        # Per kind suffices: between a section's write and its read-back only this CPU's
        # IRQ (softirq) code can run (the section is inside one step), and task context
        # has at most one section per CPU at a time.
        self.KNEON_TASK = len(value_labels)
        self.KNEON_SOFTIRQ = self.KNEON_TASK + 1
        value_labels += ["kneon.task", "kneon.softirq"]
        self._kneon_task_tok = self.KNEON_TASK
        self._kneon_softirq_tok = self.KNEON_SOFTIRQ
        # With preemptible task-context kernel NEON (v6.8+) a section spans steps and
        # several tasks can be inside one at once: one token per task.
        self._kneon_per_task: dict[int, int] = {}
        if kfp:
            for t, name in enumerate(self.task_names):
                self._kneon_per_task[t] = len(value_labels)
                value_labels.append(f"kneon.{name}")
            if self.kworker is not None:
                self._kneon_per_task[self.kworker] = len(value_labels)
                value_labels.append("kneon.kworker")
        # Tokens of optional events go last (so latest()/stale() and the default
        # configuration's encoding are unchanged); None when absent.
        self.EFI: int | None = None
        self.UNKNOWN: int | None = None
        if "efi" in cfg.events:
            self.EFI = len(value_labels)
            value_labels.append("efi")
        if "cpu_pm" in cfg.events or "cpu_hotplug" in cfg.events:
            self.UNKNOWN = len(value_labels)
            value_labels.append("unknown")
        self.VALUE = Domain("value", tuple(value_labels), "value")
        self.TASK = Domain("task", tuple(all_tasks))
        self.TASK_OR_NULL = Domain("task_ptr", ("NULL",) + tuple(self.task_names))
        self.CPU_OR_NR = Domain("cpu", tuple(f"cpu{c}" for c in range(cfg.cpus)) + ("NR_CPUS",))
        self.VCPU_OR_NONE = Domain("vcpu", ("none",) + tuple(f"vcpu{v}" for v in range(cfg.vcpus)))
        self.FPSTATE_PTR = Domain(
            "fpsimd_state_ptr",
            ("NULL",)
            + tuple(f"{t}.uw" for t in self.task_names)
            + tuple(f"vcpu{v}.fp_regs" for v in range(cfg.vcpus))
            + (tuple(f"{t}.kernel" for t in self.task_names) if kfp else ())
            + (("kworker.kernel",) if self.kworker is not None else ()),
        )
        self.COUNT = int_domain("count", 4)
        # SVE vector lengths (Config.sve_vls): a value is an index into the sorted list.
        self.VL = Domain("sve_vl", tuple(str(v) for v in cfg.sve_vls) or ("one",))
        self.multi_vl = len(cfg.sve_vls) > 1
        # SME streaming vector lengths (Config.sme_vls), likewise.
        self.SVL = Domain("sme_vl", tuple(str(v) for v in cfg.sme_vls) or ("one",))
        self.multi_svl = len(cfg.sme_vls) > 1
        zero = Const(self.VALUE, 0)

        def image(prefix: str, init_value: int, with_zhi: bool = False) -> Image:
            """V and FPSR/FPCR slices; the Z bits above V only where the image has them
            (the CPU registers with SVE; user_fpsimd_state never has them)."""
            v = self._var(f"{prefix}.v", self.VALUE, init_value)
            fpsr = self._var(f"{prefix}.fpsr", self.VALUE, init_value)
            zhi = self._var(f"{prefix}.zhi", self.VALUE, 0) if with_zhi and zp else zero
            # P0-P15/FFR: the CPU registers with SVE (reset value taken as zero)
            p = self._var(f"{prefix}.p", self.VALUE, 0) if with_zhi and zp else zero
            return Image(prefix, v, fpsr, zhi, p=p, fpcr=fpcr_var(prefix, init_value))

        def fpcr_var(prefix: str, init_value: int) -> Var | None:
            """(Config.sme) FPCR beside FPSR (`Image.fpcr`); None without SME.  Declared
            after the image's other slices, so that without SME nothing moves."""
            return self._var(f"{prefix}.fpcr", self.VALUE, init_value) if cfg.sme else None

        def sve_image(prefix: str, init_value: int) -> Image:
            """thread.sve_state: Z registers (V slice, high slice) and P0-P15/FFR; FPSR
            is not in it."""
            if not zp:
                return Image(prefix, zero, zero, zero, p=zero)
            v = self._var(f"{prefix}.v", self.VALUE, init_value)
            zhi = self._var(f"{prefix}.zhi", self.VALUE, 0)
            p = self._var(f"{prefix}.p", self.VALUE, 0)
            return Image(prefix, v, zero, zhi, p=p)

        def sigframe_image(prefix: str) -> Image:
            """The signal frame's FP records (user memory): V and FPSR/FPCR from
            fpsimd_context; with SVE or SME the Z bits above 127 and P/FFR from sve_context
            (sve_context's copy of V duplicates fpsimd_context's, sve.txt section 4); with
            FEAT_FPMR (Config.fpmr, v6.9+) fpmr_context's FPMR."""
            v = self._var(f"{prefix}.v", self.VALUE, 0)
            fpsr = self._var(f"{prefix}.fpsr", self.VALUE, 0)
            zhi = self._var(f"{prefix}.zhi", self.VALUE, 0) if zp else zero
            p = self._var(f"{prefix}.p", self.VALUE, 0) if zp else zero
            img = Image(prefix, v, fpsr, zhi, p=p, fpcr=fpcr_var(prefix, 0))
            if cfg.sme:  # sve_context's copy of Z bits [127:0] (Image.zv)
                img = replace(img, zv=self._var(f"{prefix}.sve_v", self.VALUE, 0))
            return self._with_fpmr(img, f"{prefix}.fpmr", 0)

        b = BOOL
        self.ptrace = "ptrace_stop" in events
        # (event fork) the task slot a fork creates: the last plain user task, when there
        # is another user task to be its parent.  It does not exist until then.
        self.fork_child: int | None = (
            cfg.tasks - 1 if "fork" in events and cfg.tasks >= 1 and cfg.user_tasks >= 2
            else None)
        self.cpu: list[CpuVars] = []
        to_save = TO_SAVE_SVE_GUEST if cfg.sve_guest else TO_SAVE
        for c in range(cfg.cpus):
            p = f"cpu{c}"
            self.cpu.append(
                CpuVars(
                    index=c,
                    regs=self._with_fpmr(self._with_fpexc(image(f"{p}.regs", 0, with_zhi=True),
                                                          f"{p}.FPEXC32_EL2", 0),
                                         f"{p}.regs.fpmr", 0),
                    last_st=self._var(f"{p}.fpsimd_last_state.st", self.FPSTATE_PTR, 0),
                    last_sve_in_use=self._var(f"{p}.fpsimd_last_state.sve_in_use", b, 0),
                    irqs_disabled=self._var(f"{p}.irqs_disabled", b, 0),
                    preempt_count=self._var(f"{p}.preempt_count", self.COUNT, 0),
                    softirq_count=self._var(f"{p}.softirq_count", self.COUNT, 0),
                    hardirq=self._var(f"{p}.in_irq", b, 0),
                    current=self._var(f"{p}.current", self.TASK, nu + c),
                    fp_trap=(
                        self._var(f"{p}.CPACR_EL1.FPEN", b, 1)
                        if cfg.vhe
                        else self._var(f"{p}.CPTR_EL2.TFP", b, 0)
                    ),
                    kernel_neon_busy=self._var(
                        f"{p}.fpsimd_context_busy" if "fpsimd_context_busy" in self.features
                        else f"{p}.kernel_neon_busy", b, 0),
                    rq_lock=self._var(f"{p}.rq.lock", b, 0),
                    host_ctxt=image(f"{p}.host_ctxt.fp_regs", 0),
                    zen_el0en=self._var(f"{p}.CPACR_EL1.ZEN_EL0EN", b, 0) if cfg.sve
                    else Const(b, 0),
                    fp_owner=self._var(f"{p}.host_data.fp_owner", FP_OWNER, 0)
                    if "host_data_fp_owner" in self.features else Const(FP_OWNER, 0),
                    host_fpsimd_state=self._var(f"{p}.host_data.fpsimd_state",
                                                self.FPSTATE_PTR, 0)
                    if "host_data_fp_owner" in self.features else Const(self.FPSTATE_PTR, 0),
                    # Boot leaves ZCR_EL1.LEN at the smallest length: sve_probe_vqs()
                    # writes every LEN from the largest down to VQ 1 (fpsimd.c).
                    zcr=self._var(f"{p}.ZCR_EL1.LEN", self.VL, 0) if self.multi_vl
                    else Const(self.VL, 0),
                    last_to_save=self._var(f"{p}.fpsimd_last_state.to_save", to_save, 0)
                    if "to_save" in self.features and cfg.sve else Const(to_save, 0),
                    # nVHE ZCR_EL2: KVM's init (cpu_prepare_hyp_mode/__kvm_hyp_init)
                    # leaves it at the host max (kvm_host_sve_max_vl).  VHE ZCR_EL1
                    # proper: unused by the host, taken as the smallest length (reset).
                    zcr2=self._var(f"{p}.{'ZCR_EL12' if cfg.vhe else 'ZCR_EL2'}.LEN", self.VL,
                                   0 if cfg.vhe else len(cfg.sve_vls) - 1)
                    if self.multi_vl and cfg.sve_guest else Const(self.VL, 0),
                    cptr_tz=self._var(f"{p}.CPTR_EL2.TZ", b, 0)
                    if (cfg.sve_guest or "guest_hidden_sve" in cfg.events) and cfg.sve
                    and not cfg.vhe else Const(b, 0),
                    # (Config.sme) PSTATE.SM and PSTATE.ZA (SVCR), reset 0;
                    # CPACR_EL1.SMEN_EL0EN (0: EL0 SME trapped; cpu_enable_sme() sets only
                    # SMEN_EL1EN)
                    sm=self._var(f"{p}.SVCR.SM", b, 0) if cfg.sme else Const(b, 0),
                    za_on=self._var(f"{p}.SVCR.ZA", b, 0) if cfg.sme else Const(b, 0),
                    smen_el0en=self._var(f"{p}.CPACR_EL1.SMEN_EL0EN", b, 0) if cfg.sme
                    else Const(b, 0),
                    za=self._var(f"{p}.ZA", self.VALUE, 0) if cfg.sme
                    else Const(self.VALUE, 0),
                    # Boot leaves SMCR_EL1.LEN at the smallest streaming length:
                    # vec_probe_vqs() writes every LEN from the largest down to VQ 1
                    # (fpsimd.c sme_setup(), v6.10.0 and v6.18.2).
                    smcr=self._var(f"{p}.SMCR_EL1.LEN", self.SVL, 0) if self.multi_svl
                    else Const(self.SVL, 0),
                )
            )
            cpu = self.cpu[-1]
            cpu.online = (self._var(f"{p}.online", b, 1) if "cpu_hotplug" in cfg.events
                          else Const(b, 1))
            if "efi" in cfg.events:
                cpu.efi_fpsimd_state = image(f"{p}.efi_fpsimd_state", 0)
                cpu.efi_sve_state = sve_image(f"{p}.efi_sve_state", 0)
                cpu.efi_fpsimd_state_used = self._var(f"{p}.efi_fpsimd_state_used", b, 0)
                cpu.efi_sve_state_used = (self._var(f"{p}.efi_sve_state_used", b, 0)
                                          if cfg.sve else Const(b, 0))
                cpu.efi_sm_state = (self._var(f"{p}.efi_sm_state", b, 0)
                                    if cfg.sve and cfg.sme else Const(b, 0))
            else:
                cpu.efi_fpsimd_state = Image(f"{p}.efi_fpsimd_state", zero, zero, zero)
                cpu.efi_sve_state = Image(f"{p}.efi_sve_state", zero, zero, zero)
                cpu.efi_fpsimd_state_used = Const(b, 0)
                cpu.efi_sve_state_used = Const(b, 0)
                cpu.efi_sm_state = Const(b, 0)
        self.tasks: list[TaskVars] = []
        for t, name in enumerate(self.task_names):
            vmm = t >= cfg.tasks
            self.tasks.append(
                TaskVars(
                    index=t,
                    name=name,
                    mm=True,
                    vmm=vmm,
                    tif_foreign=self._var(f"{name}.TIF_FOREIGN_FPSTATE", b, 1),
                    tif_sve=self._var(f"{name}.TIF_SVE", b, 0) if cfg.sve else Const(b, 0),
                    fpsimd_cpu=self._var(f"{name}.fpsimd_cpu", self.CPU_OR_NR, cfg.cpus),
                    pc=self._var(f"{name}.pc", self.PC, self.PC.index("KERNEL")),
                    uw=self._with_fpmr(image(f"{name}.uw", self.latest(t)),
                                       f"{name}.uw.fpmr", self.latest(t)),
                    loaded_vcpu=(
                        self._var(f"{name}.preempt_notifier", self.VCPU_OR_NONE, 0)
                        if vmm
                        else Const(self.VCPU_OR_NONE, 0)
                    ),
                    sve_state=sve_image(f"{name}.sve_state", 0),
                    zhi_expected=self._var(f"ghost.{name}.zhi_written", GHOST_BOOL, 0)
                    if zp else Const(GHOST_BOOL, 0),
                    p_written=self._var(f"ghost.{name}.p_written", P_GHOST, 0)
                    if zp else Const(P_GHOST, 0),
                    # (exec, or SME: an SM change zeroes the registers, which the task
                    # must then read as zero)
                    expect_zero=self._var(f"ghost.{name}.exec_zero", GHOST_BOOL, 0)
                    if "exec" in events or cfg.sme or "ptrace_sve_nodata" in events
                    else Const(GHOST_BOOL, 0),
                    fpmr_expect_zero=self._var(f"ghost.{name}.exec_zero_fpmr", GHOST_BOOL, 0)
                    if "exec" in events and cfg.fpmr else Const(GHOST_BOOL, 0),
                    fpcr_expect_zero=self._var(f"ghost.{name}.exec_zero_fpcr", GHOST_BOOL, 0)
                    if self.fpcr_ghost else Const(GHOST_BOOL, 0),
                    stopped=self._var(f"{name}.ptrace_stopped", b, 0) if self.ptrace
                    else Const(b, 0),
                    sigframe=sigframe_image(f"{name}.sigframe") if self.signals else None,
                    sigframe_sve=self._var(f"{name}.sigframe.sve_regs", b, 0)
                    if self.signals and zp else Const(b, 0),
                    in_handler=self._var(f"{name}.in_handler", b, 0) if self.signals
                    else Const(b, 0),
                    sigframe_fresh=self._var(f"ghost.{name}.sigframe_fresh", GHOST_BOOL, 0)
                    if self.signals else Const(GHOST_BOOL, 0),
                    tif_kernel_fpstate=self._var(f"{name}.TIF_KERNEL_FPSTATE", b, 0) if kfp
                    else Const(b, 0),
                    kernel_state=image(f"{name}.kernel_fpsimd_state", 0) if kfp else None,
                    kernel_fpsimd_cpu=self._var(f"{name}.kernel_fpsimd_cpu", self.CPU_OR_NR,
                                                cfg.cpus) if kfp
                    else Const(self.CPU_OR_NR, cfg.cpus),
                    fp_type=self._var(f"{name}.fp_type", FP_TYPE, 0) if fpt
                    else Const(FP_TYPE, 0),
                    in_syscall=self._var(f"{name}.in_syscall", b, 0) if fpt and cfg.sve
                    else Const(b, 0),
                    created=self._var(f"{name}.created", b, 0) if t == self.fork_child
                    else Const(b, 1),
                    # thread.sve_vl: every user task starts with sve_default_vl (set by
                    # fpsimd_flush_thread() at its exec)
                    sve_vl=self._var(f"{name}.sve_vl", self.VL, cfg.default_vl_index)
                    if self.multi_vl else Const(self.VL, 0),
                    syscall_body=self._var(f"{name}.syscall_body", b, 0)
                    if events & {"fork", "sve_set_vl", "sme_set_vl"} else Const(b, 1),
                    # (Config.sme) TIF_SME, thread.svcr (SM, ZA bits), thread.sme_state
                    # (ZA; no ZT0: no SME2), and the ghosts of what the task must read:
                    # its PSTATE.SM and PSTATE.ZA, and whether its ZA holds its latest
                    # write (else zero: SMSTART ZA zeroes it)
                    tif_sme=self._var(f"{name}.TIF_SME", b, 0) if cfg.sme else Const(b, 0),
                    svcr_sm=self._var(f"{name}.svcr.SM", b, 0) if cfg.sme else Const(b, 0),
                    svcr_za=self._var(f"{name}.svcr.ZA", b, 0) if cfg.sme else Const(b, 0),
                    sme_state=self._var(f"{name}.sme_state.za", self.VALUE, 0) if cfg.sme
                    else Const(self.VALUE, 0),
                    sm_expected=self._var(f"ghost.{name}.sm", GHOST_BOOL, 0) if cfg.sme
                    else Const(GHOST_BOOL, 0),
                    za_expected=self._var(f"ghost.{name}.za", GHOST_BOOL, 0) if cfg.sme
                    else Const(GHOST_BOOL, 0),
                    za_written=self._var(f"ghost.{name}.za_written", GHOST_BOOL, 0)
                    if cfg.sme else Const(GHOST_BOOL, 0),
                    # thread.vl[ARM64_VEC_SME]: every user task starts with the SME
                    # default VL (set by fpsimd_flush_thread() at its exec)
                    sme_vl=self._var(f"{name}.sme_vl", self.SVL, cfg.sme_default_vl_index)
                    if self.multi_svl else Const(self.SVL, 0),
                    **self._sigframe_sme_vars(name, self.signals and cfg.sme),
                    # (Layout.frame_vl / frame_svl) sve_context.vl and za_context.vl as
                    # delivery wrote them (the task's VLs then; 0 while no frame is live)
                    sigframe_vl=self._var(f"{name}.sigframe.sve_vl", self.VL, 0)
                    if self.frame_vl else None,
                    sigframe_svl=self._var(f"{name}.sigframe.sme_vl", self.SVL, 0)
                    if self.frame_svl else None,
                )
            )
        def kernel_thread(index: int, name: str, kernel_neon: bool) -> TaskVars:
            """A kernel thread: it never binds FP state and never runs at EL0; the init
            task starts with TIF_FOREIGN_FPSTATE set, and so does every thread created
            from it.  ``kernel_neon``: it runs preemptible task-context kernel NEON
            (the kworker), so it has the state of a section (TIF_KERNEL_FPSTATE,
            thread.kernel_fpsimd_state, kernel_fpsimd_cpu) and a program point."""
            return TaskVars(
                index=index,
                name=name,
                mm=False,
                vmm=False,
                tif_foreign=self._var(f"{name}.TIF_FOREIGN_FPSTATE", b, 1),
                tif_sve=Const(b, 0),
                fpsimd_cpu=Const(self.CPU_OR_NR, cfg.cpus),
                pc=self._var(f"{name}.pc", self.PC, self.PC.index("KERNEL")) if kernel_neon
                else Const(self.PC, self.PC.index("KERNEL")),
                uw=Image(f"{name}.uw", zero, zero, zero, p=zero),
                loaded_vcpu=Const(self.VCPU_OR_NONE, 0),
                sve_state=Image(f"{name}.sve_state", zero, zero, zero, p=zero),
                zhi_expected=Const(GHOST_BOOL, 0),
                p_written=Const(P_GHOST, 0),
                expect_zero=Const(GHOST_BOOL, 0),
                fpmr_expect_zero=Const(GHOST_BOOL, 0),
                fpcr_expect_zero=Const(GHOST_BOOL, 0),
                stopped=Const(b, 0),
                sigframe_sve=Const(b, 0),
                in_handler=Const(b, 0),
                sigframe_fresh=Const(GHOST_BOOL, 0),
                tif_kernel_fpstate=self._var(f"{name}.TIF_KERNEL_FPSTATE", b, 0)
                if kernel_neon else Const(b, 0),
                kernel_state=image(f"{name}.kernel_fpsimd_state", 0) if kernel_neon else None,
                kernel_fpsimd_cpu=self._var(f"{name}.kernel_fpsimd_cpu", self.CPU_OR_NR,
                                            cfg.cpus) if kernel_neon
                else Const(self.CPU_OR_NR, cfg.cpus),
                fp_type=Const(FP_TYPE, 0),
                created=Const(b, 1),
                sve_vl=Const(self.VL, 0),
                syscall_body=Const(b, 0),
                in_syscall=Const(b, 0),
                tif_sme=Const(b, 0),
                svcr_sm=Const(b, 0),
                svcr_za=Const(b, 0),
                sme_state=Const(self.VALUE, 0),
                sm_expected=Const(GHOST_BOOL, 0),
                za_expected=Const(GHOST_BOOL, 0),
                za_written=Const(GHOST_BOOL, 0),
                sme_vl=Const(self.SVL, 0),
                **self._sigframe_sme_vars(name, False),
            )

        for c in range(cfg.cpus):
            self.tasks.append(kernel_thread(nu + c, f"idle{c}", False))
        if self.kworker is not None:
            self.tasks.append(kernel_thread(self.kworker, "kworker", True))
        self.vcpus: list[VcpuVars] = []
        for v in range(cfg.vcpus):
            p = f"vcpu{v}"
            self.vcpus.append(
                VcpuVars(
                    index=v,
                    name=p,
                    fp_regs=self._with_fpmr(
                        self._with_fpexc(image(f"{p}.fp_regs", self.latest(nu + v)),
                                         f"{p}.sys_regs.FPEXC32_EL2", self.latest(nu + v)),
                        f"{p}.fp_regs.fpmr", self.latest(nu + v)),
                    fp_enabled=self._var(f"{p}.flags.FP_ENABLED", b, 0),
                    fp_host=self._var(f"{p}.flags.FP_HOST", b, 0),
                    host_sve_in_use=self._var(f"{p}.flags.HOST_SVE_IN_USE", b, 0),
                    host_thread_info=self._var(f"{p}.host_thread_info", self.TASK_OR_NULL, 0),
                    host_fpsimd_state=self._var(f"{p}.host_fpsimd_state", self.FPSTATE_PTR, 0),
                    pid=self._var(f"{p}.pid", self.TASK_OR_NULL, 0),
                    mutex=self._var(f"{p}.mutex", self.TASK_OR_NULL, 0),
                    host_sve_enabled=self._var(f"{p}.flags.HOST_SVE_ENABLED", b, 0)
                    if cfg.sve else Const(b, 0),
                    power_off=self._var(f"{p}.power_off", b, 0)
                    if "vcpu_reset" in cfg.events else Const(b, 0),
                    reset_pending=self._var(f"{p}.requests.VCPU_RESET", b, 0)
                    if "vcpu_reset" in cfg.events else Const(b, 0),
                    fp_state=self._var(f"{p}.arch.fp_state", FP_OWNER, 0)
                    if "vcpu_fp_state" in self.features else Const(FP_OWNER, 0),
                    # vcpu init (kvm_get_reset_cptr_el2() with the guest not owning the
                    # registers): RES1 only, TZ clear
                    cptr_el2_tz=self._var(f"{p}.arch.cptr_el2.TZ", b, 0)
                    if "vcpu_cptr_el2" in self.features and cfg.sve_guest and not cfg.vhe
                    and "vcpu_init" in cfg.events else Const(b, 0),
                    # The guest's initial SVE registers are its data, as its fp_regs are.
                    sve_state=Image(f"{p}.sve_state",
                                    self._var(f"{p}.sve_state.v", self.VALUE, self.latest(nu + v)),
                                    zero,
                                    self._var(f"{p}.sve_state.zhi", self.VALUE,
                                              self.latest(nu + v)),
                                    p=self._var(f"{p}.sve_state.p", self.VALUE,
                                                self.latest(nu + v)))
                    if cfg.sve_guest else None,
                    # ZCR_EL1's reset value (sys_regs.c reset_val 0): LEN 0, the smallest
                    # length (128 bits, which every SVE implementation supports; the
                    # model's smallest configured one).
                    zcr_el1=self._var(f"{p}.sys_regs.ZCR_EL1.LEN", self.VL, 0)
                    if cfg.sve_guest and self.multi_vl else Const(self.VL, 0),
                    host_sme_enabled=self._var(f"{p}.flags.HOST_SME_ENABLED", b, 0)
                    if cfg.sme and cfg.vhe and "host_sme_enabled" in self.features
                    else Const(b, 0),
                )
            )
        # Ghost: the last kernel-mode NEON read-back saw data its section did not write.
        self.kneon_lost = self._var("ghost.kernel_neon_readback_lost", GHOST_BOOL, 0)
        self.carried_vars = {name: self._var(name, dom, 0) for name, dom in self.carried}
        self.by_name = {var.name: var for var in self.vars}

    # ------------------------------------------------------------------ construction
    def _with_fpexc(self, img: Image, name: str, init: int) -> Image:
        """With AArch32 guests (Config.guest_aarch32), attach an FPEXC32_EL2 value slot to a
        CPU's registers or a vcpu's saved context: FPEXC (its EN bit drives a 32-bit guest
        kernel's own lazy VFP switching) is guest FP state like V and FPSCR."""
        if not self.config.guest_aarch32:
            return img
        return replace(img, fpexc=self._var(name, self.VALUE, init))

    def _sigframe_sme_vars(self, name: str, on: bool) -> dict[str, Var | Expr]:
        """(event signal with Config.sme) A task's frame SME records and the snapshot
        ghosts (TaskVars.sigframe_sm ...); constants when ``on`` is false."""
        b = BOOL
        if not on:
            out: dict[str, Var | Expr] = {"sigframe_sm": Const(b, 0), "sigframe_za": Const(b, 0),
                                          "sigframe_zadata": Const(self.VALUE, 0)}
            out.update({g: Const(P_GHOST if g == "sf_p_written" else GHOST_BOOL, 0)
                        for g, _ in SIGFRAME_SNAPSHOT})
            return out
        out = {"sigframe_sm": self._var(f"{name}.sigframe.sve_flags_sm", b, 0),
               "sigframe_za": self._var(f"{name}.sigframe.za_regs", b, 0),
               "sigframe_zadata": self._var(f"{name}.sigframe.za", self.VALUE, 0)}
        # (fpmr_expect_zero exists only with FPMR and the exec event: its snapshot too)
        fpmr_ez = self.config.fpmr and "exec" in self.config.events
        # (fpcr_expect_zero exists only with SME and exec or ptrace_sve_nodata: its too)
        has = {"sf_fpmr_expect_zero": fpmr_ez, "sf_fpcr_expect_zero": self.fpcr_ghost}
        out.update({g: self._var(f"ghost.{name}.sigframe.{src}",
                                 P_GHOST if g == "sf_p_written" else GHOST_BOOL, 0)
                    if has.get(g, True) else Const(GHOST_BOOL, 0)
                    for g, src in SIGFRAME_SNAPSHOT})
        return out

    def _with_fpmr(self, img: Image, name: str, init: int) -> Image:
        """With FEAT_FPMR (Config.fpmr), attach an FPMR value slot to a CPU's registers,
        a task's thread.uw or a vcpu's saved context: FPMR (the FP8 mode register) is part
        of a context's FP state, saved and restored with it from v6.9 (203f2b95a882)."""
        if not self.config.fpmr:
            return img
        return replace(img, fpmr=self._var(name, self.VALUE, init))

    def _var(self, name: str, dom: Domain, init: int) -> Var:
        var = Var(name, dom, len(self.vars))
        self.vars.append(var)
        self.init.append(init)
        return var

    # ------------------------------------------------------------------ value tokens
    @property
    def sigreturn_can_fail(self) -> bool:
        """(event signal with a VL-change event and several lengths of its kind) a handler
        can change the task's VL, so rt_sigreturn can find a frame record at another VL
        and fail (SIGSEGV): the layout has the frame VLs and SIGSEGV_PCS."""
        return self.frame_vl or self.frame_svl

    @property
    def sve_acc_split(self) -> bool:
        """With SVE, do_sve_acc() is two steps around program point SVE_ACC (v6.x: state
        feature fp_type, or sve_acc where the version has no fp_type)."""
        return self.config.sve and bool(self.features & {"fp_type", "sve_acc"})

    def continuations_in(self, function: str, before: str = "") -> tuple[str, ...]:
        """The continuation points whose window opens inside ``function`` (innermost C
        function), optionally only those before a statement whose text contains
        ``before``."""
        return tuple(pc for pc, where in self.pc_where
                     if where.split(": ", 1)[0] == function and before in where)

    def windows(self, step: str) -> list[tuple[int, str, str]]:
        """(--preemption split) The continuation points of step ``step`` (pc ``step@k`` or
        ``step@k,param``) in program order: (k, pc, "function: the write of ...")."""
        return sorted((int(pc.split("@", 1)[1].split(",", 1)[0]), pc, where)
                      for pc, where in self.pc_where
                      if "@" in pc and pc.split("@", 1)[0] == step)

    def windows_after(self, step: str, text: str, upto: str = "") -> tuple[str, ...]:
        """(--preemption split) The continuation points of ``step`` after the first whose
        window text ends with ``text`` (that statement has run), up to and including the
        first ending with ``upto`` (to the last if empty); () if either is missing.  A
        window's text names the task of one instance of the step: pass a task-independent
        suffix for a step every task runs."""
        wins = self.windows(step)
        ks = [k for k, _, w in wins if w.endswith(text)]
        ends = [k for k, _, w in wins if upto and w.endswith(upto)]
        if not ks or (upto and not ends):
            return ()
        last = ends[0] if upto else max(k for k, _, _ in wins)
        return tuple(pc for k, pc, _ in wins if ks[0] < k <= last)

    def latest(self, owner: int) -> int:
        """Token of owner's latest write (owners: user tasks, then guests)."""
        return 2 + 2 * owner

    def stale(self, owner: int) -> int:
        return 3 + 2 * owner

    def kvm_fp_owner(self, c: int, v: VcpuVars) -> Var:
        """KVM's owner of CPU c's FP registers (FREE/HOST_OWNED/GUEST_OWNED) while vcpu v is
        loaded there: c's host_data->fp_owner (v6.10+) or v's vcpu->arch.fp_state
        (v6.0-v6.9).  Each vcpu load writes it, so for a vcpu loaded on c the two say the
        same thing.  Only for the layouts that have one (state features host_data_fp_owner,
        vcpu_fp_state)."""
        return self.cpu[c].fp_owner if "host_data_fp_owner" in self.features else v.fp_state

    def guest_owner(self, vcpu: int) -> int:
        return self.config.user_tasks + vcpu

    KNEON = 1
    ZERO = 0

    def kneon_section(self, softirq: bool, task: int | None = None) -> int:
        """Token of a running kernel-mode NEON section's data (task context or softirq).
        With the kernel_fpstate feature a task-context section has its task's own token
        (``task``): a preempted section's data lives on in its task's kernel state."""
        if softirq:
            return self._kneon_softirq_tok
        if task is not None and task in self._kneon_per_task:
            return self._kneon_per_task[task]
        return self._kneon_task_tok

    def is_kneon(self, value: int) -> bool:
        """Kernel-mode NEON data (left behind, or of a running section)."""
        return value in (self.KNEON, self.KNEON_TASK, self.KNEON_SOFTIRQ) \
            or value in self._kneon_per_task.values()

    def opaque_tokens(self) -> tuple[int, ...]:
        """Value tokens that are no context's data (their bits are arbitrary): kernel-mode
        NEON data, firmware data, UNKNOWN contents after a power loss."""
        return tuple(t for t in (self.KNEON, self.KNEON_TASK, self.KNEON_SOFTIRQ,
                                 *self._kneon_per_task.values(), self.EFI, self.UNKNOWN)
                     if t is not None)

    def latest_owner(self, value: int) -> int | None:
        """The owner whose latest write ``value`` is, or None (zero, stale, opaque)."""
        if 2 <= value < 2 + 2 * len(self.owner_names) and value % 2 == 0:
            return (value - 2) // 2
        return None

    def kernel_fpstate(self, t: int) -> int:
        """FPSTATE_PTR value of &task->thread.kernel_fpsimd_state (feature kernel_fpstate)."""
        nu = self.config.user_tasks
        if t == self.kworker:
            return 1 + nu + self.config.vcpus + nu
        if "kernel_fpstate" not in self.features or t >= nu:
            raise ModelError("no kernel_fpsimd_state for this task in this layout")
        return 1 + nu + self.config.vcpus + t

    # ------------------------------------------------------------------ pointers
    def task_fpstate(self, t: int) -> int:
        """FPSTATE_PTR value of &task->thread.uw.fpsimd_state."""
        if t >= self.config.user_tasks:
            raise ModelError("kernel threads have no bound FP state in this model")
        return 1 + t

    def vcpu_fpstate(self, v: int) -> int:
        return 1 + self.config.user_tasks + v

    def fpstate_targets(self) -> list[tuple[int, Image]]:
        """Every image a `struct user_fpsimd_state *` may point to, with its pointer value."""
        out = [(self.task_fpstate(t.index), t.uw) for t in self.tasks if t.mm]
        out += [(self.vcpu_fpstate(v.index), v.fp_regs) for v in self.vcpus]
        out += [(self.kernel_fpstate(t.index), t.kernel_state) for t in self.tasks
                if t.kernel_state is not None]
        return out

    def za_slots(self) -> list[Var]:
        """(Config.sme) Every copy of ZA: each CPU's ZA array and each task's sme_state.
        ZA has its own generations (a ZA write retires only ZA copies: `Ctx.supersede_za`),
        as P/FFR have."""
        out = [c.za for c in self.cpu] + [t.sme_state for t in self.tasks if t.mm]
        out += [t.sigframe_zadata for t in self.tasks if t.mm]
        return [x for x in out if isinstance(x, Var)]

    def all_images(self) -> list[Image]:
        imgs = [c.regs for c in self.cpu] + [c.host_ctxt for c in self.cpu]
        imgs += [t.uw for t in self.tasks if t.mm] + [v.fp_regs for v in self.vcpus]
        imgs += [v.sve_state for v in self.vcpus if v.sve_state is not None]
        imgs += [t.sve_state for t in self.tasks if t.mm]
        imgs += [t.sigframe for t in self.tasks if t.mm and t.sigframe is not None]
        if "efi" in self.config.events:
            imgs += [c.efi_fpsimd_state for c in self.cpu] + [c.efi_sve_state for c in self.cpu]
        imgs += [t.kernel_state for t in self.tasks if t.kernel_state is not None]
        return imgs

    # ---------------------------------------------------------- SVE vector lengths
    def zcr_el1_reg(self, c: int) -> Var | Expr:
        """CPU c's architectural ZCR_EL1.LEN: nVHE the host's and a guest's (one
        register); VHE the guest's (Config.sve_guest; the host's accesses go to ZCR_EL2)."""
        cpu = self.cpu[c]
        return cpu.zcr2 if self.config.vhe else cpu.zcr

    def zcr_el2_reg(self, c: int) -> Var | Expr:
        """CPU c's architectural ZCR_EL2.LEN: nVHE hyp's (Config.sve_guest); VHE the
        host's (what its ZCR_EL1 accesses reach)."""
        cpu = self.cpu[c]
        return cpu.zcr if self.config.vhe else cpu.zcr2

    def vl_min(self, a: Var | Expr, b: Var | Expr) -> Expr:
        """The shorter of two vector lengths (indices into the sorted Config.sve_vls)."""
        n = len(self.VL.labels)
        out: Expr = Const(self.VL, n - 1)
        for i in range(n - 2, -1, -1):
            out = Ite(a.eq(i) | b.eq(i), Const(self.VL, i), out)
        return out

    def effective_vl(self, c: int, at_el2: bool = False) -> Expr:
        """The effective SVE vector length of code below EL2 on CPU c (the Arm ARM's
        rule: ZCR_EL1.LEN, limited by ZCR_EL2.LEN where EL2 is implemented, rounded down to
        a supported length: every modelled value is supported).  ``at_el2``: VHE host
        code, EL2 or EL0 with HCR_EL2.{E2H,TGE} set: ZCR_EL2.LEN alone.  Without SVE
        vcpus (Config.sve_guest) the limit is the host max and the host's register
        decides."""
        cpu = self.cpu[c]
        if not isinstance(cpu.zcr2, Var) or at_el2:
            return self.zcr_el2_reg(c) if isinstance(cpu.zcr2, Var) else cpu.zcr
        return self.vl_min(self.zcr_el1_reg(c), self.zcr_el2_reg(c))

    def host_vl(self, c: int) -> Expr:
        """The vector length host code on CPU c runs at (RDVL; EL0 and EL1 for nVHE, EL0
        and EL2 for VHE)."""
        return self.effective_vl(c, at_el2=self.config.vhe)

    def fp_trapped(self, c: int) -> Expr:
        """FP/ASIMD accesses below EL2 trap to hyp on CPU c (CPACR_EL1.FPEN clear in VHE,
        CPTR_EL2.TFP set in nVHE)."""
        trap = self.cpu[c].fp_trap
        return trap.eq(0) if self.config.vhe else trap.eq(1)

    def initial_state(self) -> tuple[int, ...]:
        return tuple(self.init)

    def label(self, var: Var, value: int) -> str:
        return var.dom.labels[value]

    def state_dict(self, state: tuple[int, ...]) -> dict[str, str]:
        return {var.name: var.dom.labels[state[var.index]] for var in self.vars}
