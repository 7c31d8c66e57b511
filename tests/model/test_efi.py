"""EFI runtime services (event efi): __efi_fpsimd_begin/__efi_fpsimd_end on both paths and
their callers, against the C (model/kernel/fpsimd.py, model/kernel/efi.py)."""

from __future__ import annotations

import pytest

from checker.explicit.explore import explore_bfs
from checker.instance import Instance
from model.config import Config
from model.variants import get_variant
from tests.model.probe import Probe

EV = {"events": ("efi",)}
T0_LIVE = {
    "cpu0.current": "T0",
    "T0.pc": "KERNEL",
    "cpu0.regs.v": "T0",
    "cpu0.regs.fpsr": "T0",
    "cpu0.fpsimd_last_state.st": "T0.uw",
    "T0.fpsimd_cpu": "cpu0",
    "T0.TIF_FOREIGN_FPSTATE": "0",
    "T0.uw.v": "T0~",
    "T0.uw.fpsr": "T0~",
}
VERSIONS = ["v4.17", "seed", "v4.18-rc1", "v4.18"]


@pytest.mark.parametrize("variant", VERSIONS)
def test_task_context_call_takes_the_kernel_neon_path(variant) -> None:
    p = Probe(variant, **EV)
    post, viol = p.run("virt_efi_runtime_call", task="T0", inputs=(False,), **T0_LIVE)
    assert (post["T0.uw.v"], post["T0.uw.fpsr"]) == ("T0", "T0")  # kernel_neon_begin saved
    assert post["cpu0.fpsimd_last_state.st"] == "NULL"
    assert post["T0.TIF_FOREIGN_FPSTATE"] == "1"  # v4.17: kernel_neon_begin sets it (mm)
    assert (post["cpu0.regs.v"], post["cpu0.regs.fpsr"]) == ("efi", "efi")
    assert post["cpu0.preempt_count"] == "0" and post["cpu0.kernel_neon_busy"] == "0"
    assert post["cpu0.efi_fpsimd_state_used"] == "0"
    assert viol == []


@pytest.mark.parametrize("variant", VERSIONS)
def test_irqs_off_call_takes_the_buffer_path(variant) -> None:
    p = Probe(variant, **EV)
    pre = {**T0_LIVE, "cpu0.irqs_disabled": "1", "cpu0.preempt_count": "1"}
    post, viol = p.run("__efi_fpsimd_begin", task="T0", **pre)
    assert (post["cpu0.efi_fpsimd_state.v"], post["cpu0.efi_fpsimd_state.fpsr"]) == ("T0", "T0")
    assert post["cpu0.efi_fpsimd_state_used"] == "1"
    # no ownership metadata is touched
    assert post["cpu0.fpsimd_last_state.st"] == "T0.uw"
    assert post["T0.TIF_FOREIGN_FPSTATE"] == "0" and post["T0.uw.v"] == "T0~"
    assert post["cpu0.kernel_neon_busy"] == "0" and viol == []
    mid = {**pre, "cpu0.regs.v": "efi", "cpu0.regs.fpsr": "efi",
           "cpu0.efi_fpsimd_state.v": "T0", "cpu0.efi_fpsimd_state.fpsr": "T0",
           "cpu0.efi_fpsimd_state_used": "1"}
    post, viol = p.run("__efi_fpsimd_end", task="T0", **mid)
    assert (post["cpu0.regs.v"], post["cpu0.regs.fpsr"]) == ("T0", "T0")
    assert post["cpu0.efi_fpsimd_state_used"] == "0" and viol == []


def test_buffer_path_with_sve_keeps_the_z_bits() -> None:
    p = Probe("v4.18", sve=True, vhe=True, **EV)
    pre = {**T0_LIVE, "cpu0.regs.zhi": "T0", "T0.TIF_SVE": "1",
           "cpu0.CPACR_EL1.ZEN_EL0EN": "1", "cpu0.irqs_disabled": "1"}
    post, viol = p.run("die", task="T0", **pre)
    for slot in ("v", "fpsr", "zhi"):
        assert post[f"cpu0.regs.{slot}"] == "T0"
    assert post["cpu0.efi_sve_state.zhi"] == "T0"  # sve_save_state went to efi_sve_state
    assert post["cpu0.efi_sve_state_used"] == post["cpu0.efi_fpsimd_state_used"] == "0"
    assert viol == []


def test_firmware_zeroes_the_z_bits_above_v() -> None:
    p = Probe("v4.18", sve=True, vhe=True, **EV)
    post, _ = p.run("efi_firmware_fp_write", task="T0", **{**T0_LIVE, "cpu0.regs.zhi": "T0"})
    assert (post["cpu0.regs.v"], post["cpu0.regs.zhi"]) == ("efi", "0")


@pytest.mark.parametrize("variant", VERSIONS)
def test_oops_path_leaves_the_state_as_it_was(variant) -> None:
    p = Probe(variant, **EV)
    pre = p.state(**T0_LIVE)
    post, viol = p.run("die", task="T0", state=pre)
    # Only the (dead) EFI buffer differs: it holds the copy the buffer path made.
    assert {k: v for k, v in post.items() if v != p.layout.state_dict(pre)[k]} == {
        "cpu0.efi_fpsimd_state.v": "T0", "cpu0.efi_fpsimd_state.fpsr": "T0"}
    assert viol == []


def test_begin_warns_when_preemptible() -> None:
    _, viol = Probe("v4.18", **EV).run("__efi_fpsimd_begin", task="T0", inputs=(False,),
                                       **T0_LIVE)
    assert "__efi_fpsimd_begin: WARN WARN_ON(preemptible())" in viol


def _always_kernel_neon():
    def __efi_fpsimd_begin(k):
        """A broken begin without the buffer path."""
        k.check(~k.preemptible(), "WARN", "__efi_fpsimd_begin", "WARN_ON(preemptible())")
        k.kernel_neon_begin()

    def __efi_fpsimd_end(k):
        k.kernel_neon_end()

    return get_variant("v4.18").derive("efi-no-buffer-path", "test",
                                       __efi_fpsimd_begin=__efi_fpsimd_begin,
                                       __efi_fpsimd_end=__efi_fpsimd_end)


def _buffer_path_skips_restore():
    def __efi_fpsimd_end(k):
        """A broken end that forgets to restore the registers on the buffer path."""
        cpu = k.this_cpu
        used = k.let("used", cpu.efi_fpsimd_state_used)
        k.set(cpu.efi_fpsimd_state_used, False)
        with k.If(used.eq(0)):
            k.kernel_neon_end()

    return get_variant("v4.18").derive("efi-end-no-restore", "test",
                                       __efi_fpsimd_end=__efi_fpsimd_end)


SMALL = Config(preemption="merged", cpus=1, tasks=1, vmm_threads=0, vcpus=0, **EV)


def test_event_needs_the_buffer_path() -> None:
    """With IRQs off kernel_neon_begin() would BUG: the buffer path is exercised."""
    res, _ = explore_bfs(Instance(SMALL, _always_kernel_neon()), ["kernel_asserts"])
    tr = res.violations["kernel_asserts"]
    assert tr.steps[-1].label.startswith("efi_oops")


def test_event_catches_firmware_data_leaking() -> None:
    good, _ = explore_bfs(Instance(SMALL, get_variant("v4.18")), ["no_loss", "no_leak"])
    assert good.complete and not good.violations
    res, _ = explore_bfs(Instance(SMALL, _buffer_path_skips_restore()), ["no_leak"])
    assert "no_leak" in res.violations


def test_steps_only_with_the_event() -> None:
    base = Instance(Config(preemption="merged"), get_variant("seed"))
    assert not {a.name for a in base.actions} & {"efi_call", "efi_oops"}
    assert "efi" not in base.layout.VALUE.labels
    assert not any(v.name.startswith("cpu0.efi") for v in base.layout.vars)
