"""One trace from vendor to consumer: a traced webhook's records and its log line carry its trace id."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import msgspec

from gateway.kafka.broker import EmbeddedBroker
from gateway.kafka.records import META_HEADER, DeliveryMeta
from schemas.canonical import CloudEvent
from tests.conftest import TOKEN, TOPICS, GatewayProcess
from tests.kafka import Record, header, read_until

PICKTIME = Path(__file__).parent / "adapters" / "testdata" / "picktime"
E2E = f"/webhooks/picktime/picktime-e2e?token={TOKEN}"


def _meta(record: Record) -> DeliveryMeta:
    return msgspec.json.decode(header(record, META_HEADER) or b"{}", type=DeliveryMeta)


def _traceparent() -> tuple[str, str]:
    trace_id = secrets.token_hex(16)
    return trace_id, f"00-{trace_id}-{secrets.token_hex(8)}-01"


async def test_a_traced_webhook_carries_its_trace_to_every_record_and_its_line(
    client: httpx.Client, broker: EmbeddedBroker, gateway: GatewayProcess
) -> None:
    """The same trace id in the canonical and raw records' traceparent and the log line; the span is the gateway's."""
    trace_id, sent = _traceparent()
    body = (PICKTIME / "seed_class_sessions_created.json").read_bytes() + b" " * 7
    response = client.post(E2E, content=body, headers={"traceparent": sent})
    assert response.status_code == 202, response.text
    answer = response.json()
    [line] = gateway.wait_for_log(lambda entry: entry.get("delivery_id") == answer["delivery_id"], "the request line")
    assert line["trace_id"] == trace_id and sent.split("-")[2] != line["span_id"]
    passed_on = f"00-{trace_id}-{line['span_id']}-01".encode()

    wanted = set(answer["events"])
    canonical = await read_until(broker.bootstrap_servers, TOPICS.canonical,
                                 lambda got: wanted <= {(header(r, "ce_id") or b"").decode() for r in got})
    mine = [r for r in canonical if (header(r, "ce_id") or b"").decode() in wanted]
    assert len(mine) == len(wanted) == 2
    assert all(header(record, "traceparent") == passed_on for record in mine)
    events = [msgspec.json.decode(record.value, type=CloudEvent) for record in mine]
    assert line["event_types"] == [event.type for event in events]
    assert line["subjects"] == list(dict.fromkeys(event.subject for event in events))

    raw = await read_until(broker.bootstrap_servers, TOPICS.raw,
                           lambda got: any(_meta(r).delivery_id == answer["delivery_id"] for r in got))
    [archived] = [r for r in raw if _meta(r).delivery_id == answer["delivery_id"]]
    assert header(archived, "traceparent") == passed_on


async def test_a_duplicate_names_its_subjects_and_a_new_trace_is_made(
    client: httpx.Client, gateway: GatewayProcess
) -> None:
    """A repeat without a traceparent gets its own new trace, and its line still names the bookings."""
    body = (PICKTIME / "seed_class_sessions_created.json").read_bytes() + b" " * 11
    first = client.post(E2E, content=body)
    second = client.post(E2E, content=body, headers={"traceparent": "00-not-a-trace"})
    assert (first.status_code, second.status_code) == (202, 200)
    lines = gateway.wait_for_log(lambda entry: entry.get("delivery_id") == first.json()["delivery_id"],
                                 "both request lines", count=2)
    assert [line["outcome"] for line in lines] == ["accepted", "duplicate"]
    assert lines[0]["subjects"] == lines[1]["subjects"] and lines[1]["subjects"]
    assert lines[0]["trace_id"] != lines[1]["trace_id"]


async def test_a_dead_lettered_request_names_its_problem_reason_and_trace(
    client: httpx.Client, broker: EmbeddedBroker, gateway: GatewayProcess
) -> None:
    trace_id, sent = _traceparent()
    body = b'{"dataObject": {"event_id": "t", "event_type": "appointment"} "type" "CREATE"}'
    response = client.post(E2E, content=body, headers={"traceparent": sent})
    assert response.status_code == 422
    delivery_id = response.json()["delivery_id"]
    [line] = gateway.wait_for_log(lambda entry: entry.get("delivery_id") == delivery_id, "the 422's line")
    assert line["problem"] == response.json()["type"] and line["reason"] == "malformed-json"
    assert line["position"] == response.json()["position"] and line["trace_id"] == trace_id
    assert line["event_types"] == [] and line["subjects"] == []
    records = await read_until(broker.bootstrap_servers, TOPICS.dead_letter,
                               lambda got: any(_meta(r).delivery_id == delivery_id for r in got))
    [record] = [r for r in records if _meta(r).delivery_id == delivery_id]
    assert (header(record, "traceparent") or b"").startswith(f"00-{trace_id}-{line['span_id']}".encode())


def test_a_refusal_names_its_problem_type(client: httpx.Client, gateway: GatewayProcess) -> None:
    """An unauthenticated request: outcome and the problem document's type, no reason."""
    trace_id, sent = _traceparent()
    response = client.post("/webhooks/picktime/picktime-e2e", content=b"{}", headers={"traceparent": sent})
    assert response.status_code == 401
    [line] = gateway.wait_for_log(lambda entry: entry.get("trace_id") == trace_id, "the 401's line")
    assert line["outcome"] == "unauthenticated" and line["problem"] == response.json()["type"]
    assert "reason" not in line and line["status"] == 401
