"""Reading back what the gateway published, from a real broker, without consumer groups."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeAlias

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord

from gateway.records import record_header

__all__ = ["Record", "header", "read_until"]

Record: TypeAlias = ConsumerRecord[bytes, bytes]


def header(record: Record, name: str) -> bytes | None:
    """The first value of a record header, or None."""
    return record_header(record.headers, name)


async def read_until(
    bootstrap: str, topic: str, done: Callable[[list[Record]], bool], *, timeout_s: float = 15.0
) -> list[Record]:
    """Every record of ``topic`` from the earliest offset, until ``done(records)`` or the timeout."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list[Record] = []
    try:
        async with asyncio.timeout(timeout_s):
            while not done(records):
                batches = await consumer.getmany(timeout_ms=200)
                for batch in batches.values():
                    records.extend(batch)
    except TimeoutError:
        pass
    finally:
        await consumer.stop()
    return records
