"""Deterministic ids: UUIDv5 as strings, without building uuid.UUID objects on the hot path."""

from __future__ import annotations

import hashlib
import uuid

__all__ = ["Uuid5Namespace"]

_VARIANT = "89ab"
"""The hex digit of byte 8's high nibble once the RFC variant bits (10xx) are set, by its low two bits."""


class Uuid5Namespace:
    """A namespace hashed once, so each id hashes only its name."""

    __slots__ = ("_hashed",)

    def __init__(self, namespace: uuid.UUID) -> None:
        self._hashed = hashlib.sha1(namespace.bytes)

    def text(self, name: str) -> str:
        """``str(uuid.uuid5(namespace, name))``."""
        digest = self._hashed.copy()
        digest.update(name.encode())
        return _uuid_text(digest.digest())


def _uuid_text(digest: bytes) -> str:
    """The first 16 bytes of a SHA-1 digest as a version-5 UUID string."""
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-5{text[13:16]}-{_VARIANT[(digest[8] >> 4) & 3]}{text[17:20]}-{text[20:32]}"
