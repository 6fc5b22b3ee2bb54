"""The JSON Schema of the canonical event, generated from its Structs; ``python -m schemas.jsonschema`` rewrites the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from schemas.canonical import DATASCHEMA, CloudEvent

__all__ = ["SCHEMA_PATH", "canonical_event_schema", "render"]

SCHEMA_PATH = Path(__file__).with_name("canonical-event.schema.json")


def canonical_event_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of one canonical CloudEvent."""
    schema = msgspec.json.schema(CloudEvent)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": DATASCHEMA,
        "title": "Canonical booking event (CloudEvents 1.0, structured JSON), version 1",
        **schema,
    }


def render() -> bytes:
    """The schema as the committed file holds it."""
    return msgspec.json.format(msgspec.json.encode(canonical_event_schema()), indent=2) + b"\n"


if __name__ == "__main__":
    SCHEMA_PATH.write_bytes(render())
    print(f"wrote {SCHEMA_PATH}")
