"""The deliberately broken copies of the seed used by the tests.

They live in `counterexamples/mutants.py` (loadable with `--variant-file`, and the
source of the curated regression traces); this module gives them short names.
"""

from __future__ import annotations

from pathlib import Path

from model.variants import load_variant_file

_MUTANTS = load_variant_file(str(Path(__file__).resolve().parent.parent
                                 / "counterexamples" / "mutants.py"))

BROKEN = {
    "ctxsync-keeps-foreign": _MUTANTS["mutant-ctxsync-keeps-foreign"],
    "update-fp-enabled-ignores-foreign": _MUTANTS["mutant-hyp-ignores-foreign"],
    "hyp-switch-skips-host-save": _MUTANTS["mutant-hyp-switch-skips-host-save"],
    "put-fp-no-flush": _MUTANTS["mutant-put-fp-no-flush"],
    "switch-ignores-cpu": _MUTANTS["mutant-switch-ignores-cpu"],
    "put-fp-no-bh": _MUTANTS["mutant-put-fp-no-bh"],
    "neon-end-no-preempt-enable": _MUTANTS["mutant-neon-end-no-preempt-enable"],
    "deactivate-keeps-tfp": _MUTANTS["mutant-deactivate-keeps-tfp"],
    "may-use-simd-ignores-busy": _MUTANTS["mutant-may-use-simd-ignores-busy"],
    "neon-begin-early-bh": _MUTANTS["mutant-neon-begin-early-bh"],
}
