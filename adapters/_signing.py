"""HMAC helpers shared by the vendors' signature schemes: constant-time, any of several secrets."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Sequence

__all__ = ["decode_digest", "hmac_sha256", "signed_by_any"]


def hmac_sha256(secret: bytes, message: bytes) -> bytes:
    """The raw HMAC-SHA256 digest of ``message``."""
    return hmac.new(secret, message, hashlib.sha256).digest()


def decode_digest(text: str) -> bytes | None:
    """Read a SHA-256 digest sent as hex or base64 (standard or URL-safe); None if neither."""
    text = text.strip()
    if len(text) == 64:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    try:
        raw = base64.b64decode(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == hashlib.sha256().digest_size else None


def signed_by_any(message: bytes, candidates: Iterable[bytes], secrets: Sequence[bytes]) -> bool:
    """True when one candidate digest is the HMAC of ``message`` under one of ``secrets``.

    Every pair is compared with ``hmac.compare_digest`` and none is skipped,
    so the time taken says nothing about which secret or digest matched.
    """
    expected = [hmac_sha256(secret, message) for secret in secrets]
    matched = False
    for candidate in candidates:
        for digest in expected:
            matched |= hmac.compare_digest(candidate, digest)
    return matched
