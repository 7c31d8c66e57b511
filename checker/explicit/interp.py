"""Compatibility alias: the reference interpreter is engine-neutral and lives in
`checker.interp` (every engine and the trace code use it)."""

from checker.interp import guard_holds, run_action, run_traced

__all__ = ["guard_holds", "run_action", "run_traced"]
