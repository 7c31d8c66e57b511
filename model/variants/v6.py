"""Today's kernels: v6.8 to v6.14 (arm64 FPSIMD host code and its KVM side; v6.16 in v6_16.py).

Read in single-release snapshots (the arm64 FP files are touched only by each snapshot's
import commit; /work/shared/reference/modern-kernels.md):

* ``v6.8``: vivo50kff/linux-6.8 @ bc4fae0d3fa35153a7509231d7ef715e86135279 (v6.8.0): v6.9's
  functions (compared file by file in `make_v68`);
* ``v6.9``: ec-jt/linux-6.9.0 @ b1202024224738c7135d199f95d34c215ad45ca3 (v6.9.0);
* ``v6.10``: msgeden/cryptocap-arm64-linux-6.10 @ fabd51deb839d02c50146f1bea784d71e2955a21
  (v6.10.0; its local changes do not touch the FP files);
* ``v6.12``: shilei-massclouds/linux-6.12 @ e02d6450498dcbe4455f9447ffead6d8f4edc38c (v6.12.0);
* ``v6.13``: ChenRuiwei/linux-6.13.7 @ 4ebf2100a5818d1723d97b8e418c6432e6eb2182 (v6.13.7,
  the last release before the 2025 KVM FP rework).  Compared file by file with the v6.12
  tree: arch/arm64/kernel/fpsimd.c differs only in a comment ("FPSMID"), kvm/fpsimd.c,
  hyp/vhe/switch.c and hyp/nvhe/switch.c are identical, hyp/include/hyp/switch.h only adds
  the MPAM trap helpers (__activate/__deactivate_traps_mpam), kvm/arm.c only moves the
  VMID update into kvm_arch_vcpu_load() and drops the userspace-irqchip static key,
  entry-common.c only adds the GCS/MOPS exception handlers, asm/kvm_emulate.h only
  vcpu_is_host_el0() and kvm_vcpu_enable_ptrauth(), and asm/kvm_host.h has no FP change:
  none of it touches FP state, so v6.13 is v6.12's table;
* ``v6.14``: perishh/linux-6.14 @ 347b100ec1660714730b2ca3d7a35924461651a3 (v6.14.0), with
  the 2025 KVM FP series (fbc7e61195e2 "KVM: arm64: Unconditionally save+flush host
  FPSIMD/SVE/SME state", #17, also read in torvalds/linux at fbc7e61195e2, through
  59419f10045b "KVM: arm64: Eagerly switch ZCR_EL{1,2}", #20): kvm_arch_vcpu_load_fp()
  saves and flushes the host state, fpsimd_kvm_prepare() is gone, hyp no longer saves host
  state without pKVM, kvm_arch_vcpu_put_fp() no longer restores CPACR_EL1.ZEN (nor ZCR),
  and hyp switches ZCR_EL{1,2} on every entry and exit while the guest owns the registers
  (fpsimd_lazy_switch_to_guest/host).  Compared with v6.13: kernel/fpsimd.c only loses
  fpsimd_kvm_prepare() (and constifies two sysctl tables), entry-common.c is identical.

Files: arch/arm64/kernel/fpsimd.c, arch/arm64/include/asm/simd.h,
arch/arm64/kernel/entry-common.c, arch/arm64/kvm/fpsimd.c, arch/arm64/kvm/arm.c,
arch/arm64/kvm/hyp/include/hyp/switch.h, arch/arm64/kvm/hyp/{vhe,nvhe}/switch.c,
arch/arm64/include/asm/kvm_emulate.h (kvm_reset_cptr_el2).

What changed since 2018 that these variants model (state features in model/state.py):

* kernel-mode NEON in task context is preemptible (aefbab8e77eb, v6.8): kernel_neon_begin()
  saves the user state, sets TIF_KERNEL_FPSTATE and flushes the CPU's state, then enables
  bottom halves and preemption again; fpsimd_thread_switch() saves the section's registers
  into thread.kernel_fpsimd_state and reloads them when the task is switched back in
  (lazily: not if this CPU still holds them).  The kernel_neon_busy flag is gone and
  may_use_simd() no longer reads it.  The section is now two steps (``syscall_kernel_neon``
  up to the NEON work's writes, at program point KERNEL_NEON; ``syscall_kernel_neon_end``
  from the read-back), and the schedule step may switch the task out in between
  (CONFIG_PREEMPT; the PREEMPT_VOLUNTARY/NONE models have no scheduling point inside a
  section);
* KVM's ownership of the FP registers is an explicit tristate (FREE, HOST_OWNED,
  GUEST_OWNED): vcpu->arch.fp_state up to v6.9, per-CPU host_data->fp_owner from v6.10,
  which also moved the pointer to the host state hyp saves into host_data->fpsimd_state,
  set at every vcpu load (instead of vcpu->arch.host_fpsimd_state set at a pid change);
* fpsimd_flush_task_state() sets TIF_FOREIGN_FPSTATE itself; fpsimd_save() is
  fpsimd_save_user_state(); fpsimd_bind_state_to_cpu() copies a whole struct cpu_fp_state.

Configurations: with ``--sve`` one vector length (thread.fp_type, in_syscall(), the
syscall's discard, the SVE trap path, the NT_ARM_SVE ptrace write; to_save derived from
what is bound, a state variable only from v6.16: model/variants/v6_16.py), no SME and no
FPMR (system_supports_sme()/system_supports_fpmr() false: every SME
and FPMR branch is not taken, as on a CPU without them), no pKVM, vcpus without the SVE
feature (to_save = FP_STATE_FPSIMD).  The optional events' v6 functions are in
model/variants/v6_events.py; kvm_run_kernel_neon's v6 section (preemptible, program points
RUN_NEON_TOP/RUN_NEON_EXIT) is `kvm_run_kernel_neon` below.  With SVE vcpus (--sve-guest)
the events run too: KVM_SET_ONE_REG's set_sve_reg()
and the vcpu reset's kvm_vcpu_reset_sve() are modelled there.

SVE vcpus (Config.sve_guest, `--sve-guest`) are modelled for every variant of this module
(option ``sve_guest``, set in `make_v69`) and v6.16 (model/variants/v6_16.py).  The KVM SVE
code of v6.8 to v6.13 is one, compared file by file in the snapshots above (v6.8.0,
v6.9.0, v6.10.0, v6.12.0, v6.13.7): kvm/fpsimd.c (kvm_arch_vcpu_ctxsync_fp()'s to_save =
FP_STATE_SVE and sve_vl = sve_max_vl for an SVE vcpu, kvm_arch_vcpu_put_fp()'s save of
the guest's ZCR_EL1 and, without VHE, ZCR_EL1 = the vcpu's max VQ before the save: the
same text; v6.9/v6.10 add only FPMR pointers, v6.10 the host_data owner, v6.12 NV's
vcpu_sve_zcr_elx() and the `!has_vhe() || NV` test, no NV here);
hyp/include/hyp/switch.h (__hyp_sve_restore_guest(): the same statements, v6.12 adds the
NV ZCR_EL2 line; kvm_hyp_handle_fpsimd(): v6.8/v6.9 write CPACR/CPTR_EL2 directly where
v6.10 on use cpacr_clear_set(), the same bits: FPEN|ZEN for an SVE guest, TFP|TZ
cleared in nVHE); asm/kvm_emulate.h kvm_get_reset_cptr_el2() (TZ for an SVE vcpu that
owns the registers, nVHE: the same text, v6.9 tests vcpu->arch.fp_state); hyp/nvhe/
switch.c __activate_traps() (TFP|TZ unless the guest owns the registers: identical in
v6.8-v6.13); hyp/vhe/switch.c (v6.8-v6.10 __activate_traps(), v6.12/v6.13
__activate_cptr_traps(): ZEN and SMEN cleared, FPEN and for an SVE vcpu ZEN set iff the
guest owns the registers: the same bits); hyp/nvhe/hyp-main.c handle_trap()'s
ESR_ELx_EC_SVE case (`handle_host_sve_trap`); guest.c's set_sve_reg()/get_sve_reg() and
reset.c's kvm_vcpu_reset_sve() (identical from v6.8 to v6.18.2; reset.c's
kvm_host_sve_max_vl is new in v6.10, pKVM's).  Host side: fpsimd_save_user_state()'s
SVE-vcpu save with the VL check is the same text in v6.9-v6.14 (v6.8: no FPMR).

Functions kept from the 2018 table because the C is the same in effect in v6.9/v6.10
(checked in the trees above): fpsimd_flush_cpu_state (no SME: last->st = NULL, set
current's TIF_FOREIGN_FPSTATE; v6.10 only moved it), fpsimd_restore_current_state
(get_cpu_fpsimd_context() is local_bh_disable() without PREEMPT_RT), fpsimd_load_state /
fpsimd_save_state, the softirq's NEON user, __schedule/__switch_to (fpsimd_thread_switch
is still the first FP statement of __switch_to), vcpu_load/vcpu_put, kvm_sched_in/out,
kvm_vcpu_ioctl_run (mutex, pid change), kvm_arch_vcpu_run_pid_change (arm.c: calls
kvm_arch_vcpu_run_map_fp first), kvm_arch_vcpu_load/put (load_fp last / put_fp first
among the FP-relevant calls), the run loop's load, handle_exit and put pieces,
__activate_traps_fpsimd32, __fpsimd_save_fpexc32, set_fp_trap.
"""

from __future__ import annotations

from collections.abc import Callable

from model.ctx import Ctx
from model.dsl import Const, Expr, Var, any_of
from model.state import Image, VcpuVars
from model.variant import Variant
from model.variants import v6_events

V68_TREE = "vivo50kff/linux-6.8@bc4fae0d3fa35153a7509231d7ef715e86135279"
V69_TREE = "ec-jt/linux-6.9.0@b1202024224738c7135d199f95d34c215ad45ca3"
V612_TREE = "shilei-massclouds/linux-6.12@e02d6450498dcbe4455f9447ffead6d8f4edc38c"
V610_TREE = "msgeden/cryptocap-arm64-linux-6.10@fabd51deb839d02c50146f1bea784d71e2955a21"
V613_TREE = "ChenRuiwei/linux-6.13.7@4ebf2100a5818d1723d97b8e418c6432e6eb2182"
V614_TREE = "perishh/linux-6.14@347b100ec1660714730b2ca3d7a35924461651a3"

# Optional events refused with --sme (their SME statements not modelled); none now:
# set_one_reg and vcpu_reset have no SME statement of their own in v6.8-v6.16 (arm.c
# kvm_arch_vcpu_ioctl(KVM_SET_ONE_REG), reset.c kvm_reset_vcpu(), read in v6.10.0 and
# v6.18.2): their SME part is the put_fp/load_fp around a loaded vcpu's reset and the
# syscall entry, which are the SME-aware functions of the variants' tables
# (model/variants/v6_sme.py; tests/model/test_v6_sme_kvm.py).
SME_UNSUPPORTED_EVENTS: dict[str, str] = {}


# ------------------------------------------------------------ arch/arm64/kernel/fpsimd.c
def preemptible(k: Ctx) -> Expr:
    """include/linux/preempt.h: preemptible() with CONFIG_PREEMPT_COUNT:
    preempt_count() == 0 && !irqs_disabled(); preempt_count() includes the softirq and
    hardirq counts, which the model keeps apart."""
    c = k.this_cpu
    return (c.preempt_count.eq(0) & c.softirq_count.eq(0) & c.hardirq.eq(0)
            & ~k.irqs_disabled())


def may_use_simd(k: Ctx) -> Expr:
    """arch/arm64/include/asm/simd.h (v6.8+): may_use_simd(): capabilities finalized
    (always, after boot) && system_supports_fpsimd() && !in_hardirq() && !irqs_disabled()
    && !in_nmi().  No kernel_neon_busy any more (removed with aefbab8e77eb)."""
    return ~k.in_irq() & ~k.irqs_disabled()


def fpmr_load(k: Ctx) -> None:
    """The FPMR statement of task_fpsimd_load() (arch/arm64/kernel/fpsimd.c, v6.9 on; a
    helper of the model, shared by every version's task_fpsimd_load): if
    system_supports_fpmr() (Config.fpmr), FPMR = current->thread.uw.fpmr.  v6.9-v6.14
    write it before the FPSIMD/SVE registers, v6.16 after SVCR; without SME nothing
    between them reads or writes FPMR, so the order does not matter here."""
    if k.config.fpmr and k.cur.mm:
        k.set(k.this_cpu.regs.fpmr, k.cur.uw.fpmr)


def fpmr_save(k: Ctx) -> None:
    """The FPMR statement of fpsimd_save_user_state() (arch/arm64/kernel/fpsimd.c, v6.9 on;
    a helper of the model): after the TIF_FOREIGN_FPSTATE test, if system_supports_fpmr()
    (Config.fpmr), *(last->fpmr) = FPMR.  last->fpmr is the bound state's: a task's
    &thread.uw.fpmr (fpsimd_bind_task_to_cpu), a vcpu's FPMR (ctxsync: vcpu->arch.fpmr in
    v6.9/v6.10, the FPMR sys_reg from v6.12; bound whether or not the VM has FPMR), so the
    model resolves it from last->st, which every bind sets with it.  A kernel-mode state's
    cpu_fp_state (fpsimd_save_kernel_state) has no fpmr pointer: that save is the NULL
    dereference the caller already reports."""
    if k.config.fpmr:
        store_fpmr_through(k, k.this_cpu.last_st)


def store_fpmr_through(k: Ctx, ptr: Expr) -> None:
    """Store the live FPMR into the FPMR of the state ``ptr`` (a struct user_fpsimd_state
    pointer) belongs to: the model resolves an `fpmr` pointer from the fpsimd_state pointer
    set with it (a model helper; images without FPMR, the kernel-mode state's, are not
    written)."""
    live = k.this_cpu.regs.fpmr

    def write(img: Image) -> None:
        if img.fpmr is not None:
            k.set(img.fpmr, live)

    k.store_through(ptr, write)


def task_fpsimd_load(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.9-v6.14): task_fpsimd_load():
    WARN_ON(preemptible()); WARN_ON(test_thread_flag(TIF_KERNEL_FPSTATE)); FPMR
    (`fpmr_load`).
    With SVE, by current->thread.fp_type: FP_STATE_FPSIMD: if test_and_clear TIF_SVE,
    sve_user_disable(); FP_STATE_SVE (never streaming without SME): if
    WARN_ON_ONCE(!test_and_set_thread_flag(TIF_SVE)) fires, EL0 SVE is *not* enabled,
    else sve_user_enable(); then sve_set_vq (one VL: no effect) and restore the SVE
    registers: sve_load_state(sve_pffr(), &uw.fpsimd_state.fpsr, restore_ffr).
    Otherwise fpsimd_load_state(&current->thread.uw.fpsimd_state).  (The WARN_ON_ONCEs
    on fp_type after the switch cannot fire: two formats.)  With several vector lengths
    sve_set_vq() writes the task's length into ZCR_EL1 first (sve_load_state's ``vl``)."""
    k.check(~k.preemptible(), "WARN", "task_fpsimd_load", "WARN_ON(preemptible())")
    k.check(~k.test_thread_flag("TIF_KERNEL_FPSTATE"), "WARN", "task_fpsimd_load",
            "WARN_ON(test_thread_flag(TIF_KERNEL_FPSTATE))")
    fpmr_load(k)
    if not (k.config.sve and k.cur.mm):
        k.fpsimd_load_state(k.cur.uw)
        return
    cpu = k.this_cpu
    with k.If(k.cur.fp_type.eq("FPSIMD")):
        with k.If(k.test_thread_flag("TIF_SVE")):
            k.clear_thread_flag("TIF_SVE")
            k.set(cpu.zen_el0en, False)  # sve_user_disable()
        k.fpsimd_load_state(k.cur.uw)
    with k.Else():
        was = k.let("tif_sve", k.test_thread_flag("TIF_SVE"))
        k.set_thread_flag("TIF_SVE")
        k.check(was.eq(1), "WARN", "task_fpsimd_load",
                "WARN_ON_ONCE(!test_and_set_thread_flag(TIF_SVE)) with fp_type SVE")
        with k.If(was.eq(1)):
            k.set(cpu.zen_el0en, True)  # sve_user_enable()
        # sve_set_vq(sve_vq_from_vl(task_get_sve_vl(current)) - 1) (TIF_SVE is set here),
        # then the load at that length; both are SVE/ZCR accesses at EL1.
        k.sve_host_insn()
        k.sve_load_state(k.cur.sve_state, k.cur.uw,
                         k.cur.sve_vl if isinstance(cpu.zcr, Var) else None)


def fpsimd_save_user_state(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.9-v6.14): fpsimd_save_user_state() (was
    fpsimd_save()).

    last = this CPU's fpsimd_last_state; WARN_ON(preemptible()); return if current's
    TIF_FOREIGN_FPSTATE is set; FPMR (`fpmr_save`); without SVE/SME: fpsimd_save_state(last->st) and
    *last->fp_type = FP_STATE_FPSIMD (the format is always FPSIMD without SVE/SME: the
    fp_type fields are not modelled).  ``last->st`` is read where it is used: no IRQ can
    change it in between (bottom halves or IRQs are off in every caller, as the WARN
    requires).

    With SVE the registers are saved as SVE when ``(last->to_save == FP_STATE_CURRENT &&
    TIF_SVE && !in_syscall()) || last->to_save == FP_STATE_SVE`` at ``vl = last->sve_vl``:
    for a task bound by fpsimd_bind_task_to_cpu() that is its thread.sve_vl (C copies it
    into last->sve_vl at the bind; the model reads the task's: every modelled VL change,
    events sve_set_vl, sme_set_vl and ptrace_sve_vl, flushes the task before it sets the
    new VL, so no save reads a binding made at the old VL), for
    an SVE vcpu bound by ctxsync (to_save FP_STATE_SVE) its vcpu->arch.sve_max_vl.  Then
    ``if (WARN_ON(sve_get_vl() != vl))``: force_signal_inject(SIGKILL) and return without
    saving (`sve_vl_check`); else sve_save_state(last->sve_state, &last->st->fpsr) and
    *last->fp_type = FP_STATE_SVE (a vcpu's fp_type is not modelled: hyp restores an SVE
    vcpu from its sve_state whatever it says)."""
    k.check(~k.preemptible(), "WARN", "fpsimd_save_user_state", "WARN_ON(preemptible())")
    st = k.this_cpu.last_st
    with k.If(~k.test_thread_flag("TIF_FOREIGN_FPSTATE")):
        fpmr_save(k)
        if k.config.sve and k.cur.mm:
            # to_save: FP_STATE_CURRENT for a task's state (fpsimd_bind_task_to_cpu),
            # FP_STATE_FPSIMD for kernel-mode state and for vcpus (no vcpu SVE here).
            sve = k.test_thread_flag("TIF_SVE") & k.cur.in_syscall.eq(0)
            for t in k.S.tasks:
                if not t.mm:
                    continue
                with k.If(st.eq(k.S.task_fpstate(t.index)) & sve):
                    # sve_save_state(last->sve_state + ..., &last->st->fpsr, true);
                    # *last->fp_type = FP_STATE_SVE
                    with k.If(k.sve_vl_check(t.sve_vl)):
                        k.sve_save_state(t.sve_state, st)
                        k.set(t.fp_type, "SVE")
                with k.Else():
                    with k.If(st.eq(k.S.task_fpstate(t.index))):
                        k.fpsimd_save_state(t.uw)
                        k.set(t.fp_type, "FPSIMD")
            for v in k.S.vcpus:
                with k.If(st.eq(k.S.vcpu_fpstate(v.index))):
                    if k.vcpu_has_sve(v.index):
                        # to_save FP_STATE_SVE, vl = sve_max_vl (ctxsync)
                        with k.If(k.sve_vl_check(Const(k.S.VL, k.config.vcpu_max_vl_index))):
                            k.sve_save_state(v.sve_state, v.fp_regs)
                    else:
                        k.fpsimd_save_state(v.fp_regs)  # vcpu fp_type: FPSIMD
            k.check(st.ne("NULL"), "BUG", "NULL dereference", "FP save/restore through NULL")
        else:
            k.store_through(st, k.fpsimd_save_state)
        if k.cur.kernel_state is not None:
            # A kernel-mode state's cpu_fp_state has no fp_type pointer (only .st and
            # .to_save are initialised in fpsimd_save_kernel_state()).
            kernel = any_of(st.eq(k.S.kernel_fpstate(t.index)) for t in k.S.tasks
                            if t.kernel_state is not None)
            k.check(~kernel, "BUG", "NULL dereference",
                    "*last->fp_type = ... with a kernel-mode state bound (fp_type NULL)")


def fpsimd_save(k: Ctx) -> None:
    """The 2018 name of fpsimd_save_user_state(), which v6.x callers no longer use: kept
    so that a call from a function shared with the 2018 table reaches the v6 code."""
    k.fpsimd_save_user_state()


def sve_get_vl(k: Ctx) -> Expr:
    """arch/arm64/kernel/entry-fpsimd.S (v6.x): sve_get_vl(): RDVL, the vector length the
    host kernel runs at (at EL1 with nVHE, EL2 with VHE): the effective-VL rule
    (`Layout.host_vl`).  RDVL is an SVE instruction: on nVHE with CPTR_EL2.TZ set it
    traps to hyp first (`sve_host_insn`).  Constant with one vector length."""
    k.sve_host_insn()
    return k.S.host_vl(k.cpu)


def sve_vl_check(k: Ctx, vl: Expr) -> Expr:
    """The VL check of fpsimd_save_user_state() (v6.x): ``if (WARN_ON(sve_get_vl() !=
    vl))`` the registers cannot be saved in the bound state's layout:
    force_signal_inject(SIGKILL, SI_KERNEL, 0, 0) and return.  Returns the "lengths
    agree" condition, under which the caller saves.  With one vector length it cannot
    fail and is not emitted.  Abstraction: the SIGKILL itself (the thread dying) is not
    modelled; the WARN is the finding, and the state is not saved, as in the C."""
    return vl_check_in(k, vl, "fpsimd_save_user_state")


def vl_check_in(k: Ctx, vl: Expr, function: str) -> Expr:
    """`sve_vl_check`'s WARN as the C function ``function`` has it (v6.1: fpsimd_save)."""
    if not k.S.multi_vl:
        return k.true
    ok = k.let("vl_ok", k.sve_get_vl().eq(vl))
    k.check(ok.eq(1), "WARN", function,
            "WARN_ON(sve_get_vl() != vl): SIGKILL, state not saved")
    return ok.eq(1)


def save_sve_vcpu_binding(k: Ctx, v: VcpuVars, mine: Expr, sve_regs: Expr) -> None:
    """The save of an SVE vcpu's state bound by ctxsync (to_save FP_STATE_SVE, vl =
    vcpu->arch.sve_max_vl) when ``mine`` (the CPU's binding is this vcpu): with
    ``sve_regs`` (the version's test for an SVE save) the version's VL check against the
    max VL, then sve_save_state(vcpu->arch.sve_state, &fp_regs.fpsr); otherwise
    fpsimd_save_state(&vcpu->arch.ctxt.fp_regs).  Shared by v6.1's fpsimd_save(), the SME
    save (v6.8-v6.10) and v6.16's fpsimd_save_user_state()."""
    with k.If(mine & sve_regs):
        with k.If(k.sve_vl_check(Const(k.S.VL, k.config.vcpu_max_vl_index))):
            k.sve_save_state(v.sve_state, v.fp_regs)
    with k.Else():
        with k.If(mine):
            k.fpsimd_save_state(v.fp_regs)



def save_vcpu_binding_v61(k: Ctx, v: VcpuVars, mine: Expr, sve: Expr) -> None:
    """fpsimd_save() of v6.1 (read in v6.1) for a vcpu bound by ctxsync (``mine``): as
    ``sve`` (current's TIF_SVE) says, the SVE save into the vcpu's sve_state
    (`save_sve_vcpu_binding`) or, for a vcpu without SVE, last->sve_vl = sve_max_vl = 0:
    with TIF_SVE the VL check fires (WARN, SIGKILL, nothing saved), else
    fpsimd_save_state(&vcpu->arch.ctxt.fp_regs)."""
    if k.vcpu_has_sve(v.index):
        save_sve_vcpu_binding(k, v, mine, sve)
        return
    k.check(~(mine & sve), "WARN", "fpsimd_save",
            "WARN_ON(sve_get_vl() != vl): TIF_SVE with a non-SVE vcpu bound"
            " (last->sve_vl 0): SIGKILL, state not saved")
    with k.If(mine & ~sve):
        k.fpsimd_save_state(v.fp_regs)

def sve_host_insn(k: Ctx) -> None:
    """Model helper (no C function): the host kernel executes an SVE instruction or
    accesses ZCR_EL1 at EL1.  On nVHE with CPTR_EL2.TZ set (Config.sve_guest: left set at
    a guest exit while an SVE guest owns the registers, v5.12-v6.13) it traps to hyp
    first, which handles it (`handle_host_sve_trap`) and returns to re-execute it.  Without
    that trap state (VHE, no SVE vcpus) nothing happens: the instruction just runs."""
    tz = k.this_cpu.cptr_tz
    if isinstance(tz, Var):
        with k.If(tz.eq(1)):
            k.handle_host_sve_trap()


def handle_host_sve_trap(k: Ctx) -> None:
    """arch/arm64/kvm/hyp/nvhe/hyp-main.c (v5.12-v6.13): handle_trap(), case
    ESR_ELx_EC_SVE: cpacr_clear_set(0, CPACR_ELx_ZEN) (nVHE: CPTR_EL2.TZ cleared; v6.8 and
    v6.9 spell it sysreg_clear_set(cptr_el2, CPTR_EL2_TZ, 0)); isb();
    sve_cond_update_zcr_vq(sve_vq_from_vl(kvm_host_sve_max_vl) - 1, SYS_ZCR_EL2) (v6.12,
    v6.13; v6.8-v6.10 write ZCR_ELx_LEN_MASK, whose effective length is the CPU's largest:
    the same length here, where every CPU supports the same set Config.sve_vls): hyp's
    lazy restore of the host's ZCR_EL2 (the host max: the largest configured length).
    ZCR_EL1, which the guest wrote, is left as it is."""
    cpu = k.this_cpu
    k.set(cpu.cptr_tz, False)
    if isinstance(cpu.zcr2, Var):
        k.set(k.S.zcr_el2_reg(k.cpu), len(k.config.sve_vls) - 1)


def handle_host_sve_trap_v614(k: Ctx) -> None:
    """arch/arm64/kvm/hyp/nvhe/hyp-main.c (v6.14): handle_trap() has no ESR_ELx_EC_SVE
    case any more (59419f10045b: hyp switches ZCR eagerly and never leaves CPTR_EL2.TZ
    set for the host): a host SVE trap is the default case, BUG()."""
    k.check(k.false, "BUG", "handle_trap", "BUG(): host SVE trap (no ESR_ELx_EC_SVE case)")


def fpsimd_load_kernel_state(k: Ctx, t: int) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.8-v6.14): fpsimd_load_kernel_state(task): elide the
    load if this CPU holds the task's most recent kernel-mode state (last->st is
    &task->thread.kernel_fpsimd_state and task->thread.kernel_fpsimd_cpu is this CPU);
    else fpsimd_load_state(&task->thread.kernel_fpsimd_state).  (It does not bind.)"""
    task = k.task(t)
    held = k.this_cpu.last_st.eq(k.S.kernel_fpstate(t)) & task.kernel_fpsimd_cpu.eq(k.cpu)
    with k.If(~held):
        k.fpsimd_load_state(task.kernel_state)


def fpsimd_save_kernel_state(k: Ctx, t: int) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.8-v6.14): fpsimd_save_kernel_state(task):
    fpsimd_save_state(&task->thread.kernel_fpsimd_state); fpsimd_bind_state_to_cpu() of
    {.st = &task->thread.kernel_fpsimd_state, .to_save = FP_STATE_FPSIMD};
    task->thread.kernel_fpsimd_cpu = this CPU."""
    task = k.task(t)
    k.fpsimd_save_state(task.kernel_state)
    k.fpsimd_bind_state_to_cpu(k.S.kernel_fpstate(t))
    k.set(task.kernel_fpsimd_cpu, k.cpu)


def fpsimd_thread_switch(k: Ctx, next_task: int) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.8-v6.14): fpsimd_thread_switch(next), from
    __switch_to() with IRQs off.

    WARN_ON_ONCE(!irqs_disabled()); save current's unsaved state: its kernel-mode state
    (fpsimd_save_kernel_state(current)) if it has TIF_KERNEL_FPSTATE, else its user state
    (fpsimd_save_user_state()).  If next has TIF_KERNEL_FPSTATE, load its kernel-mode
    state (`fpsimd_thread_switch_to_kernel_neon`: the branch e92bee9f861b changed in
    v6.10); else next's TIF_FOREIGN_FPSTATE = (last->st != &next->thread.uw.fpsimd_state
    || next's fpsimd_cpu != this CPU)."""
    k.check(k.irqs_disabled(), "WARN", "fpsimd_thread_switch",
            "WARN_ON_ONCE(!irqs_disabled())")
    k.fpsimd_thread_switch_save_prev()
    nxt = k.task(next_task)
    if nxt.kernel_state is None:  # the idle threads: TIF_KERNEL_FPSTATE is a constant 0
        k.fpsimd_thread_switch_fixup_foreign(next_task, nxt)
        return
    with k.If(k.test_tsk_thread_flag(next_task, "TIF_KERNEL_FPSTATE")):
        k.fpsimd_thread_switch_to_kernel_neon(next_task)
    with k.Else():
        k.fpsimd_thread_switch_fixup_foreign(next_task, nxt)


def fpsimd_thread_switch_to_kernel_neon(k: Ctx, next_task: int) -> None:
    """The branch of fpsimd_thread_switch() for a next task with TIF_KERNEL_FPSTATE (v6.8,
    v6.9): fpsimd_load_kernel_state(next) and set next's TIF_FOREIGN_FPSTATE.  The load
    does not touch last->st, which may still name a task's user state although the
    registers now hold next's kernel-mode data (#15).  A helper of the model: the one
    statement of the function that e92bee9f861b changed."""
    k.fpsimd_load_kernel_state(next_task)
    k.update_tsk_thread_flag(next_task, "TIF_FOREIGN_FPSTATE", True)


def fpsimd_thread_switch_to_kernel_neon_v610(k: Ctx, next_task: int) -> None:
    """The same branch (v6.10-v6.14, e92bee9f861b "arm64/fpsimd: Avoid erroneous elide of
    user state reload"): fpsimd_load_kernel_state(next), then fpsimd_flush_cpu_state()
    (last->st = NULL; set TIF_FOREIGN_FPSTATE of *current*, which is still the outgoing
    task here) instead of only setting next's TIF_FOREIGN_FPSTATE."""
    k.fpsimd_load_kernel_state(next_task)
    k.fpsimd_flush_cpu_state()


def fpsimd_thread_switch_save_prev(k: Ctx) -> None:
    """The first statement of fpsimd_thread_switch() (v6.8-v6.14, unchanged by the fix):
    if current has TIF_KERNEL_FPSTATE, fpsimd_save_kernel_state(current), else
    fpsimd_save_user_state().  A helper of the model, so both versions share it."""
    if k.cur.kernel_state is not None:
        with k.If(k.test_thread_flag("TIF_KERNEL_FPSTATE")):
            k.fpsimd_save_kernel_state(k.current)
        with k.Else():
            k.fpsimd_save_user_state()
    else:
        # The idle threads never use task-context kernel-mode NEON in this model: the
        # flag is a constant 0, the user-state path runs (and returns: TIF_FOREIGN_FPSTATE
        # is set).
        k.fpsimd_save_user_state()


def fpsimd_thread_switch_fixup_foreign(k: Ctx, next_task: int, nxt) -> None:  # noqa: ANN001
    """The else branch of fpsimd_thread_switch() (v6.8-v6.14, unchanged by the fix):
    TIF_FOREIGN_FPSTATE of next = wrong_task || wrong_cpu (always true for a kernel
    thread, whose uw state is never bound)."""
    if nxt.mm:
        wrong_task = k.this_cpu.last_st.ne(k.S.task_fpstate(next_task))
        wrong_cpu = nxt.fpsimd_cpu.ne(k.cpu)
        k.update_tsk_thread_flag(next_task, "TIF_FOREIGN_FPSTATE", wrong_task | wrong_cpu)
    else:
        k.update_tsk_thread_flag(next_task, "TIF_FOREIGN_FPSTATE", True)


def fpsimd_bind_task_to_cpu(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.9-v6.14): fpsimd_bind_task_to_cpu(): last->st =
    &current->thread.uw.fpsimd_state (and its sve_state, sme_state, VLs, svcr, fpmr,
    fp_type pointers: follow from .st); last->to_save = FP_STATE_CURRENT;
    current->thread.fpsimd_cpu = this CPU; with SME, EL0 SME enabled iff TIF_SME
    (sme_user_enable/disable); with SVE, EL0 SVE enabled iff TIF_SVE
    (sve_user_enable/disable)."""
    k.set(k.this_cpu.last_st, k.S.task_fpstate(k.current))
    k.set(k.cur.fpsimd_cpu, k.cpu)
    if k.config.sme:
        # sme_user_enable() / sme_user_disable(): CPACR_EL1.SMEN_EL0EN follows TIF_SME
        k.set(k.this_cpu.smen_el0en, k.test_thread_flag("TIF_SME"))
    if k.config.sve:
        # sve_user_enable() / sve_user_disable(): CPACR_EL1.ZEN_EL0EN follows TIF_SVE
        k.set(k.this_cpu.zen_el0en, k.test_thread_flag("TIF_SVE"))


def fpsimd_bind_state_to_cpu(k: Ctx, st: int) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.9-v6.14): fpsimd_bind_state_to_cpu(state):
    WARN_ON(!in_softirq() && !irqs_disabled()); *last = *state (only .st is modelled:
    the save works out the rest from the binding, FP_STATE_SVE at the vcpu's max VL for
    an SVE vcpu bound by ctxsync, `vcpu_has_sve`, else FP_STATE_FPSIMD)."""
    k.check(k.in_softirq() | k.irqs_disabled(), "WARN", "fpsimd_bind_state_to_cpu",
            "WARN_ON(!in_softirq() && !irqs_disabled())")
    k.set(k.this_cpu.last_st, st)


def fpsimd_flush_task_state(k: Ctx, t: int) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.9-v6.14): fpsimd_flush_task_state(t):
    t->thread.fpsimd_cpu = NR_CPUS; set_tsk_thread_flag(t, TIF_FOREIGN_FPSTATE)."""
    k.set(k.task(t).fpsimd_cpu, "NR_CPUS")
    k.update_tsk_thread_flag(t, "TIF_FOREIGN_FPSTATE", True)


def fpsimd_save_and_flush_cpu_state(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.9-v6.14): fpsimd_save_and_flush_cpu_state():
    WARN_ON(preemptible()); local_irq_save(); fpsimd_save_user_state();
    fpsimd_flush_cpu_state(); local_irq_restore()."""
    k.check(~k.preemptible(), "WARN", "fpsimd_save_and_flush_cpu_state",
            "WARN_ON(preemptible())")
    flags = k.local_irq_save()
    k.fpsimd_save_user_state()
    k.fpsimd_flush_cpu_state()
    k.local_irq_restore(flags)


def fpsimd_kvm_prepare(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.2-v6.13): fpsimd_kvm_prepare(): without SVE return;
    get_cpu_fpsimd_context(); if test_and_clear_thread_flag(TIF_SVE): sve_to_fpsimd(current)
    and fp_type = FP_STATE_FPSIMD ("we can only enter the guest from a syscall so the ABI
    means that only the non-saved SVE state needs to be saved"); put_cpu_fpsimd_context().
    CPACR_EL1.ZEN_EL0EN is left as it is (#17, fbc7e61195e2)."""
    if not k.config.sve:
        return
    k.local_bh_disable()
    with k.If(k.test_thread_flag("TIF_SVE")):
        k.clear_thread_flag("TIF_SVE")
        k.sve_to_fpsimd()
        k.set(k.cur.fp_type, "FPSIMD")
    k.local_bh_enable()


def kernel_neon_begin(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.8-v6.14): kernel_neon_begin().

    BUG_ON(!may_use_simd()); get_cpu_fpsimd_context() (local_bh_disable()); if current
    has TIF_KERNEL_FPSTATE (only in a softirq that interrupted a task-context section:
    BUG_ON(!in_serving_softirq())), fpsimd_save_kernel_state(current); else
    fpsimd_save_user_state() and, unless serving a softirq, set TIF_KERNEL_FPSTATE; then
    fpsimd_flush_cpu_state(); put_cpu_fpsimd_context() (local_bh_enable()).  Task
    context stays preemptible: no preempt_disable() any more."""
    k.check(k.may_use_simd(), "BUG", "kernel_neon_begin", "BUG_ON(!may_use_simd())")
    k.local_bh_disable()
    softirq = bool(k.serving_softirq)
    if k.cur.kernel_state is not None:  # a user task, or the kworker
        with k.If(k.test_thread_flag("TIF_KERNEL_FPSTATE")):
            k.check(k.true if softirq else k.false, "BUG", "kernel_neon_begin",
                    "BUG_ON(IS_ENABLED(CONFIG_PREEMPT_RT) || !in_serving_softirq())")
            k.fpsimd_save_kernel_state(k.current)
        with k.Else():
            k.fpsimd_save_user_state()
            if not softirq:
                k.set_thread_flag("TIF_KERNEL_FPSTATE")
    else:
        # An idle thread only reaches here from a softirq on its stack: its
        # TIF_KERNEL_FPSTATE is a constant 0 in this model.
        k.fpsimd_save_user_state()
    k.fpsimd_flush_cpu_state()
    k.local_bh_enable()


def forget_dead_kernel_state(k: Ctx) -> None:
    """Model only (no C): canonicalise current's thread.kernel_fpsimd_state and
    kernel_fpsimd_cpu once they are dead, when a task-context section ends (TIF_KERNEL_FPSTATE
    cleared).  Dead: the only readers are fpsimd_load_kernel_state(t) (its elision test and
    its load), called only for a task with TIF_KERNEL_FPSTATE, and between the set of that
    flag (kernel_neon_begin) and any such load there is always a
    fpsimd_save_kernel_state(t), which writes both (the task is switched out with the
    flag set, or a softirq's kernel_neon_begin interrupts its section).  The C leaves the
    old contents; the model writes zero and NR_CPUS so that states differing only in dead
    data are one state (tests/model/test_v6.py checks that the verdicts do not change)."""
    if k.cur.kernel_state is None:
        return
    zero = Const(k.S.VALUE, k.S.ZERO)
    with k.atomic():
        for slot in k.cur.kernel_state.slots():
            k.set(slot, zero)
        k.set(k.cur.kernel_fpsimd_cpu, "NR_CPUS")


def kernel_neon_end(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.8-v6.14): kernel_neon_end(): in a softirq whose
    task has TIF_KERNEL_FPSTATE (a nested use), fpsimd_load_kernel_state(current) to give
    the interrupted section its registers back; else clear TIF_KERNEL_FPSTATE.  No
    preempt_enable() any more."""
    if k.serving_softirq:
        if k.cur.kernel_state is not None:
            with k.If(k.test_thread_flag("TIF_KERNEL_FPSTATE")):
                k.fpsimd_load_kernel_state(k.current)
            with k.Else():
                k.clear_thread_flag("TIF_KERNEL_FPSTATE")
        else:
            k.clear_thread_flag("TIF_KERNEL_FPSTATE")
    else:
        k.clear_thread_flag("TIF_KERNEL_FPSTATE")
        if k.variant.option("forget_dead_kernel_state", True):
            k.forget_dead_kernel_state()


def kernel_fp_write(k: Ctx) -> None:
    """Kernel-mode NEON code writes the registers V0-V31 and FPSR/FPCR with its section's
    data (a task-context section its task's own token: a preempted section's data
    outlives the step; a softirq section the softirq token).  With SVE, writing Vn zeroes
    the Z bits above 127 (the architectural rule, Documentation/arch/arm64/sve.rst
    appendix A): they become zero, not the section's data (the kernel-mode state is
    saved and reloaded FPSIMD-only, fpsimd_save_kernel_state).  One event: the registers
    written are saved and restored together by every helper, so an IRQ between two of
    the writes reaches what an IRQ before or after them reaches."""
    regs = k.this_cpu.regs
    softirq = bool(k.serving_softirq)
    task = None if softirq or k.cur.kernel_state is None else k.current
    tok = Const(k.S.VALUE, k.S.kneon_section(softirq, task))
    with k.atomic():
        for slot in (regs.v, *regs.fpsr_slots()):  # never FPEXC32
            k.set(slot, tok)
        if isinstance(regs.zhi, Var):
            k.set(regs.zhi, Const(k.S.VALUE, k.S.ZERO))


def kernel_fp_read(k: Ctx) -> None:
    """Kernel-mode NEON code reads back what its section wrote (property no_loss)."""
    softirq = bool(k.serving_softirq)
    task = None if softirq or k.cur.kernel_state is None else k.current
    k.kernel_neon_read_back(softirq, task, zhi=False)


# ---------------------------------------------- entry-common.c and task-context NEON
def el0_svc_common_entry(k: Ctx, fp_entry: Callable[[], None]) -> None:
    """Model helper shared by every v6 el0_svc() (entry-common.c): with SVE, DAIF is masked
    from the exception entry until local_daif_restore(DAIF_PROCCTX) (stated so that the
    derived interleaving sees no IRQ or preemption point in ``fp_entry``, the version's FP
    work at entry); the ghosts of the syscall ABI (the task's Z bits above 127 now read
    zero and its P/FFR are unspecified up to v6.8, zero from v6.9: `Ctx.syscall_p_ghost`) are
    taken there, at the SVC; el0_svc_common() sets regs->syscallno (in_syscall()) only
    after local_daif_restore(), so a preemptible window lies between."""
    if (k.config.sve or k.config.sme) and k.cur.mm:
        k.set(k.this_cpu.irqs_disabled, True)
        fp_entry()
        k.set(k.cur.zhi_expected, 0)
        k.set(k.cur.p_written, k.syscall_p_ghost())
        k.set(k.this_cpu.irqs_disabled, False)
        if k.config.sve:
            k.set(k.cur.in_syscall, True)
    syscall_entry_bookkeeping(k)
    k.goto("KERNEL")


def syscall_entry_bookkeeping(k: Ctx) -> None:
    """Model bookkeeping of the optional events at a syscall entry, as the 2018 el0_svc
    does it (model/kernel/sched.py): (event signal) the signal frame stops being checked
    against the interrupted registers (the syscall ABI changes what Z-high and P/FFR
    must read); (events fork, sve_set_vl) the task is in a syscall's body.  Neither is
    kernel state; without those events both are constants and nothing is emitted."""
    if isinstance(k.cur.sigframe_fresh, Var):
        k.set(k.cur.sigframe_fresh, 0)
        k.sigframe_snapshot_forget(k.current)
    if isinstance(k.cur.syscall_body, Var):
        k.set(k.cur.syscall_body, True)


def syscall_exit_bookkeeping(k: Ctx) -> None:
    """(events fork, sve_set_vl) Model bookkeeping on the way out to user space, with IRQs
    still masked (as the 2018 ret_to_user): the task is past its syscall's body."""
    if isinstance(k.cur.syscall_body, Var):
        k.set(k.cur.syscall_body, False)


def el0_svc(k: Ctx) -> None:
    """arch/arm64/kernel/entry-common.c (v6.9-v6.14): el0_svc(): enter_from_user_mode();
    fp_user_discard(): (no SME) with SVE, if TIF_SVE, sve_flush_live(true, vq): the live
    Z bits above 127, P0-P15 and FFR are zeroed, TIF_SVE and EL0 SVE stay on (8c845e273104);
    local_daif_restore(DAIF_PROCCTX); do_el0_svc() (regs->syscallno set: in_syscall());
    the syscall body runs with IRQs on, preemptible (`el0_svc_common_entry`)."""

    def fp_user_discard() -> None:
        with k.If(k.test_thread_flag("TIF_SVE")):
            k.sve_host_insn()
            zero = Const(k.S.VALUE, k.S.ZERO)
            k.set(k.this_cpu.regs.zhi, zero)  # sve_flush_live(true, ...)
            k.set(k.this_cpu.regs.p, zero)

    el0_svc_common_entry(k, fp_user_discard)


def ret_to_user(k: Ctx) -> None:
    """arch/arm64/kernel/entry-common.c (v6.9-v6.14): exit_to_user_mode() ->
    exit_to_user_mode_prepare(): local_irq_disable(); if work is pending,
    do_notify_resume(): local_irq_enable(), ..., fpsimd_restore_current_state() if
    TIF_FOREIGN_FPSTATE, local_irq_disable() and re-read the flags (one loop iteration
    per step); with no work left, return to EL0 (IRQs unmasked there).  Other work
    (signals, TIF_NEED_RESCHED) is the schedule step."""
    k.local_irq_disable()
    with k.If(k.test_thread_flag("TIF_FOREIGN_FPSTATE")):
        k.local_irq_enable()
        k.fpsimd_restore_current_state()
    with k.Else():
        if k.config.sve and k.cur.mm:
            # Model bookkeeping: the next entry from EL0 sets regs->syscallno (NO_SYSCALL
            # for an IRQ or a trap, the number for a syscall); clearing it here, with IRQs
            # still masked on the way out, is the same for every reader (in_syscall() is
            # only read in the kernel).
            k.set(k.cur.in_syscall, False)
        syscall_exit_bookkeeping(k)
        k.local_irq_enable()
        k.goto("USER")


def syscall_kernel_neon(k: Ctx) -> None:
    """A syscall that uses kernel-mode NEON in task context (a crypto API user), first
    half: if may_use_simd(): kernel_neon_begin() and the NEON work's writes, then the
    task is inside the section (program point KERNEL_NEON), preemptible
    (CONFIG_PREEMPT) and interruptible; `syscall_kernel_neon_end` reads back and ends."""
    with k.If(k.may_use_simd()):
        k.kernel_neon_begin()
        k.kernel_fp_write()
        k.goto("KERNEL_NEON")


def syscall_kernel_neon_end(k: Ctx) -> None:
    """The second half of a task-context kernel-mode NEON section: the NEON work reads
    back its registers (they must hold its own data), kernel_neon_end()."""
    k.kernel_fp_read()
    k.kernel_neon_end()
    k.goto("KERNEL")


def kvm_run_kernel_neon(k: Ctx, vcpu: int) -> None:
    """Task-context kernel-mode NEON in the VMM thread inside KVM_RUN, vcpu loaded (event
    kvm_run_kernel_neon; the 2018 step is model.kernel.kvm_vcpu_ops.kvm_run_kernel_neon),
    first half, v6.8+: at a preemptible point of the run loop (handle_exit() and what it
    calls, e.g. a stage-2 fault paging memory in through a NEON-accelerated path; or after
    the loop, before vcpu_put()), the callers' pattern: if may_use_simd()
    kernel_neon_begin() (arch/arm64/kernel/fpsimd.c: fpsimd_save_user_state(), which saves
    a bound guest's state through the binding ctxsync made, TIF_KERNEL_FPSTATE,
    fpsimd_flush_cpu_state(); KVM's fp_owner is left as it is) and the NEON work's
    writes.  Since aefbab8e77eb (v6.8) the section is preemptible: the thread then waits
    at RUN_NEON_TOP or RUN_NEON_EXIT (which run-loop point it left), and a preemption
    there runs kvm_sched_out() (vcpu_put) before fpsimd_thread_switch() saves the
    section's registers, as model.kernel.sched orders them; `kvm_run_kernel_neon_end`
    reads back and ends."""
    with k.If(k.may_use_simd()):
        k.kernel_neon_begin()
        k.kernel_fp_write()
        with k.If(k.cur.pc.eq("LOOP_TOP")):
            k.goto("RUN_NEON_TOP")
        with k.Else():
            k.goto("RUN_NEON_EXIT")


def kvm_run_kernel_neon_end(k: Ctx, vcpu: int) -> None:
    """The second half of `kvm_run_kernel_neon`: the NEON work reads back its registers
    (they must hold its own data), kernel_neon_end(), and the run loop goes on from the
    point it left (LOOP_TOP, or LOOP_EXIT before vcpu_put())."""
    k.kernel_fp_read()
    k.kernel_neon_end()
    with k.If(k.cur.pc.eq("RUN_NEON_TOP")):
        k.goto("LOOP_TOP")
    with k.Else():
        k.goto("LOOP_EXIT")


# ------------------------------------------------------------------ the SVE trap (SVE)
def do_sve_acc(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.9-v6.14): do_sve_acc(), up to
    get_cpu_fpsimd_context(): sve_alloc(current, true) (memset of the existing sve_state or
    a kzalloc(GFP_KERNEL): may sleep; allocation failure, a SIGKILL, is not modelled); the
    task is then preemptible (program point SVE_ACC) until `do_sve_acc_locked`."""
    k.sve_alloc()
    k.goto("SVE_ACC")


def do_sve_acc_locked(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.9-v6.14): the rest of do_sve_acc():
    get_cpu_fpsimd_context(); if test_and_set_thread_flag(TIF_SVE): WARN_ON(1) ("SVE
    access shouldn't have trapped"); sve_init_regs(); put_cpu_fpsimd_context().  Returns
    to user through the ret_to_user path."""
    k.local_bh_disable()
    k.check(~k.test_thread_flag("TIF_SVE"), "WARN", "do_sve_acc",
            "WARN_ON(1): SVE access shouldn't have trapped (TIF_SVE already set)")
    k.set_thread_flag("TIF_SVE")
    k.sve_init_regs()
    k.local_bh_enable()
    k.goto("KERNEL")


def sve_init_regs(k: Ctx) -> None:
    """arch/arm64/kernel/fpsimd.c (v6.9-v6.14): sve_init_regs(): if current's state is
    live (TIF_FOREIGN_FPSTATE clear): sve_set_vq (the task's VL into ZCR_EL1),
    sve_flush_live(true, vq)
    (zero the Z bits above 127, P and FFR in the registers) and fpsimd_bind_task_to_cpu()
    (which enables EL0 SVE); else convert in memory (`sve_init_regs_in_memory`, the branch
    751ecf6afd65 changed in v6.12)."""
    zero = Const(k.S.VALUE, k.S.ZERO)
    with k.If(~k.test_thread_flag("TIF_FOREIGN_FPSTATE")):
        k.sve_host_insn()
        if isinstance(k.this_cpu.zcr, Var):
            k.set(k.this_cpu.zcr, k.cur.sve_vl)  # sve_set_vq(task's VQ - 1)
        k.set(k.this_cpu.regs.zhi, zero)
        k.set(k.this_cpu.regs.p, zero)
        k.fpsimd_bind_task_to_cpu()
    with k.Else():
        k.sve_init_regs_in_memory()


def sve_init_regs_in_memory(k: Ctx) -> None:
    """The else branch of sve_init_regs() (v6.9-v6.11.10; a helper of the model):
    fpsimd_to_sve(current), fp_type = FP_STATE_SVE.  The task's state may still be bound
    to another CPU (#13)."""
    k.fpsimd_to_sve()
    k.set(k.cur.fp_type, "SVE")


def sve_init_regs_in_memory_v612(k: Ctx) -> None:
    """The same branch (v6.12-v6.14, 6.11.11; 751ecf6afd65 "arm64/sve: Discard stale CPU
    state when handling SVE traps", CVE-2024-50275): as before, then also
    fpsimd_flush_task_state(current), so no CPU's registers count as current's any
    more."""
    sve_init_regs_in_memory(k)
    k.fpsimd_flush_task_state(k.current)


def sve_set(k: Ctx, target: int) -> None:
    """arch/arm64/kernel/ptrace.c (v6.9-v6.14): sve_set() -> sve_set_common(), full SVE
    case at the same vector length (vec_set_vector_length() does nothing), without SME
    (with SME the streaming block comes first: `model.variants.v6_ptrace.sve_set_sme_v68`):
    sve_alloc(target, true); fpsimd_sync_to_sve(target); set TIF_SVE; fp_type =
    FP_STATE_SVE; the tracer's Z/P/FFR into sve_state and FPSR/FPCR into uw.fpsimd_state;
    fpsimd_flush_task_state(target) (which sets its TIF_FOREIGN_FPSTATE)."""
    tgt = k.task(target)
    k.sve_alloc(target)
    k.fpsimd_sync_to_sve(target)
    k.update_tsk_thread_flag(target, "TIF_SVE", True)
    k.set(tgt.fp_type, "SVE")
    k.fp_write_memory(target, [tgt.sve_state.v, tgt.sve_state.zhi, *tgt.uw.fpsr_slots()], zhi=True,
                      p_slots=[tgt.sve_state.p], p_defined=True)
    k.fpsimd_flush_task_state(target)


# -------------------------------------------------------------- arch/arm64/kvm/fpsimd.c
def kvm_fp_owner(k: Ctx, vcpu: int):  # noqa: ANN201
    """Model accessor (not C): where this version keeps who owns the FP registers:
    vcpu->arch.fp_state (v6.0-v6.9)."""
    return k.vcpu(vcpu).fp_state


def kvm_fp_owner_v610(k: Ctx, vcpu: int):  # noqa: ANN201
    """Model accessor (not C): *host_data_ptr(fp_owner), per CPU (v6.10-v6.14)."""
    return k.this_cpu.fp_owner


def guest_owns_fp_regs(k: Ctx, vcpu: int) -> Expr:
    """arch/arm64/kvm/hyp/include/hyp/switch.h (v6.9): guest_owns_fp_regs(vcpu):
    vcpu->arch.fp_state == FP_STATE_GUEST_OWNED; (v6.10, asm/kvm_host.h):
    *host_data_ptr(fp_owner) == FP_STATE_GUEST_OWNED (through `kvm_fp_owner`)."""
    return k.kvm_fp_owner(vcpu).eq("GUEST_OWNED")


def kvm_arch_vcpu_run_map_fp_v610(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/fpsimd.c (v6.10-v6.14): kvm_arch_vcpu_run_map_fp(): without pKVM,
    kvm_share_hyp(current's uw.fpsimd_state) returns at once in VHE and in nVHE calls
    create_hyp_mappings() (kvm_hyp_pgd_mutex: may sleep); no pointer is recorded (v6.10
    sets host_data->fpsimd_state at each vcpu load instead; v6.14 never)."""
    if not k.config.vhe:
        k.might_sleep("kvm_share_hyp() -> create_hyp_mappings(): kvm_hyp_pgd_mutex")


def kvm_arch_vcpu_run_map_fp(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/fpsimd.c (v6.9): kvm_arch_vcpu_run_map_fp(): without pKVM,
    kvm_vcpu_unshare_task_fp() does nothing; kvm_share_hyp() as in v6.10, then
    vcpu->arch.host_fpsimd_state = current's uw.fpsimd_state (the statement v6.10
    removed)."""
    kvm_arch_vcpu_run_map_fp_v610(k, vcpu)
    k.set(k.vcpu(vcpu).host_fpsimd_state, k.S.task_fpstate(k.current))


def kvm_arch_vcpu_load_fp(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/fpsimd.c (v6.8, v6.9): kvm_arch_vcpu_load_fp(): BUG_ON(!current->mm);
    fpsimd_kvm_prepare(); vcpu->arch.fp_state = FP_STATE_HOST_OWNED (ctxflush turns it
    into FREE if TIF_FOREIGN_FPSTATE is set at entry); HOST_SVE_ENABLED from
    CPACR_EL1.ZEN_EL0EN (with SVE); then, with SME, the SME block
    (`model.variants.v6_sme.kvm_arch_vcpu_load_fp_sme`)."""
    _kvm_arch_vcpu_load_fp(k, vcpu, host_pointer=False)


def _kvm_arch_vcpu_load_fp(k: Ctx, vcpu: int, host_pointer: bool) -> None:
    """The body of kvm_arch_vcpu_load_fp() in v6.8-v6.13, in the C's order; v6.10 on
    (``host_pointer``) also sets *host_data_ptr(fpsimd_state) right after the owner."""
    k.check(k.true if k.cur.mm else k.false, "BUG", "kvm_arch_vcpu_load_fp",
            "BUG_ON(!current->mm)")
    k.fpsimd_kvm_prepare()
    k.set(k.kvm_fp_owner(vcpu), "HOST_OWNED")
    if host_pointer:
        k.set(k.this_cpu.host_fpsimd_state, k.S.task_fpstate(k.current))
    if k.config.sve:
        # HOST_SVE_ENABLED = CPACR_EL1.ZEN_EL0EN (vcpu_clear_flag / vcpu_set_flag)
        k.set(k.vcpu(vcpu).host_sve_enabled, k.this_cpu.zen_el0en)
    if k.config.sme:
        k.kvm_arch_vcpu_load_fp_sme(vcpu)


def kvm_arch_vcpu_load_fp_v610(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/fpsimd.c (v6.10-v6.13): kvm_arch_vcpu_load_fp(): as v6.9 (the owner
    is now *host_data_ptr(fp_owner), through `kvm_fp_owner`), plus, right after the owner,
    *host_data_ptr(fpsimd_state) = current's uw.fpsimd_state, the host state hyp will save.
    v6.12 adds *host_data_ptr(fpmr_ptr) = &current->thread.uw.fpmr, which the model
    resolves from fpsimd_state (see `kvm_hyp_save_fpsimd_host_v610`).  The final
    WARN_ON(is_protected_kvm_enabled() && ...) cannot fire: no pKVM."""
    _kvm_arch_vcpu_load_fp(k, vcpu, host_pointer=True)


def kvm_arch_vcpu_ctxflush_fp(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/fpsimd.c (v6.9-v6.14): kvm_arch_vcpu_ctxflush_fp(), with IRQs off
    just before guest entry: if TIF_FOREIGN_FPSTATE, the owner is FP_STATE_FREE."""
    with k.If(k.test_thread_flag("TIF_FOREIGN_FPSTATE")):
        k.set(k.kvm_fp_owner(vcpu), "FREE")


def kvm_arch_vcpu_ctxsync_fp(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/fpsimd.c (v6.9-v6.14): kvm_arch_vcpu_ctxsync_fp(), IRQs off after
    the exit: WARN_ON_ONCE(!irqs_disabled()); if the guest owns the registers, bind
    {.st = &vcpu->arch.ctxt.fp_regs, .sve_state = vcpu->arch.sve_state, .sve_vl =
    vcpu->arch.sve_max_vl, ..., .to_save = FP_STATE_SVE if vcpu_has_sve() else
    FP_STATE_FPSIMD} with
    fpsimd_bind_state_to_cpu() and clear TIF_FOREIGN_FPSTATE."""
    k.check(k.irqs_disabled(), "WARN", "kvm_arch_vcpu_ctxsync_fp",
            "WARN_ON_ONCE(!irqs_disabled())")
    with k.If(k.guest_owns_fp_regs(vcpu)):
        # The model keeps only .st: .sve_state, .sve_vl and .to_save follow from which
        # vcpu it is (fpsimd_save_user_state reads them that way).
        k.fpsimd_bind_state_to_cpu(k.S.vcpu_fpstate(vcpu))
        k.clear_thread_flag("TIF_FOREIGN_FPSTATE")


def kvm_arch_vcpu_put_fp(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/fpsimd.c (v6.8-v6.13): kvm_arch_vcpu_put_fp(): local_irq_save();
    with SME, VHE's restore of CPACR_EL1.SMEN
    (`model.variants.v6_sme.kvm_arch_vcpu_put_fp_sme`); if the guest owns the registers:
    for an SVE vcpu the ZCR handling (`kvm_put_fp_sve_zcr`), then
    fpsimd_save_and_flush_cpu_state(); else with VHE and SVE restore CPACR_EL1.ZEN_EL0EN
    from HOST_SVE_ENABLED; local_irq_restore()."""
    flags = k.local_irq_save()
    if k.config.sme:
        k.kvm_arch_vcpu_put_fp_sme(vcpu)
    with k.If(k.guest_owns_fp_regs(vcpu)):
        if k.vcpu_has_sve(vcpu):
            k.kvm_put_fp_sve_zcr(vcpu)
        k.fpsimd_save_and_flush_cpu_state()
    if k.config.vhe and k.config.sve:
        with k.Else():
            # hyp's kvm_reset_cptr_el2() cleared ZEN_EL0EN: restore what load_fp saw
            k.set(k.this_cpu.zen_el0en, k.vcpu(vcpu).host_sve_enabled)
    k.local_irq_restore(flags)


def kvm_put_fp_sve_zcr(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/fpsimd.c (v5.12-v6.13): the SVE part of kvm_arch_vcpu_put_fp() when
    the guest owns the registers: __vcpu_sys_reg(vcpu, ZCR_EL1) = read_sysreg_el1(SYS_ZCR)
    (the guest's ZCR_EL1: nVHE the one ZCR_EL1, a ZCR_EL1 access at EL1 that traps to hyp
    first while CPTR_EL2.TZ is set; VHE ZCR_EL12); then, if !has_vhe() (or a nested guest,
    not modelled), sve_cond_update_zcr_vq(vcpu_sve_max_vq(vcpu) - 1, SYS_ZCR_EL1): the
    registers are about to be saved at the guest's max VL.  A helper of the model (the C
    is inline in put_fp)."""
    v = k.vcpu(vcpu)
    k.sve_host_insn()
    if isinstance(v.zcr_el1, Var):
        k.set(v.zcr_el1, k.S.zcr_el1_reg(k.cpu))
        if not k.config.vhe:
            k.set(k.this_cpu.zcr, k.config.vcpu_max_vl_index)


def guest_fp_write(k: Ctx, vcpu: int) -> None:
    """The guest writes its FP registers (FP untrapped).  An SVE vcpu's writes are taken
    to be SVE writes: its Z registers (all VL bits), P0-P15/FFR and FPSR/FPCR get its new
    values (abstraction: a guest's FPSIMD-only write, which zeroes the Z bits above 127,
    is not a separate step).  A guest without SVE writes V and FPSR/FPCR."""
    sve = bool(k.vcpu_has_sve(vcpu))
    k.fp_write(k.S.guest_owner(vcpu), k.this_cpu.regs, zhi=sve)


def guest_write_zcr_el1(k: Ctx, vcpu: int, vl: int) -> None:
    """The guest kernel writes ZCR_EL1.LEN (e.g. its sve_probe_vqs()/VL set-up, or its own
    prctl(PR_SVE_SET_VL) task switch) with any supported length up to its max VL.  Only
    while it owns the FP registers: with CPTR_EL2.TZ (nVHE) / CPACR ZEN (VHE) set, a
    ZCR_EL1 access traps to hyp, which switches the FP state in first (the guest_fp_trap
    step).  The register written is the architectural ZCR_EL1: nVHE the one the host
    shares, VHE ZCR_EL1 proper.  Architecture (Arm ARM, "Effective SVE vector length"):
    the guest then runs at min(its ZCR_EL1, ZCR_EL2).  Abstraction: the Z bits a shorter
    length makes inaccessible are not tracked per length (the guest's Z-high/P reads are
    checked for leaks only, properties/fp.py)."""
    k.set(k.S.zcr_el1_reg(k.cpu), vl)


# ------------------------------------------------------------------ arch/arm64/kvm/arm.c
def kvm_arch_vcpu_ioctl_run_enter_guest(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/arm.c (v6.9-v6.14): kvm_arch_vcpu_ioctl_run(), one loop iteration
    from preempt_disable() to guest entry: preempt_disable(); local_irq_disable(); the
    exit checks (a pending signal or request: vcpu->mode = OUTSIDE_GUEST_MODE,
    local_irq_enable(), preempt_enable(); a signal leaves the loop); kvm_arm_setup_debug();
    kvm_arch_vcpu_ctxflush_fp(); kvm_arm_vcpu_enter_exit() -> __kvm_vcpu_run (hyp)."""
    k.preempt_disable()
    k.local_irq_disable()
    bail = k.nondet("signal pending: leave the run loop")
    with k.If(bail):
        k.local_irq_enable()
        k.preempt_enable()
        k.goto("LOOP_EXIT")
    with k.Else():
        k.kvm_arch_vcpu_ctxflush_fp(vcpu)
        k.__kvm_vcpu_run_enter(vcpu)
        k.goto("IN_GUEST")


# ------------------------------------------------------------------------------- hyp
def __activate_traps(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/hyp/vhe/switch.c and nvhe/switch.c (v6.9-v6.14): __activate_traps(),
    its FP part.  VHE: CPACR_EL1 with ZEN and SMEN cleared; if the guest owns the
    registers (and has no SVE) FPEN stays as the host had it (set), else FPEN is cleared
    and __activate_traps_fpsimd32().  nVHE: CPTR_EL2 from vcpu->arch.cptr_el2 (TFP clear),
    and if the guest does not own the registers TFP|TZ and __activate_traps_fpsimd32().
    vcpu->arch.cptr_el2 is RES1 plus, after a KVM_ARM_VCPU_INIT that found an SVE vcpu's
    guest owning the registers, TZ (event vcpu_init): such an entry runs the guest with
    TFP clear and TZ set, and its next SVE instruction traps to hyp (step
    guest_sve_trap).  From v6.12 VHE's is __activate_cptr_traps(), which writes the value
    afresh (TTA|TAM, plus FPEN if the guest owns the registers): the same modelled bits,
    since the host always runs with FPEN set; nVHE's only from v6.14 (2fd5b4b0e7b4: no
    vcpu->arch.cptr_el2, so no state feature vcpu_cptr_el2 and TZ starts clear).  With SVE
    vcpus (v6.13/v6.14, Config.sve_guest): VHE sets ZEN too when the guest owns the
    registers; nVHE's CPTR_EL2.TZ is set with TFP (v6.14: TZ also for a vcpu without SVE,
    which has no SVE state to trap for).  With SME (Config.sme) VHE clears SMEN, the
    host's EL0 SME enable with it (nVHE sets CPTR_EL2.TSM instead, which is not state
    here: the host's own CPACR_EL1 is switched by the sysreg save/restore; guests never
    get SME, model/variants/v6_sme.py "KVM")."""
    owns = k.guest_owns_fp_regs(vcpu)
    sve_vcpu = bool(k.vcpu_has_sve(vcpu))
    tz = k.this_cpu.cptr_tz
    if k.config.vhe:
        if k.config.sme:
            k.set(k.this_cpu.smen_el0en, False)  # val &= ~CPACR_ELx_SMEN (v6_sme.py, "KVM")
        if k.config.sve:
            # val &= ~(ZEN | SMEN); an SVE vcpu that owns the registers gets ZEN back
            # (v6.13/v6.14 __activate_cptr_traps: FPEN, and ZEN if vcpu_has_sve())
            k.set(k.this_cpu.zen_el0en, owns if sve_vcpu else False)
        with k.If(~owns):
            k.set_fp_trap(True)
            k.__activate_traps_fpsimd32(vcpu)
    else:
        k.set_fp_trap(False)
        if isinstance(tz, Var):
            # vcpu->arch.cptr_el2, the value the vcpu's last KVM_ARM_VCPU_INIT computed:
            # TZ if an SVE vcpu's guest owned the registers then (event vcpu_init,
            # `kvm_arch_vcpu_ioctl_vcpu_init_v6`), else RES1 only
            base = k.vcpu(vcpu).cptr_el2_tz
            k.set(tz, base if isinstance(base, Var) else False)
        with k.If(~owns):
            k.set_fp_trap(True)
            if isinstance(tz, Var):
                k.set(tz, True)  # CPTR_EL2_TFP | CPTR_EL2_TZ
            k.__activate_traps_fpsimd32(vcpu)
        if isinstance(tz, Var) and not sve_vcpu and k.variant.option("tz_without_sve", False):
            # v6.14 __activate_cptr_traps() (2fd5b4b0e7b4): TZ if !vcpu_has_sve() too
            k.set(tz, True)


def __deactivate_traps(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/hyp/{vhe,nvhe}/switch.c (v6.9-v6.14): __deactivate_traps() ->
    kvm_reset_cptr_el2() (asm/kvm_emulate.h; v6.14: __deactivate_cptr_traps(), the same
    modelled bits): VHE: CPACR_EL1 = FPEN_EL0EN | FPEN_EL1EN |
    ZEN_EL1EN (FP enabled); nVHE: CPTR_EL2 = CPTR_NVHE_EL2_RES1 (TFP clear), with TZ set if
    the vcpu has SVE and owns the registers (v5.12-v6.13: hyp traps the host's SVE use
    to restore ZCR_EL2 lazily, #20; v6.14 never sets TZ for the host, see
    `__deactivate_traps_v614`)."""
    k.set_fp_trap(False)
    if k.config.vhe and k.config.sve:
        k.set(k.this_cpu.zen_el0en, False)  # the reset value has ZEN_EL1EN only
    if k.config.vhe and k.config.sme:
        k.set(k.this_cpu.smen_el0en, False)  # and SMEN_EL1EN only (v6_sme.py, "KVM")
    tz = k.this_cpu.cptr_tz
    if isinstance(tz, Var):
        # v6.13 kvm_get_reset_cptr_el2(): CPTR_EL2_TZ iff vcpu_has_sve() &&
        # guest_owns_fp_regs(): the host's next SVE use traps (handle_host_sve_trap)
        k.set(tz, k.guest_owns_fp_regs(vcpu) if k.vcpu_has_sve(vcpu) else False)


def __kvm_vcpu_run_enter(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/hyp/{vhe,nvhe}/switch.c (v6.9-v6.13): __kvm_vcpu_run_vhe() /
    __kvm_vcpu_run() up to __guest_enter(): __activate_traps()."""
    k.__activate_traps(vcpu)


def __kvm_vcpu_run_exit(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/hyp/{vhe,nvhe}/switch.c (v6.9-v6.13): after the exit:
    __deactivate_traps(), host sysregs restored, then if the guest owns the registers
    __fpsimd_save_fpexc32()."""
    k.__deactivate_traps(vcpu)
    with k.If(k.guest_owns_fp_regs(vcpu)):
        k.__fpsimd_save_fpexc32(vcpu)


def kvm_hyp_save_fpsimd_host(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/hyp/include/hyp/switch.h (v6.9, inline in kvm_hyp_handle_fpsimd):
    __fpsimd_save_state(vcpu->arch.host_fpsimd_state)."""
    k.store_through(k.vcpu(vcpu).host_fpsimd_state, k.__fpsimd_save_state)


def kvm_hyp_save_fpsimd_host_v610(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/hyp/{vhe,nvhe}/switch.c (v6.10-v6.13): kvm_hyp_save_fpsimd_host(): without
    pKVM, __fpsimd_save_state(*host_data_ptr(fpsimd_state)); then (v6.12, v6.13, from
    ef3be86021c3) if kvm_has_fpmr(vcpu->kvm) (Config.guest_fpmr):
    **host_data_ptr(fpmr_ptr) = FPMR.  v6.10 has no FPMR statement: the host's FPMR is
    left live in the register whatever the VM (guests had no FPMR before v6.12, and
    --guest-fpmr is refused there).  fpmr_ptr is set by kvm_arch_vcpu_load_fp() to
    &current->thread.uw.fpmr next to fpsimd_state = &current->thread.uw.fpsimd_state, and
    nothing else writes either, so the model resolves it from host_data->fpsimd_state."""
    k.store_through(k.this_cpu.host_fpsimd_state, k.__fpsimd_save_state)
    if k.config.guest_fpmr:
        store_fpmr_through(k, k.this_cpu.host_fpsimd_state)


def fixup_guest_exit_fp(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/hyp/include/hyp/switch.h (v6.9-v6.13): kvm_hyp_handle_fpsimd() for
    an FP/ASIMD trap (the guest has no SVE): disable the FP trap (CPACR FPEN set /
    CPTR_EL2.TFP clear); if the host owns the registers save them
    (kvm_hyp_save_fpsimd_host); __fpsimd_restore_state(&vcpu->arch.ctxt.fp_regs); a
    32-bit guest's FPEXC32_EL2 from its sys_regs; the owner becomes
    FP_STATE_GUEST_OWNED; the guest is re-entered.  An SVE vcpu (Config.sve_guest, read in
    v6.13): ZEN/TZ untrapped too and __hyp_sve_restore_guest() instead of the FPSIMD
    restore.  v6.12/v6.13: after the restore, the guest's FPMR if kvm_has_fpmr()
    (`kvm_hyp_restore_guest_fpmr`); v6.9/v6.10 have no such statement."""
    v = k.vcpu(vcpu)
    k.kvm_hyp_untrap_fp(vcpu)
    with k.If(k.kvm_fp_owner(vcpu).eq("HOST_OWNED")):
        k.kvm_hyp_save_fpsimd_host(vcpu)
    if k.vcpu_has_sve(vcpu):
        k.__hyp_sve_restore_guest(vcpu)
    else:
        k.__fpsimd_restore_state(v.fp_regs)
    kvm_hyp_restore_guest_fpmr(k, vcpu)
    k.__fpsimd_restore_fpexc32(vcpu)
    k.set(k.kvm_fp_owner(vcpu), "GUEST_OWNED")


def kvm_hyp_restore_guest_fpmr(k: Ctx, vcpu: int) -> None:
    """The FPMR statement of kvm_hyp_handle_fpsimd() (arch/arm64/kvm/hyp/include/hyp/
    switch.h, v6.12 on, ef3be86021c3; a helper of the model): if kvm_has_fpmr(vcpu->kvm)
    (Config.guest_fpmr, refused before v6.12), FPMR = __vcpu_sys_reg(vcpu, FPMR)."""
    if k.config.guest_fpmr:
        k.set(k.this_cpu.regs.fpmr, k.vcpu(vcpu).fp_regs.fpmr)


def kvm_hyp_untrap_fp(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/hyp/include/hyp/switch.h (v6.9-v6.14): the first statement of
    kvm_hyp_handle_fpsimd(): cpacr_clear_set(0, CPACR_ELx_FPEN | CPACR_ELx_ZEN) for an SVE
    vcpu (or pKVM with SVE, not modelled), else cpacr_clear_set(0, CPACR_ELx_FPEN); isb().
    nVHE: CPTR_EL2.TFP (and TZ) cleared; VHE: CPACR_EL1.FPEN (and ZEN, both its EL0 and
    EL1 bits) set.  A helper of the model."""
    k.set_fp_trap(False)
    if k.vcpu_has_sve(vcpu):
        if k.config.vhe:
            k.set(k.this_cpu.zen_el0en, True)
        elif isinstance(k.this_cpu.cptr_tz, Var):
            k.set(k.this_cpu.cptr_tz, False)


def __hyp_sve_restore_guest(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/hyp/include/hyp/switch.h (v5.12-v6.14): __hyp_sve_restore_guest():
    sve_cond_update_zcr_vq(vcpu_sve_max_vq(vcpu) - 1, SYS_ZCR_EL2) (the saved layout is
    at the max VL); __sve_restore_state(vcpu_sve_pffr(vcpu), &ctxt.fp_regs.fpsr, true):
    Z0-Z31, P0-P15, FFR from vcpu->arch.sve_state and FPSR/FPCR from fp_regs; (NV's
    guest-hypervisor ZCR_EL2: not modelled); write_sysreg_el1(vcpu's ZCR_EL1, SYS_ZCR):
    the guest's own ZCR_EL1 (nVHE ZCR_EL1, VHE ZCR_EL12)."""
    v = k.vcpu(vcpu)
    c = k.cpu
    if isinstance(k.this_cpu.zcr2, Var):
        k.set(k.S.zcr_el2_reg(c), k.config.vcpu_max_vl_index)
    regs = k.this_cpu.regs
    k.set(regs.v, v.sve_state.v)
    k.set(regs.zhi, v.sve_state.zhi)
    k.set(regs.p, v.sve_state.p)
    k.copy_fpsr_fpcr(regs, v.fp_regs)
    if isinstance(k.this_cpu.zcr2, Var):
        k.set(k.S.zcr_el1_reg(c), v.zcr_el1)


# --------------------------------------------------------------------- the variants
_NEW = ["preemptible", "fpsimd_save_user_state", "fpsimd_load_kernel_state",
        "fpsimd_save_kernel_state", "fpsimd_thread_switch_save_prev",
        "fpsimd_thread_switch_to_kernel_neon", "sve_init_regs_in_memory",
        "fpsimd_thread_switch_fixup_foreign", "fpsimd_save_and_flush_cpu_state",
        "fpsimd_kvm_prepare", "syscall_kernel_neon_end", "kvm_run_kernel_neon_end",
        "forget_dead_kernel_state",
        "kvm_fp_owner", "guest_owns_fp_regs", "kvm_arch_vcpu_ctxflush_fp",
        "kvm_hyp_save_fpsimd_host", "do_sve_acc_locked", "sve_init_regs",
        "sve_get_vl", "sve_vl_check", "sve_host_insn", "handle_host_sve_trap",
        "kvm_put_fp_sve_zcr", "guest_write_zcr_el1", "kvm_hyp_untrap_fp",
        "__hyp_sve_restore_guest", "vcpu_has_sve"]

# Functions of the 2018 table that no v6.9 code calls (gone, or not reached without
# SVE): removed so that a stray call is a build error, not silently 2018 code.
_GONE = ["sve_flush_cpu_state", "kvm_fpsimd_flush_cpu_state", "kvm_arch_vcpu_load_fp_rc1",
         "update_fp_enabled", "__hyp_switch_fpsimd"]


# The events whose steps call the version's ptrace sve_set_common() with a payload kind or
# a header VL (model/variants/v6_ptrace.py; v6.1's: model/variants/v6_1_sme.py): v6.1 and
# v6.8-v6.16.
PTRACE_SVE_EVENTS = ("ptrace_sve_fpsimd", "ptrace_sve_nodata", "ptrace_sve_vl")


def check_config(variant: Variant, config) -> str | None:  # noqa: ANN001
    """Why ``config`` is outside what the v6 variants model (None if it is not)."""
    if "ptrace_sve_nodata" in config.events and config.fpmr:
        return ("event ptrace_sve_nodata with --fpmr is not modelled: the ghost of a"
                " header-only write that changes streaming mode says the tracee reads zero V"
                " and FPSR but keeps its FPMR (ptrace never alters FPMR, 78b23877dbba), which"
                " the model's 'must read zero' ghost cannot say apart")
    if config.sme:
        why = check_sme_config(variant, config)
        if why:
            return why
    if config.sve_guest:
        return check_sve_guest_config(variant, config)
    return None


def check_sve_guest_config(variant: Variant, config) -> str | None:  # noqa: ANN001
    """Why ``config`` with SVE vcpus (Config.sve_guest) is outside what the model covers
    (None if it is not): the versions whose KVM SVE code was read (option ``sve_guest``:
    v6.1, v6.8-v6.16, see `make_v69`, model/variants/v6_1.py and v6_16.py).  With SME too
    where the version models SME (v6.8-v6.10, v6.16): an SVE vcpu's binding is saved by
    model/variants/v6_sme.py `_save_vcpu_state_sme` (to_save FP_STATE_SVE)."""
    if not variant.option("sve_guest", False):
        return (f"variant {variant.name}: --sve-guest (SVE vcpus) is modelled for v6.1 and"
                " v6.8 to v6.16 only (their hyp and kvm/fpsimd.c SVE code was read; this"
                " version's was not)")
    return None


def check_sme_config(variant: Variant, config) -> str | None:  # noqa: ANN001
    """Why ``config`` with SME (Config.sme) is outside what the model covers (None if it is
    not): the versions where SME is reachable and read, and the paths whose SME part is
    modelled (model/variants/v6_sme.py)."""
    if not variant.option("sme", False):
        why = variant.option("sme_refused") or (
            "variant {name}: --sme is not modelled for this version (its SME code was not"
            " read; SME is modelled for v6.8 to v6.10 and v6.16)")
        return why.format(name=variant.name)
    bad = [e for e in config.events if e in SME_UNSUPPORTED_EVENTS]
    if bad:
        return (f"variant {variant.name}: event {bad[0]} with --sme is not modelled:"
                f" {SME_UNSUPPORTED_EVENTS[bad[0]]}")
    return None


def make_v69(base: Variant) -> Variant:
    functions = {n: globals()[n] for n in (
        "preemptible", "may_use_simd", "task_fpsimd_load", "fpsimd_save_user_state",
        "fpsimd_save", "fpsimd_load_kernel_state", "fpsimd_save_kernel_state",
        "fpsimd_thread_switch", "fpsimd_thread_switch_save_prev",
        "fpsimd_thread_switch_to_kernel_neon",
        "fpsimd_thread_switch_fixup_foreign", "fpsimd_bind_task_to_cpu",
        "fpsimd_bind_state_to_cpu", "fpsimd_flush_task_state",
        "fpsimd_save_and_flush_cpu_state", "fpsimd_kvm_prepare", "kernel_neon_begin",
        "kernel_neon_end", "forget_dead_kernel_state", "kernel_fp_write", "kernel_fp_read",
        "el0_svc", "ret_to_user",
        "syscall_kernel_neon", "syscall_kernel_neon_end", "kvm_run_kernel_neon",
        "kvm_run_kernel_neon_end", "kvm_fp_owner",
        "guest_owns_fp_regs", "kvm_arch_vcpu_run_map_fp", "kvm_arch_vcpu_load_fp",
        "kvm_arch_vcpu_ctxflush_fp", "kvm_arch_vcpu_ctxsync_fp", "kvm_arch_vcpu_put_fp",
        "kvm_arch_vcpu_ioctl_run_enter_guest", "__activate_traps", "__deactivate_traps",
        "__kvm_vcpu_run_enter", "__kvm_vcpu_run_exit", "kvm_hyp_save_fpsimd_host",
        "fixup_guest_exit_fp", "do_sve_acc", "do_sve_acc_locked", "sve_init_regs",
        "sve_init_regs_in_memory",
        "sve_set", "sve_get_vl", "sve_vl_check", "sve_host_insn", "handle_host_sve_trap",
        "kvm_put_fp_sve_zcr", "guest_fp_write", "guest_write_zcr_el1", "kvm_hyp_untrap_fp",
        "__hyp_sve_restore_guest", "vcpu_has_sve")}
    functions.update({n: None for n in _GONE if n in base.functions})
    from model.variants import v6_sme
    # SME's SMSTOP in fpsimd_flush_cpu_state() (the same statements without SME)
    functions["fpsimd_flush_cpu_state"] = v6_sme.fpsimd_flush_cpu_state
    functions.update(v6_events.V68_FUNCTIONS)  # the optional events' v6 functions
    # SME (Config.sme): v6.9's SME code is v6.10's (compared function by function: only
    # fpsimd_thread_switch differs, by e92bee9f861b), and v6.8's is v6.9's less FPMR
    functions.update(v6_sme.v610_functions())
    return base.derive(
        "v6.9",
        "v6.9.0: preemptible task-context kernel NEON (TIF_KERNEL_FPSTATE, lazy kernel-state"
        " restore), vcpu->arch.fp_state; #15 (erroneous elide of the user state reload)",
        options={"new_functions": _NEW + v6_sme.NEW_FUNCTIONS + v6_events.V68_NEW,
                 "state_features": ("kernel_fpstate", "vcpu_fp_state", "fp_type",
                                    "host_sme_enabled", "vcpu_cptr_el2"),
                 "check_config": check_config,
                 # FEAT_FPMR host support (203f2b95a882, v6.9): Config.fpmr
                 "fpmr": True, "sme": True,
                 # the syscall ABI's zero P/FFR (v6.9's sve.rst: model.ctx `Ctx.syscall_p_ghost`)
                 "syscall_zeroes_p": True,
                 # SVE vcpus (Config.sve_guest): the KVM SVE code of v6.8-v6.13 is one
                 # (module docstring, "SVE vcpus")
                 "sve_guest": True},
        tree=V69_TREE, release="v6.9.0", **functions)


def make_v68(v69: Variant) -> Variant:
    """v6.8.0 (vivo50kff/linux-6.8 @ bc4fae0d, the arm64 FP files touched only by its import
    commit): the FP code of v6.9 less the host FPMR support, so every modelled function
    is v6.9's (no FPMR in the model: system_supports_fpmr() is false).  Compared file by
    file with the v6.9.0 tree:

    * arch/arm64/kernel/fpsimd.c: v6.9 adds only FPMR (task_fpsimd_load() writes FPMR,
      fpsimd_save_user_state() reads it, fpsimd_bind_task_to_cpu() sets last->fpmr,
      cpu_enable_fpmr()) and two boot-time register resets (ZCR_EL1 in cpu_enable_sve(),
      SMCR_EL1 in cpu_enable_sme()), none of which the model has;
    * arch/arm64/kvm/fpsimd.c: v6.9 adds only ctxsync's fp_state.fpmr pointer (and a
      comment's spelling);
    * arch/arm64/kernel/entry-common.c: v6.8's exit_to_user_mode_prepare() masks all of
      DAIF (local_daif_mask()) and calls do_notify_resume() in signal.c, which unmasks
      with local_daif_restore(DAIF_PROCCTX) before fpsimd_restore_current_state() and
      masks again after each iteration; v6.9 moved do_notify_resume() into
      entry-common.c with local_irq_enable()/local_irq_disable().  The same IRQ masking
      at every FP statement (the model has no debug/SError masking): the same ret_to_user;
    * arch/arm64/kernel/ptrace.c: v6.9 adds the NT_ARM_FPMR regset and makes
      sve_get_common()'s header (sve_init_header_from_task()) read fp_type instead of
      TIF_SVE; sve_set_common() (the model's sve_set) is identical;
    * hyp/include/hyp/switch.h: only the fine-grained trap (FGT/FGU) and HCRX handling
      and the SEA fault-code ranges differ; kvm_hyp_handle_fpsimd() and the CPTR/CPACR
      code are identical; hyp/vhe/switch.c, hyp/nvhe/switch.c and asm/simd.h are
      identical; asm/kvm_emulate.h only changes the NV E2H test; kvm/arm.c only adds
      VM debugfs and sysreg-mask set-up; asm/kvm_host.h only adds FPMR fields and FGU
      state; virt/kvm/kvm_main.c's changes (memory caches, MMU notifiers, directed yield)
      do not touch the preempt notifiers or vcpu_load/vcpu_put.

    So v6.8 has #15 (e92bee9f861b fixed it in v6.10; its Fixes tag names aefbab8e77eb,
    v6.8's preemptible kernel NEON) and #13, like v6.9."""
    return v69.derive(
        "v6.8",
        "v6.8.0: the FP code of v6.9 less host FPMR (not modelled): preemptible task-context"
        " kernel NEON with TIF_KERNEL_FPSTATE (aefbab8e77eb), vcpu->arch.fp_state; #15, #13",
        # v6.8 has no FPMR code; its sve.rst still lets a syscall keep P/FFR
        # (model.ctx `Ctx.syscall_p_ghost`)
        options={"fpmr": False, "syscall_zeroes_p": False},
        tree=V68_TREE, release="v6.8.0")


def make_v610(v69: Variant) -> Variant:
    return v69.derive(
        "v6.10",
        "v6.10.0: e92bee9f861b (flush the CPU state when switching to a task in kernel"
        " NEON), host_data->fp_owner and host_data->fpsimd_state; SME (--sme) reachable:"
        " #21 (SMSTOP after loading the kernel-mode state), #14 (do_sme_acc)",
        options={"state_features": ("kernel_fpstate", "host_data_fp_owner", "fp_type",
                                    "host_sme_enabled", "vcpu_cptr_el2")},
        tree=V610_TREE, release="v6.10.0",
        fpsimd_thread_switch_to_kernel_neon=fpsimd_thread_switch_to_kernel_neon_v610,
        kvm_fp_owner=kvm_fp_owner_v610,
        kvm_arch_vcpu_run_map_fp=kvm_arch_vcpu_run_map_fp_v610,
        kvm_arch_vcpu_load_fp=kvm_arch_vcpu_load_fp_v610,
        kvm_hyp_save_fpsimd_host=kvm_hyp_save_fpsimd_host_v610)


def make_v612(v610: Variant) -> Variant:
    return v610.derive(
        "v6.12",
        "v6.12.0: 751ecf6afd65 (the SVE trap discards stale CPU state: flush the task's"
        " binding when converting in memory); the rest as modelled for v6.10",
        # SME cannot be configured: ARM64_SME `depends on BROKEN` from v6.12-rc7
        # (81235ae0c846) until v6.16-rc1 (33c4618d0ac0); v6.13 and v6.14 inherit this.
        # KVM's FPMR for guests (ef3be86021c3, v6.12): Config.guest_fpmr
        options={"sme": False,
                 "sme_refused": "variant {name}: --sme is refused: SME cannot be enabled in"
                                " this release (ARM64_SME `depends on BROKEN` from v6.12-rc7,"
                                " 81235ae0c846, until v6.16-rc1, 33c4618d0ac0)",
                 "guest_fpmr": True},
        tree=V612_TREE, release="v6.12.0",
        sve_init_regs_in_memory=sve_init_regs_in_memory_v612)


def make_v613(v612: Variant) -> Variant:
    """v6.13.7: the FP code of v6.12 unchanged (see the module docstring for the file-by-file
    comparison), so every function is v6.12's; only the tree it is pinned to differs."""
    return v612.derive(
        "v6.13",
        "v6.13.7: the last release before the 2025 KVM FP rework; the FP code is v6.12's"
        " (fpsimd_kvm_prepare(), HOST_SVE_ENABLED, hyp saves the host's FPSIMD state)",
        # SVE vcpus (Config.sve_guest): v6.12's, read again in v6.13.7 (option inherited)
        tree=V613_TREE, release="v6.13.7")


# --------------------------------------------------- v6.14: the 2025 KVM FP rework (#17, #20)
def kvm_arch_vcpu_load_fp_v614(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/fpsimd.c (v6.14; fbc7e61195e2 "KVM: arm64: Unconditionally save+flush
    host FPSIMD/SVE/SME state", #17): kvm_arch_vcpu_load_fp(): BUG_ON(!current->mm);
    fpsimd_save_and_flush_cpu_state() (the host's live state, SVE or FPSIMD by the usual
    rule, is saved into current's thread struct and unbound: current gets
    TIF_FOREIGN_FPSTATE, the host kernel reloads it on the way back to user space);
    *host_data_ptr(fp_owner) = FP_STATE_FREE; WARN_ON_ONCE(system_supports_sme() && SVCR)
    (with SME, Config.sme: v6.16, a kernel_asserts site; HOST_SME_ENABLED and put_fp's
    SMEN restore are gone).  fpsimd_kvm_prepare() is gone.  (fbc7e61195e2 alone still set
    host_data's fpsimd_state/fpmr_ptr to NULL and recorded HOST_SVE_ENABLED; the later
    patches of the series, all in v6.14.0, removed those writes and their readers.)"""
    k.check(k.true if k.cur.mm else k.false, "BUG", "kvm_arch_vcpu_load_fp",
            "BUG_ON(!current->mm)")
    k.fpsimd_save_and_flush_cpu_state()
    k.set(k.kvm_fp_owner(vcpu), "FREE")
    if k.config.sme:
        # fpsimd_save_and_flush_cpu_state() did SMSTOP (fpsimd_flush_cpu_state())
        k.check(k.this_cpu.sm.eq(0) & k.this_cpu.za_on.eq(0), "WARN", "kvm_arch_vcpu_load_fp",
                "WARN_ON_ONCE(system_supports_sme() && read_sysreg_s(SYS_SVCR))")


def kvm_arch_vcpu_put_fp_v614(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/fpsimd.c (v6.14): kvm_arch_vcpu_put_fp(): local_irq_save(); if the
    guest owns the registers, fpsimd_save_and_flush_cpu_state() (which saves them into the
    vcpu through the binding ctxsync made); local_irq_restore().  No CPACR_EL1.ZEN/SMEN
    restore and no ZCR_EL1 handling any more (the host state was flushed at load, so the
    host reloads and rebinds, which sets the EL0 traps, before user space runs again)."""
    flags = k.local_irq_save()
    with k.If(k.guest_owns_fp_regs(vcpu)):
        k.fpsimd_save_and_flush_cpu_state()
    k.local_irq_restore(flags)


def fixup_guest_exit_fp_v614(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/hyp/include/hyp/switch.h (v6.14): kvm_hyp_handle_fpsimd() for an
    FP/ASIMD trap (the guest has no SVE): cpacr_clear_set(0, FPEN) (FP untrapped; ZEN too
    only for an SVE guest or pKVM); the host state is saved only if
    is_protected_kvm_enabled() && host_owns_fp_regs() (no pKVM here: never, the host state
    was saved and flushed at vcpu load); __fpsimd_restore_state(&vcpu->arch.ctxt.fp_regs);
    FPMR only if kvm_has_fpmr() (`kvm_hyp_restore_guest_fpmr`); a 32-bit guest's
    FPEXC32_EL2; the owner becomes FP_STATE_GUEST_OWNED; the guest is re-entered.  An SVE
    vcpu (Config.sve_guest): ZEN too and __hyp_sve_restore_guest() (as in v6.13)."""
    v = k.vcpu(vcpu)
    k.kvm_hyp_untrap_fp(vcpu)
    if k.vcpu_has_sve(vcpu):
        k.__hyp_sve_restore_guest(vcpu)
    else:
        k.__fpsimd_restore_state(v.fp_regs)
    kvm_hyp_restore_guest_fpmr(k, vcpu)
    k.__fpsimd_restore_fpexc32(vcpu)
    k.set(k.kvm_fp_owner(vcpu), "GUEST_OWNED")


def vcpu_has_sve(k: Ctx, vcpu: int) -> bool:
    """arch/arm64/include/asm/kvm_host.h: vcpu_has_sve(vcpu) (KVM_ARM_VCPU_SVE).  A
    build-time fact of the configuration: every vcpu has the SVE feature iff
    Config.sve_guest (ctxsync then binds it with to_save = FP_STATE_SVE at its max VL)."""
    return bool(k.config.sve_guest)


def fpsimd_lazy_switch_to_guest(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/hyp/include/hyp/switch.h (v6.14; 59419f10045b "KVM: arm64: Eagerly
    switch ZCR_EL{1,2}", #20): fpsimd_lazy_switch_to_guest(), on every guest entry (VHE:
    __kvm_vcpu_run_vhe() before __activate_traps(); nVHE: handle___kvm_vcpu_run() before
    __kvm_vcpu_run()): if the guest owns the registers and has SVE, ZCR_EL2 = the vcpu's
    max VQ - 1 (a nested guest's guest-hypervisor ZCR_EL2: NV is not modelled) and the
    guest's ZCR_EL1 (nVHE ZCR_EL1, VHE ZCR_EL12) = the vcpu's saved ZCR_EL1.  Nothing
    else; with one vector length the ZCR values are not state and nothing is written."""
    if not k.vcpu_has_sve(vcpu) or not isinstance(k.this_cpu.zcr2, Var):
        return
    c = k.cpu
    with k.If(k.guest_owns_fp_regs(vcpu)):
        k.set(k.S.zcr_el2_reg(c), k.config.vcpu_max_vl_index)
        k.set(k.S.zcr_el1_reg(c), k.vcpu(vcpu).zcr_el1)


def fpsimd_lazy_switch_to_host(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/hyp/include/hyp/switch.h (v6.14, #20): fpsimd_lazy_switch_to_host(),
    on every guest exit (VHE: after __deactivate_traps(); nVHE: after __kvm_vcpu_run()
    returns): if the guest owns the registers and has SVE, save the guest's ZCR_EL1 into
    the vcpu (__vcpu_sys_reg(vcpu, ZCR_EL1) = read_sysreg_el1(SYS_ZCR)), then VHE:
    ZCR_EL2 = the vcpu's max VQ - 1; nVHE: ZCR_EL2 = the host max (kvm_host_sve_max_vl)
    and ZCR_EL1 = the vcpu's max VQ - 1: the host runs at the guest's max VL and can save
    the guest's state lazily in its layout."""
    if not k.vcpu_has_sve(vcpu) or not isinstance(k.this_cpu.zcr2, Var):
        return
    c = k.cpu
    v = k.vcpu(vcpu)
    with k.If(k.guest_owns_fp_regs(vcpu)):
        k.set(v.zcr_el1, k.S.zcr_el1_reg(c))
        if k.config.vhe:
            k.set(k.S.zcr_el2_reg(c), k.config.vcpu_max_vl_index)
        else:
            k.set(k.S.zcr_el2_reg(c), len(k.config.sve_vls) - 1)
            k.set(k.S.zcr_el1_reg(c), k.config.vcpu_max_vl_index)


def __deactivate_traps_v614(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/hyp/{vhe,nvhe}/switch.c (v6.14): __deactivate_traps() ->
    __deactivate_cptr_traps(): VHE CPACR_EL1 = FPEN | ZEN_EL1EN; nVHE CPTR_EL2 =
    CPTR_NVHE_EL2_RES1, TZ only if the system has no SVE: with SVE never set for the
    host any more (59419f10045b)."""
    k.set_fp_trap(False)
    if k.config.vhe and k.config.sve:
        k.set(k.this_cpu.zen_el0en, False)
    if k.config.vhe and k.config.sme:
        k.set(k.this_cpu.smen_el0en, False)  # SMEN_EL1EN only (v6_sme.py, "KVM")
    tz = k.this_cpu.cptr_tz
    if isinstance(tz, Var):
        k.set(tz, False)


def __kvm_vcpu_run_enter_v614(k: Ctx, vcpu: int) -> None:
    """arch/arm64/kvm/hyp/vhe/switch.c __kvm_vcpu_run_vhe() and nvhe/hyp-main.c
    handle___kvm_vcpu_run() -> nvhe/switch.c __kvm_vcpu_run() (v6.14), up to
    __guest_enter(): fpsimd_lazy_switch_to_guest(), then as before (__activate_traps(),
    its __activate_cptr_traps() as in v6.12/v6.13)."""
    k.fpsimd_lazy_switch_to_guest(vcpu)
    __kvm_vcpu_run_enter(k, vcpu)


def __kvm_vcpu_run_exit_v614(k: Ctx, vcpu: int) -> None:
    """The same functions after the last exit (v6.14): as before (__deactivate_traps(),
    whose VHE __deactivate_cptr_traps() writes CPACR_EL1 = FPEN | ZEN_EL1EN, EL0 SVE
    trapped, and nVHE CPTR_EL2 with TFP and, with SVE, TZ clear; then __fpsimd_save_fpexc32()
    if the guest owns the registers), then fpsimd_lazy_switch_to_host().  That is nVHE's
    order (handle___kvm_vcpu_run() switches ZCR after __kvm_vcpu_run() returns); VHE
    switches ZCR between the two, which touch different state."""
    __kvm_vcpu_run_exit(k, vcpu)
    k.fpsimd_lazy_switch_to_host(vcpu)


def make_v614(v613: Variant) -> Variant:
    """v6.14.0: #17's fix and the rest of the 2025 series (see the module docstring).  Its
    lemmas (properties/lemmas.py) are v6.10's except v6_host_pointer_at_load
    (host_data->fpsimd_state is no longer set), plus its own."""
    return v613.derive(
        "v6.14",
        "v6.14.0: fbc7e61195e2 (#17: vcpu load saves and flushes the host FP state;"
        " fpsimd_kvm_prepare() and hyp's host save gone, put_fp no longer restores ZEN) and"
        " 59419f10045b (#20: eager ZCR_EL{1,2} switching in hyp)",
        options={"new_functions": ["fpsimd_lazy_switch_to_guest",
                                   "fpsimd_lazy_switch_to_host"],
                 # nVHE __activate_cptr_traps() sets CPTR_EL2.TZ for a vcpu without SVE
                 # even while its guest owns the registers (2fd5b4b0e7b4)
                 "tz_without_sve": True,
                 # HOST_SME_ENABLED is gone (the series removed put_fp's SMEN restore)
                 "state_features": ("kernel_fpstate", "host_data_fp_owner", "fp_type")},
        tree=V614_TREE, release="v6.14.0",
        kvm_arch_vcpu_load_fp=kvm_arch_vcpu_load_fp_v614,
        kvm_arch_vcpu_put_fp=kvm_arch_vcpu_put_fp_v614,
        fixup_guest_exit_fp=fixup_guest_exit_fp_v614,
        handle_host_sve_trap=handle_host_sve_trap_v614,
        __deactivate_traps=__deactivate_traps_v614,
        fpsimd_lazy_switch_to_guest=fpsimd_lazy_switch_to_guest,
        fpsimd_lazy_switch_to_host=fpsimd_lazy_switch_to_host,
        __kvm_vcpu_run_enter=__kvm_vcpu_run_enter_v614,
        __kvm_vcpu_run_exit=__kvm_vcpu_run_exit_v614,
        # Gone in v6.14 (or reached only with pKVM, which is not modelled).
        fpsimd_kvm_prepare=None,
        kvm_hyp_save_fpsimd_host=None,
        # fbc7e61195e2 removed load_fp's SME block (the save+flush covers it) and the
        # series put_fp's SMEN restore
        kvm_arch_vcpu_load_fp_sme=None,
        kvm_arch_vcpu_put_fp_sme=None)
