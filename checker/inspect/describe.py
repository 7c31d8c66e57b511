"""What show and the HTML view say about a trace: names, contexts, changes, the verdict.

Works from the trace alone (its labels and config) so that a trace from an older model
can still be shown; nothing here needs the model to build.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from checker.trace import Step, Trace

# Helpers whose names say nothing about the FP protocol: left out of short listings.
TRIVIAL_FUNCTIONS = frozenset({
    "preempt_disable", "preempt_enable", "local_irq_disable", "local_irq_enable",
    "in_softirq", "in_irq", "in_interrupt", "irqs_disabled", "system_supports_sve",
    "may_use_simd", "fp_trapped", "set_fp_trap", "el0_svc",
})

SLOT_NAMES = {"v": "V0-V31", "fpsr": "FPSR/FPCR", "zhi": "Z bits above 127", "p": "P0-P15/FFR",
              "za": "ZA", "fpmr": "FPMR", "fpcr": "FPCR"}


def slot_names(state: dict[str, str]) -> dict[str, str]:
    """SLOT_NAMES for a trace's layout: with SME FPCR has a slice of its own
    (model.state.Image.fpcr), so the ``fpsr`` slice is FPSR alone."""
    if "cpu0.regs.fpcr" in state:
        return {**SLOT_NAMES, "fpsr": "FPSR"}
    return SLOT_NAMES


def task_names(trace: Trace) -> list[str]:
    """Task index -> name, as model.state.Layout numbers them."""
    cfg = trace.config
    names = [f"T{i}" for i in range(int(cfg.get("tasks", 0)))]
    names += [f"vmm{i}" for i in range(int(cfg.get("vmm_threads", 0)))]
    names += [f"idle{c}" for c in range(int(cfg.get("cpus", 1)))]
    if "kthread_kernel_neon" in (cfg.get("events") or ()):
        names.append("kworker")  # (v6.8+ only: Instance refuses the event elsewhere)
    return names


def cpus(trace: Trace) -> list[int]:
    return list(range(int(trace.config.get("cpus", 1))))


def _name(names: list[str], i: int | None) -> str:
    if i is None:
        return "?"
    return names[i] if 0 <= i < len(names) else f"task{i}"


@dataclass
class Context:
    """Who runs a step: text for the table, and the owner whose colour it gets."""

    text: str
    owner: str  # a value-label owner (T0, vmm0, G0), "kneon" for IRQ/softirq, "" for none
    level: str  # "EL0", "kernel", "irq", "hyp", "guest", "sched"


def context_of(step: Step, names: list[str], before: dict[str, str] | None = None
               ) -> Context:
    """``before``: the state before the step (to say that a step enters from EL0)."""
    task = _name(names, step.params.get("task"))
    vcpu = step.params.get("vcpu")
    guest = f"G{vcpu}" if vcpu is not None else "guest"
    a = step.action
    if a == "user_fp_write":
        return Context(f"{task} (EL0)", task, "EL0")
    if a == "irq":
        return Context(f"IRQ+softirq over {task}", "kneon", "irq")
    if a == "schedule":
        nxt = _name(names, step.params.get("next"))
        return Context(f"{task} → {nxt}", nxt, "sched")
    if a == "guest_fp_write":
        return Context(f"guest {guest}", guest, "guest")
    if a == "guest_fp_trap":
        return Context(f"hyp (FP trap from {guest})", guest, "hyp")
    if a == "guest_sve_trap":
        return Context(f"hyp (SVE trap from {guest})", guest, "hyp")
    if a in ("enter_guest", "guest_exit"):
        arrow = f"{task} → {guest}" if a == "enter_guest" else f"{guest} → {task}"
        return Context(f"{arrow} (hyp)", guest, "hyp")
    if before is not None and before.get(f"{task}.pc") == "USER":
        return Context(f"{task} (EL0 → kernel)", task, "kernel")
    return Context(f"{task} (kernel)", task, "kernel")


def entry_function(step: Step) -> str:
    """The modelled kernel entry point of the step (its first function)."""
    return step.functions[0] if step.functions else step.action


def notable_functions(step: Step, limit: int | None = None) -> list[str]:
    fns = [f for f in step.functions[1:] if f not in TRIVIAL_FUNCTIONS]
    return fns if limit is None else fns[:limit]


def inputs_text(step: Step) -> list[str]:
    """The step's nondeterministic choices; an IRQ point (model/interleave.py) only when
    the IRQ was taken there (a step has one per window, mostly not taken)."""
    out = []
    for k, v in step.inputs.items():
        if step.inputs_read is not None and k not in step.inputs_read:
            continue  # the step's path never consulted it (e.g. no local_bh_enable)
        name = k.split('#')[0]
        if name.startswith("IRQ in "):
            if v:
                out.append(f"IRQ taken{name[3:]}")
            continue
        out.append(f"{name}: {'yes' if v else 'no'}")
    return out


@dataclass
class Change:
    var: str
    old: str | None
    new: str


def changes(before: dict[str, str], after: dict[str, str]) -> list[Change]:
    return [Change(k, before.get(k), v) for k, v in after.items() if before.get(k) != v]


# Where a task is, in words (model.state.PCS); unknown points are shown as they are.
PC_WORDS = {
    "USER": "at EL0",
    "KERNEL": "in the kernel",
    "VCPU_LOAD": "in KVM_RUN, before vcpu_load",
    "LOOP_TOP": "in KVM_RUN, vcpu loaded, before guest entry",
    "IN_GUEST": "in the guest",
    "POST_EXIT": "in KVM_RUN, just after a guest exit (preemption off)",
    "LOOP_EXIT": "in KVM_RUN, leaving the run loop",
}


def pc_words(pc: str | None) -> str:
    return PC_WORDS.get(pc or "", pc or "?")


def value_chip(label: str | None) -> str:
    """A register/memory value in words a kernel engineer reads without a legend: whose
    write it is and whether it is that context's latest."""
    if label is None:
        return "?"
    if label == "0":
        return "zero"
    if label == "kneon":
        return "kernel NEON data"
    owner = label.rstrip("~")
    return f"{owner}'s older value" if label.endswith("~") else f"{owner}'s latest"


def _retired(c: Change) -> bool:
    """A copy that became "older" in place because its owner wrote anew elsewhere (the
    write monitor), not because anything wrote this memory."""
    return c.old is not None and c.new == c.old + "~"


def group_changes(chs: list[Change]) -> list[str]:
    """One line per change, in words; a register image whose slices moved together is one
    line (``cpu0.regs{v,fpsr}: zero → vmm0's latest``).  Copies that merely became an
    owner's older value (nothing wrote them; the owner wrote anew) are listed together at
    the end; a task's program point is said in words."""
    out: list[str] = []
    images: dict[tuple[str, str | None, str], list[str]] = {}
    order: list[tuple[str, str | None, str] | str] = []
    aged: dict[str, list[str]] = {}
    for c in chs:
        base, _, slot = c.var.rpartition(".")
        if slot in SLOT_NAMES and base and _retired(c):
            names = aged.setdefault(c.old, [])
            if base not in names:
                names.append(base)
        elif slot in SLOT_NAMES and base:
            key = (base, c.old, c.new)
            if key not in images:
                images[key] = []
                order.append(key)
            images[key].append(slot)
        elif slot == "pc" and base:
            order.append(f"{base}: now {pc_words(c.new)} (was {pc_words(c.old)})")
        else:
            order.append(f"{c.var}: {c.old}→{c.new}")
    for item in order:
        if isinstance(item, str):
            out.append(item)
        else:
            base, old, new = item
            slots = images[item]
            name = f"{base}.{slots[0]}" if len(slots) == 1 else f"{base}{{{','.join(slots)}}}"
            out.append(f"{name}: {value_chip(old)} → {value_chip(new)}")
    for owner, bases in aged.items():
        out.append(f"now {owner}'s older value (it wrote anew): {', '.join(bases)}")
    return out


def describe_value(label: str) -> str:
    if label == "0":
        return "zero"
    if label == "kneon":
        return "kernel-mode NEON data"
    if label == "efi":
        return "EFI firmware data"
    if label == "unknown":
        return "UNKNOWN contents after a power loss"
    if label.startswith("kneon."):
        return f"the data of a running kernel-mode NEON section ({label[6:]})"
    owner, stale = label.rstrip("~"), label.endswith("~")
    who = _who(owner)
    return f"an older value of {who}" if stale else f"{who}'s latest value"


def _who(owner: str) -> str:
    return f"guest {owner}" if owner.startswith("G") else f"host task {owner}"


def owner_of(label: str) -> str:
    return label.rstrip("~")


# --------------------------------------------------------------------------- verdict
@dataclass
class Finding:
    """One wrong register seen by a reader in the last state."""

    cpu: str
    reader: str
    slot: str
    value: str
    text: str
    loaded_at: int | None = None
    short: str = ""  # the text without where the value came from (for summary tables)


@dataclass
class Verdict:
    headline: str
    findings: list[Finding] = field(default_factory=list)
    failing_step: int | None = None  # 1-based; the step after which the property fails
    notes: list[str] = field(default_factory=list)  # e.g. per locking rule: who splats

    def text(self) -> str:
        out = self.headline
        if self.findings:
            out += ": " + "; ".join(f.text for f in self.findings)
        return out + "".join(f"\n  {n}" for n in self.notes)


def readers(state: dict[str, str]) -> list[tuple[str, str]]:
    """(cpu, reader owner) for every context that can read FP registers in ``state``:
    a user task at EL0, or a guest in guest mode with FP untrapped."""
    out = []
    for cpu in sorted({k.split(".")[0] for k in state if k.startswith("cpu")}):
        cur = state.get(f"{cpu}.current", "")
        pc = state.get(f"{cur}.pc")
        if pc == "USER":
            out.append((cpu, cur))
        elif pc == "IN_GUEST":
            trapped = (state.get(f"{cpu}.CPTR_EL2.TFP") == "1"
                       or state.get(f"{cpu}.CPACR_EL1.FPEN") == "0")
            if not trapped:
                for k, v in state.items():
                    if k.endswith(".mutex") and v == cur:
                        out.append((cpu, "G" + k.split(".")[0].removeprefix("vcpu")))
    return out


def _svcr_findings(trace: Trace, last: dict[str, str]) -> list[Finding]:
    """(SME) Contexts running with a PSTATE.SM/PSTATE.ZA they did not set: a user task at
    EL0 whose CPU's SVCR differs from the ghost of what it set (ghost.T.sm/za), a guest
    (which has no SME) in guest mode with PSTATE.SM set."""
    out = []
    for cpu in sorted({k.split(".")[0] for k in last if k.startswith("cpu")}):
        cur = last.get(f"{cpu}.current", "")
        pc = last.get(f"{cur}.pc")
        for bit in ("SM", "ZA"):
            live = last.get(f"{cpu}.SVCR.{bit}")
            if live is None:
                continue
            if pc == "USER":
                want = last.get(f"ghost.{cur}.{bit.lower()}")
                who, ctx = _who(cur), cur
            elif pc == "IN_GUEST" and bit == "SM":
                want, ctx = "0", next((("G" + k.split(".")[0].removeprefix("vcpu"))
                                       for k, v in last.items()
                                       if k.endswith(".mutex") and v == cur), cur)
                who = f"guest {ctx} (no SME)"
            else:
                continue
            if want is None or want == live:
                continue
            loaded, _ = _last_change(trace, f"{cpu}.SVCR.{bit}")
            text = f"{who} on {cpu} runs with PSTATE.{bit} = {live} but set it to {want}"
            short = text
            if loaded is not None:
                text += f", set at {_step_name(trace, loaded, live)}"
            out.append(Finding(cpu, ctx, f"SVCR.{bit}", live, text, loaded, short))
    return out


def _last_change(trace: Trace, var: str) -> tuple[int | None, int | None]:
    """(the last step that put the register's current value there, the step at which that
    value became an older value): a write elsewhere retires ``X`` to ``X~`` in place,
    which is not a load."""
    loaded = retired = None
    prev = trace.initial
    for i, s in enumerate(trace.steps, 1):
        old, new = prev.get(var), s.state.get(var)
        if old != new:
            if (old is not None and new == old + "~"
                    and s.action in ("user_fp_write", "guest_fp_write")):
                retired = i
            else:
                loaded, retired = i, None
        prev = s.state
    return loaded, retired


def _last_write_by(trace: Trace, owner: str) -> int | None:
    """The last step in which ``owner`` wrote new FP values (its token became latest)."""
    found = None
    for i, s in enumerate(trace.steps, 1):
        if s.action in ("user_fp_write", "guest_fp_write"):
            prev = trace.initial if i == 1 else trace.steps[i - 2].state
            if any(v == owner + "~" and prev.get(k) == owner for k, v in s.state.items()):
                found = i
    return found


# Which function of a step put a value into the registers, by preference.
_WRITERS = ("softirq_handler_using_neon", "syscall_kernel_neon", "kernel_fp_write",
            "user_fp_write", "guest_fp_write")
_LOADERS = ("__hyp_switch_fpsimd", "__fpsimd_guest_restore", "fpsimd_restore_current_state",
            "task_fpsimd_load", "__fpsimd_restore_state", "fpsimd_load_state")


def _step_name(trace: Trace, i: int, value: str) -> str:
    s = trace.steps[i - 1]
    prefs = _WRITERS if value == "kneon" else _LOADERS + _WRITERS
    fn = next((f for f in prefs if f in s.functions), None)
    via = f" by {fn}()" if fn else ""
    return f"step {i} ({s.label}{via})"


def assert_path(step: Step, check_id: str) -> list[str]:
    """The real call stack (modelled functions, outermost first) at the failing check,
    as recorded in the trace (``Step.stacks``).  Traces written before stacks were
    recorded fall back to a guess from the first-call order of the step's functions."""
    if check_id in step.stacks:
        return list(step.stacks[check_id])
    afn = check_id.split(":")[0].strip()
    fns = notable_functions(step)
    hit = next((i for i, f in enumerate(fns)
                if f == afn or afn.lstrip("_").startswith(f.lstrip("_"))), None)
    if hit is None:
        return []
    before = fns[:hit]
    kvm = [f for f in before if f.startswith("kvm_")]
    return (kvm or before[-3:]) + [fns[hit]]


_MARKERS = {"locking_rules": ": locking ", "data_ownership": ": ownership "}


def _of_property(prop: str, check_ids: list[str]) -> list[str]:
    """The assertion ids that belong to ``prop`` (locking rules read ": locking ", data
    ownership checks ": ownership ", the rest are kernel assertions)."""
    if prop in _MARKERS:
        return [c for c in check_ids if _MARKERS[prop] in c]
    return [c for c in check_ids if not any(m in c for m in _MARKERS.values())]


def _rule_notes(trace: Trace, check_ids: list[str]) -> list[str]:
    """For each locking rule broken: which configurations print a splat, and what
    happens on this one (properties.locking.explain)."""
    from model.config import Config
    from properties.locking import explain

    try:
        cfg = Config.from_json(trace.config)
    except (TypeError, ValueError):
        return []
    rules = []
    for cid in check_ids:
        _, sep, rest = cid.partition(": locking ")
        if sep:
            rules.append(rest.split(":")[0].strip())
    return [explain(r, cfg) for r in dict.fromkeys(rules)]


def verdict(trace: Trace) -> Verdict:
    """The violation in plain words, from the last state of the trace."""
    n = len(trace.steps)
    if trace.property in ("kernel_asserts", "locking_rules", "data_ownership"):
        if not trace.steps:
            return Verdict(f"VIOLATION of {trace.property}: {trace.violation}")
        s = trace.steps[-1]
        mine = _of_property(trace.property, s.violations) or [trace.violation]
        others = [v for v in s.violations if v not in mine]
        what = "; ".join(mine)
        path = assert_path(s, mine[0])
        where = f" (in {' → '.join(path)})" if path else ""
        first = mine[0]
        kind = ("a counter leaves its range" if first.partition(": ")[2].startswith(
            "overflow ") else "the kernel assertion fails" if trace.property == "kernel_asserts"
            else "the locking rule is broken" if trace.property == "locking_rules"
            else "a CPU touches state that code running on another CPU owns (a data race)")
        text = f"VIOLATION of {trace.property} at step {n}, {s.label}{where}: {kind}: {what}"
        if others:
            text += f" (the same step also fails: {'; '.join(others)})"
        return Verdict(text, failing_step=n, notes=_rule_notes(trace, mine))
    # (explore --sites) an invariant's site NAME.SITE: NAME's findings at SITE only
    prop, _, site = trace.property.partition(".")
    last = trace.steps[-1].state if trace.steps else trace.initial
    findings: list[Finding] = []
    names = slot_names(last)
    for cpu, reader in readers(last):
        for slot in SLOT_NAMES:
            # (SME) ZA is read only while PSTATE.ZA is on; its variable is CPU.ZA
            var = f"{cpu}.ZA" if slot == "za" else f"{cpu}.regs.{slot}"
            val = last.get(var)
            if slot == "za" and last.get(f"{cpu}.SVCR.ZA") != "1":
                continue
            # (its latest value is a finding only where it must read zero: exec, an SM
            # change; FPMR and, with SME, FPCR by their own ghosts; P/FFR where the
            # kernel guarantees zero; ZA after SMSTART ZA)
            zero_ghost = {"fpmr": "exec_zero_fpmr", "fpcr": "exec_zero_fpcr"}.get(
                slot, "exec_zero")
            must_zero = last.get(f"ghost.{reader}.{zero_ghost}") == "1"
            if slot == "p":
                must_zero = last.get(f"ghost.{reader}.p_written") == "zero"
            if slot == "za":
                must_zero = last.get(f"ghost.{reader}.za_written") == "0"
            if val is None or (val == reader and (
                    prop != "no_loss" or slot not in ("v", "fpsr", "fpmr", "fpcr", "p", "za")
                    or not must_zero)):
                continue
            if slot == "fpmr" and reader.startswith("G") and not trace.config.get("guest_fpmr"):
                continue  # a VM without FPMR cannot read it (HCRX_EL2.EnFPM clear)
            if prop == "no_leak" and (owner_of(val) == reader or val == "0"):
                continue  # its own bits, or zero (nobody's: properties.fp.own_or_no_ones)
            # the slice must read zero: exec or an SM change (properties.fp
            # expects_zero, FPMR and FPCR by their own ghosts), P_ZERO, ZA after SMSTART ZA
            ez = must_zero and slot in ("v", "fpsr", "fpmr", "fpcr", "p", "za")
            if prop == "no_loss" and val == "0" and ez:
                continue  # zero is what it must read
            if prop == "no_loss" and not reader.startswith("G") and (
                    (slot == "zhi" and val == "0"
                     and last.get(f"ghost.{reader}.zhi_written") == "0")
                    or (slot == "p" and last.get(f"ghost.{reader}.p_written") == "0")):
                continue  # no_loss expects zero above bit 127 / nothing of P (zhi_value)
            loaded, retired = _last_change(trace, var)
            text = (f"{_who(reader)} on {cpu} can read {names[slot]} = "
                    f"{describe_value(val)}")
            short = text
            if loaded is not None:
                text += f", put there at {_step_name(trace, loaded, val)}"
            else:
                text += ", there from the start"
            if retired is not None:
                text += f" and superseded at step {retired} ({trace.steps[retired - 1].label})"
            if ez:
                tail = {
                    "fpmr": "; since its execve() it must read zero",
                    "p": "; it must read zero (the kernel zeroes P/FFR here: the syscall"
                         " ABI, an SM change)",
                    "za": "; it must read zero (it did not write ZA since it turned ZA on,"
                          " or ZA was not restored for it)",
                }.get(slot, "; it must read zero (after its execve() or an SM change)")
                text += tail
                short += tail
            elif val.endswith("~") or val == "0":
                holders = [k for k, v in last.items()
                           if v == reader and k.rpartition(".")[2] == slot]
                wrote = _last_write_by(trace, reader)
                latest = f"{reader}'s latest value"
                if wrote is not None:
                    latest += f" (written at step {wrote})"
                holders = list(dict.fromkeys(h.rpartition(".")[0] for h in holders))
                tail = (f"; {latest} is now only in {', '.join(holders)}" if holders
                        else f"; {latest} is nowhere: lost")
                text += tail
                short += re.sub(r" \(written at step \d+\)", "", tail)
            elif val != "0":
                text += " (someone else's data)"
                short += " (someone else's data)"
            findings.append(Finding(cpu, reader, slot, val, text, loaded, short))
    if prop == "no_loss":
        findings += _svcr_findings(trace, last)
    if prop == "no_loss" and last.get("ghost.kernel_neon_readback_lost") == "1":
        step = trace.steps[-1] if trace.steps else None
        where = f" in step {n} ({step.label})" if step else ""
        findings.append(Finding("", "kernel-mode NEON", "", "", (
            f"a kernel-mode NEON section{where} read back registers holding data it did"
            " not write (another section used NEON in between)"), None,
            "a kernel-mode NEON section read back data it did not write"))
    if site:
        # (explore --sites) only what this site reads: its register slice, PSTATE.SM/ZA
        # (svcr), a kernel-mode NEON read-back (kneon)
        findings = [f for f in findings if f.slot == site
                    or (site == "svcr" and f.slot.startswith("SVCR."))
                    or (site == "kneon" and f.reader == "kernel-mode NEON")]
    head = f"VIOLATION of {trace.property} after step {n}"
    if not findings:
        head += f": {trace.violation}"
    # One line per register image: V and FPSR always move together in this model.
    merged: list[Finding] = []
    for f in findings:
        same = [m for m in merged if m.cpu == f.cpu and m.reader == f.reader
                and m.value == f.value and m.loaded_at == f.loaded_at
                and f.slot in SLOT_NAMES and m.slot.split("+")[-1] in SLOT_NAMES]
        if same:
            m = same[0]
            # the last slot merged so far names the text to extend (v, then fpsr, ...)
            a, b = names[m.slot.split("+")[-1]], names[f.slot]
            m.text = m.text.replace(f" {a} = ", f" {a} and {b} = ", 1)
            m.short = m.short.replace(f" {a} = ", f" {a} and {b} = ", 1)
            m.slot += "+" + f.slot
        else:
            merged.append(f)
    return Verdict(head, merged, failing_step=n if n else None)
