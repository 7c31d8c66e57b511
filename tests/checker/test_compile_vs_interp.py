"""The optimised compiled steps agree with the plain reference interpreter everywhere."""

from __future__ import annotations

import itertools

import pytest

from checker.explicit.compile import compiled
from checker.explicit.explore import explore_bfs
from checker.instance import Instance
from checker.interp import guard_holds, run_action
from model.config import Config
from model.variants import get_variant
from tests.broken_variants import BROKEN


@pytest.mark.parametrize("variant", ["seed", "v4.17", "v4.18", "put-fp-no-flush"])
def test_every_transition_agrees(variant) -> None:
    v = BROKEN.get(variant) or get_variant(variant)
    inst = Instance(Config(cpus=1, vmm_threads=2), v)
    _, graph = explore_bfs(inst, ["no_loss"], keep_graph=True)
    states = graph[0]
    comp = compiled(inst)
    checked = 0
    for s in states[::29]:  # a spread sample keeps the test quick
        succ = {(aid, inp): (tuple(nxt), sorted(comp.check_ids[x] for x in viol))
                    for aid, inp, nxt, viol in comp.successors(s)}
        for aid, a in enumerate(inst.actions):
            enabled = guard_holds(a, s)
            assert enabled == bool(comp.guards[aid](s)), a.label
            if not enabled:
                continue
            results = set()
            for inp in itertools.product((False, True), repeat=len(a.inputs)):
                nxt, viol, _ = run_action(a, tuple(s), inp)
                results.add((nxt, tuple(sorted(viol))))
                got = comp.fire(aid, s, inp)
                assert (got[0], sorted(got[1])) == (nxt, sorted(viol)), a.label
                checked += 1
            fired = {(n, tuple(vl)) for (i, _), (n, vl) in succ.items() if i == aid}
            assert fired == results, a.label
    assert checked > 300
