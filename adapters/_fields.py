"""Custom-field answers, as the contract's strings: text as sent, anything else as its JSON."""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["field_value"]

_JSON = msgspec.json.Encoder()


def field_value(value: Any) -> str | list[str] | None:
    """A string as sent, a list item by item, any other JSON value as its JSON text."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        return [item if isinstance(item, str) else _JSON.encode(item).decode() for item in value]
    return _JSON.encode(value).decode()
