"""JUnit XML reports (``--junit FILE``) for explore, bmc and prove, for CI systems.

One ``<testsuite>`` per run (variant and configuration), one ``<testcase>`` per property
(explore, bmc), reachability guard (explore) or proof obligation (prove).  A violated
property, a guard never reached or a failed obligation is a ``<failure>`` whose message is
the counterexample summary and whose text names the trace file to open
(``python -m checker show FILE --html out.html``); a verdict not reached because a bound
was hit (``--max-states``, ``--timeout``, a BMC depth) is a ``<skipped>`` saying so; a
guard that cannot apply to the configuration is ``<skipped>`` too.  The input is the
``runs`` list each command also prints with ``--json`` (docs/json.md).
"""

from __future__ import annotations

import os
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any


def _config_name(run: dict[str, Any]) -> str:
    c = run["config"]
    parts = [f"cpus={c['cpus']}", f"tasks={c['tasks']}", f"vmm_threads={c['vmm_threads']}",
             f"vcpus={c['vcpus']}", "VHE" if c.get("vhe") else "nVHE"]
    parts += [k for k in ("sve", "guest_aarch32") if c.get(k)]
    parts += [f"{k}={v}" for k, v in sorted(c.items())
              if k not in ("cpus", "tasks", "vmm_threads", "vcpus", "vhe", "sve",
                           "guest_aarch32") and v not in (None, False, [], ())]
    return " ".join(str(p) for p in parts)


def _case(suite: ET.Element, classname: str, name: str, seconds: float | None) -> ET.Element:
    return ET.SubElement(suite, "testcase", classname=classname, name=name,
                         time=f"{seconds or 0:.3f}")


def _fail(case: ET.Element, message: str, text: str) -> None:
    ET.SubElement(case, "failure", message=message, type="violation").text = text


def _trace_text(trace: str | None) -> str:
    if not trace:
        return ""
    return (f"counterexample: {trace}\n"
            f"  python -m checker show {trace} --html out.html\n"
            f"  python -m checker replay {trace} --variant FIXED")


def _property_cases(suite: ET.Element, cls: str, run: dict[str, Any]) -> None:
    for prop, r in run.get("properties", {}).items():
        case = _case(suite, cls, prop, r.get("seconds"))
        verdict = r["verdict"]
        if verdict == "VIOLATED":
            _fail(case, f"{prop} VIOLATED in {r.get('length')} steps: {r.get('violation')}",
                  _trace_text(r.get("counterexample")))
        elif verdict == "NOT_FOUND":
            ET.SubElement(case, "skipped", message=f"{prop}: no violation within "
                          f"{r.get('bound')} steps (bounded model checking, not a proof)")
        elif verdict != "holds":
            ET.SubElement(case, "skipped", message=f"{prop}: {verdict}"
                          + (f" ({r['reason']})" if r.get("reason") else ""))
    for guard, status in run.get("guards", {}).items():
        case = _case(suite, cls, f"guard {guard}", None)
        if status == "NEVER REACHED":
            _fail(case, f"reachability guard {guard} never reached: the checks above may be "
                  "vacuous for this situation", "")
        elif status != "reached":
            ET.SubElement(case, "skipped", message=f"guard {guard}: {status}")


def _obligation_cases(suite: ET.Element, cls: str, run: dict[str, Any]) -> None:
    for o in run.get("obligations", []):
        case = _case(suite, cls, f"{o['kind']} {o['name']}", o.get("seconds"))
        ok = o["initiation"] in ("ok", "n/a") and o["consecution"] == "ok"
        if not ok:
            what = ("counterexample to induction" if o.get("trace_kind") == "cti"
                    else "counterexample")
            _fail(case, f"{o['name']}: initiation {o['initiation']}, consecution "
                  f"{o['consecution']} ({what})", _trace_text(o.get("trace")))


def junit_xml(command: str, runs: list[dict[str, Any]]) -> str:
    root = ET.Element("testsuites", name=f"fpcheck {command}")
    for run in runs:
        cls = f"fpcheck.{command}.{run['variant']}"
        suite = ET.SubElement(root, "testsuite",
                              name=f"{command} {run['variant']} {_config_name(run)}")
        if "obligations" in run:
            _obligation_cases(suite, cls, run)
        else:
            _property_cases(suite, cls, run)
        cases = suite.findall("testcase")
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
        suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
        suite.set("time", f"{run.get('seconds', 0):.3f}")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(path: str, command: str, runs: list[dict[str, Any]]) -> None:
    """Write atomically (temp file + rename): never half a report."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".xml")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(junit_xml(command, runs))
    os.replace(tmp, target)
