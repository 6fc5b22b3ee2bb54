"""Deterministic ids: UUIDv5 as strings, without building uuid.UUID objects on the hot path."""

from __future__ import annotations

import hashlib
import uuid

__all__ = ["uuid5_text"]


def uuid5_text(namespace: uuid.UUID, name: str) -> str:
    """``str(uuid.uuid5(namespace, name))``, computed directly (RFC 9562 section 5.5)."""
    digest = bytearray(hashlib.sha1(namespace.bytes + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
