"""`show --html`: one self-contained page for a trace.

Time runs down the page, one row per step.  Each CPU is a swimlane: the step's event box
(kernel entry function, context, notable functions, what changed) sits in the lane of
the CPU it ran on; a bar down the lane's left edge shows who is current there.  Next to
each lane, that CPU's FP registers; on the right, the save areas in memory (each task's
thread.uw.fpsimd_state, each vcpu's fp_regs, hyp's host context).  Every register value
is a chip coloured by the context that wrote it (hatched and faded: an older value of
that context), so a leak is a chip of the wrong colour and a loss a faded one.  Lane
backgrounds are shaded where IRQs are masked or softirqs disabled after the step; the
failing step is outlined in red.  No scripts, fonts or images: nothing is fetched.
"""

from __future__ import annotations

import html
import re

from checker.inspect.describe import (
    SLOT_NAMES,
    changes,
    context_of,
    entry_function,
    group_changes,
    inputs_text,
    notable_functions,
    owner_of,
    readers,
    task_names,
    verdict,
)
from checker.inspect.show import config_text
from checker.trace import Trace

PALETTE = {
    # host user tasks: blues/teals/violets; VMM threads: greens; guests: warm colours
    "T": ["#2563eb", "#0891b2", "#7c3aed", "#4f46e5"],
    "vmm": ["#16a34a", "#65a30d"],
    "G": ["#ea580c", "#db2777"],
}
KNEON = "#334155"
ZERO = "#e2e8f0"

CSS = """
details.tree pre { font-size: 11px; margin: 2px 0; white-space: pre; overflow-x: auto;
  max-width: 60em; background: #f8fafc; padding: 4px; }
details.tree summary { cursor: pointer; font-size: 11px; color: #475569; }
table.against { border-collapse: collapse; margin: 1em 0; font-size: 13px; }
table.against td, table.against th { border: 1px solid #ccc; padding: 3px 6px;
  vertical-align: top; text-align: left; }
tr.firstdiff td { background: #fff3c4; }
b.fail { color: #b00; }
:root { --fail: #dc2626; --ink: #0f172a; --muted: #64748b; --line: #e2e8f0; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 28px 40px; font: 13px/1.35 system-ui, -apple-system,
  "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink);
  background: #f8fafc; }
h1 { font-size: 20px; margin: 0 0 6px; font-weight: 650; }
h1 .prop { color: var(--fail); }
.meta { color: var(--muted); margin-bottom: 12px; }
.meta span { display: inline-block; margin-right: 14px; }
.meta code { color: var(--ink); }
.verdict { border-left: 5px solid var(--fail); background: #fef2f2; padding: 10px 14px;
  border-radius: 6px; margin: 0 0 14px; max-width: 1100px; font-size: 14px; }
.verdict b { color: var(--fail); }
.verdict ul { margin: 4px 0 0; padding-left: 18px; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 16px; align-items: center;
  margin-bottom: 14px; color: var(--muted); font-size: 12px; }
.legend .item { display: inline-flex; align-items: center; gap: 5px; }
.swatch { width: 22px; height: 14px; border-radius: 3px; display: inline-block;
  border: 1px solid #cbd5e1; }
table.trace { border-collapse: separate; border-spacing: 0; background: white;
  border: 1px solid var(--line); border-radius: 8px; }
.trace th { position: sticky; top: 0; background: #f1f5f9; z-index: 2; font-weight: 600;
  text-align: left; padding: 7px 8px; border-bottom: 1px solid #cbd5e1; font-size: 12px;
  white-space: nowrap; }
.trace th.group { text-align: center; background: #e2e8f0; }
.trace th small { color: var(--muted); font-weight: 400; }
.trace td { vertical-align: top; padding: 5px 8px; border-bottom: 1px solid var(--line); }
td.num { text-align: right; color: var(--muted); font-variant-numeric: tabular-nums;
  width: 34px; padding-top: 9px; }
td.lane { width: 330px; position: relative; padding-left: 16px; }
td.lane .who { position: absolute; left: 5px; top: 0; bottom: 0; width: 5px;
  border-radius: 2px; }
td.lane .idle { color: #94a3b8; font-size: 11px; padding-top: 3px; }
td.lane.irqoff { background: repeating-linear-gradient(135deg, #fff7ed 0 6px,
  #fde7c7 6px 12px); }
td.lane.bhoff { background: #eef2ff; }
td.lane.irqoff.bhoff { background: repeating-linear-gradient(135deg, #eef2ff 0 6px,
  #fde7c7 6px 12px); }
td.lane.preempt { box-shadow: inset -3px 0 0 #a78bfa; }
td.regs { width: 118px; border-right: 2px solid #cbd5e1; }
td.mem { width: 92px; }
.box { border: 1px solid #cbd5e1; border-radius: 7px; background: white; padding: 5px 8px;
  box-shadow: 0 1px 2px rgba(15,23,42,.06); }
.box .fn { font: 600 12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.box .ctx { display: inline-block; color: white; border-radius: 9px; padding: 0 7px;
  font-size: 11px; margin-right: 6px; vertical-align: 1px; }
.box .calls { font: 11px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  color: #475569; margin-top: 2px; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; max-width: 300px; }
.box .inputs { font-size: 11px; color: #7c2d12; font-style: italic; margin-top: 2px; }
.box ul.ch { margin: 3px 0 0; padding-left: 14px; font: 11px ui-monospace, SFMono-Regular,
  Menlo, Consolas, monospace; color: #334155; }
.box .assert { margin-top: 4px; background: var(--fail); color: white; border-radius: 4px;
  padding: 3px 6px; font-size: 11.5px; font-weight: 600; }
tr.fail td { border-bottom: 2px solid var(--fail); border-top: 2px solid var(--fail); }
tr.fail td.num { color: var(--fail); font-weight: 700; }
tr.fail .box.here { border: 2px solid var(--fail); box-shadow: 0 0 0 3px #fecaca; }
.chips { display: flex; gap: 3px; flex-wrap: wrap; }
.chip { display: inline-block; min-width: 40px; text-align: center; border-radius: 4px;
  padding: 1px 4px; font: 600 11.5px ui-monospace, SFMono-Regular, Menlo, Consolas,
  monospace; color: white; border: 2px solid transparent; }
.chip.zero { color: #64748b; font-weight: 400; }
.chip.wide { min-width: 84px; }
.chip.changed { border: 2px solid var(--ink) !important; }
.chip.bad { border: 2px solid var(--fail) !important; box-shadow: 0 0 0 3px #fca5a5; }
.sub { font-size: 10.5px; color: var(--muted); margin-top: 2px; white-space: nowrap; }
.sub.reads { color: var(--fail); font-weight: 700; font-size: 11px; }
.flag { display: inline-block; font-size: 9.5px; border-radius: 3px; padding: 0 3px;
  margin: 2px 2px 0 0; background: #f1f5f9; color: #475569; border: 1px solid #e2e8f0; }
.flag.on { background: #fee2e2; color: #991b1b; border-color: #fecaca; }
.flag.ok { background: #dcfce7; color: #166534; border-color: #bbf7d0; }
.foot { color: var(--muted); margin-top: 14px; font-size: 11.5px; }
"""


def owner_colour(owner: str) -> str:
    if owner.startswith("kneon"):
        return KNEON
    m = re.fullmatch(r"(T|vmm|G)(\d+)", owner)
    if not m:
        return "#94a3b8"
    pal = PALETTE[m.group(1)]
    return pal[int(m.group(2)) % len(pal)]


def _chip_style(label: str) -> tuple[str, str]:
    """(css class, inline style) for a register value label."""
    if label == "0":
        return "chip zero", f"background:{ZERO}"
    col = owner_colour(owner_of(label))
    if label.endswith("~"):
        return ("chip stale", f"background: repeating-linear-gradient(135deg, {col}38 0 4px, "
                              f"{col}14 4px 8px); color: {col}; border: 2px dashed {col}")
    return "chip", f"background:{col}"


def _chip(label: str, title: str, changed: bool = False, bad: bool = False) -> str:
    cls, style = _chip_style(label)
    if changed:
        cls += " changed"
    if bad:
        cls += " bad"
    return (f'<span class="{cls}" style="{style}" title="{html.escape(title)}">'
            f"{html.escape(label)}</span>")


def _value_words(label: str) -> str:
    if label == "0":
        return "zero"
    if label.startswith("kneon"):
        return "kernel-mode NEON data"
    if label == "efi":
        return "EFI firmware data"
    if label == "unknown":
        return "UNKNOWN contents after a power loss"
    o = owner_of(label)
    return ("an older value of " if label.endswith("~") else "latest value of ") + o


def _slots(state: dict[str, str], base: str) -> list[str]:
    return [s for s in SLOT_NAMES if f"{base}.{s}" in state]


def _images(trace: Trace) -> list[tuple[str, str]]:
    """(base name, heading) of every save area, in a stable order."""
    st = trace.initial
    out = []
    for t in task_names(trace):
        if f"{t}.uw.v" in st:
            out.append((f"{t}.uw", f"{t}<br><small>thread.uw</small>"))
        if f"{t}.sve_state.v" in st:  # with SVE: the Z registers of a TIF_SVE task
            out.append((f"{t}.sve_state", f"{t}<br><small>thread.sve_state</small>"))
    for v in range(int(trace.config.get("vcpus", 0))):
        if f"vcpu{v}.fp_regs.v" in st:
            out.append((f"vcpu{v}.fp_regs", f"vcpu{v}<br><small>arch.ctxt.fp_regs</small>"))
    states = [trace.initial] + [s.state for s in trace.steps]
    for c in range(int(trace.config.get("cpus", 1))):
        base = f"cpu{c}.host_ctxt.fp_regs"
        if any(s.get(f"{base}.v", "0") != "0" for s in states):
            out.append((base, f"cpu{c} host<br><small>kvm host_ctxt</small>"))
    return out


def _lane_classes(state: dict[str, str], cpu: int) -> str:
    cls = ["lane"]
    if state.get(f"cpu{cpu}.irqs_disabled") == "1":
        cls.append("irqoff")
    if state.get(f"cpu{cpu}.softirq_count", "0") != "0":
        cls.append("bhoff")
    if state.get(f"cpu{cpu}.preempt_count", "0") != "0":
        cls.append("preempt")
    return " ".join(cls)


def _who_runs(state: dict[str, str], cpu: int) -> tuple[str, str]:
    """(colour, description) of what runs on ``cpu`` in ``state``."""
    cur = state.get(f"cpu{cpu}.current", "?")
    pc = state.get(f"{cur}.pc", "")
    if pc == "IN_GUEST":
        for k, v in state.items():
            if k.endswith(".mutex") and v == cur:
                g = "G" + k.split(".")[0].removeprefix("vcpu")
                return owner_colour(g), f"guest {g} (vcpu thread {cur})"
    if cur.startswith("idle"):
        return "#cbd5e1", f"{cur} (idle)"
    return owner_colour(cur), f"{cur}" + (f" at {pc}" if pc else "")


def _trap_text(state: dict[str, str], cpu: int) -> str:
    """A flag when FP accesses below EL2 trap to hyp (nothing when they do not)."""
    if state.get(f"cpu{cpu}.CPTR_EL2.TFP") == "1":
        return '<span class="flag on" title="CPTR_EL2.TFP set: FP traps to hyp">FP trap</span>'
    if state.get(f"cpu{cpu}.CPACR_EL1.FPEN") == "0":
        return ('<span class="flag on" title="CPACR_EL1.FPEN clear: FP traps to hyp">'
                "FP trap</span>")
    if state.get(f"cpu{cpu}.CPACR_EL1.ZEN_EL0EN") == "1":
        return ('<span class="flag" title="CPACR_EL1.ZEN_EL0EN set: EL0 may use SVE">'
                "EL0 SVE</span>")
    return ""


def render_html(trace: Trace, source: str = "", against=None) -> str:  # noqa: ANN001
    """The page; ``against`` (a checker.inspect.against.Comparison) adds the side-by-side
    replay on another variant, first difference marked."""
    names = task_names(trace)
    ncpu = int(trace.config.get("cpus", 1))
    v = verdict(trace)
    images = _images(trace)
    esc = html.escape
    bad_regs: set[str] = set()
    if trace.property != "kernel_asserts":
        for f in v.findings:
            for slot in f.slot.split("+"):
                bad_regs.add(f"{f.cpu}.regs.{slot}")
    slots = _slots(trace.initial, "cpu0.regs")

    # ---------------------------------------------------------------- header
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>fpcheck: {esc(trace.variant)} violates {esc(trace.property)}</title>",
           f"<style>{CSS}</style></head><body>"]
    out.append(f'<h1>{esc(trace.kind.upper() if trace.kind == "cti" else "Counterexample")}:'
               f' variant <code>{esc(trace.variant)}</code> violates '
               f'<span class="prop">{esc(trace.property)}</span></h1>')
    out.append('<div class="meta">'
               f"<span>config <code>{esc(config_text(trace))}</code></span>"
               f"<span>{len(trace.steps)} steps</span>"
               f"<span>engine <code>{esc(trace.engine)}</code></span>"
               f"<span>model <code>{esc(trace.fingerprint or '?')}</code></span>"
               + (f"<span>file <code>{esc(source)}</code></span>" if source else "")
               + "</div>")
    if v.findings:
        items = "".join(f"<li>{esc(f.text)}</li>" for f in v.findings)
        out.append(f'<div class="verdict"><b>{esc(v.headline)}</b><ul>{items}</ul></div>')
    else:
        out.append(f'<div class="verdict"><b>{esc(v.headline.split(":")[0])}</b>'
                   f'{esc(v.headline[len(v.headline.split(":")[0]):])}</div>')

    # ---------------------------------------------------------------- legend
    owners = [n for n in names if not n.startswith("idle")]
    owners += [f"G{i}" for i in range(int(trace.config.get("vcpus", 0)))]
    leg = ['<div class="legend"><span>register contents:</span>']
    for o in owners:
        leg.append(f'<span class="item">{_chip(o, "latest value of " + o)}</span>')
    if owners:
        o = owners[0]
        leg.append(f'<span class="item">{_chip(o + "~", "older value")} older value</span>')
    leg.append(f'<span class="item">{_chip("kneon", "kernel-mode NEON")} kernel NEON</span>')
    leg.append(f'<span class="item">{_chip("0", "zero")} zero</span>')
    leg.append('<span class="item"><span class="swatch" style="background: repeating-linear'
               '-gradient(135deg, #fff7ed 0 6px, #fde7c7 6px 12px)"></span>IRQs masked</span>')
    leg.append('<span class="item"><span class="swatch" style="background:#eef2ff"></span>'
               "softirqs disabled</span>")
    leg.append('<span class="item"><span class="swatch" style="box-shadow: inset -3px 0 0 '
               '#a78bfa"></span>preemption disabled</span>')
    leg.append('<span class="item"><span class="swatch" style="border:2px solid #0f172a">'
               "</span>changed in this step</span>")
    leg.append('<span class="item"><span class="swatch" style="border:2px solid #dc2626">'
               "</span>wrong value seen / failing step</span>")
    leg.append("</div>")
    out += leg

    # ---------------------------------------------------------------- table head
    out.append('<table class="trace"><thead><tr><th rowspan="2">#</th>')
    for c in range(ncpu):
        out.append(f'<th class="group" colspan="2">CPU {c}</th>')
    if images:
        out.append(f'<th class="group" colspan="{len(images)}">FP state saved in memory</th>')
    out.append("</tr><tr>")
    slot_names = "/".join({"v": "V", "fpsr": "FPSR", "zhi": "Zhi", "p": "P", "fpcr": "FPCR"}
                          .get(s, SLOT_NAMES[s]) for s in slots)
    for _c in range(ncpu):
        out.append(f"<th>events <small>(time runs down)</small></th>"
                   f"<th>registers <small>{slot_names}</small></th>")
    for _base, head in images:
        out.append(f"<th>{head}</th>")
    out.append("</tr></thead><tbody>")

    # ---------------------------------------------------------------- rows
    prev = trace.initial
    rows = [(0, None, trace.initial)] + [(i, s, s.state) for i, s in enumerate(trace.steps, 1)]
    for i, s, state in rows:
        chs = changes(prev, state) if s is not None else []
        changed = {c.var for c in chs}
        failing = i == v.failing_step
        out.append(f'<tr id="step{i}"{" class=fail" if failing else ""}>')
        out.append(f'<td class="num">{"✖ " if failing else ""}{i}</td>')
        for c in range(ncpu):
            colour, who = _who_runs(state, c)
            out.append(f'<td class="{_lane_classes(state, c)}">'
                       f'<div class="who" style="background:{colour}" '
                       f'title="{esc("after this step: " + who)}"></div>')
            if s is None:
                out.append(f'<div class="idle">initial state · {esc(who)}</div>')
            elif s.params.get("cpu") == c:
                out.append(_event_box(s, names, chs, failing))
            else:
                before = _who_runs(prev, c)[1]
                if before != who:
                    out.append(f'<div class="idle">now {esc(who)}</div>')
            out.append("</td>")
            out.append('<td class="regs">')
            out.append(_image_chips(state, f"cpu{c}.regs", changed,
                                    bad_regs if failing else set()))
            if failing:
                for f in v.findings:
                    if f.cpu == f"cpu{c}":
                        out.append(f'<div class="sub reads">✖ {esc(f.reader)} reads this</div>')
            last = state.get(f"cpu{c}.fpsimd_last_state.st", "")
            hot = f"cpu{c}.fpsimd_last_state.st" in changed
            out.append(f'<div class="sub" title="fpsimd_last_state.st: whose saved state '
                       f'the registers hold">{"<b>" if hot else ""}last_state → {esc(last)}'
                       f'{"</b>" if hot else ""}</div>{_trap_text(state, c)}</td>')
        for base, _head in images:
            out.append('<td class="mem">')
            out.append(_image_chips(state, base, changed, set()))
            out.append(_mem_flags(state, base))
            out.append("</td>")
        out.append("</tr>")
        prev = state
    out.append("</tbody></table>")
    rd = ", ".join(f"{r} on {c}" for c, r in readers(trace.steps[-1].state if trace.steps
                                                     else trace.initial))
    out.append(f'<div class="foot">Contexts that can read their FP registers after the last '
               f'step: {esc(rd or "none")}. Hover a chip or a lane bar for details. '
               f"Generated by <code>python -m checker show --html</code>.</div>")
    if against is not None:
        out.append(_against_html(against))
    out.append("</body></html>")
    return "\n".join(out)


def _against_html(cmp) -> str:  # noqa: ANN001 - checker.inspect.against.Comparison
    esc = html.escape

    def cell(side) -> str:  # noqa: ANN001
        if side is None:
            return "<i>not replayed</i>"
        if not side.enabled:
            return f"<b>cannot take this step</b>: {esc(side.why_not)}"
        lines = [esc(c) for c in side.changed] or ["<i>nothing</i>"]
        lines += [f'<b class="fail">ASSERTION FAILED: {esc(v)}</b>' for v in side.violations]
        return "<br>".join(lines)

    rows = []
    for i, label, mine, theirs in cmp.rows:
        cls = ' class="firstdiff"' if i == cmp.first_diff else ""
        mark = " &#9664; first difference" if i == cmp.first_diff else ""
        rows.append(f"<tr{cls}><td>{i}{mark}</td><td><code>{esc(label)}</code></td>"
                    f"<td>{cell(mine)}</td><td>{cell(theirs)}</td></tr>")
    return (f'<h2 id="against">The same events on variant <code>{esc(cmp.other)}</code></h2>'
            f'<p class="verdict">{esc(cmp.summary)}</p>'
            '<table class="against"><thead><tr><th>step</th><th>event</th>'
            f"<th>{esc(cmp.variant)} (the trace)</th><th>{esc(cmp.other)}</th></tr></thead>"
            f'<tbody>{"".join(rows)}</tbody></table>')


def _image_chips(state: dict[str, str], base: str, changed: set[str],
                 bad: set[str]) -> str:
    """One chip for a register image whose slices agree, else one chip per slice."""
    slots = _slots(state, base)
    vals = [state[f"{base}.{s}"] for s in slots]
    out = ['<div class="chips">']
    if len(set(vals)) == 1 and len(slots) > 1:
        names = " and ".join(SLOT_NAMES[s] for s in slots)
        vars_ = {f"{base}.{s}" for s in slots}
        chip = _chip(vals[0], f"{base} {names}: {_value_words(vals[0])}",
                     bool(vars_ & changed), bool(vars_ & bad))
        out.append(chip.replace('class="chip', 'class="chip wide', 1))
    else:
        for slot, val in zip(slots, vals, strict=True):
            var = f"{base}.{slot}"
            out.append(_chip(val, f"{base}.{slot} ({SLOT_NAMES[slot]}): {_value_words(val)}",
                             var in changed, var in bad))
    out.append("</div>")
    return "".join(out)


def _mem_flags(state: dict[str, str], base: str) -> str:
    obj = base.split(".")[0]
    flags = []
    if base.endswith(".uw"):
        if state.get(f"{obj}.TIF_FOREIGN_FPSTATE") == "1":
            flags.append('<span class="flag on" title="TIF_FOREIGN_FPSTATE">FOREIGN</span>')
        cpu = state.get(f"{obj}.fpsimd_cpu")
        if cpu and cpu != "NR_CPUS":
            flags.append(f'<span class="flag" title="thread.fpsimd_cpu">@{esc_(cpu)}</span>')
    elif base.endswith(".fp_regs") and obj.startswith("vcpu"):
        if state.get(f"{obj}.flags.FP_ENABLED") == "1":
            flags.append('<span class="flag ok" title="KVM_ARM64_FP_ENABLED">FP_ENABLED'
                         "</span>")
        if state.get(f"{obj}.flags.FP_HOST") == "1":
            flags.append('<span class="flag" title="KVM_ARM64_FP_HOST">FP_HOST</span>')
    return f'<div>{"".join(flags)}</div>' if flags else ""


def esc_(s: str) -> str:
    return html.escape(s)


def _event_box(s, names: list[str], chs, failing: bool) -> str:
    esc = html.escape
    ctx = context_of(s, names)
    colour = owner_colour(ctx.owner) if ctx.owner else "#64748b"
    fns = notable_functions(s)
    short = fns[:4]
    more = f" +{len(fns) - len(short)}" if len(fns) > len(short) else ""
    lines = [x for x in group_changes(chs) if ".regs." not in x and ".regs{" not in x
             and ".uw" not in x and ".fp_regs" not in x]
    shown = lines[:7]
    parts = [f'<div class="box{" here" if failing else ""}" '
             f'title="{esc(s.label + chr(10) + "functions: " + ", ".join(s.functions))}">',
             f'<span class="ctx" style="background:{colour}">{esc(ctx.text)}</span>'
             f'<span class="fn">{esc(entry_function(s))}</span>']
    if short:
        parts.append(f'<div class="calls">{esc(" · ".join(short))}{esc(more)}</div>')
    ins = inputs_text(s)
    if ins:
        parts.append(f'<div class="inputs">{esc("; ".join(ins))}</div>')
    if shown:
        extra = (f"<li>… {len(lines) - len(shown)} more</li>" if len(lines) > len(shown)
                 else "")
        parts.append('<ul class="ch">' + "".join(f"<li>{esc(x)}</li>" for x in shown)
                     + extra + "</ul>")
    for a in s.violations:
        parts.append(f'<div class="assert">✖ {esc(a)}</div>')
    if s.tree:
        from checker.inspect.show import render_tree

        tree = "\n".join(line[2:] for line in render_tree(s))
        parts.append(f'<details class="tree"{" open" if failing else ""}><summary>call tree'
                     f'</summary><pre>{esc(tree)}</pre></details>')
    parts.append("</div>")
    return "".join(parts)
