"""Rendering every error as an RFC 9457 ``application/problem+json`` response."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus

import msgspec
import structlog
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from gateway.errors import PROBLEM_TYPE_BASE, GatewayError

__all__ = [
    "PROBLEM_CONTENT_TYPE",
    "gateway_problem",
    "http_error_response",
    "http_problem",
    "internal_error_problem",
    "problem_message",
    "problem_response",
    "unexpected_error_response",
]

PROBLEM_CONTENT_TYPE = "application/problem+json"
_ENCODER = msgspec.json.Encoder()
_log = structlog.get_logger("gateway.http.problems")


def problem_response(
    status: int,
    problem: str,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    extensions: dict[str, object] | None = None,
) -> Response:
    """A problem document: type, title, status, detail, instance and any extension members."""
    body = _document(status, problem, title, detail, instance, extensions)
    return Response(body, status_code=status, headers=headers, media_type=PROBLEM_CONTENT_TYPE)


def _document(
    status: int, problem: str, title: str, detail: str, instance: str | None, extensions: dict[str, object] | None
) -> bytes:
    document: dict[str, object] = {"type": problem, "title": title, "status": status, "detail": detail}
    if instance is not None:
        document["instance"] = instance
    document.update(extensions or {})
    return _ENCODER.encode(document)


def problem_message(exc: GatewayError) -> bytes:
    """``exc`` as a whole HTTP/1.1 response that closes the connection: the answers the edge writes below the app."""
    body = _document(exc.status_code, exc.problem_type, exc.title, exc.detail, None, exc.extensions())
    lines = [f"HTTP/1.1 {exc.status_code} {HTTPStatus(exc.status_code).phrase}",
             f"content-type: {PROBLEM_CONTENT_TYPE}", f"content-length: {len(body)}", "connection: close"]
    lines.extend(f"{name}: {value}" for name, value in exc.headers.items() if name.lower() != "connection")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def gateway_problem(exc: GatewayError, path: str) -> Response:
    """The problem document for a GatewayError raised while handling ``path``."""
    return problem_response(
        exc.status_code,
        exc.problem_type,
        exc.title,
        exc.detail,
        instance=path,
        headers=exc.headers,
        extensions=exc.extensions(),
    )


def http_problem(
    status: int, method: str, path: str, detail: str | None = None, headers: Mapping[str, str] | None = None
) -> Response:
    """A plain HTTP error (no such route, wrong method) as a problem document."""
    phrase = HTTPStatus(status).phrase
    slug = phrase.lower().replace(" ", "-")
    text = detail if detail and detail != phrase else f"{method} {path}: {phrase.lower()}"
    return problem_response(status, PROBLEM_TYPE_BASE + slug, phrase, text, instance=path, headers=headers)


def internal_error_problem(path: str) -> Response:
    """The answer to a bug: 500, without internals (the caller logs the traceback)."""
    return problem_response(
        500, PROBLEM_TYPE_BASE + "internal-error", "Internal error", "the gateway failed; it has been logged",
        instance=path,
    )


async def http_error_response(request: Request, exc: Exception) -> Response:
    """Starlette's own HTTP errors (unknown route, wrong method) as problem documents."""
    assert isinstance(exc, HTTPException)
    return http_problem(exc.status_code, request.method, request.url.path, exc.detail, exc.headers)


async def unexpected_error_response(request: Request, exc: Exception) -> Response:
    """A bug, not the sender's fault: logged with its traceback, answered 500 without internals."""
    _log.error("unhandled error", path=request.url.path, exc_info=exc)
    return internal_error_problem(request.url.path)
