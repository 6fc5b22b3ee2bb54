"""Remembering deliveries per source, so a vendor's retry is answered without publishing again.

SQLite in WAL mode with ``synchronous=NORMAL``: an entry survives a killed
process (the WAL is in the OS's hands), which is what a retry after a crash
needs; CloudEvent ids are deterministic besides, so consumers can dedupe too.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import msgspec

__all__ = ["DedupeStore", "Seen"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (
    source TEXT NOT NULL,
    delivery_key TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    event_ids TEXT NOT NULL,
    seen_at REAL NOT NULL,
    PRIMARY KEY (source, delivery_key)
) WITHOUT ROWID
"""
_PRUNE_EVERY_S = 60.0
_IDS = msgspec.json.Decoder(list[str])
_ENCODER = msgspec.json.Encoder()


class Seen(msgspec.Struct, frozen=True):
    """What the gateway answered the first time it got a delivery."""

    delivery_id: str
    event_ids: list[str]


class DedupeStore:
    """Deliveries seen within the window, by (source, delivery key)."""

    def __init__(self, directory: str | Path, window_s: float) -> None:
        self.path = Path(directory) / "dedupe.db"
        self.window_s = window_s
        self._db: sqlite3.Connection | None = None
        self._pruned_at = 0.0

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=5)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(_SCHEMA)
        self._db = db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def seen(self, source: str, key: str, now: float | None = None) -> Seen | None:
        """The first answer to this delivery, if it came within the window."""
        assert self._db is not None
        cutoff = (time.time() if now is None else now) - self.window_s
        row = self._db.execute(
            "SELECT delivery_id, event_ids FROM seen WHERE source = ? AND delivery_key = ? AND seen_at >= ?",
            (source, key, cutoff),
        ).fetchone()
        return None if row is None else Seen(row[0], _IDS.decode(row[1]))

    def remember(self, source: str, key: str, answer: Seen, now: float | None = None) -> None:
        """Record the answer given to a delivery, and now and then forget expired ones."""
        assert self._db is not None
        moment = time.time() if now is None else now
        self._db.execute(
            "INSERT OR REPLACE INTO seen VALUES (?, ?, ?, ?, ?)",
            (source, key, answer.delivery_id, _ENCODER.encode(answer.event_ids).decode(), moment),
        )
        if moment - self._pruned_at > _PRUNE_EVERY_S:
            self._pruned_at = moment
            self._db.execute("DELETE FROM seen WHERE seen_at < ?", (moment - self.window_s,))
