"""The spool: durable batches, exact accounting, slots per worker, orphans adopted, a hard limit, the quarantine."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from aiokafka.errors import MessageSizeTooLargeError

from gateway.outbound import OutboundRecord
from gateway.storage import quarantine
from gateway.storage.quarantine import new_entry
from gateway.storage.spool import Spool, SpooledBatch, SpoolFullError


def _records(tag: str, size: int = 100) -> list[OutboundRecord]:
    return [OutboundRecord(topic="t", key=tag.encode(), value=b"x" * size, headers=[("h", b"v")])]


async def test_batches_come_back_oldest_first_and_accounting_is_exact(tmp_path: Path) -> None:
    """Appended batches are read oldest first; removing one twice does not count it twice."""
    spool = Spool(tmp_path, max_bytes=1 << 20)
    await spool.open()
    try:
        for tag in ("a", "b", "c"):
            await spool.append(_records(tag))
        batches = await spool.oldest(10)
        assert [batch.records[0].key for batch in batches] == [b"a", b"b", b"c"]
        await spool.remove(batches[:1])
        await spool.remove(batches[:1])
        assert spool.records == 2 and spool.bytes == sum(batch.size for batch in batches[1:])
    finally:
        await spool.close()


async def test_each_open_spool_claims_its_own_slot(tmp_path: Path) -> None:
    """Two spools open on one folder (two workers) write to different files."""
    first, second = Spool(tmp_path, 1 << 20), Spool(tmp_path, 1 << 20)
    await first.open()
    await second.open()
    try:
        assert first.path != second.path
    finally:
        await second.close()
        await first.close()


async def test_a_slot_nobody_holds_is_adopted_at_open(tmp_path: Path) -> None:
    """Batches left in another worker's slot move into the next spool that opens, in order."""
    first, second = Spool(tmp_path, 1 << 20), Spool(tmp_path, 1 << 20)
    await first.open()
    await second.open()
    await second.append(_records("left-1"))
    await second.append(_records("left-2"))
    await second.close()
    await first.close()
    survivor = Spool(tmp_path, 1 << 20)
    await survivor.open()
    try:
        assert [batch.records[0].key for batch in await survivor.oldest(10)] == [b"left-1", b"left-2"]
        assert len(list(tmp_path.glob("spool-*.db"))) == 1
    finally:
        await survivor.close()


async def test_full_spool_refuses_until_something_drains(tmp_path: Path) -> None:
    """Past max_bytes an append raises SpoolFullError and the spool reports full until a batch is removed."""
    spool = Spool(tmp_path, max_bytes=1000)
    await spool.open()
    try:
        await spool.append(_records("a", 600))
        with pytest.raises(SpoolFullError) as refused:
            await spool.append(_records("b", 600))
        assert refused.value.retry_after_s > 0
        assert spool.is_full
        await spool.remove([SpooledBatch(batch.seq, [], batch.size) for batch in await spool.oldest(1)])
        assert not spool.is_full
        await spool.append(_records("b", 600))
    finally:
        await spool.close()


def _held_on_disk(path: Path) -> int:
    """What the spool's database holds, read through a connection of its own (as another process would)."""
    db = sqlite3.connect(path)
    try:
        return int(db.execute("SELECT coalesce(sum(size), 0) FROM spool").fetchone()[0])
    finally:
        db.close()


async def test_the_byte_limit_holds_under_concurrent_appends_and_removals(tmp_path: Path) -> None:
    """Hundreds of concurrent appends while the relay removes batches: never more than max_bytes held, on disk
    or in flight, and every append either acknowledged and stored, or refused and absent."""
    max_bytes = 20_000
    spool = Spool(tmp_path, max_bytes=max_bytes)
    await spool.open()
    acked: dict[bytes, int] = {}
    refused: set[bytes] = set()
    removed: set[bytes] = set()
    peaks: list[int] = []
    stop = asyncio.Event()

    async def append(n: int) -> None:
        tag = f"r{n}".encode()
        await asyncio.sleep(random.random() / 50)
        try:
            acked[tag], _ = await spool.append(_records(tag.decode(), random.randint(50, 900)))
        except SpoolFullError:
            refused.add(tag)

    async def drain() -> None:
        while not stop.is_set():
            batches = await spool.oldest(random.randint(1, 4))
            if random.random() < 0.5:
                await spool.remove(batches)
                removed.update(batch.records[0].key or b"" for batch in batches)
            await asyncio.sleep(random.random() / 200)

    async def watch() -> None:
        while not stop.is_set():
            peaks.append(await asyncio.to_thread(_held_on_disk, spool.path))
            peaks.append(spool.held_bytes)

    random.seed(11)
    watchers = [asyncio.create_task(drain()), asyncio.create_task(watch())]
    try:
        await asyncio.gather(*(append(n) for n in range(600)))
        stop.set()
        await asyncio.gather(*watchers)
        on_disk = {batch.records[0].key for batch in await spool.oldest(10_000)}
        assert max(peaks) <= max_bytes, f"held {max(peaks)} bytes against max_bytes = {max_bytes}"
        assert refused and acked, "the run must have both filled the spool and stored batches"
        assert on_disk | removed == set(acked), "every acknowledged append is stored or was relayed"
        assert not (on_disk | removed) & refused, "nothing refused was stored"
        assert spool.bytes == _held_on_disk(spool.path) <= max_bytes
    finally:
        stop.set()
        await asyncio.gather(*watchers, return_exceptions=True)
        await spool.close()


async def test_quarantined_records_move_with_their_slot_and_count_against_the_limit(tmp_path: Path) -> None:
    """A batch removed with a record quarantined: the entry is kept in the same transaction, survives adoption
    by another spool, and its bytes count against max_bytes until it is deleted."""
    first, second = Spool(tmp_path, 1 << 20), Spool(tmp_path, 1 << 20)
    await first.open()
    await second.open()
    await second.append(_records("kept", 300))
    [batch] = await second.oldest(1)
    entry = new_entry(batch.records[0], MessageSizeTooLargeError("too large"), batch.spooled_at)
    await second.remove([batch], {batch.seq: [entry]})
    assert (second.records, second.bytes, second.quarantined, second.held_bytes) == (0, 0, 1, entry.size)
    await second.close()
    await first.close()
    survivor = Spool(tmp_path, max_bytes=entry.size + 50)
    await survivor.open()
    try:
        assert (survivor.quarantined, survivor.quarantined_bytes) == (1, entry.size)
        with pytest.raises(SpoolFullError):
            await survivor.append(_records("more", 100))
        with closing(quarantine.connect(survivor.path)) as db:
            [kept] = quarantine.entries(db)
            assert kept == entry and kept.error == "MessageSizeTooLargeError" and kept.spooled_at > 0
            assert quarantine.delete_entries(db, [entry.id]) == {entry.id}
        await survivor.recount_quarantine()
        assert survivor.held_bytes == 0
    finally:
        await survivor.close()
