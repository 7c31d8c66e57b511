"""Counters kept in range: a counter update leaving its domain is an assertion failure of
kind ``overflow`` (model.dsl.Assign.check), identical in the compiled explicit engine,
the reference interpreter and the z3 encoding, and reported with a trace."""

from __future__ import annotations

import json

import pytest

from checker.cli import main
from checker.explicit.compile import compiled
from checker.explicit.explore import explore_bfs
from checker.explicit.interp import run_traced
from checker.instance import KERNEL_ASSERTS, Instance
from model.config import Config, kconfig_preset
from model.ctx import Ctx
from model.dsl import Assign, walk_stmts
from model.variants import get_variant
from tests.broken_variants import BROKEN

NEON_END_NO_PREEMPT_ENABLE = BROKEN["neon-end-no-preempt-enable"]
OVERFLOW = "preempt_disable: overflow preempt_count overflow: above the model's bound 3"
UNDERFLOW = "preempt_enable: overflow preempt_count underflow: below 0"
# The counter sites do not depend on the Kconfig; the preempt preset (no TRACE_IRQFLAGS
# IRQ points inside the steps) keeps the searches small.
SMALL = {"preemption": "merged", "cpus": 1, "vhe": True, **kconfig_preset("preempt")}


def kernel_neon_end_twice(k: Ctx) -> None:
    """Test mutant: kernel_neon_end() with a second preempt_enable() (an unbalanced
    enable: the count goes below zero)."""
    cpu = k.this_cpu
    busy = k.let("busy", cpu.kernel_neon_busy)
    k.set(cpu.kernel_neon_busy, False)
    k.check(busy.eq(1), "WARN", "kernel_neon_end", "WARN_ON(!busy)")
    k.preempt_enable()
    k.preempt_enable()


EXTRA_ENABLE = get_variant("seed").derive("test-neon-end-enables-twice", "test",
                                          kernel_neon_end=kernel_neon_end_twice)


def test_counter_updates_carry_their_overflow_site() -> None:
    inst = Instance(Config(preemption="merged", cpus=1), get_variant("seed"))
    checks = {st.check.id for a in inst.actions for st in walk_stmts(a.body)
              if isinstance(st, Assign) and st.check is not None}
    assert OVERFLOW in checks and UNDERFLOW in checks
    assert all(c.partition(": ")[2].startswith("overflow ") for c in checks)
    assert compiled(inst).checks[OVERFLOW].kind == "overflow"


@pytest.mark.parametrize("variant,site", [
    (NEON_END_NO_PREEMPT_ENABLE, OVERFLOW),
    (EXTRA_ENABLE, UNDERFLOW),
])
def test_explicit_reports_a_counter_leaving_its_range(variant, site) -> None:
    inst = Instance(Config(**SMALL), variant)
    res, _ = explore_bfs(inst, [KERNEL_ASSERTS])
    assert res.complete
    tr = res.assertion_sites[site]
    assert res.check_kinds[site] == "overflow"
    last = tr.steps[-1]
    assert site in last.violations
    assert last.stacks[site][-1] in ("preempt_disable", "preempt_enable")
    # The step's own preempt_count update that overflowed kept the old value: the next
    # state is not explored (like after a BUG), so no state holds an out-of-range count.
    assert all(0 <= int(s.state["cpu0.preempt_count"]) <= 3 for s in tr.steps)


def test_interpreter_and_compiled_agree_on_the_overflowing_step() -> None:
    inst = Instance(Config(**SMALL), NEON_END_NO_PREEMPT_ENABLE)
    res, _ = explore_bfs(inst, [KERNEL_ASSERTS])
    tr = res.violations[KERNEL_ASSERTS]
    state = inst.layout.initial_state()
    comp = compiled(inst)
    by_label = {a.label: i for i, a in enumerate(inst.actions)}
    for st in tr.steps:
        aid = by_label[st.label]
        inp = tuple(st.inputs[n] for n in inst.actions[aid].inputs)
        nxt_c, viol_c = comp.fire(aid, state, inp)
        nxt_i, viol_i, _, _ = run_traced(inst.actions[aid], state, inp)
        assert nxt_c == nxt_i and set(viol_c) == set(viol_i)
        state = nxt_c
    assert OVERFLOW in viol_c


@pytest.mark.parametrize("variant,site", [
    (NEON_END_NO_PREEMPT_ENABLE, OVERFLOW),
    (EXTRA_ENABLE, UNDERFLOW),
])
def test_bmc_reports_the_same_site_at_the_same_length(variant, site) -> None:
    from checker.smt.bmc import bmc

    inst = Instance(Config(**SMALL), variant)
    ref, _ = explore_bfs(inst, [KERNEL_ASSERTS])
    length = len(ref.assertion_sites[site])
    res = bmc(inst, [KERNEL_ASSERTS], length)
    r = res.props[KERNEL_ASSERTS]
    assert r.verdict == "VIOLATED" and r.depth == len(ref.violations[KERNEL_ASSERTS])
    assert site in r.trace.steps[-1].violations  # replayed in the explicit engine too


def test_smt_keeps_the_old_value_on_overflow() -> None:
    """In z3 as in Python: the overflowing update is the site's condition and the
    counter keeps its value, so the two engines' successors are equal on any state."""
    import z3

    from checker.smt.encode import Encoding

    inst = Instance(Config(**SMALL), NEON_END_NO_PREEMPT_ENABLE)
    enc = Encoding(inst, bits=False)
    pre, post = enc.frame("a"), enc.frame("b")
    st = enc.step(1, pre, post)
    pc = next(v for v in inst.layout.vars if v.name == "cpu0.preempt_count")
    s = z3.Solver()
    s.add(enc.domain(pre), st.constraint,
          z3.Or([c for _, cid, c in st.violations if cid == OVERFLOW]))
    seen = 0
    while seen < 5 and s.check() == z3.sat:
        m = s.model()
        a, b = enc.state_of(m, pre), enc.state_of(m, post)
        aid, inp = enc.step_of(m, st)
        nxt, viol = compiled(inst).fire(aid, a, inp)
        assert nxt == b and OVERFLOW in viol
        assert b[pc.index] < 4
        s.add(z3.Or([x != v for x, v in zip(pre.vals, a, strict=True)]))
        seen += 1
    assert seen == 5
    assert enc.is_fatal(OVERFLOW) and enc.check_kinds[OVERFLOW] == "overflow"


def test_cli_reports_a_finding_not_a_model_error(tmp_path, capsys) -> None:
    code = main(["explore", "--cpus", "1", "--vhe", "--json", "--out", str(tmp_path),
                 "--variant-file", "counterexamples/mutants.py",
                 "--variant", "mutant-neon-end-no-preempt-enable"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    ka = data["runs"][0]["properties"]["kernel_asserts"]
    assert ka["verdict"] == "VIOLATED" and ka["violation"] == OVERFLOW
    assert main(["show", ka["counterexample"]]) == 0
    assert "a counter leaves its range" in capsys.readouterr().out
