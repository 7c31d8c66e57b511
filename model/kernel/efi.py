"""EFI runtime-services calls and their FP handling (event ``efi``).

Sources (the same text in the v4.17 and v4.18 trees): include/linux/efi.h
(efi_call_virt_pointer), arch/arm64/include/asm/efi.h (arch_efi_call_virt_setup,
arch_efi_call_virt, arch_efi_call_virt_teardown), drivers/firmware/efi/arm-runtime.c
(efi_virtmap_load, efi_virtmap_unload), drivers/firmware/efi/runtime-wrappers.c
(virt_efi_*), arch/arm64/kernel/fpsimd.c (__efi_fpsimd_begin, __efi_fpsimd_end: in
model.kernel.fpsimd), arch/arm64/kernel/traps.c (die), kernel/printk/printk.c
(kmsg_dump), fs/pstore/platform.c (pstore_dump, pstore_cannot_block_path),
drivers/firmware/efi/efi-pstore.c (efi_pstore_write), drivers/firmware/efi/vars.c
(efivar_entry_set_safe).

The callers of EFI runtime services on arm64 at these versions, by context:

* task context, IRQs on: the efivarfs / efivars sysfs / efi_test / capsule-loader
  syscalls, rtc-efi (rtc core, in a syscall or a kworker), the efivars update worker.
  may_use_simd() is true (efi_virtmap_load() only disables preemption), so
  __efi_fpsimd_begin() takes the kernel-NEON path.  No caller uses EFI from softirq
  context, and none in KVM_RUN's run loop;
* IRQs off (the buffer path): pstore's kmsg dumper on an oops (die() holds die_lock
  with IRQs saved-off, oops_exit() -> kmsg_dump(KMSG_DUMP_OOPS) -> pstore_dump() ->
  efi_pstore_write() -> efivar_entry_set_safe() -> virt_efi_set_variable()), the only
  such caller after which the system keeps running; and callers after which it does not:
  panic()'s kmsg dump (also from hardirq context), machine_restart() -> efi_reboot() and
  efi_power_off() (IRQs disabled, other CPUs stopped).  Those are not modelled: no
  context reads its FP registers again.

The firmware may use FP/SIMD (its ABI says so): the model writes the token ``efi`` to
V and FPSR/FPCR, which zeroes the Z bits above 127 (an FPSIMD write); the firmware does
not use SVE.  A context that later reads ``efi`` has lost its state and sees firmware
data (no_loss and no_leak).
"""

from __future__ import annotations

from model.ctx import Ctx
from model.dsl import Const, Var


def efi_virtmap_load(k: Ctx) -> None:
    """drivers/firmware/efi/arm-runtime.c: efi_virtmap_load(): preempt_disable();
    efi_set_pgd(&efi_mm) (no FP effect)."""
    k.preempt_disable()


def efi_virtmap_unload(k: Ctx) -> None:
    """drivers/firmware/efi/arm-runtime.c: efi_virtmap_unload():
    efi_set_pgd(current->active_mm); preempt_enable()."""
    k.preempt_enable()


def arch_efi_call_virt_setup(k: Ctx) -> None:
    """arch/arm64/include/asm/efi.h: arch_efi_call_virt_setup(): efi_virtmap_load();
    __efi_fpsimd_begin()."""
    k.efi_virtmap_load()
    k.__efi_fpsimd_begin()


def arch_efi_call_virt(k: Ctx) -> None:
    """arch/arm64/include/asm/efi.h: arch_efi_call_virt(p, f, args): the firmware's
    runtime service (through __efi_rt_asm_wrapper in v4.18), which may use FP/SIMD."""
    k.efi_firmware_fp_write()


def arch_efi_call_virt_teardown(k: Ctx) -> None:
    """arch/arm64/include/asm/efi.h: arch_efi_call_virt_teardown(): __efi_fpsimd_end();
    efi_virtmap_unload()."""
    k.__efi_fpsimd_end()
    k.efi_virtmap_unload()


def efi_call_virt_pointer(k: Ctx) -> None:
    """include/linux/efi.h: efi_call_virt_pointer(p, f, args):
    arch_efi_call_virt_setup(); local_save_flags(); arch_efi_call_virt();
    efi_call_virt_check_flags() (the firmware leaves the IRQ flags alone in the model);
    arch_efi_call_virt_teardown()."""
    k.arch_efi_call_virt_setup()
    k.arch_efi_call_virt()
    k.arch_efi_call_virt_teardown()


def efi_firmware_fp_write(k: Ctx) -> None:
    """Firmware code (not kernel code) using FP/SIMD: V0-V31 and FPSR/FPCR get firmware
    values; writing V zeroes the Z bits above 127."""
    regs = k.this_cpu.regs
    k.set(regs.v, Const(k.S.VALUE, k.S.EFI))
    for slot in regs.fpsr_slots():
        k.set(slot, Const(k.S.VALUE, k.S.EFI))
    if k.config.sve:
        k.set(regs.zhi, Const(k.S.VALUE, k.S.ZERO))


def virt_efi_runtime_call(k: Ctx) -> None:
    """drivers/firmware/efi/runtime-wrappers.c: virt_efi_get_time(), virt_efi_get_variable(),
    virt_efi_set_variable(), ... (all the same shape): down_interruptible(&efi_runtime_lock)
    (it may sleep: before the non-preemptible section, where the model's schedule step
    can come); efi_call_virt(f, ...) = efi_call_virt_pointer(efi.systab->runtime, f, ...);
    up(&efi_runtime_lock).

    From efi_virtmap_load() to efi_virtmap_unload() preemption is off and IRQs are on: an
    IRQ can come, but its softirq sees kernel_neon_busy (set by __efi_fpsimd_begin's
    kernel_neon_begin()) and falls back to scalar code, so the call is one step (as
    `syscall_kernel_neon`)."""
    k.efi_call_virt_pointer()


def die(k: Ctx) -> None:
    """arch/arm64/kernel/traps.c: die() on an oops in task context, as far as FP goes:
    raw_spin_lock_irqsave(&die_lock); ...; oops_exit() -> kmsg_dump(KMSG_DUMP_OOPS) ->
    pstore_dump() (psinfo->buf_lock taken with IRQs saved-off) -> efi_pstore_write() ->
    efivar_entry_set_safe(..., block = !pstore_cannot_block_path(OOPS) = true) ->
    ops->set_variable = virt_efi_set_variable() -> efi_call_virt_pointer() with IRQs
    masked, so __efi_fpsimd_begin() takes the buffer path; then
    raw_spin_unlock_irqrestore().

    Abstraction: die() then kills the oopsing task (do_exit(SIGSEGV)); the model lets it
    go on.  The buffer path gives back the registers it found and changes no metadata, so
    a correct kernel leaves the state exactly as it was and this adds no states; the
    step checks what happens inside it (the WARN, the save/restore)."""
    flags = k.let("flags", k.this_cpu.irqs_disabled)
    k.local_irq_disable()
    k.efi_call_virt_pointer()
    k.set(k.this_cpu.irqs_disabled, flags)


def efi_buffers_dead(k: Ctx) -> None:
    """Not kernel code: a state-space reduction.  The per-CPU EFI buffers are read only by
    __efi_fpsimd_end() of the call whose __efi_fpsimd_begin() wrote them (an EFI call on a
    CPU is inside one step: IRQs off on the buffer path, and no other EFI call can start
    on the CPU before the teardown), so between calls their contents are dead; the model
    forgets them (zero) after each call instead of carrying stale copies of FP data."""
    zero = Const(k.S.VALUE, k.S.ZERO)
    cpu = k.this_cpu
    for img in (cpu.efi_fpsimd_state, cpu.efi_sve_state):
        for slot in img.slots():
            k.set(slot, zero)
    if isinstance(cpu.efi_sm_state, Var):
        # (v6 with SME and SVE) efi_sm_state is read only by the same call's end, after
        # its begin wrote it (the kernel leaves the stale bit: dead between calls)
        k.set(cpu.efi_sm_state, False)


FUNCTIONS = {
    f.__name__: f
    for f in (
        efi_virtmap_load,
        efi_virtmap_unload,
        arch_efi_call_virt_setup,
        arch_efi_call_virt,
        arch_efi_call_virt_teardown,
        efi_call_virt_pointer,
        efi_firmware_fp_write,
        virt_efi_runtime_call,
        die,
        efi_buffers_dead,
    )
}
