"""Reading back what the gateway published, from a real broker, without consumer groups."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

from aiokafka.structs import ConsumerRecord

from gateway.commands._consume import EndMarks, open_consumer
from gateway.kafka.records import record_header
from tests.waiting import until

__all__ = ["Record", "header", "read_until"]

Record: TypeAlias = ConsumerRecord[bytes, bytes]


def header(record: Record, name: str) -> bytes | None:
    """The first value of a record header, or None."""
    return record_header(record.headers, name)


async def read_until(
    bootstrap: str,
    topic: str,
    done: Callable[[list[Record]], bool],
    *,
    timeout_s: float = 15.0,
    what: str = "the records waited for",
) -> list[Record]:
    """Every record of ``topic`` from the earliest offset, once ``done(records)`` holds.

    Reading goes on at least to the end the topic had when it began (the high watermark of
    the first fetch), so a test also sees whatever was written after the records it waits
    for, such as a duplicate. AssertionError if ``done`` does not hold within ``timeout_s``.
    """
    consumer, partitions = await open_consumer(bootstrap, topic, from_end=False)
    marks = EndMarks(consumer, partitions)
    records: list[Record] = []

    async def read_more() -> bool:
        for batch in (await consumer.getmany(timeout_ms=200)).values():
            records.extend(batch)
        marks.update()
        return done(records) and await marks.reached()

    try:
        await until(read_more, f"{what} on {topic} (and its end as reading began)", timeout_s=timeout_s,
                    interval_s=0, context=lambda: f"{len(records)} record(s) read")
    finally:
        await consumer.stop()
    return records
