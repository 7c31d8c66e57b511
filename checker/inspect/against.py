"""`show TRACE --against VARIANT`: the trace replayed on another variant, side by side.

The root cause of a bug is often a change the code *fails* to make (ctxsync not clearing
TIF_FOREIGN_FPSTATE: the flag silently stays 1), which a table of what changed cannot
show.  Replaying the same events on the fixed code and putting both columns side by side
shows it: the first step where the two runs differ is marked, with what each variant's
code did there (its changes, the C functions it entered, its failed assertions), or why
the other variant cannot take that step at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from checker.inspect.describe import changes, group_changes
from checker.inspect.replay import _explain_guard
from checker.instance import Instance
from checker.interp import guard_holds, run_action
from checker.trace import Trace


@dataclass
class SideStep:
    changed: list[str]
    functions: list[str]
    violations: list[str]
    enabled: bool = True
    why_not: str = ""


@dataclass
class Comparison:
    variant: str  # the trace's
    other: str
    rows: list[tuple[int, str, SideStep, SideStep | None]] = field(default_factory=list)
    first_diff: int | None = None  # step number
    summary: str = ""


def compare(trace: Trace, other: Instance) -> Comparison:
    """Replay ``trace``'s events on ``other`` (a built instance of another variant)."""
    layout = other.layout
    by_key = {(a.name, a.params): a for a in other.actions}
    res = Comparison(trace.variant, other.variant.name)
    own_prev = dict(trace.initial)
    cur: tuple | None = layout.initial_state()
    for i, s in enumerate(trace.steps, 1):
        mine = SideStep(group_changes(changes(own_prev, s.state)), list(s.functions),
                        list(s.violations))
        theirs: SideStep | None = None
        if cur is not None:
            a = by_key.get((s.action, tuple(sorted(s.params.items()))))
            if a is None or not guard_holds(a, tuple(cur)):
                why = "no such step" if a is None else _explain_guard(other, a.guard, cur)
                theirs = SideStep([], [], [], enabled=False, why_not=why)
            else:
                inp = tuple(bool(s.inputs.get(n, False)) for n in a.inputs)
                nxt, viol, fns = run_action(a, cur, inp)
                before = layout.state_dict(cur)
                after = layout.state_dict(nxt)
                theirs = SideStep(group_changes(changes(before, after)), fns, viol)
                if res.first_diff is None and (after != s.state or set(viol) != set(
                        s.violations)):
                    res.first_diff = i
                    res.summary = _summary(i, s.label, mine, theirs, trace.variant,
                                           other.variant.name)
                cur = nxt
            if not theirs.enabled:
                if res.first_diff is None:
                    res.first_diff = i
                    res.summary = (f"first difference at step {i}, {s.label}: variant "
                                   f"{other.variant.name} cannot take this step"
                                   + (f" ({theirs.why_not})" if theirs.why_not else ""))
                cur = None  # the replay stops here
        res.rows.append((i, s.label, mine, theirs))
        own_prev = s.state
    if res.first_diff is None:
        res.summary = (f"the two variants behave identically on all {len(trace.steps)} "
                       "steps of this trace")
    return res


def _summary(i: int, label: str, mine: SideStep, theirs: SideStep, a: str, b: str) -> str:
    only_mine = [c for c in mine.changed if c not in theirs.changed]
    only_theirs = [c for c in theirs.changed if c not in mine.changed]
    parts = [f"first difference at step {i}, {label}:"]
    if only_theirs:
        parts.append(f"{b} also does {'; '.join(only_theirs)}")
    if only_mine:
        parts.append(f"{a} does {'; '.join(only_mine)}"
                     + (f" which {b} does not" if not only_theirs else ""))
    if set(mine.violations) != set(theirs.violations):
        parts.append(f"assertions failing: {a}: {', '.join(mine.violations) or 'none'}; "
                     f"{b}: {', '.join(theirs.violations) or 'none'}")
    extra = [f for f in theirs.functions if f not in mine.functions]
    if extra:
        parts.append(f"({b} enters {', '.join(extra)})")
    return " ".join(parts)


def render_comparison(cmp: Comparison, width: int = 52) -> str:
    from tabulate import tabulate

    def cell(side: SideStep | None) -> str:
        if side is None:
            return "(not replayed)"
        if not side.enabled:
            return "CANNOT TAKE THIS STEP" + (f": {side.why_not}" if side.why_not else "")
        lines = list(side.changed) or ["(nothing)"]
        lines += [f"ASSERTION FAILED: {v}" for v in side.violations]
        return "\n".join(lines)

    rows = []
    for i, label, mine, theirs in cmp.rows:
        mark = " ◀ first difference" if i == cmp.first_diff else ""
        rows.append((f"{i}{mark}", label, cell(mine), cell(theirs)))
    table = tabulate(rows, headers=("step", "event", f"{cmp.variant} (the trace)",
                                    f"{cmp.other} (same events)"),
                     maxcolwidths=[None, 30, width, width])
    return f"{table}\n\n{cmp.summary}\n"
