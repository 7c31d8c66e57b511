"""The native engine: the model's IR compiled to C (checker.native.codegen), searched by a
multi-threaded BFS over bit-packed states (engine.c), driven from Python (explore)."""

from checker.native.build import NativeUnavailable
from checker.native.codegen import NativeUnsupported
from checker.native.explore import Placed, explore_native, native_model, place_states

__all__ = ["NativeUnavailable", "NativeUnsupported", "Placed", "explore_native",
           "native_model", "place_states"]
