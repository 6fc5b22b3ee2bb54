"""The README's consumer section, against the CloudEvents SDK and a record the gateway wrote to a real broker."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import msgspec
import pytest
from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings.kafka import KafkaMessage, from_kafka, from_structured
from cloudevents.core.formats.json import JSONFormat

from gateway.kafka.broker import EmbeddedBroker
from schemas.canonical import CloudEvent
from tests.conftest import TOKEN, TOPICS
from tests.kafka import Record, header, read_until

SAMPLE = Path(__file__).parent / "adapters" / "testdata" / "picktime" / "seed_service_created.json"


@pytest.fixture
async def record(client: httpx.Client, broker: EmbeddedBroker) -> Record:
    """The canonical record the gateway published for one Picktime sample, from a source id with a space."""
    response = client.post(f"/webhooks/picktime/picktime%20consumers?token={TOKEN}", content=SAMPLE.read_bytes())
    assert response.status_code in (200, 202), response.text
    [event_id] = response.json()["events"]
    records = await read_until(broker.bootstrap_servers, TOPICS.canonical,
                               lambda got: any(header(r, "ce_id") == event_id.encode() for r in got))
    [found] = [r for r in records if header(r, "ce_id") == event_id.encode()][:1]
    return found


def _message(record: Record) -> KafkaMessage:
    """The SDK's view of an aiokafka record, as the README builds it."""
    return KafkaMessage(headers=dict(record.headers), key=record.key, value=record.value)


def test_from_structured_reads_the_event(record: Record) -> None:
    """from_structured() gives the stored event (which the strict Structs accept): attributes, extensions, data."""
    msgspec.json.decode(record.value, type=CloudEvent)
    stored = msgspec.json.decode(record.value)
    event: BaseCloudEvent = from_structured(_message(record), JSONFormat())
    assert (event.get_specversion(), event.get_id(), event.get_type()) == ("1.0", stored["id"], stored["type"])
    assert (event.get_source(), event.get_subject()) == ("/sources/picktime%20consumers", stored["subject"])
    assert event.get_time() == datetime.fromisoformat(stored["time"]).astimezone(UTC)
    assert event.get_dataschema() == stored["dataschema"]
    assert event.get_extension("provider") == "picktime"
    assert event.get_extension("receivedat") == stored["receivedat"]
    assert event.get_data() == stored["data"]


def test_from_kafka_mistakes_the_record_for_binary_mode(record: Record) -> None:
    """The auto-detecting from_kafka() sees ce_ headers and reads binary mode: data is the whole envelope.

    The attributes not in headers are lost (the SDK stamps its own time). This is why the README says to call
    from_structured(); if this test fails, the SDK has changed: update the README.
    """
    stored = msgspec.json.decode(record.value)
    event = from_kafka(_message(record), JSONFormat())
    assert event.get_data() == stored
    assert event.get_dataschema() is None and event.get_extension("provider") is None
    assert event.get_time() != datetime.fromisoformat(stored["time"])
