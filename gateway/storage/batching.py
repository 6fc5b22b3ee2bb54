"""Work submitted during one turn of the event loop, handled together: one round trip for many requests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

__all__ = ["TickBatcher"]

_Item = TypeVar("_Item")
_Result = TypeVar("_Result")


class TickBatcher(Generic[_Item, _Result]):
    """``await batcher.submit(item)``: the item's result from ``handle``, called once for what one tick submitted.

    ``handle`` returns one result per item, in order; if it raises, every item of that batch gets the error.
    Items submitted while a batch is being handled go in the next one.
    """

    def __init__(self, handle: Callable[[Sequence[_Item]], Awaitable[Sequence[_Result]]], name: str) -> None:
        self._handle = handle
        self._name = name
        self._queued: list[tuple[_Item, asyncio.Future[_Result]]] = []
        self._runner: asyncio.Task[None] | None = None

    def submit(self, item: _Item) -> asyncio.Future[_Result]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[_Result] = loop.create_future()
        self._queued.append((item, future))
        if self._runner is None or self._runner.done():
            self._runner = loop.create_task(self._run(), name=self._name)
        return future

    async def _run(self) -> None:
        await asyncio.sleep(0)  # let this tick's other requests join
        while self._queued:
            batch, self._queued = self._queued, []
            try:
                results = await self._handle([item for item, _ in batch])
            except Exception as exc:  # noqa: BLE001 - every waiter gets the error, the batcher goes on
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def close(self) -> None:
        """Wait for what was submitted."""
        if self._runner is not None:
            await asyncio.gather(self._runner, return_exceptions=True)
