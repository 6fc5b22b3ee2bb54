"""``url-hmac``: the base64 HMAC-SHA256 of the notification URL followed by the raw body, no timestamp (Square)."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Self

from adapters.base import SchemeSettings, SignatureError
from adapters.signatures._hmac import HmacScheme, decode_digest

__all__ = ["UrlHmac"]


@dataclass(frozen=True, kw_only=True, slots=True)
class UrlHmac(HmacScheme):
    """``<header>: <base64 digest>`` over ``<notification_url><raw body>``.

    ``notification_url`` is the source's setting: the public URL as typed in
    the vendor's dashboard, byte for byte, which behind a proxy is not the
    URL the gateway sees. Without one nothing verifies.
    """

    name = "url-hmac"
    header: str
    notification_url: str | None = None

    def __call__(self, settings: SchemeSettings) -> Self:
        """Keyed for one source, with the URL it is known by at the vendor."""
        keyed = HmacScheme.__call__(self, settings)
        return dataclasses.replace(keyed, notification_url=settings.notification_url)

    def _content(self, timestamp: str | None, body: bytes) -> bytes:
        if self.notification_url is None:
            raise SignatureError("no notification_url is configured for this source")
        return self.notification_url.encode("utf-8") + body

    def _read(self, headers: Mapping[str, str], now: float) -> tuple[str | None, list[bytes]]:
        sent = headers.get(self.header, "").strip()
        if not sent:
            raise SignatureError(f"missing {self.header} header")
        digest = decode_digest(sent)
        if digest is None:
            raise SignatureError(f"malformed {self.header} header: not a base64 SHA-256 digest")
        return None, [digest]

    def _headers(self, timestamp: str | None, digest: bytes) -> dict[str, str]:
        return {self.header: base64.b64encode(digest).decode("ascii")}
