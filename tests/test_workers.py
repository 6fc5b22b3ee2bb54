"""serve --workers 2: both workers serve, metrics add up across them, SIGTERM stops them cleanly."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from gateway.broker import EmbeddedBroker, free_port
from gateway.config import TopicSettings
from gateway.topics import ensure_topics
from tests.conftest import ROOT, TOKEN, gateway_config
from tests.faults.rig import unique_booking


def test_two_workers_serve_and_report_together(broker: EmbeddedBroker, tmp_path: Path) -> None:
    """Requests spread over two workers are all accepted and counted once in /metrics."""
    asyncio.run(ensure_topics(broker.bootstrap_servers, TopicSettings(partitions=1)))
    port = free_port()
    config = tmp_path / "gateway.toml"
    config.write_text(gateway_config(broker.bootstrap_servers, port, tmp_path / "spool"))
    log = (tmp_path / "gateway.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "gateway", "serve", "--config", str(config), "--workers", "2"],
                               cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, process)
        with httpx.Client(base_url=base, timeout=10) as client:
            answers = [client.post(f"/webhooks/picktime?token={TOKEN}", content=unique_booking("workers", n),
                                   headers={"Connection": "close"}) for n in range(30)]
            assert {answer.status_code for answer in answers} == {202}
            metrics = client.get("/metrics").text
        total = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                    if line.startswith('gateway_requests_total{') and 'outcome="accepted"' in line)
        assert total == 30
        assert len(list((tmp_path / "spool").glob("spool-*.lock"))) == 2
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        log.close()


def _wait_ready(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "the gateway exited at start"
        try:
            if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("the workers were not ready within 30 s")
