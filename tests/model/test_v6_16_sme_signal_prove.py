"""`prove` of v6.16-ptrace-fixes with SME and signals (`--sme --event signal`) at the
smallest configuration that has them: one CPU, one task, no vcpu, debug preset (PREEMPT),
split preemption, so the task can be preempted inside setup_rt_frame() and
sys_rt_sigreturn() (lemma signal_frame_state, properties/lemmas.py).  Each proof takes
minutes (slow); that every lemma holds on the 373,775 reachable states is
tests/model/test_v6_signal_sme.py.

    python -m checker prove --variant v6.16-ptrace-fixes --sme --event signal --cpus 1 \\
        --tasks 1 --vcpus 0 --vmm-threads 0 --preemption split --jobs 1
"""

from __future__ import annotations

import pytest

from checker.instance import Instance
from checker.smt.induction import prove
from model.config import Config
from model.variants import get_variant
from properties.fp import PROPERTY_NAMES

ONE_TASK = dict(cpus=1, tasks=1, vmm_threads=0, vcpus=0, sme=True, events=("signal",),
                preemption="split")


@pytest.mark.slow
@pytest.mark.parametrize("vhe", [False, True], ids=["nvhe", "vhe"])
def test_sme_signal_proved_split(vhe: bool) -> None:
    """PROVED in each hyp mode; signal_frame_state's consecution is the longest query
    (minutes: see README, "Proofs and bounded model checking")."""
    res = prove(Instance(Config(**{**ONE_TASK, "vhe": vhe}),
                         get_variant("v6.16-ptrace-fixes")), list(PROPERTY_NAMES))
    bad = [(o.name, o.initiation, o.consecution) for o in res.obligations if not o.ok]
    assert res.verdict == "PROVED", bad
