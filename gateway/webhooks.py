"""The webhook endpoint: authenticate, read, map, publish, and only then answer."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import msgspec
import structlog
from starlette.requests import Request
from starlette.responses import Response

from adapters._time import format_utc
from adapters.base import AdapterError, Mapped, VerifiedRequest
from gateway.body import read_limited_body
from gateway.config import Config
from gateway.envelope import build_events, delivery_key
from gateway.errors import GatewayError, PayloadError, UnknownSourceError
from gateway.publisher import Publisher
from gateway.records import DeliveryMeta, ErrorInfo, OutboundRecord, archive_record, canonical_records, safe_headers
from gateway.sources import Source, SourceTable

__all__ = ["Accepted", "WebhookEndpoint"]

_log = structlog.get_logger("gateway.webhooks")
_ENCODER = msgspec.json.Encoder()
_DELIVERY_NAMESPACE = uuid.UUID("0b8e3c52-7d0f-5b64-a3d1-2f6c9e8a4b17")


class Accepted(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The 2xx answer: the delivery's id and the ids of the events made from it."""

    delivery_id: str
    events: list[str]
    note: str | None = None


class WebhookEndpoint:
    """Handles ``POST /webhooks/{provider}[/{source}]`` for every configured source."""

    def __init__(self, config: Config, sources: SourceTable, publisher: Publisher) -> None:
        self._config = config
        self._sources = sources
        self._publisher = publisher

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        provider = request.path_params["provider"]
        source_id = request.path_params.get("source", provider)
        with structlog.contextvars.bound_contextvars(provider=provider, source=source_id, delivery_id=None):
            try:
                accepted, status = await self._handle(request, provider, source_id)
            except GatewayError as exc:
                self._log_request(started, exc.status_code, outcome=exc.problem, events=0)
                raise
            self._log_request(started, status, outcome="accepted", events=len(accepted.events))
            return Response(_ENCODER.encode(accepted), status_code=status, media_type="application/json")

    async def _handle(self, request: Request, provider: str, source_id: str) -> tuple[Accepted, int]:
        source = self._sources.get((provider, source_id))
        if source is None:
            raise UnknownSourceError(f"no source {source_id!r} is configured for provider {provider!r}")
        headers = {name: value for name, value in request.headers.items()}
        source.authenticator.before_body(headers, request.query_params)
        body = await read_limited_body(request, self._config.server.max_body_bytes)
        now = time.time()
        source.authenticator.after_body(body, headers, now)
        verified = VerifiedRequest(
            body=body,
            headers=headers,
            source=source.context,
            received_at=format_utc(datetime.fromtimestamp(now, UTC)),
        )
        return await self._process(source, verified), 202

    async def _process(self, source: Source, request: VerifiedRequest) -> Accepted:
        try:
            mapped = source.adapter.map(request)
        except AdapterError as exc:
            raise await self._dead_letter(source, request, exc) from None
        key = delivery_key(mapped.delivery_key, request.body)
        delivery_id = _delivery_id(source.id, key)
        structlog.contextvars.bind_contextvars(delivery_id=delivery_id)
        events = build_events(request, mapped, key)
        topics = self._config.topics
        records = canonical_records(topics.canonical, events)
        event_ids = [event.id for event in events]
        meta = _meta(source, request, key, delivery_id, _outcome(mapped), event_ids=event_ids)
        records.append(archive_record(topics.raw, request.body, meta))
        await self._publisher.publish(records)
        return Accepted(delivery_id=delivery_id, events=event_ids, note=mapped.note)

    async def _dead_letter(self, source: Source, request: VerifiedRequest, exc: AdapterError) -> PayloadError:
        """Archive the body and the reason on the dead-letter and raw topics; the error to answer with."""
        key = delivery_key(None, request.body)
        delivery_id = _delivery_id(source.id, key)
        structlog.contextvars.bind_contextvars(delivery_id=delivery_id, reason=exc.reason)
        error = ErrorInfo(reason=exc.reason, detail=exc.detail, position=exc.position)
        meta = _meta(source, request, key, delivery_id, "dead-lettered", error=error)
        topics = self._config.topics
        records: list[OutboundRecord] = [
            archive_record(topics.dead_letter, request.body, meta),
            archive_record(topics.raw, request.body, meta),
        ]
        await self._publisher.publish(records)
        return PayloadError(exc.reason, exc.detail, delivery_id=delivery_id, position=exc.position)

    def _log_request(self, started: float, status: int, *, outcome: str, events: int) -> None:
        duration_ms = round((time.perf_counter() - started) * 1000, 3)
        _log.info("webhook", outcome=outcome, status=status, events=events, duration_ms=duration_ms)


def _delivery_id(source_id: str, key: str) -> str:
    return str(uuid.uuid5(_DELIVERY_NAMESPACE, f"{source_id}\n{key}"))


def _outcome(mapped: Mapped) -> str:
    return "accepted" if mapped.changes else "ignored"


def _meta(
    source: Source,
    request: VerifiedRequest,
    key: str,
    delivery_id: str,
    outcome: str,
    *,
    event_ids: list[str] | None = None,
    error: ErrorInfo | None = None,
) -> DeliveryMeta:
    return DeliveryMeta(
        source=source.id,
        provider=source.provider,
        delivery_id=delivery_id,
        delivery_key=key,
        received_at=request.received_at,
        outcome=outcome,
        headers=safe_headers(request.headers),
        event_ids=event_ids or [],
        error=error,
    )
