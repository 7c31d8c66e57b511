"""The signal frame's two copies of V with SME (`model.state.Image` field zv: sve_context's
Z bits [127:0] beside fpsimd_context's V) and the two findings they let the model express
(counterexamples/README.md): v6.8-v6.15's rt_sigreturn of a streaming-mode record takes V
from the SVE record instead of fpsimd_context (c94f2f326146, v6.16), and v6.8-v6.15's
handler entry from streaming mode zeroes FPCR (v6.16's task_smstop_sm() keeps it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.instance import Instance
from checker.native.explore import explore_native
from model.config import Config, kconfig_preset
from model.variants import get_variant, load_variant_file
from properties.fp import PROPERTY_NAMES

ROOT = Path(__file__).resolve().parents[2]
CFG = dict(cpus=1, tasks=1, vmm_threads=0, vcpus=0, vhe=False, sme=True, events=("signal",),
           **kconfig_preset("preempt"))


@pytest.fixture(scope="module")
def probes() -> dict:
    return load_variant_file(str(ROOT / "counterexamples" / "probes.py"))


def _explore(variant, **cfg):  # noqa: ANN001, ANN202
    res, _ = explore_native(Instance(Config(**{**CFG, **cfg}), variant), list(PROPERTY_NAMES))
    assert res.complete
    return res


def test_the_sve_record_has_its_own_copy_of_v_only_with_sme() -> None:
    with_sme = Instance(Config(**CFG), get_variant("v6.10")).layout
    assert with_sme.tasks[0].sigframe.zv.name == "T0.sigframe.sve_v"
    assert with_sme.tasks[0].sigframe.zv in with_sme.tasks[0].sigframe.slots()
    sve_only = Instance(Config(**{**CFG, "sme": False, "sve": True}), get_variant("v6.10"))
    assert sve_only.layout.tasks[0].sigframe.zv is None


def test_streaming_sigreturn_takes_v_from_the_sve_record_before_v616(probes) -> None:
    """probe-v6.10-entry-smstop (the shorter SME signal findings closed): the handler's V
    in fpsimd_context is lost at rt_sigreturn, 13 steps."""
    res = _explore(probes["probe-v6.10-entry-smstop"])
    trace = res.violations["no_loss"]
    assert [s.action for s in trace.steps] == [
        "schedule", "ret_to_user", "ret_to_user", "user_sme_trap", "sme_acc", "ret_to_user",
        "user_svcr_write", "irq", "ret_to_user", "signal", "ret_to_user", "sigreturn",
        "ret_to_user"]
    last = trace.steps[-1].state
    # the SM record's old V is live, the handler's (the task's latest) only in uw
    assert last["cpu0.SVCR.SM"] == "1" and last["cpu0.regs.v"] != "T0"
    assert last["T0.uw.v"] == "T0"


def test_v616_holds_with_both_copies_of_v() -> None:
    res = _explore(get_variant("v6.16"))
    assert not res.violations, list(res.violations)
    assert res.stats.states == 520_595


def test_handler_entry_from_streaming_mode_zeroes_fpcr_before_v616(probes) -> None:
    """probe-v6.10-entry-irq-free: 11 steps, every one v6.10's; the handler runs with
    FPCR 0 while the task's FPCR is only in the frame's fpsimd_context."""
    res = _explore(probes["probe-v6.10-entry-irq-free"])
    trace = res.violations["no_loss"]
    assert len(trace.steps) == 11 and trace.steps[-1].action == "ret_to_user"
    last = trace.steps[-1].state
    assert last["T0.in_handler"] == "1" and last["cpu0.regs.fpcr"] == "0"
    assert last["T0.sigframe.fpcr"] == "T0"
