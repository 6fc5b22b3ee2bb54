"""serve --workers 2: both workers serve, metrics add up across them, SIGTERM stops them cleanly."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx

from gateway.config import TopicSettings
from gateway.kafka.broker import EmbeddedBroker, free_port
from gateway.kafka.topics import ensure_topics
from tests.conftest import TOKEN, gateway_config, start_gateway
from tests.faults.rig import unique_booking

WORKERS = 2


def test_two_workers_serve_and_report_together(broker: EmbeddedBroker, tmp_path: Path) -> None:
    """Requests spread over two workers are all accepted and counted once in /metrics."""
    asyncio.run(ensure_topics(broker.bootstrap_servers, TopicSettings(partitions=1)))
    config = gateway_config(broker.bootstrap_servers, free_port(), tmp_path / "spool")
    # /readyz answers as soon as one worker is up: wait for every worker's own line before going on.
    gateway = start_gateway(config, tmp_path, args=("--workers", str(WORKERS)))
    try:
        ready = gateway.wait_for_log(lambda line: line.get("event") == "ready to receive",
                                     "event 'ready to receive' (one per worker)", count=WORKERS, timeout_s=30)
        assert len({line["spool"] for line in ready}) == WORKERS, ready
        with httpx.Client(base_url=gateway.base_url, timeout=10) as client:
            answers = [client.post(f"/webhooks/picktime?token={TOKEN}", content=unique_booking("workers", n),
                                   headers={"Connection": "close"}) for n in range(30)]
            assert {answer.status_code for answer in answers} == {202}
            # The edge's limits reach every worker (uvicorn hands each the protocol factory).
            many = {f"x-h{n}": "v" for n in range(150)}
            assert client.post(f"/webhooks/picktime?token={TOKEN}", content=b"{}", headers=many).status_code == 431
            metrics = client.get("/metrics").text
        total = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                    if line.startswith('gateway_requests_total{') and 'outcome="accepted"' in line)
        assert total == 30
        assert len(list((tmp_path / "spool").glob("spool-*.lock"))) == WORKERS
    finally:
        gateway.process.send_signal(signal.SIGTERM)
        assert gateway.process.wait(timeout=30) == 0
