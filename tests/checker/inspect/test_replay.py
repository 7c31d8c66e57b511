"""`replay`: reproduces, diverges, mismatches, stale fingerprints, CTIs."""

from __future__ import annotations

import json

from checker.cli import main
from checker.inspect.load import load
from checker.inspect.replay import build_instance, replay

from .conftest import MUTANTS_FILE, edited

MF = ["--variant-file", str(MUTANTS_FILE)]


def test_reproduces_on_own_variant(traces, capsys) -> None:
    assert main(["replay", traces["asserts"]]) == 1
    out = capsys.readouterr().out
    assert "REPRODUCES: kernel_asserts is violated again at step 6" in out
    for name in ("leak", "guest_loss", "migration"):
        assert main(["replay", traces[name], *MF]) == 1, name
        assert "REPRODUCES" in capsys.readouterr().out


def test_fixed_variant_does_not_reproduce(traces, capsys) -> None:
    assert main(["replay", traces["asserts"], "--variant", "v4.18"]) == 0
    out = capsys.readouterr().out
    assert "DOES NOT REPRODUCE: all 6 steps replay, but no kernel assertion fails" in out
    assert "the recorded kernel assertion does not fail" in out


def test_step_not_enabled_is_a_divergence(traces, capsys) -> None:
    # On the seed, ctxsync clears TIF_FOREIGN_FPSTATE, so the re-entry leaves FP
    # untrapped and the guest's FP trap (the last step) cannot happen.
    n = len(load(traces["guest_loss"]).steps)
    assert main(["replay", traces["guest_loss"], "--variant", "seed", *MF]) == 0
    out = capsys.readouterr().out
    assert (f"DOES NOT REPRODUCE: diverges at step {n}: guest_fp_trap(cpu0, vmm0, vcpu0) "
            "is not enabled in this variant (cpu0.") in out
    assert main(["replay", traces["guest_loss"], "--variant", "seed", "--json", *MF]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["steps_replayed"] == n - 1 and data["divergence"].startswith(f"step {n}:")


def test_forged_state_is_an_input_error(traces, tmp_path, capsys) -> None:
    bad = edited(traces["asserts"], tmp_path / "t.json",
                 lambda d: d["steps"][2]["state"].update({"vcpu0.pid": "vmm0"}))
    assert main(["replay", bad]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "is not a consistent trace of variant seed: the recorded state does not match " \
           "the model after step 3: vcpu0.pid recorded vmm0, replayed NULL" in err
    # show renders it, with a warning
    assert main(["show", bad]) == 0
    assert "warning: " in capsys.readouterr().err


def test_truncated_trace_is_an_input_error(traces, tmp_path, capsys) -> None:
    cut = edited(traces["asserts"], tmp_path / "cut.json", lambda d: d["steps"].pop())
    assert main(["replay", cut, "--variant", "v4.18"]) == 2  # not "does not reproduce"
    err = capsys.readouterr().err
    assert "its kernel_asserts violation does not happen on its own variant seed after " \
           "all 5 steps (truncated?)" in err


def test_label_disagreeing_with_parameters_is_an_input_error(traces, tmp_path, capsys) -> None:
    def relabel(d):
        d["steps"][0]["label"] = d["steps"][0]["label"].replace("cpu0", "cpu1")
    bad = edited(traces["asserts"], tmp_path / "lab.json", relabel)
    assert main(["replay", bad]) == 2
    assert "step 1: the label" in capsys.readouterr().err


def test_mismatches_on_another_variant_are_reported(traces, capsys) -> None:
    assert main(["replay", traces["migration"], "--variant", "seed", *MF]) == 0
    out = capsys.readouterr().out
    assert "state mismatches" in out and "T0.TIF_FOREIGN_FPSTATE" in out


def test_fingerprint_mismatch_warns_and_replays(traces, tmp_path, capsys) -> None:
    old = edited(traces["asserts"], tmp_path / "old.json",
                 lambda d: d.update(model_fingerprint="0123456789abcdef"))
    assert main(["replay", old]) == 1
    cap = capsys.readouterr()
    here = load(traces["asserts"]).fingerprint
    assert "warning: the trace was made by model version 0123456789abcdef, this model is " \
           f"version {here}" in cap.err
    assert "REPRODUCES" in cap.out


def test_cti_replays_from_recorded_initial_state(traces, tmp_path, capsys) -> None:
    trace = load(traces["guest_loss"])
    k = 6  # a CTI: start in the state after step k, keep the rest

    def to_cti(d):
        d["kind"] = "cti"
        d["engine"] = "prove"
        d["initial"] = d["steps"][k - 1]["state"]
        d["steps"] = d["steps"][k:]
        for i, s in enumerate(d["steps"], 1):
            s["step"] = i
    cti = edited(traces["guest_loss"], tmp_path / "cti.json", to_cti)
    assert main(["replay", cti, *MF]) == 1
    out = capsys.readouterr().out
    assert f"REPRODUCES: no_loss is violated again at step {len(trace.steps) - k}" in out
    assert "initial state:" not in out  # no mismatch: it starts where the CTI says
    # the same steps from the model's own initial state do not even start: claiming they
    # are a counterexample is an inconsistent trace
    plain = edited(cti, tmp_path / "plain.json", lambda d: d.update(kind="counterexample"))
    assert main(["replay", plain, *MF]) == 2
    assert "step 1: " in capsys.readouterr().err


def test_replay_api(traces) -> None:
    trace = load(traces["migration"])
    from model.variants import get_variant

    res = replay(trace, build_instance(trace, "seed"))
    assert not res.reproduces and res.exit_code == 0 and res.replayed == len(trace.steps)
    assert res.mismatches and res.mismatches[0].var == "T0.TIF_FOREIGN_FPSTATE"
    assert get_variant("seed").name == res.variant


def test_cti_of_an_encoding_obligation_says_why_it_cannot_be_checked(traces, tmp_path,
                                                                     capsys) -> None:
    """prove's `coherence` is about bits and ghosts, not a property of the model: replaying
    its CTI is refused with that reason in one line (no list of every lemma name)."""
    cti = edited(traces["guest_loss"], tmp_path / "coh.json",
                 lambda d: d.update(kind="cti", property="coherence"))
    assert main(["replay", cti, *MF]) == 2
    err = capsys.readouterr().err
    assert "counterexample to induction of 'coherence', an obligation of prove's SMT" in err
    assert err.count("\n") == 1 and "lemma:" not in err
