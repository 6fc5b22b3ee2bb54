"""The surface every vendor adapter shares: its input, its output, its errors."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

import msgspec

from schemas.canonical import EventData, EventType

__all__ = [
    "Adapter",
    "AdapterError",
    "Change",
    "DeliveryHeaders",
    "ErrorReason",
    "Mapped",
    "ReplyFunction",
    "SchemeSettings",
    "SignatureError",
    "SignatureScheme",
    "SignatureSchemeFactory",
    "SourceContext",
    "VendorReply",
    "VerifiedRequest",
]


class SourceContext(msgspec.Struct, frozen=True, kw_only=True):
    """What an adapter may know of the configured source a request came to."""

    id: str
    provider: str
    timezone: str | None = None


class VerifiedRequest(msgspec.Struct, frozen=True, kw_only=True):
    """An authenticated request: raw body bytes, lower-cased headers, when it came.

    ``signed_id`` is the delivery id the source's signature covers (Standard
    Webhooks' ``webhook-id``), set by the gateway after authentication; None
    when the scheme signs no id. Adapters never take a delivery key from
    ``headers``: no signature covers them.
    """

    body: bytes
    headers: Mapping[str, str]
    source: SourceContext
    received_at: str
    signed_id: str | None = None


class Change(msgspec.Struct, frozen=True, kw_only=True):
    """One canonical event before its envelope: what happened, and when at the vendor.

    ``id`` is the CloudEvent id when the sender chose it (the ``canonical``
    passthrough); None, the usual, derives it from the delivery key.
    """

    type: EventType
    data: EventData
    time: str | None = None
    id: str | None = None


class Mapped(msgspec.Struct, frozen=True, kw_only=True):
    """What an adapter made of one request.

    ``delivery_key`` is the vendor's own delivery or event id when its BODY
    holds one, never a header's (the gateway falls back to the signed id,
    then to a hash of the body: ``gateway.flow.envelope.delivery_key``). ``note`` says why a
    request yields no event (a test ping, a non-booking event).
    """

    changes: list[Change]
    delivery_key: str | None = None
    note: str | None = None


ErrorReason = Literal["malformed-json", "invalid-payload", "unsupported-event", "adapter-error"]
"""Why a payload could not be mapped: the stable slug of an AdapterError, a dead letter, a 422."""


class AdapterError(Exception):
    """A payload that cannot be parsed, repaired or mapped.

    ``reason`` is a stable machine-readable slug (``malformed-json``,
    ``invalid-payload``, ``unsupported-event``, ``adapter-error``); ``detail`` is for people and
    keeps msgspec's ``$.path`` text unchanged; ``position`` is the byte offset
    of a syntax error when there is one.
    """

    def __init__(self, reason: ErrorReason, detail: str, *, position: int | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.position = position


class SignatureError(Exception):
    """A request whose vendor signature is missing, malformed, wrong or stale."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SignatureScheme(Protocol):
    """A vendor's signature check, shaped like standard-webhooks' ``Webhook.verify``.

    ``signed_id_header`` names the header holding a delivery id the signature
    covers (Standard Webhooks' ``webhook-id``); None when the scheme signs only
    the body (and a timestamp).
    """

    @property
    def signed_id_header(self) -> str | None:
        """The header of a delivery id this scheme signs, or None."""

    def verify(self, body: bytes, headers: Mapping[str, str], now: float) -> None:
        """Return if the signature over the raw ``body`` is valid, else raise SignatureError."""

    def sign(self, body: bytes, now: float) -> dict[str, str]:
        """The headers the vendor would send with ``body`` at ``now``, signed with the first secret."""


class SchemeSettings(msgspec.Struct, frozen=True, kw_only=True):
    """What a source configures for its signature scheme; each scheme reads the settings it needs."""

    secrets: tuple[bytes, ...]
    tolerance_s: int = 300
    notification_url: str | None = None
    """The public URL the vendor signs with the body (Square), byte for byte as set in its dashboard."""


SignatureSchemeFactory = Callable[[SchemeSettings], SignatureScheme]
"""Builds a source's scheme from its settings: secrets (several while rotating), tolerance, signed URL."""


class VendorReply(msgspec.Struct, frozen=True, kw_only=True):
    """A body the vendor expects in a 200 answer instead of the gateway's own (Zoom's URL validation)."""

    body: bytes
    content_type: str = "application/json"


ReplyFunction = Callable[[VerifiedRequest, bytes], VendorReply | None]
"""Pure: the authenticated request and the source's (first) secret to the vendor's expected answer, or None."""

DeliveryHeaders = Callable[[bytes, str], dict[str, str]]
"""The headers a vendor sends with a body beside its signature, for a delivery id (``gateway sign`` prints them)."""


@dataclass(frozen=True, slots=True)
class Adapter:
    """A registered vendor: its name, its pure mapping, the signature scheme it uses and the other headers it sends.

    ``signature`` is a scheme from ``adapters.signatures`` with the vendor's
    settings (its header name, prefix); None when the vendor does not sign.
    """

    name: str
    map: Callable[[VerifiedRequest], Mapped]
    signature: SignatureSchemeFactory | None = None
    delivery_headers: DeliveryHeaders | None = None
    delivery_id_header: str | None = None
    """The header the vendor sends its delivery id in, unsigned: archived in the raw record's meta, never a key."""
    needs_timezone: bool = False
    """The vendor sends local times, so its sources set ``timezone`` (dev, deploy and test configs do)."""
    reply: ReplyFunction | None = None
    """Answers requests whose 200 body the vendor computes from (a challenge); the request is archived as usual."""
    needs_notification_url: bool = False
    """The vendor signs the URL it posts to, so its ``hmac`` sources set ``notification_url`` (a config check)."""
    display_name: str | None = None
    """How the vendor spells itself where people read it (the README's rows and headings), when not ``name``
    in another case: ``Cal.com`` for ``calcom``."""

    @property
    def spelled(self) -> str:
        """The vendor's name as people read it, lower-cased: ``display_name`` or ``name``."""
        return (self.display_name or self.name).lower()

    @property
    def default_auth(self) -> Literal["hmac", "token"]:
        """How a source of this vendor authenticates unless told otherwise: its signature, else a token."""
        return "hmac" if self.signature is not None else "token"
