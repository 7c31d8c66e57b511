"""The native engine's pruning of input runs (`IN` in checker/native/codegen.py, `MEMO`
in engine.c): a run reaching a defaulted input read in a situation an earlier run of the
same state and action already reached there is dropped with the subtree after it.  The
transitions must be exactly the reference engine's, on steps with many IRQ-window inputs
(where the pruning removes most runs)."""

from __future__ import annotations

import pytest

from checker.explicit.explore import explore_bfs
from checker.instance import PROPERTY_NAMES, Instance
from checker.native import explore_native
from checker.native.build import compiler
from model.config import Config, kconfig_preset
from model.variants import get_variant

ALL = list(PROPERTY_NAMES)
NO_TRACE = {**kconfig_preset("preempt"), "prove_locking": False, "trace_irqflags": False}

pytestmark = pytest.mark.skipif(compiler() is None, reason="no C compiler (gcc) on PATH")


def _inst(variant: str, **cfg) -> Instance:
    return Instance(Config(cpus=1, tasks=1, vcpus=0, vmm_threads=0, vhe=False,
                           preemption="merged", **NO_TRACE, **cfg), get_variant(variant))


def _summary(res) -> dict:
    return {"states": res.stats.states, "transitions": res.stats.transitions,
            "depth": res.stats.depth, "complete": res.complete,
            "violations": {p: len(t) for p, t in res.violations.items()},
            "coverage": dict(res.coverage)}


def test_pruned_runs_give_the_reference_transitions() -> None:
    """SME with two streaming vector lengths and PR_SME_SET_VL (v6.10): 22,363 states (21,403
    before p_written's "must read zero" value, model/state.py P_GHOST; 17,723 before FPCR
    had its own slot with SME)."""
    inst = _inst("v6.10", sme=True, sme_vls=(128, 256), events=("sme_set_vl",))
    nat, _ = explore_native(inst, ALL, workers=1)
    ref, _ = explore_bfs(inst, ALL)
    assert _summary(nat) == _summary(ref)
    assert nat.stats.states == 22363


def test_wide_steps_against_the_reference_figures() -> None:
    """v6.16 signal delivery and rt_sigreturn with SVE: steps of 15 inputs, which the
    reference engine runs once per path (26 CPU-s), so its figures were measured once,
    with `explore_bfs` on this instance: 5,940 states, 25,557 transitions (5,146 and 22,227
    before p_written's "must read zero" value, model/state.py P_GHOST; re-measured with
    `explore_bfs`, 38 s on a loaded machine)."""
    inst = _inst("v6.16", sve=True, events=("signal",))
    assert max(len(a.inputs) for a in inst.actions) >= 15
    nat, _ = explore_native(inst, ALL, workers=1)
    assert (nat.stats.states, nat.stats.transitions) == (5940, 25557)
    assert nat.complete and not nat.violations
