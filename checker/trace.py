"""Counterexample traces: the in-memory form and the JSON file format.

File format (``"format": "fpcheck-trace"``, ``"version": 1``), one JSON object:

* header: ``tool``, ``kind`` (``counterexample`` or ``cti``: a CTI's first state is not
  claimed reachable), ``engine``, ``variant``, ``config`` (model.config.Config fields),
  ``property``, ``violation`` (what went wrong, in words), ``model_fingerprint`` (hash
  of model/ and properties/ sources), ``vars`` (state variable names in order);
* ``initial``: the first state, as {variable: value label};
* ``steps``: one object per step: ``step`` (1-based), ``action`` (step template name),
  ``label``, ``params`` ({cpu, task, vcpu, next}: ints), ``inputs`` ({input name:
  bool}), ``functions`` (modelled C functions run, in call order), ``state`` (the full
  state after the step, {variable: label}), ``violations`` (kernel assertion ids that
  failed in this step), ``stacks`` (optional: {failed assertion id: the real call stack
  at its first failure in the step, outermost modelled function first});
* optional header ``assertion``: the assertion site this trace is the shortest
  counterexample of (explore keeps one per site; its last step fails it);
* optional header ``por``: whether explore's partial-order reduction was on (then the
  trace is a real execution but not necessarily a shortest one; ``--no-por`` gives the
  shortest).

Labels rather than ints keep the file readable and stable if a domain gains values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from checker.instance import Instance
    from model.dsl import Action

FORMAT = "fpcheck-trace"
VERSION = 1
TOOL = "fpcheck 0.1.0"


# The execution state shown at each call of a step's call tree: (label, variable name
# suffix on the step's CPU).  Variables a configuration does not have are skipped.
EXEC_STATE = (("IRQs off", "irqs_disabled"), ("preempt", "preempt_count"),
              ("softirq", "softirq_count"), ("hardirq", "in_irq"),
              ("rq lock", "rq_lock"), ("neon busy", "kernel_neon_busy"))


def execution_state(inst: Instance, a: Action) -> list:
    """(label, Var) of the execution state of the step's CPU, for call trees."""
    cpu = a.param("cpu")
    by_name = inst.layout.by_name
    out = []
    for label, suffix in EXEC_STATE:
        var = by_name.get(f"cpu{cpu}.{suffix}")
        if var is not None:
            out.append((label, var))
    out += [(v.name, v) for v in inst.layout.vars if v.name.endswith(".mutex")]
    return out


@dataclass
class Step:
    action: str
    label: str
    params: dict[str, int]
    inputs: dict[str, bool]
    functions: list[str]
    state: dict[str, str]
    violations: list[str] = field(default_factory=list)
    stacks: dict[str, list[str]] = field(default_factory=dict)
    # The call tree actually executed (checker.interp.run_tree) and the inputs the step
    # consulted; empty in traces written before they existed.
    tree: list[dict] = field(default_factory=list)
    inputs_read: list[str] | None = None

    @staticmethod
    def make(inst: Instance, a: Action, inp: tuple, state: tuple, viol: list[str],
             pre: tuple | None = None) -> Step:
        """A trace step; given the pre-state, it lists the C functions actually entered
        and the real call stack at each failed assertion (from the reference
        interpreter, which rebuilds the stack from the step's entry/return marks)."""
        functions = list(a.functions)
        stacks: dict[str, list[str]] = {}
        tree: list[dict] = []
        read: list[str] | None = None
        if pre is not None:
            from checker.interp import run_traced, run_tree

            _, _, functions, found = run_traced(a, pre, tuple(inp))
            stacks = {cid: list(found[cid]) for cid in dict.fromkeys(viol) if cid in found}
            tree, read = run_tree(a, pre, tuple(inp), execution_state(inst, a))
        return Step(
            action=a.name,
            label=a.label,
            params=dict(a.params),
            inputs={name: bool(v) for name, v in zip(a.inputs, inp, strict=True)},
            functions=functions,
            state=inst.layout.state_dict(state),
            violations=list(viol),
            stacks=stacks,
            tree=tree,
            inputs_read=read,
        )


@dataclass
class Trace:
    variant: str
    config: dict[str, Any]
    property: str
    violation: str
    initial: dict[str, str]
    steps: list[Step]
    engine: str
    kind: str = "counterexample"
    fingerprint: str = ""
    vars: list[str] = field(default_factory=list)
    variant_file: dict[str, str] | None = None  # {"path", "sha256"} of a user's variant
    assertion: str = ""  # the assertion site this is the shortest counterexample of
    por: bool | None = None  # explore's partial-order reduction on/off (None: not explore)

    @staticmethod
    def make(inst: Instance, prop: str, text: str, init: tuple, steps: list[Step],
             engine: str, kind: str = "counterexample", assertion: str = "") -> Trace:
        from checker.instance import model_fingerprint

        return Trace(
            variant=inst.variant.name,
            config=inst.config.to_json(),
            property=prop,
            violation=text,
            initial=inst.layout.state_dict(init),
            steps=steps,
            engine=engine,
            kind=kind,
            fingerprint=model_fingerprint(),
            vars=[v.name for v in inst.layout.vars],
            variant_file=inst.variant.source,
            assertion=assertion,
        )

    def __len__(self) -> int:
        return len(self.steps)

    def to_json(self) -> dict[str, Any]:
        out = self._to_json()
        if self.assertion:
            out["assertion"] = self.assertion
        if self.por is not None:
            out["por"] = self.por
        for s, js in zip(self.steps, out["steps"], strict=True):
            if s.stacks:
                js["stacks"] = s.stacks
            if s.tree:
                js["tree"] = s.tree
            if s.inputs_read is not None:
                js["inputs_read"] = s.inputs_read
        return out

    def _to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "tool": TOOL,
            "kind": self.kind,
            "engine": self.engine,
            "variant": self.variant,
            **({"variant_file": self.variant_file} if self.variant_file else {}),
            "config": self.config,
            "property": self.property,
            "violation": self.violation,
            "model_fingerprint": self.fingerprint,
            "vars": self.vars,
            "initial": self.initial,
            "steps": [
                {
                    "step": i + 1,
                    "action": s.action,
                    "label": s.label,
                    "params": s.params,
                    "inputs": s.inputs,
                    "functions": s.functions,
                    "state": s.state,
                    "violations": s.violations,
                }
                for i, s in enumerate(self.steps)
            ],
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=1)


class TraceError(Exception):
    """A trace file that cannot be read (malformed, wrong format or version)."""


def trace_from_json(data: Any, source: str = "trace") -> Trace:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise TraceError(f"{source} is not an fpcheck trace (no \"format\": \"{FORMAT}\")")
    if data.get("version") != VERSION:
        raise TraceError(
            f"{source} has trace format version {data.get('version')!r}; this fpcheck reads"
            f" version {VERSION}"
        )
    try:
        steps = [
            Step(
                action=s["action"],
                label=s["label"],
                params={k: int(v) for k, v in s["params"].items()},
                inputs={k: bool(v) for k, v in s["inputs"].items()},
                functions=list(s.get("functions", [])),
                state=dict(s["state"]),
                violations=list(s.get("violations", [])),
                stacks={k: list(v) for k, v in s.get("stacks", {}).items()},
                tree=list(s.get("tree", [])),
                inputs_read=list(s["inputs_read"]) if "inputs_read" in s else None,
            )
            for s in data["steps"]
        ]
        return Trace(
            variant=data["variant"],
            config=dict(data["config"]),
            property=data["property"],
            violation=data["violation"],
            initial=dict(data["initial"]),
            steps=steps,
            engine=data["engine"],
            kind=data.get("kind", "counterexample"),
            fingerprint=data.get("model_fingerprint", ""),
            vars=list(data.get("vars", [])),
            variant_file=dict(data["variant_file"]) if data.get("variant_file") else None,
            assertion=str(data.get("assertion", "")),
            por=bool(data["por"]) if "por" in data else None,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise TraceError(f"{source} is malformed: {type(exc).__name__}: {exc}") from None


def load_trace(path: str) -> Trace:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise TraceError(f"trace file {path} does not exist") from None
    except json.JSONDecodeError as exc:
        raise TraceError(f"trace file {path} is not valid JSON: {exc}") from None
    return trace_from_json(data, path)
