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

A process that serves ``alone`` (``serve`` with one worker) and finds no
other process using the folder takes it for itself, by an exclusive
``flock`` on ``dedupe-claims/members`` held for its life: then its own
in-process claims (``Claims``) are the only ones, and it takes no record
locks at all. Every other process holds that file shared, so while one
serves alone nobody else can start on the folder (``ClaimsFolderInUse``),
and a process asked to serve alone beside others shares it like they do.
"""

from __future__ import annotations

import asyncio
import fcntl
import os

from gateway.storage.claimlocks import ByteLocks
from gateway.storage.claims import BackendState, DedupeHealth
from gateway.storage.dedupe import DedupeStore, digest

__all__ = ["ClaimsFolderInUse", "LocalClaimBackend"]

_LOCK_DIR = "dedupe-claims"
_MEMBERS = "members"


class ClaimsFolderInUse(Exception):
    """Another process serves alone from this spool folder: sharing it would let both publish one delivery."""

    def __init__(self, directory: str) -> None:
        super().__init__(f"another gateway process serves alone (serve with one worker) from the spool folder of "
                         f"{directory}; give each instance a spool.path of its own, or run them as serve --workers N")
        self.directory = directory


class LocalClaimBackend:
    """Claims across the processes of this host, remembered in the shared SQLite dedupe store."""

    def __init__(self, store: DedupeStore, *, alone: bool = False) -> None:
        self.store = store
        self._alone = alone
        self.solo = False
        """True once this process holds the folder for itself: no record locks, the in-process claims suffice."""
        self._members: int | None = None
        self._locks = ByteLocks(store.path.with_name(_LOCK_DIR))
        # Confirmed deliveries whose entries are not committed yet, by digest: their lock ids.
        self._confirmed: dict[bytes, int] = {}
        self._holding = 0  # batches of written entries whose locks are still held
        store.on_written = self._written

    async def open(self) -> None:
        self._locks.open()
        self._join()
        await self.store.open()

    def _join(self) -> None:
        """Hold the members file: exclusively if serving alone and nobody else is here, else shared."""
        fd = os.open(self._locks.directory / _MEMBERS, os.O_RDWR | os.O_CREAT, 0o600)
        for mode in ([fcntl.LOCK_EX] if self._alone else []) + [fcntl.LOCK_SH]:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            self._members, self.solo = fd, mode == fcntl.LOCK_EX
            return
        os.close(fd)
        self._locks.close()
        raise ClaimsFolderInUse(str(self._locks.directory.parent))

    async def close(self) -> None:
        """Write what is pending; its claims are held as long as on any write, then every lock goes."""
        await self.store.close()
        if self._holding:
            await asyncio.sleep(self.store.flush_interval_s * 2)
        self._locks.close()
        if self._members is not None:
            os.close(self._members)
            self._members = None

    async def try_claim(self, source: str, key: str) -> tuple[BackendState, int]:
        delivery = digest(source, key)
        events = self.store.seen_digest(delivery)
        if events is not None:
            return "seen", events
        if self.solo:
            return "claimed", 0
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
        if not self.solo:
            self._confirmed[delivery] = ByteLocks.id_of(delivery)

    async def release(self, source: str, key: str) -> None:
        if not self.solo:
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
