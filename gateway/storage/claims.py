"""Claim, publish, confirm: of concurrent copies of one delivery, wherever they land, exactly one publishes.

A copy first claims its delivery (source id, delivery key). The one that gets
the claim publishes and then confirms it (the delivery is remembered for the
window) or, if publishing failed, releases it so that a later copy may
publish. The others wait, bounded by ``wait_s``, until the claim is confirmed
(they answer as duplicates of the first) or released (one of them claims it).
A claim left by a crashed holder expires after the backend's claim TTL, so a
crash between claim and confirm cannot turn a lost event into a "duplicate".

Copies within one process wait on the first's future; the backend arbitrates
between processes (SQLite shared by the workers of one host, or Redis shared
by every replica). A backend that cannot answer fails open: the copy is
published (at-least-once, under the same deterministic ids).
"""

from __future__ import annotations

import asyncio
from typing import Literal, Protocol

import msgspec

__all__ = ["BackendState", "Claim", "ClaimBackend", "Claims", "DedupeHealth"]

BackendState = Literal["claimed", "pending", "seen", "unavailable"]
"""What a backend said of a claim: this copy holds it; another holds it; it was confirmed; no answer."""

_POLL_MIN_S = 0.005
_POLL_MAX_S = 0.05


class Claim(msgspec.Struct, frozen=True):
    """What a copy of a delivery is to do.

    ``first``: publish, then ``confirm`` or ``release``. ``duplicate``: answer the first's ids
    (``events`` of them). ``in-progress``: the first still publishes after ``wait_s``.
    ``unavailable``: the store did not answer; publish anyway, then ``confirm`` or ``release``.
    """

    outcome: Literal["first", "duplicate", "in-progress", "unavailable"]
    events: int = 0


class DedupeHealth(msgspec.Struct, frozen=True, kw_only=True):
    """The dedupe store as /readyz shows it: a store that does not answer fails open, it does not make not-ready."""

    backend: Literal["local", "redis"]
    available: bool
    detail: str | None = None


class ClaimBackend(Protocol):
    """Where claims live across processes."""

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def try_claim(self, source: str, key: str) -> tuple[BackendState, int]:
        """Claim if nobody holds or confirmed it; with ``seen``, how many events the first answer had."""
        ...

    async def confirm(self, source: str, key: str, events: int) -> None:
        """Remember the delivery for the window (its claim ends)."""
        ...

    async def release(self, source: str, key: str) -> None:
        """Give the claim up: the delivery was not published."""
        ...

    def health(self) -> DedupeHealth: ...


class Claims:
    """The claim protocol over one backend; copies in this process wait on a future, not on the backend."""

    def __init__(self, backend: ClaimBackend, wait_s: float) -> None:
        self.backend = backend
        self._wait_s = wait_s
        self._local: dict[tuple[str, str], asyncio.Future[None]] = {}

    async def open(self) -> None:
        await self.backend.open()

    async def close(self) -> None:
        await self.backend.close()

    def health(self) -> DedupeHealth:
        return self.backend.health()

    async def claim(self, source: str, key: str) -> Claim:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait_s
        delivery = (source, key)
        while (holder := self._local.get(delivery)) is not None:
            try:
                await asyncio.wait_for(asyncio.shield(holder), deadline - loop.time())
            except TimeoutError:
                return Claim("in-progress")
        self._local[delivery] = loop.create_future()
        try:
            poll_s = _POLL_MIN_S
            while True:
                state, events = await self.backend.try_claim(source, key)
                if state == "claimed":
                    return Claim("first")
                if state == "unavailable":
                    return Claim("unavailable")
                if state == "seen":
                    self._done(delivery)
                    return Claim("duplicate", events)
                if loop.time() + poll_s > deadline:
                    self._done(delivery)
                    return Claim("in-progress")
                await asyncio.sleep(poll_s)
                poll_s = min(poll_s * 2, _POLL_MAX_S)
        except BaseException:
            self._done(delivery)
            raise

    async def confirm(self, source: str, key: str, events: int) -> None:
        """After publishing under a ``first`` or ``unavailable`` claim: remember it; waiting copies are duplicates."""
        try:
            await self.backend.confirm(source, key, events)
        finally:
            self._done((source, key))

    async def release(self, source: str, key: str) -> None:
        """After a failed publish: a waiting or later copy may publish."""
        try:
            await self.backend.release(source, key)
        finally:
            self._done((source, key))

    def _done(self, delivery: tuple[str, str]) -> None:
        holder = self._local.pop(delivery, None)
        if holder is not None and not holder.done():
            holder.set_result(None)
