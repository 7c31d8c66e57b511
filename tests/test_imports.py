"""The architecture's import direction: model/ knows no engine, properties/ no checker."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imports(folder: str) -> set[str]:
    names: set[str] = set()
    for p in (ROOT / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module.split(".")[0])
    return names


def test_model_imports_no_engine() -> None:
    assert not _imports("model") & {"checker", "properties", "z3", "networkx"}


def test_properties_read_only_the_model() -> None:
    assert not _imports("properties") & {"checker", "z3"}
