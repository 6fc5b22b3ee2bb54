"""Remembering deliveries per source, so a vendor's retry is answered without publishing again.

A delivery's id and its events' ids are UUIDv5s of (source, delivery key,
index), so the store keeps only a 16-byte digest of (source, key), how many
events the first answer had, and when: the caller rebuilds the ids.

SQLite in WAL mode with ``synchronous=NORMAL``: an entry survives a killed
process (the WAL is in the OS's hands). Lookups read on the event loop (a
primary-key SELECT) inside a read transaction renewed after each write and
at least every ``flush_interval_s``, which spares two file-lock calls per
lookup; other workers' entries are therefore seen within that interval, as
they are written behind anyway. New entries are written behind, batched
every ``flush_interval_s`` on a thread of their own and visible to lookups
meanwhile. A SIGKILL can lose the last interval's entries: a retry of one of
those is published again, under the same deterministic CloudEvent ids.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import structlog

__all__ = ["DedupeStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen_v2 (
    digest BLOB PRIMARY KEY,
    events INTEGER NOT NULL,
    seen_at INTEGER NOT NULL
) WITHOUT ROWID;
"""
_log = structlog.get_logger("gateway.dedupe")
# Pruning scans the table (an index on time would double every write), so not often.
_PRUNE_EVERY_S = 300.0


def _digest(source: str, key: str) -> bytes:
    return hashlib.blake2b(f"{source}\n{key}".encode(), digest_size=16).digest()


def _connect(path: Path, cache_kib: int) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    # A bounded page cache: memory stays flat however many deliveries the window holds.
    db.execute(f"PRAGMA cache_size=-{cache_kib}")
    # Fewer, larger checkpoints: each one fsyncs.
    db.execute("PRAGMA wal_autocheckpoint=10000")
    return db


class DedupeStore:
    """Deliveries seen within the window, by (source, delivery key)."""

    def __init__(self, directory: str | Path, window_s: float, flush_interval_s: float = 0.02) -> None:
        self.path = Path(directory) / "dedupe.db"
        self.window_s = window_s
        self._flush_interval_s = flush_interval_s
        self._reader: sqlite3.Connection | None = None
        self._writer: sqlite3.Connection | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dedupe")
        self._unwritten: dict[bytes, tuple[int, int]] = {}
        self._writing: dict[bytes, tuple[int, int]] = {}
        self._flusher: asyncio.Task[None] | None = None
        self._pruned_at = 0.0
        self._snapshot_at = 0.0

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = _connect(self.path, cache_kib=8192)
        self._writer.executescript(_SCHEMA)
        self._reader = _connect(self.path, cache_kib=2048)

    async def close(self) -> None:
        """Write what is pending, then close."""
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
        await self._flush()
        for db in (self._reader, self._writer):
            if db is not None:
                db.close()
        self._reader = self._writer = None
        self._executor.shutdown(wait=True)

    def seen(self, source: str, key: str, now: float | None = None) -> int | None:
        """How many events the first answer to this delivery had, if it came within the window."""
        assert self._reader is not None
        cutoff = (time.time() if now is None else now) - self.window_s
        digest = _digest(source, key)
        pending = self._unwritten.get(digest) or self._writing.get(digest)
        if pending is not None:
            return pending[0] if pending[1] >= cutoff else None
        if time.monotonic() - self._snapshot_at > self._flush_interval_s:
            self._renew_snapshot()
        row = self._reader.execute(
            "SELECT events FROM seen_v2 WHERE digest = ? AND seen_at >= ?", (digest, cutoff)
        ).fetchone()
        return None if row is None else int(row[0])

    def _renew_snapshot(self) -> None:
        """End the lookups' read transaction and open the next: it sees every entry committed so far."""
        assert self._reader is not None
        if self._reader.in_transaction:
            self._reader.execute("COMMIT")
        self._reader.execute("BEGIN")
        self._snapshot_at = time.monotonic()

    def remember(self, source: str, key: str, events: int, now: float | None = None) -> None:
        """Record that a delivery was answered with ``events`` events; written within ``flush_interval_s``."""
        self._unwritten[_digest(source, key)] = (events, int(time.time() if now is None else now))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_soon(), name="dedupe-flush")

    async def _flush_soon(self) -> None:
        await asyncio.sleep(self._flush_interval_s)
        await self._flush()

    async def _flush(self) -> None:
        if not self._unwritten or self._writer is None:
            return
        self._writing, self._unwritten = self._unwritten, {}
        rows = [(digest, events, moment) for digest, (events, moment) in self._writing.items()]
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._write, rows)
            if self._reader is not None:
                self._renew_snapshot()  # before the entries leave memory, so lookups never miss them
        except sqlite3.Error as exc:
            _log.error("dedupe entries not written; retries of these deliveries will publish again",
                       entries=len(rows), error=str(exc))
        finally:
            self._writing = {}

    def _write(self, rows: list[tuple[bytes, int, int]]) -> None:
        assert self._writer is not None
        now = time.time()
        with self._writer:
            self._writer.execute("BEGIN IMMEDIATE")
            self._writer.executemany("INSERT OR REPLACE INTO seen_v2 VALUES (?, ?, ?)", rows)
            if now - self._pruned_at > _PRUNE_EVERY_S:
                self._pruned_at = now
                self._writer.execute("DELETE FROM seen_v2 WHERE seen_at < ?", (now - self.window_s,))
