"""The state graph of a small configuration, through networkx (GraphML or DOT)."""

from __future__ import annotations

import networkx as nx

from checker.cli_common import UsageError
from checker.explicit.explore import ExploreResult
from checker.instance import Instance

MAX_GRAPH_STATES = 20_000


def write_graph(inst: Instance, graph: list, res: ExploreResult, path: str) -> None:
    states, edges, index = graph
    if len(states) > MAX_GRAPH_STATES:
        raise UsageError(
            f"--graph: {len(states):,} states is above the limit of {MAX_GRAPH_STATES:,};"
            " use a smaller configuration (e.g. --cpus 1)"
        )
    on_path: set[tuple] = set()
    for trace in res.violations.values():
        labels = [bytes(inst.layout.initial_state())]
        for step in trace.steps:
            labels.append(bytes(
                v.dom.labels.index(step.state[v.name]) for v in inst.layout.vars))
        on_path.update(labels)
    g = nx.MultiDiGraph()
    for i, s in enumerate(states):
        attrs = {"label": f"s{i}", "counterexample": s in on_path}
        attrs.update({v.name: v.dom.labels[s[v.index]] for v in inst.layout.vars})
        g.add_node(i, **attrs)
    for i, nxt, aid in edges:
        g.add_edge(i, index[nxt], label=inst.actions[aid].label,
                   counterexample=states[i] in on_path and nxt in on_path)
    if path.endswith(".dot"):
        with open(path, "w", encoding="utf-8") as f:
            f.write("digraph fpcheck {\n")
            for n, d in g.nodes(data=True):
                color = ', color=red' if d["counterexample"] else ""
                f.write(f'  {n} [label="{d["label"]}"{color}];\n')
            for a, b, d in g.edges(data=True):
                color = ', color=red' if d["counterexample"] else ""
                f.write(f'  {a} -> {b} [label="{d["label"]}"{color}];\n')
            f.write("}\n")
    else:
        nx.write_graphml(g, path)
