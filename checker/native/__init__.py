"""The native engine: the model's IR compiled to C (checker.native.codegen), searched by a
multi-threaded BFS over bit-packed states (engine.c), driven from Python (explore)."""

from checker.native.build import NativeUnavailable
from checker.native.codegen import NativeUnsupported
from checker.native.explore import explore_native

__all__ = ["NativeUnavailable", "NativeUnsupported", "explore_native"]
