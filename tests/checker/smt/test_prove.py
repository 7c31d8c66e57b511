"""prove: fixed variants are proved (bit-exact), broken ones are refused with a CTI or a
counterexample (never a proof), and both engines agree on the verdicts."""

from __future__ import annotations

import json

import pytest

from checker.cli import main
from checker.explicit.explore import explore_bfs
from checker.instance import PROPERTY_NAMES, Instance
from checker.smt.induction import prove
from checker.trace import load_trace
from model.config import Config, kconfig_preset
from model.variants import get_variant
from tests.broken_variants import BROKEN

PREEMPT_NOLOCKDEP = kconfig_preset("preempt")  # the old lockdep=False

ALL = list(PROPERTY_NAMES)


def _variant(name: str):
    return BROKEN[name] if name in BROKEN else get_variant(name)


# The seed's FP protocol (everything but its locking-rule finding, see
# test_seed_locking_rule_is_refused) is proved on a kernel without lockdep/TRACE_IRQFLAGS.
SEED_PROPS = [p for p in ALL if p != "locking_rules"]


@pytest.mark.parametrize("variant,cfg", [
    ("v4.17", {}),
    ("v4.17", {"vhe": True}),
    ("seed", {**PREEMPT_NOLOCKDEP}),
    ("seed", {**PREEMPT_NOLOCKDEP, "vhe": True}),
    pytest.param("v4.17", {"cpus": 3, "vcpus": 2}, marks=pytest.mark.slow),  # 2 CPUs: rows 0-1
    pytest.param("seed", {**PREEMPT_NOLOCKDEP, "cpus": 3, "vcpus": 2, "vhe": True},
                 marks=pytest.mark.slow),  # three CPUs, as v4.17's row above
    # two tasks: the one-task rows 2-3 (and two-task proofs with events: test_prove_events)
    pytest.param("seed", {**PREEMPT_NOLOCKDEP, "tasks": 2}, marks=pytest.mark.slow),
    ("v4.18", {**kconfig_preset("distro")}),
])
def test_fixed_variants_are_proved(variant, cfg) -> None:
    props = SEED_PROPS if variant == "seed" else ALL
    res = prove(Instance(Config(**{"preemption": "merged", **cfg}), _variant(variant)), props)
    assert res.bits
    bad = [(o.name, o.initiation, o.consecution) for o in res.obligations if not o.ok]
    assert res.verdict == "PROVED", bad
    names = {o.name for o in res.obligations}
    assert set(props) | {"coherence", "nonvacuous", "counters_in_range"} <= names


def test_seed_locking_rule_is_refused() -> None:
    """Without lockdep the seed's put_fp still runs a pending softirq under rq->lock:
    prove refuses locking_rules with a CTI (a one-step switch out of a loaded vcpu thread
    with a softirq pending) that the explicit engine replays."""
    res = prove(Instance(Config(preemption="merged",
                                **PREEMPT_NOLOCKDEP), get_variant("seed")), ALL)
    assert res.verdict == "CTI"
    [ob] = res.failed()
    assert ob.name == "locking_rules" and ob.trace.kind == "cti"
    step = ob.trace.steps[-1]
    assert "kvm_arch_vcpu_put_fp" in step.functions
    assert any("softirq_under_irqsafe_lock" in v for v in step.violations)


@pytest.mark.parametrize("variant,cfg", [
    ("seed", {"cpus": 1}),
    ("seed", {"cpus": 1, **PREEMPT_NOLOCKDEP}),
    ("v4.17", {"cpus": 1}),
    ("v4.17", {"cpus": 1, "vmm_threads": 2, "vhe": True}),
    ("ctxsync-keeps-foreign", {"cpus": 1, **PREEMPT_NOLOCKDEP}),
    ("update-fp-enabled-ignores-foreign", {"cpus": 1, **PREEMPT_NOLOCKDEP}),
    ("hyp-switch-skips-host-save", {"cpus": 1, **PREEMPT_NOLOCKDEP}),
    ("put-fp-no-flush", {"cpus": 1, **PREEMPT_NOLOCKDEP}),
    ("switch-ignores-cpu", {"cpus": 2, "vmm_threads": 0, "vcpus": 0, **PREEMPT_NOLOCKDEP}),
    ("deactivate-keeps-tfp", {"cpus": 1, **PREEMPT_NOLOCKDEP}),
])
def test_engines_agree_on_verdicts(variant, cfg) -> None:
    """PROVED exactly when the explorer finds no violation; otherwise a CTI or a
    counterexample, each replayed in the explicit engine by prove itself."""
    inst = Instance(Config(**{"preemption": "merged", **cfg}), _variant(variant))
    ex, _ = explore_bfs(inst, ALL)
    assert ex.complete
    res = prove(inst, ALL)
    if ex.violations:
        assert res.verdict in ("CTI", "VIOLATED")
        failed = res.failed()
        assert failed and all(o.trace.engine == "smt-induction" for o in failed)
        assert all(o.trace.kind == ("cti" if o.consecution == "FAIL" else "counterexample")
                   for o in failed)
    else:
        assert res.verdict == "PROVED"


def test_v418_is_proved_with_the_inherited_seed_lemmas() -> None:
    res = prove(Instance(Config(preemption="merged"), get_variant("v4.18")), ALL)
    assert res.verdict == "PROVED"


@pytest.mark.parametrize("variant", ["v4.17", "v4.18"])
def test_sve_is_proved(variant) -> None:
    res = prove(Instance(Config(preemption="merged",
                                cpus=1, sve=True, vhe=True), get_variant(variant)), ALL)
    bad = [(o.name, o.initiation, o.consecution) for o in res.obligations if not o.ok]
    assert res.verdict == "PROVED", bad


@pytest.mark.slow  # two CPUs with SVE: test_lemmas_sve proves the split one-task case
def test_v418_with_sve_is_proved_on_two_cpus() -> None:
    """The SVE lemmas also cover migration (the default two CPUs; a few seconds)."""
    res = prove(Instance(Config(preemption="merged",
                                sve=True, vhe=True), get_variant("v4.18")), ALL)
    assert res.verdict == "PROVED"


def test_v418_rc1_with_sve_is_not_proved() -> None:
    """v4.18-rc1 with SVE has real bugs (fixes #2 and #3, docs/fixes.md): the inherited
    lemmas must be refused with a CTI or a counterexample, never proved."""
    res = prove(Instance(Config(preemption="merged",
                                cpus=1, sve=True, vhe=True, **PREEMPT_NOLOCKDEP),
                         get_variant("v4.18-rc1")), ALL)
    assert res.verdict in ("CTI", "VIOLATED")
    assert res.failed()


def test_seed_with_lockdep_gives_kernel_asserts_cti() -> None:
    # One CPU: the splat is in one CPU's context switch (two CPUs give the same three
    # failures at four times the solver time)
    res = prove(Instance(Config(preemption="merged", cpus=1), get_variant("seed")), ALL)
    assert res.verdict == "CTI"
    failed = {ob.name: ob for ob in res.failed()}
    # On the default (debug, TRACE_IRQFLAGS) kernel the seed also really loses the VMM
    # thread's state (no_loss V11 in explore), so the seed's own lemma that a task's state
    # is saved unless live is refused too.
    assert set(failed) == {"kernel_asserts", "locking_rules", "seed_task_saved_unless_live"}
    ob = failed["kernel_asserts"]
    assert ob.trace.kind == "cti" and len(ob.trace) == 1
    step = ob.trace.steps[0]
    assert "kvm_arch_vcpu_put_fp" in step.functions
    assert any("lockdep_assert_irqs_enabled" in v for v in step.violations)


def test_k_induction() -> None:
    res = prove(Instance(Config(preemption="merged", cpus=1), get_variant("v4.17")), ALL, k=2)
    assert res.verdict == "PROVED" and res.k == 2


@pytest.mark.slow
def test_k_induction_of_the_seed_is_not_a_proof() -> None:
    """Slow (CI time, 9 s): the seed's k=1 verdict is asserted in CI
    (test_prove_cli_table_json_and_files)."""
    res = prove(Instance(Config(preemption="merged", cpus=1), get_variant("seed")), ALL, k=2)
    assert res.verdict in ("CTI", "VIOLATED")


def test_without_lemmas_the_properties_are_not_inductive() -> None:
    """The lemmas are needed: the properties alone have CTIs (so the proof is not
    trivially true)."""
    res = prove(Instance(Config(preemption="merged", cpus=1), get_variant("v4.17")), ALL, lemmas={})
    assert res.verdict == "CTI"


def test_prove_cli_table_json_and_files(tmp_path, capsys) -> None:
    code = main(["prove", "--variant", "v4.17", "--cpus", "1", "--nvhe"])
    text = capsys.readouterr().out
    assert code == 0
    assert "property or lemma" in text and "consecution" in text and "PROVED" in text
    code = main(["prove", "--cpus", "1", "--vhe", "--json", "--out", str(tmp_path)])
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and out["exit_code"] == 1
    run = out["runs"][0]
    # the seed's CTI for kernel_asserts is classified: a real bug (the lockdep splat)
    assert run["verdict"] == "VIOLATED"
    ka = next(o for o in run["obligations"] if o["name"] == "kernel_asserts")
    assert ka["consecution"] == "FAIL" and ka["trace_kind"] == "cti"
    tr = load_trace(ka["trace"])
    assert tr.kind == "cti" and tr.engine == "smt-induction"
    real = load_trace(ka["cti"]["counterexample"])
    assert real.kind == "counterexample" and real.steps[-1].violations


def test_prove_cli_prints_cti_pre_state(tmp_path, capsys) -> None:
    assert main(["prove", "--cpus", "1", "--nvhe", "--out", str(tmp_path)]) == 1
    text = capsys.readouterr().out
    assert "VIOLATED: a reachable state" in text and "ASSERTION FAILED" in text
    assert "REACHABLE" in text or "REAL violation" in text


def test_prove_cli_timeout_and_usage(capsys) -> None:
    assert main(["prove", "--variant", "v4.17", "--cpus", "1", "--nvhe",
                 "--timeout", "0.001"]) == 3
    assert "UNKNOWN" in capsys.readouterr().out
    assert main(["prove", "--k", "0"]) == 2
    assert main(["prove", "--timeout", "-1"]) == 2


def test_v610_is_proved_and_v69_refused() -> None:
    """Today's kernels (model/variants/v6.py): v6.10 is proved with its own lemmas
    (properties/lemmas.py, V610; the default configuration is proved by `prove` in about
    a minute, here one CPU); v6.9, with #15, is refused (`prove` classifies the CTI as a
    real counterexample)."""
    cfg = dict(cpus=1, vhe=False, **PREEMPT_NOLOCKDEP)
    res = prove(Instance(Config(**cfg), get_variant("v6.10")), ALL)
    bad = [(o.name, o.initiation, o.consecution) for o in res.obligations if not o.ok]
    assert res.verdict == "PROVED", bad
    res = prove(Instance(Config(preemption="merged",
                                cpus=1, tasks=2, vmm_threads=0, vcpus=0, vhe=False,
                                **PREEMPT_NOLOCKDEP), get_variant("v6.9")), ALL)
    assert res.verdict in ("CTI", "VIOLATED") and res.failed()


def test_v614_is_proved_with_v610s_lemmas() -> None:
    """v6.14 (#17's save+flush at vcpu load) is proved with the v6.10 lemmas it inherits,
    less v6_host_pointer_at_load (host_data->fpsimd_state is no longer set); `prove
    --variant v6.14` proves the default configuration in about a minute, here one CPU."""
    cfg = dict(cpus=1, vhe=False, **PREEMPT_NOLOCKDEP)
    res = prove(Instance(Config(**cfg), get_variant("v6.14")), ALL)
    bad = [(o.name, o.initiation, o.consecution) for o in res.obligations if not o.ok]
    assert res.verdict == "PROVED", bad
    assert "v6_host_pointer_at_load" not in [o.name for o in res.obligations]


def test_v614_with_sve_is_proved_without_a_tracer() -> None:
    """With SVE, the VMM thread alone (no plain task, so no ptrace tracer: with one, #22 is
    a real counterexample on v6.14), v6.14 is proved with its SVE lemmas (V614)."""
    cfg = dict(cpus=1, tasks=0, vhe=True, sve=True, **PREEMPT_NOLOCKDEP)
    res = prove(Instance(Config(**cfg), get_variant("v6.14")), ALL)
    bad = [(o.name, o.initiation, o.consecution) for o in res.obligations if not o.ok]
    assert res.verdict == "PROVED", bad
    assert "v614_loaded_cpu_binds_no_task" in [o.name for o in res.obligations]


def test_v616_is_proved_with_v614s_lemmas_and_its_to_save_lemmas() -> None:
    """v6.16 (#22's fpsimd_syscall_enter/exit) keeps v6.14's lemmas; with SVE (the VMM
    thread alone, so no tracer and none of v6.16's ptrace defects) it needs two about
    fpsimd_last_state.to_save (V616).  `prove --variant v6.16` proves the default
    configuration (about 20 s per hyp mode), here one CPU."""
    for cfg in (dict(cpus=1, vhe=False, **PREEMPT_NOLOCKDEP),
                dict(cpus=1, tasks=0, vhe=True, sve=True, **PREEMPT_NOLOCKDEP)):
        res = prove(Instance(Config(**cfg), get_variant("v6.16")), ALL)
        bad = [(o.name, o.initiation, o.consecution) for o in res.obligations if not o.ok]
        assert res.verdict == "PROVED", bad
    names = [o.name for o in res.obligations]
    assert "v616_to_save_fpsimd_in_syscall" in names and "v614_loaded_cpu_binds_no_task" in names


def test_v616_ptrace_fixes_with_sve_and_a_tracer_is_proved() -> None:
    """#22 (398edaa12f9c) proved fixed where it shows: a tracer and a tracee with SVE (the
    configuration of the curated v6.14 counterexample).  It needs the P/FFR of another task
    allowed under an FPSIMD-loaded task's state (`_v6_task_regs_latest`) and the ghosts a
    tracer's NT_ARM_SVE write sets inside a syscall (`v6_sve_ghosts_need_tif_sve`)."""
    cfg = dict(cpus=1, tasks=2, vmm_threads=0, vcpus=0, vhe=True, sve=True,
               preemption="merged", **PREEMPT_NOLOCKDEP)
    res = prove(Instance(Config(**cfg), get_variant("v6.16-ptrace-fixes")), ALL)
    bad = [(o.name, o.initiation, o.consecution) for o in res.obligations if not o.ok]
    assert res.verdict == "PROVED", bad
