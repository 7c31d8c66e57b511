"""The HTML view shows SVE state: the tasks' sve_state buffers and EL0 SVE enable."""

from __future__ import annotations

from pathlib import Path

from checker.inspect.html import render_html
from checker.trace import load_trace

TRACE = (Path(__file__).resolve().parents[3] / "counterexamples"
         / "v4.18-rc1-no_leak-vhe-c1t1v1m1-explicit-bfs.json")


def test_sve_buffers_and_el0_sve_flag_are_shown() -> None:
    page = render_html(load_trace(str(TRACE)))
    assert page.count("thread.sve_state") == 2  # T0 and vmm0
    assert "EL0 SVE" in page
