"""A small JSON Schema validator for the subset checker/trace_schema.json uses.

Supported keywords: type, const, enum, required, properties, additionalProperties
(boolean or schema), items, minimum, minLength, $ref (to "#/$defs/..."); annotations
($schema, $id, title, description) are ignored.  Enough for the trace format without a
new dependency; errors name the JSON path of the offending value.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "trace_schema.json"

_TYPES: dict[str, Any] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}

_KNOWN = {"type", "const", "enum", "required", "properties", "additionalProperties",
          "items", "minimum", "minLength", "$ref", "$schema", "$id", "$defs", "title",
          "description"}


class SchemaError(Exception):
    """The document does not match the schema; the message names the path."""


@lru_cache(maxsize=1)
def trace_schema() -> dict:
    with open(SCHEMA_PATH, encoding="utf-8") as f:
        return json.load(f)


def _kind(v: Any) -> str:
    for name, test in _TYPES.items():
        if name != "number" and test(v):
            return name
    return "number" if _TYPES["number"](v) else type(v).__name__


def _resolve(root: dict, ref: str) -> dict:
    if not ref.startswith("#/"):
        raise SchemaError(f"unsupported $ref {ref!r}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def validate(doc: Any, schema: dict | None = None, root: dict | None = None,
             path: str = "$") -> None:
    """Raise SchemaError at the first mismatch (depth first, in document order)."""
    if schema is None:
        schema = trace_schema()
    if root is None:
        root = schema
    unknown = set(schema) - _KNOWN
    if unknown:
        raise SchemaError(f"schema uses unsupported keyword(s) {sorted(unknown)}")
    if "$ref" in schema:
        validate(doc, _resolve(root, schema["$ref"]), root, path)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_TYPES[t](doc) for t in types):
            raise SchemaError(f"{path}: expected {' or '.join(types)}, got {_kind(doc)}")
    if "const" in schema and not _same(doc, schema["const"]):
        raise SchemaError(f"{path}: must be {json.dumps(schema['const'])}, not {_short(doc)}")
    if "enum" in schema and not any(_same(doc, e) for e in schema["enum"]):
        raise SchemaError(f"{path}: must be one of {json.dumps(schema['enum'])}, "
                          f"not {_short(doc)}")
    if "minimum" in schema and _TYPES["number"](doc) and doc < schema["minimum"]:
        raise SchemaError(f"{path}: must be at least {schema['minimum']}, not {doc}")
    if "minLength" in schema and isinstance(doc, str) and len(doc) < schema["minLength"]:
        raise SchemaError(f"{path}: must not be empty" if schema["minLength"] == 1
                          else f"{path}: shorter than {schema['minLength']}")
    if isinstance(doc, dict):
        for key in schema.get("required", []):
            if key not in doc:
                raise SchemaError(f"{path}: missing required field {key!r}")
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, value in doc.items():
            sub = f"{path}.{key}"
            if key in props:
                validate(value, props[key], root, sub)
            elif extra is False:
                raise SchemaError(f"{path}: unexpected field {key!r}")
            elif isinstance(extra, dict):
                validate(value, extra, root, sub)
    if isinstance(doc, list) and "items" in schema:
        for i, item in enumerate(doc):
            validate(item, schema["items"], root, f"{path}[{i}]")


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _short(v: Any) -> str:
    s = json.dumps(v)
    return s if len(s) <= 40 else s[:37] + "..."
