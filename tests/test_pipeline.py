"""End to end: every Picktime seed sample posted over HTTP appears on the topics as the contract says."""

from __future__ import annotations

from pathlib import Path

import httpx
import msgspec
import pytest

from gateway.kafka.broker import EmbeddedBroker
from gateway.kafka.records import CLOUDEVENTS_CONTENT_TYPE, META_HEADER, DeliveryMeta
from schemas.canonical import CloudEvent
from tests.conftest import TOKEN, TOPICS
from tests.kafka import Record, header, read_until

PICKTIME = Path(__file__).parent / "adapters" / "testdata" / "picktime"
SEED_CASES = sorted(PICKTIME.glob("seed_*.json"))
SEED_CASES = [p for p in SEED_CASES if p.name.count(".") == 1]
E2E = f"/webhooks/picktime/picktime-e2e?token={TOKEN}"


@pytest.mark.parametrize("sample", SEED_CASES, ids=[p.stem for p in SEED_CASES])
async def test_seed_sample_reaches_canonical_and_raw_topics(
    sample: Path, client: httpx.Client, broker: EmbeddedBroker
) -> None:
    """Each seed sample is answered 202 and its events are on the canonical topic, keyed and headed per contract."""
    body = sample.read_bytes()
    response = client.post(E2E, content=body,
                           headers={"Content-Type": "application/json", "X-Trace": sample.stem})
    assert response.status_code == 202, response.text
    answer = response.json()
    wanted = set(answer["events"])
    assert wanted

    records = await read_until(broker.bootstrap_servers, TOPICS.canonical,
                               lambda got: wanted <= {(header(r, "ce_id") or b"").decode() for r in got})
    mine = [r for r in records if (header(r, "ce_id") or b"").decode() in wanted]
    assert {(header(r, "ce_id") or b"").decode() for r in mine} == wanted
    for record in mine:
        event = msgspec.json.decode(record.value, type=CloudEvent)
        assert record.key == event.subject.encode()
        assert header(record, "content-type") == CLOUDEVENTS_CONTENT_TYPE
        assert header(record, "ce_type") == event.type.encode()
        assert header(record, "ce_source") == b"/sources/picktime-e2e"
        assert header(record, "ce_subject") == event.subject.encode()
        assert event.provider == "picktime" and event.data.provider == "picktime"

    def traced(record: Record) -> bool:
        return _meta(record).headers.get("x-trace") == sample.stem

    raw = await read_until(broker.bootstrap_servers, TOPICS.raw, lambda got: any(map(traced, got)))
    [archived] = [r for r in raw if traced(r)]
    meta = _meta(archived)
    assert archived.value == body
    assert meta.delivery_id == answer["delivery_id"]
    assert set(meta.event_ids) == wanted


def _meta(record: Record) -> DeliveryMeta:
    return msgspec.json.decode(header(record, META_HEADER) or b"{}", type=DeliveryMeta)


async def test_repeated_delivery_is_answered_with_the_first_ids(client: httpx.Client) -> None:
    """A repeated delivery is answered 200 with the original event ids, flagged as a duplicate."""
    body = (PICKTIME / "seed_class_sessions_created.json").read_bytes() + b"\n\n"
    first = client.post(E2E, content=body)
    second = client.post(E2E, content=body)
    assert (first.status_code, second.status_code) == (202, 200)
    assert second.json()["events"] == first.json()["events"] and len(first.json()["events"]) == 2
    assert second.json()["duplicate"] is True


async def test_dead_letter_holds_bytes_and_reason(client: httpx.Client, broker: EmbeddedBroker) -> None:
    """A 422 body is on the dead-letter topic first, with a machine-readable error; and archived on raw."""
    body = b'{"dataObject": {"event_id": "e", "event_type": "appointment"} "type" "CREATE"}'
    response = client.post(E2E, content=body)
    assert response.status_code == 422
    delivery_id = response.json()["delivery_id"]
    for topic in (TOPICS.dead_letter, TOPICS.raw):
        records = await read_until(broker.bootstrap_servers, topic,
                                   lambda got: any(_meta(r).delivery_id == delivery_id for r in got))
        [record] = [r for r in records if _meta(r).delivery_id == delivery_id]
        meta = _meta(record)
        assert record.value == body
        assert meta.outcome == "dead-lettered"
        assert meta.error is not None and meta.error.reason == "malformed-json"


async def test_credentials_never_reach_the_raw_topic(client: httpx.Client, broker: EmbeddedBroker) -> None:
    """Authorization and signature-like headers, and the query token, are not archived."""
    body = (PICKTIME / "seed_resource_updated.json").read_bytes() + b" "
    response = client.post(E2E, content=body,
                           headers={"Authorization": f"Bearer {TOKEN}", "X-Some-Signature": "abc",
                                    "X-Api-Token": "secret-ish"})
    delivery_id = response.json()["delivery_id"]
    records = await read_until(broker.bootstrap_servers, TOPICS.raw,
                               lambda got: any(_meta(r).delivery_id == delivery_id for r in got))
    [record] = [r for r in records if _meta(r).delivery_id == delivery_id]
    everything = b"".join(value for _, value in record.headers)
    assert TOKEN.encode() not in everything and b"secret-ish" not in everything
    assert set(_meta(record).headers) & {"authorization", "x-some-signature", "x-api-token"} == set()
