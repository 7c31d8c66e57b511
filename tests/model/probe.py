"""Run one modelled kernel function on a hand-made state (for unit tests)."""

from __future__ import annotations

from checker.explicit.compile import compile_model
from model.config import Config
from model.ctx import Ctx
from model.dsl import TRUE, Action
from model.state import Layout
from model.variants import get_variant


class Probe:
    def __init__(self, variant: str = "seed", **config) -> None:
        self.variant = get_variant(variant)
        self.layout = Layout(Config(preemption="merged", **config),
                             frozenset(self.variant.option("state_features", ())))

    def state(self, **labels: str) -> tuple[int, ...]:
        """The initial state with some variables set, by name ("cpu0.current"="vmm0")."""
        s = list(self.layout.initial_state())
        for key, label in labels.items():
            var = self.layout.by_name[key.replace("__", ".")]
            s[var.index] = var.dom.index(label)
        return tuple(s)

    def run(self, fn: str, *args, cpu: int = 0, task: str = "vmm0",
            state: tuple[int, ...] | None = None, inputs: tuple[bool, ...] | None = None,
            **labels: str) -> tuple[dict[str, str], list[str]]:
        S = self.layout
        t = S.TASK.index(task)
        k = Ctx(S, self.variant, cpu, t)
        getattr(k, fn)(*args)
        action = Action(fn, (("cpu", cpu), ("task", t)), fn, TRUE, k.body(),
                        tuple(k.inputs), tuple(k.functions))
        comp = compile_model([action], len(S.vars))
        pre = state if state is not None else self.state(**labels)
        nxt, viol = comp.fire(0, pre, inputs or (False,) * len(k.inputs))
        return S.state_dict(nxt), viol
