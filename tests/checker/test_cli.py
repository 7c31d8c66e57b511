"""The command line: exit codes, one-line errors, JSON output, written traces."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from checker.cli import main


def test_explore_violation_writes_trace(tmp_path, capsys) -> None:
    code = main(["explore", "--cpus", "1", "--nvhe", "--out", str(tmp_path), "--quiet"])
    out = capsys.readouterr().out
    assert code == 1
    assert re.search(r"kernel_asserts +VIOLATED", out)
    assert re.search(r"locking_rules +VIOLATED", out)
    assert "kconfig=debug (PREEMPT PROVE_LOCKING TRACE_IRQFLAGS)" in out
    assert "states 8,885" in out  # 1,522 with --preemption merged
    files = sorted(f for f in tmp_path.glob("*.json") if "@" not in f.name)  # no site files
    assert [f.name.split("-")[1] for f in files] == [
        "kernel_asserts", "locking_rules", "no_leak", "no_loss"]
    for f in files:
        data = json.loads(f.read_text())
        assert data["format"] == "fpcheck-trace"
        lengths = {"kernel_asserts": 6, "locking_rules": 6, "no_loss": 11, "no_leak": 11}
        assert len(data["steps"]) == lengths[data["property"]]
        assert data["config"]["prove_locking"] is True
    # the counterexample text says who splats for the locking rule
    assert "irqs_on_under_irqsafe_lock" in out and "splat here: lockdep" in out


def test_kconfig_presets_and_overrides(tmp_path, capsys) -> None:
    code = main(["explore", "--cpus", "1", "--nvhe", "--kconfig", "distro", "--json",
                 "--out", str(tmp_path)])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    [run] = data["runs"]
    assert run["config"]["preempt"] == "PREEMPT_VOLUNTARY"
    assert not run["config"]["prove_locking"] and not run["config"]["trace_irqflags"]
    verdicts = {p: v["verdict"] for p, v in run["properties"].items()}
    assert verdicts == {"no_loss": "holds", "no_leak": "holds", "host_fp_untrapped": "holds",
                        "kernel_asserts": "holds", "locking_rules": "VIOLATED",
                        "data_ownership": "holds"}
    # --no-lockdep is the old flag: PROVE_LOCKING and TRACE_IRQFLAGS off (preset preempt)
    code = main(["explore", "--variant", "v4.18", "--cpus", "1", "--nvhe", "--no-lockdep",
                 "--json", "--out", str(tmp_path)])
    run = json.loads(capsys.readouterr().out)["runs"][0]
    assert code == 0
    assert {k: run["config"][k] for k in ("preempt", "prove_locking", "trace_irqflags")} == {
        "preempt": "PREEMPT", "prove_locking": False, "trace_irqflags": False}
    # an override on top of a preset; `all` runs every preset
    code = main(["explore", "--variant", "v4.18", "--cpus", "1", "--nvhe", "--kconfig",
                 "server", "--config", "CONFIG_TRACE_IRQFLAGS=y", "--json", "--out",
                 str(tmp_path)])
    run = json.loads(capsys.readouterr().out)["runs"][0]
    assert code == 0 and run["config"]["preempt"] == "PREEMPT_NONE"
    assert run["config"]["trace_irqflags"] is True
    code = main(["explore", "--variant", "v4.18", "--cpus", "1", "--nvhe", "--kconfig", "all",
                 "--json", "--out", str(tmp_path)])
    runs = json.loads(capsys.readouterr().out)["runs"]
    from model.config import KCONFIG_PRESETS
    assert code == 0 and len(runs) == len(KCONFIG_PRESETS)


def test_kconfig_bad_input_is_one_line_exit_2() -> None:
    for args, msg in [
        (["--kconfig", "nonsense"], "unknown kernel configuration 'nonsense'"),
        (["--config", "PROVE_LOCKING"], "expected NAME=y or NAME=n"),
        (["--config", "LOCKDEP=y"], "unknown option"),
        (["--config", "TRACE_IRQFLAGS=n"], "PROVE_LOCKING selects CONFIG_TRACE_IRQFLAGS"),
        (["--config", "PREEMPT=n"], "the preemption model is a choice"),
    ]:
        p = subprocess.run([sys.executable, "-m", "checker", "explore", "--cpus", "1", *args],
                           capture_output=True, text=True)
        assert p.returncode == 2, args
        assert p.stderr.count("\n") == 1 and msg in p.stderr, (args, p.stderr)
        assert "Traceback" not in p.stderr


def test_explore_fixed_variant_exits_zero_and_json(tmp_path, capsys) -> None:
    code = main(["explore", "--variant", "v4.18", "--cpus", "1", "--json",
                 "--out", str(tmp_path)])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["exit_code"] == 0
    assert len(data["runs"]) == 2  # nVHE and VHE
    run = data["runs"][0]
    assert run["properties"]["no_loss"]["verdict"] == "holds"
    assert run["guards"]["migrate_with_live_state"] == "n/a"
    assert not list(tmp_path.iterdir())


def test_property_selection(capsys) -> None:
    code = main(["explore", "--cpus", "1", "--nvhe", "--kconfig", "preempt", "--property",
                 "no_loss", "--property", "no_leak", "--quiet", "--out", "/tmp/fpcheck-unused"])
    out = capsys.readouterr().out
    assert code == 0 and "kernel_asserts" not in out.split("reachability")[0]


def test_bound_hit_exits_three(capsys) -> None:
    code = main(["explore", "--cpus", "1", "--nvhe", "--property", "no_loss",
                 "--max-states", "50", "--quiet"])
    assert code == 3
    assert "INCOMPLETE" in capsys.readouterr().out


def test_usage_errors_are_one_line_exit_two(capsys) -> None:
    for argv in (["explore", "--variant", "nope"], ["explore", "--cpus", "9"],
                 ["explore", "--property", "bogus"], ["explore", "--frobnicate"],
                 ["explore", "--variant-file", "/nonexistent.py"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1, err


def test_coverage_table(capsys) -> None:
    main(["explore", "--cpus", "1", "--nvhe", "--coverage", "--quiet",
          "--out", "/tmp/fpcheck-unused"])
    out = capsys.readouterr().out
    assert "modelled step" in out and "guest_fp_trap" in out


def test_user_variant_file(tmp_path, capsys) -> None:
    f = tmp_path / "my_fix.py"
    f.write_text(
        "from model.variants import get_variant\n"
        "from model.variants.v4_18 import kvm_arch_vcpu_put_fp\n"
        "VARIANT = get_variant('seed').derive('my-fix', 'seed + irq-save put_fp',\n"
        "    kvm_arch_vcpu_put_fp=kvm_arch_vcpu_put_fp)\n"
    )
    code = main(["explore", "--variant-file", str(f), "--variant", "my-fix", "--cpus", "1",
                 "--nvhe", "--quiet"])
    assert code == 0, capsys.readouterr().out


def test_module_entry_point_help() -> None:
    r = subprocess.run([sys.executable, "-m", "checker", "explore", "--help"],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0
    for opt in ("--variant", "--cpus", "--tasks", "--vcpus", "--vhe", "--nvhe", "--property",
                "--max-states", "--json", "--coverage"):
        assert opt in r.stdout


def test_invalid_user_variant_is_a_usage_error(tmp_path, capsys) -> None:
    f = tmp_path / "bad.py"
    f.write_text(
        "from model.variants import get_variant\n"
        "def kvm_arch_vcpu_ctxsync_fp(k, vcpu):\n"
        "    with k.If(k.this_cpu.regs.v.eq('0')):\n"
        "        k.set(k.this_cpu.preempt_count, 1)\n"
        "VARIANT = get_variant('seed').derive('bad', 'peeks at registers',\n"
        "    kvm_arch_vcpu_ctxsync_fp=kvm_arch_vcpu_ctxsync_fp)\n"
    )
    assert main(["explore", "--variant-file", str(f), "--variant", "bad", "--cpus", "1"]) == 2
    err = capsys.readouterr().err
    assert "data-independent" in err and err.count("\n") == 1


def test_host_only_guards_not_applicable(tmp_path, capsys) -> None:
    """--vcpus 0: the guest-only guards cannot apply, so they are n/a (exit 0), while the
    host guard that can apply is still required."""
    code = main(["explore", "--vcpus", "0", "--vmm-threads", "0", "--json",
                 "--out", str(tmp_path)])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    guards = data["runs"][0]["guards"]
    assert guards["guest_fp_live_at_irq"] == "n/a"
    assert guards["hyp_saves_host_state"] == "n/a"
    assert guards["migrate_with_live_state"] == "reached"


def test_same_counterexample_in_both_hyp_modes_printed_once(tmp_path, capsys) -> None:
    assert main(["explore", "--cpus", "1", "--quiet", "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert out.count("counterexample for kernel_asserts on variant seed") == 1
    assert "the same events as the one shown above for cpus=1" in out
    # both traces are still written (one per hyp mode)
    assert len(list(tmp_path.glob("seed-kernel_asserts-*.json"))) == 2


def test_what_column_says_who_reads_what(tmp_path, capsys) -> None:
    from pathlib import Path

    mutants = Path(__file__).resolve().parents[2] / "counterexamples" / "mutants.py"
    assert main(["explore", "--variant-file", str(mutants), "--variant",
                 "mutant-ctxsync-keeps-foreign", "--cpus", "1", "--nvhe", "--no-lockdep",
                 "--quiet", "--property", "no_loss", "--out", str(tmp_path)]) == 1
    row = next(line for line in capsys.readouterr().out.splitlines()
               if line.startswith("no_loss"))
    assert "guest G0 on cpu0 can read" in row and "lost" in row


def test_explore_lemmas_reports_each_false_lemma_with_a_replayable_trace(tmp_path, capsys) -> None:
    """`explore --lemmas`: the seed's lemmas hold on the seed and are false on a mutant that
    inherits them (put_fp without the flush); each false one is a property with a trace
    that replays."""
    mutants = "counterexamples/mutants.py"
    base = ["explore", "--cpus", "1", "--nvhe", "--kconfig", "preempt", "--preemption",
            "merged", "--lemmas", "--json", "--out", str(tmp_path)]
    assert main([*base, "--variant", "seed"]) == 1  # the seed's own bug (no_loss)
    seed = json.loads(capsys.readouterr().out)["runs"][0]["properties"]
    lemmas = {p: v["verdict"] for p, v in seed.items() if p.startswith("lemma:")}
    assert "lemma:seed_vcpu_binding_is_live" in lemmas
    assert set(lemmas.values()) == {"holds"}
    assert main([*base, "--variant-file", mutants, "--variant", "mutant-put-fp-no-flush"]) == 1
    props = json.loads(capsys.readouterr().out)["runs"][0]["properties"]
    assert props["lemma:seed_vcpu_binding_is_live"]["length"] == 10
    trace = props["lemma:seed_vcpu_binding_is_live"]["counterexample"]
    assert main(["replay", "--variant-file", mutants, trace]) == 1
    assert "REPRODUCES: lemma:seed_vcpu_binding_is_live is violated" in capsys.readouterr().out
