"""``serve`` against a broker that refuses the idempotent producer: said exactly so at start, in /readyz, in a metric.

Tansu rejects InitProducerId, so ``kafka.idempotence = true`` against it is
the real refusal, not a simulated one. The gateway runs degraded: webhooks
are spooled (nothing acknowledged is lost), /readyz answers 503 naming what
was refused and the setting that fixes it.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from gateway.kafka.broker import EmbeddedBroker, free_port
from tests.conftest import TOKEN, gateway_config, start_gateway, stop_gateway
from tests.faults.rig import unique_booking


def test_refused_idempotent_producer_is_reported_not_unreachable(broker: EmbeddedBroker, tmp_path: Path) -> None:
    config = gateway_config(broker.bootstrap_servers, free_port(), tmp_path / "spool")
    config = config.replace("idempotence = false", "idempotence = true")
    gateway = start_gateway(config, tmp_path, wait_ready=False)
    try:
        with httpx.Client(base_url=gateway.base_url, timeout=10) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 503
            report = ready.json()
            assert report["status"] == "not-ready"
            assert report["refused"]["setting"] == "kafka.idempotence"
            assert "InitProducerId" in report["refused"]["refused"]
            assert "kafka.idempotence = false" in report["detail"]
            metrics = client.get("/metrics").text
            assert "gateway_producer_refused 1.0" in metrics.splitlines()
            answer = client.post(f"/webhooks/picktime?token={TOKEN}", content=unique_booking("refused", 1))
            assert answer.status_code == 202 and answer.json()["spooled"] is True, "kept durable meanwhile"
    finally:
        stop_gateway(gateway)
    lines = [json.loads(line) for line in gateway.log_lines() if line.startswith("{")]
    refused = [line for line in lines if line["event"].startswith("broker refused the producer")]
    assert len(refused) == 1 and refused[0]["setting"] == "kafka.idempotence" and refused[0]["level"] == "error"
    assert not any("unreachable" in line["event"] for line in lines)
