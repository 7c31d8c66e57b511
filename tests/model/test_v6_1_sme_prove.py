"""`prove` of v6.1 with SME (model/variants/v6_1_sme.py) at its smallest size: one CPU, one
task, no KVM, merged steps (nVHE here; VHE proves the same, measured in the report).  #14
needs two CPUs, where kernel_asserts is violated (tests/model/test_v6_1_sme.py)."""

from __future__ import annotations

from checker.instance import Instance
from checker.smt.induction import prove
from model.config import Config, kconfig_preset
from model.variants import get_variant
from properties.fp import PROPERTY_NAMES

SMALL = dict(cpus=1, tasks=1, vmm_threads=0, vcpus=0, sme=True, preemption="merged",
             vhe=False, **kconfig_preset("preempt"))


def test_v61_sme_smallest_size_proves() -> None:
    proof = prove(Instance(Config(**SMALL), get_variant("v6.1")), list(PROPERTY_NAMES))
    bad = [(o.name, o.initiation, o.consecution) for o in proof.obligations if not o.ok]
    assert proof.verdict == "PROVED", bad
