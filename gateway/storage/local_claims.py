"""The local claim backend: the dedupe store's SQLite file on this host.

Alone on its file (one ``serve`` process), this process's futures are all
the claims there are, and the Bloom filter answers "never seen" without
SQLite. With several workers on the file (``serve --workers N``), claims go
through SQLite as well (``DedupeStore.claim_shared``).
"""

from __future__ import annotations

import sqlite3

import structlog

from gateway.storage.claims import BackendState, DedupeHealth
from gateway.storage.dedupe import DedupeStore

__all__ = ["LocalClaimBackend"]

_log = structlog.get_logger("gateway.storage.local_claims")


class LocalClaimBackend:
    """Claims in this process, or through the SQLite file the workers share (``shared``)."""

    def __init__(self, store: DedupeStore, *, shared: bool, claim_ttl_s: float) -> None:
        self.store = store
        self._shared = shared
        self._claim_ttl_s = claim_ttl_s
        self._detail: str | None = None

    async def open(self) -> None:
        await self.store.open()

    async def close(self) -> None:
        await self.store.close()

    async def try_claim(self, source: str, key: str) -> tuple[BackendState, int]:
        events = self.store.seen(source, key)
        if events is not None:
            return "seen", events
        if not self._shared:
            return "claimed", 0
        try:
            state, events = await self.store.claim_shared(source, key, self._claim_ttl_s)
        except sqlite3.Error as exc:
            if self._detail is None:
                _log.warning("dedupe claims not taken; accepting and publishing without dedupe", error=str(exc))
            self._detail = f"sqlite: {exc}"
            return "unavailable", 0
        self._detail = None
        return state, events

    async def confirm(self, source: str, key: str, events: int) -> None:
        self.store.remember(source, key, events)

    async def release(self, source: str, key: str) -> None:
        if self._shared:
            try:
                await self.store.release_shared(source, key)
            except sqlite3.Error as exc:
                _log.warning("dedupe claim not released; it expires by itself", error=str(exc))

    def health(self) -> DedupeHealth:
        return DedupeHealth(backend="local", available=self._detail is None, detail=self._detail)
