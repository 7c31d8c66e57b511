"""Data ownership (model/ownership.py, property data_ownership): who may touch what."""

from __future__ import annotations

from pathlib import Path

from checker.explicit.compile import compile_predicate
from checker.explicit.explore import explore_bfs
from checker.instance import Instance
from checker.native.explore import explore_native
from model.config import Config
from model.dsl import TRUE
from model.ownership import DATA_OWNERSHIP, access_conditions, owned_here, owner_of
from model.state import Layout
from model.variants import get_variant, load_variant_file

MUTANTS = load_variant_file(str(Path(__file__).resolve().parents[2] / "counterexamples"
                                / "mutants.py"))
PREEMPT = Config.with_kconfig("preempt", preemption="merged", cpus=2)


def _var(S: Layout, name: str):
    return next(v for v in S.vars if v.name == name)


def test_owner_of_each_kind_of_variable() -> None:
    S = Layout(Config(preemption="merged", vcpus=1, vmm_threads=1, events=("vcpu_reset",)))
    assert owner_of(S, _var(S, "cpu1.fpsimd_last_state.st")) == ("cpu", 1)
    assert owner_of(S, _var(S, "vmm0.uw.v")) == ("task", S.TASK.labels.index("vmm0"))
    assert owner_of(S, _var(S, "idle1.TIF_FOREIGN_FPSTATE")) == (
        "task", S.TASK.labels.index("idle1"))
    assert owner_of(S, _var(S, "vcpu0.fp_regs.v")) == ("vcpu", 0)
    # shared on purpose, with the kernel's own synchronisation; and model bookkeeping
    for name in ("vcpu0.mutex", "vcpu0.power_off", "ghost.kernel_neon_readback_lost"):
        assert owner_of(S, _var(S, name)) is None


def test_owned_here_follows_the_state() -> None:
    """Another task's state is this CPU's to touch only while that task is not running on
    another CPU; a vcpu's only while its mutex holder is not running elsewhere."""
    S = Layout(Config(preemption="merged", cpus=2, tasks=1, vmm_threads=2, vcpus=1))
    t0 = S.TASK.labels.index("T0")
    vmm0, vmm1 = S.TASK.labels.index("vmm0"), S.TASK.labels.index("vmm1")
    assert owned_here(S, 0, t0, ("cpu", 0)) is None and owned_here(S, 0, t0, ("task", t0)) is None
    other_task = owned_here(S, 0, vmm0, ("task", t0))
    vcpu = owned_here(S, 0, vmm1, ("vcpu", 0))
    state = list(S.initial_state())
    other_task, vcpu = compile_predicate(other_task), compile_predicate(vcpu)
    state[S.cpu[1].current.index] = t0
    assert not other_task(tuple(state))  # T0 runs on cpu1
    state[S.cpu[1].current.index] = S.TASK.labels.index("idle1")
    assert other_task(tuple(state))
    state[S.vcpus[0].mutex.index] = S.TASK_OR_NULL.labels.index("vmm0")
    state[S.cpu[1].current.index] = vmm0
    assert not vcpu(tuple(state))  # vcpu0's holder vmm0 runs on cpu1
    state[S.cpu[1].current.index] = S.TASK.labels.index("idle1")
    assert vcpu(tuple(state))  # holder preempted: nobody runs its code


def test_access_through_a_pointer_is_conditional() -> None:
    """``ptr == &T0 && T0.flag``: T0's flag is read only where the pointer points to it."""
    S = Layout(Config(preemption="merged", vcpus=1, vmm_threads=1))
    v = S.vcpus[0]
    flag = S.tasks[0].tif_foreign
    acc = access_conditions(v.host_thread_info.eq("T0") & flag.eq(1))
    assert acc[v.host_thread_info] == [TRUE]
    assert acc[flag] != [TRUE] and len(acc[flag]) == 1


def test_built_in_variants_keep_ownership() -> None:
    for name in ("v4.17", "v4.18"):
        res, _ = explore_native(Instance(PREEMPT, get_variant(name)), [DATA_OWNERSHIP])
        assert res.complete and DATA_OWNERSHIP not in res.violations, name


def test_writing_another_cpus_per_cpu_data_is_found_by_both_engines() -> None:
    """A fpsimd_flush_cpu_state() that clears every CPU's binding races with the other
    CPU's own use of its fpsimd_last_state: found in one step (a softirq's NEON)."""
    inst = Instance(PREEMPT, MUTANTS["mutant-flush-every-cpu"])
    py, _ = explore_bfs(inst, [DATA_OWNERSHIP])
    nat, _ = explore_native(inst, [DATA_OWNERSHIP])
    assert len(py.violations[DATA_OWNERSHIP]) == len(nat.violations[DATA_OWNERSHIP]) == 1
    assert py.stats.states == nat.stats.states
    assert "fpsimd_flush_cpu_state: ownership" in py.violations[DATA_OWNERSHIP].violation


def test_v418_vcpu_reset_from_another_thread_races() -> None:
    """v4.18's kvm_psci_vcpu_on() resets the target vcpu with kvm_reset_vcpu() from the
    caller's thread, without the target's vcpu->mutex, while the target's thread may be
    running its run loop on another CPU (fixed by v5.0's KVM_REQ_VCPU_RESET: the target
    resets itself; variant v4.18-vcpu-reset-fix)."""
    cfg = Config.with_kconfig("preempt", preemption="merged",
                              cpus=2, tasks=0, vmm_threads=2, vcpus=2,
                              vhe=False, events=("vcpu_reset",))
    res, _ = explore_bfs(Instance(cfg, get_variant("v4.18")), [DATA_OWNERSHIP],
                         stop_early=True)
    tr = res.violations[DATA_OWNERSHIP]
    assert len(tr) == 12 and tr.violation.startswith("kvm_reset_vcpu: ownership")
