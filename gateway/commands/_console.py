"""Console hygiene for the one-shot commands: library logs out of stdout, diagnostics on stderr."""

from __future__ import annotations

import logging
import os
import shutil
import sys

import structlog

__all__ = ["invocation", "quiet_libraries", "say"]


def quiet_libraries() -> None:
    """Send the gateway's own structured logs to stderr (warnings only) and mute aiokafka.

    stdout carries the command's output (JSON a script reads); aiokafka's
    connection errors are restated by the command in words a person can act on.
    """
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)


def say(command: str, message: str) -> None:
    """One diagnostic line on stderr, prefixed with the command's name."""
    print(f"gateway {command}: {message}", file=sys.stderr, flush=True)


def invocation() -> str:
    """How to call ``gateway`` again from this shell: ``gateway`` when PATH finds this one, else the path used."""
    invoked = sys.argv[0]
    if os.path.basename(invoked) != "gateway":
        return "python -m gateway"
    on_path = shutil.which("gateway")
    if on_path and os.path.realpath(on_path) == os.path.realpath(invoked):
        return "gateway"
    return invoked
