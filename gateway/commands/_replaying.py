"""Replaying one archived record through the current adapters: the pure step of ``gateway replay``."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

import msgspec

from adapters.base import VerifiedRequest
from gateway.config import Config
from gateway.flow.mapper import apply_repair_limits
from gateway.flow.pipeline import process
from gateway.flow.sources import Source, build_sources
from gateway.kafka.records import META_HEADER, DeliveryMeta, record_header
from gateway.outbound import OutboundRecord
from gateway.trace import TRACEPARENT

__all__ = ["Counts", "Failed", "Replayer", "Window"]

_META = msgspec.json.Decoder(DeliveryMeta)


class Counts(msgspec.Struct, kw_only=True):
    """Running totals; ``mapped`` counts records that gave events, ``events`` the events."""

    read: int = 0
    mapped: int = 0
    events: int = 0
    ignored: int = 0
    skipped: int = 0
    failed: int = 0


class Failed(msgspec.Struct, frozen=True, kw_only=True):
    """A record the current adapters still cannot map (or cannot even attribute), and why."""

    delivery_id: str | None
    source: str | None
    reason: str
    detail: str
    partition: int
    offset: int


class Window(msgspec.Struct, frozen=True, kw_only=True):
    """Which records to replay: one source, received at or after ``since`` and before ``until``."""

    source: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def admits(self, meta: DeliveryMeta) -> bool:
        if self.source is not None and meta.source != self.source:
            return False
        if self.since is None and self.until is None:
            return True
        received = datetime.fromisoformat(meta.received_at)
        return (self.since is None or received >= self.since) and (self.until is None or received < self.until)


class Replayer:
    """Maps archived records again with ``gateway.flow.pipeline.process``, keeping counts and failures."""

    def __init__(self, config: Config, window: Window) -> None:
        apply_repair_limits(config.mapping)  # a replay repairs as the gateway that received the records would
        self._topics = config.topics
        self._max_events = config.mapping.max_events
        self._sources: dict[str, Source] = {s.id: s for s in build_sources(config.sources, os.environ).values()}
        self._window = window
        self.counts = Counts()
        self.failures: list[Failed] = []

    def replay(self, record: Any) -> list[OutboundRecord]:
        """The canonical records ``record`` maps to now; [] when skipped, ignored or failed."""
        self.counts.read += 1
        meta = _meta(record)
        if meta is None:
            return self._fail(record, None, "no-meta", f"no readable {META_HEADER} header: not written by the gateway")
        if not self._window.admits(meta):
            self.counts.skipped += 1
            return []
        source = self._sources.get(meta.source)
        if source is None:
            return self._fail(record, meta, "unknown-source", f"source {meta.source!r} is not in the configuration")
        request = VerifiedRequest(body=record.value or b"", headers=meta.headers, source=source.context,
                                  received_at=meta.received_at, signed_id=source.authenticator.signed_id(meta.headers))
        # The archived record's traceparent: a replayed event joins the trace of the request that first made it.
        traceparent = record_header(record.headers, TRACEPARENT)
        processed = process(source, request, self._topics, self._max_events, traceparent)
        if processed.error is not None:
            return self._fail(record, meta, processed.error.reason, processed.error.detail)
        if not processed.event_ids:
            self.counts.ignored += 1
            return []
        self.counts.mapped += 1
        self.counts.events += len(processed.event_ids)
        return [out for out in processed.records if out.topic == self._topics.canonical]

    def _fail(self, record: Any, meta: DeliveryMeta | None, reason: str, detail: str) -> list[OutboundRecord]:
        self.counts.failed += 1
        self.failures.append(Failed(
            delivery_id=meta.delivery_id if meta else None, source=meta.source if meta else None,
            reason=reason, detail=detail, partition=record.partition, offset=record.offset,
        ))
        return []


def _meta(record: Any) -> DeliveryMeta | None:
    for name, value in record.headers:
        if name == META_HEADER:
            try:
                meta: DeliveryMeta = _META.decode(value)
                datetime.fromisoformat(meta.received_at)
            except (msgspec.DecodeError, ValueError):
                return None
            return meta
    return None
