"""From a verified request to the records that stand for it: map, wrap, archive. No I/O."""

from __future__ import annotations

import uuid

import msgspec
import structlog

from adapters.base import AdapterError, VerifiedRequest
from gateway.config import TopicSettings
from gateway.flow.envelope import build_events, delivery_key, unsigned_delivery_id
from gateway.flow.sources import Source
from gateway.ids import Uuid5Namespace
from gateway.kafka.records import DeliveryMeta, ErrorInfo, archive_record, canonical_records, safe_headers
from gateway.outbound import OutboundRecord
from gateway.types import Outcome

__all__ = ["Processed", "delivery_id", "process"]

_DELIVERY_IDS = Uuid5Namespace(uuid.UUID("0b8e3c52-7d0f-5b64-a3d1-2f6c9e8a4b17"))
_log = structlog.get_logger("gateway.flow.pipeline")


class Processed(msgspec.Struct, frozen=True, kw_only=True):
    """What one request became: its identity, its records, and its error if it could not be mapped."""

    delivery_id: str
    delivery_key: str
    event_ids: list[str]
    event_types: list[str]
    records: list[OutboundRecord]
    subjects: list[str] = []
    """The canonical booking ids its events are about, each once, in order."""
    note: str | None = None
    error: ErrorInfo | None = None

    @property
    def outcome(self) -> Outcome:
        return "dead-lettered" if self.error is not None else _outcome(self.event_ids)


def _outcome(event_ids: list[str]) -> Outcome:
    return "accepted" if event_ids else "ignored"


def delivery_id(source_id: str, key: str) -> str:
    """The gateway's id of a delivery: the same vendor delivery always gets the same one."""
    return _DELIVERY_IDS.text(f"{source_id}\n{key}")


def process(
    source: Source,
    request: VerifiedRequest,
    topics: TopicSettings,
    max_events: int | None = None,
    traceparent: bytes | None = None,
) -> Processed:
    """Map the request and build its canonical, raw and (on failure) dead-letter records, each with ``traceparent``.

    More than ``max_events`` events from one request is a failure too: each costs its records' bytes and
    their delivery, so a sender must not turn one body into an unbounded number of them.
    """
    try:
        mapped = source.adapter.map(request)
        if max_events is not None and len(mapped.changes) > max_events:
            raise AdapterError("invalid-payload", f"{len(mapped.changes)} events in one request, "
                                                  f"more than mapping.max_events ({max_events})")
    except AdapterError as exc:
        return _dead_letter(source, request, topics, exc, traceparent)
    except Exception as exc:  # noqa: BLE001 - an adapter bug must not cost the sender's webhook
        _log.error("adapter raised outside its contract; dead-lettering the body",
                   source=source.id, provider=source.provider, exc_info=exc)
        error = AdapterError("adapter-error", f"{type(exc).__name__} in the {source.provider} adapter")
        return _dead_letter(source, request, topics, error, traceparent)
    key = delivery_key(request, mapped)
    events = build_events(request, mapped, key)
    event_ids = [event.id for event in events]
    processed_id = delivery_id(source.id, key)
    meta = _meta(source, request, key, processed_id, _outcome(event_ids), event_ids=event_ids)
    records = canonical_records(topics.canonical, events, traceparent)
    records.append(archive_record(topics.raw, request.body, meta, traceparent))
    return Processed(
        delivery_id=processed_id,
        delivery_key=key,
        event_ids=event_ids,
        event_types=[event.type for event in events],
        records=records,
        subjects=list(dict.fromkeys(event.subject for event in events)),
        note=mapped.note,
    )


def _dead_letter(
    source: Source, request: VerifiedRequest, topics: TopicSettings, exc: AdapterError, traceparent: bytes | None
) -> Processed:
    key = delivery_key(request, None)
    processed_id = delivery_id(source.id, key)
    error = ErrorInfo(reason=exc.reason, detail=exc.detail, position=exc.position)
    meta = _meta(source, request, key, processed_id, "dead-lettered", error=error)
    records = [
        archive_record(topics.dead_letter, request.body, meta, traceparent),
        archive_record(topics.raw, request.body, meta, traceparent),
    ]
    return Processed(
        delivery_id=processed_id, delivery_key=key, event_ids=[], event_types=[], records=records, error=error
    )


def _meta(
    source: Source,
    request: VerifiedRequest,
    key: str,
    processed_id: str,
    outcome: Outcome,
    *,
    event_ids: list[str] | None = None,
    error: ErrorInfo | None = None,
) -> DeliveryMeta:
    headers = safe_headers(request.headers, source.redacted)
    return DeliveryMeta(
        source=source.id,
        provider=source.provider,
        delivery_id=processed_id,
        delivery_key=key,
        received_at=request.received_at,
        outcome=outcome,
        headers=headers,
        event_ids=event_ids or [],
        error=error,
        unsigned_delivery_id=unsigned_delivery_id(headers, source.adapter.delivery_id_header, request.signed_id),
    )
