"""``hex-hmac``: the HMAC-SHA256 of the raw body in one header, no timestamp (Timekit, SchedulingKit)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from adapters.base import SignatureError
from adapters.signatures._hmac import HmacScheme, decode_digest

__all__ = ["HexHmac"]


@dataclass(frozen=True, kw_only=True, slots=True)
class HexHmac(HmacScheme):
    """``<header>: [<prefix>]<hex digest>``; hex or base64 is read, hex is sent.

    ``prefix`` (``sha256=``) is dropped when sent, in any case; ``documented``
    is how the vendor documents its digest, as the malformed-header reason
    names it; ``unsigned`` is what the vendor sends instead of a digest when
    no secret is set (Cal.com's ``no-secret-provided``), refused with a reason
    that says so. No timestamp is signed, so ``tolerance_s`` has nothing to bound.
    """

    name = "hex-hmac"
    header: str
    prefix: str | None = None
    documented: str = "hex"
    unsigned: str | None = None

    def _read(self, headers: Mapping[str, str], now: float) -> tuple[str | None, list[bytes]]:
        sent = headers.get(self.header, "").strip()
        if not sent:
            raise SignatureError(f"missing {self.header} header")
        if self.unsigned is not None and sent == self.unsigned:
            raise SignatureError(f"{self.header} is {sent!r}: the webhook has no secret at the vendor; set one there, "
                                 "or serve this source with auth = \"none\"")
        if self.prefix and sent[: len(self.prefix)].lower() == self.prefix:
            sent = sent[len(self.prefix):]
        digest = decode_digest(sent)
        if digest is None:
            raise SignatureError(f"malformed {self.header} header: not a {self.documented} SHA-256 digest")
        return None, [digest]

    def _headers(self, timestamp: str | None, digest: bytes) -> dict[str, str]:
        return {self.header: digest.hex()}
