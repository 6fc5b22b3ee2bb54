"""Many replicas act as one: concurrent copies of one delivery over two instances (Redis) or two workers (SQLite).

Real parts only: one Tansu broker, real ``gateway serve`` processes with their own ports and spools, a real
redis-server; the copies are sent at once, each on a connection of its own.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
from redis import Redis

from gateway.config import TopicSettings
from gateway.kafka.broker import EmbeddedBroker, free_port
from gateway.kafka.topics import ensure_topics
from tests.conftest import TOKEN, TOPICS, GatewayProcess, gateway_config, start_gateway, stop_gateway
from tests.faults.rig import unique_booking
from tests.kafka import Record, header, read_until
from tests.redis_server import RedisServer

COPIES = 60
URL = f"/webhooks/picktime?token={TOKEN}"


@pytest.fixture(scope="module", autouse=True)
def _topics(broker: EmbeddedBroker) -> None:
    asyncio.run(ensure_topics(broker.bootstrap_servers, TopicSettings(partitions=1)))


def _config(broker: EmbeddedBroker, workdir: Path, dedupe: str) -> str:
    return gateway_config(broker.bootstrap_servers, free_port(), workdir / "spool") + f"\n[dedupe]\n{dedupe}\n"


@contextmanager
def _instances(
    broker: EmbeddedBroker, tmp_path: Path, redis_url: str, *, timeout_ms: int = 250, count: int = 2
) -> Iterator[list[GatewayProcess]]:
    """``count`` serve instances on one Redis."""
    with ExitStack() as stack:
        gateways = []
        for number in range(count):
            workdir = tmp_path / f"instance-{number}"
            workdir.mkdir()
            gateway = start_gateway(_config(broker, workdir, f'backend = "redis"\nredis_url = "{redis_url}"\n'
                                                                  f"redis_timeout_ms = {timeout_ms}"),
                                    workdir)
            stack.callback(stop_gateway, gateway)
            gateways.append(gateway)
        yield gateways


async def _post_at_once(urls: list[str], bodies: list[bytes]) -> list[httpx.Response]:
    """Every body at once, spread over ``urls`` in turn, each on a new connection."""
    limits = httpx.Limits(max_connections=len(bodies), max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        return list(await asyncio.gather(*(
            client.post(urls[n % len(urls)] + URL, content=body, headers={"Connection": "close"})
            for n, body in enumerate(bodies))))


def _copies_of_one(responses: list[httpx.Response]) -> list[str]:
    """One 202 and the rest 200 duplicates carrying its ids; those ids."""
    assert Counter(response.status_code for response in responses) == {202: 1, 200: COPIES - 1}, \
        [(response.status_code, response.text) for response in responses if response.status_code not in (200, 202)]
    first = next(response.json() for response in responses if response.status_code == 202)
    for response in responses:
        if response.status_code == 200:
            body = response.json()
            assert body["duplicate"] is True
            assert (body["delivery_id"], body["events"]) == (first["delivery_id"], first["events"])
    events: list[str] = first["events"]
    assert events
    return events


def _published(broker: EmbeddedBroker, event_ids: list[str]) -> list[Record]:
    """The canonical records carrying these ids, read to the topic's end (so a second copy would show)."""
    wanted = {event_id.encode() for event_id in event_ids}

    def matching(records: list[Record]) -> list[Record]:
        return [record for record in records if header(record, "ce_id") in wanted]

    records = asyncio.run(read_until(broker.bootstrap_servers, TOPICS.canonical,
                                     lambda records: len({header(r, "ce_id") for r in matching(records)}) == len(wanted),
                                     what=f"{len(wanted)} event(s)"))
    return matching(records)


def test_sixty_copies_over_two_instances_publish_once(
    broker: EmbeddedBroker, redis_server: RedisServer, tmp_path: Path
) -> None:
    """Two instances, one Redis: 60 copies at once give one 202, 59 duplicates and one record."""
    # A generous Redis timeout: on a loaded machine a slow answer would fail open and publish twice, by design.
    with _instances(broker, tmp_path, redis_server.url, timeout_ms=5000) as gateways:
        urls = [gateway.base_url for gateway in gateways]
        body = unique_booking(f"replicas-{time.time_ns()}", 1)
        events = _copies_of_one(asyncio.run(_post_at_once(urls, [body] * COPIES)))
        assert len(_published(broker, events)) == len(events)
        again = httpx.post(urls[1] + URL, content=body, timeout=10)  # a later retry, on either
        assert again.status_code == 200 and again.json()["events"] == events


def test_sixty_copies_over_two_workers_publish_once(broker: EmbeddedBroker, tmp_path: Path) -> None:
    """serve --workers 2 on the local backend: the workers claim through their shared SQLite file."""
    gateway = start_gateway(_config(broker, tmp_path, 'backend = "local"'), tmp_path, args=("--workers", "2"))
    try:
        gateway.wait_for_log(lambda line: line.get("event") == "ready to receive", "both workers ready",
                             count=2, timeout_s=30)
        body = unique_booking(f"workers-{time.time_ns()}", 1)
        events = _copies_of_one(asyncio.run(_post_at_once([gateway.base_url], [body] * COPIES)))
        assert len(_published(broker, events)) == len(events)
        # Both workers answered some of the copies (each keeps its own counter file).
        assert len(list((tmp_path / "spool" / "metrics").glob("counter_*.db"))) == 2
    finally:
        _stop_workers(gateway)


def _stop_workers(gateway: GatewayProcess) -> None:
    gateway.process.send_signal(signal.SIGTERM)
    assert gateway.process.wait(timeout=30) == 0


def test_redis_killed_mid_stream_still_accepts_and_publishes(broker: EmbeddedBroker, tmp_path: Path) -> None:
    """Redis SIGKILLed between two halves of a stream: every delivery is 202 and on the topic, fail-open counted."""
    with RedisServer(tmp_path) as redis, _instances(broker, tmp_path, redis.url) as gateways:
        urls = [gateway.base_url for gateway in gateways]
        tag = f"redis-killed-{time.time_ns()}"
        before = asyncio.run(_post_at_once(urls, [unique_booking(tag, n) for n in range(20)]))
        redis.kill()
        started = time.monotonic()
        after = asyncio.run(_post_at_once(urls, [unique_booking(tag, n) for n in range(20, 40)]))
        assert time.monotonic() - started < 10
        assert {response.status_code for response in before + after} == {202}, \
            [response.text for response in before + after if response.status_code != 202]
        events = [event for response in before + after for event in response.json()["events"]]
        assert len(_published(broker, events)) == len(events)
        for url in urls:
            ready = httpx.get(url + "/readyz", timeout=10)
            assert ready.status_code == 200
            dedupe = ready.json()["dedupe"]
            assert dedupe["backend"] == "redis" and dedupe["available"] is False and dedupe["detail"]
        fail_open = sum(float(line.rsplit(" ", 1)[1]) for url in urls
                        for line in httpx.get(url + "/metrics", timeout=10).text.splitlines()
                        if line.startswith("gateway_dedupe_fail_open_total{"))
        assert fail_open >= 20  # every copy after the kill (one before it, on a loaded machine, may add to it)
        for gateway in gateways:  # said once per outage, not once per request
            said = [line for line in gateway.log_entries() if line.get("event", "").startswith("dedupe redis unavail")]
            assert 1 <= len(said) <= 2 and said[0]["level"] == "warning", said  # 2: a slow answer before the kill


def _booking_change(booking: str, change: int) -> bytes:
    """Change ``change`` of one Picktime booking (its own event id, so not a repeat)."""
    action = "CREATE" if change == 0 else "UPDATE"
    return (
        '{"dataObject":{"event_id":"%s-change-%d","event_type":"appointment","booking_id":"%s",'
        '"start_date_time_gmt":%d,"end_date_time_gmt":%d,"customer_name":"Order Test"},'
        '"status":true,"type":"%s"}' % (booking, change, booking, 1767261600 + change * 60, 1767263400 + change * 60,
                                        action)
    ).encode()


def test_a_bookings_changes_over_two_replicas_keep_their_order_on_one_partition(
    broker: EmbeddedBroker, redis_server: RedisServer, tmp_path: Path
) -> None:
    """What the README promises across replicas: Kafka key = booking, so one partition, in the order accepted.

    A 3-partition canonical topic; each booking's changes are sent one after the other, alternating replicas.
    """
    topics = TopicSettings(canonical=f"order.events.{time.time_ns()}", raw=f"order.raw.{time.time_ns()}",
                           partitions=3)
    asyncio.run(ensure_topics(broker.bootstrap_servers, topics))
    redis_dedupe = f'backend = "redis"\nredis_url = "{redis_server.url}"'
    with ExitStack() as stack:
        urls = []
        for number in range(2):
            workdir = tmp_path / f"instance-{number}"
            workdir.mkdir()
            config = _config(broker, workdir, redis_dedupe).replace(
                "[topics]\npartitions = 1", f'[topics]\ncanonical = "{topics.canonical}"\nraw = "{topics.raw}"')
            gateway = start_gateway(config, workdir)
            stack.callback(stop_gateway, gateway)
            urls.append(gateway.base_url)
        sent: dict[str, list[str]] = {}
        # Fixed ids (their own topic and a session's fresh Redis): murmur2 spreads these six over the partitions.
        for booking in (f"replica-order-{n}" for n in range(6)):
            for change in range(4):
                answer = httpx.post(urls[change % 2] + URL, content=_booking_change(booking, change), timeout=10)
                assert answer.status_code == 202, answer.text
                sent.setdefault(booking, []).extend(answer.json()["events"])
    every_id = [event for events in sent.values() for event in events]
    records = asyncio.run(read_until(broker.bootstrap_servers, topics.canonical,
                                     lambda records: len(records) >= len(every_id), what="every change"))
    assert len(records) == len(every_id)
    for events in sent.values():
        mine = [record for record in records if header(record, "ce_id") in {event.encode() for event in events}]
        assert len({record.partition for record in mine}) == 1
        assert len({record.key for record in mine}) == 1
        assert [header(record, "ce_id") for record in sorted(mine, key=lambda r: r.offset)] == \
            [event.encode() for event in events]
    assert len({record.partition for record in records}) > 1  # the bookings did spread: keys, not luck, kept order


def test_a_claim_held_elsewhere_is_waited_for_then_answered_503_and_a_later_copy_publishes(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """A claim another replica holds and never confirms (it was killed): a copy waits ``wait_ms``, gets a 503
    problem with Retry-After, and publishes once the claim is gone (as after its TTL)."""
    with RedisServer(tmp_path) as redis:
        workdir = tmp_path / "instance"
        workdir.mkdir()
        dedupe = f'backend = "redis"\nredis_url = "{redis.url}"\nwait_ms = 500'
        gateway = start_gateway(_config(broker, workdir, dedupe), workdir)
        try:
            body = unique_booking(f"held-{time.time_ns()}", 1)
            first = httpx.post(gateway.base_url + URL, content=body, timeout=10)
            assert first.status_code == 202
            client = Redis.from_url(redis.url)
            try:
                [key] = client.keys("gateway:dedupe:*")
                client.set(key, b"pending:killed-replica:0", px=30_000)  # as if held, never confirmed
                started = time.monotonic()
                waited = httpx.post(gateway.base_url + URL, content=body, timeout=10)
                assert time.monotonic() - started >= 0.5
                assert waited.status_code == 503 and waited.headers["retry-after"] == "1"
                assert waited.headers["content-type"] == "application/problem+json"
                assert waited.json()["type"].endswith(":delivery-in-progress")
                client.delete(key)  # the claim expired
            finally:
                client.close()
            again = httpx.post(gateway.base_url + URL, content=body, timeout=10)
            assert again.status_code == 202 and again.json()["events"] == first.json()["events"]
        finally:
            stop_gateway(gateway)
