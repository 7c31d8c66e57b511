"""v6.13 and v6.14 (model/variants/v6.py): the 2025 KVM FP rework (#17, #20) against the C
it mirrors, and the loss at vcpu load that v6.13 has and v6.14 does not."""

from __future__ import annotations

from checker.explicit.explore import explore_bfs
from checker.instance import Instance
from model.config import Config, kconfig_preset
from model.ctx import Ctx
from model.variants import get_variant, variants
from properties.fp import PROPERTY_NAMES

from .probe import Probe

PREEMPT = kconfig_preset("preempt")
# One CPU, the VMM thread alone (no plain task, hence no ptrace tracer), one vcpu, VHE.
VMM_SVE = dict(cpus=1, tasks=0, vmm_threads=1, vcpus=1, vhe=True, sve=True, **PREEMPT)


def probe(variant: str) -> Probe:
    return Probe(variant, **VMM_SVE)


# ------------------------------------------------------------------ the variants
def test_v613_and_v614_are_pinned_to_their_trees() -> None:
    table = variants()
    for name, release, parent in (("v6.13", "v6.13.7", "v6.12"), ("v6.14", "v6.14.0", "v6.13")):
        v = table[name]
        assert v.release == release and v.parent == parent
        repo, _, commit = v.tree.partition("@")
        assert "/" in repo and len(commit) == 40
    assert table["v6.13"].tree.endswith("4ebf2100a5818d1723d97b8e418c6432e6eb2182")
    assert table["v6.14"].tree.endswith("347b100ec1660714730b2ca3d7a35924461651a3")


def test_v613_has_the_fp_code_of_v612() -> None:
    """The v6.13.7 tree's FP files differ from v6.12.0's in nothing that touches FP state
    (model/variants/v6.py): the same table of functions."""
    table = variants()
    assert table["v6.13"].functions == table["v6.12"].functions


def test_v614_removes_fpsimd_kvm_prepare_and_hyp_host_save() -> None:
    fns = variants()["v6.14"].functions
    assert "fpsimd_kvm_prepare" not in fns and "kvm_hyp_save_fpsimd_host" not in fns
    assert "fpsimd_lazy_switch_to_guest" in fns and "fpsimd_lazy_switch_to_host" in fns


# ------------------------------------------------------------------ C semantics
LIVE_SVE = {"cpu0.current": "vmm0", "cpu0.regs.v": "vmm0", "cpu0.regs.fpsr": "vmm0",
            "vmm0.uw.v": "vmm0~", "vmm0.uw.fpsr": "vmm0~", "vmm0.TIF_FOREIGN_FPSTATE": "0",
            "cpu0.fpsimd_last_state.st": "vmm0.uw", "vmm0.fpsimd_cpu": "cpu0",
            "vmm0.TIF_SVE": "1", "cpu0.CPACR_EL1.ZEN_EL0EN": "1", "vmm0.in_syscall": "1",
            "vmm0.pc": "VCPU_LOAD", "cpu0.preempt_count": "1"}


def test_v613_prepare_converts_from_sve_state_whatever_its_format() -> None:
    """v6.2-v6.13 fpsimd_kvm_prepare(): with TIF_SVE set it copies the low 128 bits of
    thread.sve_state over uw.fpsimd_state.vregs, even when the task's state was saved
    FPSIMD-only (fp_type FPSIMD) in the syscall, so sve_state is stale."""
    saved = dict(LIVE_SVE, **{"cpu0.regs.v": "kneon", "cpu0.regs.fpsr": "kneon",
                              "vmm0.uw.v": "vmm0", "vmm0.uw.fpsr": "vmm0",
                              "vmm0.TIF_FOREIGN_FPSTATE": "1",
                              "cpu0.fpsimd_last_state.st": "NULL", "vmm0.fp_type": "FPSIMD",
                              "vmm0.sve_state.v": "0"})
    st, viol = probe("v6.13").run("fpsimd_kvm_prepare", **saved)
    assert not viol
    assert st["vmm0.uw.v"] == "0"  # the stale copy replaced the saved V registers
    assert st["vmm0.TIF_SVE"] == "0" and st["vmm0.fp_type"] == "FPSIMD"


def test_v614_load_fp_saves_and_flushes_the_host_state() -> None:
    """v6.14 kvm_arch_vcpu_load_fp(): fpsimd_save_and_flush_cpu_state() (in a syscall the
    live state is saved FPSIMD-only, TIF_SVE left for the reload to clear), the CPU is
    unbound, current foreign, fp_owner FP_STATE_FREE; HOST_SVE_ENABLED is not recorded."""
    st, viol = probe("v6.14").run("kvm_arch_vcpu_load_fp", 0, **LIVE_SVE)
    assert not viol
    assert st["vmm0.uw.v"] == "vmm0" and st["vmm0.uw.fpsr"] == "vmm0"
    assert st["vmm0.fp_type"] == "FPSIMD" and st["vmm0.TIF_SVE"] == "1"
    assert st["cpu0.fpsimd_last_state.st"] == "NULL"
    assert st["vmm0.TIF_FOREIGN_FPSTATE"] == "1"
    assert st["cpu0.host_data.fp_owner"] == "FREE"
    assert st["cpu0.host_data.fpsimd_state"] == "NULL"
    assert st["vcpu0.flags.HOST_SVE_ENABLED"] == "0"
    # v6.13 leaves the host state live and records HOST_OWNED and HOST_SVE_ENABLED.
    st, viol = probe("v6.13").run("kvm_arch_vcpu_load_fp", 0, **LIVE_SVE)
    assert not viol
    assert st["cpu0.fpsimd_last_state.st"] == "vmm0.uw"
    assert st["cpu0.host_data.fp_owner"] == "HOST_OWNED"
    assert st["vcpu0.flags.HOST_SVE_ENABLED"] == "1" and st["vmm0.TIF_SVE"] == "0"


def test_v614_put_fp_no_longer_restores_zen() -> None:
    """After a run in which the guest did not own the registers, v6.13's put_fp (VHE,
    SVE) sets CPACR_EL1.ZEN_EL0EN back from HOST_SVE_ENABLED; v6.14's leaves it as hyp's
    __deactivate_cptr_traps() wrote it (EL0 SVE trapped)."""
    pre = {"cpu0.current": "vmm0", "vmm0.pc": "LOOP_EXIT", "cpu0.CPACR_EL1.ZEN_EL0EN": "0",
           "vcpu0.flags.HOST_SVE_ENABLED": "1", "cpu0.host_data.fp_owner": "FREE",
           "cpu0.preempt_count": "1"}
    st, viol = probe("v6.13").run("kvm_arch_vcpu_put_fp", 0, **pre)
    assert not viol and st["cpu0.CPACR_EL1.ZEN_EL0EN"] == "1"
    st, viol = probe("v6.14").run("kvm_arch_vcpu_put_fp", 0, **pre)
    assert not viol and st["cpu0.CPACR_EL1.ZEN_EL0EN"] == "0"


def test_v614_guest_trap_loads_the_guest_without_saving_the_host() -> None:
    """v6.14 kvm_hyp_handle_fpsimd() without pKVM: untrap FP, load the guest's registers,
    GUEST_OWNED; no host save (the host state was saved at vcpu load)."""
    pre = {"cpu0.current": "vmm0", "vmm0.pc": "IN_GUEST", "cpu0.irqs_disabled": "1",
           "cpu0.regs.v": "vmm0", "cpu0.regs.fpsr": "vmm0", "vmm0.uw.v": "vmm0~",
           "cpu0.CPACR_EL1.FPEN": "0", "cpu0.host_data.fp_owner": "HOST_OWNED",
           "cpu0.host_data.fpsimd_state": "vmm0.uw"}
    st, viol = probe("v6.14").run("fixup_guest_exit_fp", 0, **pre)
    assert not viol
    assert st["cpu0.regs.v"] == "G0" and st["vmm0.uw.v"] == "vmm0~"
    assert st["cpu0.CPACR_EL1.FPEN"] == "1" and st["cpu0.host_data.fp_owner"] == "GUEST_OWNED"


def test_lazy_zcr_switch_writes_nothing_for_a_vcpu_without_sve() -> None:
    """#20's fpsimd_lazy_switch_to_guest/host write ZCR_EL{1,2} only for a vcpu with SVE;
    the model's vcpus have none: no statement is emitted (and the guest entry and exit
    steps are those of v6.13 apart from it)."""
    p = probe("v6.14")
    for fn in ("fpsimd_lazy_switch_to_guest", "fpsimd_lazy_switch_to_host"):
        k = Ctx(p.layout, p.variant, 0, p.layout.TASK.index("vmm0"))
        getattr(k, fn)(0)
        assert fn in k.functions
        assert not [s for s in k.body() if type(s).__name__ != "Mark"]


# ------------------------------------------------------------------ the finding and its fix
def _explore(variant, **cfg):  # noqa: ANN001, ANN202
    res, _ = explore_bfs(Instance(Config(preemption="merged",
                                         **cfg), variant), list(PROPERTY_NAMES))
    assert res.complete
    return res


def test_v613_loses_the_vmm_fpsimd_state_at_vcpu_load_and_v614_holds() -> None:
    """The VMM thread (TIF_SVE set by its first SVE trap, sve_state still as sve_alloc()
    zeroed it) issues KVM_RUN; a softirq's kernel-mode NEON before vcpu_load's
    fpsimd_kvm_prepare() saves its live state FPSIMD-only (in_syscall()) and leaves TIF_SVE
    set; fpsimd_kvm_prepare() then copies the stale sve_state over the saved V registers,
    and the thread returns to EL0 with V0-V31 zero (no_loss, 12 steps).  v6.14 (#17's
    save+flush at vcpu load, no fpsimd_kvm_prepare) holds every property."""
    res = _explore(get_variant("v6.13"), **VMM_SVE)
    assert set(res.violations) == {"no_loss"}
    trace = res.violations["no_loss"]
    assert len(trace.steps) == 12
    load = [s for s in trace.steps if s.action == "vcpu_load"]
    assert load and "fpsimd_kvm_prepare" in load[0].functions
    assert load[0].state["vmm0.uw.v"] == "0"
    assert trace.steps[-1].state["cpu0.regs.v"] == "0"
    assert not _explore(get_variant("v6.14"), **VMM_SVE).violations


def _prepare_converting_only_sve_format(k: Ctx) -> None:
    """A hypothetical fpsimd_kvm_prepare() (no kernel has it) that converts only a state
    saved in SVE format: it closes the path above and leaves the rest of v6.13, so that
    the search shows what else v6.13's vcpu load does."""
    k.local_bh_disable()
    with k.If(k.test_thread_flag("TIF_SVE")):
        k.clear_thread_flag("TIF_SVE")
        with k.If(k.cur.fp_type.eq("SVE")):
            k.sve_to_fpsimd()
        k.set(k.cur.fp_type, "FPSIMD")
    k.local_bh_enable()


def test_v613_also_has_17s_tif_sve_zen_mismatch() -> None:
    """#17's reported mechanism: fpsimd_kvm_prepare() clears TIF_SVE while EL0 SVE stays
    enabled and HOST_SVE_ENABLED records it; the guest does not take the registers, and
    kvm_arch_vcpu_put_fp() (VHE) sets ZEN_EL0EN again: the thread returns to EL0 with
    SVE untrapped and TIF_SVE clear.  Its SVE writes are then not treated as SVE state:
    the next syscall does not zero the Z bits above 127 (sve.rst: they become zero), and
    a context switch would save it FPSIMD-only.  Found (no_loss, 14 steps) once the
    shorter path is closed; v6.14 holds there too."""
    diag = get_variant("v6.13").derive(
        "v6.13-prepare-checks-fp-type", "diagnostic only",
        fpsimd_kvm_prepare=_prepare_converting_only_sve_format)
    res = _explore(diag, **VMM_SVE)
    trace = res.violations["no_loss"]
    assert len(trace.steps) == 14
    write = [s for s in trace.steps if s.action == "user_sve_write"]
    assert write and write[0].state["vmm0.TIF_SVE"] == "0"
    assert write[0].state["cpu0.CPACR_EL1.ZEN_EL0EN"] == "1"
    assert trace.steps[-1].state["cpu0.regs.zhi"] == "vmm0"
