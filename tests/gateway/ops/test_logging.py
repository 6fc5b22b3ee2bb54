"""Logs: one JSON line per request with the agreed fields, and never a credential or payload."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from gateway.ops.logging import LineSink
from tests.conftest import TOKEN, GatewayProcess


def test_one_json_line_per_request_without_secrets(gateway: GatewayProcess, client: httpx.Client) -> None:
    """A request leaves one 'webhook' line with source, provider, delivery id, outcome, status, events, duration."""
    marker = "unique-customer-name-7f3a"
    body = ('{"dataObject":{"event_id":"log-1","event_type":"appointment","booking_id":"LOG1",'
            f'"customer_name":"{marker}"}},"type":"CREATE"}}').encode()
    response = client.post("/webhooks/picktime", content=body, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 202
    delivery_id = response.json()["delivery_id"]
    [line] = gateway.wait_for_log(lambda entry: entry.get("delivery_id") == delivery_id,
                                  f"delivery_id {delivery_id}")
    text = gateway.log_path.read_text()
    assert TOKEN not in text and marker not in text
    assert line["event"] == "webhook" and line["outcome"] == "accepted" and line["status"] == 202
    assert line["source"] == "picktime" and line["provider"] == "picktime" and line["events"] == 1
    assert line["duration_ms"] >= 0 and line["level"] == "info" and line["timestamp"].endswith("Z")


async def test_lines_of_one_loop_turn_are_written_together_and_in_order(tmp_path: Path) -> None:
    """On the loop, lines wait for the end of the turn and then leave in one write, in order."""
    path = tmp_path / "log"
    with path.open("wb") as output:
        sink = LineSink(output)
        sink.msg(b'{"n":1}')
        sink.info(b'{"n":2}')
        assert path.read_bytes() == b""
        await asyncio.sleep(0)
        assert path.read_bytes() == b'{"n":1}\n{"n":2}\n'


def test_lines_outside_a_loop_are_written_at_once(tmp_path: Path) -> None:
    """Commands without an event loop see each line as soon as it is logged."""
    path = tmp_path / "log"
    with path.open("wb") as output:
        LineSink(output).warning(b'{"n":3}')
        assert path.read_bytes() == b'{"n":3}\n'
