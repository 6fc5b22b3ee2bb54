"""The Starlette application: routes, error rendering and the producer's lifecycle."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import msgspec
import structlog
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.config import Config
from gateway.errors import GatewayError
from gateway.problems import gateway_error_response, http_error_response, unexpected_error_response
from gateway.publisher import Publisher
from gateway.sources import build_sources
from gateway.webhooks import WebhookEndpoint

__all__ = ["create_app"]

_log = structlog.get_logger("gateway.app")
_ENCODER = msgspec.json.Encoder()
# Room for the record's headers and meta beside a body of max_body_bytes.
_RECORD_OVERHEAD_BYTES = 64 * 1024


def _json(document: object, status: int = 200) -> Response:
    return Response(_ENCODER.encode(document), status_code=status, media_type="application/json")


def create_app(config: Config, env: Mapping[str, str] | None = None) -> Starlette:
    """The gateway for a checked configuration."""
    sources = build_sources(config.sources, os.environ if env is None else env)
    max_request = max(1_048_576, config.server.max_body_bytes + _RECORD_OVERHEAD_BYTES)
    publisher = Publisher(config.kafka, config.topics, max_request_size=max_request)
    webhook = WebhookEndpoint(config, sources, publisher)

    async def healthz(request: Request) -> Response:
        return _json({"status": "alive"})

    async def readyz(request: Request) -> Response:
        readiness = await publisher.readiness()
        document = {"status": "ready" if readiness.ready else "not-ready", **msgspec.structs.asdict(readiness)}
        return _json(document, 200 if readiness.ready else 503)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        _log.info("starting", sources=len(config.sources), bootstrap_servers=config.kafka.bootstrap_servers)
        await publisher.start()
        _log.info("ready to receive", host=config.server.host, port=config.server.port)
        try:
            yield
        finally:
            _log.info("stopping")
            await publisher.stop()
            _log.info("stopped")

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/webhooks/{provider}", webhook.handle, methods=["POST"]),
        Route("/webhooks/{provider}/{source}", webhook.handle, methods=["POST"]),
    ]
    handlers = {
        GatewayError: gateway_error_response,
        HTTPException: http_error_response,
        Exception: unexpected_error_response,
    }
    return Starlette(routes=routes, exception_handlers=handlers, lifespan=lifespan)
