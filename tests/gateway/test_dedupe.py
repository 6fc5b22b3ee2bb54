"""The dedupe store: entries found before, during and after their write-behind, by this process and by others."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from gateway.dedupe import DedupeStore


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
        await asyncio.sleep(0.2)
        assert second.seen("src", "shared") == 1
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
