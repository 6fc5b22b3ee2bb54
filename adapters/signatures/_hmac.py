"""The code path every HMAC scheme shares: the expected digest computed once, for ``sign`` and ``verify`` alike."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Self

from adapters.base import SchemeSettings, SignatureError

__all__ = ["HmacScheme", "decode_digest", "hmac_sha256", "signed_by_any"]


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


def signed_by_any(candidates: Iterable[bytes], expected: Sequence[bytes]) -> bool:
    """True when one candidate digest is one of the ``expected`` ones.

    Every pair is compared with ``hmac.compare_digest`` and none is skipped,
    so the time taken says nothing about which secret or digest matched.
    """
    matched = False
    for candidate in candidates:
        for digest in expected:
            matched |= hmac.compare_digest(candidate, digest)
    return matched


@dataclass(frozen=True, kw_only=True, slots=True)
class HmacScheme:
    """An HMAC-SHA256 scheme: a vendor's settings as fields; called with secrets, the verifier for a source.

    Subclasses say where the signature travels (``_read``, ``_headers``) and
    what is signed (``_content``); ``sign`` and ``verify`` both go through
    ``_digest``, as standard-webhooks' ``Webhook.verify`` calls its ``sign``.
    """

    name: ClassVar[str]
    signed_id_header: ClassVar[str | None] = None
    """The header of a delivery id the signature covers; None where only the body (and a timestamp) is signed."""
    secrets: tuple[bytes, ...] = ()
    tolerance_s: int = 300

    def __call__(self, settings: SchemeSettings) -> Self:
        """This scheme keyed for one source: its secrets (several while rotating) and timestamp tolerance."""
        return dataclasses.replace(self, secrets=tuple(settings.secrets), tolerance_s=settings.tolerance_s)

    def verify(self, body: bytes, headers: Mapping[str, str], now: float) -> None:
        """Return if one sent digest is the HMAC of the signed content under one secret, else raise SignatureError."""
        timestamp, candidates = self._read(headers, now)
        expected = [self._digest(secret, timestamp, body) for secret in self.secrets]
        if not signed_by_any(candidates, expected):
            raise SignatureError("signature does not match")

    def sign(self, body: bytes, now: float) -> dict[str, str]:
        """The headers the vendor would send with ``body`` at ``now``, signed with the first secret."""
        timestamp = self._timestamp(now)
        return self._headers(timestamp, self._digest(self.secrets[0], timestamp, body))

    def _digest(self, secret: bytes, timestamp: str | None, body: bytes) -> bytes:
        return hmac_sha256(secret, self._content(timestamp, body))

    def _timestamp(self, now: float) -> str | None:
        return None

    def _content(self, timestamp: str | None, body: bytes) -> bytes:
        return body

    def _read(self, headers: Mapping[str, str], now: float) -> tuple[str | None, list[bytes]]:
        """The signed timestamp (None when the scheme signs none) and the digests sent; SignatureError if unusable."""
        raise NotImplementedError

    def _headers(self, timestamp: str | None, digest: bytes) -> dict[str, str]:
        raise NotImplementedError
