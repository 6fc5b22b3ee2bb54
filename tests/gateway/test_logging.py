"""Logs: one JSON line per request with the agreed fields, and never a credential or payload."""

from __future__ import annotations

import json

import httpx

from tests.conftest import TOKEN, GatewayProcess


def test_one_json_line_per_request_without_secrets(gateway: GatewayProcess, client: httpx.Client) -> None:
    """A request leaves one 'webhook' line with source, provider, delivery id, outcome, status, events, duration."""
    marker = "unique-customer-name-7f3a"
    body = ('{"dataObject":{"event_id":"log-1","event_type":"appointment","booking_id":"LOG1",'
            f'"customer_name":"{marker}"}},"type":"CREATE"}}').encode()
    response = client.post("/webhooks/picktime", content=body, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 202
    delivery_id = response.json()["delivery_id"]
    text = gateway.log_path.read_text()
    assert TOKEN not in text and marker not in text
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    [line] = [entry for entry in lines if entry.get("delivery_id") == delivery_id][-1:]
    assert line["event"] == "webhook" and line["outcome"] == "accepted" and line["status"] == 202
    assert line["source"] == "picktime" and line["provider"] == "picktime" and line["events"] == 1
    assert line["duration_ms"] >= 0 and line["level"] == "info" and line["timestamp"].endswith("Z")
