"""`prove` of v6.16-ptrace-fixes with the tracer's payload events (ptrace_sve_fpsimd: the
FPSIMD-format NT_ARM_SVE/NT_ARM_SSVE payload; ptrace_sve_nodata: a header without register
data, whose ghost from v6.16 on says the tracee must read zero, model/variants/v6_ptrace.py
`_nodata_ghost_v616`) at the smallest configurations that have them: one CPU, a tracer and
a tracee, no vcpu.  Each proof takes minutes (slow); `explore` on the same configurations
is in tests/model/test_v6_ptrace_payload.py."""

from __future__ import annotations

import pytest

from checker.instance import Instance
from checker.smt.induction import prove
from model.config import Config, kconfig_preset
from model.variants import get_variant
from properties.fp import PROPERTY_NAMES

TRACER = dict(cpus=1, tasks=2, vmm_threads=0, vcpus=0, vhe=True, preemption="merged",
              events=("ptrace_sve_fpsimd", "ptrace_sve_nodata"))


def _proved(**cfg) -> None:
    res = prove(Instance(Config(**{**TRACER, **cfg}), get_variant("v6.16-ptrace-fixes")),
                list(PROPERTY_NAMES))
    bad = [(o.name, o.initiation, o.consecution) for o in res.obligations if not o.ok]
    assert res.verdict == "PROVED", bad


@pytest.mark.slow
def test_payload_events_proved_with_sve() -> None:
    """SVE, PREEMPT (preempt preset), VHE: PROVED with the existing lemmas (138 s at load
    2-3 on the 2 shared cores)."""
    _proved(sve=True, **kconfig_preset("preempt"))


@pytest.mark.slow
def test_payload_events_proved_with_sme() -> None:
    """SME without SVE (NT_ARM_SSVE's FPSIMD payload is -EINVAL, its header-only write a
    zero generation), PREEMPT_NONE (server), VHE: PROVED with the existing lemmas (162 s
    at load 2-3)."""
    _proved(sme=True, **kconfig_preset("server"))


@pytest.mark.slow
def test_header_vl_events_proved_with_sme_vls() -> None:
    """ptrace_sve_vl (an NT_ARM_SSVE/NT_ARM_ZA header at the other SVL:
    vec_set_vector_length() on the stopped tracee first) with sme_set_vl and two SVLs
    (128, 256), SME, server, VHE: PROVED with the existing lemmas (404 s at load 2-3)."""
    _proved(sme=True, sme_vls=(128, 256), events=("sme_set_vl", "ptrace_sve_vl"),
            **kconfig_preset("server"))
