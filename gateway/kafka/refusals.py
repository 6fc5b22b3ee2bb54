"""What the broker refuses for good: records over its size limit, and how a permanent refusal is told from a blip.

Kafka refuses a record batch larger than ``message.max.bytes`` (1,048,588 by
default), counted as the whole batch with its 61-byte header. The gateway
checks every record against ``kafka.max_record_bytes`` before anything is
acknowledged, with the size of a batch holding that record alone; the
publisher refuses the same records the same way when the relay sends them.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka.errors import (
    BrokerResponseError,
    ClusterAuthorizationFailedError,
    TopicAuthorizationFailedError,
    TransactionalIdAuthorizationFailed,
)

from gateway.outbound import OutboundRecord

__all__ = ["BATCH_HEADER_BYTES", "RecordTooLarge", "first_oversized", "is_permanent", "record_batch_bytes"]

BATCH_HEADER_BYTES = 61
"""A v2 record batch's header, base offset and length included (Kafka's RECORD_BATCH_OVERHEAD)."""
# The broker refuses these with retriable = False, but for an ACL to fix, not for anything in the record:
# the relay keeps retrying them in order instead of setting every record aside.
_NOT_THE_RECORDS_FAULT = (TopicAuthorizationFailedError, ClusterAuthorizationFailedError,
                          TransactionalIdAuthorizationFailed)


class RecordTooLarge(Exception):
    """A record over ``kafka.max_record_bytes``: the broker would refuse it for good, so none of its request is kept."""

    def __init__(self, topic: str, size: int, limit: int) -> None:
        super().__init__(f"a record for topic {topic!r} is {size} bytes as Kafka counts it; "
                         f"the limit (kafka.max_record_bytes) is {limit}")
        self.topic = topic
        self.size = size
        self.limit = limit


def _varint_bytes(value: int) -> int:
    """The length of Kafka's zigzag varint of ``value``."""
    zigzag = (value << 1) ^ (value >> 63)
    length = 1
    while zigzag >= 0x80:
        zigzag >>= 7
        length += 1
    return length


def record_batch_bytes(record: OutboundRecord) -> int:
    """The size of a record batch holding only ``record``, as Kafka counts it (uncompressed: with compression
    on, an upper bound of what the broker sees)."""
    key = -1 if record.key is None else len(record.key)
    body = 3 + _varint_bytes(key) + max(key, 0) + _varint_bytes(len(record.value)) + len(record.value)
    body += _varint_bytes(len(record.headers))
    for name, value in record.headers:
        encoded = len(name.encode())
        body += _varint_bytes(encoded) + encoded + _varint_bytes(len(value)) + len(value)
    return BATCH_HEADER_BYTES + _varint_bytes(body) + body


def _upper_bound(record: OutboundRecord) -> int:
    """At least ``record_batch_bytes``, in a few operations (every varint at its 5-byte most, 4 bytes a character)."""
    size = _FIXED_BOUND + len(record.value) + (0 if record.key is None else len(record.key))
    for name, value in record.headers:
        size += 10 + 4 * len(name) + len(value)
    return size


# Header, the record's length, attributes, deltas, key and value lengths, header count: each varint at most 5 bytes.
_FIXED_BOUND = BATCH_HEADER_BYTES + 5 + 3 + 5 + 5 + 5


def first_oversized(records: Sequence[OutboundRecord], limit: int) -> RecordTooLarge | None:
    """The first record over ``limit`` bytes, as the error that says so; None when all fit.

    Most records are far below the limit: the exact size is computed only when a cheap upper bound passes it.
    """
    for record in records:
        if _upper_bound(record) <= limit:
            continue
        size = record_batch_bytes(record)
        if size > limit:
            return RecordTooLarge(record.topic, size, limit)
    return None


def is_permanent(error: BaseException) -> bool:
    """True when the broker (or the client's own check) refused the records for good: retrying them unchanged
    cannot succeed. Connection losses, timeouts, cancellations and authorization failures are not."""
    return (isinstance(error, BrokerResponseError) and not error.retriable
            and not isinstance(error, _NOT_THE_RECORDS_FAULT))
