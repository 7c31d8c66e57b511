"""The model's IR (one `checker.instance.Instance`: its actions, invariants and assertion
sites) written as Promela, so that SPIN checks the very same transition system.

The Promela program is generated from ``Instance.actions``, the step instances every
engine runs (`checker.explicit.compile`, `checker.native.codegen`), never from a second
description of the kernel.  Its shape is chosen so that SPIN's unreduced state count
(``spin -o2 -a``, ``gcc -DNOREDUCE -DSAFETY pan.c``) equals the explorer's:

* **State**: one global per state variable (``bit`` for two values, ``unsigned x : n``
  with n = ceil(log2(domain size)) otherwise; a one-value domain is the constant 0), in
  the layout's order, initialised with the layout's initial state.  Values are the
  indices the engines use; each declaration's comment lists its labels.  ``spin -o2``
  keeps variables the model writes but never reads (v4.17 never reads ``vcpu0.pid``):
  SPIN's default drops them from the state vector, which merges states the explorer
  keeps apart (970 vs 929 states, v4.17 with one CPU).
* **One process, one loop**: ``active proctype fpcheck() { end: do :: ... od }``.  Each
  option is one step instance.  A step whose body reads at most `EAGER_INPUTS`
  nondeterministic inputs gets one option per combination of their values,
  ``d_step { guard -> body }`` with the inputs as constants: the step is one SPIN
  transition with no intermediate state.  A step reading more inputs (the IRQ points
  of ``__local_bh_enable_ip`` on TRACE_IRQFLAGS kernels: up to 16 in ``__schedule``)
  would need up to 2^16 copies of its body; it gets one option ``atomic { guard -> ...
  }`` whose input bits (``in0``.., 0 in every stored state) are chosen by
  nondeterministic ``if``s just before the test that reads them, and only where the
  test's value depends on them (`lazy_choices`), as the explorer's lazy enumeration
  does.  pan neither stores nor matches a state reached inside an atomic sequence
  (pan.c, "if no atomic move"), so the stored states are the same.  Inside such a
  chain every step-local value is in the state vector (zeroed at the end), because pan
  restores only the state vector when it backtracks to a choice.
* SPIN refuses a d_step of more than about 2,046 control states; a longer body is a
  chain of d_steps inside an atomic option (`DSTEP_BUDGET`).
* The ``end`` label makes a state without an enabled step a valid end state: the
  explorer reports a deadlock but does not count it as a violation.
* **Sequential bodies**: statements in order, ``if :: c -> .. :: else -> .. fi`` for
  ``If``; step-local temporaries of a single d_step are ``hidden int`` scratch (not in
  the state vector; every path writes them before reading them, which the model's
  compiler enforces).
* **Kernel assertions and locking rules** (properties ``kernel_asserts`` and
  ``locking_rules``) are ``assert``s where the step checks them.  A counter update
  computes into a ``hidden int`` and asserts the domain (the ``overflow`` site).  A
  failed BUG or overflow ends the path in every engine (`model.dsl.FATAL_KINDS`: the
  transition counts, its successor does not): the step saves the state variables it
  writes at its start and restores them at its end if such a check failed, so its
  "successor" is its own pre-state, already stored.
* **Invariants** (``no_loss``, ``no_leak``, ``host_fp_untrapped``) are asserted at the
  end of every step that writes a variable they read, on the state it produced (a step
  writing none of them leaves them as they were in its pre-state, which was checked),
  and on the pre-state in the steps enabled in the initial state, which checks the
  initial state without an extra control location.  Why not a never claim: it is a
  second automaton moving after every step, so it evaluates the same predicate per
  transition anyway, and it would interleave with the atomic chains; an ``assert``
  before the loop would add a state.
* Only the selected properties' assertions are emitted; BUG/overflow end the path
  whether or not ``kernel_asserts`` is selected, as in the explorer.  Reachability
  guards are not exported (they ask whether something is reached, not a safety
  property).

Verdict correspondence: pan reports an assertion violation iff the explorer finds a
violation of a selected property (an invariant failing in a reachable state, or a
failing assertion site on a transition).  With ``-A`` (assertions ignored) or ``-c0``
(continue after errors) pan's "states, stored" is the explorer's state count.
"""

from __future__ import annotations

import itertools
import keyword
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from checker.instance import KERNEL_ASSERTS, STEP_PROPERTIES, Instance
from checker.interp import guard_holds
from model.dsl import (
    FATAL_KINDS,
    Action,
    AddC,
    And,
    Assert,
    Assign,
    Check,
    Const,
    Eq,
    Expr,
    If,
    Input,
    Ite,
    Mark,
    ModelError,
    Not,
    Or,
    Retire,
    Stmt,
    Var,
    stmt_exprs,
    walk_exprs,
    walk_stmts,
)

# A step reading at most this many inputs gets one d_step option per combination of
# their values (at most 8 copies of its body); above, one atomic option that chooses them.
EAGER_INPUTS = 3

PROMELA_KEYWORDS = frozenset("""
active assert atomic bit bool break byte c_code c_decl c_expr c_state c_track chan d_step
D_proctype do else empty enabled eval fi full goto hidden if init inline int len local
mtype nempty never nfull np_ od of pc_value pid printf printm priority proctype provided
run select short skip timeout typedef unless unsigned xr xs true false
""".split())


# Prefixes of the exporter's own names (inputs, scratch); a state variable starting with
# one gets a ``v_`` prefix.
RESERVED = ("in", "L", "lc", "sv", "ovf", "fatal")


class PromelaUnsupported(ModelError):
    """The instance uses something this exporter does not translate (a usage error)."""


@dataclass
class PromelaModel:
    """A generated Promela program and what it contains."""

    text: str
    actions: int  # step instances
    options: int  # options of the do loop
    atomic_actions: int  # steps exported as atomic { choose inputs; d_step }
    split_options: int  # options whose body is a chain of d_steps (too long for one)
    state_vars: int  # state variables declared (one-value domains are constants)
    state_bits: int  # bits of those variables
    properties: list[str] = field(default_factory=list)


def bits_for(size: int) -> int:
    return max(0, (size - 1).bit_length())


def used_inputs(a: Action) -> list[int]:
    """Indices (into ``a.inputs``) of the inputs the body reads somewhere."""
    names: set[str] = set()
    for st in walk_stmts(a.body):
        for x in stmt_exprs(st):
            names |= {e.name for e in walk_exprs(x) if isinstance(e, Input)}
    return [j for j, name in enumerate(a.inputs) if name in names]


def _comment(text: str) -> str:
    return "/* " + text.replace("*/", "* /").replace("/*", "/ *") + " */"


class _Writer:
    """Promela text for expressions and statements of one instance."""

    def __init__(self, inst: Instance, properties: Sequence[str]) -> None:
        self.inst = inst
        self.props = set(properties)
        self.names: dict[int, str] = {}
        taken: set[str] = set()
        for v in inst.layout.vars:
            base = re.sub(r"[^A-Za-z0-9_]", "_", v.name)
            if not base or base[0].isdigit() or base in PROMELA_KEYWORDS \
                    or keyword.iskeyword(base) or base.startswith(RESERVED):
                base = "v_" + base
            name = base
            if name in taken:
                name = f"{base}_{v.index}"
            taken.add(name)
            self.names[v.index] = name
        self.sizes = {v.index: v.dom.size for v in inst.layout.vars}
        self.max_locals = 0
        self.max_saves = 0
        self.max_inputs = 0
        self.uses_ovf = False
        self.uses_fatal = False
        self.print_states = False
        self.lazy = False  # inputs chosen where they are read (an atomic option)
        self.inv_reads: dict[str, set[int]] = {}
        self.option = 0  # the loop option being written (for print_states)

    # ----------------------------------------------------------------- expressions
    def ex(self, e: Expr, inputs: dict[str, str], locs: dict[int, str] | None) -> str:
        if isinstance(e, Var):
            if e.local:
                if locs is None:
                    raise PromelaUnsupported(f"local {e.name} used outside a step body")
                if id(e) not in locs:
                    locs[id(e)] = f"L{len(locs)}"
                    self.max_locals = max(self.max_locals, len(locs))
                return locs[id(e)]
            if self.sizes.get(e.index, 0) <= 1:
                return "0"  # a one-value domain: not stored
            return self.names[e.index]
        if isinstance(e, Const):
            return str(int(e.value))
        if isinstance(e, Input):
            if e.name not in inputs:
                raise PromelaUnsupported(f"input {e.name} used outside its step")
            return inputs[e.name]
        if isinstance(e, Not):
            return f"!({self.ex(e.a, inputs, locs)})"
        if isinstance(e, And):
            if not e.args:
                return "1"
            return "(" + " && ".join(self.ex(a, inputs, locs) for a in e.args) + ")"
        if isinstance(e, Or):
            if not e.args:
                return "0"
            return "(" + " || ".join(self.ex(a, inputs, locs) for a in e.args) + ")"
        if isinstance(e, Eq):
            return f"({self.ex(e.a, inputs, locs)} == {self.ex(e.b, inputs, locs)})"
        if isinstance(e, Ite):
            return (f"({self.ex(e.c, inputs, locs)} -> {self.ex(e.a, inputs, locs)} : "
                    f"{self.ex(e.b, inputs, locs)})")
        if isinstance(e, AddC):
            return f"({self.ex(e.a, inputs, locs)} + ({int(e.k)}))"
        if isinstance(e, Retire):
            a = self.ex(e.a, inputs, locs)
            return f"(({a} == {int(e.latest)}) -> {int(e.stale)} : {a})"
        raise PromelaUnsupported(f"the Promela export cannot translate expression {e!r}")

    # ------------------------------------------------------------------ statements
    # A body is built as a list of nodes: a statement (str), a comment (`_Note`) or an
    # `_IfNode`, then laid out as one d_step, or, if longer than SPIN accepts in one
    # (`DSTEP_BUDGET`), as a chain of d_steps inside the step's atomic option.
    def asserted(self, check: Check) -> bool:
        return self.inst.property_of_check(check.id) in self.props

    def block(self, body: Sequence[Stmt], inputs: dict[str, str], locs: dict[int, str],
              out: list) -> None:
        for st in body:
            if isinstance(st, Assign):
                self.assign(st, inputs, locs, out)
            elif isinstance(st, Assert):
                cond = self.ex(st.cond, inputs, locs)
                out.append(_Note(f"{st.check.kind}: {st.check.id}"))
                if self.asserted(st.check):
                    out.append(f"assert({cond})")
                if st.check.kind in FATAL_KINDS:
                    # BUG(): nothing follows this step (the restore at its end).
                    self.uses_fatal = True
                    out.append(_IfNode(f"!({cond})", ["fatal = 1"], []))
            elif isinstance(st, If):
                node = _IfNode(self.ex(st.cond, inputs, locs), [], [])
                if self.lazy:
                    # The one input this condition reads is chosen here, and only where
                    # its value can change the condition (`lazy_choices`).
                    for e in walk_exprs(st.cond):
                        if isinstance(e, Input):
                            node.choose.append(
                                (inputs[e.name],
                                 self.ex(st.cond, {**inputs, e.name: "1"}, locs),
                                 self.ex(st.cond, {**inputs, e.name: "0"}, locs)))
                self.block(st.then, inputs, locs, node.then)
                self.block(st.els, inputs, locs, node.els)
                out.append(node)
            elif isinstance(st, Mark):
                continue
            else:
                raise PromelaUnsupported(f"the Promela export cannot translate statement "
                                         f"{st!r}")

    def assign(self, st: Assign, inputs: dict[str, str], locs: dict[int, str],
               out: list) -> None:
        v = st.var
        code = self.ex(st.expr, inputs, locs)
        if v.local:
            target = self.ex(v, inputs, locs)
        elif self.sizes[v.index] <= 1:
            target = None
        else:
            target = self.names[v.index]
        if st.check is None:
            # The model guarantees the domain (every engine treats a value outside it as
            # a model error, never as a verdict).
            if target is not None:
                out.append(f"{target} = {code}")
            return
        # A counter update: out of its domain, the overflow site fails, the counter
        # keeps its value and nothing follows the step (model.dsl.Assign).
        self.uses_ovf = self.uses_fatal = True
        old = "0" if target is None else target
        out.append(f"ovf = {code}")
        out.append(_Note(f"overflow: {st.check.id}"))
        ok = f"(ovf >= 0 && ovf < {v.dom.size})"
        if self.asserted(st.check):
            out.append(f"assert{ok}")
        out.append(_IfNode(f"!{ok}", ["fatal = 1", f"ovf = {old}"], []))
        if target is not None:
            out.append(f"{target} = ovf")

    # ----------------------------------------------------------------------- steps
    def stored_vars(self) -> list[str]:
        return [self.names[v.index] for v in self.inst.layout.vars if self.sizes[v.index] > 1]

    def state_format(self) -> str:
        return " ".join(["%d"] * len(self.stored_vars()))

    def state_args(self) -> str:
        return ", ".join(self.stored_vars())

    def assigned_state_vars(self, a: Action) -> list[int]:
        out = {st.var.index for st in walk_stmts(a.body)
               if isinstance(st, Assign) and not st.var.local and self.sizes[st.var.index] > 1}
        return sorted(out)

    def step(self, a: Action, inputs: dict[str, str], invariants: list[tuple[str, str]],
             check_pre: bool, reset: list[str]) -> list:
        """The nodes of one step's body (after its guard) with ``inputs`` bound."""
        locs: dict[int, str] = {}
        body: list = []
        fatal_before = self.uses_fatal
        self.uses_fatal = False
        self.block(a.body, inputs, locs, body)
        fatal = self.uses_fatal
        self.uses_fatal = fatal or fatal_before
        out: list = []
        if self.print_states:
            out.append(f'printf("P {self.option} {self.state_format()}\\n", '
                       f'{self.state_args()})')
        if check_pre:
            for name, inv in invariants:
                out += [_Note(f"{name} in the initial state"), f"assert({inv})"]
        saves: list[tuple[str, str]] = []
        if fatal:
            out.append("fatal = 0")
            for k, idx in enumerate(self.assigned_state_vars(a)):
                saves.append((f"sv{k}", self.names[idx]))
                out.append(f"sv{k} = {self.names[idx]}")
            self.max_saves = max(self.max_saves, len(saves))
        out += body
        # An invariant reading nothing this step writes has the same value after it as
        # before, and the pre-state was checked when it was produced (or initially).
        writes = set(self.assigned_state_vars(a))
        post: list = []
        for name, inv in invariants:
            if self.inv_reads[name] & writes:
                post += [_Note(name), f"assert({inv})"]
        if fatal:
            restore = [f"{var} = {sv}" for sv, var in saves]
            out.append(_Note("a BUG or overflow failed: no successor (back to the pre-state)"))
            out.append(_IfNode("fatal", restore, post))
        else:
            out += post
        out += [f"{r} = 0" for r in reset]
        if self.print_states:
            out.append(f'printf("S {self.state_format()}\\n", {self.state_args()})')
        return out


# SPIN refuses a d_step of more than about 2046 control states (measured with 6.5.2:
# "d_step sequence too long"); a longer body is split into several d_steps inside the
# step's atomic option, whose intermediate states pan neither stores nor matches.
DSTEP_BUDGET = 1500


@dataclass
class _Note:
    text: str


@dataclass
class _IfNode:
    cond: str
    then: list
    els: list
    # (input bit, the condition with it 1, with it 0): chosen just before this test
    choose: list = field(default_factory=list)


def lazy_choices(a: Action) -> bool:
    """Whether ``a``'s inputs can be chosen where they are read: every input is read by
    exactly one ``If`` condition, alone (an IRQ point, a pending softirq), so its value
    matters only there, and only if that condition differs with it 0 and 1."""
    uses: dict[str, int] = {}
    for st in walk_stmts(a.body):
        found = [e.name for x in stmt_exprs(st) for e in walk_exprs(x) if isinstance(e, Input)]
        if found and (not isinstance(st, If) or len(found) > 1):
            return False
        for name in found:
            uses[name] = uses.get(name, 0) + 1
    return all(n == 1 for n in uses.values())


def _has_choice(nodes: list) -> bool:
    return any(isinstance(n, _IfNode) and (n.choose or _has_choice(n.then)
                                           or _has_choice(n.els)) for n in nodes)


def _rename(nodes: list, sub) -> list:  # noqa: ANN001 - sub: str -> str
    out: list = []
    for n in nodes:
        if isinstance(n, _IfNode):
            out.append(_IfNode(sub(n.cond), _rename(n.then, sub), _rename(n.els, sub),
                               [(sub(b), sub(c1), sub(c0)) for b, c1, c0 in n.choose]))
        elif isinstance(n, str):
            out.append(sub(n))
        else:
            out.append(n)
    return out


_SCRATCH = re.compile(r"\b(L\d+|sv\d+|fatal)\b")


def chain_scratch(nodes: list) -> tuple[list, set[str]]:
    """A step laid out as several transitions (an atomic chain) keeps its step-local
    values in the state vector, zeroed at its end: pan restores only the state vector
    when it backtracks to a choice inside the chain, after it has explored the states
    below the chain's first outcome, whose steps reuse the same hidden scratch; a hidden
    value would be stale (``L3`` -> ``lc3``, ``sv3`` -> ``svc3``, ``fatal`` ->
    ``fatal_c``).  ``ovf`` stays hidden: it is read right after it is written, with no
    choice in between."""
    used: set[str] = set()

    def sub(text: str) -> str:
        def rep(m: re.Match) -> str:
            g = m.group(1)
            name = "fatal_c" if g == "fatal" else "lc" + g[1:] if g[0] == "L" else "svc" + g[2:]
            used.add(name)
            return name
        return _SCRATCH.sub(rep, text)

    out = _rename(nodes, sub)
    return out + [f"{name} = 0" for name in sorted(used)], used


def _weight(nodes: list) -> int:
    """An upper estimate of the control states SPIN makes of ``nodes`` in a d_step."""
    w = 0
    for n in nodes:
        if isinstance(n, _IfNode):
            w += 4 + _weight(n.then) + _weight(n.els)
        elif isinstance(n, str):
            w += 1
    return w


def _lines(nodes: list, ind: str) -> list[str]:
    """``nodes`` as Promela statements (inside a d_step)."""
    out: list[str] = []
    for n in nodes:
        if isinstance(n, _Note):
            out.append(f"{ind}{_comment(n.text)}")
        elif isinstance(n, _IfNode):
            if len(n.then) <= 2 and not n.els and all(isinstance(x, str) for x in n.then):
                out.append(f"{ind}if :: {n.cond} -> {'; '.join(n.then)} :: else -> skip fi;")
                continue
            out.append(f"{ind}if")
            out.append(f"{ind}:: {n.cond} ->")
            out += _lines(n.then, ind + "   ") or [f"{ind}   skip;"]
            out.append(f"{ind}:: else ->")
            out += _lines(n.els, ind + "   ") or [f"{ind}   skip;"]
            out.append(f"{ind}fi;")
        else:
            out.append(f"{ind}{n};")
    if out and all(line.lstrip().startswith("/*") for line in out):
        out.append(f"{ind}skip;")
    return out


def _chain(nodes: list, ind: str) -> list[str]:
    """``nodes`` as a sequence of d_steps of at most `DSTEP_BUDGET` states each (inside an
    atomic): runs of statements become one d_step; an ``if`` too long for one is a plain
    Promela ``if`` (evaluated inside the atomic) whose branches are chains themselves."""
    out: list[str] = []
    run: list = []

    def flush() -> None:
        if any(not isinstance(n, _Note) for n in run):
            out.append(f"{ind}d_step {{")
            out.extend(_lines(run, ind + "  "))
            out.append(f"{ind}}};")
        run.clear()

    for n in nodes:
        w = _weight([n])
        if isinstance(n, _IfNode) and n.choose:
            flush()
            for bit, c1, c0 in n.choose:
                out.append(f"{ind}if :: ({c1}) != ({c0}) -> if :: {bit} = 1 :: skip fi "
                           ":: else -> skip fi;")
        if isinstance(n, _IfNode) and (w > DSTEP_BUDGET or _has_choice(n.then)
                                       or _has_choice(n.els)):
            flush()
            out.append(f"{ind}if")
            out.append(f"{ind}:: {n.cond} ->")
            out += _chain(n.then, ind + "   ") or [f"{ind}   skip;"]
            out.append(f"{ind}:: else ->")
            out += _chain(n.els, ind + "   ") or [f"{ind}   skip;"]
            out.append(f"{ind}fi;")
            continue
        if _weight(run) + w > DSTEP_BUDGET:
            flush()
        run.append(n)
    flush()
    return out


def to_promela(inst: Instance, properties: Sequence[str], *,
               print_states: bool = False) -> PromelaModel:
    """The Promela program of ``inst`` checking ``properties`` (see the module docstring).
    ``print_states``: every step ends with a ``printf`` of the state it produced (with
    ``gcc -DPRINTF``: pan prints every transition's successor; for debugging the export)."""
    w = _Writer(inst, properties)
    w.print_states = print_states
    lay = inst.layout
    init = lay.initial_state()
    invariants = [(name, w.ex(e, {}, None)) for name, e in inst.invariants.items()
                  if name in properties]
    w.inv_reads = {name: {x.index for x in walk_exprs(e) if isinstance(x, Var)}
                   for name, e in inst.invariants.items()}
    head = [
        "/* generated by `python -m checker export --promela` (checker/export/promela.py)",
        f"   variant {inst.variant.name}: {inst.config.describe()}",
        f"   properties: {', '.join(properties)}",
        "   check: spin -o2 -a FILE && gcc -O2 -DNOREDUCE -DSAFETY -o pan pan.c &&",
        "          ./pan -m10000000",
        "   (pan's \"states, stored\" equals the explorer's state count; -o2 keeps variables",
        "   the model writes but never reads, as the explorer does; see the module docstring",
        "   of checker/export/promela.py for the encoding) */",
        "",
    ]
    decls: list[str] = []
    nbits = 0
    nvars = 0
    for v in lay.vars:
        b = bits_for(v.dom.size)
        labels = ", ".join(f"{i}={lab}" for i, lab in enumerate(v.dom.labels))
        if len(labels) > 120:
            labels = labels[:117] + "..."
        if b == 0:
            decls.append(_comment(f"{v.name}: always {v.dom.labels[0]} (not stored)"))
            continue
        nvars += 1
        nbits += b
        typ = f"bit {w.names[v.index]}" if b == 1 else f"unsigned {w.names[v.index]} : {b}"
        decls.append(f"{typ} = {init[v.index]};  {_comment(f'{v.name}: {labels}')}")
    init_state = tuple(init)
    options: list[str] = []
    n_options = 0
    n_atomic = 0
    n_split = 0  # steps too long for one d_step
    chain_names: set[str] = set()  # step-local values of atomic chains
    for a in inst.actions:
        guard = w.ex(a.guard, {}, None)
        used = used_inputs(a)
        check_pre = bool(invariants) and guard_holds(a, init_state)
        none = {name: "0" for name in a.inputs}
        if len(used) <= EAGER_INPUTS:
            for bits in itertools.product((0, 1), repeat=len(used)):
                inputs = dict(none)
                for j, b in zip(used, bits, strict=True):
                    inputs[a.inputs[j]] = str(b)
                chosen = [f"{a.inputs[j]}={b}" for j, b in zip(used, bits, strict=True)]
                what = a.label + (f" [{'; '.join(chosen)}]" if chosen else "")
                w.option = n_options
                nodes = w.step(a, inputs, invariants, check_pre, [])
                if _weight(nodes) <= DSTEP_BUDGET:
                    options.append(f"  :: d_step {{ {_comment(what)}")
                    options.append(f"       {guard} ->")
                    options += _lines(nodes, "       ")
                else:
                    n_split += 1
                    nodes, used_scratch = chain_scratch(nodes)
                    chain_names |= used_scratch
                    options.append(f"  :: atomic {{ {_comment(what)}")
                    options.append(f"       {guard} ->")
                    options += _chain(nodes, "       ")
                options.append("     }")
                n_options += 1
        else:
            n_atomic += 1
            w.option = n_options
            w.max_inputs = max(w.max_inputs, len(used))
            inputs = dict(none)
            names = []
            for k, j in enumerate(used):
                inputs[a.inputs[j]] = f"in{k}"
                names.append(f"in{k}")
            what = f"{a.label}: " + ", ".join(f"in{k}={a.inputs[j]}"
                                               for k, j in enumerate(used))
            options.append(f"  :: atomic {{ {_comment(what)}")
            options.append(f"       {guard} ->")
            w.lazy = lazy_choices(a)
            if not w.lazy:
                for name in names:
                    options.append(f"       if :: {name} = 0 :: {name} = 1 fi;")
            nodes = w.step(a, inputs, invariants, check_pre, names)
            w.lazy = False
            if _weight(nodes) > DSTEP_BUDGET:
                n_split += 1
            nodes, used_scratch = chain_scratch(nodes)
            chain_names |= used_scratch
            options += _chain(nodes, "       ")
            options.append("     }")
            n_options += 1
    scratch: list[str] = []
    if w.max_inputs:
        scratch.append(_comment("the inputs of a step with more than "
                                f"{EAGER_INPUTS}: chosen inside its atomic option, 0 in "
                                "every stored state"))
        scratch += [f"bit in{k} = 0;" for k in range(w.max_inputs)]
    if chain_names:
        scratch.append(_comment("step-local values of a step laid out as several "
                                "transitions (atomic): 0 in every stored state"))
        if "fatal_c" in chain_names:
            scratch.append("bit fatal_c = 0;")
        for prefix in ("lc", "svc"):
            names = sorted((n for n in chain_names if re.fullmatch(prefix + r"\d+", n)),
                           key=lambda n: int(n[len(prefix):]))
            if names:
                scratch.append("byte " + ", ".join(names) + ";")
    if w.max_locals:
        scratch.append("hidden int " + ", ".join(f"L{k}" for k in range(w.max_locals))
                       + ";  " + _comment("step-local temporaries"))
    if w.uses_ovf:
        scratch.append("hidden int ovf;  " + _comment("a counter update before its range "
                                                      "check"))
    if w.uses_fatal:
        scratch.append("hidden byte fatal;  " + _comment("a BUG or overflow failed in this "
                                                         "step: no successor"))
        if w.max_saves:
            scratch.append("hidden byte " + ", ".join(f"sv{k}" for k in range(w.max_saves))
                           + ";  " + _comment("pre-state of the variables such a step "
                                              "writes"))
    if not options:
        options = ["  :: false -> skip"]
    body = ["active proctype fpcheck() {", "end:", "  do"] + options + ["  od", "}"]
    text = "\n".join(head + decls + [""] + scratch + [""] + body) + "\n"
    return PromelaModel(text=text, actions=len(inst.actions), options=n_options,
                        atomic_actions=n_atomic, split_options=n_split, state_vars=nvars,
                        state_bits=nbits,
                        properties=list(properties))


__all__ = ["EAGER_INPUTS", "KERNEL_ASSERTS", "STEP_PROPERTIES", "PromelaModel",
           "PromelaUnsupported", "to_promela"]
