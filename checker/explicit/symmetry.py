"""Symmetry reduction for the explicit explorer (opt-in: ``explore --symmetry``).

The plain host user tasks T0..T(n-1) (not the VMM threads, not the idle tasks) all run
the same program: every step template is instantiated for each of them, their initial
states differ only by their own names (``Ti.uw.v`` holds the token ``Ti``), and no
guard, assertion or property singles one out (the model only compares values for
equality).  So a permutation of their names maps reachable states to reachable states,
transitions to transitions and preserves every property.  The CPUs are symmetric in the
same way, provided a CPU permutation also permutes the idle tasks ``idle<c>`` (CPU c
starts running idle c, and only idle c may run on CPU c).

A permutation is a renaming of the names ``T<i>``, ``cpu<c>`` and ``idle<c>`` wherever
they occur as a whole token (``T0.uw.v``, ``ghost.T0.zhi_written``, ``T0~``,
``cpu0.regs.v``, but never ``vcpu0``).  It is derived generically from the layout:

* the state variables are permuted: the variable ``T0.uw.v`` goes to ``T1.uw.v``;
* every value is relabelled: a value whose label mentions a renamed name (``current``
  values, task pointers, ``T0.uw`` pointers, value tokens ``T0`` / ``T0~``, ``cpu0``
  in ``fpsimd_cpu``) becomes the value of the renamed label in the same domain.

Every renamed variable and label must exist (checked when the permutation is built), so
each permutation is a bijection on states.  The canonical form of a state is the
lexicographically smallest of its images (as ``bytes``), one per permutation: one
representative per orbit.  The permutation functions are generated Python (one tuple
display per permutation), as the explorer's own steps are.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable

from model.dsl import ModelError
from model.state import Layout

_TOKEN = re.compile(r"(?<![A-Za-z0-9_])(T\d+|cpu\d+|idle\d+)(?![A-Za-z0-9_])")


def rename(text: str, names: dict[str, str]) -> str:
    """``text`` with every whole-token occurrence of a key of ``names`` renamed."""
    return _TOKEN.sub(lambda m: names.get(m.group(1), m.group(1)), text)


def renamings(layout: Layout, tasks: bool = True, cpus: bool = True) -> list[dict[str, str]]:
    """Every non-identity renaming of the group (plain tasks x CPUs with their idles)."""
    cfg = layout.config
    # (event fork) the child slot is not like the others (it exists only once forked):
    # it keeps its name.
    n = cfg.tasks - (1 if layout.fork_child is not None else 0)
    task_perms = [p + tuple(range(n, cfg.tasks)) for p in itertools.permutations(range(n))
                  ] if tasks else [tuple(range(cfg.tasks))]
    cpu_perms = list(itertools.permutations(range(cfg.cpus))) if cpus else [
        tuple(range(cfg.cpus))]
    out = []
    for tp in task_perms:
        for cp in cpu_perms:
            names = {f"T{i}": f"T{j}" for i, j in enumerate(tp)}
            names.update({f"cpu{i}": f"cpu{j}" for i, j in enumerate(cp)})
            names.update({f"idle{i}": f"idle{j}" for i, j in enumerate(cp)})
            if any(k != v for k, v in names.items()):
                out.append(names)
    return out


def permutation_maps(layout: Layout, names: dict[str, str]) -> tuple[list[int], list[tuple]]:
    """For one renaming: ``src`` with image[j] = table_j[s[src[j]]] for every variable j,
    and the value tables (one per destination variable, indexed by value)."""
    by_name = {v.name: v for v in layout.vars}
    nvars = len(layout.vars)
    src: list[int | None] = [None] * nvars
    tables: list[tuple] = [()] * nvars
    for var in layout.vars:
        new = by_name.get(rename(var.name, names))
        if new is None:
            raise ModelError(f"symmetry: {var.name} has no image under {names}")
        if new.dom.labels != var.dom.labels:
            raise ModelError(f"symmetry: {var.name} and {new.name} have different domains")
        if src[new.index] is not None:
            raise ModelError(f"symmetry: two variables map to {new.name}")
        src[new.index] = var.index
        labels = var.dom.labels
        pos = {lab: k for k, lab in enumerate(labels)}
        table = []
        for lab in labels:
            r = rename(lab, names)
            if r not in pos:
                raise ModelError(f"symmetry: value {lab} of {var.name} has no image {r}")
            table.append(pos[r])
        if sorted(table) != list(range(len(labels))):
            raise ModelError(f"symmetry: the relabelling of {var.name} is not a bijection")
        tables[new.index] = tuple(table)
    return [s for s in src if s is not None], tables


class Symmetry:
    """The canonicalisation function of one layout's symmetry group."""

    PREFIX = 6  # positions compared before any full image is built

    def __init__(self, layout: Layout, tasks: bool = True, cpus: bool = True) -> None:
        self.layout = layout
        self.renamings = renamings(layout, tasks, cpus)
        self.size = 1 + len(self.renamings)
        ns: dict = {}
        src_lines = []
        maps = [permutation_maps(layout, names) for names in self.renamings]
        # Positions where some image may differ from the state itself: elsewhere every
        # image agrees, so images compare (lexicographically) as their restrictions to
        # these positions do.  A short prefix of them picks the candidates cheaply; the
        # full images are only built for the candidates (usually one).
        moved = sorted({j for src, tables in maps for j, (i, tbl) in
                        enumerate(zip(src, tables, strict=True))
                        if i != j or any(k != v for k, v in enumerate(tbl))})

        def item(p: int, j: int) -> str:
            i, tbl = maps[p][0][j], maps[p][1][j]
            if all(k == v for k, v in enumerate(tbl)):
                return f"s[{i}]"
            ns[f"M{p}_{j}"] = tbl
            return f"M{p}_{j}[s[{i}]]"

        nvars = len(layout.vars)
        for p in range(len(maps)):
            items = ", ".join(item(p, j) for j in range(nvars))
            src_lines.append(f"def perm_{p}(s):\n    return bytes(({items},))\n")
        prefix = moved[:self.PREFIX]
        body = ["def canon(s):"]
        body.append(f"    k = ({''.join(f's[{j}], ' for j in prefix)})")
        for p in range(len(maps)):
            body.append(f"    k{p} = ({''.join(item(p, j) + ', ' for j in prefix)})")
        body.append(f"    m = min(k, {', '.join(f'k{p}' for p in range(len(maps)))})")
        body.append("    best = s if k == m else None")
        for p in range(len(maps)):
            body.append(f"    if k{p} == m:")
            body.append(f"        img = perm_{p}(s)")
            body.append("        if best is None or img < best:")
            body.append("            best = img")
        body.append("    return best")
        src_lines.append("\n".join(body) + "\n")
        self.source = "\n".join(src_lines)
        exec(compile(self.source, "<fpcheck-symmetry>", "exec"), ns)
        self.perms: list[Callable[[bytes], bytes]] = [ns[f"perm_{p}"] for p in range(len(maps))]
        self.canon: Callable[[bytes], bytes] = ns["canon"] if maps else _identity

    @property
    def trivial(self) -> bool:
        return not self.renamings


def _identity(s: bytes) -> bytes:
    return s
