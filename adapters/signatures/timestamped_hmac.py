"""``timestamped-hmac``: ``t=<unix>,s=<hex>``, the HMAC-SHA256 of ``<t>.<raw body>``, within a tolerance (OnceHub)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from adapters.base import SignatureError
from adapters.signatures._hmac import HmacScheme, decode_digest

__all__ = ["TimestampedHmac"]

_TIMESTAMP = re.compile(r"[0-9]{1,12}")


@dataclass(frozen=True, kw_only=True, slots=True)
class TimestampedHmac(HmacScheme):
    """``<header>: t=<unix seconds>,s=<hex>[,s=<hex>...]``: one matching ``s`` is enough; ``t`` within ``tolerance_s``."""

    name = "timestamped-hmac"
    header: str
    timestamp_key: str = "t"
    signature_key: str = "s"

    def _timestamp(self, now: float) -> str | None:
        return str(int(now))

    def _content(self, timestamp: str | None, body: bytes) -> bytes:
        return f"{timestamp}.".encode("ascii") + body

    def _read(self, headers: Mapping[str, str], now: float) -> tuple[str | None, list[bytes]]:
        header = headers.get(self.header)
        if header is None:
            raise SignatureError(f"missing {self.header} header")
        timestamp, digests = self._parse(header)
        if abs(now - int(timestamp)) > self.tolerance_s:
            raise SignatureError(f"timestamp outside the {self.tolerance_s} s tolerance")
        return timestamp, digests

    def _parse(self, header: str) -> tuple[str, list[bytes]]:
        timestamps: list[str] = []
        digests: list[bytes | None] = []
        for element in header.split(","):
            key, separator, value = element.strip().partition("=")
            if not separator:
                raise SignatureError(self._malformed())
            if key == self.timestamp_key:
                timestamps.append(value.strip())
            elif key == self.signature_key:
                digests.append(decode_digest(value))
        readable = [digest for digest in digests if digest is not None]
        if len(timestamps) != 1 or not _TIMESTAMP.fullmatch(timestamps[0]) or not readable:
            raise SignatureError(self._malformed())
        return timestamps[0], readable

    def _malformed(self) -> str:
        return (f"malformed {self.header} header: expected one {self.timestamp_key}=<unix seconds> "
                f"and {self.signature_key}=<hex> values")

    def _headers(self, timestamp: str | None, digest: bytes) -> dict[str, str]:
        return {self.header: f"{self.timestamp_key}={timestamp},{self.signature_key}={digest.hex()}"}
