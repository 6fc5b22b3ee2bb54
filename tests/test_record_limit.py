"""``kafka.max_record_bytes``: a request with a record the broker would refuse for good is answered 413, and
nothing of it is published or spooled (it could never be sent)."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator

import httpx
import pytest

from gateway.config import TopicSettings
from gateway.kafka.broker import EmbeddedBroker, free_port
from gateway.kafka.topics import ensure_topics
from tests.conftest import TOKEN, gateway_config, start_gateway, stop_gateway
from tests.faults.rig import unique_booking
from tests.kafka import read_until

LIMIT = 8192
BODY_LIMIT = LIMIT - 1  # the smallest gap the config allows: a body within its limit, its records not
TOPICS = TopicSettings(canonical=f"lim-{uuid.uuid4().hex[:8]}.c", raw=f"lim-{uuid.uuid4().hex[:8]}.r",
                       dead_letter=f"lim-{uuid.uuid4().hex[:8]}.d", partitions=1)


@pytest.fixture(scope="module")
def client(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A gateway whose records may be at most LIMIT bytes, on topics of its own."""
    asyncio.run(ensure_topics(broker.bootstrap_servers, TOPICS))
    workdir = tmp_path_factory.mktemp("limit")
    text = gateway_config(broker.bootstrap_servers, free_port(), workdir / "spool")
    text = text.replace("[kafka]\n", f"[kafka]\nmax_record_bytes = {LIMIT}\nmax_batch_bytes = {LIMIT}\n")
    text = re.sub(r"max_body_bytes = \d+", f"max_body_bytes = {BODY_LIMIT}", text, count=1)
    text = text.replace("[topics]\n", f'[topics]\ncanonical = "{TOPICS.canonical}"\nraw = "{TOPICS.raw}"\n'
                                      f'dead_letter = "{TOPICS.dead_letter}"\n')
    gateway = start_gateway(text, workdir)
    try:
        with httpx.Client(base_url=gateway.base_url, timeout=10) as http:
            yield http
    finally:
        stop_gateway(gateway)


def _post(client: httpx.Client, body: bytes) -> httpx.Response:
    return client.post(f"/webhooks/picktime?token={TOKEN}", content=body, headers={"Content-Type": "application/json"})


@pytest.mark.parametrize(
    "body",
    [(lambda b: b + b" " * (BODY_LIMIT - len(b)))(unique_booking("limit", 1)),
     b'{"dataObject": ' + b"x" * (BODY_LIMIT - 15)],
    ids=["mappable-raw-record-too-large", "dead-letter-record-too-large"],
)
async def test_a_record_over_the_limit_is_413_and_nothing_is_kept(
    client: httpx.Client, broker: EmbeddedBroker, body: bytes
) -> None:
    """Canonical and raw, or dead-letter and raw: one record over the limit and the request gets 413."""
    answer = _post(client, body)
    assert answer.status_code == 413, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["type"] == "urn:booking-gateway:problem:record-too-large"
    assert problem["max_record_bytes"] == LIMIT and problem["record_bytes"] > LIMIT
    assert "kafka.max_record_bytes" in problem["detail"]
    assert client.get("/readyz").json()["spool"]["records"] == 0, "nothing spooled"
    marker = unique_booking(f"limit-marker-{uuid.uuid4().hex[:8]}", len(body))
    assert _post(client, marker).status_code == 202
    raw = await read_until(broker.bootstrap_servers, TOPICS.raw, lambda got: any(r.value == marker for r in got))
    dead = await read_until(broker.bootstrap_servers, TOPICS.dead_letter, lambda got: True)
    assert all(record.value != body for record in raw + dead), "the refused request was published"
