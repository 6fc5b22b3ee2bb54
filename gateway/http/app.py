"""The Starlette application: routes, error rendering, and the lifecycle of producer, spool and dedupe store."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import structlog
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from gateway.config import Config, load_config
from gateway.flow.mapper import Mapper
from gateway.flow.sources import build_sources
from gateway.http.problems import http_error_response, unexpected_error_response
from gateway.http.protocol import EDGE_METRICS
from gateway.http.webhooks import WEBHOOK_PREFIX, WebhookEndpoint
from gateway.kafka.delivery import Deliverer
from gateway.kafka.publisher import ProducerRefusal, Publisher
from gateway.ops.logging import configure_logging
from gateway.ops.metrics import CONTENT_TYPE_LATEST, Metrics
from gateway.storage.claims import Claims, DedupeHealth
from gateway.storage.dedupe import DedupeStore
from gateway.storage.local_claims import LocalClaimBackend
from gateway.storage.redis_claims import RedisClaimBackend
from gateway.storage.spool import Spool

__all__ = ["CONFIG_ENV", "WORKERS_ENV", "GatewayApp", "app_from_environment", "create_app"]

_log = structlog.get_logger("gateway.http.app")
_ENCODER = msgspec.json.Encoder()


class SpoolState(msgspec.Struct, frozen=True, kw_only=True):
    records: int
    bytes: int
    max_bytes: int
    full: bool


class QuarantineState(msgspec.Struct, frozen=True, kw_only=True):
    """Records the broker refused for good, set aside: they do not change readiness (see README)."""

    records: int
    bytes: int
    detail: str | None = None


def _quarantine_state(spool: Spool) -> QuarantineState:
    detail = None
    if spool.quarantined:
        detail = (f"{spool.quarantined} record(s) refused for good by the broker are quarantined: "
                  "gateway quarantine list, then gateway quarantine retry")
    return QuarantineState(records=spool.quarantined, bytes=spool.quarantined_bytes, detail=detail)


class ReadinessReport(msgspec.Struct, frozen=True, kw_only=True):
    """The /readyz body: ready unless the spool is full, the broker lacks the topics or refuses the producer."""

    status: str
    broker: bool
    missing_topics: list[str]
    spool: SpoolState
    dedupe: DedupeHealth
    quarantine: QuarantineState
    detail: str | None = None
    refused: ProducerRefusal | None = None


def _json(document: object, status: int = 200) -> Response:
    return Response(_ENCODER.encode(document), status_code=status, media_type="application/json")


class GatewayApp(Starlette):
    """Starlette for the lifespan and the operational routes; every ``/webhooks/...`` request straight to its endpoint.

    The webhook endpoint answers every outcome itself (problem documents
    included), so the one route that carries traffic skips the middleware
    and routing layers.
    """

    def __init__(self, webhook: WebhookEndpoint, **settings: Any) -> None:
        super().__init__(**settings)
        self.webhook = webhook

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(WEBHOOK_PREFIX):
            await self.webhook(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


CONFIG_ENV = "GATEWAY_CONFIG"
WORKERS_ENV = "GATEWAY_WORKERS"


def app_from_environment() -> GatewayApp:
    """The app of one worker of ``serve --workers N``: the config file and N come from the environment."""
    config = load_config(os.environ[CONFIG_ENV])
    configure_logging(config.log.level)
    return create_app(config, workers=int(os.environ.get(WORKERS_ENV, "1")))


def build_claims(config: Config, env: Mapping[str, str], workers: int = 1) -> Claims:
    """The dedupe claims the configuration asks for: Redis, or this host's SQLite and lock files (any workers)."""
    settings = config.dedupe
    url = settings.redis_address(env)
    if settings.backend == "redis" and url:
        backend: RedisClaimBackend | LocalClaimBackend = RedisClaimBackend(
            url, window_s=settings.window_s, claim_ttl_s=settings.claim_ttl_s,
            timeout_s=settings.redis_timeout_ms / 1000)
    else:
        store = DedupeStore(config.spool.path, settings.window_s)
        backend = LocalClaimBackend(store, alone=workers == 1)
    return Claims(backend, wait_s=settings.wait_ms / 1000)


def create_app(config: Config, env: Mapping[str, str] | None = None, workers: int = 1) -> GatewayApp:
    """The gateway for a checked configuration (one of ``workers`` processes sharing the spool limit)."""
    sources = build_sources(config.sources, os.environ if env is None else env)
    metrics = Metrics()
    publisher = Publisher(config.kafka, config.topics, max_request_size=config.kafka.max_record_bytes)
    spool = Spool(config.spool.path, config.spool.max_bytes // workers)
    deliverer = Deliverer(publisher, spool, metrics)
    claims = build_claims(config, os.environ if env is None else env, workers)
    mapper = Mapper(config.mapping, config.topics)
    webhook = WebhookEndpoint(config, sources, deliverer, claims, metrics, mapper)

    async def healthz(request: Request) -> Response:
        return _json({"status": "alive"})

    async def readyz(request: Request) -> Response:
        broker = await publisher.readiness()
        spool_state = SpoolState(records=spool.records, bytes=spool.bytes, max_bytes=spool.max_bytes, full=spool.is_full)
        if spool_state.full or broker.missing_topics or broker.refusal is not None:
            status = "not-ready"
        else:
            status = "ready" if broker.broker else "ready-spooling"
        report = ReadinessReport(status=status, broker=broker.broker, missing_topics=broker.missing_topics,
                                 spool=spool_state, dedupe=claims.health(), quarantine=_quarantine_state(spool),
                                 detail=broker.detail, refused=broker.refusal)
        return _json(report, 503 if status == "not-ready" else 200)

    async def metrics_endpoint(request: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        _log.info("starting", sources=len(config.sources), bootstrap_servers=config.kafka.bootstrap_servers)
        await claims.open()
        await deliverer.start()
        _log.info("ready to receive", host=config.server.host, port=config.server.port, spool=str(spool.path))
        try:
            yield {EDGE_METRICS: metrics}  # for the requests the connection protocol answers itself
        finally:
            _log.info("stopping: in-flight requests are done; flushing the producer")
            mapper.close()
            await deliverer.stop()
            await claims.close()
            metrics.worker_stopped()
            _log.info("stopped", spooled_records=spool.records)

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]
    handlers = {
        HTTPException: http_error_response,
        Exception: unexpected_error_response,
    }
    return GatewayApp(webhook, routes=routes, exception_handlers=handlers, lifespan=lifespan)
