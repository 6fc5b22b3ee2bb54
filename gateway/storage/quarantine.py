"""The quarantine: records the broker refused for good, kept in the spool's own database until retried.

A table beside the spool's in each slot (``spool-<n>.db``), so a record moves
from one to the other in one transaction: it is never in both, never in
neither. Each entry keeps the record, the error that refused it and when.
The running gateway writes entries; ``gateway quarantine`` reads and deletes
them, through SQLite's locking, with or without the gateway running.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import msgspec

from gateway.outbound import OutboundRecord

__all__ = [
    "QuarantinedRecord",
    "connect",
    "copy_entries",
    "create_table",
    "delete_entries",
    "entries",
    "insert_entries",
    "new_entry",
    "refused_again",
    "slot_databases",
    "totals",
]

_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(OutboundRecord)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS quarantine (
    id TEXT PRIMARY KEY,
    quarantined_at REAL NOT NULL,
    spooled_at REAL NOT NULL,
    error TEXT NOT NULL,
    detail TEXT NOT NULL,
    size INTEGER NOT NULL,
    record BLOB NOT NULL
)
"""
_COLUMNS = "id, quarantined_at, spooled_at, error, detail, size, record"


class QuarantinedRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One record set aside: the record, why the broker refused it, when it was spooled and set aside.

    ``size`` is what the entry holds on disk (it counts against ``spool.max_bytes``).
    """

    id: str
    quarantined_at: float
    spooled_at: float
    error: str
    detail: str
    size: int
    record: OutboundRecord


def new_entry(record: OutboundRecord, error: BaseException, spooled_at: float) -> QuarantinedRecord:
    """The entry for ``record``, refused with ``error`` now."""
    return QuarantinedRecord(
        id=secrets.token_hex(6), quarantined_at=time.time(), spooled_at=spooled_at, error=type(error).__name__,
        detail=str(error), size=len(_ENCODER.encode(record)), record=record,
    )


def create_table(db: sqlite3.Connection) -> None:
    db.execute(_SCHEMA)


def connect(path: Path) -> sqlite3.Connection:
    """A connection of its own to a slot's database (the spool's is another process's, or none)."""
    db = sqlite3.connect(path, isolation_level=None, timeout=10)
    db.execute("PRAGMA synchronous=FULL")
    create_table(db)
    return db


def slot_databases(directory: Path) -> list[Path]:
    """Every slot's database in the spool folder."""
    return sorted(directory.glob("spool-*.db"))


def insert_entries(db: sqlite3.Connection, quarantined: Iterable[QuarantinedRecord]) -> None:
    """Add entries (inside the caller's transaction)."""
    db.executemany(
        f"INSERT INTO quarantine ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(entry.id, entry.quarantined_at, entry.spooled_at, entry.error, entry.detail, entry.size,
          _ENCODER.encode(entry.record)) for entry in quarantined],
    )


def copy_entries(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    """Copy every entry of ``source`` into ``target`` unchanged (inside the caller's transaction on ``target``)."""
    create_table(source)
    rows = source.execute(f"SELECT {_COLUMNS} FROM quarantine ORDER BY quarantined_at").fetchall()
    target.executemany(f"INSERT OR IGNORE INTO quarantine ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


def totals(db: sqlite3.Connection) -> tuple[int, int]:
    """How many entries, and the bytes they hold."""
    count, size = db.execute("SELECT count(*), coalesce(sum(size), 0) FROM quarantine").fetchone()
    return int(count), int(size)


def entries(db: sqlite3.Connection) -> list[QuarantinedRecord]:
    """Every entry, oldest first."""
    rows = db.execute(f"SELECT {_COLUMNS} FROM quarantine ORDER BY quarantined_at, id").fetchall()
    return [
        QuarantinedRecord(id=id_, quarantined_at=at, spooled_at=spooled, error=error, detail=detail, size=size,
                          record=_DECODER.decode(blob))
        for id_, at, spooled, error, detail, size, blob in rows
    ]


def delete_entries(db: sqlite3.Connection, ids: Sequence[str]) -> set[str]:
    """Delete the entries (each in its own statement of one transaction); the ids that were there."""
    with db:
        db.execute("BEGIN IMMEDIATE")
        return {id_ for id_ in ids if db.execute("DELETE FROM quarantine WHERE id = ?", (id_,)).rowcount}


def refused_again(db: sqlite3.Connection, entry_id: str, error: BaseException) -> None:
    """Record that a retry was refused too: the new error, and now as the time it was set aside."""
    with db:
        db.execute("BEGIN IMMEDIATE")
        db.execute("UPDATE quarantine SET error = ?, detail = ?, quarantined_at = ? WHERE id = ?",
                   (type(error).__name__, str(error), time.time(), entry_id))
