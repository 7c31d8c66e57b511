"""v6.1 (model/variants/v6_1.py): the variant, its functions against the v6.1 C, #13, proof."""

from __future__ import annotations

from checker.explicit.explore import explore_bfs
from checker.inspect.replay import replay
from checker.instance import PROPERTY_NAMES, Instance
from checker.smt.induction import prove
from model.config import Config, kconfig_preset
from model.variants import get_variant, variants
from tests.checker.smt.test_lemmas import check_lemmas_on_reachable_states

from .probe import Probe

PREEMPT = kconfig_preset("preempt")
SVE_SMALL = dict(cpus=2, tasks=1, vmm_threads=0, vcpus=0, vhe=False, sve=True, **PREEMPT)


def probe(**cfg) -> Probe:
    return Probe("v6.1", **{"cpus": 1, **PREEMPT, **cfg})


# ------------------------------------------------------------------ the variant
def test_v61_is_pinned_to_its_tree_and_derived_from_v68() -> None:
    v = variants()["v6.1"]
    assert v.release == "v6.1.0-rc7" and v.parent == "v6.8"
    assert v.tree == "krr-io/linux-6.1.0@2a410d07ec5ec084264732088d6b07ae06681287"
    # v6.1 has no kernel-mode state, no fpsimd_kvm_prepare() (v6.2), and the save is
    # still called fpsimd_save()
    for gone in ("fpsimd_kvm_prepare", "fpsimd_save_user_state", "fpsimd_save_kernel_state",
                 "fpsimd_load_kernel_state", "syscall_kernel_neon_end"):
        assert gone not in v.functions
    assert {"get_cpu_fpsimd_context", "have_cpu_fpsimd_context"} <= set(v.functions)


def test_v61_state_has_the_busy_flag_and_the_vcpu_owner_but_no_fp_type() -> None:
    inst = Instance(Config(preemption="merged", sve=True, vhe=True), get_variant("v6.1"))
    names = {var.name for var in inst.layout.vars}
    assert {"cpu0.fpsimd_context_busy", "vcpu0.arch.fp_state"} <= names
    assert not {"cpu0.kernel_neon_busy", "T0.fp_type", "T0.TIF_KERNEL_FPSTATE",
                "T0.in_syscall", "cpu0.host_data.fp_owner"} & names
    assert [a for a in inst.actions if a.name == "sve_acc"]  # do_sve_acc's second step
    assert not [a for a in inst.actions if a.name == "syscall_kernel_neon_end"]


# ------------------------------------------------------------------ C semantics
LIVE = {"cpu0.current": "T0", "cpu0.regs.v": "T0", "cpu0.regs.fpsr": "T0",
        "T0.uw.v": "T0~", "T0.uw.fpsr": "T0~", "T0.TIF_FOREIGN_FPSTATE": "0",
        "cpu0.fpsimd_last_state.st": "T0.uw", "T0.fpsimd_cpu": "cpu0"}


def test_kernel_neon_keeps_the_fpsimd_context_for_the_section() -> None:
    """kernel_neon_begin() (v5.13-v6.7): get_cpu_fpsimd_context() (bottom halves off, busy
    set), fpsimd_save(), fpsimd_flush_cpu_state(); the context is kept until
    kernel_neon_end()'s put_cpu_fpsimd_context()."""
    p = probe(tasks=1, vmm_threads=0, vcpus=0)
    st, viol = p.run("kernel_neon_begin", task="T0", **LIVE)
    assert not viol
    assert st["T0.uw.v"] == "T0" and st["T0.uw.fpsr"] == "T0"
    assert st["T0.TIF_FOREIGN_FPSTATE"] == "1" and st["cpu0.fpsimd_last_state.st"] == "NULL"
    assert st["cpu0.softirq_count"] == "1" and st["cpu0.fpsimd_context_busy"] == "1"
    assert st["cpu0.preempt_count"] == "0"
    st, viol = p.run("kernel_neon_end", task="T0", inputs=(False,), **{
        "cpu0.current": "T0", "cpu0.softirq_count": "1", "cpu0.fpsimd_context_busy": "1"})
    assert not viol
    assert st["cpu0.softirq_count"] == "0" and st["cpu0.fpsimd_context_busy"] == "0"
    # a second claim of the context WARNs (WARN_ON(busy))
    _, viol = p.run("get_cpu_fpsimd_context", task="T0",
                    **{"cpu0.current": "T0", "cpu0.fpsimd_context_busy": "1"})
    assert any("WARN_ON(busy)" in v for v in viol)
    # the save asserts have_cpu_fpsimd_context()
    _, viol = p.run("fpsimd_save", task="T0", **LIVE)
    assert any("have_cpu_fpsimd_context" in v for v in viol)


def test_syscall_entry_clears_tif_sve_and_the_el0_trap_unconditionally() -> None:
    """syscall.c fp_user_discard() (v6.1): clear_thread_flag(TIF_SVE) and
    sve_user_disable(), whatever TIF_SVE was (2018's entry.S only when it was set)."""
    p = probe(tasks=1, vmm_threads=0, vcpus=0, sve=True)
    for tif_sve in ("0", "1"):
        st, viol = p.run("el0_svc", task="T0", **{
            "cpu0.current": "T0", "T0.pc": "USER", "T0.TIF_SVE": tif_sve,
            "cpu0.CPACR_EL1.ZEN_EL0EN": "1"})
        assert not viol
        assert st["T0.TIF_SVE"] == "0" and st["cpu0.CPACR_EL1.ZEN_EL0EN"] == "0"
        assert st["T0.pc"] == "KERNEL" and st["cpu0.irqs_disabled"] == "0"


def test_save_follows_currents_tif_sve_through_the_binding() -> None:
    """fpsimd_save() (v6.1): TIF_SVE of current decides the format; the Z registers go
    through last->sve_state (the bound task's sve_state); no fp_type is written."""
    p = probe(tasks=1, vmm_threads=0, vcpus=0, sve=True)
    held = dict(LIVE, **{"cpu0.regs.zhi": "T0", "T0.TIF_SVE": "1",
                         "cpu0.fpsimd_context_busy": "1", "cpu0.softirq_count": "1"})
    st, viol = p.run("fpsimd_save", task="T0", **held)
    assert not viol
    assert st["T0.sve_state.v"] == "T0" and st["T0.sve_state.zhi"] == "T0"
    assert st["T0.uw.fpsr"] == "T0" and st["T0.uw.v"] == "T0~"


def test_sve_trap_in_memory_does_not_flush_the_binding() -> None:
    """sve_init_regs()'s in-memory path (v6.1): fpsimd_to_sve() only; the task's
    fpsimd_cpu is left as it was (#13; 751ecf6afd65 adds the flush in v6.12)."""
    p = probe(tasks=1, vmm_threads=0, vcpus=0, sve=True)
    foreign = dict(LIVE, **{"T0.pc": "SVE_ACC", "T0.TIF_FOREIGN_FPSTATE": "1"})
    st, viol = p.run("do_sve_acc_locked", task="T0", inputs=(False,), **foreign)
    assert not viol
    assert st["T0.TIF_SVE"] == "1" and st["T0.sve_state.v"] == "T0~"
    assert st["T0.fpsimd_cpu"] == "cpu0" and st["cpu0.CPACR_EL1.ZEN_EL0EN"] == "0"
    assert st["cpu0.fpsimd_context_busy"] == "0" and st["T0.pc"] == "KERNEL"


def test_vcpu_load_bugs_on_tif_sve_and_ctxsync_put_clear_it() -> None:
    """kvm_arch_vcpu_load_fp() (v6.0, v6.1): BUG_ON(test_thread_flag(TIF_SVE)), owner
    HOST_OWNED; ctxsync clears TIF_SVE with the binding; put_fp clears it always."""
    p = probe(tasks=0, vhe=True, sve=True)
    st, viol = p.run("kvm_arch_vcpu_load_fp", 0, **{"cpu0.current": "vmm0"})
    assert not viol and st["vcpu0.arch.fp_state"] == "HOST_OWNED"
    _, viol = p.run("kvm_arch_vcpu_load_fp", 0, **{"cpu0.current": "vmm0", "vmm0.TIF_SVE": "1"})
    assert any("BUG_ON(test_thread_flag(TIF_SVE))" in v for v in viol)
    st, viol = p.run("kvm_arch_vcpu_ctxsync_fp", 0, **{
        "cpu0.current": "vmm0", "cpu0.irqs_disabled": "1", "vcpu0.arch.fp_state": "GUEST_OWNED",
        "vmm0.TIF_SVE": "1"})
    assert not viol
    assert st["cpu0.fpsimd_last_state.st"] == "vcpu0.fp_regs" and st["vmm0.TIF_SVE"] == "0"
    assert st["vmm0.TIF_FOREIGN_FPSTATE"] == "0"


# ------------------------------------------------------------------ verdicts
def test_v61_holds_on_a_small_configuration() -> None:
    """Every property holds on one CPU with a task, a VMM thread and a vcpu (nVHE; the
    default configuration, both hyp modes, is in the README: 193,784 states each)."""
    inst = Instance(Config(preemption="merged", cpus=1, vhe=False, **PREEMPT),
                    get_variant("v6.1"))
    res, _ = explore_bfs(inst, list(PROPERTY_NAMES))
    assert res.complete and not res.violations


def test_v61_has_bug_13_and_v612_does_not_reproduce_it() -> None:
    """#13 (751ecf6afd65, CVE-2024-50275) on v6.1 with SVE, two CPUs, one task: found by
    kernel_asserts (do_sve_acc()'s WARN, 12 steps, as on v6.10) and no_loss; the trace does
    not reproduce on v6.12, which flushes the binding in the in-memory path."""
    inst = Instance(Config(preemption="merged", **SVE_SMALL), get_variant("v6.1"))
    res, _ = explore_bfs(inst, ["kernel_asserts", "no_loss"], stop_early=True)
    assert {"kernel_asserts", "no_loss"} <= set(res.violations)
    trace = res.violations["kernel_asserts"]
    assert len(trace.steps) == 12
    assert "do_sve_acc" in trace.steps[-1].violations[0]
    assert replay(trace, inst).reproduces
    fixed = Instance(Config(preemption="merged", **SVE_SMALL), get_variant("v6.12"))
    assert not replay(trace, fixed).reproduces


def test_v61_lemmas_hold_and_prove() -> None:
    """The lemmas claimed for v6.1 (the v6 KVM lemmas with vcpu->arch.fp_state as the
    owner, and v61_vcpu_host_pointer) hold in every reachable state (split, one CPU) and
    `prove` proves every property with them (one CPU, nVHE)."""
    check_lemmas_on_reachable_states("v6.1", {"cpus": 1, "vhe": True, "preemption": "split",
                                              **PREEMPT})
    res = prove(Instance(Config(cpus=1, vhe=False, **PREEMPT), get_variant("v6.1")),
                list(PROPERTY_NAMES))
    bad = [(o.name, o.initiation, o.consecution) for o in res.obligations if not o.ok]
    assert res.verdict == "PROVED", bad
    assert "v61_vcpu_host_pointer" in [o.name for o in res.obligations]


def test_v61_with_sve_is_proved_for_the_vmm_thread_alone() -> None:
    """With SVE, the VMM thread alone on one CPU (no tracer: with one, the BUG_ON(TIF_SVE)
    finding; with two CPUs, #13), v6.1's SVE lemmas (V61 in properties/lemmas.py) hold in
    every reachable state and prove every property."""
    cfg = {"cpus": 1, "tasks": 0, "vhe": True, "sve": True, **PREEMPT}
    check_lemmas_on_reachable_states("v6.1", {**cfg, "preemption": "split"})
    res = prove(Instance(Config(**cfg), get_variant("v6.1")), list(PROPERTY_NAMES))
    bad = [(o.name, o.initiation, o.consecution) for o in res.obligations if not o.ok]
    assert res.verdict == "PROVED", bad
    assert "v61_sve_load_records_binding" in [o.name for o in res.obligations]


def test_v61_tracer_sets_tif_sve_before_vcpu_load_and_it_bugs() -> None:
    """Beyond the fix table (docs/fixes.md row 25): with SVE, a tracer's NT_ARM_SVE write at
    KVM_RUN's syscall-entry stop sets TIF_SVE after the syscall discard, and
    kvm_arch_vcpu_load_fp()'s BUG_ON(test_thread_flag(TIF_SVE)) fires: 8 steps on one CPU
    (curated in counterexamples/; v6.2's fpsimd_kvm_prepare() converts instead)."""
    cfg = Config(preemption="merged", cpus=1, vhe=True, sve=True, **PREEMPT)
    res, _ = explore_bfs(Instance(cfg, get_variant("v6.1")), ["kernel_asserts"],
                         stop_early=True)
    trace = res.violations["kernel_asserts"]
    assert len(trace.steps) == 8
    assert "BUG_ON(test_thread_flag(TIF_SVE))" in trace.steps[-1].violations[0]
    assert [s.action for s in trace.steps][-3:] == ["ptrace_sve_set", "schedule", "vcpu_load"]
