"""Probe variants: search devices, not kernel versions and not fixes.

Each closes one known mechanism so that the explorer's shortest counterexample shows the
next one (BFS reports one trace per property).  The traces they found were relabelled with
the kernel version whose steps they are, after a replay there reproduced them step for
step (counterexamples/README.md says which).  Load with
``--variant-file counterexamples/probes.py``.
"""

from __future__ import annotations

from model.ctx import Ctx
from model.dsl import Const
from model.kernel import efi, signal
from model.state import Image
from model.variants import get_variant, v6
from model.variants.v6_events import (
    _handler_entry_ghost,
    _restore_za_context,
    _set_fp_type,
    fpsimd_signal_preserve_current_state_v68,
)
from model.variants.v6_sme import _with_sme, task_fpsimd_load_sme_v610


def restore_za_context_always_flush(k: Ctx, frame: Image) -> None:
    """v6.10's restore_za_context() (signal.c) with its fpsimd_flush_task_state(current)
    in both branches, so a record without ZA data also makes the reload take the cleared
    thread.svcr.ZA: closes the sigreturn finding (counterexamples
    v6.10-signal-no_loss-*)."""
    del frame
    k.fpsimd_flush_task_state(k.current)
    _restore_za_context(k, flush=False)


def setup_return_irq_free(k: Ctx) -> None:
    """v6.8-v6.15's setup_return() SME part (`model.variants.v6_events.setup_return_v68`)
    with its thread.svcr clear and its SMSTOP in one step (no IRQ between them): closes
    the handler-entry finding (v6.10-signal-entry-*), keeps the live SMSTOP."""
    _handler_entry_ghost(k)
    t = k.cur
    zero = Const(k.S.VALUE, k.S.ZERO)
    with k.atomic():
        with k.If(t.svcr_sm.eq(1)):
            k.set(t.uw.v, zero)
            k.zero_fpsr_fpcr(t.uw)
            _set_fp_type(k, k.current, "FPSIMD")
        k.set(t.svcr_za, False)
        k.set(t.svcr_sm, False)
        k.sme_smstop()


V610_ZA_FLUSH = get_variant("v6.10").derive(
    "probe-v6.10-za-flush", "v6.10 with restore_za_context() flushing in both branches",
    restore_za_context=restore_za_context_always_flush)

V616_OLD_DELIVERY = get_variant("v6.16").derive(
    "probe-v6.16-old-delivery",
    "v6.16 with v6.8-v6.15's signal delivery (preserve without flush, live SMSTOP in"
    " setup_return(), its svcr clear and SMSTOP IRQ-free)",
    options={"new_functions": ["fpsimd_signal_preserve_current_state"]},
    setup_rt_frame=signal.setup_rt_frame, setup_return=setup_return_irq_free,
    fpsimd_signal_preserve_current_state=fpsimd_signal_preserve_current_state_v68)



def task_fpsimd_load_fpmr_after_svcr(k: Ctx) -> None:
    """v6.10's task_fpsimd_load() with SME and e5fa85fce08b's order (FPMR restored after the
    SVCR write): closes the reload's FPMR loss (counterexamples v6.10-fpmr-no_loss-*)."""
    task_fpsimd_load_sme_v610(k, fpmr_first=False)


V610_FPMR_AFTER_SVCR = get_variant("v6.10").derive(
    "probe-v6.10-fpmr-after-svcr", "v6.10 with e5fa85fce08b (FPMR restored after SVCR)",
    task_fpsimd_load=_with_sme(v6.task_fpsimd_load, task_fpsimd_load_fpmr_after_svcr))



def die_with_current_foreign(k: Ctx) -> None:
    """arch/arm64/kernel/traps.c die() (`model.kernel.efi.die`: the EFI buffer path of an
    oops with pstore) only while current's own state is not live (TIF_FOREIGN_FPSTATE
    set), else nothing: the oopsing task is killed after die(), which the model does not
    do, so this search shows only what the oops does to *another* task's registers
    (counterexamples v6.16-efi-fpmr-no_loss-*)."""
    with k.If(k.test_thread_flag("TIF_FOREIGN_FPSTATE")):
        efi.die(k)


V616_DIE_FOREIGN = get_variant("v6.16-ptrace-fixes").derive(
    "probe-v6.16-die-foreign",
    "v6.16-ptrace-fixes whose oops (die()) runs only while current's state is not live",
    die=die_with_current_foreign)



def do_sve_acc_not_in_the_vmm(k: Ctx) -> None:
    """v6.9-v6.14's do_sve_acc() (`model.variants.v6.do_sve_acc`) for every task but a VMM
    thread, whose SVE trap does nothing (a self-loop): the VMM thread never gets TIF_SVE,
    which closes #17's host-side loss (counterexamples v6.13-no_loss-nvhe-c1t0v1m1-sveguest-*
    needs the VMM's TIF_SVE) so that a guest-side loss shows."""
    if not k.cur.vmm:
        v6.do_sve_acc(k)


V613_VMM_NO_SVE = get_variant("v6.13").derive(
    "probe-v6.13-vmm-no-sve", "v6.13 whose VMM thread never executes SVE",
    do_sve_acc=do_sve_acc_not_in_the_vmm)
# v6.8's guest_owns_fp_regs() reads the vcpu's own fp_state, not a per-CPU owner
V68_VMM_NO_SVE = get_variant("v6.8").derive(
    "probe-v6.8-vmm-no-sve", "v6.8 whose VMM thread never executes SVE",
    do_sve_acc=do_sve_acc_not_in_the_vmm)

VARIANTS = [V610_ZA_FLUSH, V616_OLD_DELIVERY, V610_FPMR_AFTER_SVCR, V616_DIE_FOREIGN,
            V613_VMM_NO_SVE, V68_VMM_NO_SVE]
