"""The optional events on v6.1 (model/variants/v6_1.py): the busy-flag FPSIMD context and
2018's TIF_SVE-governed format tests, with v6.8's shared statements."""

from __future__ import annotations

import pytest

from checker.instance import PROPERTY_NAMES, Instance
from checker.native.explore import explore_native
from model.config import Config, kconfig_preset
from model.variants import get_variant

PREEMPT = kconfig_preset("preempt")


def test_v61_tables_use_its_own_context_and_2018s_format_tests() -> None:
    f = get_variant("v6.1").functions
    assert f["fpsimd_preserve_current_state"].__module__ == "model.variants.v6_1"
    assert f["fpsimd_update_current_state"].__module__ == "model.variants.v6_1"
    assert f["fpsimd_flush_thread"].__module__ == "model.variants.v6_1"
    # v6.1's text of these (model/variants/v6_1_sme.py): 2018's TIF_SVE tests, and with
    # SME its own (TIF_SVE || SVCR.SM) where v6.1 has them
    for name in ("preserve_sve_context", "sve_sync_to_fpsimd",
                 "fpsimd_signal_preserve_current_state"):
        assert f[name].__module__ == "model.variants.v6_1_sme", name
    assert f["kvm_run_kernel_neon"].__module__ == "model.kernel.kvm_vcpu_ops"
    assert f.get("kvm_run_kernel_neon_end") is None


@pytest.mark.parametrize("event", ["signal", "exec", "ptrace_fpr_set", "cpu_pm", "efi",
                                   "set_one_reg", "kvm_run_kernel_neon"])
def test_v61_event_holds_at_one_cpu(event: str) -> None:
    """Each event at one CPU (a task, the VMM thread and a vcpu; merged preemption):
    every property holds, and fpsimd_context_busy's WARNs stay quiet."""
    inst = Instance(Config(cpus=1, events=(event,), preemption="merged", **PREEMPT),
                    get_variant("v6.1"))
    res, _ = explore_native(inst, list(PROPERTY_NAMES))
    assert res.complete and not res.violations, (event, list(res.violations))


def test_v61_fork_after_a_tracers_sve_write_copies_stale_v() -> None:
    """e0cb0f26594c's bug on v6.1 through a tracer (counterexamples/README.md, the
    v6.1-fork-tracer row): a tracer's NT_ARM_SVE write at the syscall-entry stop of a
    clone() leaves the parent's latest values only in sve_state, and the child copies the
    older uw.fpsimd_state."""
    cfg = Config(cpus=1, tasks=2, vcpus=0, vmm_threads=0, vhe=True, sve=True,
                 events=("fork",), **PREEMPT)
    res, _ = explore_native(Instance(cfg, get_variant("v6.1")), ["no_loss"], stop_early=True,
                            workers=1)  # shape asserted: one worker, the same trace each run
    trace = res.violations["no_loss"]
    assert len(trace.steps) == 14
    labels = [s.label for s in trace.steps]
    assert any(lbl.startswith("ptrace_sve_set") or "sve_set" in lbl for lbl in labels)
    assert sum(lbl.startswith("fork") for lbl in labels) == 2
