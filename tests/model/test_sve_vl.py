"""Per-task SVE vector lengths and prctl(PR_SVE_SET_VL) (event ``sve_set_vl``,
``--sve-vls``): thread.sve_vl, ZCR_EL1.LEN, sve_set_vector_length (model/kernel/fpsimd.py)
against the C of v4.17/v4.18, and the checker's handling of the option."""

from __future__ import annotations

import pytest

from checker.cli import main
from checker.explicit.explore import explore_bfs
from checker.instance import PROPERTY_NAMES, Instance
from model.config import Config
from model.variants import get_variant
from tests.model.probe import Probe

VL = {"sve": True, "vhe": True, "vcpus": 0, "vmm_threads": 0, "sve_vls": (128, 256),
      "events": ("sve_set_vl",)}
# T0 in its prctl() syscall with its SVE state live on cpu0 at VL 256
LIVE_SVE = {"cpu0.current": "T0", "T0.pc": "KERNEL", "T0.syscall_body": "1",
            "T0.TIF_FOREIGN_FPSTATE": "0", "T0.TIF_SVE": "1",
            "cpu0.fpsimd_last_state.st": "T0.uw", "T0.fpsimd_cpu": "cpu0",
            "cpu0.ZCR_EL1.LEN": "256", "T0.sve_vl": "256",
            "cpu0.regs.v": "T0", "cpu0.regs.fpsr": "T0", "cpu0.regs.zhi": "T0",
            "T0.uw.v": "T0~", "T0.sve_state.v": "T0~"}


@pytest.mark.parametrize("cfg,msg", [
    ({"sve": True, "sve_vls": (100, 256)}, "not an SVE vector length"),
    ({"sve": True, "sve_vls": (128, 4096)}, "not an SVE vector length"),
    ({"sve": True, "sve_vls": (256, 256)}, "given twice"),
    ({"sve": True, "sve_vls": (128, 256, 512, 1024)}, "at most three"),
    ({"sve_vls": (128, 256)}, "needs --sve"),
    ({"events": ("sve_set_vl",)}, "needs --sve"),
    ({"sve": True, "events": ("sve_set_vl",)}, "two or three vector lengths"),
])
def test_bad_vector_lengths_are_refused(cfg: dict, msg: str) -> None:
    with pytest.raises(ValueError, match=msg):
        Config(preemption="merged", vcpus=0, vmm_threads=0, **cfg)


def test_cli_bad_vector_length_is_one_line_exit_2(capsys) -> None:
    assert main(["explore", "--sve", "--vcpus", "0", "--sve-vls", "128,300"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "300 is not an SVE vector length" in err
    assert main(["explore", "--vcpus", "0", "--event", "sve_set_vl"]) == 2


def test_one_vector_length_adds_no_state() -> None:
    """Without --sve-vls (or with one VL) nothing about VLs is modelled."""
    one = Instance(Config(preemption="merged",
                          sve=True, vhe=True, vcpus=0, vmm_threads=0), get_variant("v4.18"))
    also = Instance(Config(preemption="merged",
                           sve=True, vhe=True, vcpus=0, vmm_threads=0, sve_vls=(256,)),
                    get_variant("v4.18"))
    names = [v.name for v in one.layout.vars]
    assert names == [v.name for v in also.layout.vars]
    assert not any("sve_vl" in n or "ZCR" in n for n in names)


def test_defaults_sve_default_vl_and_boot_zcr() -> None:
    """sve_default_vl (512 bits) clamped to the largest supported VL not above it; boot
    leaves ZCR_EL1.LEN at the smallest (sve_probe_vqs() ends at VQ 1)."""
    s = Probe("v4.18", **{**VL, "sve_vls": (256, 512, 1024)}).layout.state_dict(
        Probe("v4.18", **{**VL, "sve_vls": (256, 512, 1024)}).layout.initial_state())
    assert s["T0.sve_vl"] == "512" and s["cpu0.ZCR_EL1.LEN"] == "256"


@pytest.mark.parametrize("variant", ["v4.17", "v4.18"])
def test_sve_load_writes_zcr_from_the_tasks_vl(variant: str) -> None:
    """task_fpsimd_load(): sve_load_state(..., sve_vq_from_vl(current->thread.sve_vl) - 1)
    writes ZCR_EL1.LEN before loading."""
    p = Probe(variant, **VL)
    post, viol = p.run("task_fpsimd_load", task="T0",
                       **{"cpu0.current": "T0", "T0.TIF_SVE": "1", "T0.sve_vl": "128",
                          "cpu0.ZCR_EL1.LEN": "256", "cpu0.softirq_count": "1",
                          "T0.sve_state.v": "T0"})
    assert viol == []
    assert post["cpu0.ZCR_EL1.LEN"] == "128" and post["cpu0.regs.v"] == "T0"


@pytest.mark.parametrize("variant,fn", [("v4.17", "task_fpsimd_save"),
                                        ("v4.18", "fpsimd_save")])
def test_save_at_another_vl_warns_and_does_not_save(variant: str, fn: str) -> None:
    """WARN_ON(sve_get_vl() != current->thread.sve_vl): SIGKILL, return without saving."""
    p = Probe(variant, **VL)
    state = {**LIVE_SVE, "cpu0.ZCR_EL1.LEN": "128", "cpu0.softirq_count": "1"}
    post, viol = p.run(fn, task="T0", **state)
    assert any("sve_get_vl() != current->thread.sve_vl" in v for v in viol)
    assert post["T0.sve_state.v"] == "T0~"
    post, viol = p.run(fn, task="T0", **{**state, "cpu0.ZCR_EL1.LEN": "256"})
    assert viol == [] and post["T0.sve_state.v"] == "T0"


@pytest.mark.parametrize("variant", ["v4.17", "v4.18"])
def test_set_vl_saves_converts_flushes_and_frees(variant: str) -> None:
    """sve_set_vector_length(current, vl): bh off, save, TIF_FOREIGN_FPSTATE; flush;
    TIF_SVE cleared and sve_to_fpsimd(); sve_free(); the new VL."""
    p = Probe(variant, **VL)
    post, viol = p.run("sve_set_current_vl", 0, task="T0", inputs=(False,) * 8, **LIVE_SVE)
    assert viol == []
    assert post["T0.sve_vl"] == "128"
    assert post["T0.TIF_FOREIGN_FPSTATE"] == "1" and post["T0.fpsimd_cpu"] == "NR_CPUS"
    assert post["T0.TIF_SVE"] == "0"
    assert post["T0.uw.v"] == "T0"  # saved into sve_state, then converted to uw
    assert {post[f"T0.sve_state.{s}"] for s in ("v", "zhi", "p")} == {"0"}  # freed
    assert post["cpu0.softirq_count"] == "0" and post["T0.syscall_body"] == "0"
    same, viol = p.run("sve_set_current_vl", 1, task="T0", inputs=(False,) * 8, **LIVE_SVE)
    assert viol == [] and same["T0.TIF_SVE"] == "1" and same["T0.TIF_FOREIGN_FPSTATE"] == "0"


def test_exec_resets_and_fork_copies_the_vl() -> None:
    p = Probe("v4.18", **{**VL, "tasks": 2, "events": ("exec", "fork", "sve_set_vl")})
    post, _ = p.run("sys_execve", task="T0", inputs=(False,) * 8,
                    **{"cpu0.current": "T0", "T0.sve_vl": "128"})
    assert post["T0.sve_vl"] == "256"  # sve_default_vl clamped to 256
    post, _ = p.run("_do_fork", 1, task="T0", inputs=(False,) * 8,
                    **{"cpu0.current": "T0", "T0.syscall_body": "1", "T0.sve_vl": "128"})
    assert post["T1.sve_vl"] == "128"


@pytest.mark.parametrize("variant", ["v4.17", "v4.18"])
def test_vl_changes_hold_and_reach_their_situations(variant: str) -> None:
    inst = Instance(Config.with_kconfig("preempt", preemption="merged", cpus=1, tasks=1, **VL),
                    get_variant(variant))
    res, _ = explore_bfs(inst, list(PROPERTY_NAMES))
    assert res.complete and not res.violations
    for g in ("sve_set_vl_with_state_live", "sve_load_at_other_vl"):
        assert res.guards_reached[g] is not None, g


def _vl_mutants():
    from model.ctx import Ctx
    from model.dsl import Var
    from model.kernel import fpsimd

    def sve_load_state(k: Ctx, sve_state, fpsr_src, vl=None) -> None:  # noqa: ANN001
        fpsimd.sve_load_state(k, sve_state, fpsr_src, None)  # ZCR_EL1 not written

    def sve_set_vector_length(k: Ctx, t: int, vl: int) -> None:
        """The C without the save of current's live registers."""
        task = k.task(t)
        assert isinstance(task.sve_vl, Var)
        with k.If(task.sve_vl.ne(vl)):
            k.local_bh_disable()
            k.set_thread_flag("TIF_FOREIGN_FPSTATE")
            k.fpsimd_flush_task_state(t)
            with k.If(k.test_tsk_thread_flag(t, "TIF_SVE")):
                k.update_tsk_thread_flag(t, "TIF_SVE", False)
                k.sve_to_fpsimd(t)
            k.local_bh_enable()
            k.sve_free(t)
            k.set(task.sve_vl, vl)

    base = get_variant("v4.18")
    return [base.derive("no-zcr-write", "test", sve_load_state=sve_load_state),
            base.derive("set-vl-no-save", "test", sve_set_vector_length=sve_set_vector_length)]


@pytest.mark.parametrize("bad", _vl_mutants(), ids=lambda v: v.name)
def test_a_load_without_zcr_write_or_a_set_without_save_is_caught(bad) -> None:  # noqa: ANN001
    """A load that does not write ZCR_EL1 runs the task at the boot VL; a VL change that
    does not save the live registers first reloads older values from memory.  (Dropping
    sve_set_vector_length()'s fpsimd_flush_task_state() instead is not caught with one
    task: for task == current nothing changes the memory copy, so stale registers on
    the old CPU still hold the latest values; only the conversion after a tracer's
    NT_ARM_SVE write could make them stale, a configuration too large for this test.)"""
    inst = Instance(Config.with_kconfig("preempt", preemption="merged", cpus=1, tasks=1, **VL), bad)
    res, _ = explore_bfs(inst, ["no_loss"], stop_early=True)
    assert "no_loss" in res.violations
    if bad.name == "set-vl-no-save":
        assert any(s.action == "sve_set_vl" for s in res.violations["no_loss"].steps)


def _zcr_writers(body, stack: list[str], zcr: set[int], out: set[str]) -> None:  # noqa: ANN001
    """The modelled functions (innermost) whose statements assign ZCR_EL1.LEN."""
    from model.dsl import Assign, If, Mark

    for st in body:
        if isinstance(st, Mark):
            if st.enter:
                stack.append(st.function)
            else:
                stack.pop()
        elif isinstance(st, If):
            _zcr_writers(st.then, stack, zcr, out)
            _zcr_writers(st.els, stack, zcr, out)
        elif isinstance(st, Assign) and st.var.index in zcr:
            out.add(stack[-1])


def test_only_sve_load_state_writes_zcr() -> None:
    """ZCR_EL1.LEN is written by sve_load_state() and nothing else: no KVM or hyp step
    (v4.17/v4.18 hyp never accesses ZCR_ELx), so a guest run leaves the host's VL."""
    for variant in ("v4.17", "v4.18"):
        inst = Instance(Config(preemption="merged",
                               cpus=1, tasks=0, **{**VL, "vcpus": 1, "vmm_threads": 1}),
                        get_variant(variant))
        zcr = {c.zcr.index for c in inst.layout.cpu}
        writers: set[str] = set()
        for a in inst.actions:
            _zcr_writers(a.traced_body, [], zcr, writers)
        assert writers == {"sve_load_state"}, (variant, writers)
        assert any(a.name == "enter_guest" for a in inst.actions)


def test_event_all_includes_sve_set_vl_only_where_it_can_be() -> None:
    import argparse

    from checker.cli_common import events_from_args

    def ev(**kw) -> tuple[str, ...]:  # noqa: ANN003
        return events_from_args(argparse.Namespace(event=["all"], **kw))

    assert "sve_set_vl" not in ev(sve=False, sve_vls="")
    assert "sve_set_vl" not in ev(sve=True, sve_vls="")
    assert "sve_set_vl" in ev(sve=True, sve_vls="128,256") and "fork" in ev(sve=False)
