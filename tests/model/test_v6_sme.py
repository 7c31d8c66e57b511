"""SME (Config.sme, `--sme`) on v6.10 and v6.16 (model/variants/v6_sme.py): the state, the
C semantics of the SME paths, the refusals, and the two fixes it finds: #21 (01098d893fa8,
SMSTOP after loading the kernel-mode state) and #14 (d3eaab3c7090, do_sme_acc's stale
binding), both on v6.10 and absent from v6.16."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.explicit.explore import explore_bfs
from checker.inspect.load import load
from checker.inspect.replay import build_instance, replay
from checker.instance import Instance
from model.config import Config, kconfig_preset
from model.dsl import ModelError
from model.variants import get_variant
from properties.fp import PROPERTY_NAMES

from .probe import Probe

PREEMPT = kconfig_preset("preempt")
# One CPU, one task, no KVM: SME alone (the M4 configuration), merged steps.
SMALL = dict(cpus=1, tasks=1, vmm_threads=0, vcpus=0, sme=True, preemption="merged",
             **PREEMPT)
CURATED = Path(__file__).resolve().parents[2] / "counterexamples"
T21 = CURATED / "v6.10-no_loss-nvhe-c1t2v0m0-sme-preempt-explicit-bfs.json"
T14 = CURATED / "v6.10-kernel_asserts-nvhe-c2t1v0m0-sme-preempt-explicit-bfs.json"


def probe(variant: str = "v6.10", **extra) -> Probe:
    cfg = {k: v for k, v in SMALL.items() if k != "preemption"}
    cfg.update(extra)
    return Probe(variant, **cfg)


# ------------------------------------------------------------------ configuration
def test_sme_is_recorded() -> None:
    cfg = Config(**SMALL)
    assert cfg.to_json()["sme"] is True and Config.from_json(cfg.to_json()) == cfg
    assert "sme" not in Config().to_json()  # traces without SME are unchanged
    assert " SME " in cfg.describe()
    # several vector lengths with SME: tests/model/test_v6_sme_vls.py


@pytest.mark.parametrize("variant,why", [
    ("v6.12", "depends on BROKEN"), ("v6.13", "depends on BROKEN"),
    ("v6.14", "depends on BROKEN"),
    ("v4.18", "not modelled"), ("seed", "not modelled")])
def test_sme_is_refused_where_not_reachable_or_not_read(variant: str, why: str) -> None:
    with pytest.raises(ModelError, match=why):
        Instance(Config(**SMALL), get_variant(variant))


def test_sme_state_exists_only_with_sme() -> None:
    names = set(probe().layout.by_name)
    assert {"cpu0.SVCR.SM", "cpu0.SVCR.ZA", "cpu0.ZA", "cpu0.CPACR_EL1.SMEN_EL0EN",
            "T0.TIF_SME", "T0.svcr.SM", "T0.svcr.ZA", "T0.sme_state.za", "T0.fp_type",
            "cpu0.regs.zhi", "cpu0.regs.p", "T0.sve_state.zhi"} <= names
    assert "SME_ACC" in probe().layout.PC.labels
    plain = Probe("v6.10", cpus=1, tasks=1, vmm_threads=0, vcpus=0)
    assert not [n for n in plain.layout.by_name if "SVCR" in n or "SME" in n or "ZA" in n]
    assert "SME_ACC" not in plain.layout.PC.labels


# ------------------------------------------------------------------ C semantics
def test_smstop_in_flush_zeroes_the_registers_when_it_leaves_streaming_mode() -> None:
    """fpsimd_flush_cpu_state() (v6.x) does sme_smstop(): leaving streaming mode zeroes Z,
    P/FFR and FPSR and disables ZA; in non-streaming mode it changes no register."""
    p = probe()
    live = dict(cpu0__current="T0", T0__pc="KERNEL", cpu0__regs__v="T0",
                cpu0__regs__fpsr="T0", cpu0__regs__zhi="T0", cpu0__regs__p="T0",
                cpu0__ZA="T0", cpu0__SVCR__ZA="1")
    post, viol = p.run("fpsimd_flush_cpu_state", task="T0", **live, cpu0__SVCR__SM="1")
    assert not viol
    assert [post[f"cpu0.regs.{s}"] for s in ("v", "fpsr", "zhi", "p")] == ["0"] * 4
    assert post["cpu0.SVCR.SM"] == "0" and post["cpu0.SVCR.ZA"] == "0"
    assert post["cpu0.ZA"] == "T0"  # ZA disabled, not zeroed
    assert post["cpu0.fpsimd_last_state.st"] == "NULL" and post["T0.TIF_FOREIGN_FPSTATE"] == "1"
    post, _ = p.run("fpsimd_flush_cpu_state", task="T0", **live)
    assert post["cpu0.regs.v"] == "T0" and post["cpu0.SVCR.ZA"] == "0"


@pytest.mark.parametrize("variant", ["v6.10", "v6.16"])
def test_streaming_save_stores_svcr_za_and_the_sve_format(variant: str) -> None:
    """fpsimd_save_user_state() with SME: *last->svcr = SVCR; ZA saved into sme_state if
    SVCR.ZA; in streaming mode the registers are saved in SVE format (Z, P into sve_state,
    FPSR through last->st) and fp_type is FP_STATE_SVE."""
    p = probe(variant)
    post, viol = p.run("fpsimd_save_user_state", task="T0", cpu0__current="T0",
                       T0__pc="KERNEL", T0__TIF_FOREIGN_FPSTATE="0", cpu0__irqs_disabled="1",
                       cpu0__fpsimd_last_state__st="T0.uw", cpu0__SVCR__SM="1",
                       cpu0__SVCR__ZA="1", cpu0__ZA="T0", cpu0__regs__v="T0",
                       cpu0__regs__zhi="T0", cpu0__regs__p="T0", cpu0__regs__fpsr="T0")
    assert not viol
    assert post["T0.svcr.SM"] == "1" and post["T0.svcr.ZA"] == "1"
    assert post["T0.sme_state.za"] == "T0" and post["T0.fp_type"] == "SVE"
    assert [post[f"T0.sve_state.{s}"] for s in ("v", "zhi", "p")] == ["T0"] * 3
    assert post["T0.uw.fpsr"] == "T0"


@pytest.mark.parametrize("variant", ["v6.10", "v6.16"])
def test_load_writes_svcr_then_za_then_the_streaming_registers(variant: str) -> None:
    """task_fpsimd_load() with SME: write SVCR from thread.svcr (entering streaming mode
    zeroes the registers first), load ZA from sme_state, then the SVE-format registers;
    TIF_SVE is left alone for a streaming state; the bind enables EL0 SME per TIF_SME."""
    p = probe(variant)
    post, viol = p.run("fpsimd_restore_current_state", task="T0", cpu0__current="T0",
                       T0__pc="KERNEL", T0__TIF_SME="1", T0__svcr__SM="1", T0__svcr__ZA="1",
                       T0__fp_type="SVE", T0__sme_state__za="T0", T0__sve_state__v="T0",
                       T0__sve_state__zhi="T0", T0__sve_state__p="T0", T0__uw__fpsr="T0",
                       cpu0__regs__v="kneon")
    assert not viol
    assert post["cpu0.SVCR.SM"] == "1" and post["cpu0.SVCR.ZA"] == "1"
    assert post["cpu0.ZA"] == "T0"
    assert [post[f"cpu0.regs.{s}"] for s in ("v", "zhi", "p", "fpsr")] == ["T0"] * 4
    assert post["cpu0.CPACR_EL1.SMEN_EL0EN"] == "1"
    assert post["T0.TIF_FOREIGN_FPSTATE"] == "0"


def test_v610_syscall_entry_leaves_streaming_mode_and_keeps_za() -> None:
    """v6.10 fp_user_discard(): sme_smstop_sm(): PSTATE.SM cleared with its zeroing, ZA
    kept; the ABI ghost makes the task expect the zeroes (not a loss)."""
    p = probe()
    post, viol = p.run("el0_svc", task="T0", cpu0__current="T0", T0__pc="USER",
                       cpu0__SVCR__SM="1", cpu0__SVCR__ZA="1", cpu0__ZA="T0",
                       cpu0__regs__v="T0", cpu0__regs__fpsr="T0", T0__TIF_FOREIGN_FPSTATE="0")
    assert not viol
    assert post["cpu0.SVCR.SM"] == "0" and post["cpu0.SVCR.ZA"] == "1"
    assert post["cpu0.ZA"] == "T0" and post["cpu0.regs.v"] == "0"
    assert post["ghost.T0.exec_zero"] == "1" and post["ghost.T0.sm"] == "0"


def test_user_smstart_is_the_tasks_own_write() -> None:
    """SMSTART by the task: its registers become zero, which it must then read (ghost
    expect_zero), and SMSTART ZA zeroes ZA, which it must read as zero."""
    p = probe()
    post, _ = p.run("user_svcr_write", 1, 1, task="T0", cpu0__current="T0", T0__pc="USER",
                    cpu0__regs__v="T0", cpu0__regs__fpsr="T0", cpu0__ZA="T0",
                    cpu0__CPACR_EL1__SMEN_EL0EN="1", ghost__T0__za_written="1")
    assert post["cpu0.regs.v"] == "0" and post["cpu0.ZA"] == "0"
    assert post["ghost.T0.exec_zero"] == "1" and post["ghost.T0.za_written"] == "0"
    assert post["ghost.T0.sm"] == "1" and post["ghost.T0.za"] == "1"


def test_kernel_neon_in_streaming_mode_is_a_bug() -> None:
    """Advanced SIMD at EL1 in streaming mode (no FA64) is illegal: kernel_fp_write checks
    PSTATE.SM."""
    p = probe()
    _, viol = p.run("kernel_fp_write", task="T0", cpu0__current="T0", T0__pc="KERNEL",
                    cpu0__SVCR__SM="1")
    assert any("streaming mode" in v for v in viol)


@pytest.mark.parametrize("variant,flushed", [("v6.10", False), ("v6.16", True)])
def test_sme_trap_in_memory_case(variant: str, flushed: bool) -> None:
    """do_sme_acc() with the state foreign: v6.10 only sets TIF_SME; v6.16 also
    fpsimd_flush_task_state(current) (#14's fix)."""
    p = probe(variant, cpus=2)
    post, viol = p.run("do_sme_acc_locked", cpu=1, task="T0", cpu1__current="T0",
                       T0__pc="SME_ACC", T0__TIF_FOREIGN_FPSTATE="1", T0__fpsimd_cpu="cpu0",
                       cpu0__fpsimd_last_state__st="T0.uw")
    assert not viol and post["T0.TIF_SME"] == "1"
    assert post["T0.fpsimd_cpu"] == ("NR_CPUS" if flushed else "cpu0")


# ------------------------------------------------------------------ findings
def test_v610_has_21_and_14_and_v616_holds() -> None:
    """explore finds #21 on v6.10 (no_loss, 11 steps, one CPU, two tasks) and #14 on v6.10
    (kernel_asserts, 12 steps, two CPUs, one task); v6.16 holds every property at the
    small size (merged; the split two-task sizes are in the README)."""
    two_tasks = {**SMALL, "tasks": 2}
    res, _ = explore_bfs(Instance(Config(**two_tasks), get_variant("v6.10")), ["no_loss"],
                         stop_early=True)
    trace = res.violations["no_loss"]
    assert len(trace.steps) == 11 and trace.steps[-1].action == "syscall_kernel_neon_end"
    assert trace.steps[-1].state["ghost.kernel_neon_readback_lost"] == "1"
    two_cpus = {**SMALL, "cpus": 2, "preemption": "split"}
    res, _ = explore_bfs(Instance(Config(**two_cpus), get_variant("v6.10")),
                         ["kernel_asserts"], stop_early=True)
    trace = res.violations["kernel_asserts"]
    assert len(trace.steps) == 12 and "TIF_SME already set" in trace.violation
    ok, _ = explore_bfs(Instance(Config(**SMALL), get_variant("v6.16")), list(PROPERTY_NAMES))
    assert ok.complete and not ok.violations


@pytest.mark.parametrize("path", [T21, T14], ids=["21", "14"])
def test_curated_traces_reproduce_on_v610_only(path: Path) -> None:
    trace = load(str(path))
    assert trace.config["sme"] and not trace.config["sve"]
    assert replay(trace, build_instance(trace, "v6.10", {})).reproduces
    assert not replay(trace, build_instance(trace, "v6.16", {})).reproduces
