"""The registry of code versions (variants) the checker knows.

* ``seed``: the seed patch (KVM: arm64: Optimise FPSIMD handling to reduce guest/host
  thrashing) on its base tree; the functions in model/kernel/ are this version.
* ``v4.17``: the release before the series (eager switch in hyp).
* ``v4.18-rc1``: the seed's series as merged (hyp saves host SVE state).
* ``v4.18``: the release, with the fixes that followed rc1.
* ``v4.18-fpexc32-fix``: v4.18 plus the v4.19-rc3 fix for 32-bit guests' FPEXC32_EL2.
* ``v4.18-vcpu-reset-fix``: v4.18 with v5.0's PSCI CPU_ON (the target resets itself).
* ``v6.1``: v6.1-rc7 (model/variants/v6_1.py): vcpu->arch.fp_state before fp_type, the
  busy-flag FPSIMD context, kernel-mode NEON with softirqs disabled, TIF_SVE cleared at
  syscall entry, #13 (derived from v6.8's table);
* ``v6.8``: v6.8.0, the FP code of v6.9 less host FPMR (derived from v6.9's table);
  ``v6.9``: v6.9.0, preemptible kernel NEON with the erroneous elide of the user state
  reload (#15); ``v6.10``: v6.10.0, with its fix and host_data->fp_owner; ``v6.12``:
  v6.12.0, with the SVE trap fix (#13); ``v6.13``: v6.13.7, the same FP code (still
  fpsimd_kvm_prepare(), #17); ``v6.14``: v6.14.0, host state saved and flushed at vcpu
  load (#17's fix), eager ZCR switching in hyp (#20's fix); ``v6.16``: v6.16-rc1's host
  side (model/variants/v6_16.py: #22's fpsimd_syscall_enter/exit, #21's switch order,
  ptrace's reworked sve_set_common()); ``v6.16-ptrace-fixes``: v6.16 with the two later
  fixes of that ptrace code (128a7494a9f1, 5cbb61bf4168).
* ``v4.18-fork-fix``: v4.18 whose fork copies an SVE parent's V values from sve_state.

A user adds a variant in a file of their own (see README.md, "Checking your own patch")
and passes it with ``--variant-file``; a file defines ``VARIANT`` (one) or ``VARIANTS``
(a list).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import sys
import traceback
from pathlib import Path

from model.kernel import all_functions
from model.variant import Variant
from model.variants import v4_17, v4_18, v6, v6_1, v6_16

SEED = Variant(
    "seed",
    "the seed patch: lazy host FPSIMD save, vcpu state bound to the CPU by ctxsync",
    all_functions(),
    options={"HAVE_KVM_VCPU_RUN_PID_CHANGE": True},
)

_BUILTIN: dict[str, Variant] = {}


def _register(v: Variant) -> Variant:
    _BUILTIN[v.name] = v
    return v


_register(SEED)
_register(v4_17.make(SEED))
_RC1 = _register(v4_18.make_rc1(SEED))
_V418 = _register(v4_18.make(_RC1))
_register(v4_18.make_fpexc32_fix(_V418))
_register(v4_18.make_vcpu_reset_fix(_V418))
# Today's kernels (model/variants/v6.py): derived from v4.18's table, every function the
# newer C changed replaced, the rest checked to be the same in effect.
_V69 = _register(v6.make_v69(_V418))
_V68 = _register(v6.make_v68(_V69))
# v6.1 (model/variants/v6_1.py): v6.8's KVM side, the busy-flag host code of v5.13-v6.7.
_register(v6_1.make_v61(_V68))
_V610 = _register(v6.make_v610(_V69))
_V612 = _register(v6.make_v612(_V610))
_V613 = _register(v6.make_v613(_V612))
_V614 = _register(v6.make_v614(_V613))
_V616 = _register(v6_16.make_v616(_V614))
_V616RC3 = _register(v6_16.make_v616_rc3(_V616))
_register(v6_16.make_v616_ptrace_fixes(_V616RC3))
_register(v4_18.make_fork_fix(_V418))


class VariantError(Exception):
    pass


def variants() -> dict[str, Variant]:
    return dict(_BUILTIN)


def get_variant(name: str, extra: dict[str, Variant] | None = None) -> Variant:
    table = {**_BUILTIN, **(extra or {})}
    if name not in table:
        raise VariantError(
            f"unknown variant {name!r}; known: {', '.join(sorted(table))}"
            " (list them with `python -m checker variants`)"
        )
    return table[name]


def user_frame(exc: BaseException, path: str | Path) -> str | None:
    """``file:line: `source``` of the innermost frame of ``exc`` in the user's file
    ``path`` (None if the error did not pass through it)."""
    target = Path(path).resolve()
    found = None
    if isinstance(exc, SyntaxError) and exc.filename and Path(exc.filename).resolve() == target:
        return f"{path}:{exc.lineno}: `{(exc.text or '').strip()}`"
    for fr in traceback.extract_tb(exc.__traceback__):
        if Path(fr.filename).resolve() == target:
            found = f"{path}:{fr.lineno}: in {fr.name}: `{(fr.line or '').strip()}`"
    return found


def load_variant_file(path: str) -> dict[str, Variant]:
    """Import a user's variant file and return the variants it defines, each recording
    the file (path and content hash) so traces can name it.  A file variant may not take
    a built-in name."""
    p = Path(path)
    if not p.is_file():
        raise VariantError(f"variant file {path} does not exist")
    spec = importlib.util.spec_from_file_location(f"fpcheck_user_variant_{p.stem}", p)
    if spec is None or spec.loader is None:
        raise VariantError(f"variant file {path} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's code: report it in one line
        where = user_frame(exc, p) or str(path)
        raise VariantError(
            f"variant file {where}: failed to load: {type(exc).__name__}: {exc}") from None
    found = list(getattr(module, "VARIANTS", [])) or (
        [module.VARIANT] if hasattr(module, "VARIANT") else []
    )
    if not found or not all(isinstance(v, Variant) for v in found):
        raise VariantError(f"variant file {path} defines no VARIANT or VARIANTS of Variant objects")
    clash = [v.name for v in found if v.name in _BUILTIN]
    if clash:
        raise VariantError(
            f"variant file {path} defines {clash[0]!r}, the name of a built-in variant;"
            " give your variant a name of its own (derive from the built-in one)")
    source = {"path": str(path), "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
    return {v.name: dataclasses.replace(v, source=source) for v in found}
