"""SME (`--sme`) on v6.1 (model/variants/v6_1_sme.py): the C semantics where v6.1's SME text
differs from v6.8-v6.10 (no fp_type: TIF_SVE || SVCR.SM; fp_user_discard()'s TIF_SME test;
the VL change that clears current's TIF_SME; fpr_set()'s zeropad without the SM test), and
what explore finds on v6.1 with SME: #14 (do_sme_acc), the sigreturn that leaves PSTATE.ZA
on, KVM_RUN's stale SVCR.SM, a handler's SVL change and back (all four as on v6.10), and
a tracer's NT_ARM_SSVE write
without TIF_SME (5d0a8d2fba50) and a tracer's NT_PRFPREG write to a streaming tracee
(69af56ae56a4), both not on v6.10, each curated, none reproducing on v6.16."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.explicit.explore import explore_bfs
from checker.inspect.load import load
from checker.inspect.replay import build_instance, replay
from checker.instance import Instance
from model.config import Config, kconfig_preset
from model.dsl import ModelError
from model.variants import get_variant, load_variant_file
from properties.fp import PROPERTY_NAMES

from .probe import Probe

PREEMPT = kconfig_preset("preempt")
# One CPU, one task, no KVM: SME alone, merged steps (the v6.10 SME tests' SMALL).
SMALL = dict(cpus=1, tasks=1, vmm_threads=0, vcpus=0, sme=True, preemption="merged",
             **PREEMPT)
CURATED = Path(__file__).resolve().parents[2] / "counterexamples"
T14 = CURATED / "v6.1-kernel_asserts-nvhe-c2t1v0m0-sme-preempt-explicit-bfs.json"
T_SIGRETURN_ZA = CURATED / "v6.1-signal-no_loss-nvhe-c1t1v0m0-sme-preempt-explicit-bfs.json"
T_KVM_SM = CURATED / "v6.1-no_loss-nvhe-c1t0v1m1-sme-preempt-explicit-bfs.json"
T_SSVE = CURATED / "v6.1-ssve-no_loss-vhe-c1t2v0m0-sve-sme-preempt-explicit-bfs.json"
T_FPR = CURATED / "v6.1-fpr_set-no_loss-vhe-c1t2v0m0-sve-sme-preempt-explicit-bfs.json"
T_VL_TIF_SME = CURATED / ("v6.1-vl-tif_sme-kernel_asserts-vhe-c1t2v0m0-sve-sme-preempt"
                          "-explicit-bfs.json")
T_SIG_SVL = CURATED / ("v6.1-signal-sme_set_vl-kernel_asserts-nvhe-c1t1v0m0-sme-preempt"
                       "-explicit-bfs.json")


def probe(**extra) -> Probe:
    cfg = {k: v for k, v in SMALL.items() if k != "preemption"}
    cfg.update(extra)
    return Probe("v6.1", **cfg)


# The CPU holds T0's state and T0 holds the FPSIMD context (busy flag, IRQs off), as
# fpsimd_save()'s callers do.
LIVE = dict(cpu0__current="T0", T0__pc="KERNEL", T0__TIF_FOREIGN_FPSTATE="0",
            cpu0__irqs_disabled="1", cpu0__fpsimd_context_busy="1",
            cpu0__fpsimd_last_state__st="T0.uw", cpu0__regs__v="T0", cpu0__regs__zhi="T0",
            cpu0__regs__p="T0", cpu0__regs__fpsr="T0")


# ------------------------------------------------------------------ configuration
def test_v61_models_sme_without_fp_type() -> None:
    names = set(probe().layout.by_name)
    assert {"cpu0.SVCR.SM", "cpu0.SVCR.ZA", "cpu0.ZA", "T0.TIF_SME", "T0.svcr.SM",
            "T0.sme_state.za", "cpu0.fpsimd_context_busy"} <= names
    assert "T0.fp_type" not in names  # v6.1 predates thread.fp_type
    with pytest.raises(ModelError, match="no FPMR"):
        Instance(Config(**SMALL, fpmr=True), get_variant("v6.1"))
    with pytest.raises(ModelError, match="needs --sve"):
        Instance(Config(**{**SMALL, "tasks": 2}, events=("ptrace_fpr_set",)),
                 get_variant("v6.1"))


# ------------------------------------------------------------------ C semantics
def test_v61_streaming_save_records_svcr_za_and_sve_format() -> None:
    """fpsimd_save() with SME: *last->svcr = SVCR, ZA saved if SVCR.ZA, and in streaming
    mode the registers go to sve_state (SVE format) with FPSR through last->st."""
    post, viol = probe().run("fpsimd_save", task="T0", **LIVE, cpu0__SVCR__SM="1",
                             cpu0__SVCR__ZA="1", cpu0__ZA="T0", T0__uw__v="T0~")
    assert not viol
    assert post["T0.svcr.SM"] == "1" and post["T0.svcr.ZA"] == "1"
    assert post["T0.sme_state.za"] == "T0"
    assert [post[f"T0.sve_state.{s}"] for s in ("v", "zhi", "p")] == ["T0"] * 3
    assert post["T0.uw.fpsr"] == "T0" and post["T0.uw.v"] == "T0~"  # V not in uw
    post, viol = probe().run("fpsimd_save", task="T0", **LIVE, T0__uw__v="T0~")
    assert not viol and post["T0.uw.v"] == "T0" and post["T0.sve_state.v"] == "0"


def test_v61_load_chooses_sve_state_by_saved_svcr_sm() -> None:
    """task_fpsimd_load(): restore_sve_regs when TIF_SVE or thread.svcr.SM (no fp_type);
    the SVCR write first enters streaming mode, then the SVE-format load."""
    p = probe()
    base = dict(cpu0__current="T0", T0__pc="KERNEL", T0__TIF_SME="1",
                T0__sve_state__v="T0", T0__sve_state__zhi="T0", T0__sve_state__p="T0",
                T0__uw__fpsr="T0", T0__uw__v="T0~")
    post, viol = p.run("fpsimd_restore_current_state", task="T0", **base, T0__svcr__SM="1")
    assert not viol and post["cpu0.SVCR.SM"] == "1"
    assert [post[f"cpu0.regs.{s}"] for s in ("v", "zhi", "p", "fpsr")] == ["T0"] * 4
    assert post["cpu0.CPACR_EL1.SMEN_EL0EN"] == "1"
    post, viol = p.run("fpsimd_restore_current_state", task="T0", **base)
    assert not viol and post["cpu0.SVCR.SM"] == "0" and post["cpu0.regs.v"] == "T0~"


@pytest.mark.parametrize("tif_sme,sm_after", [("1", "0"), ("0", "1")])
def test_v61_syscall_leaves_streaming_mode_only_with_tif_sme(tif_sme: str,
                                                              sm_after: str) -> None:
    """v6.1 fp_user_discard(): sme_smstop_sm() only if TIF_SME (and SVCR.SM); ZA kept."""
    post, viol = probe().run("el0_svc", task="T0", cpu0__current="T0", T0__pc="USER",
                             T0__TIF_SME=tif_sme, cpu0__SVCR__SM="1", cpu0__SVCR__ZA="1",
                             cpu0__ZA="T0", cpu0__regs__v="T0", T0__TIF_FOREIGN_FPSTATE="0")
    assert not viol
    assert post["cpu0.SVCR.SM"] == sm_after and post["cpu0.SVCR.ZA"] == "1"
    assert post["ghost.T0.sm"] == "0"  # the ABI: PSTATE.SM clear after any syscall


def test_v61_sme_vl_change_clears_the_callers_tif_sme() -> None:
    """v6.1 vec_set_vector_length(task, ARM64_VEC_SME): clear_thread_flag(TIF_SME) clears
    *current's* flag (c9bb40b7f786 later made it the task's): a tracer's ZA write at
    another SVL clears the tracer's TIF_SME and leaves the tracee's."""
    p = probe(tasks=2, sme_vls=(128, 256))
    post, viol = p.run("sme_set_vector_length", 1, 0, task="T0", cpu0__current="T0",
                       T0__pc="KERNEL", T0__TIF_SME="1", T1__TIF_SME="1", T1__svcr__ZA="1",
                       T1__sme_vl="256")
    assert not viol
    assert post["T1.sme_vl"] == "128" and post["T1.svcr.ZA"] == "0"
    assert post["T0.TIF_SME"] == "0" and post["T1.TIF_SME"] == "1"


def test_v61_fpr_set_on_a_streaming_tracee_skips_the_merge() -> None:
    """v6.1 fpr_set(): sve_sync_to_fpsimd() converts for TIF_SVE || SVCR.SM, but
    sve_sync_from_fpsimd_zeropad() merges the new V only with TIF_SVE (69af56ae56a4 added
    the SM test): a streaming tracee without TIF_SVE keeps its old sve_state, which its
    reload (SVCR.SM) loads."""
    p = probe(tasks=2, sve=True)
    post, viol = p.run("fpr_set", 1, task="T0", cpu0__current="T0", T0__pc="KERNEL",
                       T1__svcr__SM="1", T1__sve_state__v="T1~", T1__uw__v="T1~")
    assert not viol
    assert post["T1.uw.v"] == "T1" and post["T1.sve_state.v"] == "T1~"


# ------------------------------------------------------------------ findings
def test_v61_small_holds_and_finds_14() -> None:
    """v6.1 --sme holds every property at the smallest size (one CPU, one task, merged);
    at two CPUs (split) it has #14 (d3eaab3c7090 fixes it in v6.16), 12 steps as on
    v6.10."""
    ok, _ = explore_bfs(Instance(Config(**SMALL), get_variant("v6.1")), list(PROPERTY_NAMES))
    assert ok.complete and not ok.violations
    two_cpus = {**SMALL, "cpus": 2, "preemption": "split"}
    res, _ = explore_bfs(Instance(Config(**two_cpus), get_variant("v6.1")),
                         ["kernel_asserts"], stop_early=True)
    trace = res.violations["kernel_asserts"]
    assert len(trace.steps) == 12 and "TIF_SME already set" in trace.violation


def test_v61_ssve_write_without_tif_sme_breaks_the_syscall_abi() -> None:
    """A tracer's NT_ARM_SSVE write (v6.1: SVCR.SM and TIF_SVE set, TIF_SME not) leaves
    the tracee in streaming mode with EL0 SME trapped; its next syscall does not leave
    streaming mode (fp_user_discard() tests TIF_SME): no_loss, 7 steps, the shortest
    (`explore --variant v6.1 --sme --sve --event ptrace_fpr_set --cpus 1 --tasks 2
    --vcpus 0 --vmm-threads 0 --kconfig preempt --preemption merged --vhe --stop-early`:
    3,357 states; not re-explored here, the model's compile at -O0 takes most of a
    minute).  5d0a8d2fba50 sets TIF_SME; v6.10 has it: the replay there runs all 7 steps
    without the violation."""
    trace = load(str(T_SSVE))
    assert len(trace.steps) == 7 and trace.steps[1].action.startswith("ptrace_ssve_set")
    last = trace.steps[-1].state
    assert last["cpu0.SVCR.SM"] == "1" and last["ghost.T1.sm"] == "0"
    assert last["T1.TIF_SME"] == "0"
    assert not replay(trace, build_instance(trace, "v6.10", {})).reproduces


def test_v61_fpr_set_on_a_streaming_tracee_loses_the_write() -> None:
    """69af56ae56a4 on v6.1, 11 steps (found with counterexamples/probes_v61.py, which
    closes the SSVE finding; the steps are v6.1's and replay there): the tracee enters
    streaming mode by its own SMSTART (TIF_SVE clear), is switched out, and the tracer's
    NT_PRFPREG write goes into uw.fpsimd_state only; the reload takes sve_state (SVCR.SM)
    and the tracee reads its old (zero) V.  v6.10 merges (the SM test) and holds."""
    trace = load(str(T_FPR))
    assert len(trace.steps) == 11 and trace.steps[7].action.startswith("ptrace_fpr_set")
    assert trace.steps[-1].state["T1.svcr.SM"] == "1"
    assert not replay(trace, build_instance(trace, "v6.10", {})).reproduces


@pytest.mark.parametrize("path", [T14, T_SIGRETURN_ZA, T_KVM_SM, T_SSVE, T_SIG_SVL, T_FPR],
                         ids=["14", "sigreturn-za", "kvm-stale-sm", "ssve-no-tif-sme",
                              "handler-svl-change", "fpr-set-streaming"])
def test_curated_v61_sme_traces_reproduce_on_v61_not_v616(path: Path) -> None:
    trace = load(str(path))
    assert trace.config["sme"] and trace.variant == "v6.1"
    assert replay(trace, build_instance(trace, "v6.1", {})).reproduces
    assert not replay(trace, build_instance(trace, "v6.16", {})).reproduces


def test_v61_vl_change_clears_the_tracers_tif_sme_c9bb40b7f786() -> None:
    """c9bb40b7f786 on v6.1, 5 steps, shown on the probe v6.1 + 5d0a8d2fba50 +
    69af56ae56a4 (counterexamples/probes_v61.py; v6.1 itself fails the same steps through
    the NT_ARM_SSVE finding first): T1 writes T0's NT_ARM_SSVE (T0: SVCR.SM, TIF_SME), then
    T0 writes T1's NT_ARM_ZA at another SVL, whose vec_set_vector_length() clears T0's
    own TIF_SME; T0's reload enters streaming mode without sme_set_vq() and a softirq's
    save WARNs on the SVL.  With c9bb40b7f786 (the task's flag) it does not reproduce."""
    probes = load_variant_file(str(CURATED / "probes_v61.py"))
    trace = load(str(T_VL_TIF_SME))
    assert len(trace.steps) == 5 and trace.steps[3].action.startswith("ptrace_za_set_vl")
    assert replay(trace, build_instance(trace, "probe-v6.1-ptrace-fixes", probes)).reproduces
    assert replay(trace, build_instance(trace, "v6.1", probes)).reproduces
    assert not replay(trace, build_instance(trace, "probe-v6.1-ptrace-fixes-vl",
                                            probes)).reproduces
