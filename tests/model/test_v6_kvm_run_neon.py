"""Kernel-mode NEON in the VMM thread inside KVM_RUN on the v6 variants (event
kvm_run_kernel_neon): since v6.8 the section is preemptible, so it is two steps with the
program points RUN_NEON_TOP/RUN_NEON_EXIT between them (model/variants/v6.py
kvm_run_kernel_neon, kvm_run_kernel_neon_end)."""

from __future__ import annotations

from checker.cli import main
from checker.instance import Instance
from checker.native.explore import explore_native
from model.config import Config, kconfig_preset
from model.variants import get_variant
from properties.fp import PROPERTY_NAMES

from .probe import Probe

PREEMPT = kconfig_preset("preempt")
EVENT = ("kvm_run_kernel_neon",)
# vcpu0 is loaded by vmm0 on cpu0 and its registers are live there (GUEST_OWNED, bound by
# ctxsync after the last exit); vmm0 is back at the top of the run loop.
GUEST_LIVE = {"cpu0.current": "vmm0", "vmm0.pc": "LOOP_TOP", "vcpu0.mutex": "vmm0",
              "vmm0.preempt_notifier": "vcpu0", "cpu0.host_data.fp_owner": "GUEST_OWNED",
              "cpu0.fpsimd_last_state.st": "vcpu0.fp_regs", "vmm0.TIF_FOREIGN_FPSTATE": "0",
              "cpu0.regs.v": "G0", "cpu0.regs.fpsr": "G0"}


def probe() -> Probe:
    return Probe("v6.10", cpus=1, tasks=0, vmm_threads=1, vcpus=1, events=EVENT, **PREEMPT)


def test_the_section_saves_the_bound_guest_and_stays_open_preemptible() -> None:
    """kernel_neon_begin() saves the guest's registers through the binding ctxsync made,
    sets TIF_KERNEL_FPSTATE and flushes the CPU; fp_owner is left GUEST_OWNED.  The thread
    then waits inside the section (RUN_NEON_TOP) with preemption enabled."""
    st, viol = probe().run("kvm_run_kernel_neon", 0, task="vmm0", **GUEST_LIVE)
    assert not viol
    assert st["vcpu0.fp_regs.v"] == "G0" and st["vcpu0.fp_regs.fpsr"] == "G0"
    assert st["vmm0.TIF_KERNEL_FPSTATE"] == "1" and st["vmm0.TIF_FOREIGN_FPSTATE"] == "1"
    assert st["cpu0.fpsimd_last_state.st"] == "NULL"
    assert st["cpu0.host_data.fp_owner"] == "GUEST_OWNED"
    assert st["vmm0.pc"] == "RUN_NEON_TOP" and st["cpu0.preempt_count"] == "0"


def test_the_section_returns_to_the_run_loop_point_it_left() -> None:
    p = probe()
    for left, waiting in (("LOOP_TOP", "RUN_NEON_TOP"), ("LOOP_EXIT", "RUN_NEON_EXIT")):
        st, viol = p.run("kvm_run_kernel_neon", 0, task="vmm0",
                         **{**GUEST_LIVE, "vmm0.pc": left})
        assert not viol and st["vmm0.pc"] == waiting
        st, viol = p.run("kvm_run_kernel_neon_end", 0, task="vmm0", **st)
        assert not viol
        assert st["vmm0.pc"] == left and st["vmm0.TIF_KERNEL_FPSTATE"] == "0"


def test_v610_holds_with_the_section_preempted_and_the_vcpu_put() -> None:
    """One CPU, a VMM thread and a plain task: the preemption inside the section (KVM's
    sched-out notifier puts the vcpu before fpsimd_thread_switch saves the section's
    registers) is reached, and nothing is lost or leaked."""
    inst = Instance(Config(cpus=1, tasks=1, vmm_threads=1, vcpus=1, events=EVENT,
                           **PREEMPT), get_variant("v6.10"))
    res, _ = explore_native(inst, list(PROPERTY_NAMES))
    assert res.complete and not res.violations, list(res.violations)
    assert res.guards_reached.get("kvm_run_neon_preempted") is not None
    assert res.guards_reached.get("kvm_run_neon_vcpu_bound") is not None


def test_the_2018_variants_keep_their_one_step_section(capsys) -> None:
    """v4.18's section runs with preemption off (kernel_neon_busy): no RUN_NEON points."""
    inst = Instance(Config(events=EVENT), get_variant("v4.18"))
    assert "RUN_NEON_TOP" not in inst.layout.PC.labels
    assert not [a for a in inst.actions if a.name == "kvm_run_kernel_neon_end"]
    assert main(["explore", "--variant", "v6.16", "--cpus", "1", "--tasks", "0", "--quiet",
                 "--event", "kvm_run_kernel_neon"]) == 0
