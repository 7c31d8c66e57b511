"""`prove` for v6.1 with SVE vcpus (Config.sve_guest): the VMM thread alone on one CPU (a plain
task besides it is a tracer: v6.1's BUG_ON(TIF_SVE) finding; two CPUs: #13).  VHE with two
VLs and nVHE with one are proved with v6.1's lemmas (properties/lemmas.py V61, with
v61_sve_guest_kvm_thread and v61_sve_guest_bound_at_its_vl); nVHE with two VLs is #20, a
real violation `prove` reports (tests/model/test_v6_1_sve_guest.py)."""

from __future__ import annotations

from checker.instance import Instance
from checker.smt.induction import prove
from model.config import Config, kconfig_preset
from model.variants import get_variant
from properties.fp import PROPERTY_NAMES
from properties.lemmas import v61_sve_guest_bound_at_its_vl, v61_sve_guest_kvm_thread
from tests.checker.smt.test_lemmas import check_lemmas_on_reachable_states

PREEMPT = kconfig_preset("preempt")
BASE = dict(cpus=1, tasks=0, vmm_threads=1, vcpus=1, sve=True, sve_guest=True, **PREEMPT)


def _proved(cfg: dict) -> list[str]:
    res = prove(Instance(Config(**cfg), get_variant("v6.1")), list(PROPERTY_NAMES))
    bad = [(o.name, o.initiation, o.consecution) for o in res.obligations if not o.ok]
    assert res.verdict == "PROVED", bad
    return [o.name for o in res.obligations]


def test_v61_sve_guest_lemmas_hold_and_prove_vhe_two_vls() -> None:
    assert v61_sve_guest_bound_at_its_vl and v61_sve_guest_kvm_thread
    cfg = {**BASE, "vhe": True, "sve_vls": (128, 256)}
    res = check_lemmas_on_reachable_states("v6.1", {**cfg, "preemption": "split"})
    assert res.stats.states == 25_343
    names = _proved({**cfg, "preemption": "merged"})
    assert {"v61_sve_guest_kvm_thread", "v61_sve_guest_bound_at_its_vl"} <= set(names)


def test_v61_sve_guest_proves_nvhe_one_vl() -> None:
    _proved({**BASE, "vhe": False})
