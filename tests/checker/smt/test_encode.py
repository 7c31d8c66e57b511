"""The z3 encoding and the explicit interpreter are the same semantics, step by step.

For a sample of reachable states of small configurations: the actions whose guard z3
finds true are exactly the explicit engine's enabled ones, and for every enabled action
and input combination the z3 post-state and assertion failures equal `compiled.fire`.
(This caught a selector-range bug that made 16-action configurations vacuous.)
"""

from __future__ import annotations

import itertools
import random

import pytest
import z3

from checker.explicit.compile import compiled
from checker.explicit.explore import explore_bfs
from checker.instance import Instance
from checker.smt.encode import Encoding
from model.config import Config, kconfig_preset
from model.dsl import FATAL_KINDS
from model.variants import get_variant
from tests.broken_variants import BROKEN

# The default (debug) kernel where the Kconfig matters (the seed's IRQ points on a
# TRACE_IRQFLAGS kernel); the smaller preempt preset elsewhere, to keep the suite fast.
PREEMPT = kconfig_preset("preempt")
CONFIGS = [
    ("seed", {"cpus": 1}),
    ("seed", {"cpus": 1, "vhe": True}),
    ("v4.17", {"cpus": 1}),
    ("v4.17", {"cpus": 1, "tasks": 0, "vcpus": 2, "vhe": True, **PREEMPT}),
    ("seed", {"cpus": 1, "vmm_threads": 2, **PREEMPT}),
    ("switch-ignores-cpu", {"cpus": 2, "vmm_threads": 0, "vcpus": 0}),  # 16 actions
    ("v4.18", {"cpus": 1, "sve": True, "vhe": True, **PREEMPT}),
    ("v4.18-rc1", {"cpus": 1, "sve": True, "vhe": True, "vcpus": 0}),
    ("v4.18", {"cpus": 1, "guest_aarch32": True}),
    ("v4.17", {"cpus": 1, "guest_aarch32": True, "vhe": True}),
    # optional events (model/events.py): their state, tokens and steps
    ("v4.17", {"cpus": 1, "events": ("cpu_pm", "efi")}),
    pytest.param("seed", {"cpus": 1, "events": ("efi",)}, marks=pytest.mark.slow),  # cfg 10
    ("v4.18", {"cpus": 2, "vmm_threads": 0, "vcpus": 0, "events": ("cpu_hotplug", "cpu_pm")}),
    # slow: SVE and the events are each in a cheaper configuration here (cfg 6, cfg 10)
    pytest.param("v4.18", {"cpus": 1, "sve": True, "vhe": True, "vcpus": 0,
                           "events": ("efi", "cpu_pm")}, marks=pytest.mark.slow),
    ("v4.18", {"cpus": 1, "tasks": 2, "vcpus": 0, "vmm_threads": 0, "events": ("fork",)}),
    ("v4.18", {"cpus": 1, "tasks": 1, "vcpus": 0, "vmm_threads": 0, "sve": True, "vhe": True,
               "sve_vls": (128, 256), "events": ("sve_set_vl",)}),
    # SME: ZA, SVCR, the SM-change zeroing, streaming saves/loads (v6.16, with SVE)
    ("v6.16", {"cpus": 1, "tasks": 1, "vcpus": 0, "vmm_threads": 0, "sme": True, "sve": True}),
    # FPMR (v6.9+): its own value slice (64 bits), host and guest
    ("v6.13", {"cpus": 1, "tasks": 0, "fpmr": True, "guest_fpmr": True, **PREEMPT}),
]


def _variant(name: str):
    return BROKEN[name] if name in BROKEN else get_variant(name)


def _sample(inst: Instance, n: int = 30, bfs_states: int = 3_000, depth: int = 80) -> list[tuple]:
    """n reachable states: half spread over the first ``bfs_states`` of the breadth-first
    order (the whole state space of the small configurations), half from seeded random
    walks of up to ``depth`` steps, which reach the deep states of the large ones (v4.18
    SVE with EFI and CPU PM has 207,988 states: breadth-first sampling of its first 30,000
    cost the reference engine about 45 s, the walks cost a fraction of a second)."""
    _, graph = explore_bfs(inst, ["no_loss"], keep_graph=True, max_states=bfs_states)
    states = [tuple(s) for s in graph[0]]
    picked = states[::max(1, len(states) // (n // 2))]
    comp = compiled(inst)
    rng = random.Random(0)
    seen = set(states)
    walks = 0
    while len(picked) < n and walks < 4 * n:
        walks += 1
        s = tuple(inst.layout.initial_state())
        for _ in range(rng.randrange(depth // 2, depth + 1)):
            # a random enabled action with random inputs; a step failing a fatal
            # assertion ends nothing (the explorer does not continue after it): retry
            enabled = comp.enabled(bytes(s))
            for _ in range(8):
                if not enabled:
                    break
                aid = enabled[rng.randrange(len(enabled))]
                inp = tuple(rng.random() < 0.5 for _ in inst.actions[aid].inputs)
                nxt, viol = comp.fire(aid, s, inp)
                if not any(comp.checks[cid].kind in FATAL_KINDS for cid in viol):
                    s = tuple(nxt)
                    break
            else:
                break
            if not enabled:
                break
        if s not in seen:
            seen.add(s)
            picked.append(s)
    return picked


def _input_choices(n: int) -> list[tuple[bool, ...]]:
    """Every input combination of a step with few inputs; with many (a step with a dozen
    IRQ points on a TRACE_IRQFLAGS kernel), none, each one alone, all, and a seeded
    sample, so the check stays affordable."""
    if n <= 6:
        return list(itertools.product((False, True), repeat=n))
    rng = random.Random(n)
    out = {(False,) * n, (True,) * n}
    out |= {tuple(j == i for j in range(n)) for i in range(n)}
    out |= {tuple(rng.random() < 0.5 for _ in range(n)) for _ in range(16)}
    return sorted(out)


@pytest.mark.parametrize("variant,cfg", CONFIGS)
def test_step_semantics_agree(variant, cfg) -> None:
    inst = Instance(Config(**{"preemption": "merged", **cfg}), _variant(variant))
    enc = Encoding(inst, bits=False)
    pre, post = enc.frame("pre"), enc.frame("post")
    st = enc.step(1, pre, post)
    comp = compiled(inst)
    guards = [enc.pred(a.guard, pre) for a in inst.actions]
    checked = 0
    for state in _sample(inst):
        fixed = [x == z3.BitVecVal(v, x.size()) for x, v in zip(pre.vals, state, strict=True)]
        at_state = z3.Solver()
        at_state.add(fixed)
        assert at_state.check() == z3.sat
        m0 = at_state.model()
        enabled = [aid for aid, g in enumerate(guards)
                   if z3.is_true(m0.eval(g, model_completion=True))]
        assert enabled == comp.enabled(bytes(state)), inst.layout.state_dict(state)
        # T(pre, post) with this pre-state substituted (the same constraint, a smaller
        # query for each action and input combination below), and the pre-state itself,
        # so that the models also give the violation conditions' pre-state values
        solver = z3.Solver()
        solver.add(z3.simplify(z3.substitute(st.constraint, *[
            (x, z3.BitVecVal(v, x.size())) for x, v in zip(pre.vals, state, strict=True)])))
        solver.add(fixed)
        for aid in enabled:
            a = inst.actions[aid]
            conds = [(cid, c) for x, cid, c in st.violations if x == aid]
            for inp in _input_choices(len(a.inputs)):
                fix = [st.sel == aid] + [st.inputs[j] == b for j, b in enumerate(inp)]
                assert solver.check(*fix) == z3.sat
                m = solver.model()
                nxt, viol = comp.fire(aid, state, inp)
                assert enc.state_of(m, post) == nxt, a.label
                smt_viol = sorted(cid for cid, c in conds
                                  if z3.is_true(m.eval(c, model_completion=True)))
                assert smt_viol == sorted(viol), a.label
                checked += 1
    assert checked > 50


def test_every_action_can_fire_with_a_power_of_two_action_count() -> None:
    """sel ranges over exactly the action ids, also when their number is 2^w (16 here)."""
    inst = Instance(Config(preemption="merged",
                           cpus=2, vmm_threads=0, vcpus=0), get_variant("seed"))
    enc = Encoding(inst, bits=False)
    assert len(inst.actions) == 1 << enc.sel_width
    pre = enc.frame("a")
    st = enc.step(1, pre, enc.frame("b"))
    s = z3.Solver()
    s.add(st.constraint, enc.domain(pre))
    for aid in range(len(inst.actions)):
        assert s.check(st.sel == aid) == z3.sat, inst.actions[aid].label


def test_bit_vectors_follow_copies_and_writes() -> None:
    """With bits, a user write gives fresh data recorded as the task's ghost; a save
    copies the data with the token (the bit-level mapping of the module docstring)."""
    inst = Instance(Config(preemption="merged",
                           cpus=1, vcpus=0, vmm_threads=0), get_variant("seed"))
    enc = Encoding(inst, bits=True)
    S = inst.layout
    f0, f1 = enc.frame("a"), enc.frame("b")
    st = enc.step(1, f0, f1)
    s = z3.Solver()
    s.add(st.constraint, enc.coherence(f0))
    assert s.check() == z3.sat
    regs_v = S.cpu[0].regs.v.index
    write = next(i for i, a in enumerate(inst.actions) if a.name == "user_fp_write")
    s.push()
    s.add(st.sel == write, *[x == v for x, v in zip(f0.vals, _user_state(inst), strict=True)])
    assert s.check() == z3.sat
    # after the write the registers hold exactly the ghost "last written" bits of T0 ...
    assert s.check(f1.bits[regs_v] != f1.ghost[(0, "v")]) == z3.unsat
    # ... which are fresh: nothing forces them to equal the old value
    assert s.check(f1.ghost[(0, "v")] != f0.ghost[(0, "v")]) == z3.sat
    s.pop()
    assert s.check(z3.Not(enc.coherence(f1))) == z3.unsat


def _user_state(inst: Instance) -> tuple:
    """A reachable state with T0 at EL0 on cpu0."""
    _, graph = explore_bfs(inst, ["no_loss"], keep_graph=True)
    S = inst.layout
    for s in graph[0]:
        d = S.state_dict(tuple(s))
        if d["cpu0.current"] == "T0" and d["T0.pc"] == "USER":
            return tuple(s)
    raise AssertionError("T0 never reaches EL0")


def test_fpexc32_is_a_bit_slice_of_its_own() -> None:
    """With AArch32 guests FPEXC32_EL2 (CPU and vcpu copy) is a 32-bit slice: the guest's
    write gives it fresh bits recorded as the guest's ghost ``fpexc``, hyp's restore copies
    them, and no_loss compares them."""
    inst = Instance(Config(preemption="merged", cpus=1, guest_aarch32=True), get_variant("v4.18"))
    enc = Encoding(inst, bits=True)
    S = inst.layout
    cpu_x, vcpu_x = S.cpu[0].regs.fpexc, S.vcpus[0].fp_regs.fpexc
    assert enc.kind[cpu_x.index] == enc.kind[vcpu_x.index] == "fpexc"
    assert enc.real_width["fpexc"] == 32 and "fpexc" in enc.slices
    f0, f1 = enc.frame("a"), enc.frame("b")
    g0 = S.guest_owner(0)
    assert f0.ghost[(g0, "fpexc")].size() == enc.width["fpexc"] == 16
    st = enc.step(1, f0, f1)
    s = z3.Solver()
    s.add(st.constraint, enc.coherence(f0), enc.domain(f0))
    write = next(i for i, a in enumerate(inst.actions) if a.name == "guest_fp_write")
    s.add(st.sel == write)
    assert s.check() == z3.sat
    assert s.check(f1.bits[cpu_x.index] != f1.ghost[(g0, "fpexc")]) == z3.unsat
    assert s.check(z3.Not(enc.coherence(f1))) == z3.unsat


def test_fork_hands_the_parents_bits_to_the_child(monkeypatch) -> None:
    """With bit vectors, a fork's relabelled copy (Ctx.copy_as_child) makes the child's
    "last written" ghost the parent's bits: the encoding's coherence invariant ("a slot
    holding o's latest token holds o's last written bits") is preserved by every fork
    step from a coherent state in which only the child's own buffers hold its token;
    without the handover it would not be."""
    from checker.smt import encode

    inst = Instance(Config(preemption="merged",
                           cpus=1, tasks=2, vcpus=0, vmm_threads=0, events=("fork",)),
                    get_variant("v4.18"))
    forks = [aid for aid, a in enumerate(inst.actions) if a.name == "fork"]

    def broken_after_fork() -> z3.CheckSatResult:
        enc = Encoding(inst, bits=True)
        pre, post = enc.frame("pre"), enc.frame("post")
        st = enc.step(1, pre, post)
        solver = z3.Solver()
        # As in every reachable state: before the fork no slot but the child's own
        # thread struct holds the child's latest token.
        S = inst.layout
        own = {v.index for v in S.tasks[1].uw.slots()}
        unborn = [pre.vals[v.index] != S.latest(1) for v in S.vars
                  if v.dom.kind == "value" and v.index not in own]
        solver.add(enc.domain(pre), enc.coherence(pre), st.constraint, *unborn,
                   z3.Or([st.sel == aid for aid in forks]), z3.Not(enc.coherence(post)))
        return solver.check()

    assert broken_after_fork() == z3.unsat
    monkeypatch.setattr(encode._ActionExec, "_handover", lambda self, e: None)
    assert broken_after_fork() == z3.sat


def test_one_generation_written_to_two_slots_has_one_value(monkeypatch) -> None:
    """kvm_reset_vcpu() of an SVE vcpu zeroes fp_regs.vregs and sve_state's Z registers:
    one new generation of the guest's values in two V slots (`Ctx.fp_write_memory`).  The
    encoding gives both the same bits, so coherence is preserved by every reset step from
    a coherent state; with fresh bits per slot it was not (prove --sve-guest --event
    vcpu_reset had a spurious coherence CTI): both slots then hold the latest token
    with different bits."""
    from checker.smt import encode

    inst = Instance(Config.with_kconfig("preempt", preemption="merged", cpus=1, tasks=0,
                                        vcpus=2, vmm_threads=1, sve=True, sve_guest=True,
                                        vhe=True, events=("vcpu_reset",)),
                    get_variant("v6.16-ptrace-fixes"))
    resets = [aid for aid, a in enumerate(inst.actions)
              if "kvm_reset_vcpu" in a.functions and ("vcpu", 0) in a.params]
    assert resets

    def two_values_of_one_generation() -> z3.CheckSatResult:
        enc = Encoding(inst, bits=True)
        pre, post = enc.frame("pre"), enc.frame("post")
        st = enc.step(1, pre, post)
        S = inst.layout
        v0 = S.vcpus[0]
        a, b = v0.fp_regs.v.index, v0.sve_state.v.index
        g0 = S.latest(S.guest_owner(0))
        solver = z3.Solver()
        solver.add(enc.domain(pre), pre.vals[v0.reset_pending.index] == 1, st.constraint,
                   z3.Or([st.sel == aid for aid in resets]), post.vals[a] == g0,
                   post.vals[b] == g0, post.bits[a] != post.bits[b])
        return solver.check()

    assert two_values_of_one_generation() == z3.unsat
    monkeypatch.setattr(encode._ActionExec, "generation_bits",
                        lambda self, env, owner, kind: self.fresh(kind))
    assert two_values_of_one_generation() == z3.sat
