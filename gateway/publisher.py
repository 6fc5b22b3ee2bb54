"""The one Kafka producer: connects (and reconnects at start) in the background, sends with acks=all."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import msgspec
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from gateway.config import KafkaSettings, TopicSettings
from gateway.records import OutboundRecord
from gateway.topics import topic_names

__all__ = ["Ack", "BrokerUnavailable", "Publisher", "Readiness"]

_log = structlog.get_logger("gateway.publisher")
_READINESS_CACHE_S = 1.0
_CONNECT_RETRY_S = 1.0

Ack = asyncio.Future[object]
"""Resolves when the broker acknowledged one record (or fails with the broker's error)."""


class BrokerUnavailable(Exception):
    """The producer is not connected (yet): records cannot even be queued."""


class Readiness(msgspec.Struct, frozen=True, kw_only=True):
    """Whether the broker answers and the gateway's topics exist."""

    broker: bool
    missing_topics: list[str] = []
    detail: str | None = None


class Publisher:
    """Wraps one AIOKafkaProducer with acks=all, started and stopped with the app."""

    def __init__(self, kafka: KafkaSettings, topics: TopicSettings, max_request_size: int) -> None:
        self._kafka = kafka
        self._topic_names = topic_names(topics)
        self._max_request_size = max_request_size
        self._producer: AIOKafkaProducer | None = None
        self._connector: asyncio.Task[None] | None = None
        self._readiness = Readiness(broker=False, detail="not connected yet")
        self._readiness_checked_at = 0.0

    @property
    def connected(self) -> bool:
        return self._producer is not None

    async def start(self) -> None:
        """Connect now if the broker answers, else keep trying in the background."""
        if not await self._connect_once():
            _log.warning("broker unreachable at start; retrying in the background",
                         bootstrap_servers=self._kafka.bootstrap_servers)
            self._connector = asyncio.create_task(self._connect_forever(), name="producer-connect")

    async def _connect_once(self) -> bool:
        producer = AIOKafkaProducer(
            bootstrap_servers=self._kafka.bootstrap_servers,
            client_id=self._kafka.client_id,
            acks="all",
            enable_idempotence=self._kafka.idempotence,
            linger_ms=self._kafka.linger_ms,
            # One produce request per broker round trip carries a batch per partition:
            # the 16 KiB default caps a busy gateway at a few thousand records a second.
            max_batch_size=self._kafka.max_batch_bytes,
            request_timeout_ms=self._kafka.request_timeout_ms,
            max_request_size=self._max_request_size,
            compression_type=None if self._kafka.compression == "none" else self._kafka.compression,
        )
        try:
            await producer.start()
        except KafkaError:
            await producer.stop()
            return False
        self._producer = producer
        _log.info("producer connected", bootstrap_servers=self._kafka.bootstrap_servers)
        return True

    async def _connect_forever(self) -> None:
        while not await self._connect_once():
            await asyncio.sleep(_CONNECT_RETRY_S)

    async def stop(self) -> None:
        """Flush what is pending and disconnect."""
        if self._connector is not None:
            self._connector.cancel()
            await asyncio.gather(self._connector, return_exceptions=True)
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None
            _log.info("producer stopped")

    async def enqueue(self, records: Sequence[OutboundRecord], acks: list[Ack]) -> None:
        """Queue every record for sending, appending one ack future per record to ``acks``.

        ``acks`` is filled as records are queued, so a caller that gives up
        (a timeout) still knows which records may yet reach the broker.
        Raises BrokerUnavailable when not connected, KafkaError on refusal.
        """
        producer = self._producer
        if producer is None:
            raise BrokerUnavailable("the producer is not connected")
        cluster = producer.client.cluster
        for record in records:
            # A topic of one partition needs no key hash (aiokafka's murmur2 is pure Python).
            partitions = cluster.partitions_for_topic(record.topic)
            partition = next(iter(partitions)) if partitions is not None and len(partitions) == 1 else None
            acks.append(await producer.send(
                record.topic, record.value, key=record.key, headers=record.headers, partition=partition
            ))

    async def readiness(self) -> Readiness:
        """Ask the broker for its topics, at most once a second."""
        now = time.monotonic()
        if now - self._readiness_checked_at < _READINESS_CACHE_S:
            return self._readiness
        self._readiness_checked_at = now
        if self._producer is None:
            self._readiness = Readiness(broker=False, detail="producer not connected")
            return self._readiness
        try:
            async with asyncio.timeout(2):
                metadata = await self._producer.client.fetch_all_metadata()
        except (TimeoutError, KafkaError) as exc:
            self._readiness = Readiness(broker=False, detail=f"broker not answering: {type(exc).__name__}")
        else:
            present = metadata.topics()
            missing = [name for name in self._topic_names if name not in present]
            self._readiness = Readiness(broker=True, missing_topics=missing)
        return self._readiness
