"""Every state the explorer reaches satisfies every lemma claimed for its variant.

The lemmas are proved inductive by `prove`; this is the independent check with the other
engine (a lemma false in a reachable state would make `prove` fail, but this test says
which lemma and shows the state).
"""

from __future__ import annotations

import pytest

from checker.explicit.explore import ExploreResult
from checker.instance import Instance
from checker.lemma_states import LEMMA_PREFIX, lemmas_on_reachable_states
from checker.native.build import compiler
from model.config import Config, kconfig_preset
from model.variants import get_variant
from properties.lemmas import LEMMAS, lemmas_for

PREEMPT_NOLOCKDEP = kconfig_preset("preempt")  # the old lockdep=False

CONFIGS = [
    # (the seed's lemmas describe a seed that keeps FP state: on TRACE_IRQFLAGS kernels
    # its put_fp re-enables IRQs under the rq lock and the state is really lost)
    ("seed", {"cpus": 1, **PREEMPT_NOLOCKDEP}),
    ("seed", {"cpus": 1, "vhe": True, **PREEMPT_NOLOCKDEP}),
    ("seed", {"cpus": 1, "vmm_threads": 2, **PREEMPT_NOLOCKDEP}),
    ("seed", {"cpus": 2, **PREEMPT_NOLOCKDEP}),
    ("seed", {"cpus": 2, "vhe": True, **PREEMPT_NOLOCKDEP}),
    ("v4.17", {"cpus": 1}),
    ("v4.17", {"cpus": 1, "vmm_threads": 2, "vhe": True}),
    ("v4.17", {"cpus": 1, "tasks": 0, "vcpus": 2}),
    ("v4.17", {"cpus": 2}),
    ("v4.18", {"cpus": 2, "vhe": True}),  # inherits the seed's lemmas
    # optional events (their lemmas are TRUE when the event is off)
    ("v4.17", {"cpus": 1, "events": ("cpu_pm", "efi")}),
    ("seed", {"cpus": 1, "lockdep": False, "events": ("cpu_pm", "efi")}),
    ("v4.18", {"cpus": 2, "vmm_threads": 0, "vcpus": 0,
               "events": ("cpu_hotplug", "cpu_pm", "efi")}),
    ("v6.10", {"cpus": 1, **PREEMPT_NOLOCKDEP}),
    ("v6.10", {"cpus": 1, "tasks": 2, "vhe": True, **PREEMPT_NOLOCKDEP}),
    ("v6.14", {"cpus": 1, "vhe": True, **PREEMPT_NOLOCKDEP}),
    ("v6.14", {"cpus": 1, "tasks": 0, "vhe": True, "sve": True, **PREEMPT_NOLOCKDEP}),
    ("v6.16", {"cpus": 1, "tasks": 0, "vhe": True, "sve": True, **PREEMPT_NOLOCKDEP}),
    # Steps split at preemption points (the default; the configurations above pin merged):
    # the lemmas that name program points must hold at the continuation points too.
    ("v4.17", {"cpus": 1, "preemption": "split"}),
    ("seed", {"cpus": 1, "preemption": "split", **PREEMPT_NOLOCKDEP}),
    ("v6.10", {"cpus": 1, "vhe": True, "preemption": "split", **PREEMPT_NOLOCKDEP}),
    ("v6.14", {"cpus": 1, "tasks": 0, "vhe": True, "sve": True, "preemption": "split",
               **PREEMPT_NOLOCKDEP}),
    ("v6.16", {"cpus": 1, "tasks": 0, "vhe": True, "sve": True, "preemption": "split",
               **PREEMPT_NOLOCKDEP}),
]


def check_lemmas_on_reachable_states(variant: str, cfg: dict,
                                     engine: str = "python") -> ExploreResult:
    """Explore the configuration completely and fail naming any lemma claimed for the
    variant that is false in a reachable state; returns the exploration result.  The
    reference engine by default (the small configurations are over before the native
    library would be compiled); ``engine="native"`` for the large ones."""
    inst = Instance(Config(**{"preemption": "merged", **cfg}), get_variant(variant))
    res = lemmas_on_reachable_states(inst, engine=engine)
    assert res.complete
    false = {n: t for n, t in res.violations.items() if n.startswith(LEMMA_PREFIX)}
    if false:
        name, trace = min(false.items(), key=lambda kv: len(kv[1].steps))
        last = trace.steps[-1].state if trace.steps else trace.initial
        pytest.fail(f"lemmas {sorted(false)} fail in reachable states; {name} after"
                    f" {len(trace.steps)} steps in {last}")
    return res


@pytest.mark.parametrize("variant,cfg", CONFIGS)
def test_lemmas_hold_in_every_explored_state(variant, cfg) -> None:
    # two CPUs: the native engine (v4.17's 173,626 states: 10.4 CPU-s in the reference
    # engine, under 2 s compile included)
    big = cfg.get("cpus", 1) > 1 and compiler() is not None
    check_lemmas_on_reachable_states(variant, cfg, engine="native" if big else "python")


def test_every_lemma_is_named_with_a_reason_and_claimed() -> None:
    names = [lem.name for lem in LEMMAS]
    assert len(names) == len(set(names))
    for lem in LEMMAS:
        assert lem.reason and "\n" not in lem.reason
        assert lem.variants is None or set(lem.variants) <= {"seed", "v4.17", "v6.1", "v6.10",
                                                             "v6.14", "v6.16"}


def test_variants_get_their_own_lemmas_and_patches_inherit() -> None:
    from tests.broken_variants import BROKEN

    layout = Instance(Config(preemption="merged", cpus=1), get_variant("seed")).layout
    seed = {lem.name for lem in lemmas_for(layout, get_variant("seed"))}
    v417 = {lem.name for lem in lemmas_for(layout, get_variant("v4.17"))}
    mutant = {lem.name for lem in lemmas_for(layout, BROKEN["put-fp-no-flush"])}
    assert any(n.startswith("seed_") for n in seed)
    assert not any(n.startswith("seed_") for n in v417)
    assert any(n.startswith("v417_") for n in v417)
    assert mutant == seed
