"""C code generation from the model's IR (model.dsl) for the native engine.

One C translation unit per model instance: the bit layout of the packed state, one guard
and one body function per action, the invariants, the reachability-guard predicates and
the tables the generic search (``engine.c``) iterates over.  The generated part only
defines ``static`` functions and tables; ``engine.c`` is appended to it.

Semantics are those of the reference interpreter (checker.interp): a body reads the
values written earlier in the same step (it reads and writes the successor ``n``, which
starts as a copy of the pre-state ``s``; guards and reachability predicates read ``s``),
step-local temporaries are C locals, an assignment that leaves an ``int`` domain is a
model error, and a false ``Assert`` records its check in the transition's violation list
in execution order.  Any node type this module does not know raises `NativeUnsupported`
(the caller falls back to the Python engine), never a silent miscompilation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

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
    conjuncts,
    stmt_exprs,
    walk_exprs,
    walk_stmts,
)

if TYPE_CHECKING:
    from checker.por import PorTables

MAX_INPUTS = 64  # inputs per action (enumerated lazily: only the ones a run reads)
# Up to 32 inputs per action, a run's input values (``combo_t``) are 32 bits and a parent
# link is 10 bytes; a model with a step of more inputs (e.g. v6 rt_sigreturn with SVE and
# split preemption) gets 64-bit combos and 14-byte links.


class NativeUnsupported(ModelError):
    """The model uses something the C generator does not handle (fall back to Python)."""


@dataclass
class Slot:
    word: int
    shift: int
    bits: int


@dataclass
class Generated:
    source: str  # the model part of the C file
    nwords: int
    slots: list[Slot]  # per state variable
    check_ids: list[str]  # C check index -> Check.id
    checks: dict[str, Check]
    inv_names: list[str]
    errors: list[str]  # C error code - 1 -> message
    input_masks: list[int]  # per action: the inputs its body reads (bit j = inputs[j])
    guard_names: list[str] = field(default_factory=list)
    symmetric: bool = False  # CANON reduces by a non-trivial symmetry group


def bits_for(size: int) -> int:
    return max(0, (size - 1).bit_length())


def layout_slots(vars_: list[Var]) -> tuple[list[Slot], int]:
    """Pack every variable into 64-bit words, none straddling a word boundary."""
    slots: list[Slot] = []
    word, used = 0, 0
    for v in vars_:
        b = bits_for(v.dom.size)
        if used + b > 64:
            word, used = word + 1, 0
        slots.append(Slot(word, used, b))
        used += b
    return slots, word + 1


class _Gen:
    def __init__(self, slots: list[Slot], nvars: int) -> None:
        self.slots = slots
        self.nvars = nvars
        self.check_index: dict[str, int] = {}
        self.checks: dict[str, Check] = {}
        self.errors: list[str] = []
        self.sites = 0  # input read sites (`IN`)
        self.pos = 0  # the statement being compiled (pre-order number in its body)
        self.last_read: dict[int, int] = {}  # id(local) -> last statement reading it
        # id(a body's input numbering) -> mask of its inputs read at several sites
        self.multi: dict[int, int] = {}

    # ------------------------------------------------------------------ expressions
    def get(self, src: str, var: Var) -> str:
        if not 0 <= var.index < self.nvars:
            raise NativeUnsupported(f"state variable {var.name} has no index in the layout")
        return self.get_idx(src, var.index)

    def get_idx(self, src: str, index: int) -> str:
        sl = self.slots[index]
        if sl.bits == 0:
            return "0"
        mask = (1 << sl.bits) - 1
        return f"((int)(({src}[{sl.word}] >> {sl.shift}) & {mask}ULL))"

    def ex(self, e: Expr, src: str, locs: dict[int, str] | None,
           inputs: dict[str, int] | None) -> str:
        if isinstance(e, Var):
            if e.local:
                if locs is None:
                    raise NativeUnsupported(f"local {e.name} used outside a step body")
                if id(e) not in locs:
                    locs[id(e)] = f"L{len(locs)}"
                return locs[id(e)]
            return self.get(src, e)
        if isinstance(e, Const):
            return str(int(e.value))
        if isinstance(e, Input):
            if inputs is None or e.name not in inputs:
                raise NativeUnsupported(f"input {e.name} used outside its step")
            # The locals made so far (one made later in the text is still 0 here: a body
            # has no loops) are part of the situation `IN` compares (at most 128).
            # Only the locals read at or after this statement: the others (an inlined
            # IRQ's, once it returned) cannot change what follows.
            live = self.last_read
            names = [name for key, name in (locs or {}).items()
                     if live.get(key, -1) >= self.pos]
            if len(names) > 128:
                raise NativeUnsupported("a step with more than 128 C locals before an input")
            self.sites += 1
            ls = f"(const int[]){{{', '.join(names)}}}" if names else "(const int *)0"
            multi = self.multi.get(id(inputs), 0)
            return (f"IN(in, {inputs[e.name]}, {self.sites}, {multi}ULL, n, nv, viol, {ls}, "
                    f"{len(names)})")
        if isinstance(e, Not):
            return f"(!{self.ex(e.a, src, locs, inputs)})"
        if isinstance(e, And):
            if not e.args:
                return "1"
            return "(" + " && ".join(self.ex(a, src, locs, inputs) for a in e.args) + ")"
        if isinstance(e, Or):
            if not e.args:
                return "0"
            return "(" + " || ".join(self.ex(a, src, locs, inputs) for a in e.args) + ")"
        if isinstance(e, Eq):
            return (f"({self.ex(e.a, src, locs, inputs)} == "
                    f"{self.ex(e.b, src, locs, inputs)})")
        if isinstance(e, Ite):
            return (f"({self.ex(e.c, src, locs, inputs)} ? {self.ex(e.a, src, locs, inputs)}"
                    f" : {self.ex(e.b, src, locs, inputs)})")
        if isinstance(e, AddC):
            return f"({self.ex(e.a, src, locs, inputs)} + ({int(e.k)}))"
        if isinstance(e, Retire):
            a = self.ex(e.a, src, locs, inputs)
            return f"(({a}) == {int(e.latest)} ? {int(e.stale)} : ({a}))"
        raise NativeUnsupported(f"the native engine cannot compile expression {e!r}")

    # ------------------------------------------------------------------ statements
    def error_code(self, msg: str) -> int:
        self.errors.append(msg)
        return len(self.errors)

    def block(self, body: tuple[Stmt, ...], locs: dict[int, str], inputs: dict[str, int],
              out: list[str], ind: str) -> None:
        for st in body:
            self.pos += 1
            if isinstance(st, Assign):
                v = st.var
                code = self.ex(st.expr, "n", locs, inputs)
                out.append(f"{ind}{{ int t = {code};")
                if st.check is not None:
                    # A counter update (model.dsl.Assign): out of its domain, the overflow
                    # site fails and the counter keeps its value, as in every engine.
                    cid = self.check_index.setdefault(st.check.id, len(self.check_index))
                    self.checks[st.check.id] = st.check
                    old = self.ex(v, "n", locs, inputs)
                    out.append(f"{ind}  if ((unsigned)t >= {v.dom.size}u) {{ if (nv < MAXVIOL) "
                               f"viol[nv] = {cid}; nv++; t = {old}; }}")
                # Every other domain is checked, as the reference interpreter does: a
                # value out of it is a model error.
                err = self.error_code(f"{v.name} out of range")
                out.append(f"{ind}  if ((unsigned)t >= {v.dom.size}u) return -{err};")
                if v.local:
                    if id(v) not in locs:
                        locs[id(v)] = f"L{len(locs)}"
                    out.append(f"{ind}  {locs[id(v)]} = t; }}")
                else:
                    if not 0 <= v.index < self.nvars:
                        raise NativeUnsupported(f"assignment to {v.name}, not in the layout")
                    sl = self.slots[v.index]
                    if sl.bits:
                        mask = (1 << sl.bits) - 1
                        out.append(f"{ind}  n[{sl.word}] = (n[{sl.word}] & ~({mask}ULL << "
                                   f"{sl.shift})) | ((uint64_t)t << {sl.shift}); }}")
                    else:
                        out.append(f"{ind}  (void)t; }}")
            elif isinstance(st, Assert):
                cid = self.check_index.setdefault(st.check.id, len(self.check_index))
                self.checks[st.check.id] = st.check
                cond = self.ex(st.cond, "n", locs, inputs)
                out.append(f"{ind}if (!{cond}) {{ if (nv < MAXVIOL) viol[nv] = {cid}; nv++; }}")
            elif isinstance(st, If):
                out.append(f"{ind}if ({self.ex(st.cond, 'n', locs, inputs)}) {{")
                self.block(st.then, locs, inputs, out, ind + "  ")
                if st.els:
                    out.append(f"{ind}}} else {{")
                    self.block(st.els, locs, inputs, out, ind + "  ")
                out.append(f"{ind}}}")
            elif isinstance(st, Mark):
                continue
            else:
                raise NativeUnsupported(f"the native engine cannot compile statement {st!r}")


def _last_reads(a: Action) -> dict[int, int]:
    """id(local) -> the pre-order number (from 1, as `_Gen.block` counts) of the last
    statement of ``a``'s body that reads it."""
    out: dict[int, int] = {}
    for pos, st in enumerate(walk_stmts(a.body), 1):
        for x in stmt_exprs(st):
            for e in walk_exprs(x):
                if isinstance(e, Var) and e.local:
                    out[id(e)] = pos
    return out


def _multi_site_inputs(a: Action, inputs: dict[str, int]) -> int:
    """The mask of the inputs ``a``'s body reads at more than one place (`IN`)."""
    count: dict[str, int] = {}
    for st in walk_stmts(a.body):
        for x in stmt_exprs(st):
            for e in walk_exprs(x):
                if isinstance(e, Input):
                    count[e.name] = count.get(e.name, 0) + 1
    mask = 0
    for name, k in count.items():
        if k > 1 and name in inputs:
            mask |= 1 << inputs[name]
    return mask


def _used_inputs(a: Action) -> int:
    names = {e.name for st in walk_stmts(a.body) for x in stmt_exprs(st)
             for e in walk_exprs(x) if isinstance(e, Input)}
    mask = 0
    for j, name in enumerate(a.inputs):
        if name in names:
            mask |= 1 << j
    return mask


def _canon(slots: list[Slot], nwords: int,
           sym: list[tuple[list[int], list[tuple]]]) -> list[str]:
    """``CANON(s)``: replace the packed state ``s`` by the smallest (as a word sequence) of
    its images under the symmetry group (``sym``: per non-identity permutation, the
    source variable of each destination variable and its value table, as
    checker.explicit.symmetry.permutation_maps gives them).  The tables are precomputed
    constants; an image is built straight from the packed words: fields moved by the same
    shift between the same two words with one mask each, relabelled fields through
    their tables."""
    out = [f"#define NSYM {len(sym)}"]
    body: list[str] = []
    for p, (src, tables) in enumerate(sym):
        # A field whose value table is the identity only moves bits: all such fields
        # going from one source word to one image word by the same shift are one
        # mask-and-shift (a permutation moves a CPU's or a task's variables as a block,
        # so its fields travel in runs; the fields it leaves in place are the run of
        # shift 0 within a word).  Only relabelled fields are built one by one, through
        # their table.  Words are built in order and compared with the best image so
        # far as soon as each is complete: most images lose on their first differing word.
        runs: list[dict[tuple[int, int], int]] = [{} for _ in range(nwords)]
        fields: list[list[str]] = [[] for _ in range(nwords)]
        for j, (i, tbl) in enumerate(zip(src, tables, strict=True)):
            dst, sl = slots[j], slots[i]
            if not dst.bits:
                continue
            if all(k == v for k, v in enumerate(tbl)):
                key = (sl.word, dst.shift - sl.shift)
                runs[dst.word][key] = (runs[dst.word].get(key, 0)
                                       | ((1 << sl.bits) - 1) << sl.shift)
                continue
            out.append(f"static const uint8_t SYM{p}_{j}[{len(tbl)}] = "
                       f"{{{', '.join(map(str, tbl))}}};")
            get = f"((s[{sl.word}] >> {sl.shift}) & {(1 << sl.bits) - 1}ULL)"
            fields[dst.word].append(f"(uint64_t)SYM{p}_{j}[{get}] << {dst.shift}")
        for w in range(nwords):
            moved = []
            for (sw, d), mask in sorted(runs[w].items()):
                part = f"(s[{sw}] & {mask}ULL)"
                moved.append(part if d == 0 else f"({part} << {d})" if d > 0
                             else f"({part} >> {-d})")
            fields[w] = moved + fields[w]
        body.append("  lt = 0;")
        for w in range(nwords):
            parts = fields[w] or ["0"]
            body.append(f"  img[{w}] = " + "\n      | ".join(parts) + ";")
            body.append(f"  if (!lt) {{ if (img[{w}] > best[{w}]) goto sym{p}; "
                        f"if (img[{w}] < best[{w}]) lt = 1; }}")
        body.append("  if (lt) for (int w = 0; w < NW; w++) best[w] = img[w];")
        body.append(f"sym{p}: ;")
    out += [
        "static void CANON(uint64_t *s) {",
        "  uint64_t best[NW], img[NW];",
        "  int lt = 0;",
        "  for (int w = 0; w < NW; w++) best[w] = s[w];",
        *body,
        "  for (int w = 0; w < NW; w++) s[w] = best[w];",
        "  (void)img; (void)lt;",
        "}",
    ]
    return out


def generate(actions: list[Action], vars_: list[Var], invariants: dict[str, Expr],
             guard_preds: list[tuple[str, dict[int, Expr]]],
             por: PorTables | None = None,
             sym: list[tuple[list[int], list[tuple]]] | None = None) -> Generated:
    """The model part of the C file (see the module docstring).  With ``por``
    (checker.por), the partial-order reduction's tables are emitted too: per action its
    dependent actions and whether it can seed a stubborn set (bitsets), and ``POR_NES``
    choosing the enabling set of a disabled action from its first false guard conjunct
    (in the same order as the Python engine, so both reduce identically).  With ``sym``
    (the symmetry group's permutations, see `_canon`) also ``CANON``, used by
    ``explore --symmetry``."""
    slots, nwords = layout_slots(vars_)
    g = _Gen(slots, len(vars_))
    maxin = 32 if all(len(a.inputs) <= 32 for a in actions) else 64
    out: list[str] = [
        "/* generated by checker/native/codegen.py: do not edit */",
        "#include <stdint.h>",
        f"#define NW {nwords}",
        f"#define NACT {max(1, len(actions))}",
        f"#define NREALACT {len(actions)}",
        "#define MAXVIOL 64",
        f"#define MAXIN {maxin}",
        f"typedef uint{maxin}_t combo_t;",
        "typedef struct memo memo_t;",
        "typedef struct { combo_t vals, fixed, seen; int nord; uint8_t ord[MAXIN];",
        "                 int pruned; memo_t *memo; } inp_t;",
        "static int MEMO(memo_t *m, const uint64_t *k, int nk);",
        # A read of input j at read site `site` of a body (engine.c enumerates a body's
        # runs depth-first over its inputs).  A defaulted read (not fixed by the run) is
        # the root of the subtree of runs that agree up to here: if an earlier run of the
        # same state and action reached a defaulted read at the same site with the same
        # successor so far, C locals, failed checks and inputs (`MEMO`), everything after
        # it is the same as there, so that subtree's runs are already enumerated: this
        # run is pruned (no outcome, no further flips).  Same transitions, fewer runs.
        # ``multi``: the inputs this body reads at more than one site; an input read at
        # one site only is never read again once read, so its value does not matter for
        # what follows (a body has no loops).
        "static inline int IN(inp_t *restrict in, unsigned j, unsigned site, combo_t multi,",
        "                     const uint64_t *n, int nv, const uint16_t *viol,",
        "                     const int *L, int nl) {",
        "  combo_t bit = (combo_t)1 << j;",
        "  if ((in->fixed | in->seen) & bit) {  /* fixed by the run, or read before */",
        "    in->seen |= bit;",
        "    return (int)((in->vals >> j) & 1u);",
        "  }",
        "  if (in->pruned) return 0;",
        "  uint64_t k[7 + NW + 64 + MAXVIOL / 4 + 1];",
        "  int m = 0, nk = nv < MAXVIOL ? nv : MAXVIOL;",
        "  combo_t later = in->fixed & ~in->seen;",
        "  k[m++] = site; k[m++] = (uint64_t)(in->seen & multi);",
        "  k[m++] = (uint64_t)(in->vals & in->seen & multi); k[m++] = (uint64_t)later;",
        "  k[m++] = (uint64_t)(in->vals & later); k[m++] = (uint64_t)nv;",
        "  for (int w = 0; w < NW; w++) k[m++] = n[w];",
        "  for (int i = 0; i < nl; i += 2)",
        "    k[m++] = (uint64_t)(uint32_t)L[i]",
        "             | (i + 1 < nl ? (uint64_t)(uint32_t)L[i + 1] << 32 : 0);",
        "  for (int i = 0; i < nk; i += 4) {",
        "    uint64_t x = 0;",
        "    for (int d = 0; d < 4 && i + d < nk; d++) x |= (uint64_t)viol[i + d] << (16 * d);",
        "    k[m++] = x;",
        "  }",
        "  if (MEMO(in->memo, k, m)) { in->pruned = 1; return 0; }",
        "  in->seen |= bit;",
        "  in->ord[in->nord++] = (uint8_t)j;",
        "  return 0;",
        "}",
    ]
    masks: list[int] = []
    fn: list[str] = []
    for i, a in enumerate(actions):
        if len(a.inputs) > MAX_INPUTS:
            raise NativeUnsupported(f"step {a.label} has {len(a.inputs)} inputs (the native "
                                    f"engine handles {MAX_INPUTS})")
        masks.append(_used_inputs(a))
        inputs = {name: j for j, name in enumerate(a.inputs)}
        g.multi[id(inputs)] = _multi_site_inputs(a, inputs)
        g.pos, g.last_read = 0, _last_reads(a)
        locs: dict[int, str] = {}
        body: list[str] = []
        g.block(a.body, locs, inputs, body, "  ")
        # The successor is built in a local copy (which the compiler keeps in registers:
        # it cannot alias the pre-state or the output) and stored once at the end.
        fn.append(f"static int B{i}(const uint64_t *restrict s, inp_t *restrict in, "
                  "uint64_t *restrict out, uint16_t *restrict viol) {")
        fn.append("  int nv = 0; (void)in;")
        fn.append("  uint64_t n[NW];")
        fn.append("  for (int w = 0; w < NW; w++) n[w] = s[w];")
        if locs:
            fn.append("  int " + ", ".join(f"{name} = 0" for name in locs.values()) + ";")
        fn += body
        fn.append("  for (int w = 0; w < NW; w++) out[w] = n[w];")
        fn.append("  return nv < MAXVIOL ? nv : MAXVIOL;")
        fn.append("}")
    # Reachability guards: per action, the guards whose pre-state predicate holds (their
    # indices in hit[], the count returned), so the search looks at the hits only.
    per_action: dict[int, list[tuple[int, Expr]]] = {}
    for gi, (_name, per) in enumerate(guard_preds):
        for aid, e in per.items():
            per_action.setdefault(aid, []).append((gi, e))
    for i in range(len(actions)):
        fn.append(f"static int H{i}(const uint64_t *s, uint16_t *hit) {{")
        fn.append("  int k = 0;")
        for gi, e in per_action.get(i, []):
            fn.append(f"  if ({g.ex(e, 's', None, None)}) hit[k++] = {gi};")
        fn.append("  (void)s; (void)hit;")
        fn.append("  return k;")
        fn.append("}")
    fn += _enabled_tree(g, actions)
    fn += _por_tables(g, actions, por)
    inv_names = list(invariants)
    for k, name in enumerate(inv_names):
        fn.append(f"static int I{k}(const uint64_t *s) {{ /* {name} */")
        fn.append(f"  return {g.ex(invariants[name], 's', None, None)};")
        fn.append("}")
    fn += _canon(slots, nwords, sym or [])
    ncheck = len(g.check_index)
    out.append(f"#define NCHECK {max(1, ncheck)}")
    out.append(f"#define NINV {max(1, len(inv_names))}")
    out.append(f"#define NREALINV {len(inv_names)}")
    out.append(f"#define NGUARD {max(1, len(guard_preds))}")
    out.append(f"#define NREALGUARD {len(guard_preds)}")
    out.append("typedef int (*body_fn)(const uint64_t *, inp_t *, uint64_t *, uint16_t *);")
    out.append("typedef int (*hits_fn)(const uint64_t *, uint16_t *);")
    out += fn
    if actions:
        out.append("static const body_fn ACT_BODY[NACT] = {"
                   + ", ".join(f"B{i}" for i in range(len(actions))) + "};")
        out.append("static const hits_fn ACT_HITS[NACT] = {"
                   + ", ".join(f"H{i}" for i in range(len(actions))) + "};")
        out.append("static const unsigned char ACT_HASHITS[NACT] = {"
                   + ", ".join("1" if per_action.get(i) else "0"
                               for i in range(len(actions))) + "};")
    else:
        out.append("static const body_fn ACT_BODY[1] = {0};")
        out.append("static const hits_fn ACT_HITS[1] = {0};")
        out.append("static const unsigned char ACT_HASHITS[1] = {0};")
    # Packed storage: the used bits of each word; transition labels for parent links.
    used = [0] * nwords
    for sl in slots:
        used[sl.word] = max(used[sl.word], sl.shift + sl.bits)
    total = sum(used)
    out.append(f"#define SB {max(1, (total + 7) // 8)}")
    out.append(f"static const int USED[NW] = {{{', '.join(map(str, used))}}};")
    check_ids = sorted(g.check_index, key=g.check_index.get)
    # BUG and counter overflow: nothing follows the step (model.dsl.FATAL_KINDS).
    bug = [1 if g.checks[c].kind in FATAL_KINDS else 0 for c in check_ids] or [0]
    out.append("static const unsigned char CHECK_BUG[NCHECK] = {"
               + ", ".join(map(str, bug)) + "};")
    if inv_names:
        out.append("typedef int (*inv_fn)(const uint64_t *);")
        out.append("static const inv_fn INV[NINV] = {"
                   + ", ".join(f"I{k}" for k in range(len(inv_names))) + "};")
    else:
        out.append("typedef int (*inv_fn)(const uint64_t *);")
        out.append("static const inv_fn INV[1] = {0};")
    return Generated(
        source="\n".join(out) + "\n",
        nwords=nwords,
        slots=slots,
        check_ids=check_ids,
        checks=dict(g.checks),
        inv_names=inv_names,
        errors=list(g.errors),
        input_masks=masks,
        guard_names=[name for name, _ in guard_preds],
        symmetric=bool(sym),
    )


def _bitset(b: int, words: int) -> str:
    return "{" + ", ".join(f"0x{(b >> (64 * w)) & (2**64 - 1):x}ULL"
                           for w in range(words)) + "}"


def _por_tables(g: _Gen, actions: list[Action], por: PorTables | None) -> list[str]:
    """The partial-order reduction's tables (see `generate`); POR_ON 0 without them."""
    n = max(1, len(actions))
    words = (n + 63) // 64
    lines = [f"#define POR_W {words}"]
    if por is None or not actions:
        lines += ["#define POR_ON 0",
                  "static const uint64_t POR_DEP[1][POR_W] = {{0}};",
                  "static const uint64_t POR_NESB[1][POR_W] = {{0}};",
                  "static const uint64_t POR_USEFUL[POR_W] = {0};",
                  "static int POR_NES(int a, const uint64_t *s) { (void)a; (void)s; return 0; }"]
        return lines
    lines.append("#define POR_ON 1")
    lines.append("static const uint64_t POR_DEP[NACT][POR_W] = {"
                 + ", ".join(_bitset(d, words) for d in por.dep) + "};")
    nesb: list[int] = []
    index: dict[int, int] = {}
    body = ["static int POR_NES(int a, const uint64_t *s) {", "  switch (a) {"]
    for aid, cs in enumerate(por.nes):
        body.append(f"  case {aid}:")
        for c, b in cs:
            if b not in index:
                index[b] = len(nesb)
                nesb.append(b)
            body.append(f"    if (!{g.ex(c, 's', None, None)}) return {index[b]};")
        body.append("    break;")
    # No false conjunct (cannot happen for a disabled action): every action.
    full = (1 << len(actions)) - 1
    if full not in index:
        index[full] = len(nesb)
        nesb.append(full)
    body += ["  default: break;", "  }", f"  return {index[full]};", "}"]
    lines.append(f"static const uint64_t POR_NESB[{len(nesb)}][POR_W] = {{"
                 + ", ".join(_bitset(b, words) for b in nesb) + "};")
    lines.append(f"static const uint64_t POR_USEFUL[POR_W] = {_bitset(por.useful, words)};")
    lines += body
    return lines


def _enabled_tree(g: _Gen, actions: list[Action]) -> list[str]:
    """``ENABLED(s, out)``: the enabled action ids, by a decision tree over the guards'
    conjuncts.  Actions whose guards share leading tests (the running task, its program
    point, IRQs enabled, ...) evaluate them once, and an equality test on a variable is
    one switch, so a state costs a few tests instead of one call per action."""
    def tests(a: Action) -> list[tuple]:
        out: list[tuple] = []
        for c in conjuncts(a.guard):
            if (isinstance(c, Eq) and isinstance(c.a, Var) and not c.a.local
                    and isinstance(c.b, Const) and g.slots[c.a.index].bits):
                out.append(("eq", c.a.index, int(c.b.value)))
            else:
                out.append(("c", g.ex(c, "s", None, None)))
        return out

    lines = ["static int ENABLED(const uint64_t *s, uint16_t *out) {", "  int k = 0;"]

    def emit(group: list[tuple[list, int]], ind: str) -> None:
        for t, i in group:
            if not t:
                lines.append(f"{ind}out[k++] = {i};")
        rest = [(t, i) for t, i in group if t]
        order: list[tuple] = []
        eq_by_var: dict[int, dict[int, list]] = {}
        c_by_code: dict[str, list] = {}
        for t, i in rest:
            head = t[0]
            if head[0] == "eq":
                if head[1] not in eq_by_var:
                    eq_by_var[head[1]] = {}
                    order.append(("eq", head[1]))
                eq_by_var[head[1]].setdefault(head[2], []).append((t[1:], i))
            else:
                if head[1] not in c_by_code:
                    c_by_code[head[1]] = []
                    order.append(("c", head[1]))
                c_by_code[head[1]].append((t[1:], i))
        for kind, key in order:
            if kind == "eq":
                lines.append(f"{ind}switch ({g.get_idx('s', key)}) {{")
                for val, sub in eq_by_var[key].items():
                    lines.append(f"{ind}case {val}: {{")
                    emit(sub, ind + "  ")
                    lines.append(f"{ind}  break; }}")
                lines.append(f"{ind}default: break;")
                lines.append(f"{ind}}}")
            else:
                lines.append(f"{ind}if ({key}) {{")
                emit(c_by_code[key], ind + "  ")
                lines.append(f"{ind}}}")

    emit([(tests(a), i) for i, a in enumerate(actions)], "  ")
    lines += ["  return k;", "}"]
    return lines


def pack(slots: list[Slot], nwords: int, state: tuple[int, ...]) -> list[int]:
    words = [0] * nwords
    for sl, v in zip(slots, state, strict=True):
        if sl.bits:
            words[sl.word] |= int(v) << sl.shift
    return words


def unpack(slots: list[Slot], words: list[int]) -> tuple[int, ...]:
    return tuple((words[sl.word] >> sl.shift) & ((1 << sl.bits) - 1) if sl.bits else 0
                 for sl in slots)
