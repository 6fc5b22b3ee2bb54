"""The Kafka records the gateway writes: canonical events, the raw archive, dead letters."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

import msgspec

from adapters.base import ErrorReason
from gateway.kafka.redaction import redact
from gateway.outbound import OutboundRecord
from gateway.trace import TRACEPARENT
from gateway.types import Outcome
from schemas.canonical import SPECVERSION, CloudEvent

__all__ = [
    "CLOUDEVENTS_CONTENT_TYPE",
    "META_HEADER",
    "DeliveryMeta",
    "ErrorInfo",
    "archive_record",
    "canonical_records",
    "record_header",
    "safe_headers",
]

CLOUDEVENTS_CONTENT_TYPE = b"application/cloudevents+json; charset=utf-8"
META_HEADER = "gateway-meta"
_CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
_CREDENTIAL_WORDS = ("signature", "token", "secret", "api-key", "apikey", "password", "auth")
_ENCODER = msgspec.json.Encoder()
_SPECVERSION = SPECVERSION.encode()


class ErrorInfo(msgspec.Struct, frozen=True, kw_only=True):
    """Why a request could not be turned into canonical events (machine-readable)."""

    reason: ErrorReason
    detail: str
    position: int | None = None


class DeliveryMeta(msgspec.Struct, frozen=True, kw_only=True):
    """What the raw and dead-letter records say about the request they archive.

    ``headers`` never holds credentials or signatures (``safe_headers``); the query string is not kept.
    """

    source: str
    provider: str
    delivery_id: str
    delivery_key: str
    received_at: str
    outcome: Outcome
    headers: dict[str, str]
    event_ids: list[str] = []
    error: ErrorInfo | None = None
    unsigned_delivery_id: str | None = None
    """The vendor's delivery id from a header no signature covers: for tracing only, never the key."""


@functools.lru_cache(maxsize=1024)
def _may_carry_credentials(name: str) -> bool:
    return name in _CREDENTIAL_HEADERS or any(word in name for word in _CREDENTIAL_WORDS)


def record_header(headers: Sequence[tuple[str, bytes]], name: str) -> bytes | None:
    """The first value of a Kafka record header, or None."""
    for key, value in headers:
        if key == name:
            return value
    return None


def safe_headers(headers: Mapping[str, str], secrets: Sequence[str] = ()) -> dict[str, str]:
    """The request headers minus anything that could carry a credential or signature.

    Headers named like credentials are dropped; every other value has its
    credentials redacted (``redact``: query parameters named like one, URL
    userinfo, and the source's own ``secrets`` wherever they appear).
    """
    return {name: redact(value, secrets) for name, value in headers.items() if not _may_carry_credentials(name)}


def canonical_records(
    topic: str, events: Sequence[CloudEvent], traceparent: bytes | None = None
) -> list[OutboundRecord]:
    """One structured-mode CloudEvents record per event, keyed by subject, with ``ce_`` headers (and ``traceparent``)."""
    records = []
    for event in events:
        subject = event.subject.encode()
        headers = [
            ("content-type", CLOUDEVENTS_CONTENT_TYPE),
            ("ce_specversion", _SPECVERSION),
            ("ce_type", event.type.encode()),
            ("ce_id", event.id.encode()),
            ("ce_source", event.source.encode()),
            ("ce_subject", subject),
        ]
        if traceparent is not None:
            headers.append((TRACEPARENT, traceparent))
        records.append(OutboundRecord(topic=topic, key=subject, value=_ENCODER.encode(event), headers=headers))
    return records


def archive_record(topic: str, body: bytes, meta: DeliveryMeta, traceparent: bytes | None = None) -> OutboundRecord:
    """A raw or dead-letter record: the body byte for byte, what is known of it in a header (and ``traceparent``)."""
    headers = [(META_HEADER, _ENCODER.encode(meta))]
    if traceparent is not None:
        headers.append((TRACEPARENT, traceparent))
    content_type = meta.headers.get("content-type")
    if content_type:
        headers.append(("content-type", content_type.encode()))
    return OutboundRecord(topic=topic, key=meta.source.encode(), value=body, headers=headers)
