"""Structured JSON logs on stdout, configured once: every line rendered by one writer, ``_line``.

One path, the fast writer for every line: each line is ``event``, its
fields, ``level``, ``timestamp``; ``_line`` alone adds the last two (the
timestamp from ``gateway.clock.log_timestamp``, the one timestamp function)
and encodes it. What a line may hold is the log contract: one Struct per
event in ``gateway.ops.log_lines``, which ``_line`` encodes. Lifecycle and
warning lines keep structlog's API (level filtering, ``exc_info``,
``capture_logs()``): its chain ends in ``_render``, which converts the
call's fields to the event's Struct (a line the contract does not declare
is still written, as it is, and the suite's contract check names it). The
per-request line, written thousands of times a second, is built as its
Struct and handed to ``_line`` directly: one encode, no processor chain
(``python -m bench.logging_lines``, 100k lines, best of 5, on a loaded
two-core machine: about 5.2 us a line with the trace and subjects, against
5.1 for the dict line without them; through structlog's bound logger, 9.5).
On the event loop the sink gathers the lines of one loop turn and writes
them together at its end (before that turn's responses leave); elsewhere it
writes at once.
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
from structlog.typing import EventDict, WrappedLogger

from gateway.clock import log_timestamp
from gateway.ops.log_lines import LogLine, Webhook, declared

__all__ = ["LineSink", "configure_logging", "log_request"]

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
_ENCODER = msgspec.json.Encoder()
# structlog's method aliases, named by the level they log at (as its add_log_level names them).
_LEVEL_OF_METHOD = {"warn": "warning", "exception": "error", "err": "error", "failure": "error", "fatal": "critical",
                    "msg": "info", "log": "info"}
_LEVEL_TAILS = {level: b',"level":"%s","timestamp":"' % level.encode()
                for level in ("debug", "info", "warning", "error", "critical")}


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


def _line(line: LogLine | dict[str, Any], level: str) -> bytes:
    """Every log line: ``line`` (its ``event`` first, then its fields), then ``level`` and ``timestamp`` (now), as JSON.

    A declared line is its Struct, encoded once, with the two appended; an
    undeclared one (a dict) is written as it is, for the contract test to name.
    """
    if isinstance(line, dict):
        line["level"] = level
        line["timestamp"] = log_timestamp(time.time())
        return _ENCODER.encode(line)
    body = _ENCODER.encode(line)
    return b"".join((body[:-1], _LEVEL_TAILS[level], log_timestamp(time.time()).encode(), b'"}'))


def _render(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> bytes:
    """structlog's last processor: the exception as text, then the line's Struct (``gateway.ops.log_lines``)."""
    if "exc_info" in event_dict:
        event_dict = structlog.processors.format_exc_info(logger, method_name, event_dict)
    level = _LEVEL_OF_METHOD.get(method_name, method_name)
    struct = declared(event_dict["event"])
    if struct is not None:
        try:
            return _line(msgspec.convert(event_dict, struct), level)
        except msgspec.ValidationError:
            pass  # a field missing, renamed or added: written as it is, and the contract test fails on it
    return _line({"event": event_dict.pop("event"), **event_dict}, level)


def configure_logging(level: str = "info", output: BinaryIO | None = None) -> None:
    """JSON lines with ISO UTC timestamps and level, on ``output`` (stdout); nothing below ``level``.

    Context is passed as fields, not bound in contextvars: merging them costs
    a context copy on every line, and the per-request line names its own.
    """
    _Sink.logger.flush()
    _Sink.logger = LineSink(sys.stdout.buffer if output is None else output)
    _Sink.requests_wanted = _LEVELS[level] <= logging.INFO
    structlog.configure(
        processors=[_render],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level]),
        logger_factory=lambda *_: _Sink.logger,
        cache_logger_on_first_use=True,
    )


def log_request(line: Webhook) -> None:
    """Write the request's line (level info), unless the configured level is above info."""
    if _Sink.requests_wanted:
        _Sink.logger.msg(_line(line, "info"))
