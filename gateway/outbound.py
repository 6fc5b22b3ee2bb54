"""The record the gateway produces: what the publisher sends and the spool keeps until it is sent."""

from __future__ import annotations

import msgspec

__all__ = ["OutboundRecord"]


class OutboundRecord(msgspec.Struct, frozen=True, array_like=True):
    """One record to produce: where, its key, its bytes and its headers."""

    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]
