"""Reading a topic without a consumer group, knowing where its end was when reading began.

The end of a partition is taken from the high watermark of the first fetch
response for it, not from ``end_offsets``/``seek_to_end`` (ListOffsets):
Apache Kafka answers both the same, but Tansu's ListOffsets answers one past
the *first* record of the last batch, while its fetch responses carry the
true high watermark. Measured with aiokafka 0.14 and Tansu 0.6.0.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from gateway.kafka.broker import BrokerError

__all__ = ["EndMarks", "KafkaUnavailable", "open_consumer"]

_FIRST_FETCH_S = 10.0
_MAX_MESSAGE_BYTES = 64 * 1024 * 1024


class KafkaUnavailable(BrokerError):
    """The broker cannot be reached, or lacks the topic to read."""


async def open_consumer(bootstrap: str, topic: str, *, from_end: bool) -> tuple[Any, list[Any]]:
    """A started consumer assigned every partition of ``topic``, at its beginning or (roughly) its end."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, auto_offset_reset="earliest",
        max_partition_fetch_bytes=_MAX_MESSAGE_BYTES, fetch_max_bytes=_MAX_MESSAGE_BYTES,
    )
    try:
        await consumer.start()
        await consumer.topics()  # fills the metadata without asking the broker to auto-create anything
    except KafkaError as exc:
        await consumer.stop()
        raise KafkaUnavailable(f"cannot reach Kafka at {bootstrap} ({exc}); is the broker running?") from None
    numbers = consumer.partitions_for_topic(topic)
    if not numbers:
        await consumer.stop()
        raise KafkaUnavailable(f"topic {topic!r} does not exist on {bootstrap}; check --topic or the config")
    partitions = [TopicPartition(topic, number) for number in sorted(numbers)]
    consumer.assign(partitions)
    await (consumer.seek_to_end(*partitions) if from_end else consumer.seek_to_beginning(*partitions))
    return consumer, partitions


class EndMarks:
    """Per partition, the high watermark of the first fetch response: the end as it was when reading began."""

    def __init__(self, consumer: Any, partitions: list[Any]) -> None:
        self._consumer = consumer
        self._partitions = partitions
        self._marks: dict[Any, int] = {}

    def update(self) -> None:
        """Record the end of every partition whose first fetch response has come back since the last call."""
        for partition in self._partitions:
            if partition not in self._marks:
                highwater = self._consumer.highwater(partition)
                if highwater is not None:
                    self._marks[partition] = highwater

    @property
    def complete(self) -> bool:
        return len(self._marks) == len(self._partitions)

    def before_end(self, record: Any) -> bool:
        """Whether ``record`` was already on the topic when reading began."""
        mark = self._marks.get(TopicPartition(record.topic, record.partition))
        return mark is not None and record.offset < mark

    async def reached(self) -> bool:
        """Whether every partition has been read up to its mark."""
        if not self.complete:
            return False
        for partition in self._partitions:
            if await self._consumer.position(partition) < self._marks[partition]:
                return False
        return True

    async def wait_complete(self) -> None:
        """Poll (buffering nothing away: records are re-fetched) until every partition has a mark."""
        deadline = time.monotonic() + _FIRST_FETCH_S
        while not self.complete:
            if time.monotonic() > deadline:
                raise KafkaUnavailable(f"no fetch answer within {_FIRST_FETCH_S:.0f} s; is the broker healthy?")
            await asyncio.sleep(0.02)
            self.update()
