"""Wall-clock moments as RFC 3339 UTC text, cheaply: the date and time of day are formatted once a second."""

from __future__ import annotations

import functools
import math
import time

__all__ = ["log_timestamp", "received_at_text"]


@functools.lru_cache(maxsize=4)
def _second_text(second: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))


def _split(now: float) -> tuple[int, int]:
    """Whole seconds and microseconds, rounded as ``datetime.fromtimestamp`` rounds them."""
    fraction, whole = math.modf(now)
    micro = round(fraction * 1_000_000)
    if micro >= 1_000_000:
        return int(whole) + 1, micro - 1_000_000
    return int(whole), micro


def received_at_text(now: float) -> str:
    """``now`` (epoch seconds) as RFC 3339 UTC, fractions only as precise as needed (like ``format_utc``)."""
    second, micro = _split(now)
    if not micro:
        return _second_text(second) + "Z"
    if micro % 1000 == 0:
        return f"{_second_text(second)}.{micro // 1000:03d}Z"
    return f"{_second_text(second)}.{micro:06d}Z"


def log_timestamp(now: float) -> str:
    """``now`` as the log lines' timestamp: RFC 3339 UTC with microseconds, as structlog's TimeStamper writes it."""
    second, micro = _split(now)
    return f"{_second_text(second)}.{micro:06d}Z"
