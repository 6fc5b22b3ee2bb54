"""Remembering deliveries per source, so a vendor's retry is answered without publishing again.

A delivery's id and its events' ids are UUIDv5s of (source, delivery key,
index), so the store keeps only a 16-byte digest of (source, key), how many
events the first answer had, and when: the caller rebuilds the ids.

SQLite in WAL mode with ``synchronous=NORMAL``: an entry survives a killed
process (the WAL is in the OS's hands). New entries are written behind,
batched every ``flush_interval_s`` on a thread of their own and visible to
lookups meanwhile. A SIGKILL can lose the last interval's entries: a retry
of one of those is published again, under the same deterministic CloudEvent ids.

Most lookups are for deliveries never seen, and a Bloom filter answers those
without SQLite. It holds every entry of the window: the rows on disk at
start (loaded on a thread; until then every lookup asks SQLite), this
process's own entries as they are remembered, and other workers' rows, read
by their increasing ids at least every ``flush_interval_s`` (the same delay
as their write-behind). It keeps two generations of ``window_s`` each. Only
what the filter may hold is looked up, by primary key, inside a read
transaction renewed at that interval too, which spares two file-lock calls
per lookup.

Whoever claims deliveries across processes (``local_claims``) learns from
``on_written`` when entries are committed, and when: a claim held until
``flush_interval_s`` past that is released only once every other process's
next lookup sees the entry.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import secrets
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import structlog

from gateway.storage.bloom import DigestSet

__all__ = ["DedupeStore", "digest"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen_v3 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    digest BLOB NOT NULL UNIQUE,
    events INTEGER NOT NULL,
    seen_at INTEGER NOT NULL,
    writer INTEGER NOT NULL
);
"""
# The previous layout (no ids to follow other writers by): its rows move over once.
_MIGRATE_V2 = """
INSERT OR IGNORE INTO seen_v3 (digest, events, seen_at, writer) SELECT digest, events, seen_at, 0 FROM seen_v2;
DROP TABLE seen_v2;
"""
_log = structlog.get_logger("gateway.storage.dedupe")
# Pruning scans the table (an index on time would double every write), so not often.
_PRUNE_EVERY_S = 300.0


def digest(source: str, key: str) -> bytes:
    """The 16 bytes a delivery is stored under."""
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


_FILE_NAME = "dedupe.db"


class DedupeStore:
    """Deliveries seen within the window, by (source, delivery key)."""

    def __init__(self, directory: str | Path, window_s: float, flush_interval_s: float = 0.02) -> None:
        self.path = Path(directory) / _FILE_NAME
        self.window_s = window_s
        self.flush_interval_s = flush_interval_s
        self.on_written: Callable[[list[bytes]], None] | None = None
        """Called with the digests of each write-behind batch once committed (or once it failed)."""
        self._reader: sqlite3.Connection | None = None
        self._writer: sqlite3.Connection | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dedupe")
        self._unwritten: dict[bytes, tuple[int, int]] = {}
        self._writing: dict[bytes, tuple[int, int]] = {}
        self._flusher: asyncio.Task[None] | None = None
        self._pruned_at = 0.0
        self._snapshot_at = 0.0
        self._writer_id = secrets.randbits(62)
        # [this generation, the previous one] and, until the window passes over them, the rows loaded at start.
        self._filters = [DigestSet(), DigestSet()]
        self._generation_started = time.monotonic()
        self._filter_complete = False
        self._followed_id = 0
        self._loading: asyncio.Future[tuple[DigestSet, int]] | None = None
        self._loaded_expire_at = 0.0

    @staticmethod
    def forget_all(directory: str | Path) -> bool:
        """Delete the store in ``directory`` (not open anywhere): every delivery is new again. True if one existed."""
        database = Path(directory) / _FILE_NAME
        existed = database.exists()
        for suffix in ("", "-wal", "-shm", "-open"):
            path = database.with_name(_FILE_NAME + suffix)
            path.unlink(missing_ok=True)
        return existed

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Workers starting together take turns: switching a new file to WAL is refused ("database is
        # locked", no busy wait) while another connection is doing the same.
        await asyncio.get_running_loop().run_in_executor(self._executor, self._open_connections)
        self._loading = asyncio.get_running_loop().run_in_executor(None, self._load, time.time() - self.window_s)
        self._loading.add_done_callback(self._loaded)

    def _open_connections(self) -> None:
        with open(self.path.with_name(_FILE_NAME + "-open"), "a") as turn:
            fcntl.flock(turn, fcntl.LOCK_EX)
            self._writer = _connect(self.path, cache_kib=8192)
            self._writer.executescript(_SCHEMA)
            if self._writer.execute("SELECT 1 FROM sqlite_master WHERE name = 'seen_v2'").fetchone():
                self._writer.executescript(f"BEGIN; {_MIGRATE_V2} COMMIT;")
            self._reader = _connect(self.path, cache_kib=2048)

    def _load(self, cutoff: float) -> tuple[DigestSet, int]:
        """On a thread: the window's rows as a filter, and the last id they include."""
        db = _connect(self.path, cache_kib=2048)
        try:
            db.execute("BEGIN")
            last_id = db.execute("SELECT COALESCE(MAX(id), 0) FROM seen_v3").fetchone()[0]
            loaded = DigestSet()
            for (digest,) in db.execute("SELECT digest FROM seen_v3 WHERE id <= ? AND seen_at >= ?", (last_id, cutoff)):
                loaded.add(digest)
            db.execute("COMMIT")
            return loaded, int(last_id)
        finally:
            db.close()

    def _loaded(self, loading: asyncio.Future[tuple[DigestSet, int]]) -> None:
        if loading.cancelled() or self._reader is None:
            return
        if loading.exception() is not None:
            _log.error("dedupe filter not loaded; every lookup asks SQLite", error=str(loading.exception()))
            return
        loaded, self._followed_id = loading.result()
        self._loaded_expire_at = time.monotonic() + self.window_s  # every loaded row is older than now
        self._filters.append(loaded)
        self._filter_complete = True
        _log.info("dedupe filter loaded", entries=len(loaded), filter_bytes=loaded.nbytes)

    async def close(self) -> None:
        """Write what is pending, then close."""
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
        if self._loading is not None:
            await asyncio.gather(self._loading, return_exceptions=True)
        await self._flush()
        for db in (self._reader, self._writer):
            if db is not None:
                db.close()
        self._reader = self._writer = None
        self._executor.shutdown(wait=True)

    def seen(self, source: str, key: str, now: float | None = None) -> int | None:
        """How many events the first answer to this delivery had, if it came within the window."""
        return self.seen_digest(digest(source, key), now)

    def seen_digest(self, digest: bytes, now: float | None = None) -> int | None:
        """``seen`` by the delivery's ``digest``."""
        assert self._reader is not None
        cutoff = (time.time() if now is None else now) - self.window_s
        pending = self._unwritten.get(digest) or self._writing.get(digest)
        if pending is not None:
            return pending[0] if pending[1] >= cutoff else None
        if time.monotonic() - self._snapshot_at > self.flush_interval_s:
            self._renew_snapshot()
        if self._filter_complete and not self._may_have_seen(digest):
            return None
        row = self._reader.execute(
            "SELECT events FROM seen_v3 WHERE digest = ? AND seen_at >= ?", (digest, cutoff)
        ).fetchone()
        return None if row is None else int(row[0])

    def _may_have_seen(self, digest: bytes) -> bool:
        for entries in self._filters:
            if digest in entries:
                return True
        return False

    def _renew_snapshot(self) -> None:
        """Open a new read transaction (it sees every entry committed so far) and take in other writers' rows."""
        assert self._reader is not None
        if self._reader.in_transaction:
            self._reader.execute("COMMIT")
        self._reader.execute("BEGIN")
        self._snapshot_at = time.monotonic()
        if self._snapshot_at - self._generation_started >= self.window_s:
            kept_loaded = self._filters[2:] if self._snapshot_at < self._loaded_expire_at else []
            self._filters = [DigestSet(), self._filters[0], *kept_loaded]
            self._generation_started = self._snapshot_at
        if self._filter_complete:
            self._follow_other_writers()

    def _follow_other_writers(self) -> None:
        assert self._reader is not None
        current = self._filters[0]
        rows = self._reader.execute("SELECT id, digest, writer FROM seen_v3 WHERE id > ?", (self._followed_id,))
        for row_id, digest, writer in rows:
            if writer != self._writer_id:
                current.add(digest)
            self._followed_id = row_id

    def remember(self, source: str, key: str, events: int, now: float | None = None) -> None:
        """Record that a delivery was answered with ``events`` events; written within ``flush_interval_s``."""
        delivery = digest(source, key)
        self._unwritten[delivery] = (events, int(time.time() if now is None else now))
        self._filters[0].add(delivery)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_soon(), name="dedupe-flush")

    async def _flush_soon(self) -> None:
        """Write what was remembered, every interval, until nothing is left (entries of a write in progress included)."""
        while self._unwritten:
            await asyncio.sleep(self.flush_interval_s)
            await self._flush()

    async def _flush(self) -> None:
        if not self._unwritten or self._writer is None:
            return
        self._writing, self._unwritten = self._unwritten, {}
        writer = self._writer_id
        rows = [(digest, events, moment, writer) for digest, (events, moment) in self._writing.items()]
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._write, rows)
            if self._reader is not None:
                self._renew_snapshot()  # before the entries leave memory, so lookups never miss them
        except sqlite3.Error as exc:
            _log.error("dedupe entries not written; retries of these deliveries will publish again",
                       entries=len(rows), error=str(exc))
        finally:
            written, self._writing = list(self._writing), {}
            if self.on_written is not None:
                self.on_written(written)

    def _write(self, rows: list[tuple[bytes, int, int, int]]) -> None:
        assert self._writer is not None
        now = time.time()
        with self._writer:
            self._writer.execute("BEGIN IMMEDIATE")
            self._writer.executemany(
                "INSERT OR REPLACE INTO seen_v3 (digest, events, seen_at, writer) VALUES (?, ?, ?, ?)", rows
            )
            if now - self._pruned_at > _PRUNE_EVERY_S:
                self._pruned_at = now
                self._writer.execute("DELETE FROM seen_v3 WHERE seen_at < ?", (now - self.window_s,))
