"""Logs: one JSON line per request with the agreed fields, and never a credential or payload."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
import structlog

from gateway.ops import logging as logging_module
from gateway.ops.log_lines import Webhook
from gateway.ops.logging import LineSink, configure_logging, log_request
from gateway.types import Outcome
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
    text = gateway.output()
    assert TOKEN not in text and marker not in text
    assert line["event"] == "webhook" and line["outcome"] == "accepted" and line["status"] == 202
    assert line["source"] == "picktime" and line["provider"] == "picktime" and line["events"] == 1
    assert line["duration_ms"] >= 0 and line["level"] == "info" and line["timestamp"].endswith("Z")
    assert line["event_types"] == ["booking.created"] and len(line["subjects"]) == 1


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


@pytest.fixture
def logged() -> Iterator[io.BytesIO]:
    """Logging configured onto a buffer for one test; the previous configuration back afterwards."""
    saved, sink = structlog.get_config(), logging_module._Sink.logger
    output = io.BytesIO()
    configure_logging("info", output)
    yield output
    structlog.configure(**saved)
    logging_module._Sink.logger, logging_module._Sink.requests_wanted = sink, True


def test_request_and_lifecycle_lines_share_one_field_order_and_timestamp(logged: io.BytesIO) -> None:
    """Both kinds of line: event first, their fields, then level and an ISO UTC timestamp, as the one writer puts them."""
    log_request(_request_line("client-gone", 499, duration_ms=1.234))
    structlog.get_logger("test").warning("broker did not acknowledge in time; spooling", ack_timeout_s=1.5)
    request, lifecycle = (json.loads(line) for line in logged.getvalue().splitlines())
    assert list(request) == ["event", "source", "provider", "delivery_id", "outcome", "status", "events",
                             "duration_ms", "event_types", "subjects", "trace_id", "span_id", "level", "timestamp"]
    assert request["duration_ms"] == 1.234 and request["level"] == "info" and request["delivery_id"] is None
    assert list(lifecycle) == ["event", "ack_timeout_s", "level", "timestamp"] and lifecycle["level"] == "warning"
    for line in (request, lifecycle):
        assert datetime.fromisoformat(line["timestamp"]).utcoffset() == timedelta(0)


def test_exceptions_are_rendered_as_text(logged: io.BytesIO) -> None:
    """A line logged with exc_info carries the traceback as ``exception``."""
    try:
        raise ValueError("boom")
    except ValueError as exc:
        structlog.get_logger("test").error("unhandled error", path="/webhooks/x", exc_info=exc)
    [line] = (json.loads(text) for text in logged.getvalue().splitlines())
    assert line["event"] == "unhandled error" and line["level"] == "error" and "ValueError: boom" in line["exception"]


def test_request_lines_follow_the_level(logged: io.BytesIO) -> None:
    """At level warning there is no request line; warnings still come through."""
    configure_logging("warning", logged)
    log_request(_request_line("accepted", 202))
    structlog.get_logger("test").info("producer stopped")
    structlog.get_logger("test").warning("records not queued; spooling", error="KafkaTimeoutError")
    assert [json.loads(text)["event"] for text in logged.getvalue().splitlines()] == ["records not queued; spooling"]


def _request_line(outcome: Outcome, status: int, duration_ms: float = 1.0) -> Webhook:
    return Webhook(source="src", provider="picktime", delivery_id=None, outcome=outcome, status=status, events=0,
                   duration_ms=duration_ms, event_types=[], subjects=[], trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
                   span_id="00f067aa0ba902b7")
