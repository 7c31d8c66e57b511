"""Several streaming (SME) vector lengths (Config.sme_vls, `--sme-vls`, event sme_set_vl) on
the SME variants (model/variants/v6_sme.py): the option, the state, the C semantics of
sme_set_vq() on reload and in do_sme_acc(), the VL check of fpsimd_save_user_state() in
streaming mode, PR_SME_SET_VL (v6.8-v6.15 vec_set_vector_length(), v6.16
change_live_vector_length()), and the finding: PR_SME_SET_VL on an SVE+SME system loses
the V registers on v6.8-v6.10 like PR_SVE_SET_VL (49ce484187f7), not on v6.16."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.cli import main
from checker.explicit.explore import explore_bfs
from checker.inspect.load import load
from checker.inspect.replay import build_instance, replay
from checker.instance import Instance
from checker.smt.induction import prove
from model.config import Config, kconfig_preset
from model.variants import get_variant
from properties.fp import PROPERTY_NAMES

from .probe import Probe

PREEMPT = kconfig_preset("preempt")
# One CPU, one task, no KVM, SME only (no SVE), two streaming lengths.
SVL = dict(cpus=1, tasks=1, vmm_threads=0, vcpus=0, sme=True, sme_vls=(128, 256),
           events=("sme_set_vl",), **PREEMPT)
CURATED = Path(__file__).resolve().parents[2] / "counterexamples"
TRACE = CURATED / "v6.10-sme_set_vl-no_loss-vhe-c1t1v0m0-sve-sme-preempt-explicit-bfs.json"
WARN = "WARN_ON(sve_get_vl() != vl): SIGKILL, state not saved"
# T0 at EL0 entry (kernel) with its streaming state live on cpu0 at SVL 256
LIVE_SM = {"cpu0.current": "T0", "T0.pc": "KERNEL", "T0.TIF_FOREIGN_FPSTATE": "0",
           "T0.TIF_SME": "1", "cpu0.fpsimd_last_state.st": "T0.uw",
           "T0.fpsimd_cpu": "cpu0", "cpu0.SVCR.SM": "1", "cpu0.SVCR.ZA": "1",
           "cpu0.SMCR_EL1.LEN": "256", "T0.sme_vl": "256", "cpu0.regs.v": "T0",
           "cpu0.regs.fpsr": "T0", "cpu0.regs.zhi": "T0", "cpu0.ZA": "T0",
           "cpu0.softirq_count": "1", "T0.sve_state.v": "T0~", "T0.sme_state.za": "T0~"}


# ------------------------------------------------------------------ the option
@pytest.mark.parametrize("cfg,msg", [
    ({"sme": True, "sme_vls": (128, 384)}, "not a streaming vector length"),
    ({"sme": True, "sme_vls": (128, 4096)}, "not a streaming vector length"),
    ({"sme": True, "sme_vls": (256, 256)}, "given twice"),
    ({"sme": True, "sme_vls": (128, 256, 512, 1024)}, "at most three"),
    ({"sme_vls": (128, 256)}, "needs --sme"),
    ({"events": ("sme_set_vl",)}, "needs --sme"),
    ({"sme": True, "events": ("sme_set_vl",)}, "two or three streaming"),
])
def test_bad_streaming_vector_lengths_are_refused(cfg: dict, msg: str) -> None:
    with pytest.raises(ValueError, match=msg):
        Config(preemption="merged", vcpus=0, vmm_threads=0, **cfg)


def test_sme_vls_is_recorded_and_sve_vls_combine_with_sme(capsys) -> None:  # noqa: ANN001
    cfg = Config(preemption="merged", **SVL)
    assert cfg.to_json()["sme_vls"] == [128, 256] and Config.from_json(cfg.to_json()) == cfg
    assert "sme_vls" not in Config(sme=True).to_json()  # one SVL: traces unchanged
    assert " SVLs=128,256 " in cfg.describe()
    both = Config(sve=True, sve_vls=(128, 384), sme=True, sme_vls=(512, 1024), vcpus=0,
                  vmm_threads=0)  # the two sets need not meet
    assert both.sve_vls == (128, 384) and both.sme_vls == (512, 1024)
    assert main(["explore", "--sme", "--vcpus", "0", "--sme-vls", "128,384"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "384 is not a streaming vector length" in err


def test_one_streaming_length_adds_no_state_and_defaults() -> None:
    one = Probe("v6.10", **{**SVL, "sme_vls": (), "events": ()}).layout
    assert not [v.name for v in one.vars if "sme_vl" in v.name or "SMCR" in v.name]
    S = Probe("v6.10", **{**SVL, "sme_vls": (128, 256, 512)}).layout
    s = S.state_dict(S.initial_state())
    # sme_setup(): the default is 32 bytes clamped down; boot leaves LEN at the smallest
    assert s["T0.sme_vl"] == "256" and s["cpu0.SMCR_EL1.LEN"] == "128"
    S = Probe("v6.10", **{**SVL, "sme_vls": (512, 1024)}).layout
    assert S.state_dict(S.initial_state())["T0.sme_vl"] == "512"  # none below: smallest


# ------------------------------------------------------------------ C semantics
@pytest.mark.parametrize("variant", ["v6.10", "v6.16"])
def test_reload_sets_smcr_from_the_tasks_svl_only_with_tif_sme(variant: str) -> None:
    """task_fpsimd_load(): if TIF_SME, sme_set_vq(task_get_sme_vl(current)'s VQ - 1)."""
    p = Probe(variant, **SVL)
    base = {"cpu0.current": "T0", "T0.sme_vl": "128", "cpu0.SMCR_EL1.LEN": "256",
            "cpu0.softirq_count": "1", "T0.svcr.SM": "1", "T0.fp_type": "SVE"}
    post, viol = p.run("task_fpsimd_load", task="T0", **base, **{"T0.TIF_SME": "1"})
    assert viol == [] and post["cpu0.SMCR_EL1.LEN"] == "128" and post["cpu0.SVCR.SM"] == "1"
    post, _ = p.run("task_fpsimd_load", task="T0", **base)
    assert post["cpu0.SMCR_EL1.LEN"] == "256"


@pytest.mark.parametrize("variant", ["v6.10", "v6.16"])
def test_streaming_save_at_another_svl_warns_and_does_not_save(variant: str) -> None:
    """fpsimd_save_user_state(): SVCR and ZA are saved first; in streaming mode vl =
    last->sme_vl, and WARN_ON(sve_get_vl() != vl) (RDVL reads the SVL) returns before the
    register save."""
    p = Probe(variant, **SVL)
    post, viol = p.run("fpsimd_save_user_state", task="T0",
                       **{**LIVE_SM, "cpu0.SMCR_EL1.LEN": "128"})
    assert any(WARN in v for v in viol)
    assert post["T0.sve_state.v"] == "T0~" and post["T0.sme_state.za"] == "T0"
    post, viol = p.run("fpsimd_save_user_state", task="T0", **LIVE_SM)
    assert viol == [] and post["T0.sve_state.v"] == "T0" and post["T0.fp_type"] == "SVE"
    # not streaming: no streaming VL to compare (SME only: an FPSIMD save)
    post, viol = p.run("fpsimd_save_user_state", task="T0",
                       **{**LIVE_SM, "cpu0.SMCR_EL1.LEN": "128", "cpu0.SVCR.SM": "0"})
    assert viol == [] and post["T0.uw.v"] == "T0"


def test_sme_trap_sets_smcr_before_binding() -> None:
    p = Probe("v6.10", **SVL)
    post, viol = p.run("do_sme_acc_locked", task="T0",
                       **{"cpu0.current": "T0", "T0.pc": "SME_ACC", "T0.sme_vl": "128",
                          "cpu0.SMCR_EL1.LEN": "256", "T0.TIF_FOREIGN_FPSTATE": "0"})
    assert viol == [] and post["cpu0.SMCR_EL1.LEN"] == "128"
    assert post["cpu0.CPACR_EL1.SMEN_EL0EN"] == "1"


# T0 in its prctl() syscall with ZA live on cpu0 (PSTATE.SM cleared at syscall entry)
IN_PRCTL = {"cpu0.current": "T0", "T0.pc": "KERNEL", "T0.syscall_body": "1",
            "T0.TIF_FOREIGN_FPSTATE": "0", "T0.TIF_SME": "1", "T0.svcr.ZA": "1",
            "cpu0.fpsimd_last_state.st": "T0.uw", "T0.fpsimd_cpu": "cpu0",
            "cpu0.SVCR.ZA": "1", "cpu0.SMCR_EL1.LEN": "256", "T0.sme_vl": "256",
            "cpu0.regs.v": "T0", "cpu0.regs.fpsr": "T0", "cpu0.ZA": "T0",
            "cpu0.CPACR_EL1.SMEN_EL0EN": "1", "ghost.T0.za": "1"}


def test_pr_sme_set_vl_v610_discards_the_sme_state() -> None:
    """vec_set_vector_length(current, ARM64_VEC_SME) (v6.8-v6.15): save, flush, svcr.SM/ZA
    and TIF_SME cleared, sme_state freed, the new VL; the task must run with ZA off."""
    p = Probe("v6.10", **SVL)
    post, viol = p.run("sme_set_current_vl", 0, task="T0", inputs=(False,) * 8, **IN_PRCTL)
    assert viol == []
    assert post["T0.sme_vl"] == "128" and post["T0.TIF_FOREIGN_FPSTATE"] == "1"
    assert post["T0.uw.v"] == "T0"  # saved before the change
    assert post["T0.svcr.ZA"] == "0" and post["T0.TIF_SME"] == "0"
    assert post["T0.sme_state.za"] == "0" and post["ghost.T0.za"] == "0"
    assert post["T0.syscall_body"] == "0"
    same, _ = p.run("sme_set_current_vl", 1, task="T0", inputs=(False,) * 8, **IN_PRCTL)
    assert same["T0.TIF_SME"] == "1" and same["T0.TIF_FOREIGN_FPSTATE"] == "0"


def test_pr_sme_set_vl_v616_keeps_tif_sme_and_clears_za() -> None:
    """change_live_vector_length(current, ARM64_VEC_SME) (v6.16): save and flush, new
    zeroed sme_state, svcr.ZA cleared; TIF_SME and svcr.SM kept."""
    p = Probe("v6.16", **SVL)
    post, viol = p.run("sme_set_current_vl", 0, task="T0", inputs=(False,) * 8, **IN_PRCTL)
    assert viol == []
    assert post["T0.sme_vl"] == "128" and post["T0.TIF_FOREIGN_FPSTATE"] == "1"
    assert post["T0.svcr.ZA"] == "0" and post["T0.TIF_SME"] == "1"
    assert post["T0.sme_state.za"] == "0" and post["T0.uw.v"] == "T0"


def test_exec_resets_and_fork_copies_the_svl() -> None:
    p = Probe("v6.10", **{**SVL, "tasks": 2, "events": ("exec", "fork", "sme_set_vl")})
    post, _ = p.run("sys_execve", task="T0", inputs=(False,) * 8,
                    **{"cpu0.current": "T0", "T0.sme_vl": "128"})
    assert post["T0.sme_vl"] == "256"
    post, _ = p.run("_do_fork", 1, task="T0", inputs=(False,) * 8,
                    **{"cpu0.current": "T0", "T0.syscall_body": "1", "T0.sme_vl": "128"})
    assert post["T1.sme_vl"] == "128"


@pytest.mark.parametrize("variant", ["v6.10", "v6.16"])
def test_za_write_at_another_svl_changes_the_tracees_vl_first(variant: str) -> None:
    """za_set(): vec_set_vector_length(target, ARM64_VEC_SME, header.vl) before the write:
    the stopped tracee's binding is flushed, its VL changed, then ZA written at it."""
    p = Probe(variant, **{**SVL, "tasks": 2, "events": ("ptrace_fpr_set", "sme_set_vl")})
    post, viol = p.run("za_set_at_vl", 0, 0, task="T1", inputs=(False,) * 8,
                       **{"cpu0.current": "T1", "T0.sme_vl": "256", "T0.TIF_SME": "1",
                          "T0.svcr.ZA": "1", "T0.fpsimd_cpu": "cpu0",
                          "cpu0.fpsimd_last_state.st": "T0.uw"})
    assert viol == []
    assert post["T0.sme_vl"] == "128" and post["T0.fpsimd_cpu"] == "NR_CPUS"
    assert post["T0.svcr.ZA"] == "1" and post["T0.TIF_SME"] == "1"
    assert post["T0.sme_state.za"] == "T0" and post["ghost.T0.za"] == "1"


# ------------------------------------------------------------------ exploration
@pytest.mark.parametrize("variant", ["v6.10", "v6.16"])
def test_svl_changes_hold_on_an_sme_only_system(variant: str) -> None:
    inst = Instance(Config(preemption="merged", **SVL), get_variant(variant))
    res, _ = explore_bfs(inst, ["no_loss", "no_leak", "kernel_asserts"])
    assert res.complete and not res.violations


def _svl_mutants():
    from model.ctx import Ctx

    def sme_set_vq(k: Ctx, vl) -> None:  # noqa: ANN001
        """SMCR_EL1 never written: every task runs at the boot SVL."""

    base = get_variant("v6.10")
    return [base.derive("no-sme-set-vq", "test", sme_set_vq=sme_set_vq)]


@pytest.mark.parametrize("bad", _svl_mutants(), ids=lambda v: v.name)
def test_a_missing_sme_set_vq_is_caught(bad) -> None:  # noqa: ANN001
    """Without sme_set_vq() a task runs at the boot SVL after a change of its own: no_loss
    (the task reads SMCR_EL1.LEN at EL0 with SME enabled), and its streaming save meets
    the VL check."""
    cfg = Config(preemption="merged", **SVL)
    res, _ = explore_bfs(Instance(cfg, bad), ["no_loss", "kernel_asserts"])
    assert "no_loss" in res.violations
    sites = [s for s in res.assertion_sites if WARN in s]
    assert sites, res.assertion_sites


# ------------------------------------------------------------------ the finding
def test_pr_sme_set_vl_resurrects_stale_v_on_v610_not_on_v616() -> None:
    """The curated trace: an SVE+SME task with TIF_SVE in prctl(PR_SME_SET_VL):
    fpsimd_save_user_state() saves FPSIMD only (in_syscall()), then
    test_and_clear_tsk_thread_flag(TIF_SVE) makes sve_to_fpsimd() copy the stale
    sve_state over it (49ce484187f7's bug, through the SME call of the same function)."""
    trace = load(str(TRACE))
    assert any(s.action == "sme_set_vl" for s in trace.steps)
    for good in ("v6.10", "v6.9"):
        assert replay(trace, build_instance(trace, good, {})).reproduces, good
    assert not replay(trace, build_instance(trace, "v6.16", {})).reproduces


# ------------------------------------------------------------------ prove
def test_v616_with_several_streaming_lengths_proves() -> None:
    """v6.16 --sme --sme-vls 128,256 (one CPU, one task, split preemption) is PROVED with
    the lemma sme_bound_state_at_its_svl (the task's default SVL differs from the boot
    SMCR_EL1.LEN, so every reload and SME trap must write it).  With event sme_set_vl it
    needs vl_change_in_progress too (a task preempted inside its own VL change), and takes
    minutes: tests/model/test_v6_vl_prove.py and the README give the figures."""
    cfg = Config(**{**SVL, "events": (), "preemption": "split"})
    proof = prove(Instance(cfg, get_variant("v6.16")), list(PROPERTY_NAMES))
    bad = [(o.name, o.initiation, o.consecution) for o in proof.obligations if not o.ok]
    assert proof.verdict == "PROVED", bad
