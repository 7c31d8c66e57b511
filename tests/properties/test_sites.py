"""The sites of no_loss and no_leak (properties.fp.SITES, `explore --sites`; each property
is the conjunction of its sites by construction): the slice-by-slice split of a reader's
registers agrees with the whole-image rule on every reachable state, and the command line
reports a shortest trace per site."""

from __future__ import annotations

import json

import pytest

from checker.cli import main
from checker.instance import Instance
from checker.lemma_states import lemmas_on_reachable_states
from model.config import Config, kconfig_preset
from model.dsl import Expr, Var, all_of, implies
from model.variants import get_variant
from properties.fp import SLICES, _own, expected, expected_by_slice, only_own_bits, readers

PREEMPT = kconfig_preset("preempt")
CONFIGS = [
    ("v4.18", dict(cpus=2)),
    ("v6.10", dict(cpus=1, tasks=1, vcpus=1, vmm_threads=1, sve=True, vhe=True)),
    # FPMR and, with SME, FPCR by their own "must read zero" ghosts (exec)
    ("v6.16", dict(cpus=1, tasks=1, vcpus=0, vmm_threads=0, sme=True, fpmr=True,
                   events=("exec",), **PREEMPT)),
]


def _iff(a: Expr, b: Expr) -> Expr:
    return (a & b) | (~a & ~b)


@pytest.mark.parametrize("variant,cfg", CONFIGS)
def test_slice_split_agrees_with_the_whole_image_rule(variant: str, cfg: dict) -> None:
    inst = Instance(Config(preemption="merged", **cfg), get_variant(variant))
    S = inst.layout
    checks = {}
    for i, (cond, o, regs) in enumerate(readers(S)):
        split = all_of(e for _, e in expected_by_slice(S, o, regs))
        checks[f"loss{i}"] = implies(cond, _iff(split, expected(S, o, regs)))
        own = all_of(_own(S, o, getattr(regs, n)) for n in SLICES
                     if isinstance(getattr(regs, n), Var))
        checks[f"leak{i}"] = implies(cond, _iff(own, only_own_bits(S, o, regs)))
    res = lemmas_on_reachable_states(inst, checks, engine="native")
    assert res.complete and not [n for n in res.violations if n in checks]


def test_explore_sites_reports_a_trace_per_site(tmp_path, capsys) -> None:
    """v6.10 with SME signals: no_loss's shortest trace is 10 steps (PSTATE.ZA), its
    sites' are longer and different (counterexamples/README.md)."""
    code = main(["explore", "--variant", "v6.10", "--sme", "--event", "signal", "--cpus", "1",
                 "--tasks", "1", "--vcpus", "0", "--vmm-threads", "0", "--kconfig", "preempt",
                 "--nvhe", "--preemption", "merged", "--sites", "--json",
                 "--out", str(tmp_path)])
    assert code == 1
    props = json.loads(capsys.readouterr().out)["runs"][0]["properties"]
    assert props["no_loss"]["length"] == 10
    assert props["no_loss.svcr"]["length"] == 10
    assert props["no_loss.fpcr"]["length"] == 11
    assert props["no_loss.v"]["length"] == 13
    assert props["no_loss.kneon"]["verdict"] == "holds"
    assert props["no_leak.v"]["verdict"] == "holds"
    written = {p.name.split("-")[1] for p in tmp_path.glob("*.json")}
    assert {"no_loss.v", "no_loss.fpcr"} <= written


def test_bmc_and_explore_agree_site_by_site() -> None:
    """v6.9 with a kworker (#15, 8 steps): the sites both engines find violated, and their
    shortest lengths, are the same (`bmc --sites` and `explore --sites`)."""
    from checker.lemma_states import with_invariants
    from checker.native.explore import explore_native
    from checker.smt.bmc import bmc

    inst = Instance(Config(cpus=2, tasks=1, vcpus=0, vmm_threads=0, vhe=False,
                           events=("kthread_kernel_neon",)), get_variant("v6.9"))
    sites = inst.site_invariants(["no_loss", "no_leak"])
    props = ["no_loss", "no_leak", *sites]
    probe = with_invariants(inst, sites)
    ex, _ = explore_native(probe, props)
    found = {p: len(t) for p, t in ex.violations.items()}
    assert found["no_loss.kneon"] == 8 and "no_loss.p" not in found
    res = bmc(probe, props, 8)
    assert {p: r.depth for p, r in res.props.items() if r.trace} == found
