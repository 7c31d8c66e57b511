"""The signal frame's two copies of V with SME (`model.state.Image` field zv: sve_context's
Z bits [127:0] beside fpsimd_context's V) and the two findings the sites of no_loss show on
v6.10 (`Instance.site_invariants`, `explore --sites`; counterexamples/README.md):
v6.8-v6.15's rt_sigreturn of a streaming-mode record takes V from the SVE record instead
of fpsimd_context (c94f2f326146, v6.16), and v6.8-v6.15's handler entry from streaming mode
zeroes FPCR (v6.16's task_smstop_sm() keeps it)."""

from __future__ import annotations

from pathlib import Path

from checker.inspect.load import load
from checker.inspect.replay import build_instance, replay
from checker.instance import Instance
from checker.lemma_states import with_invariants
from checker.native.explore import explore_native
from model.config import Config, kconfig_preset
from model.variants import get_variant
from properties.fp import PROPERTY_NAMES

MERGE = Path(__file__).resolve().parents[2] / "counterexamples" / \
    "v6.10-signal-merge-no_loss.v-nvhe-c1t1v0m0-sme-preempt-explicit-bfs.json"
CFG = dict(cpus=1, tasks=1, vmm_threads=0, vcpus=0, vhe=False, sme=True, events=("signal",),
           preemption="merged", **kconfig_preset("preempt"))


def _explore_sites(variant: str, **cfg):  # noqa: ANN202
    inst = Instance(Config(**{**CFG, **cfg}), get_variant(variant))
    sites = inst.site_invariants()
    res, _ = explore_native(with_invariants(inst, sites), list(PROPERTY_NAMES) + list(sites))
    assert res.complete
    return res


def test_the_sve_record_has_its_own_copy_of_v_only_with_sme() -> None:
    with_sme = Instance(Config(**CFG), get_variant("v6.10")).layout
    assert with_sme.tasks[0].sigframe.zv.name == "T0.sigframe.sve_v"
    assert with_sme.tasks[0].sigframe.zv in with_sme.tasks[0].sigframe.slots()
    sve_only = Instance(Config(**{**CFG, "sme": False, "sve": True}), get_variant("v6.10"))
    assert sve_only.layout.tasks[0].sigframe.zv is None


def test_v610_sites_show_the_merge_and_the_fpcr_findings() -> None:
    """no_loss's shortest trace is the ZA finding (10 steps); its sites v and fpcr have
    their own, 13 and 11 steps.  At 13 steps no_loss.v has two traces: the curated one
    (the streaming rt_sigreturn takes V from the SVE record) and the handler-entry IRQ
    window of the ZA finding above (an IRQ inside setup_return()'s SMSTOP); which one a
    search reports depends on its order, so the curated trace is checked below."""
    res = _explore_sites("v6.10")
    assert len(res.violations["no_loss"]) == 10
    assert len(res.violations["no_loss.v"]) == 13
    fpcr = res.violations["no_loss.fpcr"]
    assert len(fpcr) == 11 and fpcr.steps[-1].state["T0.in_handler"] == "1"
    assert fpcr.steps[-1].state["cpu0.regs.fpcr"] == "0"
    assert fpcr.steps[-1].state["T0.sigframe.fpcr"] == "T0"


def test_curated_merge_trace_needs_no_irq_inside_the_signal_steps() -> None:
    trace = load(str(MERGE))
    assert trace.property == "no_loss.v" and len(trace.steps) == 13
    actions = [s.action for s in trace.steps]
    assert actions[-4:] == ["signal", "ret_to_user", "sigreturn", "ret_to_user"]
    for s in trace.steps[-4:]:
        assert not any(s.inputs.values()), (s.label, s.inputs)
    last = trace.steps[-1].state
    # the SM record's old V (zero) is live, the handler's (the task's latest) only in uw
    assert last["cpu0.SVCR.SM"] == "1" and last["cpu0.regs.v"] == "0"
    assert last["T0.uw.v"] == "T0"
    assert replay(trace, build_instance(trace, "v6.10", {})).reproduces
    assert not replay(trace, build_instance(trace, "v6.16", {})).reproduces


def test_v616_holds_at_every_site_with_both_copies_of_v() -> None:
    res = _explore_sites("v6.16")
    assert not res.violations, list(res.violations)
