"""Type aliases shared across the gateway's packages: what became of a request."""

from __future__ import annotations

from typing import Literal

__all__ = ["Outcome", "Problem"]

Problem = Literal[
    "bad-request",
    "unknown-source",
    "unauthenticated",
    "body-too-large",
    "headers-too-large",
    "request-timeout",
    "too-many-connections",
    "record-too-large",
    "unprocessable-payload",
    "spool-full",
    "delivery-in-progress",
    "client-gone",
    "internal-error",
]
"""Why a request got no 2xx: a GatewayError's problem type, or what the edge itself ran into."""

Outcome = Literal["accepted", "ignored", "duplicate", "spooled", "dead-lettered", Problem]
"""What became of one request: its log line's and its metric's ``outcome``, its archive's outcome."""
