"""Mapping requests without holding the event loop: small bodies inline, large ones on a bounded thread pool."""

from __future__ import annotations

import asyncio
import contextvars
from concurrent.futures import ThreadPoolExecutor

from adapters.base import VerifiedRequest
from adapters.limits import RepairLimits, set_repair_limits
from gateway.config import MappingSettings, TopicSettings
from gateway.flow.pipeline import Processed, process
from gateway.flow.sources import Source

__all__ = ["Mapper", "apply_repair_limits"]


def apply_repair_limits(settings: MappingSettings) -> None:
    """Make the configured repair budget and listing the adapters' limits in this process."""
    set_repair_limits(RepairLimits(max_repairs=settings.max_repairs, listed_repairs=settings.listed_repairs))


class Mapper:
    """Runs ``process`` for the webhook endpoint: inline up to ``thread_above_bytes``, else on ``threads`` threads.

    Mapping is linear in the body, so a body of a few KiB costs well under a
    millisecond and a thread hop would cost more than it saves; a large one
    (a repair of 1 MiB takes about a second) must not stop the loop from
    answering everyone else meanwhile. The pool is bounded: large bodies
    beyond ``threads`` wait their turn. Python's GIL switch interval (5 ms)
    lets the loop run while a thread maps.
    """

    def __init__(self, settings: MappingSettings, topics: TopicSettings) -> None:
        apply_repair_limits(settings)
        self._inline_bytes = settings.thread_above_bytes
        self._max_events = settings.max_events
        self._topics = topics
        self._pool = ThreadPoolExecutor(max_workers=settings.threads, thread_name_prefix="gateway-mapping")

    async def process(self, source: Source, request: VerifiedRequest, traceparent: bytes | None = None) -> Processed:
        """The request's records (each with ``traceparent``), mapped where its size says (log context carried along)."""
        if len(request.body) <= self._inline_bytes:
            return process(source, request, self._topics, self._max_events, traceparent)
        run = contextvars.copy_context().run
        return await asyncio.get_running_loop().run_in_executor(
            self._pool, run, process, source, request, self._topics, self._max_events, traceparent)

    def close(self) -> None:
        """Stop the threads once the bodies they are mapping are done (at shutdown, no request is waiting)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
