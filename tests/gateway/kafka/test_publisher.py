"""The publisher against a real broker: shared batches, Kafka's key partitioning, large records alone."""

from __future__ import annotations

import os
import signal
import uuid

from aiokafka.partitioner import DefaultPartitioner

from gateway.config import KafkaSettings, TopicSettings
from gateway.kafka.broker import EmbeddedBroker
from gateway.kafka.publisher import BrokerUnavailable, Publisher
from gateway.kafka.topics import ensure_topics
from gateway.outbound import OutboundRecord
from tests.kafka import read_until
from tests.waiting import freeze, until


def _topics(partitions: int) -> TopicSettings:
    run = uuid.uuid4().hex[:8]
    return TopicSettings(canonical=f"pub-{run}.c", raw=f"pub-{run}.r", dead_letter=f"pub-{run}.d", partitions=partitions)


async def _publisher(
    broker: EmbeddedBroker, topics: TopicSettings, *, max_batch_bytes: int = 1 << 20, ack_timeout_ms: int = 1000
) -> Publisher:
    await ensure_topics(broker.bootstrap_servers, topics)
    settings = KafkaSettings(bootstrap_servers=broker.bootstrap_servers, idempotence=False,
                             max_batch_bytes=max_batch_bytes, ack_timeout_ms=ack_timeout_ms)
    publisher = Publisher(settings, topics, max_request_size=4 << 20)
    await publisher.start()
    assert publisher.connected
    return publisher


def _record(topic: str, key: str, size: int = 100) -> OutboundRecord:
    return OutboundRecord(topic=topic, key=key.encode(), value=key.encode().ljust(size, b"."), headers=[("h", b"v")])


async def test_concurrent_requests_share_batches_and_every_record_lands_in_order(broker: EmbeddedBroker) -> None:
    topics = _topics(1)
    publisher = await _publisher(broker, topics)
    try:
        per_request = [publisher.append([_record(topics.canonical, f"k{n}"), _record(topics.raw, f"raw{n}")])
                       for n in range(200)]
        batches = {batch for batches in per_request for batch in batches}
        assert len(batches) < 20, "records appended in one loop turn share a few batches, not one each"
        assert all([await batch.in_time for batch in batches])
    finally:
        await publisher.stop()
    records = await read_until(broker.bootstrap_servers, topics.canonical, lambda got: len(got) >= 200)
    assert [record.key for record in records] == [f"k{n}".encode() for n in range(200)]
    assert all(list(record.headers) == [("h", b"v")] for record in records)


async def test_keyed_records_go_where_kafkas_default_partitioner_puts_them(broker: EmbeddedBroker) -> None:
    topics = _topics(3)
    publisher = await _publisher(broker, topics)
    keys = [f"picktime:B{n}" for n in range(60)]
    try:
        batches = {batch for key in keys for batch in publisher.append([_record(topics.canonical, key)])}
        assert all([await batch.in_time for batch in batches])
    finally:
        await publisher.stop()
    records = await read_until(broker.bootstrap_servers, topics.canonical, lambda got: len(got) >= len(keys))
    partitioner = DefaultPartitioner()
    expected = {key.encode(): partitioner(key.encode(), [0, 1, 2], [0, 1, 2]) for key in keys}
    assert {record.key: record.partition for record in records} == expected
    assert len(set(expected.values())) == 3


async def test_a_large_record_travels_in_a_batch_of_its_own(broker: EmbeddedBroker) -> None:
    topics = _topics(1)
    publisher = await _publisher(broker, topics, max_batch_bytes=64 * 1024)
    try:
        [small] = publisher.append([_record(topics.raw, "small")])
        [large] = publisher.append([_record(topics.raw, "large", size=20 * 1024)])
        [after] = publisher.append([_record(topics.raw, "after")])
        assert large is not small and after is small, "the open batch stays open for the records after"
        assert await large.in_time and await small.in_time
    finally:
        await publisher.stop()


async def test_a_topic_without_known_partitions_refuses_before_queueing_anything(broker: EmbeddedBroker) -> None:
    topics = _topics(1)
    publisher = await _publisher(broker, topics)
    try:
        records = [_record(topics.raw, "kept-out"), _record("no-such-topic-anywhere", "x")]
        try:
            publisher.append(records)
        except BrokerUnavailable as exc:
            assert "no-such-topic-anywhere" in str(exc)
        else:
            raise AssertionError("expected BrokerUnavailable")
        [batch] = publisher.append([_record(topics.raw, "only")])
        assert await batch.in_time
    finally:
        await publisher.stop()
    records = await read_until(broker.bootstrap_servers, topics.raw, lambda got: any(r.key == b"only" for r in got))
    assert [record.key for record in records] == [b"only"]


async def test_a_batch_the_broker_cannot_take_in_time_answers_false_then_settles(broker: EmbeddedBroker) -> None:
    """A frozen broker: the batch misses its deadline (in_time False), then lands once the broker resumes."""
    topics = _topics(1)
    publisher = await _publisher(broker, topics, ack_timeout_ms=100)
    outcomes: list[str] = []
    publisher.listen(lambda batch, outcome: outcomes.append(outcome))
    assert broker.pid is not None
    try:
        freeze(broker.pid)
        try:
            [batch] = publisher.append([_record(topics.raw, "slow")])
            assert await batch.in_time is False
        finally:
            os.kill(broker.pid, signal.SIGCONT)
        await until(batch.acked.done, "the batch to settle once the broker resumes", timeout_s=30)
        assert batch.delivered and outcomes == ["late", "acked"]
    finally:
        await publisher.stop()  # also when an assertion failed: a producer left open fails a later test


async def test_appending_without_a_connection_is_refused() -> None:
    publisher = Publisher(KafkaSettings(bootstrap_servers="127.0.0.1:1"), TopicSettings(), max_request_size=1 << 20)
    try:
        publisher.append([_record("t", "k")])
    except BrokerUnavailable as exc:
        assert "not connected" in str(exc)
    else:
        raise AssertionError("expected BrokerUnavailable")


async def test_a_record_after_a_batchs_deadline_starts_a_batch_with_its_own(broker: EmbeddedBroker) -> None:
    """A batch past its deadline takes no newcomers: they get a fresh batch and a full deadline."""
    topics = _topics(1)
    publisher = await _publisher(broker, topics, ack_timeout_ms=100)
    assert broker.pid is not None
    try:
        freeze(broker.pid)
        try:
            [late] = publisher.append([_record(topics.raw, "first")])
            assert await late.in_time is False
            [fresh] = publisher.append([_record(topics.raw, "second")])
            assert fresh is not late and not fresh.in_time.done()
        finally:
            os.kill(broker.pid, signal.SIGCONT)
        await until(lambda: late.acked.done() and fresh.acked.done(), "both batches to settle once the broker resumes",
                    timeout_s=30)
        assert late.delivered and fresh.delivered
    finally:
        await publisher.stop()
    records = await read_until(broker.bootstrap_servers, topics.raw,
                               lambda got: {record.key for record in got} >= {b"first", b"second"})
    # At least once: a send retried while the broker was frozen may land twice; the order is what is promised.
    assert list(dict.fromkeys(record.key for record in records)) == [b"first", b"second"]
