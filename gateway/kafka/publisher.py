"""The one Kafka producer, with records of concurrent requests sharing batches.

Requests append their records to one open batch per topic-partition and
wait on that batch: one future, one produce request, one acknowledgement
for every request whose records it carries, where ``AIOKafkaProducer.send``
would cost a coroutine, a future and a metadata record per record. The
batches go through aiokafka's own batch API (``create_batch``/``send_batch``),
so its sender, retries, idempotence and compression stay in charge.

A batch stays open until aiokafka's sender takes it (while one produce
request is in flight, the next batch fills), it is full, or it carries a
large record (which goes alone, so a broker refusing it fails no one else).
Records nobody checked (``place``: spooled, quarantined) over
``max_request_size`` (as Kafka counts a batch holding one) are refused at
once with MessageSizeTooLargeError, as ``AIOKafkaProducer.send`` would;
``send_batch`` itself checks no size.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection, Sequence
from typing import Any, Literal

import msgspec
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import BrokerResponseError, KafkaError, MessageSizeTooLargeError

from gateway.config import KafkaSettings, TopicSettings
from gateway.kafka._aiokafka import Partitions, ProducerMetadata, murmur2
from gateway.kafka.refusals import first_oversized
from gateway.kafka.topics import topic_names
from gateway.outbound import OutboundRecord

__all__ = ["BrokerUnavailable", "PendingBatch", "ProducerRefusal", "Publisher", "Readiness", "first_failure"]

_log = structlog.get_logger("gateway.kafka.publisher")
_READINESS_CACHE_S = 1.0
_CONNECT_RETRY_S = 1.0
# A broker that refused the producer is asked again this rarely (a refusal is a setting, not a blip).
_REFUSED_RETRY_S = 30.0
# A record above this share of the batch size goes in a batch of its own.
_ALONE_FRACTION = 4
# Partition choices remembered per key (a source's raw records all share one key).
_PARTITION_CACHE_SIZE = 4096

BatchOutcome = Literal["acked", "failed", "late"]
BatchListener = Callable[["PendingBatch", BatchOutcome], None]
"""Told of each batch's ack or failure, and of its deadline passing before either."""


class BrokerUnavailable(Exception):
    """Records cannot even be queued: the producer is not connected, or a topic's partitions are unknown."""


class ProducerRefusal(msgspec.Struct, frozen=True, kw_only=True):
    """The broker answers, but refuses the producer the configuration asks for: a setting to change, not an outage.

    Today the one case: ``kafka.idempotence = true`` against a broker that
    rejects InitProducerId (no idempotent producer, as Tansu; or an ACL
    without IdempotentWrite on the cluster).
    """

    refused: str
    error: str
    setting: str
    fix: str

    @property
    def detail(self) -> str:
        return f"the broker refused {self.refused} ({self.error}); {self.fix}"


def _idempotence_refused(error: BrokerResponseError) -> ProducerRefusal:
    return ProducerRefusal(
        refused="the idempotent producer's InitProducerId request", error=type(error).__name__,
        setting="kafka.idempotence",
        fix="set kafka.idempotence = false for a broker without idempotent producers (Tansu), "
            "or grant this client IdempotentWrite on the cluster",
    )


class Readiness(msgspec.Struct, frozen=True, kw_only=True):
    """Whether the broker answers and the gateway's topics exist, or why the producer is refused."""

    broker: bool
    missing_topics: list[str] = []
    detail: str | None = None
    refusal: ProducerRefusal | None = None


class PendingBatch:
    """One batch of records for one topic-partition, shared by the requests whose records it carries.

    ``acked`` is the broker's outcome (a result, or the error), whenever it
    comes. ``in_time`` resolves first: True once acked, False if the batch
    failed or no ack came within the deadline.
    """

    __slots__ = ("acked", "builder", "created", "in_time", "_listener", "_timer")

    def __init__(
        self, builder: Any, deadline_s: float, loop: asyncio.AbstractEventLoop, listener: BatchListener | None
    ) -> None:
        self.builder = builder
        self.created = time.perf_counter()
        self.acked: asyncio.Future[None] = loop.create_future()
        self.in_time: asyncio.Future[bool] = loop.create_future()
        self._listener = listener
        self._timer = loop.call_later(deadline_s, self._deadline_passed)
        self.acked.add_done_callback(self._settled)

    @classmethod
    def refused(cls, error: KafkaError, loop: asyncio.AbstractEventLoop) -> PendingBatch:
        """A batch failed before it was sent (a record the client refuses): nobody else's records in it."""
        batch = cls(None, 0, loop, None)
        batch.acked.set_exception(error)
        return batch

    def append(self, record: OutboundRecord) -> bool:
        """Add the record; False when the batch is closed (taken by the sender, or full)."""
        return self.builder.append(timestamp=None, key=record.key, value=record.value,
                                   headers=record.headers) is not None

    def close(self) -> None:
        """Take no more records."""
        self.builder.close()

    @property
    def delivered(self) -> bool:
        """True once the broker acknowledged the batch."""
        return self.acked.done() and self.acked.exception() is None

    @property
    def error(self) -> BaseException | None:
        """Why the batch failed, once it has."""
        return self.acked.exception() if self.acked.done() else None

    def _deadline_passed(self) -> None:
        if not self.in_time.done():
            self.in_time.set_result(False)
            if self._listener is not None:
                self._listener(self, "late")

    def _settled(self, acked: asyncio.Future[None]) -> None:
        self._timer.cancel()
        delivered = acked.exception() is None
        if not self.in_time.done():
            self.in_time.set_result(delivered)
        if self._listener is not None:
            self._listener(self, "acked" if delivered else "failed")


async def first_failure(batches: Collection[PendingBatch]) -> BaseException | None:
    """Wait for every batch's outcome, however long aiokafka takes; the first failure, or None if all landed."""
    if batches:
        await asyncio.wait([batch.acked for batch in batches])
    return next((batch.error for batch in batches if batch.error is not None), None)


class Publisher:
    """Wraps one AIOKafkaProducer with acks=all, started and stopped with the app."""

    def __init__(self, kafka: KafkaSettings, topics: TopicSettings, max_request_size: int) -> None:
        self._kafka = kafka
        self._topic_names = topic_names(topics)
        self._max_request_size = max_request_size
        self._deadline_s = kafka.ack_timeout_ms / 1000
        self._alone_bytes = kafka.max_batch_bytes // _ALONE_FRACTION
        self._listener: BatchListener | None = None
        self._producer: AIOKafkaProducer | None = None
        self._metadata: ProducerMetadata | None = None
        self._connector: asyncio.Task[None] | None = None
        self._open: dict[tuple[str, int], PendingBatch] = {}
        self._submitting: set[asyncio.Task[None]] = set()
        self._partitions: dict[str, tuple[int, ...]] = {}
        self._partition_of: dict[tuple[str, bytes], int] = {}
        self._readiness = Readiness(broker=False, detail="not connected yet")
        self._readiness_checked_at = 0.0
        self._refusal: ProducerRefusal | None = None

    @property
    def connected(self) -> bool:
        return self._producer is not None

    @property
    def refusal(self) -> ProducerRefusal | None:
        """Why the broker refuses the configured producer, while it does."""
        return self._refusal

    @property
    def max_record_bytes(self) -> int:
        """The largest record batch (one record alone) the producer sends; larger records are refused."""
        return self._max_request_size

    @property
    def ack_deadline_s(self) -> float:
        """How long a request waits for its batches' acks before its records are spooled instead."""
        return self._deadline_s

    def listen(self, listener: BatchListener) -> None:
        """Report every batch's outcome to ``listener`` (one listener)."""
        self._listener = listener

    async def start(self) -> None:
        """Connect now if the broker answers, else keep trying in the background.

        A broker that refuses the producer (see ProducerRefusal) is reported
        as exactly that, here and in ``readiness()``, and asked again every
        30 s; meanwhile requests are spooled as when the broker is away.
        """
        if await self._connect_once():
            return
        if self._refusal is None:
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
            max_batch_size=self._kafka.max_batch_bytes,
            request_timeout_ms=self._kafka.request_timeout_ms,
            max_request_size=self._max_request_size,
            compression_type=None if self._kafka.compression == "none" else self._kafka.compression,
        )
        try:
            await producer.start()
        except BrokerResponseError as exc:
            # The bootstrap answered; only the idempotent producer's InitProducerId can be refused in start().
            await producer.stop()
            self._refused(_idempotence_refused(exc))
            return False
        except KafkaError:
            await producer.stop()
            return False
        if self._refusal is not None:
            _log.info("the broker accepts the producer now", setting=self._refusal.setting)
            self._refusal = None
        metadata = ProducerMetadata(producer, self._topic_names)
        await metadata.follow(self._partitions_changed)
        self._producer = producer
        self._metadata = metadata
        _log.info("producer connected", bootstrap_servers=self._kafka.bootstrap_servers)
        return True

    def _refused(self, refusal: ProducerRefusal) -> None:
        if self._refusal is None:
            _log.error("broker refused the producer; spooling until it is accepted", refused=refusal.refused,
                       error=refusal.error, setting=refusal.setting, fix=refusal.fix,
                       bootstrap_servers=self._kafka.bootstrap_servers)
        self._refusal = refusal
        self._readiness = Readiness(broker=False, detail=refusal.detail, refusal=refusal)
        self._readiness_checked_at = time.monotonic()

    async def _connect_forever(self) -> None:
        while not await self._connect_once():
            await asyncio.sleep(_CONNECT_RETRY_S if self._refusal is None else _REFUSED_RETRY_S)

    def _partitions_changed(self, known: Partitions) -> None:
        """Take the topics' partitions from fresh metadata (a partition count can grow)."""
        if known != self._partitions:
            self._partitions = known
            self._partition_of.clear()

    async def stop(self) -> None:
        """Flush what is pending and disconnect; a batch nobody could send fails its waiters."""
        if self._connector is not None:
            self._connector.cancel()
            await asyncio.gather(self._connector, return_exceptions=True)
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None
            self._metadata = None
            _log.info("producer stopped")
        for task in self._submitting:
            task.cancel()
        await asyncio.gather(*self._submitting, return_exceptions=True)
        self._open.clear()

    def append(self, records: Sequence[OutboundRecord]) -> list[PendingBatch]:
        """Add the records to open batches; the batches that now carry them (each once).

        Raises BrokerUnavailable, before adding any record, when a record
        cannot be placed: the caller spools them all. The records fit
        ``max_record_bytes``: the caller checked (``Deliverer.deliver`` does,
        before anything is acknowledged), so the hot path measures them once.
        """
        return list(dict.fromkeys(self._place(records, checked=True)))

    def place(self, records: Sequence[OutboundRecord]) -> list[PendingBatch]:
        """As ``append``, for records nobody checked (spooled, quarantined): the batch of each record, in order.

        A record over ``max_record_bytes`` gets a batch of its own, failed with MessageSizeTooLargeError.
        """
        return self._place(records, checked=False)

    def _place(self, records: Sequence[OutboundRecord], *, checked: bool) -> list[PendingBatch]:
        producer = self._producer
        if producer is None:
            raise BrokerUnavailable("the producer is not connected")
        placed = [(self._partition(record), record) for record in records]
        if checked:
            return [self._append(producer, (record.topic, partition), record) for partition, record in placed]
        return [self._too_large(record) or self._append(producer, (record.topic, partition), record)
                for partition, record in placed]

    def _too_large(self, record: OutboundRecord) -> PendingBatch | None:
        """A failed batch for a record over the limit, as ``AIOKafkaProducer.send`` refuses it (send_batch checks no
        size); None when it fits."""
        too_large = first_oversized((record,), self._max_request_size)
        if too_large is None:
            return None
        return PendingBatch.refused(MessageSizeTooLargeError(str(too_large)), asyncio.get_running_loop())

    def _partition(self, record: OutboundRecord) -> int:
        """Kafka's default partitioner for keyed records: murmur2 of the key, so each key keeps its order."""
        partitions = self._partitions.get(record.topic)
        if partitions is None:
            self._ask_for_metadata()
            raise BrokerUnavailable(f"no partitions known for topic {record.topic!r} (yet)")
        if len(partitions) == 1:
            return partitions[0]
        key = record.key or b""
        cached = self._partition_of.get((record.topic, key))
        if cached is None:
            if len(self._partition_of) >= _PARTITION_CACHE_SIZE:
                self._partition_of.clear()
            cached = self._partition_of[(record.topic, key)] = partitions[(murmur2(key) & 0x7FFFFFFF) % len(partitions)]
        return cached

    def _append(self, producer: AIOKafkaProducer, where: tuple[str, int], record: OutboundRecord) -> PendingBatch:
        alone = len(record.value) > self._alone_bytes
        batch = self._open.get(where)
        if batch is not None:
            if batch.in_time.done():
                batch.close()  # its deadline passed: a newcomer gets a batch, and a deadline, of its own
            elif not alone and batch.append(record):
                return batch
        batch = PendingBatch(producer.create_batch(), self._deadline_s, asyncio.get_running_loop(), self._listener)
        batch.append(record)  # an empty batch takes any record, whatever its size
        if alone:
            batch.close()
        else:
            self._open[where] = batch
        task = asyncio.create_task(self._submit(producer, where, batch))
        self._submitting.add(task)
        task.add_done_callback(self._submitting.discard)
        return batch

    async def _submit(self, producer: AIOKafkaProducer, where: tuple[str, int], batch: PendingBatch) -> None:
        """Hand the batch to aiokafka (after the partition's previous one is taken) and settle its futures."""
        topic, partition = where
        try:
            sent = await producer.send_batch(batch.builder, topic, partition=partition)
            await sent
        except (Exception, asyncio.CancelledError) as exc:  # noqa: BLE001 - every waiter must hear of it
            batch.close()
            if self._open.get(where) is batch:
                del self._open[where]
            failure = exc if isinstance(exc, KafkaError) else KafkaError(f"batch not sent: {type(exc).__name__}")
            batch.acked.set_exception(failure)
        else:
            batch.acked.set_result(None)

    def _ask_for_metadata(self) -> None:
        if self._metadata is not None:
            self._metadata.refresh()

    async def readiness(self) -> Readiness:
        """Ask the broker for its topics, at most once a second."""
        now = time.monotonic()
        if now - self._readiness_checked_at < _READINESS_CACHE_S:
            return self._readiness
        self._readiness_checked_at = now
        if self._metadata is None:
            self._readiness = Readiness(broker=False, detail=self._refusal.detail if self._refusal else
                                        "producer not connected", refusal=self._refusal)
            return self._readiness
        try:
            async with asyncio.timeout(2):
                present = await self._metadata.topics()
        except (TimeoutError, KafkaError) as exc:
            self._readiness = Readiness(broker=False, detail=f"broker not answering: {type(exc).__name__}")
        else:
            missing = [name for name in self._topic_names if name not in present]
            self._readiness = Readiness(broker=True, missing_topics=missing)
        return self._readiness
