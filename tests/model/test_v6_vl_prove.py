"""`prove` with the VL-change events on v6.16 (prctl(PR_SVE_SET_VL), prctl(PR_SME_SET_VL):
change_live_vector_length(), 49ce484187f7), split preemption.  The VL change is preemptible
after its fpsimd_save_and_flush_current_state(), and its windows hold states the v6 task
lemmas do not describe (V copied into uw.fpsimd_state while sve_state is replaced by a
zeroed buffer and refilled): lemma vl_change_in_progress (properties/lemmas.py) says
what holds there, v6_task_saved_unless_live exempts those windows, and
v6_in_syscall_after_entry and sve_bound_state_at_its_vl (now also without SME) close the
rest.

Bit-exact `prove` runs (both hyp modes, one CPU, one task, `--kconfig preempt`) take
minutes; the fast tests check the lemmas on every reachable state of the SVE case (the
smaller model), and the tests marked `slow` (the same point, heavier) prove the SVE case
with tokens only and check the lemmas of the SME case; the bit-exact figures are in the
docstrings below."""

from __future__ import annotations

from functools import cache

import pytest

from checker.instance import Instance
from checker.lemma_states import LEMMA_PREFIX, lemmas_on_reachable_states
from checker.smt.induction import prove
from model.config import Config, kconfig_preset
from model.variants import get_variant
from properties.fp import PROPERTY_NAMES
from properties.lemmas import VL_CHANGE_STEPS, _vl_change_phases, lemmas_for

PREEMPT = kconfig_preset("preempt")
SMALL = dict(cpus=1, tasks=1, vmm_threads=0, vcpus=0, vhe=True, preemption="split",
             **PREEMPT)
SVE = dict(SMALL, sve=True, sve_vls=(128, 256), events=("sve_set_vl",))
SME = dict(SMALL, sme=True, sme_vls=(128, 256), events=("sme_set_vl",))
NEW = {"vl_change_in_progress", "v6_in_syscall_after_entry", "sve_bound_state_at_its_vl"}


@cache
def _instance(kind: str) -> Instance:
    return Instance(Config(**{"sve": SVE, "sme": SME}[kind]), get_variant("v6.16"))


def _phases_ok(kind: str, step: str) -> None:
    S = _instance(kind).layout
    flushed, copying, converted = _vl_change_phases(S, step)
    assert copying and set(copying) < set(flushed) and set(converted) < set(flushed)
    assert not set(copying) & set(converted)
    last = max(S.windows(step))[1]  # sve/sme_set_current_vl's write of syscall_body
    assert last not in flushed


def _lemmas_hold(kind: str, engine: str) -> int:
    inst = _instance(kind)
    assert NEW <= {lem.name for lem in lemmas_for(inst.layout, inst.variant)}
    res = lemmas_on_reachable_states(inst, engine=engine)
    assert res.complete
    false = sorted(n for n in res.violations if n.startswith(LEMMA_PREFIX))
    assert not false, false
    return res.stats.states


def test_vl_change_phases_are_the_steps_windows() -> None:
    """The lemma's phases are found in the step (a renamed window would make the lemma
    silently TRUE): the flushed phase starts in fpsimd_sync_from_effective_state(), the
    converted phase after its copy of V, and neither includes the prctl's own window
    after vec_set_vector_length() (reached whether or not the length changes)."""
    _phases_ok("sve", "sve_set_vl")
    assert set(VL_CHANGE_STEPS) == {"sve_set_vl", "sme_set_vl"}


def test_sve_set_vl_lemmas_hold_in_every_reachable_state() -> None:
    assert _lemmas_hold("sve", "python") == 5_637  # (5,179 before P_GHOST's P_ZERO)


@pytest.mark.slow
def test_sme_set_vl_lemmas_hold_in_every_reachable_state() -> None:
    """PR_SME_SET_VL on an SME-only system (no --sve).  Bit-exact `prove --variant v6.16
    --sme --sme-vls 128,256 --event sme_set_vl --cpus 1 --tasks 1 --vcpus 0 --vmm-threads 0
    --kconfig preempt`: PROVED, nVHE 324 s, VHE 173 s (load 4-6); with --sve --sve-vls
    128,256 and both events: PROVED, nVHE 711 s, VHE 645 s; on two CPUs (--cpus 2), VHE,
    tokens only: PROVED in 265 s."""
    _phases_ok("sme", "sme_set_vl")
    # 34,394 states before FPCR got its own slice with SME (bd25c0d: 40,834) and
    # p_written its "must read zero" value (aa0e297)
    assert _lemmas_hold("sme", "native") == 41_674


@pytest.mark.slow
def test_v616_sve_set_vl_proves() -> None:
    """v6.16 with PR_SVE_SET_VL, tokens only (`prove --no-bits`).  Bit-exact, `prove
    --variant v6.16 --sve --sve-vls 128,256 --event sve_set_vl --cpus 1 --tasks 1 --vcpus 0
    --vmm-threads 0 --kconfig preempt`: PROVED, nVHE 109 s, VHE 108 s (load 4-5); with a
    tracer (v6.16-ptrace-fixes, --tasks 2), VHE, tokens only: PROVED in 483 s; on two CPUs
    (--cpus 2), VHE, tokens only: PROVED in 183 s."""
    res = prove(_instance("sve"), list(PROPERTY_NAMES), bits=False)
    bad = [(o.name, o.initiation, o.consecution) for o in res.obligations if not o.ok]
    assert res.verdict == "PROVED", bad
