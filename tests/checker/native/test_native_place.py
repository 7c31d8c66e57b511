"""checker.native.place_states: a breadth-first search for given states (the pre-states
of prove's counterexamples to induction), against the reference engine."""

from __future__ import annotations

from checker.explicit.compile import compiled
from checker.explicit.explore import explore_bfs
from checker.instance import STEP_PROPERTIES, Instance
from checker.native import place_states
from model.config import Config
from model.variants import get_variant

PROPS = ["no_loss", "no_leak", *STEP_PROPERTIES]


def _inst() -> Instance:
    # 27,774 states: more than classify's first reference-engine search
    return Instance(Config(preemption="merged", cpus=2, vhe=False), get_variant("v4.18"))


def _bfs_levels(inst: Instance) -> dict[bytes, int]:
    """Every reachable state with its BFS depth (the reference engine's successors)."""
    succ = compiled(inst).successors
    init = bytes(inst.layout.initial_state())
    depth, frontier = {init: 0}, [init]
    while frontier:
        nxt = []
        for s in frontier:
            for _, _, t, _ in succ(s):
                if t not in depth:
                    depth[t] = depth[s] + 1
                    nxt.append(t)
        frontier = nxt
    return depth


def test_the_search_stops_once_every_target_is_stored() -> None:
    inst = _inst()
    levels = _bfs_levels(inst)
    total = explore_bfs(inst, PROPS)[0].stats.states
    assert total == len(levels)
    shallow = [s for s, d in levels.items() if d == 4][:3]
    res, placed = place_states(inst, [tuple(s) for s in shallow], PROPS, workers=1)
    assert res.stop_reason == "targets-found" and not res.complete
    assert res.stats.states < total
    assert [len(p.path) for p in placed] == [4, 4, 4]
    # each path replays to its target
    for s, p in zip(shallow, placed, strict=True):
        cur = bytes(inst.layout.initial_state())
        for aid, inp in p.path:
            cur = bytes(compiled(inst).fire(aid, cur, inp)[0])
        assert cur == s


def test_an_unreachable_target_gets_the_nearest_reachable_state() -> None:
    inst = _inst()
    levels = _bfs_levels(inst)
    some = next(s for s, d in levels.items() if d == 6)
    # change one variable to a value no reachable state combines with the rest
    names = [v.name for v in inst.layout.vars]
    for i in range(len(names)):
        for val in range(inst.layout.vars[i].dom.size):
            t = some[:i] + bytes([val]) + some[i + 1:]
            if t not in levels:
                break
        else:
            continue
        break
    res, (p,) = place_states(inst, [tuple(t)], PROPS, workers=2)
    assert res.complete and res.stats.states == len(levels)
    assert p.path is None and p.distance == 1
    assert sum(a != b for a, b in zip(p.nearest, t, strict=True)) == 1
    assert bytes(p.nearest) in levels


def test_classification_beyond_the_first_search_uses_the_native_engine() -> None:
    """A CTI whose pre-state the first reference-engine search (20,000 states) cannot
    place is placed by the native search: here unreachable after all 27,774 states."""
    from checker.smt.classify import classify_ctis
    from checker.smt.induction import prove

    inst = Instance(Config(preemption="merged", cpus=2, vhe=False, lockdep=False),
                    get_variant("v4.18"))
    res = prove(inst, ["no_loss"], lemmas={})
    ctis = [(o.trace, inst.invariants.get(o.name)) for o in res.failed()
            if o.trace.kind == "cti"]
    (c,) = classify_ctis(inst, ctis[:1])
    assert c.engine == "native" and c.reachable is False and c.nearest
    assert c.searched == explore_bfs(inst, ["no_loss"])[0].stats.states
