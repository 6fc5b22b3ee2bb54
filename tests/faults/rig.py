"""A broker and a gateway of a test's own, to freeze, kill and restart; and a stream of unique webhooks."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import msgspec

from gateway.config import TopicSettings
from gateway.kafka.broker import EmbeddedBroker, free_port
from gateway.kafka.topics import ensure_topics
from tests.conftest import TOKEN, GatewayProcess, gateway_config, start_gateway, stop_gateway
from tests.kafka import Record, header, read_until
from tests.waiting import freeze, until

__all__ = ["Answer", "Rig", "rig", "unique_booking"]

TOPICS = TopicSettings(partitions=1)


class Answer(msgspec.Struct):
    """What one request of a stream got, and how long it took."""

    status: int
    seconds: float
    events: list[str]
    spooled: bool = False
    retry_after: str | None = None


def unique_booking(tag: str, number: int) -> bytes:
    """A Picktime booking no other request of the session sends."""
    return (
        '{"dataObject":{"event_id":"%s-%d","event_type":"appointment","booking_id":"%s-%d",'
        '"start_date_time_gmt":1767261600,"end_date_time_gmt":1767263400,"customer_name":"Load Test"},'
        '"status":true,"type":"CREATE"}' % (tag, number, tag, number)
    ).encode()


class Rig:
    """One broker and one gateway, with the levers a fault test pulls."""

    def __init__(self, workdir: Path, *, spool_max_bytes: int = 1 << 30) -> None:
        self.workdir = workdir
        self.broker = EmbeddedBroker("127.0.0.1", free_port(), log_path=workdir / "tansu.log")
        self.port = free_port()
        self.config = gateway_config(self.broker.bootstrap_servers, self.port, workdir / "spool",
                                     spool_max_bytes=spool_max_bytes)
        self.gateway: GatewayProcess | None = None
        # The answers of the running stream so far, as they come (a test waits on them, not on a clock).
        self.answered: list[Answer] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/picktime?token={TOKEN}"

    def start_broker(self) -> None:
        """Start the broker and create the topics (on a thread: tests call this inside their event loop).

        A running gateway is frozen meanwhile: a restarted Tansu starts empty, and it acknowledges
        records sent before the topics exist, then loses them when they are created. A real broker
        comes back with its topics, so the gateway first meets this one once they exist.
        """
        gateway = self.gateway.process if self.gateway is not None and self.gateway.process.poll() is None else None
        if gateway is not None:
            freeze(gateway.pid)
        try:
            self.broker.start()
            with ThreadPoolExecutor(max_workers=1) as pool:
                pool.submit(asyncio.run, ensure_topics(self.broker.bootstrap_servers, TOPICS)).result()
        finally:
            if gateway is not None:
                gateway.send_signal(signal.SIGCONT)

    def start_gateway(self, *, wait_ready: bool = True) -> None:
        self.gateway = start_gateway(self.config, self.workdir, wait_ready=wait_ready)

    def signal_broker(self, signum: signal.Signals) -> None:
        """Send the broker ``signum``; a SIGSTOP returns once it has taken effect (see ``freeze``)."""
        assert self.broker.pid is not None
        if signum == signal.SIGSTOP:
            freeze(self.broker.pid)
        else:
            os.kill(self.broker.pid, signum)

    def kill_gateway(self) -> None:
        assert self.gateway is not None
        self.gateway.process.kill()
        self.gateway.process.wait()

    def stop(self) -> None:
        if self.broker.pid is not None:
            self.signal_broker(signal.SIGCONT)
        if self.gateway is not None and self.gateway.process.poll() is None:
            stop_gateway(self.gateway)
        self.broker.stop()

    def readiness(self) -> httpx.Response:
        return httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=5)

    async def spool_drained(self, timeout_s: float = 30) -> None:
        """Wait until the gateway is ready with nothing left in its spool: every record it took is acknowledged."""
        def drained() -> bool:
            ready = self.readiness()
            return ready.status_code == 200 and ready.json()["spool"]["records"] == 0

        await until(drained, "/readyz 200 with an empty spool", timeout_s=timeout_s, ignoring=(httpx.TransportError,),
                    context=lambda: f"last /readyz: {self.readiness().text}")

    async def stream(self, bodies: list[bytes], concurrency: int = 8, pace_s: float = 0.0) -> list[Answer]:
        """Post every body, ``concurrency`` at a time, each worker pausing ``pace_s`` between posts.

        The answers come in body order; status 0 means no answer (the connection broke).
        """
        answers: list[Answer | None] = [None] * len(bodies)
        queue = list(enumerate(bodies))
        self.answered = []
        async with httpx.AsyncClient(timeout=30) as client:

            async def worker() -> None:
                while queue:
                    index, body = queue.pop(0)
                    answers[index] = answer = await _post(client, self.url, body)
                    self.answered.append(answer)
                    await asyncio.sleep(pace_s)

            await asyncio.gather(*(worker() for _ in range(concurrency)))
        return [answer or Answer(0, 0.0, []) for answer in answers]

    async def canonical_ids(self, wanted: set[str], timeout_s: float = 60) -> list[str]:
        """Every ce_id on the canonical topic, once all of ``wanted`` arrived (AssertionError after ``timeout_s``)."""
        def seen(records: list[Record]) -> set[str]:
            return {(header(r, "ce_id") or b"").decode() for r in records}

        records = await read_until(self.broker.bootstrap_servers, TOPICS.canonical, lambda got: wanted <= seen(got),
                                   timeout_s=timeout_s, what=f"all {len(wanted)} acknowledged events")
        return [(header(r, "ce_id") or b"").decode() for r in records]


async def _post(client: httpx.AsyncClient, url: str, body: bytes) -> Answer:
    started = time.perf_counter()
    try:
        response = await client.post(url, content=body)
    except httpx.TransportError:
        return Answer(0, time.perf_counter() - started, [])
    elapsed = time.perf_counter() - started
    document = response.json() if response.headers.get("content-type", "").endswith("json") else {}
    return Answer(response.status_code, elapsed, document.get("events", []), document.get("spooled", False),
                  response.headers.get("retry-after"))


@contextmanager
def rig(workdir: Path, **options: int) -> Iterator[Rig]:
    """A started broker and gateway, stopped (and unfrozen) whatever the test does."""
    built = Rig(workdir, **options)
    try:
        built.start_broker()
        built.start_gateway()
        yield built
    finally:
        built.stop()
