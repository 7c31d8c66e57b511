"""Variants: versions of the kernel code, as tables of modelled functions.

A variant is a name, a description and a mapping from C function names to the Python
functions that model them.  A new variant derives from an existing one and replaces only
the functions its patch changes::

    from model.variants import get_variant

    def kvm_arch_vcpu_put_fp(k, vcpu):
        '''arch/arm64/kvm/fpsimd.c: my fix ...'''
        ...

    MY_FIX = get_variant("seed").derive(
        "my-fix", "seed with put_fp under local_irq_save",
        kvm_arch_vcpu_put_fp=kvm_arch_vcpu_put_fp,
    )

Every function is called as ``k.<name>(...)`` from the others, so a replacement takes
effect at every call site, including calls from the scheduler and hyp.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Variant:
    name: str
    description: str
    functions: dict[str, Callable[..., Any]] = field(repr=False)
    parent: str | None = None
    # Per-variant facts that are not functions (kconfig selections).
    options: dict[str, Any] = field(default_factory=dict)
    # Where a user's variant came from: {"path": ..., "sha256": ...} (None: built in).
    source: dict[str, str] | None = None
    # The kernel tree the modelled functions were read in, "owner/repo@commit" (a GitHub
    # snapshot, or torvalds/linux@<commit> for a file read at a fix commit), and the
    # release it is; None for variants not pinned to one tree (seed, user variants).
    tree: str | None = None
    release: str | None = None

    def derive(self, name: str, description: str, *, options: dict[str, Any] | None = None,
               tree: str | None = None, release: str | None = None,
               **functions: Callable[..., Any] | None) -> Variant:
        unknown = [f for f in functions if f not in self.functions]
        if unknown:
            # New functions are allowed (a patch may add helpers), but a misspelt
            # replacement would silently change nothing, so new names must be declared.
            new_ok = set((options or {}).get("new_functions", ()))
            bad = [f for f in unknown if f not in new_ok]
            if bad:
                raise ValueError(
                    f"variant {name}: {', '.join(bad)} not in {self.name}; list new helpers"
                    " in options={'new_functions': [...]}"
                )
        merged = dict(self.functions)
        for fname, fn in functions.items():
            if fn is None:  # the function does not exist in this version of the code
                merged.pop(fname, None)
            else:
                merged[fname] = fn
        opts = dict(self.options)
        opts.update({k: v for k, v in (options or {}).items() if k != "new_functions"})
        return Variant(name, description, merged, self.name, opts, tree=tree, release=release)

    def option(self, key: str, default: Any = None) -> Any:
        return self.options.get(key, default)
