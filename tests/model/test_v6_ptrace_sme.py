"""The tracer's SVE/SME regset writes with SME (model/variants/v6_ptrace.py, v6_16.py):
NT_ARM_SVE's streaming block, NT_ARM_SSVE and NT_ARM_ZA against the C they mirror
(v6.8-v6.10 and v6.16 sve_set_common(), za_set()), and that ``--sme --sve`` with two user
tasks is accepted now."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from checker.inspect.load import load
from checker.inspect.replay import build_instance, replay
from checker.instance import Instance
from checker.trace import Trace
from model.config import Config, kconfig_preset
from model.state import Layout
from model.steps import STEPS, TRACER_STEPS
from model.variants import get_variant

from .probe import Probe

PREEMPT = kconfig_preset("preempt")
# One CPU, a tracer (T1) and a tracee (T0), no KVM, SVE and SME.
TRACER = dict(cpus=1, tasks=2, vmm_threads=0, vcpus=0, vhe=True, sve=True, sme=True,
              **PREEMPT)
# The tracee T0 stopped in a syscall, switched out; its state saved (FPSIMD format,
# non-streaming, ZA off); the tracer T1 runs in its ptrace() syscall.
STOPPED = {"cpu0.current": "T1", "T1.pc": "KERNEL", "T0.pc": "KERNEL",
           "T1.uw.v": "T1", "T1.uw.fpsr": "T1", "T0.uw.v": "T0", "T0.uw.fpsr": "T0",
           "T0.TIF_FOREIGN_FPSTATE": "0", "T0.fpsimd_cpu": "cpu0", "T0.fp_type": "FPSIMD"}


def probe(variant: str, **extra) -> Probe:
    return Probe(variant, **{**TRACER, **extra})


@pytest.mark.parametrize("variant", ["v6.8", "v6.10", "v6.16", "v6.16-ptrace-fixes"])
def test_sme_with_sve_and_a_tracer_is_accepted(variant: str) -> None:
    """The refusal of ``--sme --sve`` with two user tasks is lifted; the SME regset
    writes are steps with event ptrace_fpr_set (and tracer steps, never split)."""
    cfg = Config(**TRACER, preemption="merged", events=("ptrace_fpr_set",))
    Instance(cfg, get_variant(variant))
    S = Layout(cfg, frozenset(get_variant(variant).option("state_features", ())))
    names = {s.name for s in STEPS if list(s.params(S))}
    assert {"ptrace_sve_set", "ptrace_ssve_set", "ptrace_za_set",
            "ptrace_za_disable"} <= names
    assert {"ptrace_ssve_set", "ptrace_za_set", "ptrace_za_disable"} <= set(TRACER_STEPS)
    plain = Layout(Config(**TRACER, preemption="merged"), S.features)
    assert not [s for s in STEPS if s.name in ("ptrace_ssve_set", "ptrace_za_set")
                and list(s.params(plain))]


@pytest.mark.parametrize("variant", ["v6.10", "v6.16", "v6.16-ptrace-fixes"])
def test_ssve_set_enters_streaming_mode(variant: str) -> None:
    """NT_ARM_SSVE (sve_set_common(ARM64_VEC_SME)): SVCR.SM and TIF_SME set, TIF_SVE
    untouched, fp_type SVE, the tracer's Z/P/FPSR in the tracee's buffers, the tracee
    flushed; the ghost says it must run in streaming mode."""
    st, viol = probe(variant).run("ssve_set", 0, task="T1", **STOPPED)
    assert not viol
    assert st["T0.svcr.SM"] == "1" and st["T0.TIF_SME"] == "1" and st["T0.TIF_SVE"] == "0"
    assert st["T0.fp_type"] == "SVE" and st["T0.svcr.ZA"] == "0"
    assert st["T0.sve_state.zhi"] == "T0" and st["T0.sve_state.p"] == "T0"
    assert st["T0.sve_state.v"] == "T0" and st["T0.uw.fpsr"] == "T0"
    assert st["T0.TIF_FOREIGN_FPSTATE"] == "1" and st["T0.fpsimd_cpu"] == "NR_CPUS"
    assert st["ghost.T0.sm"] == "1"


def test_v616_ssve_set_zeroes_the_tracers_fpsimd_state() -> None:
    """v6.16's memset of current's uw.fpsimd_state is in the NT_ARM_SSVE path too: the
    tracer's saved V/FPSR are zeroed (5cbb61bf4168 makes it the tracee's)."""
    st, _ = probe("v6.16").run("ssve_set", 0, task="T1", **STOPPED)
    assert st["T1.uw.v"] == "0" and st["T1.uw.fpsr"] == "0"
    st, _ = probe("v6.16-ptrace-fixes").run("ssve_set", 0, task="T1", **STOPPED)
    assert st["T1.uw.v"] == "T1" and st["T0.uw.v"] == "0"
    st, _ = probe("v6.10").run("ssve_set", 0, task="T1", **STOPPED)
    assert st["T1.uw.v"] == "T1" and st["T0.uw.v"] == "T0~"  # older: V is in sve_state


@pytest.mark.parametrize("variant", ["v6.10", "v6.16", "v6.16-ptrace-fixes"])
def test_sve_set_leaves_streaming_mode(variant: str) -> None:
    """NT_ARM_SVE on a streaming tracee: SVCR.SM cleared, TIF_SVE set (with SME v6.16 sets
    it too: 128a7494a9f1 matters only without SME), ZA and TIF_SME kept."""
    pre = {**STOPPED, "T0.svcr.SM": "1", "T0.svcr.ZA": "1", "T0.TIF_SME": "1",
           "T0.fp_type": "SVE", "T0.sme_state.za": "T0"}
    st, viol = probe(variant).run("sve_set", 0, task="T1", **pre)
    assert not viol
    assert st["T0.svcr.SM"] == "0" and st["T0.TIF_SVE"] == "1" and st["T0.fp_type"] == "SVE"
    assert st["T0.svcr.ZA"] == "1" and st["T0.TIF_SME"] == "1"
    assert st["T0.sme_state.za"] == "T0" and st["T0.sve_state.zhi"] == "T0"
    assert st["ghost.T0.sm"] == "0"


@pytest.mark.parametrize("variant", ["v6.10", "v6.16"])
def test_za_set_with_and_without_data(variant: str) -> None:
    """za_set(): with data, the tracer's ZA into sme_state, SVCR.ZA and TIF_SME set (a new
    ZA generation the tracee must read); without data, SVCR.ZA cleared, and sme_state
    zeroed only if ZA was off (sme_alloc(target, !thread_za_enabled()))."""
    st, viol = probe(variant).run("za_set", 0, True, task="T1", **STOPPED)
    assert not viol
    assert st["T0.svcr.ZA"] == "1" and st["T0.TIF_SME"] == "1" and st["T0.svcr.SM"] == "0"
    assert st["T0.sme_state.za"] == "T0" and st["ghost.T0.za"] == "1"
    assert st["ghost.T0.za_written"] == "1" and st["T0.TIF_FOREIGN_FPSTATE"] == "1"
    on = {**STOPPED, "T0.svcr.ZA": "1", "T0.TIF_SME": "1", "T0.sme_state.za": "T0"}
    st, _ = probe(variant).run("za_set", 0, False, task="T1", **on)
    assert st["T0.svcr.ZA"] == "0" and st["T0.sme_state.za"] == "T0"
    assert st["T0.TIF_SME"] == "1" and st["ghost.T0.za"] == "0"
    off = {**STOPPED, "T0.sme_state.za": "T0"}
    st, _ = probe(variant).run("za_set", 0, False, task="T1", **off)
    assert st["T0.sme_state.za"] == "0" and st["T0.fpsimd_cpu"] == "NR_CPUS"


# ------------------------------------------------------------ the 2025 ptrace bugs with SME
CURATED = Path(__file__).resolve().parents[2] / "counterexamples"
T22 = CURATED / "v6.14-no_loss-vhe-c1t2v0m0-preempt-explicit-bfs.json"
T5CBB = CURATED / "v6.16-no_loss-vhe-c1t2v0m0-preempt-explicit-bfs.json"
T128A = CURATED / "v6.16-kernel_asserts-vhe-c1t2v0m0-preempt-explicit-bfs.json"


def _on_sme_system(path: Path) -> Trace:
    """A curated trace (recorded without SME) replayed on a system with SME and SVE: the
    same steps, with the SME state and each function's SME statements."""
    trace = load(path)
    return dataclasses.replace(trace, config={**trace.config, "sme": True})


def _reproduces(trace: Trace, variant: str) -> bool:
    return replay(trace, build_instance(trace, variant, {})).reproduces


def test_bug_22_with_sme_on_v68_to_v610_fixed_in_v616() -> None:
    """#22 (398edaa12f9c) with SME too: the tracer's NT_ARM_SVE write at the syscall stop
    (now also clearing SVCR.SM) is saved FPSIMD-only by a softirq's kernel_neon_begin()
    because in_syscall(); v6.8-v6.10 (SME reachable) lose the Z bits above 127, v6.16 keeps
    them (to_save)."""
    trace = _on_sme_system(T22)
    assert _reproduces(trace, "v6.8") and _reproduces(trace, "v6.10")
    assert not _reproduces(trace, "v6.16")
    assert not _reproduces(trace, "v6.16-ptrace-fixes")


def test_v616_tracer_memset_with_sme_fixed_by_5cbb61bf4168() -> None:
    """5cbb61bf4168 with SME: v6.16's NT_ARM_SVE write zeroes the tracer's own
    uw.fpsimd_state on an SME system as well (the tracer returns to EL0 with V zero,
    no_loss, 4 steps); the fixed variant zeroes the tracee's."""
    trace = _on_sme_system(T5CBB)
    assert _reproduces(trace, "v6.16")
    assert not _reproduces(trace, "v6.16-ptrace-fixes")


def test_128a7494a9f1_is_not_reachable_with_sme() -> None:
    """128a7494a9f1 fixes systems *without* SME: with SME, v6.16's streaming switch runs and
    sets TIF_SVE for NT_ARM_SVE, so the tracee's reload does not WARN (the curated
    trace reproduces without SME, not with it)."""
    assert _reproduces(load(T128A), "v6.16")
    assert not _reproduces(_on_sme_system(T128A), "v6.16")
