"""Preemption inside a step: steps split at their preemption points (model/interleave.py,
"Preemption"; model.steps.split_plan, Ctx's split and resume building)."""

from __future__ import annotations

import pytest

from checker.explicit.explore import explore_bfs
from checker.instance import PROPERTY_NAMES, Instance
from checker.interp import run_action
from model.config import Config, kconfig_preset
from model.dsl import Assign, Mark, walk_stmts
from model.variants import get_variant, load_variant_file

PREEMPT = {**kconfig_preset("preempt"), "preemption": "split"}


def _action(inst: Instance, label: str):
    return next(a for a in inst.actions if a.label == label)


def _state(inst: Instance, **values: str) -> tuple[int, ...]:
    S = inst.layout
    state = list(S.initial_state())
    for name, label in values.items():
        var = S.by_name[name]
        state[var.index] = var.dom.index(label)
    return tuple(state)


def _inputs(action, choose: dict[str, bool]) -> tuple[bool, ...]:
    return tuple(next((v for k, v in choose.items() if name.startswith(k)), False)
                 for name in action.inputs)


def test_the_seeds_split_points() -> None:
    """With CONFIG_PREEMPT the seed's steps are preemptible in ret_to_user (before
    fpsimd_restore_current_state's local_bh_disable) and in the task-context NEON user
    (before and after kernel_neon_begin's BUG_ON); each gets a resume step per CPU."""
    inst = Instance(Config(cpus=2, **PREEMPT), get_variant("seed"))
    assert inst.layout.extra_pcs == ("ret_to_user@1", "syscall_kernel_neon@1",
                                     "syscall_kernel_neon@2")
    resumes = sorted(a.label for a in inst.actions if "@" in a.name and a.param("task") == 0)
    assert resumes == [f"{s} resumed(cpu{c}, T0)" for s in
                       ("ret_to_user@1", "syscall_kernel_neon@1", "syscall_kernel_neon@2")
                       for c in (0, 1)]


@pytest.mark.parametrize("kconfig", ["distro", "server"])
def test_no_split_without_config_preempt(kconfig: str) -> None:
    """PREEMPT_VOLUNTARY / NONE: a task schedules only at its explicit scheduling points
    (program points between steps), so nothing is split."""
    inst = Instance(Config(cpus=1, **kconfig_preset(kconfig)), get_variant("seed"))
    assert inst.layout.extra_pcs == () and not any("@" in a.name for a in inst.actions)


def test_merged_mode_splits_nothing() -> None:
    inst = Instance(Config(cpus=1, **{**PREEMPT, "preemption": "merged"}),
                    get_variant("seed"))
    assert inst.layout.extra_pcs == ()
    assert any(a.preempt_windows for a in inst.actions)  # still detected


def test_preempted_ret_to_user_stops_and_resumes_on_another_cpu() -> None:
    """ret_to_user preempted before fpsimd_restore_current_state(): the task waits at
    ret_to_user@1 with nothing of the rest done; the resume step on CPU 1 runs the rest
    there (test TIF_FOREIGN_FPSTATE under local_bh_disable, load, bind to CPU 1)."""
    inst = Instance(Config(cpus=2, **PREEMPT), get_variant("v4.18"))
    main = _action(inst, "ret_to_user(cpu0, T0)")
    pre = _state(inst, **{"cpu0.current": "T0", "T0.pc": "KERNEL",
                          "T0.TIF_FOREIGN_FPSTATE": "1"})
    post, viol, _ = run_action(main, pre, _inputs(main, {"preempted": True}))
    S = inst.layout
    assert not viol
    after = S.state_dict(post)
    assert after["T0.pc"] == "ret_to_user@1"
    assert after["T0.TIF_FOREIGN_FPSTATE"] == "1" and after["cpu0.softirq_count"] == "0"
    assert after["cpu0.irqs_disabled"] == "0"
    # the task moves to CPU 1 (the schedule steps are not needed for the resume's effect)
    moved = _state(inst, **{**{k: v for k, v in after.items() if k in S.by_name},
                            "cpu0.current": "idle0", "cpu1.current": "T0"})
    resume = _action(inst, "ret_to_user@1 resumed(cpu1, T0)")
    post2, viol2, called = run_action(resume, moved, _inputs(resume, {}))
    done = S.state_dict(post2)
    # the call stack it resumes in, then local_bh_disable()
    assert not viol2
    assert called[:3] == ["ret_to_user", "fpsimd_restore_current_state", "local_bh_disable"]
    assert done["T0.pc"] == "KERNEL" and done["T0.TIF_FOREIGN_FPSTATE"] == "0"
    assert done["cpu1.fpsimd_last_state.st"] == "T0.uw" and done["T0.fpsimd_cpu"] == "cpu1"
    # nothing of the part before the split is in the resume step: it first puts the task
    # back at its program point, then local_bh_disable() (not ret_to_user's
    # local_irq_disable())
    writes = [st.var.name for st in walk_stmts(resume.body) if isinstance(st, Assign)]
    assert writes[:2] == ["T0.pc", "cpu1.softirq_count"]
    assert not any(isinstance(st, Mark) for st in resume.body)


def test_not_preempted_path_is_the_whole_step() -> None:
    inst = Instance(Config(cpus=1, **PREEMPT), get_variant("v4.18"))
    main = _action(inst, "ret_to_user(cpu0, T0)")
    pre = _state(inst, **{"cpu0.current": "T0", "T0.pc": "KERNEL",
                          "T0.TIF_FOREIGN_FPSTATE": "1"})
    post, viol, _ = run_action(main, pre, _inputs(main, {}))
    after = inst.layout.state_dict(post)
    assert not viol and after["T0.pc"] == "KERNEL" and after["T0.TIF_FOREIGN_FPSTATE"] == "0"


def _mutants() -> dict:
    return load_variant_file("counterexamples/mutants.py")


def test_locals_live_across_a_split_are_carried() -> None:
    """mutant-neon-begin-early-bh runs fpsimd_save() preemptible: its `st` (this CPU's
    fpsimd_last_state.st, read before a preemption point) is kept in state while the task
    waits, as the C local keeps the value read on the CPU the task left."""
    inst = Instance(Config(cpus=2, tasks=2, vmm_threads=0, vcpus=0, **PREEMPT),
                    _mutants()["mutant-neon-begin-early-bh"])
    carried = [v.name for v in inst.layout.carried_vars.values()]
    assert carried and all(".syscall_kernel_neon@" in n and ".st@" in n for n in carried)


def test_preemption_inside_kernel_neon_begin_is_found() -> None:
    """Issue 7 item 7: a kernel_neon_begin() that re-enables bottom halves before saving
    (mutant-neon-begin-early-bh) is preemptible up to its preempt_disable().  Merged,
    the model finds only fpsimd_save()'s WARN; split, it finds what the missing
    protection does: the task, preempted inside kernel_neon_begin(), resumes after
    another task reloaded its registers and writes its NEON data over them without
    saving them (that task reads kernel NEON data at EL0)."""
    small = dict(cpus=1, tasks=2, vmm_threads=0, vcpus=0, **PREEMPT)
    mutant = _mutants()["mutant-neon-begin-early-bh"]
    res, _ = explore_bfs(Instance(Config(**small), mutant), ["no_loss"], stop_early=True)
    trace = res.violations["no_loss"]
    assert len(trace) == 8
    assert any(s.label.startswith("syscall_kernel_neon@") for s in trace.steps)
    merged = Instance(Config(**{**small, "preemption": "merged"}), mutant)
    res, _ = explore_bfs(merged, ["no_loss", "kernel_asserts"])
    assert res.complete and set(res.violations) == {"kernel_asserts"}


@pytest.mark.parametrize("variant", ["v4.17", "v4.18"])
def test_split_and_merged_agree_on_the_built_in_variants(variant: str) -> None:
    """The arguments once written for merging the built-in variants' preemption windows
    (ARCHITECTURE.md) are established by the engine: the verdicts are the same with the
    steps split (one CPU, two tasks, no KVM, so the reference engine finishes quickly)."""
    small = dict(cpus=1, tasks=2, vmm_threads=0, vcpus=0, **PREEMPT)
    split = Instance(Config(**small), get_variant(variant))
    merged = Instance(Config(**{**small, "preemption": "merged"}), get_variant(variant))
    assert split.layout.extra_pcs
    r1, _ = explore_bfs(split, list(PROPERTY_NAMES))
    r2, _ = explore_bfs(merged, list(PROPERTY_NAMES))
    assert r1.complete and r2.complete
    assert set(r1.violations) == set(r2.violations) == set()
    assert r1.stats.states > r2.stats.states


def test_preemption_mode_in_traces() -> None:
    cfg = Config.from_json({"cpus": 1, "tasks": 1, "vmm_threads": 0, "vcpus": 0,
                            "vhe": False})
    assert cfg.preemption == "merged"  # written before the field: steps were not split
    split = Config(preemption="split")
    assert Config.from_json(split.to_json()) == split
    assert "preemption=split" in split.describe()
    assert "preemption=merged" in Config(preemption="merged").describe()


def test_split_is_the_default() -> None:
    """Config() and the command line split steps unless told otherwise."""
    from checker.cli import build_parser

    assert Config().preemption == "split"
    args = build_parser().parse_args(["explore"])
    assert args.preemption == "split"


def test_continuation_points_know_where_they_are() -> None:
    """Layout.pc_where / continuations_in: lemmas select continuation points by the C
    function and statement their window opens before, not by number."""
    inst = Instance(Config(cpus=1, tasks=0, vhe=True, sve=True, **PREEMPT),
                    get_variant("v6.14"))
    S = inst.layout
    assert set(S.continuations_in("sve_alloc")) == {"user_sve_trap@1", "user_sve_trap@2"}
    assert S.continuations_in("sve_alloc", "sve_state.p") == ("user_sve_trap@2",)
    assert set(S.continuations_in("el0_svc")) == {"syscall@1", "kvm_run@1,vcpu0"}
    assert S.continuations_in("kernel_neon_end", "TIF_KERNEL_FPSTATE") == (
        "syscall_kernel_neon_end@1",)
    assert S.continuations_in("no_such_function") == ()


@pytest.mark.parametrize("variant", ["v4.17", "v4.18"])
def test_split_model_is_proved(variant: str, tmp_path) -> None:
    """`prove` covers the continuation points: the lemmas that name program points
    allow a plain task to wait inside ret_to_user or a kernel-NEON user (v4.17 and v4.18
    are also PROVED split at the default sizes: ARCHITECTURE.md)."""
    from checker.cli import main

    assert main(["prove", "--variant", variant, "--cpus", "1", "--nvhe", "--preemption",
                 "split", "--out", str(tmp_path)]) == 0


def test_no_split_where_the_task_has_no_known_program_point() -> None:
    """A kernel thread (the idle tasks) has no program-point variable, and efi_oops is
    enabled at any kernel program point: neither can wait at a continuation point, so
    their windows are recorded but not split (the model builds instead of failing)."""
    cfg = Config(cpus=2, events=("efi", "cpu_hotplug"), **PREEMPT)
    inst = Instance(cfg, get_variant("v4.18"))
    assert not any(pc.startswith(("efi_oops", "cpu_idle", "cpu_down"))
                   for pc in inst.layout.extra_pcs)
    assert any(a.preempt_windows for a in inst.actions if a.name == "efi_oops")


def test_no_window_between_the_last_flag_check_and_the_eret() -> None:
    """ret_to_user's no-work branch returns to EL0 with IRQs masked until the eret: the
    model's bookkeeping there (event fork's syscall_body) comes before the IRQ unmask, so
    no continuation point lies between the flag check and EL0 (one did, and a task
    resumed there went to EL0 with TIF_FOREIGN_FPSTATE set by an IRQ's NEON: a false
    no_loss on v4.17 with --event fork)."""
    inst = Instance(Config(cpus=1, events=("fork",), **PREEMPT), get_variant("v4.17"))
    assert inst.layout.continuations_in("ret_to_user") == ()
    assert [pc for pc in inst.layout.extra_pcs if pc.startswith("ret_to_user@")] == [
        "ret_to_user@1"]
