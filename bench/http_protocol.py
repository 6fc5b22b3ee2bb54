"""``python -m bench.http_protocol``: what the edge's limits cost per request, against uvicorn's protocol without them.

One process, one event loop (uvloop), no sockets: a webhook-sized request is fed to each
protocol over an in-memory transport and answered by a trivial ASGI app, in alternating
rounds. Both protocols write through the coalescing transport, so the difference is the
edge's own work: the byte budget, the read state, the timers (none when a request arrives
in one read), the header count.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any

import uvloop
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from gateway.config import ServerSettings
from gateway.http.coalescing import CoalescingTransport
from gateway.http.protocol import edge_protocol

REQUESTS = 20_000
ROUNDS = 10
_BODY = (b'{"dataObject":{"event_id":"x","booking_id":"y","start_date_time_gmt":1767261600},"status":true,'
         b'"type":"CREATE"}' + b" " * 300)
REQUEST = (b"POST /webhooks/picktime?token=t HTTP/1.1\r\nHost: gateway:8080\r\nUser-Agent: vendor\r\n"
           b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(_BODY)) + _BODY


class _Transport(asyncio.Transport):
    """Swallows what is written."""

    def write(self, data: bytes | bytearray | memoryview) -> None:
        pass

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8080), "peername": ("127.0.0.1", 40000)}.get(name, default)


class _Bare(HttpToolsProtocol):
    """uvicorn's protocol with only the coalescing transport: what the gateway ran before the edge's limits."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(CoalescingTransport(transport, asyncio.get_running_loop()))  # type: ignore[arg-type]


async def _per_request_us(factory: Callable[..., asyncio.Protocol]) -> float:
    answered = asyncio.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 202, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"{}"})
        answered.set()

    config = Config(app, ws="none", lifespan="off", access_log=False, log_level="warning")
    config.load()
    protocol = factory(config=config, server_state=ServerState(), app_state={})
    protocol.connection_made(_Transport())
    started = time.process_time()
    for _ in range(REQUESTS):
        answered.clear()
        protocol.data_received(REQUEST)
        await answered.wait()
    spent = time.process_time() - started
    protocol.connection_lost(None)
    return spent / REQUESTS * 1e6


async def _main() -> None:
    protocols: dict[str, Callable[..., asyncio.Protocol]] = {
        "uvicorn + coalescing": _Bare, "edge (limits, timeouts)": edge_protocol(ServerSettings())}
    runs: dict[str, list[float]] = {name: [] for name in protocols}
    for round_ in range(ROUNDS):
        for name in sorted(protocols, reverse=bool(round_ % 2)):
            runs[name].append(await _per_request_us(protocols[name]))
    for name, values in runs.items():
        print(f"{name}: best {min(values):.2f} us/request, median {statistics.median(values):.2f} us/request")


if __name__ == "__main__":
    uvloop.run(_main())
