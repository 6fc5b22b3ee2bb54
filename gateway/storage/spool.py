"""The durable spool: records the broker has not acknowledged yet, on disk before the 2xx.

SQLite in WAL mode with ``synchronous=FULL``: a commit returns only once the
WAL is fsynced, so a spooled request survives SIGKILL and power loss.
Concurrent appends are group-committed in one transaction by one writer
thread, so spooling under load costs one fsync per batch, not per request.

The byte limit is exact under concurrency: an append reserves its bytes
before it waits for the fsync, so what is stored, being written and set
aside in the quarantine (records the broker refused for good, kept in the
same database) never adds up to more than ``max_bytes``.

Each worker process owns one slot (``spool-<n>.db``, held by an ``flock`` on
``spool-<n>.lock`` for the life of the process) and, at start, adopts the
batches of any slot no live process holds: a crashed or retired worker's
spool is relayed by whoever starts next.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from gateway.outbound import OutboundRecord
from gateway.storage import quarantine
from gateway.storage.quarantine import QuarantinedRecord

__all__ = ["Spool", "SpoolFullError", "SpooledBatch"]

R = TypeVar("R")

_CODEC_ENCODER = msgspec.msgpack.Encoder()
_CODEC_DECODER = msgspec.msgpack.Decoder(list[OutboundRecord])
_SCHEMA = """
CREATE TABLE IF NOT EXISTS spool (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    spooled_at REAL NOT NULL,
    size INTEGER NOT NULL,
    records BLOB NOT NULL
)
"""


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute(_SCHEMA)
    quarantine.create_table(db)
    return db


def _try_lock(path: Path) -> int | None:
    """An open descriptor holding an exclusive flock on ``path``, or None if another process holds it."""
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _claim_free_slot(directory: Path) -> tuple[int, int]:
    """The lowest slot number no live process holds, and the descriptor that now holds it."""
    slot = 0
    while (fd := _try_lock(directory / f"spool-{slot}.lock")) is None:
        slot += 1
    return slot, fd


class SpoolFullError(Exception):
    """The spool has no room (its limit or the disk): nothing was stored, and room comes back as the relay drains."""

    def __init__(self, detail: str, *, retry_after_s: int = 30) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after_s = retry_after_s


class SpooledBatch(msgspec.Struct, frozen=True):
    """One spooled request's records, in the order they were spooled."""

    seq: int
    records: list[OutboundRecord]
    size: int
    spooled_at: float = 0.0


class Spool:
    """Append-only queue of record batches with a byte limit; drained oldest first."""

    def __init__(self, directory: str | Path, max_bytes: int) -> None:
        self.directory = Path(directory)
        self.path = self.directory / "spool-unclaimed.db"
        self.max_bytes = max_bytes
        self._lock_fd: int | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spool")
        self._db: sqlite3.Connection | None = None
        self._pending: list[tuple[bytes, asyncio.Future[int]]] = []
        # Bytes of appends accepted and not yet committed: waiting for the writer, or being written.
        self._reserved = 0
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self.records = 0
        self.bytes = 0
        self.quarantined = 0
        self.quarantined_bytes = 0
        self._refused = False

    async def open(self) -> None:
        """Open (or create) the database and count what a previous run left."""
        await self._run(self._open_db)
        self._writer = asyncio.create_task(self._write_loop(), name="spool-writer")

    def _open_db(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        slot, self._lock_fd = _claim_free_slot(self.directory)
        self.path = self.directory / f"spool-{slot}.db"
        db = _connect(self.path)
        self._db = db
        for orphan in sorted(self.directory.glob("spool-*.db")):
            if orphan != self.path:
                self._adopt(orphan)
        count, size = db.execute("SELECT count(*), coalesce(sum(size), 0) FROM spool").fetchone()
        self.records, self.bytes = count, size
        self.quarantined, self.quarantined_bytes = quarantine.totals(db)

    def _adopt(self, orphan: Path) -> None:
        """Move the batches of a slot nobody holds into ours, oldest first, then delete it."""
        lock = _try_lock(orphan.with_suffix(".lock"))
        if lock is None:
            return
        assert self._db is not None
        try:
            source = _connect(orphan)
            rows = source.execute("SELECT spooled_at, size, records FROM spool ORDER BY seq").fetchall()
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany("INSERT INTO spool (spooled_at, size, records) VALUES (?, ?, ?)", rows)
                quarantine.copy_entries(source, self._db)
            source.close()
            for leftover in (orphan, Path(f"{orphan}-wal"), Path(f"{orphan}-shm")):
                leftover.unlink(missing_ok=True)
        finally:
            os.close(lock)

    async def close(self) -> None:
        """Finish pending writes and close the database."""
        if self._writer is not None:
            self._writer.cancel()
            await asyncio.gather(self._writer, return_exceptions=True)
            self._writer = None
        if self._pending:
            await self._flush()
        if self._db is not None:
            await self._run(self._db.close)
            self._db = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
        self._executor.shutdown(wait=True)

    @property
    def is_open(self) -> bool:
        return self._db is not None

    @property
    def is_empty(self) -> bool:
        return self.records == 0 and not self._pending

    @property
    def held_bytes(self) -> int:
        """What counts against ``max_bytes``: stored, being written, and quarantined."""
        return self.bytes + self._reserved + self.quarantined_bytes

    @property
    def is_full(self) -> bool:
        """True at the limit, and from a refused append until something is drained."""
        return self._refused or self.held_bytes >= self.max_bytes

    async def append(self, records: Sequence[OutboundRecord]) -> tuple[int, int]:
        """Store one request's records durably; returns their (seq, size) once fsynced.

        Raises SpoolFullError when the limit or the disk leaves no room.
        """
        blob = _CODEC_ENCODER.encode(list(records))
        if self.held_bytes + len(blob) > self.max_bytes:
            self._refused = True
            raise SpoolFullError(f"the spool holds {self.held_bytes} of its {self.max_bytes} bytes")
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending.append((blob, future))
        self._reserved += len(blob)
        self._wake.set()
        return await future, len(blob)

    async def _write_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self._flush()

    async def _flush(self) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            return
        size = sum(len(blob) for blob, _ in batch)
        try:
            seqs = await self._run(self._insert, [blob for blob, _ in batch])
        except sqlite3.Error as exc:
            self._reserved -= size
            self._refused = True
            error = SpoolFullError(f"the spool could not write to disk: {exc}")
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        self.records += len(batch)
        self.bytes += size
        self._reserved -= size
        for (_, future), seq in zip(batch, seqs, strict=True):
            if not future.done():
                future.set_result(seq)

    def _insert(self, blobs: list[bytes]) -> list[int]:
        assert self._db is not None
        now = time.time()
        insert = "INSERT INTO spool (spooled_at, size, records) VALUES (?, ?, ?)"
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            return [self._db.execute(insert, (now, len(blob), blob)).lastrowid or 0 for blob in blobs]

    async def oldest(self, limit: int) -> list[SpooledBatch]:
        """Up to ``limit`` batches, oldest first."""
        rows = await self._run(self._select, limit)
        return [SpooledBatch(seq, _CODEC_DECODER.decode(blob), size, at) for seq, size, blob, at in rows]

    def _select(self, limit: int) -> list[tuple[int, int, bytes, float]]:
        assert self._db is not None
        query = "SELECT seq, size, records, spooled_at FROM spool ORDER BY seq LIMIT ?"
        return list(self._db.execute(query, (limit,)).fetchall())

    async def remove(
        self, batches: Sequence[SpooledBatch], quarantined: Mapping[int, Sequence[QuarantinedRecord]] | None = None
    ) -> None:
        """Forget batches the broker has taken; batches already gone are not counted twice.

        ``quarantined`` (by batch seq) are records of those batches the broker
        refused for good: they move into the quarantine in the same transaction.
        SpoolFullError when the disk refuses the write (nothing changed then).
        """
        if not batches:
            return
        moving = quarantined or {}
        try:
            deleted, kept = await self._run(self._delete, [batch.seq for batch in batches], moving)
        except sqlite3.Error as exc:
            raise SpoolFullError(f"the spool could not write to disk: {exc}") from None
        self.records -= len(deleted)
        self.bytes -= sum(batch.size for batch in batches if batch.seq in deleted)
        self.quarantined += len(kept)
        self.quarantined_bytes += sum(entry.size for entry in kept)
        if deleted:
            self._refused = False

    def _delete(
        self, seqs: list[int], moving: Mapping[int, Sequence[QuarantinedRecord]]
    ) -> tuple[set[int], list[QuarantinedRecord]]:
        assert self._db is not None
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            deleted = {seq for seq in seqs if self._db.execute("DELETE FROM spool WHERE seq = ?", (seq,)).rowcount}
            kept = [entry for seq in seqs if seq in deleted for entry in moving.get(seq, ())]
            quarantine.insert_entries(self._db, kept)
        return deleted, kept

    async def recount_quarantine(self) -> None:
        """Count the quarantine again (``gateway quarantine retry`` deletes entries from another process).

        A database busy beyond SQLite's timeout keeps the last counts (higher, never lower, than the truth).
        """
        if self._db is None:
            return
        try:
            self.quarantined, self.quarantined_bytes = await self._run(quarantine.totals, self._db)
        except sqlite3.Error:
            return

    async def _run(self, function: Callable[..., R], *args: Any) -> R:
        """Run blocking SQLite work on the spool's one thread."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)
