"""The one Kafka producer: sends a request's records together and waits for the broker's acks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import msgspec
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from gateway.config import KafkaSettings, TopicSettings
from gateway.errors import PublishError
from gateway.records import OutboundRecord
from gateway.topics import topic_names

__all__ = ["Publisher", "Readiness"]

_log = structlog.get_logger("gateway.publisher")
_READINESS_CACHE_S = 1.0


class Readiness(msgspec.Struct, frozen=True, kw_only=True):
    """Whether the broker answers and the gateway's topics exist."""

    broker: bool
    missing_topics: list[str] = []
    detail: str | None = None

    @property
    def ready(self) -> bool:
        return self.broker and not self.missing_topics


class Publisher:
    """Wraps one AIOKafkaProducer with acks=all, started and stopped with the app."""

    def __init__(self, kafka: KafkaSettings, topics: TopicSettings, max_request_size: int) -> None:
        self._kafka = kafka
        self._topic_names = topic_names(topics)
        self._max_request_size = max_request_size
        self._producer: AIOKafkaProducer | None = None
        self._readiness = Readiness(broker=False, detail="not started")
        self._readiness_checked_at = 0.0

    async def start(self) -> None:
        """Connect to the broker; raises KafkaError when it cannot be reached."""
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._kafka.bootstrap_servers,
            client_id=self._kafka.client_id,
            acks="all",
            enable_idempotence=self._kafka.idempotence,
            linger_ms=self._kafka.linger_ms,
            request_timeout_ms=self._kafka.request_timeout_ms,
            max_request_size=self._max_request_size,
            compression_type=None if self._kafka.compression == "none" else self._kafka.compression,
        )
        await self._producer.start()
        _log.info("producer started", bootstrap_servers=self._kafka.bootstrap_servers)

    async def stop(self) -> None:
        """Flush what is pending and disconnect."""
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None
            _log.info("producer stopped")

    async def publish(self, records: Sequence[OutboundRecord]) -> None:
        """Send every record and return once the broker acknowledged all of them.

        Raises PublishError when the broker refuses or does not answer
        within ``ack_timeout_ms``.
        """
        if self._producer is None:
            raise PublishError("the producer is not running")
        try:
            async with asyncio.timeout(self._kafka.ack_timeout_ms / 1000):
                await self._send_all(self._producer, records)
        except TimeoutError:
            raise PublishError(f"the broker did not acknowledge within {self._kafka.ack_timeout_ms} ms") from None
        except KafkaError as exc:
            raise PublishError(f"the broker refused the records: {type(exc).__name__}") from None

    @staticmethod
    async def _send_all(producer: AIOKafkaProducer, records: Sequence[OutboundRecord]) -> None:
        acks = [
            await producer.send(record.topic, record.value, key=record.key, headers=record.headers)
            for record in records
        ]
        await asyncio.gather(*acks)

    async def readiness(self) -> Readiness:
        """Ask the broker for its topics, at most once a second."""
        now = time.monotonic()
        if self._producer is None or now - self._readiness_checked_at < _READINESS_CACHE_S:
            return self._readiness
        self._readiness_checked_at = now
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
