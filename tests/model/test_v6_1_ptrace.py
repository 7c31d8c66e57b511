"""The tracer's NT_ARM_SVE / NT_ARM_SSVE writes with payload kinds and header VLs on v6.1
(model/variants/v6_1_sme.py `sve_set_common_v61`; events ptrace_sve_fpsimd,
ptrace_sve_nodata, ptrace_sve_vl) against v6.1's ptrace.c, and what explore finds there:

* the FPSIMD-format NT_ARM_SSVE write on a tracee already in streaming mode keeps its old
  Z bits above 127 (fpsimd_force_sync_to_sve() merges V into sve_state without zero
  padding, and v6.1's reload takes sve_state by thread.svcr.SM): no_loss, 7 steps, not
  on v6.8-v6.15 (baa8515281b3, v6.2: fp_type FP_STATE_FPSIMD, an FPSIMD-format reload)
  nor v6.16 (f916dd32a943 refuses the payload);
* the known header-only mechanism of v6.8-v6.15 (sve_alloc(target, true) zeroes the
  registers of a tracee whose sve_state is authoritative: TIF_SVE, or streaming mode)
  holds on v6.1 too."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.inspect.load import load
from checker.inspect.replay import build_instance, replay
from checker.instance import Instance
from checker.native.explore import explore_native
from model.config import Config, kconfig_preset
from model.dsl import ModelError
from model.variants import get_variant

from .probe import Probe

PREEMPT = kconfig_preset("preempt")
# One CPU, a tracer and a tracee, no KVM, SVE (v6.1 takes the payload events with --sme
# only together with --sve), merged steps.
SVE = dict(cpus=1, tasks=2, vmm_threads=0, vcpus=0, vhe=True, sve=True,
           preemption="merged", **PREEMPT)
# The tracee T0 stopped in a syscall, switched out, its state saved (non-streaming,
# TIF_SVE clear) and still in cpu0's registers; the tracer T1 runs in ptrace().
STOPPED = {"cpu0.current": "T1", "T1.pc": "KERNEL", "T0.pc": "KERNEL",
           "T1.uw.v": "T1", "T1.uw.fpsr": "T1", "T0.uw.v": "T0", "T0.uw.fpsr": "T0",
           "cpu0.regs.v": "T0", "T0.TIF_FOREIGN_FPSTATE": "0", "T0.fpsimd_cpu": "cpu0"}
# ... or already in streaming mode (saved SVE-format in sve_state, Z-high and P its own)
STREAMING = {"T0.svcr.SM": "1", "T0.TIF_SME": "1", "T0.sve_state.v": "T0",
             "T0.sve_state.zhi": "T0", "T0.sve_state.p": "T0", "ghost.T0.sm": "1",
             "ghost.T0.zhi_written": "1", "ghost.T0.p_written": "1"}
COUNTEREXAMPLES = Path(__file__).resolve().parents[2] / "counterexamples"
T_ZHI = COUNTEREXAMPLES / ("v6.1-ssve-fpsimd-zhi-no_loss-vhe-c1t2v0m0-sve-sme-preempt"
                           "-explicit-bfs.json")


def probe(variant: str = "v6.1", **extra) -> Probe:
    cfg = {k: v for k, v in {**SVE, **extra}.items() if k != "preemption"}
    return Probe(variant, **cfg)


def write(variant: str, sme: bool, payload: str, vl: int | None = None, *,
          config: dict | None = None, **pre: str) -> dict[str, str]:
    """The tracer T1's sve_set_common() on T0 (no kernel check may fail)."""
    config = {"events": ("ptrace_sve_fpsimd", "ptrace_sve_nodata"), **(config or {})}
    st, viol = probe(variant, **config).run(
        "sve_set_common", 0, sme, payload, vl, task="T1", **{**STOPPED, **pre})
    assert not viol
    return st


# ------------------------------------------------------------------ the table
def test_v61_has_its_own_sve_set_common() -> None:
    f = get_variant("v6.1").functions
    assert f["sve_set_common"].__name__ == "sve_set_common_v61"
    assert f["fpsimd_force_sync_to_sve"].__module__ == "model.variants.v6_1_sme"
    assert "fpsimd_force_sync_to_sve" not in get_variant("v6.8").functions  # gone in v6.2
    # with SME the events need SVE on v6.1 (its NT_ARM_SSVE write sets TIF_SVE)
    with pytest.raises(ModelError, match="needs --sve on v6.1"):
        Instance(Config(**{**SVE, "sve": False, "sme": True}, events=("ptrace_sve_nodata",)),
                 get_variant("v6.1"))


# ------------------------------------------------------------------ the C, statement by statement
@pytest.mark.parametrize("sme", [False, True])
@pytest.mark.parametrize("streaming", [False, True])
def test_full_sve_payload_is_v61s_sve_set_and_ssve_set(sme: bool, streaming: bool) -> None:
    """With SVE data at the tracee's VL sve_set_common_v61 is the same function as the
    NT_ARM_SVE / NT_ARM_SSVE steps' (`v6_1_sme.sve_set_sme_v61`, `ssve_set_v61`): the
    same state from a non-streaming and a streaming tracee."""
    pre = {**STOPPED, **(STREAMING if streaming else {})}
    p = probe(sme=True, events=("ptrace_fpr_set",))
    common, _ = p.run("sve_set_common", 0, sme, "sve", None, task="T1", **pre)
    direct, _ = p.run("ssve_set" if sme else "sve_set", 0, task="T1", **pre)
    assert common == direct


def test_sve_fpsimd_payload_clears_tif_sve() -> None:
    """NT_ARM_SVE with SVE_PT_REGS_FPSIMD (no SME): __fpr_set() (a new generation of V
    and FPSR/FPCR in uw.fpsimd_state), TIF_SVE cleared; sve_state untouched (not read)."""
    st = write("v6.1", False, "fpsimd",
               **{"T0.TIF_SVE": "1", "T0.sve_state.v": "T0", "T0.sve_state.zhi": "T0"})
    assert st["T0.TIF_SVE"] == "0" and st["T0.uw.v"] == "T0" and st["cpu0.regs.v"] == "T0~"
    assert st["T0.sve_state.zhi"] == "T0~" and st["ghost.T0.zhi_written"] == "0"
    assert st["T0.TIF_FOREIGN_FPSTATE"] == "1"


@pytest.mark.parametrize("streaming", [False, True])
def test_ssve_fpsimd_payload_merges_v_into_sve_state(streaming: bool) -> None:
    """v6.1 NT_ARM_SSVE with SVE_PT_REGS_FPSIMD: the streaming block sets SVCR.SM (TIF_SME
    untouched: 5d0a8d2fba50 came later) and zeroes sve_state if SM changed; __fpr_set();
    TIF_SVE cleared; fpsimd_force_sync_to_sve(): the new V into sve_state, the Z bits
    above 127 and P as they were (zero after the mode change, the tracee's own when it
    was already streaming: the finding).  v6.10 instead sets fp_type FP_STATE_FPSIMD."""
    pre = STREAMING if streaming else {}
    st = write("v6.1", True, "fpsimd", config={"sme": True}, **pre)
    assert st["T0.svcr.SM"] == "1" and st["T0.TIF_SVE"] == "0" and st["ghost.T0.sm"] == "1"
    assert st["T0.TIF_SME"] == ("1" if streaming else "0")
    assert st["T0.uw.v"] == "T0" and st["T0.sve_state.v"] == "T0"  # the tracer's V, twice
    assert st["ghost.T0.zhi_written"] == "0"  # an FPSIMD-format write: Z-high reads zero
    assert st["T0.sve_state.zhi"] == ("T0~" if streaming else "0")
    st = write("v6.10", True, "fpsimd", config={"sme": True}, **pre)
    assert st["T0.fp_type"] == "FPSIMD" and st["T0.TIF_SME"] == "1"


def test_nodata_zeroes_per_format() -> None:
    """A header without data at the same VL (v6.1 as v6.8-v6.15): sve_alloc(target, true)
    zeroes sve_state; fpsimd_sync_to_sve() copies V back only for an FPSIMD-format tracee
    (TIF_SVE clear, not streaming); TIF_SVE is set for both regsets (v6.1: "Always
    enable SVE even if going into streaming mode")."""
    st = write("v6.1", False, "nodata")
    assert st["T0.TIF_SVE"] == "1" and st["T0.sve_state.v"] == "T0"
    assert st["T0.sve_state.zhi"] == "0" and st["T0.sve_state.p"] == "0"
    st = write("v6.1", False, "nodata", **{"T0.TIF_SVE": "1", "T0.sve_state.v": "T0"})
    assert st["T0.sve_state.v"] == "0"  # the known header-only loss (TIF_SVE set)
    st = write("v6.1", True, "nodata", config={"sme": True}, **STREAMING)
    assert st["T0.sve_state.v"] == "0" and st["T0.TIF_SVE"] == "1"  # (SM set: streaming)


@pytest.mark.parametrize("streaming, after", [(False, "zero"), (True, "1")])
def test_nodata_p_ghost_like_v68(streaming: bool, after: str) -> None:
    """The P/FFR rule (tests/model/test_p_zero.py) on v6.1: its sve.rst and sme.rst have
    v6.10's texts here (a payload-less write changes "only the vector length and flags";
    a mode switch through ptrace without register content zeroes everything), so a
    header-only NT_ARM_SSVE write must leave zero P exactly where it enters streaming
    mode (P_ZERO), with zero V and the reset FPSR; already streaming, nothing changes."""
    pre = {**(STREAMING if streaming else {}), "ghost.T0.p_written": "1",
           "T0.sve_state.p": "T0"}
    st = write("v6.1", True, "nodata", config={"sme": True}, **pre)
    assert st["ghost.T0.p_written"] == after and st["T0.sve_state.p"] == "0"
    assert st["ghost.T0.exec_zero"] == ("0" if streaming else "1")
    # the code keeps uw.fpsimd_state's FPSR where entering streaming mode resets it: v6.10's
    # header-only FPSR finding (counterexamples/README.md), which explore shows on v6.1 too
    # (no_loss, 5 steps, `--sve --sme --event ptrace_sve_nodata`)
    assert st["T0.uw.fpsr"] == "T0"


def test_header_vl_runs_v61s_vec_set_vector_length_first() -> None:
    """An NT_ARM_SSVE header at the other SVL (event ptrace_sve_vl): v6.1's
    vec_set_vector_length(ARM64_VEC_SME) first (SM/ZA cleared, the streaming registers
    converted, sve_state freed, and *current's* TIF_SME cleared: the tracer's, which
    c9bb40b7f786 later moved to the task), then the write at the new SVL (SM set again)."""
    st = write("v6.1", True, "sve", 0,
               config={"sme": True, "sme_vls": (128, 256),
                       "events": ("ptrace_sve_vl", "sme_set_vl")},
               **{**STREAMING, "T1.TIF_SME": "1"})
    assert st["T0.sme_vl"] == "128" and st["T0.svcr.SM"] == "1" and st["T0.TIF_SVE"] == "1"
    assert st["T1.TIF_SME"] == "0" and st["T0.TIF_SME"] == "1"
    assert st["T0.sve_state.zhi"] == "T0" and st["ghost.T0.sm"] == "1"


# ------------------------------------------------------------------ explore
def test_v61_sve_fpsimd_payload_holds() -> None:
    """Without SME the FPSIMD-format NT_ARM_SVE write breaks nothing on v6.1 (29,585
    states, one CPU, a tracer and a tracee)."""
    res, _ = explore_native(Instance(Config(**SVE, events=("ptrace_sve_fpsimd",)),
                                     get_variant("v6.1")), ["no_loss", "no_leak"], workers=1)
    assert res.complete and not res.violations
    assert res.stats.states == 29_585


def test_v61_header_only_nt_arm_sve_loses_a_tif_sve_tracees_z() -> None:
    """The known header-only mechanism (counterexamples/README.md, the
    v6.10-ssve-nodata row: "an NT_ARM_SVE header-only write on a tracee with TIF_SVE set
    loses its Z the same way") found unaided on v6.1 without SME: no_loss, 6 steps (a
    full NT_ARM_SVE write sets TIF_SVE, a header-only one zeroes sve_state and restores
    nothing), as on v6.10 (the same statements); v6.16 with 5cbb61bf4168 zeroes by design
    (the tracee must read zero) and does not reproduce them."""
    cfg = Config(**SVE, events=("ptrace_sve_nodata",))
    res, _ = explore_native(Instance(cfg, get_variant("v6.1")), ["no_loss"],
                            stop_early=True, workers=1)
    trace = res.violations["no_loss"]
    assert [s.action for s in trace.steps][1:3] == ["ptrace_sve_set", "ptrace_sve_set_nodata"]
    assert len(trace.steps) == 6
    assert not replay(trace, build_instance(trace, "v6.16-ptrace-fixes", {})).reproduces


@pytest.mark.slow
def test_v61_ssve_header_svl_without_tif_sme_warns_on_the_save() -> None:
    """The NT_ARM_SSVE finding (counterexamples/README.md, the v6.1-ssve row: v6.1's write
    sets SVCR.SM but not TIF_SME) with a header SVL (events ptrace_sve_vl, sme_set_vl):
    4 steps to the symptom 5d0a8d2fba50's message names ("inconsistent register sizes when
    saving state"): the tracee's reload enters streaming mode without sme_set_vq() and a
    softirq's fpsimd_save() WARNs on the SVL (kernel_asserts).  With 5d0a8d2fba50's
    TIF_SME (counterexamples/probes_v61.py) the steps replay without the WARN.  Slow (6.4 s
    with a cold native build, 1.3 s warm): `python -m checker explore --variant v6.1 --sve
    --sme --sme-vls 128,256 --event sme_set_vl --event ptrace_sve_vl --cpus 1 --tasks 2
    --vcpus 0 --vmm-threads 0 --kconfig preempt --preemption merged --vhe --stop-early
    --property kernel_asserts` (1,777 states)."""
    from model.variants import load_variant_file
    cfg = Config(**SVE, sme=True, sme_vls=(128, 256), events=("sme_set_vl", "ptrace_sve_vl"))
    res, _ = explore_native(Instance(cfg, get_variant("v6.1")), ["kernel_asserts"],
                            stop_early=True, workers=1)
    trace = res.violations["kernel_asserts"]
    assert len(trace.steps) == 4 and trace.steps[1].action.startswith("ptrace_ssve_set_vl")
    assert "sve_get_vl() != vl" in trace.violation
    probes = load_variant_file(str(COUNTEREXAMPLES / "probes_v61.py"))
    assert not replay(trace, build_instance(trace, "probe-v6.1-ssve-tif-sme", probes)).reproduces


@pytest.mark.slow
def test_v61_sve_fpsimd_payload_is_proved() -> None:
    """`prove` of the configuration above (VHE; nVHE the same), with the existing lemmas:
    `python -m checker prove --variant v6.1 --sve --event ptrace_sve_fpsimd --cpus 1
    --tasks 2 --vcpus 0 --vmm-threads 0 --kconfig preempt --preemption merged --vhe
    --jobs 1` (5.7 s; slow for CI's budget)."""
    from checker.smt.induction import prove
    from properties.fp import PROPERTY_NAMES
    res = prove(Instance(Config(**SVE, events=("ptrace_sve_fpsimd",)), get_variant("v6.1")),
                list(PROPERTY_NAMES))
    bad = [(o.name, o.initiation, o.consecution) for o in res.obligations if not o.ok]
    assert res.verdict == "PROVED", bad


@pytest.mark.slow
def test_v61_sve_fpsimd_payload_with_vl_changes_is_proved() -> None:
    """The same with two SVE VLs, the task's own PR_SVE_SET_VL and the tracer's header VL:
    `python -m checker prove --variant v6.1 --sve --sve-vls 128,256 --event
    ptrace_sve_fpsimd --event sve_set_vl --event ptrace_sve_vl --cpus 1 --tasks 2 --vcpus 0
    --vmm-threads 0 --kconfig preempt --preemption merged --vhe --jobs 1` (14.6 s; nVHE
    15.6 s).  It needs v6.16's sve_bound_state_at_its_vl (v6.1's task_fpsimd_load() and
    SVE trap also set the VL before the bind, and its VL change flushes the binding);
    without it the CTIs' pre-states are unreachable (581,818 states searched)."""
    from checker.smt.induction import prove
    from properties.fp import PROPERTY_NAMES
    cfg = Config(**SVE, sve_vls=(128, 256),
                 events=("ptrace_sve_fpsimd", "sve_set_vl", "ptrace_sve_vl"))
    res = prove(Instance(cfg, get_variant("v6.1")), list(PROPERTY_NAMES))
    bad = [(o.name, o.initiation, o.consecution) for o in res.obligations if not o.ok]
    assert res.verdict == "PROVED", bad


# ------------------------------------------------------------------ the finding
def test_curated_ssve_fpsimd_zhi_reproduces_on_v61_only() -> None:
    """counterexamples/v6.1-ssve-fpsimd-zhi-*: T0 writes T1's NT_ARM_SSVE with SVE data
    (T1 streaming, its Z-high in sve_state), then with an FPSIMD payload (v6.1: V merged
    into sve_state, Z-high kept), then NT_ARM_ZA (TIF_SME: EL0 SME untrapped); T1's reload
    takes sve_state (SVCR.SM) and T1 reads its old Z bits above 127 where the FPSIMD-format
    write leaves zero (no_loss).  v6.8 and v6.10 reload FPSIMD-format (fp_type,
    baa8515281b3: Z-high zero), v6.16 refuses the payload (f916dd32a943)."""
    trace = load(str(T_ZHI))
    assert trace.variant == "v6.1" and trace.property == "no_loss" and len(trace.steps) == 7
    actions = [s.action for s in trace.steps]
    assert actions[1:4] == ["ptrace_ssve_set", "ptrace_ssve_set_fpsimd", "ptrace_za_set"]
    last = trace.steps[-1].state
    assert last["cpu0.regs.zhi"] == "T1~" and last["ghost.T1.zhi_written"] == "0"
    assert replay(trace, build_instance(trace, "v6.1", {})).reproduces
    for fixed in ("v6.10", "v6.16-ptrace-fixes"):  # (v6.8 and plain v6.16 too: the README)
        assert not replay(trace, build_instance(trace, fixed, {})).reproduces, fixed
