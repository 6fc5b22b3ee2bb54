"""The gateway's HTTP/1.1 connection: uvicorn's httptools protocol with the edge's limits, timeouts and one write per answer.

The one module that reaches into uvicorn (tests/gateway/test_library_internals.py names every
internal it uses). Against a hostile client it adds:

- a byte budget for the request line and headers (and a chunked body's trailers), spent in
  ``data_received`` before httptools sees the bytes, so a huge head is refused (431) having been
  held only up to the budget. Callbacks open and close the budget where a head begins and ends;
  the bytes of the read in which one begins, after that point, are not counted, so a head may
  pass the budget by at most one read of the socket. The header count is checked once, when the
  headers are complete;
- a header-read timeout (from the accept, or from the first bytes of a later request) and a
  body-read timeout (from the end of the headers), deadlines rather than idle timers: 408, then close;
- a bound on the connections of the worker (503 to the one over it) and an answer to a sender
  that sent its whole request and then shut its side down (``eof_received`` keeps the transport).

Per request that is O(1) and no per-header work: a comparison and a subtraction per read, a
state change in each of five callbacks (message begin, headers complete, body, message complete,
one ``len`` of the header list), two more per chunk of a chunked body, and no timer at all when
the request arrived in the read that began it.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any, Literal, cast

import httptools
from uvicorn.config import Config as UvicornConfig
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from gateway.config import ServerSettings
from gateway.errors import GatewayError, HeadersTooLargeError, RequestTimeoutError, TooManyConnectionsError
from gateway.http.coalescing import CoalescingTransport
from gateway.http.problems import problem_message
from gateway.ops.log_lines import Webhook
from gateway.ops.logging import log_request
from gateway.ops.metrics import UNKNOWN_LABEL, Metrics
from gateway.trace import request_trace

__all__ = ["EDGE_METRICS", "READ_TIMED_OUT", "GatewayHttpProtocol", "edge_protocol"]

EDGE_METRICS = "gateway.metrics"
"""Lifespan state key of the app's Metrics: the requests the edge answers itself are counted there too."""

READ_TIMED_OUT = "gateway.read_timed_out"
"""Scope key set when a request's body did not arrive within ``server.body_timeout_s``: the app answers 408."""

Reading = Literal["head", "body", "idle", "refused"]
_LINGER_S = 2.0
"""How long a refused connection is still read, and what arrives dropped, so that its sender sees the answer.

Closing a socket with unread data resets the connection, and the reset can destroy the answer before
the sender has read it (a sender still writing its 64 MiB header would never learn why)."""


def edge_protocol(settings: ServerSettings) -> Callable[..., GatewayHttpProtocol]:
    """uvicorn's ``http``: protocols with these limits, picklable (``--workers`` hands it to each worker)."""
    return functools.partial(GatewayHttpProtocol, settings=settings)


class GatewayHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, bounded in what a sender can make it hold and for how long."""

    def __init__(
        self,
        config: UvicornConfig,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        settings: ServerSettings | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._settings = settings or ServerSettings()
        self._reading: Reading = "head"
        self._head_room: int | None = self._settings.max_header_bytes  # None while no head is being read
        self._timer: asyncio.TimerHandle | None = None
        self._since = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        real = cast(asyncio.Transport, transport)
        super().connection_made(CoalescingTransport(real, asyncio.get_running_loop()))
        self._since = self.loop.time()
        if len(self.connections) > self._settings.max_connections:
            self._refuse(TooManyConnectionsError(self._settings.max_connections))
            return
        self._timer = self.loop.call_later(self._settings.header_timeout_s, self._timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()
        super().connection_lost(exc)

    def eof_received(self) -> bool | None:  # type: ignore[override]
        """A sender that shut its side down after a whole request still gets the answer; then the connection closes."""
        cycle = self.cycle
        if self._reading == "idle" and cycle is not None and not cycle.response_complete:
            cycle.keep_alive = False
            return True
        return None

    def data_received(self, data: bytes) -> None:
        if self._reading == "refused":
            return
        self._unset_keepalive_if_required()
        rest: bytes | memoryview = data
        while (room := self._head_room) is not None and len(rest) > room:
            # A head (or a chunked body's trailers) passes its budget in this read unless it ends within it.
            # Callbacks reset the budget when one ends; only this method spends it, so 0 means it never did.
            self._head_room = 0
            view = memoryview(rest)
            if not self._feed(view[:room]):
                return
            if self._head_room == 0:
                self._refuse(HeadersTooLargeError("bytes", self._settings.max_header_bytes))
                return
            rest = view[room:]
        if room is not None:
            self._head_room = room - len(rest)
        if self._feed(rest) and self._timer is None and self._reading != "idle":
            timeout = self._settings.header_timeout_s if self._reading == "head" else self._settings.body_timeout_s
            self._timer = self.loop.call_later(timeout, self._timed_out)

    def _feed(self, data: bytes | memoryview) -> bool:
        """Parse ``data``; False once the connection is refused or closing."""
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # serve runs without websockets: the request is answered as plain HTTP; nothing after it is read.
            self._last_answer()
            return False
        except httptools.HttpParserError as exc:
            refusal = exc.__context__  # what a callback of ours raised, or the parser's own complaint
            self._refuse(refusal if isinstance(refusal, GatewayError) else GatewayError(f"not valid HTTP/1.1: {exc}"))
            return False
        return True

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._reading = "head"
        self._since = self.loop.time()

    def on_headers_complete(self) -> None:
        if len(self.headers) > self._settings.max_header_count:
            raise HeadersTooLargeError("count", self._settings.max_header_count)
        self._reading = "body"
        self._head_room = None
        self._cancel_timer()
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._head_room = None  # body bytes are the app's to bound (max_body_bytes)
        super().on_body(body)

    def on_chunk_header(self) -> None:
        self._head_room = self._settings.max_header_bytes  # the chunk's data follows or, after the last, trailers

    def on_chunk_complete(self) -> None:
        self._head_room = self._settings.max_header_bytes  # the next chunk's size line

    def on_message_complete(self) -> None:
        self._reading = "idle"
        self._head_room = self._settings.max_header_bytes
        self._cancel_timer()
        super().on_message_complete()

    def _timed_out(self) -> None:
        self._timer = None
        cycle = self.cycle
        if self._reading == "body" and not cycle.response_started:
            # The app is (or will be) waiting for the body: it answers 408 at its next receive.
            cast(dict[str, Any], cycle.scope)[READ_TIMED_OUT] = True
            cycle.keep_alive = False
            cycle.message_event.set()
            return
        if self._reading == "head":
            self._refuse(RequestTimeoutError("headers", self._settings.header_timeout_s))
        else:  # answered before the body was read: the rest of it is not waited for
            self._refuse(RequestTimeoutError("body", self._settings.body_timeout_s))

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _refuse(self, error: GatewayError) -> None:
        """Answer ``error`` below the app, close, and log the request's line; or, if an answer is on its way, end there."""
        self._cancel_timer()
        if self._reading == "refused" or self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is not None and (cycle.response_started if self._reading == "body" else not cycle.response_complete):
            self._last_answer()
            return
        self.transport.write(problem_message(error))
        self._linger()
        elapsed = self.loop.time() - self._since
        trace = request_trace(())  # refused before the app saw it (maybe before its headers): a trace of its own
        log_request(Webhook(
            source=UNKNOWN_LABEL, provider=UNKNOWN_LABEL, delivery_id=None, outcome=error.problem,
            status=error.status_code, events=0, duration_ms=round(elapsed * 1000, 3), event_types=[], subjects=[],
            trace_id=trace.trace_id, span_id=trace.span_id, problem=error.problem_type,
        ))
        metrics: Metrics | None = self.app_state.get(EDGE_METRICS)
        if metrics is not None:
            metrics.request_done(UNKNOWN_LABEL, UNKNOWN_LABEL, error.problem, elapsed)

    def _linger(self) -> None:
        """The answer is written: end the sending side, drop what still arrives, close after _LINGER_S or the sender's end."""
        self._reading = "refused"
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._timer = self.loop.call_later(_LINGER_S, self.transport.close)

    def _last_answer(self) -> None:
        """Read nothing more; close once the answer being written (if any) is out."""
        cycle = self.cycle
        if cycle is None or cycle.response_complete:
            self.transport.close()
            return
        cycle.keep_alive = False
        self.transport.pause_reading()
