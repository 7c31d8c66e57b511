"""Load a trace file: JSON, format and version, schema, then consistency checks.

Every problem is a `TraceError` with a one-line message naming the file."""

from __future__ import annotations

import json
from typing import Any

from checker.inspect.schema import SchemaError, validate
from checker.trace import FORMAT, VERSION, Trace, TraceError, trace_from_json


def check_trace_json(data: Any, source: str) -> None:
    """Raise TraceError unless ``data`` is a well-formed version-1 trace."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise TraceError(f"{source} is not an fpcheck trace (no \"format\": \"{FORMAT}\")")
    if data.get("version") != VERSION:
        raise TraceError(f"{source} has trace format version {data.get('version')!r}; "
                         f"this fpcheck reads version {VERSION}")
    try:
        validate(data)
    except SchemaError as exc:
        raise TraceError(f"{source} does not match the trace schema: {exc}") from None
    names = set(data["initial"])
    for i, s in enumerate(data["steps"], 1):
        if "step" in s and s["step"] != i:
            raise TraceError(f"{source}: step {i} is numbered {s['step']}")
        if set(s["state"]) != names:
            diff = sorted(set(s["state"]) ^ names)
            raise TraceError(f"{source}: the state after step {i} does not have the same "
                             f"variables as the initial state ({', '.join(diff[:3])})")
    if data.get("vars") and set(data["vars"]) != names:
        raise TraceError(f"{source}: \"vars\" does not list the variables of the states")


def load(path: str) -> Trace:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise TraceError(f"trace file {path} does not exist") from None
    except IsADirectoryError:
        raise TraceError(f"{path} is a directory, not a trace file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TraceError(f"cannot read trace file {path}: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TraceError(f"trace file {path} is not valid JSON: {exc}") from None
    check_trace_json(data, path)
    return trace_from_json(data, path)
