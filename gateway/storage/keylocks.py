"""One asyncio lock per key, created on demand and dropped when nobody holds or waits for it."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from types import TracebackType

__all__ = ["KeyedLocks"]


class _Entry:
    """A key's lock and how many holders and waiters it has."""

    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


class _Hold:
    """``async with locks.hold(key)``: a plain class, as this sits on every request's path."""

    __slots__ = ("_key", "_lock", "_locks")

    def __init__(self, locks: KeyedLocks, key: Hashable) -> None:
        self._locks = locks
        self._key = key
        self._lock: asyncio.Lock | None = None

    async def __aenter__(self) -> None:
        entry = self._locks._entries.get(self._key)
        if entry is None:
            entry = self._locks._entries[self._key] = _Entry()
        entry.users += 1
        self._lock = entry.lock
        await self._lock.acquire()

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        assert self._lock is not None
        self._lock.release()
        entry = self._locks._entries[self._key]
        entry.users -= 1
        if entry.users == 0:
            del self._locks._entries[self._key]


class KeyedLocks:
    """Serializes work on the same key (a delivery) while different keys run concurrently."""

    def __init__(self) -> None:
        self._entries: dict[Hashable, _Entry] = {}

    def hold(self, key: Hashable) -> _Hold:
        return _Hold(self, key)
