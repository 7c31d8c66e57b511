"""Every curated trace in counterexamples/ is documented in its README and replays as
documented: it reproduces on the variants it breaks and not on those it passes."""

from __future__ import annotations

import re

import pytest

from checker.inspect.load import load
from checker.inspect.replay import build_instance, replay

from .conftest import CURATED, mutants


def documented() -> dict[str, tuple[list[str], list[str]]]:
    """file -> (variants it breaks, variants it passes), from the README's tables."""
    out = {}
    for line in (CURATED / "README.md").read_text().splitlines():
        m = re.match(r"\|\s*`([^`]+\.json)`\s*\|.*\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|\s*$", line)
        if m:
            split = [v.strip() for v in m.group(2).split(",")], \
                    [v.strip() for v in m.group(3).split(",")]
            out[m.group(1)] = split
    return out


def test_every_trace_is_documented() -> None:
    docs = documented()
    files = sorted(p.name for p in CURATED.glob("*.json"))
    assert files, "no curated traces"
    assert sorted(docs) == files


CASES = [(f, v, True) for f, (brk, _) in documented().items() for v in brk] + \
        [(f, v, False) for f, (_, ok) in documented().items() for v in ok]


@pytest.mark.parametrize("name,variant,breaks", CASES,
                         ids=[f"{f.split('-explicit')[0]}@{v}" for f, v, _ in CASES])
def test_curated_replays_as_documented(name: str, variant: str, breaks: bool) -> None:
    trace = load(str(CURATED / name))
    assert trace.variant in documented()[name][0]
    res = replay(trace, build_instance(trace, variant, mutants()))
    assert res.reproduces is breaks, res.verdict
    assert res.exit_code == (1 if breaks else 0)
