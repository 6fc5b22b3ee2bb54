"""The webhook endpoint: authenticate, read, map, deduplicate, deliver, and only then answer."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import msgspec
import structlog
from starlette.requests import Request
from starlette.responses import Response

from adapters._time import format_utc
from adapters.base import VerifiedRequest
from gateway.body import read_limited_body
from gateway.config import Config
from gateway.dedupe import DedupeStore
from gateway.delivery import Deliverer
from gateway.envelope import event_id
from gateway.errors import GatewayError, PayloadError, UnknownSourceError
from gateway.keylocks import KeyedLocks
from gateway.metrics import UNKNOWN_LABEL, Metrics
from gateway.pipeline import Processed, delivery_id, process
from gateway.sources import Source, SourceTable

__all__ = ["Accepted", "WebhookEndpoint"]

_log = structlog.get_logger("gateway.webhooks")
_ENCODER = msgspec.json.Encoder()


class Accepted(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The 2xx answer: the delivery's id and its events' ids; flags only when they are true."""

    delivery_id: str
    events: list[str]
    note: str | None = None
    spooled: bool = False
    duplicate: bool = False


class WebhookEndpoint:
    """Handles ``POST /webhooks/{provider}[/{source}]`` for every configured source."""

    def __init__(
        self, config: Config, sources: SourceTable, deliverer: Deliverer, dedupe: DedupeStore, metrics: Metrics
    ) -> None:
        self._config = config
        self._sources = sources
        self._deliverer = deliverer
        self._dedupe = dedupe
        self._metrics = metrics
        self._locks = KeyedLocks()

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        provider = request.path_params["provider"]
        source_id = request.path_params.get("source", provider)
        source = self._sources.get((provider, source_id))
        labels = (source.provider, source.id) if source else (UNKNOWN_LABEL, UNKNOWN_LABEL)
        try:
            if source is None:
                raise UnknownSourceError(f"no source {source_id!r} is configured for provider {provider!r}")
            accepted, status, outcome = await self._handle(request, source)
        except GatewayError as exc:
            self._finish(started, labels, (provider, source_id, exc.delivery_id), exc.status_code, exc.problem, 0)
            raise
        where = (provider, source_id, accepted.delivery_id)
        self._finish(started, labels, where, status, outcome, len(accepted.events))
        return Response(_ENCODER.encode(accepted), status_code=status, media_type="application/json")

    async def _handle(self, request: Request, source: Source) -> tuple[Accepted, int, str]:
        headers = dict(request.headers.items())
        source.authenticator.before_body(headers, request.query_params)
        body = await read_limited_body(request, self._config.server.max_body_bytes)
        now = time.time()
        source.authenticator.after_body(body, headers, now)
        received_at = format_utc(datetime.fromtimestamp(now, UTC))
        verified = VerifiedRequest(body=body, headers=headers, source=source.context, received_at=received_at)
        processed = process(source, verified, self._config.topics)
        if processed.error is not None:
            await self._deliverer.deliver(processed.records)
            self._metrics.dead_letters.labels(source.provider, source.id, processed.error.reason).inc()
            error = processed.error
            raise PayloadError(error.reason, error.detail, delivery_id=processed.delivery_id, position=error.position)
        return await self._deliver_once(source, processed)

    async def _deliver_once(self, source: Source, processed: Processed) -> tuple[Accepted, int, str]:
        """Deliver unless this delivery was seen within the window; concurrent repeats wait for the first."""
        async with self._locks.hold((source.id, processed.delivery_key)):
            first_events = self._dedupe.seen(source.id, processed.delivery_key)
            if first_events is not None:
                self._metrics.duplicates.labels(source.provider, source.id).inc()
                return _first_answer(source.id, processed.delivery_key, first_events), 200, "duplicate"
            spooled = await self._deliverer.deliver(processed.records)
            self._dedupe.remember(source.id, processed.delivery_key, len(processed.event_ids))
        for event_type in processed.event_types:
            self._metrics.canonical_events.labels(source.provider, event_type).inc()
        accepted = Accepted(
            delivery_id=processed.delivery_id, events=processed.event_ids, note=processed.note, spooled=spooled
        )
        return accepted, 202, "spooled" if spooled else processed.outcome

    def _finish(
        self,
        started: float,
        labels: tuple[str, str],
        where: tuple[str, str, str | None],
        status: int,
        outcome: str,
        events: int,
    ) -> None:
        """Count the request and log its one line (fields passed, not bound: this runs per request)."""
        elapsed = time.perf_counter() - started
        self._metrics.request_done(labels[0], labels[1], outcome, elapsed)
        provider, source, delivery = where
        _log.info("webhook", source=source, provider=provider, delivery_id=delivery, outcome=outcome, status=status,
                  events=events, duration_ms=round(elapsed * 1000, 3))


def _first_answer(source_id: str, key: str, events: int) -> Accepted:
    """The answer the first copy of a delivery got: its ids are deterministic, so rebuilt, not stored."""
    return Accepted(
        delivery_id=delivery_id(source_id, key),
        events=[event_id(source_id, key, index) for index in range(events)],
        duplicate=True,
    )
