"""KVM_ARM_VCPU_INIT on a vcpu that has run (event vcpu_init,
`model.variants.v6_events.kvm_arch_vcpu_ioctl_vcpu_init_v6`) and nVHE's
vcpu->arch.cptr_el2 (state feature vcpu_cptr_el2, v6.8-v6.13).

The finding: an SVE vcpu reset by its VMM while the guest owned the FP registers (v6.8/v6.9:
its own fp_state, left GUEST_OWNED by put_fp; v6.10-v6.13: the CPU's host_data->fp_owner)
gets CPTR_EL2.TZ in vcpu->arch.cptr_el2, which nVHE __activate_traps() starts from on every
entry.  After its first FP trap of the next KVM_RUN the guest owns the registers, and the
next entry runs it with TFP clear but TZ set: its next SVE instruction traps to hyp, whose
kvm_hyp_handle_fpsimd() reloads Z/P/FFR and FPSR/FPCR from vcpu->arch.sve_state, the state
of the previous vcpu_put: the guest's writes since are lost (no_loss, 23 steps).  Fixed by
2fd5b4b0e7b4 "KVM: arm64: Calculate cptr_el2 traps on activating traps" (v6.14; Fixes
5294afdbf45a, v6.10; in 6.1.y, 6.6.y and 6.12.y with #17's series).  v6.13's shortest
no_loss is #17's (the VMM thread's own state, 12 steps), so the search runs on probes whose
VMM thread never executes SVE (counterexamples/probes.py), and the trace, which has no step
of the VMM's SVE, replays on the real versions."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.explicit.explore import explore_bfs
from checker.inspect.load import load
from checker.inspect.replay import build_instance, replay
from checker.instance import Instance
from checker.smt.induction import prove
from model.config import Config, kconfig_preset
from model.ctx import MissingFunction
from model.variants import get_variant, load_variant_file
from properties.fp import PROPERTY_NAMES

ROOT = Path(__file__).resolve().parents[2]
CURATED = ROOT / "counterexamples" / \
    "v6.13-vcpu_init-no_loss-nvhe-c1t0v1m1-sveguest-preempt-explicit-bfs.json"
CFG = dict(cpus=1, tasks=0, vmm_threads=1, vcpus=1, sve=True, sve_guest=True,
           events=("vcpu_init",), **kconfig_preset("preempt"))


@pytest.fixture(scope="module")
def probes() -> dict:
    return load_variant_file(str(ROOT / "counterexamples" / "probes.py"))


@pytest.mark.parametrize("probe", ["probe-v6.13-vmm-no-sve", "probe-v6.8-vmm-no-sve"])
def test_probe_finds_the_guest_loss_after_vcpu_init(probe, probes) -> None:
    inst = Instance(Config(**CFG), probes[probe])
    res, _ = explore_bfs(inst, ["no_loss"])
    trace = res.violations["no_loss"]
    actions = [s.action for s in trace.steps]
    assert len(actions) == 23 and actions[-1] == "guest_sve_trap"
    assert "vcpu_init" in actions and "user_sve_trap" not in actions
    # without the VMM's reset the probe holds: the event is the whole mechanism
    quiet, _ = explore_bfs(Instance(Config(**{**CFG, "events": ()}), probes[probe]),
                           ["no_loss"])
    assert quiet.complete and not quiet.violations


def test_curated_trace_reproduces_on_v610_to_v613() -> None:
    trace = load(str(CURATED))
    assert trace.variant == "v6.13" and trace.property == "no_loss"
    assert len(trace.steps) == 23
    assert trace.steps[12].action == "vcpu_init"
    assert trace.steps[12].state["vcpu0.arch.cptr_el2.TZ"] == "1"
    for v in ("v6.13", "v6.12", "v6.10"):
        assert replay(trace, build_instance(trace, v, {})).reproduces, v


def test_v614_and_v616_hold_with_vcpu_init() -> None:
    """No vcpu->arch.cptr_el2 (2fd5b4b0e7b4): TZ is set with TFP or, for a vcpu without
    SVE, alone; a guest never runs with TFP clear and TZ set."""
    for v in ("v6.14", "v6.16"):
        inst = Instance(Config(**CFG), get_variant(v))
        res, _ = explore_bfs(inst, list(PROPERTY_NAMES))
        assert res.complete and not res.violations, (v, list(res.violations))
        assert not res.coverage.get("guest_sve_trap")


def test_v614_with_vcpu_init_is_proved() -> None:
    res = prove(Instance(Config(**{**CFG, "preemption": "merged"}), get_variant("v6.14")),
                list(PROPERTY_NAMES))
    bad = [(o.name, o.initiation, o.consecution) for o in res.obligations if not o.ok]
    assert res.verdict == "PROVED", bad


def test_vhe_never_carries_tz() -> None:
    """VHE's __activate_traps() computes CPACR afresh: no vcpu_cptr_el2 variable, no SVE
    trap step, and v6.13 VHE does not lose the guest's state after a reset."""
    inst = Instance(Config(**CFG, vhe=True),
                    load_variant_file(str(ROOT / "counterexamples" / "probes.py"))
                    ["probe-v6.13-vmm-no-sve"])
    assert "vcpu0.arch.cptr_el2.TZ" not in inst.layout.by_name
    res, _ = explore_bfs(inst, ["no_loss"])
    assert res.complete and not res.violations


def test_vcpu_init_needs_a_v6_variant() -> None:
    with pytest.raises(MissingFunction, match="kvm_arch_vcpu_ioctl_vcpu_init"):
        Instance(Config(**{**CFG, "sve": False, "sve_guest": False}), get_variant("v4.18"))
