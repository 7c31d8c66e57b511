"""A guest without SVE on SVE hardware (event guest_hidden_sve): KVM hides SVE in the ID
registers only and leaves CPACR_EL1 to the guest, so whether its SVE instructions run is
EL2's trap (nVHE CPTR_EL2.TZ, VHE CPACR_EL1.ZEN).

The finding: on nVHE v6.8-v6.13 `__activate_traps()` starts from vcpu->arch.cptr_el2, which
for a vcpu without SVE is RES1 only, and adds TFP|TZ only while the guest does not own the
registers; the FP trap handler clears TFP alone for such a guest.  So from its second entry
after a trap the guest runs with TZ clear: it reads P0-P15/FFR, which hyp's FPSIMD-only
restore of its V registers left as the host had them (another task's, or the VMM
thread's): no_leak.  2fd5b4b0e7b4 (v6.14, docs/fixes.md #26) sets TZ for a vcpu without
SVE on every entry.  VHE clears CPACR_EL1.ZEN at every entry for such a vcpu and holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.explicit.explore import explore_bfs
from checker.inspect.load import load
from checker.inspect.replay import build_instance, replay
from checker.instance import Instance
from checker.smt.bmc import bmc
from checker.smt.induction import prove
from model.config import Config, kconfig_preset
from model.dsl import ModelError
from model.variants import get_variant
from properties.fp import PROPERTY_NAMES

CURATED = Path(__file__).resolve().parents[2] / "counterexamples" / \
    "v6.13-hidden_sve-no_leak-nvhe-c1t1v1m1-sve-preempt-explicit-bfs.json"
# the VMM thread alone: its own P is what the guest reads (19 steps, 10,818 states)
SMALL = dict(cpus=1, tasks=0, vmm_threads=1, vcpus=1, sve=True, preemption="merged",
             events=("guest_hidden_sve",), **kconfig_preset("preempt"))


def test_v613_nvhe_guest_reads_the_vmm_threads_p() -> None:
    res, _ = explore_bfs(Instance(Config(**SMALL), get_variant("v6.13")), ["no_leak"])
    trace = res.violations["no_leak"]
    assert len(trace.steps) == 19
    last = trace.steps[-1].state
    assert last["cpu0.regs.p"] == "vmm0" and last["cpu0.CPTR_EL2.TZ"] == "0"
    assert last["cpu0.CPTR_EL2.TFP"] == "0" and last["vmm0.pc"] == "IN_GUEST"


def test_v61_nvhe_has_it_too() -> None:
    """v6.1's __activate_traps() is v6.13's here (vcpu->arch.cptr_el2 = CPTR_EL2_DEFAULT,
    TFP|TZ only while the guest does not own the registers); 6.1.y took 2fd5b4b0e7b4 in
    2025.  Its KVM load path is shorter (no fpsimd_kvm_prepare()), so 14 steps."""
    inst = Instance(Config(**SMALL), get_variant("v6.1"))
    res, _ = explore_bfs(inst, ["no_leak"])
    trace = res.violations["no_leak"]
    assert len(trace.steps) == 14 and trace.steps[-1].state["cpu0.regs.p"] == "vmm0"
    # bmc finds it at the same length (about 5 s)
    found = bmc(inst, ["no_leak"], 14).props["no_leak"]
    assert found.verdict == "VIOLATED" and found.depth == 14


@pytest.mark.parametrize("variant,vhe", [("v6.13", True), ("v6.14", False),
                                         ("v6.16-ptrace-fixes", False),
                                         ("v6.16-ptrace-fixes", True)])
def test_trapped_hidden_sve_does_not_leak(variant, vhe) -> None:
    res, _ = explore_bfs(Instance(Config(**SMALL, vhe=vhe), get_variant(variant)),
                         ["no_leak"])
    assert res.complete and not res.violations


def test_curated_trace_reproduces_on_v610_to_v613() -> None:
    """counterexamples/v6.13-hidden_sve-*: T0's P (from a tracer's NT_ARM_SVE write) is
    loaded on the CPU, the VMM thread's FPSIMD-only reload keeps it, and the guest's
    second entry runs with TZ clear."""
    trace = load(str(CURATED))
    assert trace.variant == "v6.13" and trace.property == "no_leak"
    assert len(trace.steps) == 14
    assert trace.steps[-1].state["cpu0.regs.p"] == "T0"
    for v in ("v6.13", "v6.12", "v6.10"):
        assert replay(trace, build_instance(trace, v, {})).reproduces, v


def test_v616_with_hidden_sve_is_proved() -> None:
    cfg = Config(**{**SMALL, "tasks": 1})
    res = prove(Instance(cfg, get_variant("v6.16-ptrace-fixes")), list(PROPERTY_NAMES))
    bad = [(o.name, o.initiation, o.consecution) for o in res.obligations if not o.ok]
    assert res.verdict == "PROVED", bad


def test_the_event_needs_sve_hardware_vcpus_without_sve_and_a_v6_variant() -> None:
    with pytest.raises(ModelError, match="not --sve-guest"):
        Instance(Config(**{**SMALL, "sve_guest": True}), get_variant("v6.13"))
    with pytest.raises(ModelError, match="v6.1 and v6.8 to v6.16"):
        Instance(Config(**SMALL, vhe=True), get_variant("v4.18"))
    with pytest.raises(ValueError, match="guest_hidden_sve"):  # nVHE SVE KVM otherwise
        Config(**{**SMALL, "events": ()})
