"""The local claim backend: the dedupe store's SQLite file, and a lock file beside it, on this host.

A claim is an exclusive record lock on one byte in ``dedupe-claims/``, by the
delivery's digest: every process using the spool folder (the workers of
``serve --workers N``) sees it, and the kernel drops it when its holder dies,
so a crash between claim and confirm leaves nothing that would turn a lost
event into a "duplicate". The holder keeps it until its entry is committed
and ``flush_interval_s`` more: another process's lookup renews its read
snapshot (and its Bloom filter, from the rows of others) whenever that is
older than ``flush_interval_s``, so once the lock is free, every later
lookup anywhere finds the entry. Hence the Bloom filter may answer "never
seen" right after the lock is taken: no SQLite on the way of a new delivery,
and two ``fcntl`` calls for its claim.
"""

from __future__ import annotations

import asyncio

from gateway.storage.claimlocks import ByteLocks
from gateway.storage.claims import BackendState, DedupeHealth
from gateway.storage.dedupe import DedupeStore, digest

__all__ = ["LocalClaimBackend"]

_LOCK_DIR = "dedupe-claims"


class LocalClaimBackend:
    """Claims across the processes of this host, remembered in the shared SQLite dedupe store."""

    def __init__(self, store: DedupeStore) -> None:
        self.store = store
        self._locks = ByteLocks(store.path.with_name(_LOCK_DIR))
        # Confirmed deliveries whose entries are not committed yet, by digest: their lock ids.
        self._confirmed: dict[bytes, int] = {}
        self._holding = 0  # batches of written entries whose locks are still held
        store.on_written = self._written

    async def open(self) -> None:
        self._locks.open()
        await self.store.open()

    async def close(self) -> None:
        """Write what is pending; its claims are held as long as on any write, then every lock goes."""
        await self.store.close()
        if self._holding:
            await asyncio.sleep(self.store.flush_interval_s * 2)
        self._locks.close()

    async def try_claim(self, source: str, key: str) -> tuple[BackendState, int]:
        delivery = digest(source, key)
        events = self.store.seen_digest(delivery)
        if events is not None:
            return "seen", events
        lock_id = ByteLocks.id_of(delivery)
        if not self._locks.try_lock(lock_id):
            return "pending", 0
        events = self.store.seen_digest(delivery)  # confirmed by another process just before it let go
        if events is not None:
            self._locks.unlock(lock_id)
            return "seen", events
        return "claimed", 0

    async def confirm(self, source: str, key: str, events: int) -> None:
        delivery = digest(source, key)
        self.store.remember(source, key, events)
        self._confirmed[delivery] = ByteLocks.id_of(delivery)

    async def release(self, source: str, key: str) -> None:
        self._locks.unlock(ByteLocks.id_of(digest(source, key)))

    def health(self) -> DedupeHealth:
        return DedupeHealth(backend="local", available=True)

    def _written(self, digests: list[bytes]) -> None:
        lock_ids = [lock_id for delivery in digests if (lock_id := self._confirmed.pop(delivery, None)) is not None]
        if lock_ids:
            self._holding += 1
            asyncio.get_running_loop().call_later(self.store.flush_interval_s * 2, self._unlock, lock_ids)

    def _unlock(self, lock_ids: list[int]) -> None:
        self._holding -= 1
        for lock_id in lock_ids:
            self._locks.unlock(lock_id)
