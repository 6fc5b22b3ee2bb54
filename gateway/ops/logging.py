"""Structured JSON logs on stdout, configured once.

Every line goes through one sink. Lifecycle and warning lines come from
structlog's processor chain; the one line per request is a Struct encoded
straight into the same sink with the same fields (``event``, ..., ``level``,
``timestamp``), as it is written thousands of times a second. On the event
loop the sink gathers the lines of one loop turn and writes them together
at its end (before that turn's responses leave); elsewhere it writes at once.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import sys
import threading
import time
from typing import Any, BinaryIO

import msgspec
import structlog

from gateway.clock import log_timestamp
from gateway.types import Outcome

__all__ = ["LineSink", "configure_logging", "log_request"]

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
_ENCODER = msgspec.json.Encoder()


class RequestLine(msgspec.Struct, frozen=True, kw_only=True):
    """The line each webhook request leaves: who sent it, what became of it, how long it took."""

    event: str
    source: str
    provider: str
    delivery_id: str | None
    outcome: Outcome
    status: int
    events: int
    duration_ms: float
    level: str
    timestamp: str


class LineSink:
    """A structlog logger (``msg`` and friends take rendered bytes) that writes a loop turn's lines at once."""

    def __init__(self, output: BinaryIO) -> None:
        self._output = output
        self._lock = threading.Lock()
        self._pending: list[bytes] = []

    def msg(self, message: bytes) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        with self._lock:
            self._pending.append(message + b"\n")
            first = len(self._pending) == 1
        if loop is None:
            self.flush()
        elif first:
            loop.call_soon(self.flush)

    log = debug = info = warn = warning = msg
    fatal = failure = err = error = critical = exception = msg

    def flush(self) -> None:
        """Write every pending line, in order."""
        with self._lock:
            lines, self._pending = self._pending, []
            if lines:
                self._output.write(b"".join(lines))
                self._output.flush()


class _Sink:
    """Where lines go, and whether request lines (level info) are wanted."""

    logger: LineSink = LineSink(sys.stdout.buffer)
    requests_wanted: bool = True


atexit.register(lambda: _Sink.logger.flush())


def _serialize(event: dict[str, Any], **_: Any) -> bytes:
    return _ENCODER.encode(event)


def configure_logging(level: str = "info") -> None:
    """JSON lines with ISO UTC timestamps and level; nothing below ``level``.

    Context is passed as fields, not bound in contextvars: merging them costs
    a context copy on every line, and the per-request line names its own.
    """
    _Sink.logger.flush()
    _Sink.logger = LineSink(sys.stdout.buffer)
    _Sink.requests_wanted = _LEVELS[level] <= logging.INFO
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(serializer=_serialize),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level]),
        logger_factory=lambda *_: _Sink.logger,
        cache_logger_on_first_use=True,
    )


def log_request(
    source: str, provider: str, delivery_id: str | None, outcome: Outcome, status: int, events: int, seconds: float
) -> None:
    """Write the request's line (level info), unless the configured level is above info."""
    if not _Sink.requests_wanted:
        return
    line = RequestLine(event="webhook", source=source, provider=provider, delivery_id=delivery_id, outcome=outcome,
                       status=status, events=events, duration_ms=round(seconds * 1000, 3), level="info",
                       timestamp=log_timestamp(time.time()))
    _Sink.logger.msg(_ENCODER.encode(line))
