"""The z3 encoding of a model instance, derived from the same `Action`/`Expr`/`Stmt`
objects the explicit engine compiles (no second copy of the kernel functions).

Choice
------
The model is already a guarded-command program (model.dsl), so this module is a second
*interpreter* of that AST: each action's statement list is executed symbolically, once per
step of an unrolling, over z3 terms for the pre-state.  Sequential statements update an
environment (variable -> term); ``If`` runs both branches under the path condition and
merges every variable that differs into ``z3.If(c, then, else)``; ``Assert`` records
``path & ~cond``.  The result per action is a guard, a next-state term for every variable it
may change (the others are framed: unchanged), and its assertion-violation conditions.

Data representation
-------------------
* **State** (`Frame`): one z3 ``BitVec`` per model `Var`, holding the same small int the
  explicit engine stores (an index into the variable's `Domain`; booleans 0/1), just wide
  enough for the domain (counters get one spare bit so that leaving the domain is
  visible), bounded by ``x <u |Domain|`` (`Encoding.domain`).  Bit vectors rather than
  Ints: z3's bit-blasting solver is several times faster on this finite-state BMC.
* **Bits** (``bits=True``, the default): beside every value slot (register/memory slice,
  a `Var` of kind ``value`` whose int is a provenance token), the data it holds as a z3
  ``BitVec``: a V slice of 128 bits (one Z register's V0 part, standing for V0-V31 by data
  independence, see model.state), FPSR/FPCR 64 bits (FPCR:FPSR, two 32-bit registers
  always copied together), the Z bits above 128 ``VL-128`` bits (only with SVE; without
  SVE that slice is the constant 0 and absent), P0-P15/FFR ``VL/8`` bits (one predicate
  register standing for all; only with SVE) -- those are the real widths
  (`Encoding.real_width`); each is encoded in at most `DATA_WIDTH` bits (below, "Data
  width").  The mapping from the model is:

  - a copy (``Assign(slot, e)`` whose value is a slot, ``Ite`` of slots, or ``Retire`` of a
    slot) moves the bits with the token (``Retire`` changes only the token);
  - ``Assign(slot, Const latest(o))`` -- the statements `Ctx.fp_write` emits when context
    ``o`` writes its registers -- gives the slot *fresh* symbolic bits and sets the ghost
    ``last[o, slice]`` to them (the ghost "value o last wrote"); further slots of the same
    slice written with that generation before the next supersede (a reset zeroing an SVE
    vcpu's fp_regs and sve_state) get the same bits (`_Env.gen`);
  - ``Const kneon`` (kernel-mode NEON data), and with the optional events ``Const efi``
    (firmware data) and ``Const unknown`` (contents after a power loss), get fresh bits,
    not recorded in any ghost (`Layout.opaque_tokens`);
  - a copy relabelled from one owner's latest token to another's (``Retire`` whose
    replacement is a *latest* token: `model.ctx.Ctx.copy_as_child`, a forked child's copy
    of its parent's state) moves the bits and, where the source held the old owner's
    latest, sets the new owner's ghost ``last`` to them;
  - ``Const zero`` is the all-zero bit vector.
  Fresh bits are named per step and write site (``fresh<k>_<slice>_<j>``), shared by all
  actions of step k (only one fires).  ``no_leak`` stays about tokens (where bits came
  from: two fresh values can be equal by chance); ``no_loss`` requires the token *and*
  ``bits == last[o, slice]``.  The encoding's own invariant `coherence` ("a slot holding
  o's latest token holds o's last written bits; a zero slot holds zeros") is proved by
  induction with the lemmas, so the bit-level proof does not rest on the token abstraction.
  With event fork under split preemption it also says that a child's ghost is its
  parent's while the parent is paused inside _do_fork() after handing a slice over
  (`Encoding._fork_ghost_parts`): the ghosts are not model variables, so no lemma can.
  With ``bits=False`` only tokens are encoded (faster; the proofs are then about tokens).
* **Ghosts** ``last[o, slice]`` are not model variables; the explicit engine has none.
* **Data width.**  Data bits are only ever moved (copies, ``z3.If``), created (fresh
  constants, the constant 0) and compared for equality (with each other and with 0); no
  query does arithmetic, bitwise operations or extraction on them.  Such a formula over
  n data constants of one slice kind has a model at one width iff it has one at any
  other width that holds at least n + 1 values: map the values a model gives the
  constants injectively into the other width, 0 to 0, and every equality keeps its truth
  value.  So each kind is encoded in ``min(real width, DATA_WIDTH)`` bits, and the
  encoding counts the distinct data constants it creates of each narrowed kind (frame
  bits, ghosts, fresh bits: `Encoding.data_var`) and refuses the 2**DATA_WIDTH-th
  (`EncodeError`), so every query's verdict is the one at the real width.  Measured:
  `coherence`'s 24 slot queries on v4.18 with 3 CPUs, 2 tasks, 2 vcpus and 2 VMM threads
  (VHE) took 37.4 s at the real widths, 17.6 s at 16 bits, 17.2 s at 8, 21.0 s at 32 (one
  run each, side by side, load 2-3).  Values of data bits in a model are therefore small
  numbers; traces show tokens, not bits.
* **Steps**: per unrolled step a ``BitVec`` selector ``sel`` (the action id, an index into
  ``inst.actions``; ``sel <u len(actions)`` unless that is a power of two) and ``Bool``
  inputs ``in<k>_<j>`` (the j-th `Input` of whichever action fires); a model gives the
  action and its inputs back.
* Counter overflow (a counter `Assign` whose `AddC` value leaves the int domain) is the
  assertion site ``Assign.check`` (kind ``overflow``, e.g. ``preempt_disable: overflow
  preempt_count overflow (above 3)``), and the counter keeps its old value, as in the
  explicit engine: `bmc` reports it under ``kernel_asserts``, `prove` as the obligation
  ``counters_in_range``.  Any other int assignment out of range (a model bug) is the
  condition ``model: <var> out of range``.  `Encoding.check_kinds` maps every check id to
  its kind.

SMT state -> explicit state
---------------------------
An explicit state is the tuple of the frame's values in `Layout.vars` order
(`Encoding.state_of`); bits and ghosts are dropped (the explicit engine abstracts them by
the tokens, which `coherence` justifies).  An action id and the input booleans
(`Encoding.step_of`) are exactly the arguments of the explicit engine's
``compiled(inst).fire``, so a trace read from a model replays in the explicit
interpreter (checker.smt.bmc does so as a self-check).

Limits
------
* Only straight-line statement lists with ``If`` (no loops: the DSL has none).
* A ``Const latest(o)`` anywhere but directly as the value of an ``Assign`` to a value slot,
  or a ``Const stale(o)`` in a value expression, is rejected (`EncodeError`): the bit mapping
  would not know which write it is.
* Per-step symbolic execution is repeated for each unrolled step (cheap at these sizes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import z3

from checker.instance import Instance
from model.dsl import (
    FATAL_KINDS,
    AddC,
    And,
    Assert,
    Assign,
    Const,
    Domain,
    Eq,
    Expr,
    If,
    Input,
    Ite,
    Mark,
    Not,
    Or,
    Retire,
    Stmt,
    Var,
    checks_of,
)
from properties.fp import expects_zero, fpcr_expects_zero, readers

# "za": (SME) the ZA array stands for one row of it (its width is immaterial to the
# coherence argument; a ZA save or load moves the whole array as one value).
# "fpcr": (SME) FPCR's own slice (without SME "fpsr" is the FPSR/FPCR pair).
SLICE_WIDTH = {"v": 128, "fpsr": 64, "fpexc": 32, "za": 128, "fpmr": 64, "fpcr": 64}
# The width data bits are encoded in (module docstring, "Data width"): 65,535 distinct
# data constants of one kind per encoding, far above any configuration's (a few hundred).
DATA_WIDTH = 16
DEFAULT_VL = 256  # SVE vector length in bits used when the configuration has SVE


class EncodeError(Exception):
    """The model uses a construct this encoder does not support."""


@dataclass
class Frame:
    """One symbolic state: ``vals[i]`` is the z3 term of ``layout.vars[i]``; ``bits`` the data
    of each value slot (by var index); ``ghost`` the last written bits per (owner, slice)."""

    name: str
    vals: list[z3.BitVecRef]
    bits: dict[int, z3.BitVecRef]
    ghost: dict[tuple[int, str], z3.BitVecRef]


@dataclass
class StepEnc:
    """The transition ``pre -> post`` of one unrolled step.

    ``constraint`` is T(pre, post): sel in range & guard[sel](pre) & post == effect[sel](pre)
    (framed); ``violations`` lists (action id, check id, condition) with condition =
    sel==aid & path & ~cond (the guard is in ``constraint``); ``any_violation`` their
    disjunction."""

    index: int
    sel: z3.BitVecRef
    inputs: list[z3.BoolRef]
    constraint: z3.BoolRef
    violations: list[tuple[int, str, z3.BoolRef]]

    @property
    def any_violation(self) -> z3.BoolRef:
        return z3.Or([c for _, _, c in self.violations]) if self.violations else z3.BoolVal(
            False)


def width_of(dom: Domain) -> int:
    """Bits of a variable of ``dom``: enough for its largest value, plus one for counters
    so that leaving the domain by +-k is visible (unsigned compare against the size)."""
    w = max(1, (dom.size - 1).bit_length())
    return w + 1 if dom.kind == "int" else w


def as_bool(t: z3.ExprRef) -> z3.BoolRef:
    return t if z3.is_bool(t) else t != 0


def as_int(t: z3.ExprRef, width: int = 1) -> z3.BitVecRef:
    """A model value as a bit vector (a Bool becomes 0/1 of ``width`` bits)."""
    if z3.is_bool(t):
        return z3.If(t, z3.BitVecVal(1, width), z3.BitVecVal(0, width))
    return t


def _same_width(a: z3.ExprRef, b: z3.ExprRef) -> tuple[z3.BitVecRef, z3.BitVecRef]:
    if z3.is_bool(a):
        a = as_int(a, b.size() if not z3.is_bool(b) else 1)
    if z3.is_bool(b):
        b = as_int(b, a.size())
    if a.size() < b.size():
        a = z3.ZeroExt(b.size() - a.size(), a)
    elif b.size() < a.size():
        b = z3.ZeroExt(a.size() - b.size(), b)
    return a, b


@dataclass
class _Env:
    vals: dict[int, z3.ExprRef]
    locs: dict[int, z3.ExprRef] = field(default_factory=dict)
    bits: dict[int, z3.BitVecRef] = field(default_factory=dict)
    lbits: dict[int, z3.BitVecRef] = field(default_factory=dict)
    ghost: dict[tuple[int, str], z3.BitVecRef] = field(default_factory=dict)
    # (owner, slice) -> the bits of the owner's generation begun in this step, once one of
    # its slots got them: the other slots of that slice written with the same generation
    # (before the next supersede) get the same bits, as the one write they stand for
    # does (kvm_reset_vcpu() zeroing an SVE vcpu's fp_regs.vregs and its sve_state).
    gen: dict[tuple[int, str], z3.BitVecRef] = field(default_factory=dict)

    def copy(self) -> _Env:
        return _Env(dict(self.vals), dict(self.locs), dict(self.bits), dict(self.lbits),
                    dict(self.ghost), dict(self.gen))


def _merge(c: z3.BoolRef, a: dict, b: dict) -> dict:
    out = {}
    for k in a.keys() | b.keys():
        if k not in a:
            out[k] = b[k]
        elif k not in b:
            out[k] = a[k]
        elif a[k].eq(b[k]):
            out[k] = a[k]
        else:
            x, y = a[k], b[k]
            if z3.is_bool(x) != z3.is_bool(y):
                x, y = _same_width(x, y)
            out[k] = z3.If(c, x, y)
    return out


class _ActionExec:
    """Symbolic execution of one action's body at one step."""

    def __init__(self, enc: Encoding, step: int, inputs: dict[str, z3.BoolRef]) -> None:
        self.enc = enc
        self.step = step
        self.inputs = inputs
        self.fresh_count: dict[str, int] = {}
        self.asserts: list[tuple[str, z3.BoolRef]] = []

    # ------------------------------------------------------------------ expressions
    def ev(self, e: Expr, env: _Env) -> z3.ExprRef:
        if isinstance(e, Var):
            if e.local:
                if id(e) not in env.locs:
                    raise EncodeError(f"local {e.name} read before it is set")
                return env.locs[id(e)]
            return env.vals[e.index]
        if isinstance(e, Const):
            return z3.BitVecVal(e.value, width_of(e.dom))
        if isinstance(e, Input):
            return self.inputs[e.name]
        if isinstance(e, Not):
            return z3.Not(as_bool(self.ev(e.a, env)))
        if isinstance(e, And):
            return z3.And([as_bool(self.ev(a, env)) for a in e.args])
        if isinstance(e, Or):
            return z3.Or([as_bool(self.ev(a, env)) for a in e.args])
        if isinstance(e, Eq):
            a, b = self.ev(e.a, env), self.ev(e.b, env)
            if z3.is_bool(a) and z3.is_bool(b):
                return a == b
            a, b = _same_width(a, b)
            return a == b
        if isinstance(e, Ite):
            c = as_bool(self.ev(e.c, env))
            a, b = self.ev(e.a, env), self.ev(e.b, env)
            if z3.is_bool(a) and z3.is_bool(b):
                return z3.If(c, a, b)
            a, b = _same_width(a, b)
            return z3.If(c, a, b)
        if isinstance(e, AddC):
            a = as_int(self.ev(e.a, env), width_of(e.dom))
            return a + z3.BitVecVal(e.k % (1 << a.size()), a.size())
        if isinstance(e, Retire):
            a = as_int(self.ev(e.a, env), width_of(e.dom))
            return z3.If(a == e.latest, z3.BitVecVal(e.stale, a.size()), a)
        raise EncodeError(f"cannot encode expression {e!r}")

    def fresh(self, kind: str) -> z3.BitVecRef:
        j = self.fresh_count.get(kind, 0)
        self.fresh_count[kind] = j + 1
        return self.enc.data_var(f"fresh{self.step}_{kind}_{j}", kind)

    def generation_bits(self, env: _Env, owner: int, kind: str) -> z3.BitVecRef:
        """The bits a write of ``owner``'s latest token into a ``kind`` slot stores: fresh
        for the first slot of a new generation, the same for the others (`_Env.gen`)."""
        b = env.gen.get((owner, kind))
        if b is None:
            b = env.gen[(owner, kind)] = self.fresh(kind)
        return b

    def bits_of(self, e: Expr, env: _Env, kind: str) -> z3.BitVecRef:
        enc = self.enc
        if isinstance(e, Var):
            if e.local:
                return env.lbits[id(e)]
            return env.bits[e.index]
        if isinstance(e, Const):
            if e.value == enc.S.ZERO:
                return z3.BitVecVal(0, enc.width[kind])
            if e.value in enc.S.opaque_tokens():  # kernel NEON, firmware, UNKNOWN data
                return self.fresh(kind)
            raise EncodeError(
                f"value constant {e!r} outside a direct context write: the bit mapping does"
                " not know which write this is")
        if isinstance(e, Ite):
            c = as_bool(self.ev(e.c, env))
            return z3.If(c, self.bits_of(e.a, env, kind), self.bits_of(e.b, env, kind))
        if isinstance(e, Retire):
            return self.bits_of(e.a, env, kind)
        raise EncodeError(f"cannot move bits through {e!r}")

    def _handover(self, e: Expr) -> tuple[Expr, int, int] | None:
        """(source, old owner, new owner) if ``e`` relabels one owner's latest token as
        another's (a `Retire` whose replacement is a latest token, not a stale one: the
        monitor of `model.ctx.Ctx.copy_as_child`), else None."""
        S = self.enc.S
        while isinstance(e, Retire):
            old, new = S.latest_owner(e.latest), S.latest_owner(e.stale)
            if old is not None and new is not None:
                return e.a, old, new
            e = e.a
        return None

    def _value_kind(self, e: Expr) -> str | None:
        """The slice kind of a value expression (from the first slot it reads)."""
        if isinstance(e, Var):
            return self.enc.kind.get(e.index) if not e.local else self.enc.lkind.get(id(e))
        if isinstance(e, Ite):
            return self._value_kind(e.a) or self._value_kind(e.b)
        if isinstance(e, Retire):
            return self._value_kind(e.a)
        return None

    # ------------------------------------------------------------------ statements
    def run(self, body: tuple[Stmt, ...], env: _Env, path: z3.BoolRef) -> _Env:
        enc = self.enc
        for st in body:
            if isinstance(st, Assign):
                var = st.var
                w = width_of(var.dom)
                val = as_int(self.ev(st.expr, env), w)
                if val.size() < w:
                    val = z3.ZeroExt(w - val.size(), val)
                if st.check is not None:
                    # A counter update (model.dsl.Assign): out of range is the overflow
                    # site's failure and the variable keeps its old value, exactly as in
                    # the explicit engine.
                    ok = z3.ULT(val, var.dom.size)
                    self.asserts.append((st.check.id, z3.And(path, z3.Not(ok))))
                    val = z3.If(ok, val, env.vals[var.index])
                elif var.dom.kind == "int":
                    self.asserts.append((
                        f"model: {var.name} out of range",
                        z3.And(path, z3.UGE(val, var.dom.size))))
                if var.local:
                    env.locs[id(var)] = val
                else:
                    env.vals[var.index] = val
                if enc.bits and var.dom.kind == "value":
                    kind = enc.kind.get(var.index) if not var.local else self._value_kind(
                        st.expr)
                    if kind is None:
                        raise EncodeError(f"{var.name}: unknown slice kind")
                    e = st.expr
                    hand = self._handover(e)
                    owner = enc.S.latest_owner(e.value) if isinstance(e, Const) else None
                    if owner is not None:
                        b = env.ghost[(owner, kind)] = self.generation_bits(env, owner, kind)
                    else:
                        b = self.bits_of(e, env, kind)
                        retired = (enc.S.latest_owner(e.latest)
                                   if isinstance(e, Retire) and hand is None else None)
                        if retired is not None:
                            # the write monitor retiring the owner's generation
                            # (Ctx.supersede): its next write is a new generation
                            env.gen = {key: x for key, x in env.gen.items()
                                       if key[0] != retired}
                    if hand is not None and not var.local:
                        # A copy relabelled as another owner's latest (Ctx.copy_as_child:
                        # fork): where the source held its owner's latest, the copy is
                        # the new owner's latest, so its "last written" ghost becomes
                        # those bits.
                        src, old_owner, new_owner = hand
                        tok = as_int(self.ev(src, env), width_of(var.dom))
                        key = (new_owner, kind)
                        env.ghost[key] = z3.If(tok == enc.S.latest(old_owner), b,
                                               env.ghost[key])
                    if var.local:
                        enc.lkind[id(var)] = kind
                        env.lbits[id(var)] = b
                    else:
                        env.bits[var.index] = b
            elif isinstance(st, If):
                c = as_bool(self.ev(st.cond, env))
                t = self.run(st.then, env.copy(), z3.And(path, c))
                f = self.run(st.els, env.copy(), z3.And(path, z3.Not(c)))
                env = _Env(_merge(c, t.vals, f.vals), _merge(c, t.locs, f.locs),
                           _merge(c, t.bits, f.bits), _merge(c, t.lbits, f.lbits),
                           _merge(c, t.ghost, f.ghost),
                           {key: x for key, x in _merge(c, t.gen, f.gen).items()
                            if key in t.gen and key in f.gen})
            elif isinstance(st, Mark):
                continue
            elif isinstance(st, Assert):
                c = as_bool(self.ev(st.cond, env))
                self.asserts.append((st.check.id, z3.And(path, z3.Not(c))))
            else:
                raise EncodeError(f"unknown statement {st!r}")
        return env


class Encoding:
    """The z3 encoding of ``inst`` (see the module docstring for the representation)."""

    def __init__(self, inst: Instance, *, bits: bool = True, vl: int = DEFAULT_VL,
                 data_width: int | None = None) -> None:
        self.inst = inst
        self.S = inst.layout
        self.bits = bits
        self.real_width = dict(SLICE_WIDTH)
        self.real_width["zhi"] = vl - 128
        # P0-P15 and FFR: 17 predicate registers of VL/8 bits; one stands for all
        self.real_width["p"] = vl // 8
        dw = DATA_WIDTH if data_width is None else data_width
        self.width = {k: min(w, dw) for k, w in self.real_width.items()}
        self._data_names: dict[str, set[str]] = {k: set() for k in self.width}
        self.kind: dict[int, str] = {}
        self.lkind: dict[int, str] = {}
        for img in self.S.all_images():
            for attr in ("v", "fpsr", "zhi", "fpexc", "fpmr", "p", "fpcr", "zv"):
                var = getattr(img, attr)
                if isinstance(var, Var):
                    # (a signal frame's sve_context copy of Z bits [127:0] is V's slice)
                    self.kind[var.index] = "v" if attr == "zv" else attr
        for var in self.S.za_slots():  # (SME) ZA: its own slice kind and generations
            self.kind[var.index] = "za"
        value_vars = [v for v in self.S.vars if v.dom.kind == "value"]
        missing = [v.name for v in value_vars if v.index not in self.kind]
        if missing:
            raise EncodeError(f"value variables outside any image: {missing}")
        self.slices = sorted(set(self.kind.values()),
                             key=("v", "fpsr", "zhi", "fpexc", "fpmr", "p", "za", "fpcr").index)
        self.owners = list(range(len(self.S.owner_names)))
        self.sel_width = max(1, (len(inst.actions) - 1).bit_length())
        self.max_inputs = max((len(a.inputs) for a in inst.actions), default=0)
        # check id -> kind (WARN, BUG, lockdep, overflow) of every assertion site
        self.check_kinds: dict[str, str] = {
            c.id: c.kind for a in inst.actions for c in checks_of(a.body)}

    def is_fatal(self, cid: str) -> bool:
        """A failure after which the explicit engine does not continue (model.dsl
        FATAL_KINDS: BUG, overflow; and a model error)."""
        return cid.startswith("model:") or self.check_kinds.get(cid) in FATAL_KINDS

    def fatal(self, st: StepEnc) -> z3.BoolRef:
        """Step ``st`` fails a fatal assertion: the explicit engine has no successor."""
        cs = [c for _, cid, c in st.violations if self.is_fatal(cid)]
        return z3.Or(cs) if cs else z3.BoolVal(False)

    # ------------------------------------------------------------------ frames
    def frame(self, name: str) -> Frame:
        vals = [z3.BitVec(f"{name}.{v.name}", width_of(v.dom)) for v in self.S.vars]
        bits: dict[int, z3.BitVecRef] = {}
        ghost: dict[tuple[int, str], z3.BitVecRef] = {}
        if self.bits:
            for idx, kind in self.kind.items():
                bits[idx] = self.data_var(f"{name}.bits.{self.S.vars[idx].name}", kind)
            for o in self.owners:
                for kind in self.slices:
                    ghost[(o, kind)] = self.data_var(
                        f"{name}.last.{self.S.owner_names[o]}.{kind}", kind)
        return Frame(name, vals, bits, ghost)

    def data_var(self, name: str, kind: str) -> z3.BitVecRef:
        """The data constant ``name`` of slice ``kind``, counted: a narrowed kind holds at
        most 2**width - 1 distinct constants (module docstring, "Data width")."""
        names = self._data_names[kind]
        if name not in names:
            if self.width[kind] < self.real_width[kind] and len(names) + 2 > 1 << self.width[kind]:
                raise EncodeError(
                    f"more than {(1 << self.width[kind]) - 1} data values of slice {kind} in "
                    f"one encoding: raise checker.smt.encode.DATA_WIDTH")
            names.add(name)
        return z3.BitVec(name, self.width[kind])

    def domain(self, f: Frame) -> z3.BoolRef:
        """0 <= x < |dom(x)| for every variable of frame f."""
        return z3.And([z3.ULT(x, v.dom.size) for x, v in zip(f.vals, self.S.vars, strict=False)
                       if v.dom.size < (1 << width_of(v.dom))])

    def init(self, f: Frame) -> z3.BoolRef:
        """f is the initial state; each owner's ghost is the bits of its initial image."""
        cs = [x == val for x, val in zip(f.vals, self.S.initial_state(), strict=False)]
        if self.bits:
            init = self.S.initial_state()
            for idx, kind in self.kind.items():
                tok = init[idx]
                if tok == self.S.ZERO:
                    cs.append(f.bits[idx] == 0)
                elif self.S.latest_owner(tok) is not None:
                    cs.append(f.bits[idx] == f.ghost[(self.S.latest_owner(tok), kind)])
        return z3.And(cs)

    def pred(self, e: Expr, f: Frame) -> z3.BoolRef:
        """A state predicate (model Expr) on frame f."""
        ex = _ActionExec(self, -1, {})
        return as_bool(ex.ev(e, _Env(dict(enumerate(f.vals)))))

    # ------------------------------------------------------------------ bit-level facts
    def coherence(self, f: Frame) -> z3.BoolRef:
        """For every slot x: x == latest(o) -> bits(x) == last[o, slice(x)], and x == 0 ->
        bits(x) == 0 (TRUE without bits)."""
        return z3.And(self.coherence_parts(f)) if self.bits else z3.BoolVal(True)

    def coherence_parts(self, f: Frame) -> list[z3.BoolRef]:
        """`coherence` as one conjunct per slot (empty without bits): `prove` checks its
        consecution slot by slot, which z3 answered about twice as fast as the whole
        conjunction at once (each query's negation is one slot's disjunction; ARCHITECTURE,
        "What answers those configurations")."""
        return [part for _, part in self.coherence_named_parts(f)]

    def coherence_named_parts(self, f: Frame) -> list[tuple[str, z3.BoolRef]]:
        """`coherence_parts` with a name each (the slot's variable, or the fork ghost's
        slice and parent), for `prove`'s report of the parts that timed out."""
        if not self.bits:
            return []
        out = []
        for idx, kind in self.kind.items():
            x = f.vals[idx]
            cs = [z3.Implies(x == self.S.ZERO, f.bits[idx] == 0)]
            for o in self.owners:
                cs.append(z3.Implies(x == self.S.latest(o), f.bits[idx] == f.ghost[(o, kind)]))
            out.append((self.S.vars[idx].name, z3.And(cs)))
        return out + self._fork_ghost_parts(f)

    def _fork_ghost_parts(self, f: Frame) -> list[tuple[str, z3.BoolRef]]:
        """(event fork, --preemption split) While a parent is paused inside _do_fork()
        after the copy's first handover of a slice to the child and before
        wake_up_new_task() (the child slot not yet created), the child's last written bits
        of that slice are the parent's: `Ctx.copy_as_child` set the child's ghost from the
        parent's, and neither writes in between (the child does not run, the parent is in
        the kernel).  Without this, a second handover of the same slice (the signal
        frame's V after uw.fpsimd_state's, event signal) from a pre-state where the two
        ghosts differ breaks `coherence` in a state no execution reaches."""
        S = self.S
        if S.fork_child is None:
            return []
        child = S.tasks[S.fork_child]
        if not isinstance(child.created, Var):
            return []
        woken = f"the write of {child.name}.created"
        mine = [(v.name, self.kind[v.index]) for v in S.vars if v.index in self.kind
                and v.name.startswith(child.name + ".")]
        out = []
        for kind in self.slices:
            # the parent's windows inside _do_fork() after its first copy of this slice
            pcs = tuple(sorted({pc for name, k2 in mine if k2 == kind
                                for pc in S.windows_after("fork", f"the write of {name}",
                                                          woken)}))
            # a slot holding the child's latest: the copy did hand the slice over (an
            # exec'd parent expecting zero hands nothing over, copy_as_child copies zero)
            held = z3.Or([f.vals[i] == S.latest(child.index)
                          for i, k in self.kind.items() if k == kind])
            for p in S.tasks:
                if p is child or not p.mm or p.vmm or not isinstance(p.pc, Var) or not pcs:
                    continue
                at = self.pred(Or(tuple(p.pc.eq(pc) for pc in pcs)) if len(pcs) > 1
                               else p.pc.eq(pcs[0]), f)
                out.append((f"fork ghost {kind} of {p.name}",
                            z3.Implies(z3.And(at, f.vals[child.created.index] == 0, held),
                                       f.ghost[(child.index, kind)] == f.ghost[(p.index, kind)])))
        return out

    def no_loss_bits(self, f: Frame) -> z3.BoolRef:
        """The data half of no_loss: whenever context o can read CPU registers regs, every
        slice's bits equal o's last written bits (TRUE without bits)."""
        if not self.bits:
            return z3.BoolVal(True)
        cs = []
        for cond, o, regs in readers(self.S):
            # after exec the task must read zero (its token), not its last written bits
            c = self.pred(cond & ~expects_zero(self.S, o), f)
            # (SME) FPCR by its own "must read zero" ghost (properties.fp.expected)
            cz = self.pred(cond & ~fpcr_expects_zero(self.S, o), f)
            for slot in regs.slots():
                cs.append(z3.Implies(cz if self.kind[slot.index] == "fpcr" else c,
                                     f.bits[slot.index] == f.ghost[(o, self.kind[slot.index])]))
        return z3.And(cs)

    def property(self, name: str, f: Frame) -> z3.BoolRef:
        """Invariant ``name`` of inst.invariants on f; no_loss is bit-exact with bits."""
        p = self.pred(self.inst.invariants[name], f)
        if name == "no_loss" and self.bits:
            p = z3.And(p, self.no_loss_bits(f))
        return p

    # ------------------------------------------------------------------ transitions
    def step(self, k: int, pre: Frame, post: Frame) -> StepEnc:
        """T(pre, post) for step k (1-based: the k-th transition of an unrolling)."""
        sel = z3.BitVec(f"sel{k}", self.sel_width)
        ins = [z3.Bool(f"in{k}_{j}") for j in range(self.max_inputs)]
        n = len(self.inst.actions)
        cs = [z3.ULT(sel, n)] if n < (1 << self.sel_width) else []
        nxt_vals: list[list[tuple[int, z3.ExprRef]]] = [[] for _ in self.S.vars]
        nxt_bits: dict[int, list] = {idx: [] for idx in pre.bits}
        nxt_ghost: dict[tuple[int, str], list] = {key: [] for key in pre.ghost}
        violations: list[tuple[int, str, z3.BoolRef]] = []
        for aid, a in enumerate(self.inst.actions):
            is_a = sel == aid
            ex = _ActionExec(self, k, {name: ins[j] for j, name in enumerate(a.inputs)})
            env0 = _Env(dict(enumerate(pre.vals)), bits=dict(pre.bits), ghost=dict(pre.ghost))
            guard = self.pred(a.guard, pre)
            cs.append(z3.Implies(is_a, guard))
            env = ex.run(a.body, env0, z3.BoolVal(True))
            for i, x in enumerate(pre.vals):
                t = env.vals[i]
                if not t.eq(x):
                    nxt_vals[i].append((aid, t))
            for idx, b in pre.bits.items():
                t = env.bits[idx]
                if not t.eq(b):
                    nxt_bits[idx].append((aid, t))
            for key, b in pre.ghost.items():
                t = env.ghost[key]
                if not t.eq(b):
                    nxt_ghost[key].append((aid, t))
            for cid, cond in ex.asserts:
                cond = z3.simplify(cond)
                if z3.is_false(cond):
                    continue
                violations.append((aid, cid, z3.And(is_a, cond)))

        def chain(default: z3.ExprRef, changes: list) -> z3.ExprRef:
            t = default
            for aid, v in reversed(changes):
                t = z3.If(sel == aid, v, t)
            return t

        for i, x in enumerate(pre.vals):
            cs.append(post.vals[i] == chain(x, nxt_vals[i]))
        for idx, b in pre.bits.items():
            cs.append(post.bits[idx] == chain(b, nxt_bits[idx]))
        for key, b in pre.ghost.items():
            cs.append(post.ghost[key] == chain(b, nxt_ghost[key]))
        return StepEnc(k, sel, ins, z3.And(cs), violations)

    # ------------------------------------------------------------------ models
    def state_of(self, m: z3.ModelRef, f: Frame) -> tuple[int, ...]:
        """The explicit state (tuple of ints in Layout.vars order) of frame f in model m."""
        if len(f.vals) < 2:
            return tuple(m.eval(x, model_completion=True).as_long() for x in f.vals)
        # one evaluation of the concatenation, cut apart here: evaluating each variable on
        # its own made reading models most of test_encode's time
        word = m.eval(z3.Concat(*f.vals), model_completion=True).as_long()
        out = []
        for x in reversed(f.vals):
            w = x.size()
            out.append(word & ((1 << w) - 1))
            word >>= w
        return tuple(reversed(out))

    def step_of(self, m: z3.ModelRef, st: StepEnc) -> tuple[int, tuple[bool, ...]]:
        """(action id, inputs tuple) of step st in model m: the arguments of compiled.fire."""
        aid = m.eval(st.sel, model_completion=True).as_long()
        a = self.inst.actions[aid]
        inp = tuple(z3.is_true(m.eval(st.inputs[j], model_completion=True))
                    for j in range(len(a.inputs)))
        return aid, inp


__all__ = ["EncodeError", "Encoding", "Frame", "StepEnc", "as_bool", "as_int"]
