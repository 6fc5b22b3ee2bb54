"""``header-timestamp-hmac``: ``v0=<hex>`` over ``v0:<timestamp header>:<raw body>``, within a tolerance (Zoom)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from adapters.base import SignatureError
from adapters.signatures._hmac import HmacScheme

__all__ = ["HeaderTimestampHmac"]

_TIMESTAMP = re.compile(r"[0-9]{1,15}")
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")
# Above this a timestamp is read as milliseconds: seconds reach it in the year 5138, milliseconds passed it in 1973.
_MILLISECONDS_FROM = 100_000_000_000


@dataclass(frozen=True, kw_only=True, slots=True)
class HeaderTimestampHmac(HmacScheme):
    """The signature in ``header`` as ``<version>=<hex>``, its timestamp in ``timestamp_header``.

    The signed content is ``<version>:<timestamp>:<raw body>``, the timestamp
    exactly as sent. Its unit is not documented (Zoom), so a value past
    ``10**11`` is read as milliseconds, any other as seconds; either way it
    must lie within ``tolerance_s`` of now.
    """

    name = "header-timestamp-hmac"
    header: str
    timestamp_header: str
    version: str = "v0"

    def _timestamp(self, now: float) -> str | None:
        return str(int(now))

    def _content(self, timestamp: str | None, body: bytes) -> bytes:
        return f"{self.version}:{timestamp}:".encode("ascii") + body

    def _read(self, headers: Mapping[str, str], now: float) -> tuple[str | None, list[bytes]]:
        sent = headers.get(self.header, "").strip()
        if not sent:
            raise SignatureError(f"missing {self.header} header")
        timestamp = headers.get(self.timestamp_header, "").strip()
        if not timestamp:
            raise SignatureError(f"missing {self.timestamp_header} header")
        if not _TIMESTAMP.fullmatch(timestamp):
            raise SignatureError(f"malformed {self.timestamp_header} header: not a unix timestamp")
        seconds = int(timestamp) / (1000 if int(timestamp) >= _MILLISECONDS_FROM else 1)
        if abs(now - seconds) > self.tolerance_s:
            raise SignatureError(f"timestamp outside the {self.tolerance_s} s tolerance")
        version, separator, digest = sent.partition("=")
        if not separator or version != self.version or not _HEX_DIGEST.fullmatch(digest):
            raise SignatureError(f"malformed {self.header} header: expected {self.version}=<hex SHA-256>")
        return timestamp, [bytes.fromhex(digest)]

    def _headers(self, timestamp: str | None, digest: bytes) -> dict[str, str]:
        return {self.header: f"{self.version}={digest.hex()}", self.timestamp_header: str(timestamp)}
