"""Readable counterexamples: a step table of what changed, and the violation in words."""

from __future__ import annotations

from tabulate import tabulate

from checker.trace import Trace
from model.state import Layout


def describe_value(label: str) -> str:
    if label == "0":
        return "zero"
    if label == "kneon":
        return "kernel-mode NEON data"
    owner, stale = label.rstrip("~"), label.endswith("~")
    who = f"guest {owner}" if owner.startswith("G") else f"host task {owner}"
    return f"an older value of {who}" if stale else f"{who}'s latest value"


def _changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return [f"{k}: {before.get(k)}→{v}" for k, v in after.items() if before.get(k) != v]


def step_table(layout: Layout | None, trace: Trace, full: bool = False,
               fmt: str = "simple") -> str:
    rows = []
    prev = trace.initial
    for i, s in enumerate(trace.steps, 1):
        cpu = f"cpu{s.params.get('cpu')}" if "cpu" in s.params else ""
        ctx = s.label.split("(", 1)[1].rstrip(")").split(", ")[1] if "(" in s.label else ""
        changes = _changes(prev, s.state)
        if s.inputs:
            changes = [f"[{k.split('#')[0]}: {'yes' if v else 'no'}]"
                       for k, v in s.inputs.items()] + changes
        if s.violations:
            changes.append("ASSERTION FAILED: " + "; ".join(s.violations))
        shown = changes if full else changes[:12] + (
            [f"... {len(changes) - 12} more"] if len(changes) > 12 else [])
        fns = [f for f in s.functions if full or f not in PRIMITIVES]
        rows.append((i, cpu, ctx, s.action, _wrap(fns), "\n".join(shown)))
        prev = s.state
    out = tabulate(rows, headers=("step", "cpu", "context", "step", "kernel functions",
                                  "what changed"), tablefmt=fmt)
    return out + "\n" + explain(trace)


# Helpers too small to be worth a column entry (shown with --full).
PRIMITIVES = frozenset({
    "preempt_disable", "preempt_enable", "local_irq_disable", "local_irq_enable",
    "irqs_disabled", "in_softirq", "in_irq", "in_interrupt", "may_use_simd",
    "system_supports_sve", "fp_trapped", "set_fp_trap", "fpsimd_save_state",
    "fpsimd_load_state", "__fpsimd_save_state", "__fpsimd_restore_state",
    "kernel_fp_write", "guest_fp_access_traps",
})


def _wrap(fns: list[str], width: int = 48) -> str:
    lines, cur = [], ""
    for f in fns:
        if cur and len(cur) + len(f) + 2 > width:
            lines.append(cur + ",")
            cur = f
        else:
            cur = f"{cur}, {f}" if cur else f
    if cur:
        lines.append(cur)
    return "\n".join(lines)


def explain(trace: Trace) -> str:
    """The violation in plain words, from the last state of the trace."""
    if not trace.steps:
        return f"VIOLATION of {trace.property}: {trace.violation}"
    last = trace.steps[-1].state
    if trace.property == "kernel_asserts":
        s = trace.steps[-1]
        return (f"VIOLATION of kernel_asserts at step {len(trace.steps)} ({s.label}): "
                + "; ".join(s.violations or [trace.violation]))
    lines = []
    cpus = sorted({k.split(".")[0] for k in last if k.startswith("cpu")})
    for cpu in cpus:
        cur = last.get(f"{cpu}.current", "")
        pc = last.get(f"{cur}.pc")
        reader = None
        if pc == "USER":
            reader = cur
        elif pc == "IN_GUEST":
            trapped = (last.get(f"{cpu}.CPTR_EL2.TFP") == "1"
                       or last.get(f"{cpu}.CPACR_EL1.FPEN") == "0")
            if not trapped:
                for k, v in last.items():
                    if k.endswith(".mutex") and v == cur:
                        reader = "G" + k.split(".")[0].removeprefix("vcpu")
        if reader is None:
            continue
        for slot in ("v", "fpsr", "zhi"):
            val = last.get(f"{cpu}.regs.{slot}")
            if val is None or val == reader:
                continue
            name = {"v": "V0-V31", "fpsr": "FPSR/FPCR", "zhi": "Z bits above 127"}[slot]
            where = _written_at(trace, val)
            who = f"guest {reader}" if reader.startswith("G") else f"host task {reader}"
            lines.append(f"{who} on {cpu} can read {name} = {describe_value(val)}"
                         + (f" (written at step {where})" if where else "")
                         + ", not its own latest value")
    head = f"VIOLATION of {trace.property} after step {len(trace.steps)}"
    return head + (": " + "; ".join(lines) if lines else f": {trace.violation}")


def _written_at(trace: Trace, label: str) -> int | None:
    """The step at which a register first took this value in its current run."""
    owner = label.rstrip("~")
    found = None
    prev = trace.initial
    for i, s in enumerate(trace.steps, 1):
        for k, v in s.state.items():
            if k.endswith(".regs.v") and v == owner and prev.get(k) != v:
                found = i
        prev = s.state
    return found
