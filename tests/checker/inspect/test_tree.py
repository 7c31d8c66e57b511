"""Call trees in traces: what each step executed, nested, with the execution state at each
call, and the failing assertion in the state it saw; inputs shown only where consulted."""

from __future__ import annotations

from checker.cli import main
from checker.inspect.describe import inputs_text
from checker.inspect.load import load
from checker.inspect.show import render_tree


def test_failing_assertion_in_the_state_it_saw(traces, capsys) -> None:
    trace = load(traces["asserts"])
    last = trace.steps[-1]
    at = next(i for i, n in enumerate(last.tree) if "assert" in n)
    node = last.tree[at]
    assert node["ctx"]["IRQs off"] == "1"  # IRQs were off at local_bh_enable()...
    assert node["saw"] == {"cpu0.irqs_disabled": "1"}
    calls = [n["call"] for n in last.tree[:at] if "call" in n and n["d"] < node["d"]]
    assert calls[-1] == "local_bh_enable"
    # ...and back on at the end of the step (the table alone cannot show this)
    end = [n for n in last.tree if n.get("call") == "fire_sched_in_preempt_notifiers"][0]
    assert end["ctx"]["IRQs off"] == "0"
    lines = render_tree(last)
    i = next(k for k, line in enumerate(lines) if "✖ ASSERTION FAILED" in line)
    assert "in state [IRQs off, preempt 2, softirq" in lines[i + 1]
    assert any(line.strip() == "kvm_arch_vcpu_put_fp()" for line in lines[:i])
    assert main(["show", traces["asserts"]]) == 0
    out = capsys.readouterr().out
    assert "call tree of the failing step" in out and "in state [IRQs off" in out
    assert main(["show", traces["asserts"], "--tree"]) == 0
    assert "call trees (execution state" in capsys.readouterr().out


def test_inputs_shown_only_where_consulted(traces) -> None:
    for name in ("asserts", "leak", "guest_loss"):
        for s in load(traces[name]).steps:
            assert s.inputs_read is not None
            shown = inputs_text(s)
            for k in s.inputs:
                label = k.split("#")[0]
                if k not in s.inputs_read:
                    assert not any(line.startswith(label) for line in shown), (s.label, k)


def test_html_has_the_call_tree(traces, tmp_path) -> None:
    page = tmp_path / "t.html"
    assert main(["show", traces["asserts"], "--html", str(page)]) == 0
    text = page.read_text()
    assert text.count('<details class="tree" open>') == 1  # the failing step's, open
    assert "ASSERTION FAILED" in text and "kvm_arch_vcpu_put_fp()" in text
