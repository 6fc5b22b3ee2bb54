"""Structured JSON logs on stdout, configured once."""

from __future__ import annotations

import logging
import sys
from typing import Any

import msgspec
import structlog

__all__ = ["configure_logging"]

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
_ENCODER = msgspec.json.Encoder()


def _serialize(event: dict[str, Any], **_: Any) -> bytes:
    return _ENCODER.encode(event)


def configure_logging(level: str = "info") -> None:
    """JSON lines with ISO UTC timestamps and level; nothing below ``level``.

    Context is passed as fields, not bound in contextvars: merging them costs
    a context copy on every line, and the per-request line names its own.
    """
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(serializer=_serialize),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level]),
        logger_factory=structlog.BytesLoggerFactory(sys.stdout.buffer),
        cache_logger_on_first_use=True,
    )
