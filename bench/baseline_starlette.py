"""The floor of the HTTP stack: a bare Starlette endpoint that reads the body and answers 202."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


async def receive(request: Request) -> Response:
    await request.body()
    return Response(b'{"accepted":true}', status_code=202, media_type="application/json")


app = Starlette(routes=[Route("/webhooks/{provider}", receive, methods=["POST"])])
