"""What the broker refuses for good: a record's size as Kafka counts it, and permanent refusals told from blips."""

from __future__ import annotations

import pytest
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RequestTimedOutError,
    TopicAuthorizationFailedError,
    UnknownTopicOrPartitionError,
)
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from gateway.kafka.refusals import first_oversized, is_permanent, record_batch_bytes
from gateway.outbound import OutboundRecord


def _built_size(record: OutboundRecord) -> int:
    """The bytes of a v2 batch holding the record alone, built by aiokafka (the reference, used here only)."""
    builder = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=0, producer_id=-1,
                                        producer_epoch=-1, base_sequence=-1, batch_size=1 << 30)
    builder.append(0, timestamp=None, key=record.key, value=record.value, headers=record.headers)
    return len(builder.build())


@pytest.mark.parametrize(
    "record",
    [
        OutboundRecord(topic="t", key=None, value=b"", headers=[]),
        OutboundRecord(topic="t", key=b"k", value=b"v" * 127, headers=[("h", b"")]),
        OutboundRecord(topic="t", key=b"k" * 128, value=b"v" * 16_384, headers=[("gateway-meta", b"m" * 300)] * 3),
        OutboundRecord(topic="t", key=b"picktime:B1", value=b"x" * 1_048_576,
                       headers=[("content-type", b"application/json"), ("h\u00e9", b"\xff" * 70_000)]),
    ],
    ids=["empty", "varint-edges", "several-headers", "a-mebibyte-body"],
)
def test_record_batch_bytes_is_what_kafka_counts(record: OutboundRecord) -> None:
    """The computed size equals the length of the batch aiokafka builds for the record alone, and the limit
    check (a cheap bound first) refuses exactly the records over it."""
    size = _built_size(record)
    assert record_batch_bytes(record) == size
    assert first_oversized([record], size) is None
    assert first_oversized([record], size - 1) is not None


def test_first_oversized_names_the_record_and_the_limit() -> None:
    """A record one byte over the limit is refused, one at the limit is not."""
    record = OutboundRecord(topic="bookings.raw.v1", key=b"s", value=b"x" * 1000, headers=[])
    size = record_batch_bytes(record)
    assert first_oversized([record], size) is None
    refused = first_oversized([record], size - 1)
    assert refused is not None and (refused.topic, refused.size, refused.limit) == ("bookings.raw.v1", size, size - 1)
    assert "kafka.max_record_bytes" in str(refused)


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (MessageSizeTooLargeError("too large"), True),
        (RecordListTooLargeError(), True),
        (RequestTimedOutError(), False),
        (UnknownTopicOrPartitionError(), False),
        (KafkaConnectionError(), False),
        (KafkaTimeoutError(), False),  # retriable = False, but the batch only expired: not the broker's verdict
        (KafkaError("batch not sent: CancelledError"), False),
        (TopicAuthorizationFailedError(), False),  # an ACL to fix: retried in order, not set aside
        (ValueError("a bug"), False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else str(value),
)
def test_only_the_brokers_verdict_on_the_records_is_permanent(error: BaseException, permanent: bool) -> None:
    """Permanent means a non-retriable broker response about the records; everything else is retried in order."""
    assert is_permanent(error) is permanent
