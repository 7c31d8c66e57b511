"""--junit: one test case per property/guard/obligation and configuration; failures carry
the counterexample summary and the trace path."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from checker.cli import main


def _suites(path) -> list[ET.Element]:
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    return root.findall("testsuite")


def test_explore_junit_failure_names_trace(tmp_path, capsys) -> None:
    out = tmp_path / "r.xml"
    assert main(["explore", "--cpus", "1", "--quiet", "--junit", str(out),
                 "--out", str(tmp_path)]) == 1
    suites = _suites(out)
    assert [s.get("name").split()[3] for s in suites] == ["tasks=1", "tasks=1"]
    assert {"nVHE", "VHE"} <= {w for s in suites for w in s.get("name").split()}
    cases = {c.get("name"): c for c in suites[0].findall("testcase")}
    fail = cases["kernel_asserts"].find("failure")
    assert fail is not None and "VIOLATED in 6 steps" in fail.get("message")
    (trace,) = [p for p in tmp_path.glob("*kernel_asserts-nvhe*.json")]
    assert str(trace) in fail.text
    assert cases["locking_rules"].find("failure") is not None  # the same step, both kinds
    # TRACE_IRQFLAGS (the default debug kernel): an IRQ inside __schedule loses state too
    assert cases["no_loss"].find("failure") is not None
    assert cases["guard migrate_with_live_state"].find("skipped") is not None  # 1 CPU: n/a
    assert suites[0].get("failures") == "4"


def test_prove_and_bmc_junit(tmp_path, capsys) -> None:
    p = tmp_path / "p.xml"
    assert main(["prove", "--variant", "v4.17", "--cpus", "1", "--nvhe", "--junit", str(p),
                 "--out", str(tmp_path)]) == 0
    (suite,) = _suites(p)
    names = [c.get("name") for c in suite.findall("testcase")]
    assert "property no_loss" in names and any(n.startswith("lemma ") for n in names)
    assert suite.get("failures") == "0"
    b = tmp_path / "b.xml"
    assert main(["bmc", "--depth", "3", "--variant", "v4.18", "--cpus", "1", "--nvhe",
                 "--junit", str(b), "--out", str(tmp_path)]) == 3
    (suite,) = _suites(b)
    skipped = [c.find("skipped").get("message") for c in suite.findall("testcase")]
    assert all("no violation within 3 steps" in m for m in skipped)


def test_unwritable_junit_is_a_usage_error(tmp_path, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["explore", "--cpus", "1", "--nvhe", "--quiet", "--variant", "v4.18",
                 "--junit", str(blocker / "r.xml")]) == 2
    assert "cannot write" in capsys.readouterr().err
