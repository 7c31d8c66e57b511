"""`show`: the step table, its filters and formats, on real traces."""

from __future__ import annotations

import json
import re

from checker.cli import main
from checker.inspect.load import load


def test_table_shows_changes_and_verdict(traces, capsys) -> None:
    assert main(["show", traces["asserts"]]) == 0
    out = capsys.readouterr().out
    assert "cpu0.current: idle0→vmm0" in out  # step 1 changed only this
    assert "cpu0.regs{v,fpsr}: zero → vmm0's latest" in out  # register image grouped
    assert "vmm0: now in KVM_RUN, before vcpu_load (was at EL0)" in out  # no pc names
    assert "vmm0 (EL0 → kernel)" in out  # KVM_RUN is entered from EL0
    table, _, tree = out.partition("call tree of the failing step")
    assert "cpu0.irqs_disabled" not in table  # never changed: not in the table
    assert "ASSERTION FAILED: __local_bh_enable_ip" in table
    last = table.strip().splitlines()[-1]
    assert last.startswith("VIOLATION of kernel_asserts at step 6, schedule(cpu0, vmm0, -> T0)")
    assert "kvm_sched_out → kvm_arch_vcpu_put → kvm_arch_vcpu_put_fp → local_bh_enable" in last


def test_loss_explained_in_plain_words(traces, capsys) -> None:
    main(["show", traces["migration"]])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert "host task T0 on cpu0 can read V0-V31 and FPSR/FPCR = an older value of host " \
           "task T0" in last
    assert "superseded at step" in last and "is now only in cpu1.regs, T0.uw" in last
    main(["show", traces["leak"]])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert "guest G0 on cpu0 can read" in last and "kernel-mode NEON data" in last
    main(["show", traces["guest_loss"]])
    assert "is nowhere: lost" in capsys.readouterr().out


def test_full_lists_everything(traces, capsys) -> None:
    main(["show", traces["asserts"]])
    short = capsys.readouterr().out
    main(["show", traces["asserts"], "--full"])
    full = capsys.readouterr().out
    assert "system_supports_sve" in full and "system_supports_sve" not in short
    elided = re.compile(r", \+\d+(\s|$)", re.M)  # "..., +N" at the end of a functions cell
    assert elided.search(short) and not elided.search(full)


def test_cpu_filter(traces, capsys) -> None:
    trace = load(traces["migration"])
    on1 = [i for i, s in enumerate(trace.steps, 1) if s.params["cpu"] == 1]
    assert main(["show", traces["migration"], "--cpu", "1", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["step"] for r in data["steps"]] == on1 and on1
    assert main(["show", traces["migration"], "--cpu", "5"]) == 2
    assert "--cpu 5: the trace has CPUs 0..1" in capsys.readouterr().err


def test_step_shows_whole_state(traces, capsys) -> None:
    trace = load(traces["asserts"])
    assert main(["show", traces["asserts"], "--step", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("state after step 2: ret_to_user(cpu0, vmm0)")
    for var in trace.steps[1].state:  # every variable, not only the changed ones
        assert var.partition(".")[2] in out
    assert "was NULL" in out  # fpsimd_last_state.st changed in step 2
    assert main(["show", traces["asserts"], "--step", "0", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["state"] == trace.initial and data["event"] == "initial state"
    assert main(["show", traces["asserts"], "--step", "7"]) == 2


def test_formats(traces, capsys) -> None:
    assert main(["show", traces["leak"], "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["header"]["property"] == "no_leak" and data["failing_step"] == 11
    assert data["steps"][0]["changes"] == [
        {"var": "cpu0.current", "from": "idle0", "to": "vmm0"}]
    assert main(["show", traces["leak"], "--format", "markdown"]) == 0
    md = capsys.readouterr().out
    assert "| step" in md and "<br>" in md and md.rstrip().endswith("**")
