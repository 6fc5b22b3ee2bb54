"""The JSON Schema of the log lines, generated from ``LINES``; ``python -m gateway.ops.log_schema`` rewrites the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Union

import msgspec

from gateway.ops.log_lines import LINES, LOG_CONTRACT_VERSION

__all__ = ["LOG_SCHEMA_ID", "SCHEMA_PATH", "log_lines_schema", "render"]

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "log-lines.schema.json"
LOG_SCHEMA_ID = f"urn:booking-gateway:schema:log-lines:v{LOG_CONTRACT_VERSION}"
_ENVELOPE: dict[str, Any] = {
    "level": {"enum": ["debug", "info", "warning", "error", "critical"]},
    "timestamp": {"type": "string", "format": "date-time", "description": "When it was written: ISO 8601, UTC (Z)."},
}


def log_lines_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of one stdout line: one of the declared events, with ``level`` and ``timestamp``."""
    schema = msgspec.json.schema(Union[LINES])  # noqa: UP007 - a union of a runtime tuple of types
    for definition in schema["$defs"].values():
        if "event" in definition.get("properties", {}):
            definition["properties"].update(_ENVELOPE)
            definition["required"] = sorted({*definition.get("required", ()), "event", "level", "timestamp"})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": LOG_SCHEMA_ID,
        "title": f"Gateway log lines (JSON on stdout, one object a line), version {LOG_CONTRACT_VERSION}",
        **schema,
    }


def render() -> bytes:
    """The schema as the committed file holds it."""
    return msgspec.json.format(msgspec.json.encode(log_lines_schema()), indent=2) + b"\n"


if __name__ == "__main__":
    SCHEMA_PATH.write_bytes(render())
    print(f"wrote {SCHEMA_PATH}")
