"""``gateway tail``: canonical events followed from the beginning or only new ones, as lines or JSON."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time

import httpx
import msgspec
import pytest

from gateway.config import TopicSettings
from gateway.kafka.broker import EmbeddedBroker, free_port
from gateway.kafka.topics import ensure_topics
from tests.commands import PICKTIME, json_lines, post_fresh, run_gateway
from tests.conftest import ROOT, TOPICS
from tests.kafka import Record, header, read_until


async def _canonical(broker: EmbeddedBroker, ids: set[str]) -> list[Record]:
    """The records of the canonical topic, once ``ids`` are all on it."""
    return await read_until(broker.bootstrap_servers, TOPICS.canonical,
                            lambda got: ids <= {(header(r, "ce_id") or b"").decode() for r in got})


async def test_from_beginning_prints_every_event_as_json(client: httpx.Client, broker: EmbeddedBroker) -> None:
    """--from-beginning --json --max N prints the first N CloudEvents, the posted ones among them."""
    response = post_fresh(client, PICKTIME / "seed_class_sessions_created.json")
    assert response.status_code == 202, response.text
    ids = set(response.json()["events"])
    total = len(await _canonical(broker, ids))
    result = run_gateway("tail", "--bootstrap", broker.bootstrap_servers, "--from-beginning", "--json",
                         "--max", str(total), timeout_s=20)
    assert result.returncode == 0, result.stderr
    events = json_lines(result.stdout)
    assert len(events) == total and ids <= {event["id"] for event in events}


async def test_filters_and_readable_lines(client: httpx.Client, broker: EmbeddedBroker) -> None:
    """--type and --provider filter; a readable line has time, type, subject, provider, status and title."""
    response = post_fresh(client, PICKTIME / "seed_service_updated_broken.json")
    assert response.status_code == 202, response.text
    records = await _canonical(broker, set(response.json()["events"]))
    # Other tests' events share the session topic: ours is the last of the matching ones, whatever ran before.
    matching = [r for r in records if header(r, "ce_type") == b"booking.updated"
                and msgspec.json.decode(r.value)["provider"] == "picktime"]
    result = run_gateway("tail", "--bootstrap", broker.bootstrap_servers, "--from-beginning", "--type",
                         "booking.updated", "--provider", "picktime", "--max", str(len(matching)), timeout_s=20)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(matching) and all("  booking.updated     picktime:" in line for line in lines)
    line = lines[-1]
    assert "  booking.updated     picktime:D5827ONQ5Z  picktime  confirmed  start 2024-11-21T15:45:00Z" in line
    assert '"Hair Cut"' in line and line.endswith("Dino Powlowski")


async def test_without_from_beginning_only_new_events_are_shown(client: httpx.Client, broker: EmbeddedBroker) -> None:
    """Started at the end, tail prints exactly the events posted after it is ready, not Tansu's last batch."""
    warmup = post_fresh(client, PICKTIME / "seed_class_sessions_created.json")  # two events: one batch
    await _canonical(broker, set(warmup.json()["events"]))
    command = [sys.executable, "-m", "gateway", "tail", "--bootstrap", broker.bootstrap_servers, "--json", "--max", "2"]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as tail:
        assert tail.stderr is not None
        ready = tail.stderr.readline()
        assert "from the end" in ready, ready
        response = post_fresh(client, PICKTIME / "seed_class_sessions_created.json")
        try:
            stdout, _ = tail.communicate(timeout=20)
        finally:
            tail.kill()
    assert tail.returncode == 0
    assert [event["id"] for event in json_lines(stdout)] == response.json()["events"]


def test_ctrl_c_exits_0(broker: EmbeddedBroker) -> None:
    """SIGINT while following ends tail cleanly with exit status 0."""
    asyncio.run(ensure_topics(broker.bootstrap_servers, TopicSettings(partitions=1)))  # as the gateway fixture does
    command = [sys.executable, "-m", "gateway", "tail", "--bootstrap", broker.bootstrap_servers]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as tail:
        assert tail.stderr is not None
        assert "following" in tail.stderr.readline()
        time.sleep(0.2)  # not a wait for anything (it follows already): lets the signal land inside its fetch loop
        tail.send_signal(signal.SIGINT)
        try:
            _, stderr = tail.communicate(timeout=10)
        finally:
            tail.kill()  # else leaving the with block waits for a tail that ignored the signal, forever
    assert tail.returncode == 0 and "Traceback" not in stderr


@pytest.mark.parametrize("topic", [None, "no.such.topic"], ids=["no-broker", "no-topic"])
def test_unreachable_broker_or_missing_topic_exits_4(topic: str | None, broker: EmbeddedBroker) -> None:
    """No broker at the address, or no such topic: exit 4 with a sentence, no traceback."""
    if topic is None:
        arguments = ["--bootstrap", f"127.0.0.1:{free_port()}"]
    else:
        arguments = ["--bootstrap", broker.bootstrap_servers, "--topic", topic]
    result = run_gateway("tail", *arguments, timeout_s=20)
    assert result.returncode == 4
    assert ("cannot reach Kafka" if topic is None else "does not exist") in result.stderr
    assert "Traceback" not in result.stderr
