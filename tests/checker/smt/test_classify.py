"""prove on a user's variant: CTIs classified (real bug or missing lemma), value sets in
the induction so CTIs show only values the configuration can produce."""

from __future__ import annotations

import json
import textwrap

from checker.cli import main
from checker.instance import Instance
from checker.smt.induction import prove
from checker.value_sets import value_sets
from model.config import Config
from model.variants import get_variant

# ctxsync that forgets to clear TIF_FOREIGN_FPSTATE: a real loss (explore finds it)
NO_CLEAR = textwrap.dedent('''
    from model.variants import get_variant


    def kvm_arch_vcpu_ctxsync_fp(k, vcpu):
        v = k.vcpu(vcpu)
        with k.If(v.fp_enabled.eq(1)):
            k.fpsimd_bind_state_to_cpu(k.S.vcpu_fpstate(vcpu))
            k.clear_thread_flag("TIF_SVE")


    VARIANT = get_variant("v4.18").derive("no-clear", "ctxsync keeps TIF_FOREIGN_FPSTATE",
                                          kvm_arch_vcpu_ctxsync_fp=kvm_arch_vcpu_ctxsync_fp)
    ''')


def test_cti_of_buggy_variant_leads_to_real_counterexample(tmp_path, capsys) -> None:
    f = tmp_path / "no_clear.py"
    f.write_text(NO_CLEAR)
    code = main(["prove", "--variant-file", str(f), "--cpus", "1", "--nvhe", "--json",
                 "--out", str(tmp_path / "out")])
    data = json.loads(capsys.readouterr().out)
    assert code == 1 and data["runs"][0]["verdict"] == "VIOLATED"
    ctis = [o["cti"] for o in data["runs"][0]["obligations"] if "cti" in o]
    assert ctis and ctis[0]["real_violation"] == "no_loss"
    # the written real counterexample replays as a violation on the variant
    assert main(["replay", ctis[0]["counterexample"]]) == 1


def test_value_sets_restrict_config_impossible_values() -> None:
    inst = Instance(Config(preemption="merged", cpus=1), get_variant("seed"))
    sets = value_sets(inst.layout, inst.actions)
    names = {inst.layout.vars[i].name: vs for i, vs in sets.items()}
    assert names["vcpu0.flags.HOST_SVE_IN_USE"] == frozenset({0})  # no SVE
    assert names["idle0.TIF_FOREIGN_FPSTATE"] == frozenset({1})
    # with SVE the flag is free
    sve = Instance(Config(preemption="merged", cpus=1, sve=True, vhe=True), get_variant("seed"))
    assert "vcpu0.flags.HOST_SVE_IN_USE" not in {
        sve.layout.vars[i].name for i in value_sets(sve.layout, sve.actions)}


def test_cti_pre_state_respects_value_sets() -> None:
    """With no lemmas at all the properties are not inductive; the CTI's pre-state still
    only has values the configuration can produce, and it is classified unreachable."""
    from checker.smt.classify import classify_cti

    inst = Instance(Config(preemption="merged", cpus=1, lockdep=False), get_variant("v4.18"))
    res = prove(inst, ["no_loss"], lemmas={})
    (ob,) = [o for o in res.failed() if o.trace.kind == "cti"][:1]
    assert ob.trace.initial["vcpu0.flags.HOST_SVE_IN_USE"] == "0"
    c = classify_cti(inst, ob.trace, inst.invariants.get(ob.name))
    assert c.reachable is False and c.nearest and c.real_bug is None


def test_several_ctis_are_placed_by_one_search() -> None:
    """classify_ctis: the CTIs of one proof share one search and get the classes they get
    one at a time; out of time, the unplaced ones are unknown (not "unreachable")."""
    from checker.smt.classify import classify_cti, classify_ctis

    inst = Instance(Config(preemption="merged", cpus=1, lockdep=False), get_variant("v4.18"))
    res = prove(inst, ["no_loss", "no_leak"], lemmas={})
    obs = [o for o in res.failed() if o.trace.kind == "cti"]
    assert len(obs) >= 2
    ctis = [(o.trace, inst.invariants.get(o.name)) for o in obs]
    together = classify_ctis(inst, ctis)
    alone = [classify_cti(inst, t, e) for t, e in ctis]
    assert [(c.reachable, c.searched, c.broken, c.nearest) for c in together] == \
        [(c.reachable, c.searched, c.broken, c.nearest) for c in alone]
    assert all(c.reachable is None for c in classify_ctis(inst, ctis, seconds=0.0))


def test_lemmas_checked_on_every_reachable_state(tmp_path) -> None:
    """A lemma CTI whose pre-state the bounded search cannot place is settled by checking
    the lemma itself on every reachable state: a false one comes back with a shortest
    counterexample that replays (under the lemma's own name), a true one as holding in
    all N states (exhaustive)."""
    from checker.cli_common import write_trace
    from checker.smt.classify import check_lemmas_reachable
    from properties.lemmas import LEMMAS

    inst = Instance(Config(preemption="merged", cpus=1), get_variant("v4.18"))
    by_name = {lem.name: lem.build(inst.layout) for lem in LEMMAS}
    # v4.17's lemma is false on v4.18, which binds a vcpu's state to the CPU (ctxsync)
    checks, bug = check_lemmas_reachable(inst, {
        n: by_name[n] for n in ("idle_always_foreign", "v417_never_binds_vcpu")})
    assert bug is None
    assert checks["idle_always_foreign"].holds is True
    # every state: explore --variant v4.18 --cpus 1 --preemption merged has 546
    assert checks["idle_always_foreign"].states == 546
    bad = checks["v417_never_binds_vcpu"]
    assert bad.holds is False and bad.trace is not None
    assert "FALSE in a reachable state" in bad.text()[0]
    assert main(["replay", write_trace(bad.trace, str(tmp_path))]) == 1


def test_a_reachable_lemma_cti_refutes_the_lemma_not_the_code() -> None:
    """A lemma's CTI from a reachable pre-state means the lemma is false in a reachable
    state (README "Adding a lemma"'s patch); a property's means a real counterexample."""
    from checker.smt.classify import CtiClass

    lemma = CtiClass(reachable=True, searched=10, trace=[0] * 8, cti_steps=1, of_lemma=True)
    assert "the lemma is FALSE in a reachable state" in lemma.text()[0]
    assert "7 steps" in lemma.text()[0]
    prop = CtiClass(reachable=True, searched=10, trace=[0] * 8, cti_steps=1)
    assert "real counterexample" in prop.text()[0]


def _mid_trace_cti(inst: Instance, k: int):  # noqa: ANN202 - checker.trace.Trace
    """A CTI whose pre-state is reachable: the state after step k of a real
    counterexample, followed by the trace's remaining steps."""
    import dataclasses

    from checker.explicit.explore import explore_bfs

    tr = explore_bfs(inst, ["no_loss"])[0].violations["no_loss"]
    assert len(tr.steps) > k
    return dataclasses.replace(tr, initial=tr.steps[k - 1].state, steps=tr.steps[k:],
                               kind="cti"), len(tr.steps)


def test_native_and_reference_placement_agree(tmp_path) -> None:
    """The native engine's placement (checker.native.place_states) gives the classes the
    reference engine's search gives: a reachable pre-state with a path as short, so the
    real counterexample has the same length and replays; unreachable ones after the same
    exhaustive count, with a nearest reachable state as near."""
    from checker.cli_common import write_trace
    from checker.smt.classify import classify_ctis
    from model.variants import load_variant_file

    f = tmp_path / "no_clear.py"
    f.write_text(NO_CLEAR)
    (variant,) = load_variant_file(str(f)).values()
    buggy = Instance(Config(preemption="merged", cpus=1, vhe=False), variant)
    cti, length = _mid_trace_cti(buggy, 3)
    py, nat = (classify_ctis(buggy, [(cti, None)], engine=e)[0] for e in ("python", "native"))
    assert (py.reachable, nat.reachable) == (True, True)
    assert (py.engine, nat.engine) == ("python", "native")
    assert len(py.trace.steps) == len(nat.trace.steps) == length
    assert main(["replay", write_trace(nat.trace, str(tmp_path))]) == 1

    inst = Instance(Config(preemption="merged", cpus=1, lockdep=False), get_variant("v4.18"))
    res = prove(inst, ["no_loss", "no_leak"], lemmas={})
    ctis = [(o.trace, inst.invariants.get(o.name)) for o in res.failed()
            if o.trace.kind == "cti"]
    py, nat = (classify_ctis(inst, ctis, engine=e) for e in ("python", "native"))
    assert [(c.reachable, c.searched, c.broken, len(c.nearest)) for c in py] == \
        [(c.reachable, c.searched, c.broken, len(c.nearest)) for c in nat]
    assert all(c.reachable is False and c.nearest for c in nat)
