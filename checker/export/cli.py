"""`python -m checker export --promela OUT.pml [model options]`: write the model instance(s)
as Promela for SPIN (checker/export/promela.py).  One file per instance: with both hyp
modes (the default) or several Kconfig presets, the mode and preset go into the name."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from checker.cli_common import (
    EXIT_OK,
    UsageError,
    add_model_options,
    instances_from_args,
    print_json,
    selected_properties,
)
from checker.export.promela import PromelaModel, PromelaUnsupported, to_promela
from checker.instance import Instance


def register(sub: argparse._SubParsersAction) -> None:
    x = sub.add_parser(
        "export", help="write the model as Promela for SPIN (cross-check, benchmarks)",
        description="Write the same model instance the explorer checks (variant, "
        "configuration, selected properties) as a Promela program: one process whose "
        "loop has one d_step option per step instance and input combination, so SPIN's "
        "unreduced state count (gcc -DNOREDUCE -DSAFETY pan.c) equals the explorer's. "
        "Both hyp modes (the default) give one file each (NAME-nvhe.pml, NAME-vhe.pml).")
    x.add_argument("--promela", metavar="OUT.pml", required=True,
                   help="the Promela file to write (written atomically)")
    add_model_options(x)
    x.set_defaults(func=cmd_export)


def out_paths(path: str, insts: list[Instance]) -> list[Path]:
    """OUT.pml for one instance; else OUT-<kconfig>-<mode>.pml (the preset only when
    several are exported)."""
    if len(insts) == 1:
        return [Path(path)]
    p = Path(path)
    stem, ext = (p.stem, p.suffix) if p.suffix else (p.name, ".pml")
    presets = {i.config.kconfig_name for i in insts}
    out = []
    for inst in insts:
        parts = [stem]
        if len(presets) > 1:
            parts.append(inst.config.kconfig_name or "custom")
        parts.append("vhe" if inst.config.vhe else "nvhe")
        out.append(p.with_name("-".join(parts) + ext))
    return out


def write_atomically(path: Path, text: str) -> None:
    """Temp file in the same directory, then rename: never a half-written file."""
    d = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-", suffix=".pml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cmd_export(args: argparse.Namespace) -> int:
    if args.junit:
        raise UsageError("--junit: export runs no check (run SPIN on the file)")
    props = selected_properties(args)
    insts = instances_from_args(args)
    paths = out_paths(args.promela, insts)
    for p in paths:
        if not p.parent.is_dir() and str(p.parent):
            raise UsageError(f"--promela {args.promela}: directory {p.parent} does not exist")
    models: list[PromelaModel] = []
    try:
        for inst in insts:
            models.append(to_promela(inst, props))
    except PromelaUnsupported as exc:
        raise UsageError(f"cannot export: {exc}") from None
    try:
        for p, m in zip(paths, models, strict=True):
            write_atomically(p, m.text)
    except OSError as exc:
        raise UsageError(f"cannot write {exc.filename or args.promela}: {exc.strerror}") \
            from None
    files = []
    for inst, p, m in zip(insts, paths, models, strict=True):
        files.append({"path": str(p), "variant": inst.variant.name,
                      "config": inst.config.to_json(), "properties": m.properties,
                      "actions": m.actions, "options": m.options,
                      "atomic_actions": m.atomic_actions,
                      "split_options": m.split_options, "state_vars": m.state_vars,
                      "state_bits": m.state_bits})
        if not args.json:
            atomic = (f", {m.atomic_actions} with more than a few inputs as atomic "
                      "choices" if m.atomic_actions else "")
            print(f"wrote {p}: variant {inst.variant.name}, {inst.config.describe()}; "
                  f"{m.actions} steps as {m.options} loop options{atomic}; "
                  f"{m.state_vars} state variables ({m.state_bits} bits)")
    if args.json:
        print_json({"exit_code": EXIT_OK, "files": files})
    elif files:
        print(f"check with: spin -o2 -a {paths[0]} && gcc -O2 -DNOREDUCE -DSAFETY -o pan "
              "pan.c && ./pan -m10000000   (-o2: keep write-only variables, as the "
              "explorer does; -m: DFS depth)")
    return EXIT_OK
