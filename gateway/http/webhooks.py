"""The webhook endpoint: authenticate, read, map, deduplicate, deliver, and only then answer.

A plain ASGI app for every path under ``/webhooks/``: the one route that
carries traffic crosses no middleware and builds no Request or Response
objects. It answers every outcome itself, errors as problem documents.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import NamedTuple
from urllib.parse import parse_qsl

import msgspec
import structlog
from starlette.types import Message, Receive, Scope, Send

from adapters.base import VendorReply, VerifiedRequest
from gateway.clock import received_at_text
from gateway.config import Config
from gateway.errors import (
    PROBLEM_TYPE_BASE,
    BodyTooLargeError,
    GatewayError,
    InProgressError,
    NoRoomError,
    PayloadError,
    RecordTooLargeError,
    RequestTimeoutError,
    UnknownSourceError,
)
from gateway.flow.envelope import event_id
from gateway.flow.mapper import Mapper
from gateway.flow.pipeline import Processed, delivery_id
from gateway.flow.sources import Source, SourceTable
from gateway.http.problems import gateway_problem, http_problem, internal_error_problem
from gateway.http.protocol import READ_TIMED_OUT
from gateway.kafka.delivery import Delivered, Deliverer
from gateway.kafka.refusals import RecordTooLarge
from gateway.ops.log_lines import DeadLetterReason, Webhook
from gateway.ops.logging import log_request
from gateway.ops.metrics import UNKNOWN_LABEL, Metrics
from gateway.outbound import OutboundRecord
from gateway.storage.claims import Claims
from gateway.storage.spool import SpoolFullError
from gateway.trace import Trace, request_trace
from gateway.types import Outcome

__all__ = ["WEBHOOK_PREFIX", "Accepted", "WebhookEndpoint", "content_length"]

WEBHOOK_PREFIX = "/webhooks/"
_log = structlog.get_logger("gateway.http.webhooks")
_ENCODER = msgspec.json.Encoder()
_JSON = b"application/json"
_NO_QUERY: Mapping[str, str] = {}
_INTERNAL_ERROR = PROBLEM_TYPE_BASE + "internal-error"


class Accepted(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The 2xx answer: the delivery's id and its events' ids; flags only when they are true."""

    delivery_id: str
    events: list[str]
    note: str | None = None
    spooled: bool = False
    duplicate: bool = False


class ClientGone(Exception):
    """The sender hung up before its body arrived: there is nobody to answer and nothing to keep."""


class WebhookEndpoint:
    """Handles ``POST /webhooks/{provider}[/{source}]`` for every configured source."""

    def __init__(
        self,
        config: Config,
        sources: SourceTable,
        deliverer: Deliverer,
        claims: Claims,
        metrics: Metrics,
        mapper: Mapper,
    ) -> None:
        self._config = config
        self._mapper = mapper
        self._max_body_bytes = config.server.max_body_bytes
        self._body_timeout_s = config.server.body_timeout_s
        self._sources = sources
        self._deliverer = deliverer
        self._claims = claims
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        route = path[len(WEBHOOK_PREFIX):].split("/")
        if len(route) > 2 or not all(route):
            await http_problem(404, scope["method"], path)(scope, receive, send)
            return
        if scope["method"] != "POST":
            await http_problem(405, scope["method"], path, headers={"Allow": "POST"})(scope, receive, send)
            return
        provider = route[0]
        source_id = route[-1]
        await self._answer(scope, receive, send, provider, source_id)

    async def _answer(self, scope: Scope, receive: Receive, send: Send, provider: str, source_id: str) -> None:
        """Handle one request to a well-formed webhook URL: count it, log its line, answer it."""
        started = time.perf_counter()
        trace = request_trace(scope["headers"])
        request = _Request(started, provider, source_id, trace)
        source = self._sources.get((provider, source_id))
        labels = (source.provider, source.id) if source else (UNKNOWN_LABEL, UNKNOWN_LABEL)
        try:
            if source is None:
                raise UnknownSourceError(f"no source {source_id!r} is configured for provider {provider!r}")
            accepted, status, outcome, reply, processed = await self._handle(scope, receive, source, trace)
        except PayloadError as exc:
            self._finish(request, labels, exc.delivery_id, exc.status_code, exc.problem, problem=exc.problem_type,
                         reason=exc.reason, position=msgspec.UNSET if exc.position is None else exc.position)
            await gateway_problem(exc, scope["path"])(scope, receive, send)
            return
        except GatewayError as exc:
            self._finish(request, labels, exc.delivery_id, exc.status_code, exc.problem, problem=exc.problem_type)
            await gateway_problem(exc, scope["path"])(scope, receive, send)
            return
        except ClientGone:
            self._finish(request, labels, None, 499, "client-gone")
            return
        except Exception as exc:  # noqa: BLE001 - a bug must still get an answer, and be logged
            _log.error("unhandled error", path=scope["path"], exc_info=exc)
            self._finish(request, labels, None, 500, "internal-error", problem=_INTERNAL_ERROR)
            await internal_error_problem(scope["path"])(scope, receive, send)
            return
        if reply is not None:  # the vendor's own expected answer (a challenge), once the request is archived
            status, body, content_type = 200, reply.body, reply.content_type.encode("latin-1")
        else:
            body, content_type = _ENCODER.encode(accepted), _JSON
        self._finish(request, labels, accepted.delivery_id, status, outcome, events=len(accepted.events),
                     event_types=processed.event_types, subjects=processed.subjects)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", content_type), (b"content-length", b"%d" % len(body))]})
        await send({"type": "http.response.body", "body": body})

    async def _handle(
        self, scope: Scope, receive: Receive, source: Source, trace: Trace
    ) -> tuple[Accepted, int, Outcome, VendorReply | None, Processed]:
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        query_string: bytes = scope["query_string"]
        query = dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)) if query_string else _NO_QUERY
        source.authenticator.before_body(headers, query)
        body = await self._read_body(scope, receive, headers.get("content-length"))
        now = time.time()
        source.authenticator.after_body(body, headers, now)
        verified = VerifiedRequest(body=body, headers=headers, source=source.context, received_at=received_at_text(now),
                                   signed_id=source.authenticator.signed_id(headers))
        processed = await self._mapper.process(source, verified, trace.traceparent)
        if processed.error is not None:
            await self._deliver(processed.records)
            self._metrics.dead_letters.labels(source.provider, source.id, processed.error.reason).inc()
            error = processed.error
            raise PayloadError(error.reason, error.detail, delivery_id=processed.delivery_id, position=error.position)
        reply = source.reply(verified) if source.reply is not None else None
        accepted, status, outcome = await self._deliver_once(source, processed)
        return accepted, status, outcome, reply, processed

    async def _read_body(self, scope: Scope, receive: Receive, declared: str | None) -> bytes:
        """The whole body, refused as soon as the declared or streamed size passes the limit, or its time is up."""
        limit = self._max_body_bytes
        if declared is not None and content_length(declared) > limit:
            raise BodyTooLargeError(limit)
        message: Message = await receive()
        chunks: list[bytes] = []
        size = 0
        while True:
            if message["type"] == "http.disconnect":
                raise ClientGone()
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise BodyTooLargeError(limit)
            if not message.get("more_body", False):
                if not chunks:
                    return chunk
                chunks.append(chunk)
                return b"".join(chunks)
            if READ_TIMED_OUT in scope:  # set by the connection when body_timeout_s passed
                raise RequestTimeoutError("body", self._body_timeout_s)
            chunks.append(chunk)
            message = await receive()

    async def _deliver(self, records: Sequence[OutboundRecord]) -> Delivered:
        """Deliver, acknowledged or spooled; a full spool is the sender's 503, a record too large its 413."""
        try:
            return await self._deliverer.deliver(records)
        except SpoolFullError as exc:
            raise NoRoomError(exc.detail, retry_after_s=exc.retry_after_s) from None
        except RecordTooLarge as exc:
            raise RecordTooLargeError(str(exc), topic=exc.topic, size=exc.size, limit=exc.limit) from None

    async def _deliver_once(self, source: Source, processed: Processed) -> tuple[Accepted, int, Outcome]:
        """Deliver unless this delivery was seen within the window; concurrent copies, wherever, wait for the first."""
        key = processed.delivery_key
        claim = await self._claims.claim(source.id, key)
        if claim.outcome == "duplicate":
            self._metrics.duplicates.labels(source.provider, source.id).inc()
            return _first_answer(source.id, processed, claim.events), 200, "duplicate"
        if claim.outcome == "in-progress":
            raise InProgressError("another copy of this delivery is still being published; retry",
                                  delivery_id=processed.delivery_id, retry_after_s=1)
        if claim.outcome == "unavailable":
            self._metrics.dedupe_fail_open.labels(source.provider, source.id).inc()
        try:
            spooled = await self._deliver(processed.records) == "spooled"
        except BaseException:
            await self._claims.release(source.id, key)
            raise
        await self._claims.confirm(source.id, key, len(processed.event_ids))
        self._metrics.events_published(source.provider, processed.event_types)
        accepted = Accepted(
            delivery_id=processed.delivery_id, events=processed.event_ids, note=processed.note, spooled=spooled
        )
        return accepted, 202, "spooled" if spooled else processed.outcome

    def _finish(
        self,
        request: _Request,
        labels: tuple[str, str],
        delivery: str | None,
        status: int,
        outcome: Outcome,
        *,
        events: int = 0,
        event_types: list[str] | None = None,
        subjects: list[str] | None = None,
        problem: str | msgspec.UnsetType = msgspec.UNSET,
        reason: DeadLetterReason | msgspec.UnsetType = msgspec.UNSET,
        position: int | msgspec.UnsetType = msgspec.UNSET,
    ) -> None:
        """Count the request and log its one line."""
        elapsed = time.perf_counter() - request.started
        self._metrics.request_done(labels[0], labels[1], outcome, elapsed)
        log_request(Webhook(
            source=request.source_id, provider=request.provider, delivery_id=delivery, outcome=outcome, status=status,
            events=events, duration_ms=round(elapsed * 1000, 3), event_types=event_types or [],
            subjects=subjects or [], trace_id=request.trace.trace_id, span_id=request.trace.span_id, problem=problem,
            reason=reason, position=position,
        ))


class _Request(NamedTuple):
    """What the request's line needs from its start: when, its URL's provider and source, its trace."""

    started: float
    provider: str
    source_id: str
    trace: Trace


def content_length(declared: str) -> int:
    """A Content-Length value as a number: ASCII digits only (``str.isdigit`` also takes "\\xb2"), else 400."""
    text = declared.strip(" \t")
    if not (text.isascii() and text.isdigit()):
        raise GatewayError(f"Content-Length {declared!r} is not a number")
    return int(text)


def _first_answer(source_id: str, repeat: Processed, events: int) -> Accepted:
    """The answer the first copy of a delivery got: its ids are deterministic, so rebuilt, not stored.

    A repeat that maps to as many events has the first copy's ids (derived from the same key, or, for a sender
    that chooses its ids, sent again); otherwise they are derived from the key.
    """
    key = repeat.delivery_key
    ids = repeat.event_ids if len(repeat.event_ids) == events else [
        event_id(source_id, key, index) for index in range(events)]
    return Accepted(delivery_id=delivery_id(source_id, key), events=ids, duplicate=True)
