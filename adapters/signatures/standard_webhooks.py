"""``standard-webhooks``: the Standard Webhooks scheme, any source may choose it (``auth = "standard-webhooks"``).

``webhook-id``, ``webhook-timestamp`` and ``webhook-signature: v1,<base64>
[v1,<base64> ...]`` (space-separated while the sender rotates keys); the
HMAC-SHA256 of ``{id}.{timestamp}.{body}`` keyed with the base64-decoded
``whsec_`` secret; timestamps older or newer than ``tolerance_s`` refused.
The id is signed, so it is the delivery key (``signed_id_header``).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Self

from adapters.base import SchemeSettings, SignatureError
from adapters.signatures._hmac import HmacScheme

__all__ = ["ID_HEADER", "SECRET_PREFIX", "SIGNATURE_HEADER", "TIMESTAMP_HEADER", "SecretFormatError", "StandardWebhooks",
           "decode_secret"]

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
SECRET_PREFIX = "whsec_"
_VERSION = "v1"
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_DIGEST_SIZE = hashlib.sha256().digest_size


class SecretFormatError(ValueError):
    """A configured secret that is not ``whsec_<base64>``."""


def decode_secret(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret; SecretFormatError otherwise.

    The spec serializes keys as base64 behind ``whsec_``. A value without the
    prefix is refused rather than guessed at: ``devsecret1234`` is valid base64
    too, so a raw key would silently become another key.
    """
    if not secret.startswith(SECRET_PREFIX):
        raise SecretFormatError(f"a Standard Webhooks secret starts with {SECRET_PREFIX!r} (then the base64 key)")
    encoded = secret[len(SECRET_PREFIX):]
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise SecretFormatError(f"the key after {SECRET_PREFIX!r} is not base64") from None
    if not key:
        raise SecretFormatError(f"the key after {SECRET_PREFIX!r} is empty")
    return key


@dataclass(frozen=True, kw_only=True, slots=True)
class StandardWebhooks(HmacScheme):
    """The Standard Webhooks symmetric scheme (``v1``), headers fixed by the spec.

    ``secrets`` holds the decoded keys; calling the scheme with a source's
    configured ``whsec_`` secrets decodes them. The signed content's prefix,
    ``{id}.{timestamp}``, travels as the base class's signed "timestamp".
    """

    name = "standard-webhooks"
    signed_id_header = ID_HEADER

    def __call__(self, settings: SchemeSettings) -> Self:
        """This scheme keyed for one source: its ``whsec_`` secrets decoded, and the timestamp tolerance."""
        keys = tuple(decode_secret(secret.decode("utf-8")) for secret in settings.secrets)
        return dataclasses.replace(self, secrets=keys, tolerance_s=settings.tolerance_s)

    def signature(self, message_id: str, timestamp: int, body: bytes) -> str:
        """``v1,<base64>``: the signature of one message with the first key, as a sender computes it."""
        digest = self._digest(self.secrets[0], f"{message_id}.{timestamp}", body)
        return f"{_VERSION},{base64.b64encode(digest).decode('ascii')}"

    def sign(self, body: bytes, now: float) -> dict[str, str]:
        """The three headers, the message named by a hash of its timestamp and body (a sender's own id in real life)."""
        timestamp = int(now)
        message_id = "msg_" + hashlib.sha256(b"%d." % timestamp + body).hexdigest()[:26]
        return {ID_HEADER: message_id, TIMESTAMP_HEADER: str(timestamp),
                SIGNATURE_HEADER: self.signature(message_id, timestamp, body)}

    def _content(self, timestamp: str | None, body: bytes) -> bytes:
        return f"{timestamp}.".encode() + body

    def _read(self, headers: Mapping[str, str], now: float) -> tuple[str | None, list[bytes]]:
        message_id = headers.get(ID_HEADER, "").strip()
        timestamp = headers.get(TIMESTAMP_HEADER, "").strip()
        sent = headers.get(SIGNATURE_HEADER, "")
        for name, value in ((ID_HEADER, message_id), (TIMESTAMP_HEADER, timestamp), (SIGNATURE_HEADER, sent.strip())):
            if not value:
                raise SignatureError(f"missing {name} header")
        if "." in message_id:
            raise SignatureError(f"malformed {ID_HEADER} header: a '.' would make the signed content ambiguous")
        if not _TIMESTAMP.fullmatch(timestamp):
            raise SignatureError(f"malformed {TIMESTAMP_HEADER} header: not unix seconds")
        if abs(now - int(timestamp)) > self.tolerance_s:
            raise SignatureError(f"timestamp outside the {self.tolerance_s} s tolerance")
        digests = [digest for digest in map(_v1_digest, sent.split()) if digest is not None]
        if not digests:
            raise SignatureError(f"malformed {SIGNATURE_HEADER} header: no v1,<base64> signature")
        return f"{message_id}.{timestamp}", digests

    def _headers(self, timestamp: str | None, digest: bytes) -> dict[str, str]:
        raise NotImplementedError("sign() builds the Standard Webhooks headers itself")


def _v1_digest(element: str) -> bytes | None:
    """The digest of one ``v1,<base64>`` element; None for another version or an unreadable one."""
    version, separator, encoded = element.partition(",")
    if version != _VERSION or not separator:
        return None
    try:
        digest = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None
    return digest if len(digest) == _DIGEST_SIZE else None
