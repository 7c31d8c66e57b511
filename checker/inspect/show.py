"""`show`: a trace as a step table of what changed, one state in full, or JSON."""

from __future__ import annotations

import json
from typing import Any

from tabulate import tabulate

from checker.inspect.describe import (
    changes,
    context_of,
    entry_function,
    group_changes,
    inputs_text,
    notable_functions,
    task_names,
    verdict,
)
from checker.trace import Step, Trace
from model.config import Config

FORMATS = ("table", "markdown", "json")
# Steps in which a context writes its own FP registers: the registers keep the label
# "latest", so the write itself is said in words.
FP_WRITES = ("user_fp_write", "user_sve_write", "guest_fp_write")
ELIDE = 10  # changes shown per step without --full


def config_text(trace: Trace) -> str:
    """The configuration as Config.describe() words it (kernel configuration included);
    falls back to the raw fields for a configuration this model cannot build."""
    try:
        return Config.from_json(trace.config).describe()
    except (TypeError, ValueError):
        c = trace.config
        mode = "VHE" if c.get("vhe") else "nVHE"
        return (f"cpus={c.get('cpus')} tasks={c.get('tasks')} "
                f"vmm_threads={c.get('vmm_threads')} vcpus={c.get('vcpus')} {mode} "
                f"(unrecognised configuration fields: {sorted(c)})")


def header(trace: Trace, source: str = "") -> dict[str, Any]:
    return {
        "file": source,
        "kind": trace.kind,
        "variant": trace.variant,
        "config": config_text(trace),
        "property": trace.property,
        "engine": trace.engine,
        "model_fingerprint": trace.fingerprint,
        "steps": len(trace.steps),
    }


def step_rows(trace: Trace, full: bool = False, cpu: int | None = None) -> list[dict]:
    names = task_names(trace)
    rows = []
    prev = trace.initial
    for i, s in enumerate(trace.steps, 1):
        chs = changes(prev, s.state)
        before, prev = prev, s.state
        if cpu is not None and s.params.get("cpu") != cpu:
            continue
        ctx = context_of(s, names, before)
        rows.append({
            "step": i,
            "cpu": s.params.get("cpu"),
            "context": ctx.text,
            "event": s.label,
            "function": entry_function(s),
            "functions": list(s.functions) if full else notable_functions(s),
            "inputs": {k.split("#")[0]: v for k, v in s.inputs.items()},
            "changes": [{"var": c.var, "from": c.old, "to": c.new} for c in chs],
            "changed": ([f"{ctx.owner} writes new values into cpu{s.params.get('cpu')}'s "
                         "FP registers (now its latest)"] if s.action in FP_WRITES else [])
                       + group_changes(chs),
            "input_text": inputs_text(s),
            "violations": list(s.violations),
            **({"state": dict(s.state)} if full else {}),
        })
    return rows


def _cell_lines(row: dict, full: bool) -> list[str]:
    lines = [f"[{t}]" for t in row["input_text"]] + list(row["changed"])
    if not full and len(lines) > ELIDE:
        lines = lines[:ELIDE] + [f"... {len(lines) - ELIDE} more (--full)"]
    lines += [f"ASSERTION FAILED: {v}" for v in row["violations"]]
    return lines or ["(nothing)"]


def _functions_cell(row: dict, full: bool, width: int = 44) -> list[str]:
    fns = [row["function"]] + [f for f in row["functions"] if f != row["function"]]
    if full:
        return fns
    out, line = [], ""
    for f in fns:
        if line and len(line) + len(f) + 2 > width:
            out.append(line + ",")
            line = f
        else:
            line = f"{line}, {f}" if line else f
        if len(out) >= 2:
            break
    if line and len(out) < 3:
        out.append(line)
    shown = sum(len(x.split(", ")) for x in out)
    if shown < len(fns):
        out[-1] = out[-1].rstrip(",") + f", +{len(fns) - shown}"
    return out


# Modelled functions that only read the execution state: left out of call trees.
QUERIES = frozenset({"in_irq", "in_softirq", "in_interrupt", "irqs_disabled",
                     "system_supports_sve", "fp_trapped", "may_use_simd"})


def _ctx_text(ctx: dict[str, str]) -> str:
    """The execution state at a call, in kernel terms: IRQs on/off, the counts that are
    not zero, locks held."""
    parts = []
    for k, v in ctx.items():
        if k == "IRQs off":
            parts.append("IRQs off" if v == "1" else "IRQs on")
        elif k.endswith(".mutex"):
            if v != "NULL":
                parts.append(f"{k} held by {v}")
        elif v not in ("0", "NULL", "none"):
            parts.append(f"{k} {v}" if v != "1" else k)
    return ", ".join(parts)


def render_tree(step: Step) -> list[str]:
    """The call tree a step executed, nested, with the execution state at each call
    (shown where it changed) and the failing assertion in the state it saw."""
    out = []
    last_ctx = None
    skip_below: int | None = None
    for node in step.tree:
        if skip_below is not None:
            if node["d"] > skip_below:
                continue
            skip_below = None
        pad = "  " * (node["d"] + 1)
        if node.get("call") in QUERIES and "assert" not in node:
            skip_below = node["d"]  # a pure query and what it calls: no effect to show
            continue
        if "call" in node:
            ctx = _ctx_text(node["ctx"])
            out.append(f"{pad}{node['call']}()" + (f"   [{ctx}]" if ctx != last_ctx else ""))
            last_ctx = ctx
        elif node.get("if") == "IRQ taken here":
            out.append(f"{pad}↳ an IRQ is taken here")
        elif "if" in node:
            out.append(f"{pad}if ({node['if']}): {'yes' if node['taken'] else 'no'}")
        elif "assert" in node:
            saw = ", ".join(f"{k}={v}" for k, v in node.get("saw", {}).items())
            out.append(f"{pad}✖ ASSERTION FAILED: {node['assert']}")
            out.append(f"{pad}  in state [{_ctx_text(node['ctx'])}]"
                       + (f", it read {saw}" if saw else ""))
    return out


def render_trees(trace: Trace, only_failing: bool = False) -> str:
    """Call trees of the steps (of the failing step only, with ``only_failing``)."""
    out = []
    for i, s in enumerate(trace.steps, 1):
        if only_failing and not s.violations:
            continue
        if not s.tree:
            continue
        out.append(f"step {i}: {s.label}")
        out += render_tree(s)
    return "\n".join(out)


def render_steps(trace: Trace, fmt: str = "table", full: bool = False,
                 cpu: int | None = None, source: str = "", tree: bool = False) -> str:
    rows = step_rows(trace, full, cpu)
    v = verdict(trace)
    if fmt == "json":
        return json.dumps({"header": header(trace, source), "initial": trace.initial,
                           "steps": rows, "verdict": v.text(),
                           "failing_step": v.failing_step}, indent=1)
    md = fmt == "markdown"
    sep = "<br>" if md else "\n"
    table = []
    for r in rows:
        mark = " ✖" if r["step"] == v.failing_step else ""
        table.append((
            f"{r['step']}{mark}",
            f"cpu{r['cpu']}",
            r["context"],
            sep.join(_functions_cell(r, full)),
            sep.join(_cell_lines(r, full)),
        ))
    heads = ("step", "cpu", "context", "kernel functions", "what changed")
    body = tabulate(table, headers=heads, tablefmt="github" if md else "simple")
    h = header(trace, source)
    title = (f"{h['kind']} for {h['property']} on variant {h['variant']} ({h['config']}), "
             f"{h['steps']} steps, found by {h['engine']}")
    filt = "" if cpu is None else f" (only steps on cpu{cpu})"
    trees = render_trees(trace, only_failing=not tree)
    if trees:
        what = "call trees" if tree else "call tree of the failing step"
        trees = f"\n{what} (execution state at each call where it changed):\n{trees}\n"
    if md:
        trees = f"\n```\n{trees.strip()}\n```\n" if trees else ""
        return f"**{title}**{filt}\n\n{body}\n\n**{v.text()}**\n{trees}"
    return f"{title}{filt}\n\n{body}\n\n{v.text()}\n{trees}"


def render_state(trace: Trace, k: int, fmt: str = "table", source: str = "") -> str:
    """The whole state after step ``k`` (0: the initial state), changes marked."""
    state = trace.initial if k == 0 else trace.steps[k - 1].state
    before = trace.initial if k <= 1 else trace.steps[k - 2].state
    changed = {c.var: c.old for c in changes(before, state)} if k else {}
    s = trace.steps[k - 1] if k else None
    if fmt == "json":
        return json.dumps({
            "header": header(trace, source), "step": k,
            "event": s.label if s else "initial state",
            "functions": list(s.functions) if s else [],
            "inputs": dict(s.inputs) if s else {},
            "violations": list(s.violations) if s else [],
            "state": state,
            "changed": {var: {"from": old, "to": state[var]} for var, old in changed.items()},
        }, indent=1)
    rows = []
    last_obj = None
    for var, val in state.items():
        obj, _, fld = var.partition(".")
        was = f"was {changed[var]}" if var in changed else ""
        rows.append((obj if obj != last_obj else "", fld, val, was))
        last_obj = obj
    md = fmt == "markdown"
    body = tabulate(rows, headers=("object", "field", "value", "changed in this step"),
                    tablefmt="github" if md else "simple")
    if s is None:
        title = "initial state"
    else:
        ins = "; ".join(inputs_text(s))
        title = (f"state after step {k}: {s.label}\nfunctions: {', '.join(s.functions)}"
                 + (f"\ninputs: {ins}" if ins else "")
                 + "".join(f"\nASSERTION FAILED: {x}" for x in s.violations))
    if md:
        title = "**" + title.replace("\n", "**  \n**") + "**"
    return f"{title}\n\n{body}\n"
