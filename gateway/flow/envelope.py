"""Wrapping an adapter's changes into CloudEvents with deterministic ids."""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Mapping
from urllib.parse import quote

from adapters.base import Mapped, VerifiedRequest
from gateway.ids import Uuid5Namespace
from schemas.canonical import DATASCHEMA, SPECVERSION, CloudEvent

__all__ = ["WEBHOOK_ID_HEADER", "build_events", "delivery_key", "event_id", "source_uri", "unsigned_delivery_id"]

_EVENT_IDS = Uuid5Namespace(uuid.UUID("6f1d9c1e-3a57-5b8e-9d2c-4b7e0a1f2c3d"))


@functools.lru_cache(maxsize=1024)
def source_uri(source_id: str) -> str:
    """The CloudEvents ``source`` of a configured source: a URI reference, so the id is percent-encoded."""
    return "/sources/" + quote(source_id, safe="")


WEBHOOK_ID_HEADER = "webhook-id"
"""Standard Webhooks' delivery id header: a key only where the source's scheme signs it."""


def delivery_key(request: VerifiedRequest, mapped: Mapped | None) -> str:
    """The one rule for a delivery's key: derived only from what the authentication covers.

    The vendor's own id from the body (the mapping's), else the delivery id
    the signature covers (``request.signed_id``), else a hash of the body. An
    unsigned header never keys a delivery: a captured request replayed with a
    new one is still a duplicate. ``mapped`` is None when the body could not be mapped.
    """
    key = (mapped.delivery_key if mapped is not None else None) or request.signed_id
    return key if key else "sha256:" + hashlib.sha256(request.body).hexdigest()


def unsigned_delivery_id(headers: Mapping[str, str], header: str | None, signed_id: str | None) -> str | None:
    """The delivery id a sender put in an unsigned header (the vendor's ``header``, else ``webhook-id``).

    Kept in the archive's meta for people tracing a delivery, never a key;
    None when absent, or when it is the signed id that keyed the delivery.
    """
    value = headers.get(header or WEBHOOK_ID_HEADER, "").strip()
    return value if value and value != signed_id else None


def event_id(source_id: str, key: str, index: int) -> str:
    """UUIDv5 over source, delivery key and index: the same delivery always yields the same ids."""
    return _EVENT_IDS.text(f"{source_id}\n{key}\n{index}")


def build_events(request: VerifiedRequest, mapped: Mapped, key: str) -> list[CloudEvent]:
    """The CloudEvents for one request, in the adapter's order."""
    source_id, provider, received_at = request.source.id, request.source.provider, request.received_at
    uri = source_uri(source_id)
    events = []  # a loop, not a comprehension: the comprehension would make closure cells of these locals
    for index, change in enumerate(mapped.changes):
        events.append(
            CloudEvent(
                specversion=SPECVERSION,
                id=change.id or event_id(source_id, key, index),
                source=uri,
                type=change.type,
                subject=change.data.booking.id,
                time=change.time or received_at,
                dataschema=DATASCHEMA,
                provider=provider,
                receivedat=received_at,
                data=change.data,
            )
        )
    return events
