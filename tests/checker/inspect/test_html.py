"""`show --html`: a self-contained page with one swimlane per CPU."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from checker.cli import main
from checker.inspect.html import owner_colour, render_html
from checker.inspect.load import load

from .conftest import ROOT


def _html(traces, name: str, tmp_path: Path, capsys) -> str:
    out = tmp_path / f"{name}.html"
    assert main(["show", traces[name], "--html", str(out)]) == 0
    capsys.readouterr()
    return out.read_text()


def test_self_contained(traces, tmp_path, capsys) -> None:
    for name in traces:
        page = _html(traces, name, tmp_path, capsys)
        assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
        assert "http://" not in page and "https://" not in page
        assert not re.search(r"<(link|script|img|iframe)\b", page)
        assert not re.search(r"\bsrc\s*=|url\(|@import", page)


def test_swimlanes_colours_and_failing_step(traces, tmp_path, capsys) -> None:
    page = _html(traces, "migration", tmp_path, capsys)
    trace = load(traces["migration"])
    assert page.count('class="group" colspan="2">CPU ') == 2  # one lane per CPU
    n = len(trace.steps)
    assert re.search(rf'<tr id="step{n}" class=fail>', page)  # failing step marked
    assert len(re.findall(r'<tr id="step\d+"', page)) == n + 1  # + initial state
    # the stale T0~ value T0 reads on cpu0 is flagged as the wrong value
    bad = re.findall(r'<span class="chip[^"]*\bstale\b[^"]*\bbad"[^>]*>([^<]*)</span>', page)
    assert bad == ["T0~"]
    assert owner_colour("T0") in page and owner_colour("T0") != owner_colour("G0")
    # events are boxes labelled with the kernel function
    assert page.count('<span class="fn">__schedule</span>') == sum(
        s.action == "schedule" for s in trace.steps)


def test_irq_masked_spans_shaded(traces, tmp_path, capsys) -> None:
    page = _html(traces, "leak", tmp_path, capsys)
    trace = load(traces["leak"])
    masked = [i for i, s in enumerate(trace.steps, 1) if s.state["cpu0.irqs_disabled"] == "1"]
    assert masked
    rows = re.split(r'<tr id="step', page)[1:]
    for i in masked:
        assert 'class="lane irqoff' in rows[i]
    assert "kneon" in page and owner_colour("kneon") in page
    assert "VIOLATION of no_leak" in page


def test_assertion_box(traces, tmp_path, capsys) -> None:
    page = _html(traces, "asserts", tmp_path, capsys)
    assert '<div class="assert">✖ __local_bh_enable_ip' in page
    assert render_html(load(traces["asserts"])).count('class="box here"') == 1


@pytest.mark.skipif(not any(shutil.which(b) for b in ("chromium", "chromium-browser",
                                                       "google-chrome")),
                    reason="no chromium installed (apt-get install chromium)")
def test_screenshot(traces, tmp_path) -> None:
    png = tmp_path / "trace.png"
    p = subprocess.run([sys.executable, str(ROOT / "bench" / "screenshot_html.py"),
                        traces["leak"], str(png), "--html", str(tmp_path / "t.html")],
                       capture_output=True, text=True, timeout=180)
    assert p.returncode == 0, p.stderr
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width == 1500 and height > 1000
    assert len(data) > 50_000  # a rendered page, not a blank one
