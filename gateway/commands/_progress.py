"""Progress of a long command on stderr: one redrawn line on a terminal, plain lines in logs."""

from __future__ import annotations

import time
from typing import TextIO

import msgspec

__all__ = ["Progress"]

_REDRAW_S = 0.1
_LOG_EVERY_RECORDS = 1000
_LOG_EVERY_S = 5.0


class Progress:
    """Shows a Struct of counts and the rate of ``read``; redraws on a TTY, else logs now and then."""

    def __init__(self, stream: TextIO, *, interactive: bool) -> None:
        self._stream = stream
        self._interactive = interactive
        self._started = time.monotonic()
        self._shown_at = self._started
        self._shown_read = 0

    def update(self, counts: msgspec.Struct, *, final: bool = False) -> None:
        """Show ``counts`` if it is time to (always when ``final``)."""
        now = time.monotonic()
        read = int(getattr(counts, "read", 0))
        if self._interactive:
            due = now - self._shown_at >= _REDRAW_S
        else:
            due = read - self._shown_read >= _LOG_EVERY_RECORDS or now - self._shown_at >= _LOG_EVERY_S
        if not (due or final):
            return
        self._shown_at, self._shown_read = now, read
        text = self._line(counts, read / max(now - self._started, 1e-9))
        if self._interactive:
            self._stream.write("\r\x1b[K" + text + ("\n" if final else ""))
        else:
            self._stream.write(text + "\n")
        self._stream.flush()

    @staticmethod
    def _line(counts: msgspec.Struct, rate: float) -> str:
        fields = "  ".join(f"{name} {value}" for name, value in msgspec.structs.asdict(counts).items())
        return f"{fields}  ({rate:,.0f} records/s)"

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self._started
