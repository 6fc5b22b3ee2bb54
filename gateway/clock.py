"""Wall-clock moments as RFC 3339 UTC text, through the adapters' epoch formatter (no datetime per call)."""

from __future__ import annotations

import math

from adapters.times import from_epoch_seconds

__all__ = ["log_timestamp", "received_at_text"]


def _split(now: float) -> tuple[int, int]:
    """Whole seconds and microseconds, rounded as ``datetime.fromtimestamp`` rounds them."""
    fraction, whole = math.modf(now)
    micro = round(fraction * 1_000_000)
    if micro >= 1_000_000:
        return int(whole) + 1, micro - 1_000_000
    return int(whole), micro


def received_at_text(now: float) -> str:
    """``now`` (epoch seconds) as RFC 3339 UTC, fractions only as precise as needed (like ``format_utc``)."""
    return from_epoch_seconds(*_split(now))


def log_timestamp(now: float) -> str:
    """``now`` as the log lines' timestamp: RFC 3339 UTC with microseconds, as structlog's TimeStamper writes it."""
    second, micro = _split(now)
    text = from_epoch_seconds(second)
    return f"{text[:-1]}.{micro:06d}Z" if micro else text
