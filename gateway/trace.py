"""One trace per request: the sender's W3C ``traceparent`` (validated strictly), or a new trace, and the gateway's span.

The gateway's span gets a new span id; the ``traceparent`` it passes on
(on every Kafka record of the request) names that span as the parent, in
the sender's trace when its header was valid. No tracer records the span:
the request's log line (``trace_id``, ``span_id``) is its record.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable

import msgspec

__all__ = ["TRACEPARENT", "Trace", "request_trace"]

TRACEPARENT = "traceparent"
_HEADER = b"traceparent"
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?", re.DOTALL)
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16
_SAMPLED = "01"


class Trace(msgspec.Struct, frozen=True):
    """A request's trace id, the gateway's span id for it, and the trace flags passed on."""

    trace_id: str
    span_id: str
    flags: str

    @property
    def traceparent(self) -> bytes:
        """The ``traceparent`` (version 00) naming the gateway's span as the parent."""
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}".encode()


def _new_span_id() -> str:
    span = 0
    while not span:
        span = random.getrandbits(64)
    return f"{span:016x}"


def _new_trace() -> Trace:
    """A new sampled trace and its first span: one draw of 192 random bits, neither id all zeros."""
    while True:
        ids = f"{random.getrandbits(192):048x}"
        trace_id, span_id = ids[:32], ids[32:]
        if trace_id != _ZERO_TRACE and span_id != _ZERO_SPAN:
            return Trace(trace_id, span_id, _SAMPLED)


def _parsed(value: str) -> tuple[str, str] | None:
    """The trace id and flags of a valid ``traceparent`` (W3C Trace Context level 1), or None.

    Version 00 is exactly 55 characters; a later version (not ff) may carry
    more after a dash, which is ignored, and only its sampled flag is kept.
    Ids are lowercase hex, never all zeros.
    """
    match = _TRACEPARENT.fullmatch(value.strip(" \t"))
    if match is None:
        return None
    version, trace_id, parent_id, flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest) or trace_id == _ZERO_TRACE or parent_id == _ZERO_SPAN:
        return None
    return trace_id, flags if version == "00" else f"{int(flags, 16) & 1:02x}"


def request_trace(headers: Iterable[tuple[bytes, bytes]]) -> Trace:
    """The request's trace: its ``traceparent``'s trace id and flags with a new span id, or a new trace.

    ``headers`` are ASGI's (names lowercase). A missing, invalid or repeated
    ``traceparent`` header starts a new trace (sampled).
    """
    found: bytes | None = None
    for name, value in headers:
        if name == _HEADER:
            if found is not None:
                return _new_trace()
            found = value
    if found is not None:
        parsed = _parsed(found.decode("latin-1"))
        if parsed is not None:
            return Trace(parsed[0], _new_span_id(), parsed[1])
    return _new_trace()
