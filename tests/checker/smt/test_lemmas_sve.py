"""With SVE: every state the explorer reaches satisfies every lemma claimed for its
variant (the SVE counterpart of test_lemmas.py, on one CPU with VHE)."""

from __future__ import annotations

import pytest

from checker.explicit.compile import compile_predicate
from checker.explicit.explore import explore_bfs
from checker.instance import Instance
from model.config import Config
from model.dsl import TRUE, And
from model.variants import get_variant
from properties.lemmas import LEMMAS, lemmas_for

SVE = {"cpus": 1, "vhe": True, "sve": True, "lockdep": False}
CONFIGS = [
    ("seed", SVE),  # KVM refuses SVE (BUG_ON at vcpu load): host tasks only
    ("v4.17", SVE),
    ("v4.18", SVE),
]


@pytest.mark.parametrize("variant,cfg", CONFIGS)
def test_lemmas_hold_in_every_explored_sve_state(variant, cfg) -> None:
    inst = Instance(Config(**cfg), get_variant(variant))
    res, graph = explore_bfs(inst, ["no_loss"], keep_graph=True)
    assert res.complete and not res.violations
    lemmas = lemmas_for(inst.layout, inst.variant)
    exprs = {lem.name: lem.build(inst.layout) for lem in lemmas}
    combined = compile_predicate(And(tuple(exprs.values())))
    bad = [s for s in graph[0] if not combined(s)]
    if bad:
        state = tuple(bad[0])
        broken = [n for n, e in exprs.items() if not compile_predicate(e)(state)]
        pytest.fail(f"lemmas {broken} fail in reachable state {inst.layout.state_dict(state)}")


def test_sve_lemmas_are_true_without_sve() -> None:
    """Lemmas about SVE state are the constant TRUE when the system has no SVE."""
    layout = Instance(Config(cpus=1), get_variant("v4.18")).layout
    sve_only = [lem for lem in LEMMAS if "sve" in lem.name]
    assert sve_only
    assert all(lem.build(layout) is TRUE for lem in sve_only)
