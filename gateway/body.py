"""Reading a request body whole, refusing it as soon as it passes the size limit."""

from __future__ import annotations

from starlette.requests import Request

from gateway.errors import BodyTooLargeError, GatewayError

__all__ = ["read_limited_body"]


async def read_limited_body(request: Request, limit: int) -> bytes:
    """The body, or BodyTooLargeError as soon as the declared or streamed size passes ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise GatewayError(f"Content-Length {declared!r} is not a number")
        if int(declared) > limit:
            raise BodyTooLargeError(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLargeError(limit)
    return bytes(body)
