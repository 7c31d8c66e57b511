"""SVE vcpus (Config.sve_guest, `--sve-guest`) on v6.1 (model/variants/v6_1.py): ctxsync sets
the VMM thread's TIF_SVE for an SVE vcpu, fpsimd_save() saves the bound vcpu by current's
TIF_SVE at last->sve_vl (the vcpu's max VL) with its VL check, put_fp saves the guest's
ZCR_EL1 and clears TIF_SVE; hyp's SVE switch is v6.8's.  v6.1 has #20 (59419f10045b "KVM:
arm64: Eagerly switch ZCR_EL{1,2}", v5.12-v6.13, backported to 6.1.y): explore finds its
WARN on nVHE in the 9 steps of v6.13's trace; VHE holds; v6.1 with the fix's hyp part
(a sketch of the backport, `eager_zcr_sketch`) holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.explicit.explore import explore_bfs
from checker.inspect.load import load
from checker.inspect.replay import build_instance, replay
from checker.instance import Instance
from checker.native.explore import explore_native
from model.config import Config, kconfig_preset
from model.variant import Variant
from model.variants import get_variant
from model.variants.v6 import (
    __deactivate_traps_v614,
    __kvm_vcpu_run_enter_v614,
    __kvm_vcpu_run_exit_v614,
    fpsimd_lazy_switch_to_guest,
    fpsimd_lazy_switch_to_host,
    handle_host_sve_trap_v614,
)
from model.variants.v6_1 import (
    kvm_arch_vcpu_ctxsync_fp,
    kvm_arch_vcpu_put_fp,
    sve_set_vector_length,
    sve_vl_check,
)
from properties.fp import PROPERTY_NAMES

from .probe import Probe
from .test_v6_sve_guest import SMALL
from .test_v6_sve_guest_v610 import STEPS_20

CURATED = Path(__file__).resolve().parents[2] / "counterexamples" / \
    "v6.1-kernel_asserts-nvhe-c1t0v1m1-sveguest-debug-explicit-bfs.json"
# v6.1's WARN is in fpsimd_save() (v6.2 renamed the function fpsimd_save_user_state())
WARN = "fpsimd_save: WARN WARN_ON(sve_get_vl() != vl)"


def probe(vhe: bool = False, variant: str = "v6.1") -> Probe:
    return Probe(variant, **{k: v for k, v in SMALL.items() if k != "preemption"}, vhe=vhe)


def eager_zcr_sketch() -> Variant:
    """v6.1 with the hyp part of 59419f10045b (#20's fix; the 6.1.y backport itself was not
    read): hyp switches ZCR_EL{1,2} on every entry and exit while the guest owns the
    registers (v6.14's fpsimd_lazy_switch_to_guest/host), never leaves CPTR_EL2.TZ set
    for the host (so handle_trap() has no SVE case), and put_fp no longer touches ZCR."""
    return get_variant("v6.1").derive(
        "v6.1-eager-zcr-sketch", "v6.1 with 59419f10045b's hyp part (a sketch)",
        options={"new_functions": ["fpsimd_lazy_switch_to_guest",
                                   "fpsimd_lazy_switch_to_host"]},
        fpsimd_lazy_switch_to_guest=fpsimd_lazy_switch_to_guest,
        fpsimd_lazy_switch_to_host=fpsimd_lazy_switch_to_host,
        __kvm_vcpu_run_enter=__kvm_vcpu_run_enter_v614,
        __kvm_vcpu_run_exit=__kvm_vcpu_run_exit_v614,
        __deactivate_traps=__deactivate_traps_v614,
        handle_host_sve_trap=handle_host_sve_trap_v614,
        kvm_put_fp_sve_zcr=lambda k, vcpu: None)


# ------------------------------------------------------------------ configuration
@pytest.mark.parametrize("vhe", [False, True])
def test_v61_accepts_sve_vcpus_and_several_vls(vhe: bool) -> None:
    Instance(Config(**SMALL, vhe=vhe), get_variant("v6.1"))
    # several VLs without SVE vcpus, with v6.1's own prctl(PR_SVE_SET_VL)
    Instance(Config(cpus=1, tasks=1, vcpus=0, vmm_threads=0, sve=True, sve_vls=(128, 256),
                    events=("sve_set_vl",), preemption="merged"), get_variant("v6.1"))


# ------------------------------------------------------------------ C semantics
def test_ctxsync_sets_tif_sve_for_an_sve_vcpu_and_put_fp_clears_it() -> None:
    """v6.1 ctxsync: update_thread_flag(TIF_SVE, vcpu_has_sve()); put_fp: the guest's ZCR_EL1
    saved into the vcpu, nVHE ZCR_EL1 = the max VQ, the vcpu saved as SVE (TIF_SVE) into
    vcpu->arch.sve_state, the binding flushed, TIF_SVE cleared."""
    assert kvm_arch_vcpu_ctxsync_fp and kvm_arch_vcpu_put_fp
    owned = {"vcpu0.arch.fp_state": "GUEST_OWNED", "cpu0.current": "vmm0",
             "cpu0.irqs_disabled": "1"}
    st, viol = probe().run("kvm_arch_vcpu_ctxsync_fp", 0, **owned)
    assert not viol
    assert st["vmm0.TIF_SVE"] == "1" and st["cpu0.fpsimd_last_state.st"] == "vcpu0.fp_regs"
    bound = {"vcpu0.arch.fp_state": "GUEST_OWNED", "cpu0.current": "vmm0",
             "vmm0.TIF_SVE": "1", "vmm0.TIF_FOREIGN_FPSTATE": "0",
             "cpu0.fpsimd_last_state.st": "vcpu0.fp_regs", "cpu0.regs.zhi": "G0",
             "cpu0.regs.p": "G0", "vcpu0.sve_state.zhi": "G0~",
             "cpu0.ZCR_EL1.LEN": "128", "cpu0.ZCR_EL2.LEN": "256"}
    st, viol = probe().run("kvm_arch_vcpu_put_fp", 0, **bound)
    assert not viol
    assert (st["vcpu0.sys_regs.ZCR_EL1.LEN"], st["cpu0.ZCR_EL1.LEN"]) == ("128", "256")
    assert st["vcpu0.sve_state.zhi"] == "G0" and st["vcpu0.sve_state.p"] == "G0"
    assert st["vmm0.TIF_SVE"] == "0" and st["cpu0.fpsimd_last_state.st"] == "NULL"


def test_fpsimd_save_checks_the_bound_vcpus_vl() -> None:
    """fpsimd_save() with an SVE vcpu bound and current's TIF_SVE: at the max VL it saves
    Z/P/FFR into vcpu->arch.sve_state; at the guest's shorter VL (ZCR_EL1 128, nVHE) it
    WARNs and saves nothing; without TIF_SVE it saves the V registers only."""
    assert sve_vl_check
    bound = {"cpu0.current": "vmm0", "cpu0.fpsimd_last_state.st": "vcpu0.fp_regs",
             "vmm0.TIF_FOREIGN_FPSTATE": "0", "vmm0.TIF_SVE": "1", "cpu0.regs.zhi": "G0",
             "cpu0.regs.v": "G0", "vcpu0.sve_state.zhi": "G0~",
             "cpu0.preempt_count": "1", "cpu0.fpsimd_context_busy": "1",
             "cpu0.ZCR_EL2.LEN": "256"}
    st, viol = probe().run("fpsimd_save", **bound, **{"cpu0.ZCR_EL1.LEN": "256"})
    assert not viol and st["vcpu0.sve_state.zhi"] == "G0"
    st, viol = probe().run("fpsimd_save", **bound, **{"cpu0.ZCR_EL1.LEN": "128"})
    assert any(WARN in v for v in viol) and st["vcpu0.sve_state.zhi"] == "G0~"
    st, viol = probe().run("fpsimd_save", **{**bound, "vmm0.TIF_SVE": "0"},
                           **{"cpu0.ZCR_EL1.LEN": "128"})
    assert not viol
    assert st["vcpu0.fp_regs.v"] == "G0" and st["vcpu0.sve_state.zhi"] == "G0~"


def test_prctl_set_vl_saves_under_the_fpsimd_context() -> None:
    """v6.1 vec_set_vector_length(): get_cpu_fpsimd_context(), fpsimd_save() (at the old VL),
    flush, TIF_SVE cleared with sve_to_fpsimd(), put_cpu_fpsimd_context(), the new VL."""
    assert sve_set_vector_length
    p = Probe("v6.1", cpus=1, tasks=1, vcpus=0, vmm_threads=0, sve=True,
              sve_vls=(128, 256), events=("sve_set_vl",))
    st, viol = p.run("sve_set_vector_length", 0, 1, task="T0", **{
        "cpu0.current": "T0", "T0.TIF_SVE": "1", "T0.TIF_FOREIGN_FPSTATE": "0",
        "cpu0.fpsimd_last_state.st": "T0.uw", "T0.sve_vl": "128", "cpu0.ZCR_EL1.LEN": "128",
        "cpu0.regs.v": "T0", "T0.uw.v": "T0~"})
    assert not viol
    assert (st["T0.sve_vl"], st["T0.TIF_SVE"], st["T0.TIF_FOREIGN_FPSTATE"]) == ("256", "0", "1")
    assert st["T0.uw.v"] == "T0" and st["cpu0.fpsimd_context_busy"] == "0"


def test_prctl_set_vl_fires_on_v61_and_holds() -> None:
    """v6.1's el0_svc() enters the syscall's body (the model's bookkeeping, as every other
    el0_svc), so the prctl step fires; one task on one CPU holds (v6.1 clears TIF_SVE at
    syscall entry: no #22)."""
    cfg = Config(cpus=1, tasks=1, vcpus=0, vmm_threads=0, sve=True, sve_vls=(128, 256),
                 events=("sve_set_vl",), **kconfig_preset("preempt"))
    res, _ = explore_native(Instance(cfg, get_variant("v6.1")), list(PROPERTY_NAMES))
    assert res.complete and not res.violations
    assert res.guards_reached.get("sve_set_vl_with_state_live") is not None
    assert res.stats.states == 3_012


def test_bug_13_with_several_vls_is_the_vl_warn() -> None:
    """#13 (751ecf6afd65, v6.12) with two VLs and no KVM: the task's stale binding on the
    CPU it left before its SVE trap completed elsewhere looks live again, now with TIF_SVE,
    at a ZCR_EL1 never set to its VL: fpsimd_save()'s VL WARN (SIGKILL) in 9 steps, as on
    v6.10; with 751ecf6afd65's flush (a sketch on v6.1) the configuration holds."""
    cfg = Config(cpus=2, tasks=1, vcpus=0, vmm_threads=0, sve=True, sve_vls=(128, 256),
                 vhe=True, preemption="merged", **kconfig_preset("preempt"))
    res, _ = explore_bfs(Instance(cfg, get_variant("v6.1")), ["kernel_asserts"],
                         stop_early=True)
    trace = res.violations["kernel_asserts"]
    assert WARN in trace.violation and len(trace.steps) == 9
    assert "do_sve_acc_locked" in {f for s in trace.steps for f in s.functions}
    v61 = get_variant("v6.1")

    def in_memory_flushed(k, *args) -> None:  # noqa: ANN001
        v61.functions["sve_init_regs_in_memory"](k)
        k.fpsimd_flush_task_state(k.current)

    fixed = v61.derive("v6.1-fix13-sketch", "v6.1 + 751ecf6afd65 (a sketch)",
                       sve_init_regs_in_memory=in_memory_flushed)
    ok, _ = explore_native(Instance(cfg, fixed), list(PROPERTY_NAMES))
    assert ok.complete and not ok.violations


# ------------------------------------------------------------------ #20 and its fix
def test_v61_nvhe_has_bug_20() -> None:
    """Explore finds #20's WARN in fpsimd_save() in the 9 steps of v6.13's trace."""
    res, _ = explore_bfs(Instance(Config(**SMALL), get_variant("v6.1")), ["kernel_asserts"],
                         stop_early=True)
    trace = res.violations["kernel_asserts"]
    assert WARN in trace.violation
    assert [s.action for s in trace.steps] == STEPS_20


def test_v61_vhe_holds_with_an_sve_vcpu() -> None:
    """VHE (no nested virtualisation): hyp's ZCR_EL2 write is the host's own register, so
    the save runs at the max VL; and v6.1 has no fpsimd_kvm_prepare() (#17 is v6.2+)."""
    res, _ = explore_native(Instance(Config(**SMALL, vhe=True), get_variant("v6.1")),
                            list(PROPERTY_NAMES))
    assert res.complete and not res.violations
    assert res.stats.states == 13_867


def test_v61_with_the_eager_zcr_switch_holds() -> None:
    """nVHE, where #20 is (VHE holds without the fix: `test_v61_vhe_holds_with_an_sve_vcpu`;
    with the sketch it holds too, checked by `explore --variant-file`, not here for time)."""
    res, _ = explore_native(Instance(Config(**SMALL), eager_zcr_sketch()),
                            list(PROPERTY_NAMES))
    assert res.complete and not res.violations


def test_curated_trace_reproduces_on_v61_only() -> None:
    trace = load(str(CURATED))
    assert trace.config["sve_guest"] and not trace.config["vhe"]
    assert replay(trace, build_instance(trace, "v6.1", {})).reproduces
    assert not replay(trace, eager_zcr_instance(trace)).reproduces


def eager_zcr_instance(trace) -> Instance:  # noqa: ANN001
    return Instance(Config.from_json(trace.config), eager_zcr_sketch())
