"""The dedupe store: entries found before, during and after their write-behind, by this process and by others."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import time
from pathlib import Path

from gateway.storage.dedupe import DedupeStore
from tests.waiting import until


async def test_an_entry_is_found_before_during_and_after_it_is_written(tmp_path: Path) -> None:
    """A remembered delivery is never missed, whatever point of its write-behind a lookup falls on."""
    store = DedupeStore(tmp_path, window_s=3600, flush_interval_s=0.01)
    await store.open()
    try:
        assert store.seen("src", "delivery-1") is None
        store.remember("src", "delivery-1", 2)
        found = [store.seen("src", "delivery-1")]
        for _ in range(40):  # through the flush and the snapshot renewal
            await asyncio.sleep(0.001)
            found.append(store.seen("src", "delivery-1"))
        assert set(found) == {2}
        assert store.seen("src", "delivery-2") is None and store.seen("other", "delivery-1") is None
    finally:
        await store.close()


async def test_another_workers_entries_are_seen_within_the_flush_interval(tmp_path: Path) -> None:
    """Two stores on one file (two workers): what one writes, the other finds once written and renewed."""
    first = DedupeStore(tmp_path, window_s=3600, flush_interval_s=0.02)
    second = DedupeStore(tmp_path, window_s=3600, flush_interval_s=0.02)
    await first.open()
    await second.open()
    try:
        assert second.seen("src", "shared") is None  # opens second's read snapshot
        first.remember("src", "shared", 1)
        await until(lambda: second.seen("src", "shared") == 1, "the other store to find the entry", timeout_s=2)
    finally:
        await first.close()
        await second.close()


async def test_entries_survive_a_reopen_and_expire_with_the_window(tmp_path: Path) -> None:
    """Entries are on disk after close; a lookup past the window does not count them."""
    remembered_at = time.time() - 100
    store = DedupeStore(tmp_path, window_s=3600)
    await store.open()
    store.remember("src", "old", 3, now=remembered_at)
    await store.close()
    reopened = DedupeStore(tmp_path, window_s=3600)
    await reopened.open()
    try:
        assert reopened.seen("src", "old", now=remembered_at + 30) == 3
        assert reopened.seen("src", "old", now=remembered_at + 3601) is None
    finally:
        await reopened.close()


async def _opened(path: Path, **settings: float) -> DedupeStore:
    store = DedupeStore(path, **{"window_s": 3600, **settings})
    await store.open()
    # Until the rows on disk are loaded every lookup asks SQLite; wait, so the filter itself is what is tested.
    await until(lambda: store._filter_complete, "the dedupe filter to load", timeout_s=5, interval_s=0.01)
    return store


async def test_rows_on_disk_at_start_are_found_once_the_filter_is_loaded(tmp_path: Path) -> None:
    """A restart loads the window's rows into the filter: none of them is taken for new."""
    first = await _opened(tmp_path)
    for number in range(300):
        first.remember("src", f"before-restart-{number}", 1)
    await first.close()
    second = await _opened(tmp_path)
    try:
        assert all(second.seen("src", f"before-restart-{number}") == 1 for number in range(300))
        assert second.seen("src", "never-sent") is None
    finally:
        await second.close()


async def test_another_workers_entries_pass_the_filter(tmp_path: Path) -> None:
    """With both filters loaded, what one worker remembers the other finds after the flush interval."""
    first = await _opened(tmp_path, flush_interval_s=0.02)
    second = await _opened(tmp_path, flush_interval_s=0.02)
    try:
        assert second.seen("src", "from-first") is None
        for number in range(50):
            first.remember("src", f"from-first-{number}", 2)
        await until(lambda: [second.seen("src", f"from-first-{number}") for number in range(50)] == [2] * 50,
                    "the other store to find all 50 entries", timeout_s=2)
    finally:
        await first.close()
        await second.close()


async def test_entries_outlive_the_turns_of_the_filters_generations(tmp_path: Path) -> None:
    """Through several turns of a 1 s window, every entry younger than the window is still found."""
    store = await _opened(tmp_path, window_s=1, flush_interval_s=0.01)
    try:
        remembered: list[tuple[str, float]] = []
        started = time.monotonic()
        while time.monotonic() - started < 2.6:  # at least two turns
            moment = time.time()
            key = f"turning-{len(remembered)}"
            store.remember("src", key, 1, now=moment)
            remembered.append((key, moment))
            await asyncio.sleep(0.05)
            young = [(key, at) for key, at in remembered if time.time() - at < 0.9]
            assert all(store.seen("src", key, now=at) == 1 for key, at in young)
    finally:
        await store.close()


async def test_rows_of_the_previous_layout_are_moved_over(tmp_path: Path) -> None:
    """A dedupe.db from before the filter (table seen_v2) keeps its deliveries."""
    store = DedupeStore(tmp_path, window_s=3600)
    digest = hashlib.blake2b(b"src\nold-layout", digest_size=16).digest()
    with sqlite3.connect(store.path) as db:
        db.execute("CREATE TABLE seen_v2 (digest BLOB PRIMARY KEY, events INTEGER NOT NULL, seen_at INTEGER NOT NULL)"
                   " WITHOUT ROWID")
        db.execute("INSERT INTO seen_v2 VALUES (?, 4, ?)", (digest, int(time.time())))
    await store.open()
    try:
        assert store.seen("src", "old-layout") == 4
    finally:
        await store.close()


async def test_an_entry_remembered_during_a_write_is_written_too(tmp_path: Path) -> None:
    """One remembered while the write-behind is on its thread is written next, with no further remember to wake it."""
    store = DedupeStore(tmp_path, window_s=3600, flush_interval_s=0.01)
    reader = DedupeStore(tmp_path, window_s=3600, flush_interval_s=0.01)
    await store.open()
    await reader.open()
    try:
        store.remember("src", "first", 1)
        await until(lambda: bool(store._writing), "the first write to be on its thread", timeout_s=5, interval_s=0)
        store.remember("src", "during", 1)
        await until(lambda: reader.seen("src", "during") == 1, "the entry remembered during the write, on disk",
                    timeout_s=5)
    finally:
        await store.close()
        await reader.close()
