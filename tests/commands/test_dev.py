"""``gateway dev`` with a production-style config: it publishes, survives a restart, refuses a taken port, exits 0."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import msgspec
import pytest

from gateway.kafka.broker import free_port
from tests import logcapture
from tests.commands import PICKTIME, run_gateway
from tests.conftest import ROOT, TOPICS, wait_answering
from tests.kafka import Record, read_until

SAMPLE = PICKTIME / "seed_service_updated_broken.json"


def _production_style_config(server_port: int, broker_port: int) -> str:
    """What a user writes for production: kafka.idempotence left at its default (true), no spool path."""
    return f"""
[server]
port = {server_port}
[kafka]
bootstrap_servers = "127.0.0.1:{broker_port}"
[[sources]]
id = "picktime"
provider = "picktime"
auth = "token"
secret = "my-token"
"""


class DevGateway:
    """A running ``gateway dev`` child, its output (stdout and stderr), and its HTTP base URL."""

    def __init__(self, workdir: Path, config: Path, port: int) -> None:
        self.output_path = workdir / f"dev-{time.monotonic_ns()}.log"
        logcapture.watch(self.output_path, with_stderr=True)
        with open(self.output_path, "wb") as output:
            self.process = subprocess.Popen([sys.executable, "-m", "gateway", "dev", "--config", str(config)],
                                            cwd=workdir, stdout=output, stderr=subprocess.STDOUT,
                                            env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True)
        self.base_url = f"http://127.0.0.1:{port}"
        wait_answering(self.process, self.base_url + "/readyz", self.output)

    def output(self) -> str:
        return self.output_path.read_text()

    def post_sample(self) -> httpx.Response:
        return httpx.post(f"{self.base_url}/webhooks/picktime?token=my-token", content=SAMPLE.read_bytes(),
                          headers={"Content-Type": "application/json"}, timeout=10)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)

    def interrupt(self) -> int:
        """Ctrl-C in a terminal: SIGINT to the whole foreground process group."""
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(timeout=30)


@pytest.fixture
def config_file(tmp_path: Path) -> Iterator[tuple[Path, int, int]]:
    server_port, broker_port = free_port(), free_port()
    path = tmp_path / "my.toml"
    path.write_text(_production_style_config(server_port, broker_port))
    yield path, server_port, broker_port


def test_production_style_config_publishes_across_restarts(config_file: tuple[Path, int, int], tmp_path: Path) -> None:
    """Idempotence forced off (and said), every accepted webhook on the topic, again after a restart."""
    path, server_port, broker_port = config_file
    for run in range(2):
        dev = DevGateway(tmp_path, path, server_port)
        try:
            answer = dev.post_sample()
            assert answer.status_code == 202, answer.text
            assert "spooled" not in answer.json() and "duplicate" not in answer.json()
            events: set[str] = set(answer.json()["events"])
            records = asyncio.run(read_until(f"127.0.0.1:{broker_port}", TOPICS.canonical, _holding(events)))
            assert _ids(records) >= events, "the accepted webhook's events are on the canonical topic"
        finally:
            assert dev.stop() == 0, "a clean shutdown exits 0 (make run prints no error)"
        lines = dev.output()
        assert "kafka.idempotence is off in dev mode" in lines
        if run == 1:
            assert "dedupe store in var/spool cleared" in lines
    assert (tmp_path / "var" / "spool").is_dir(), "the default spool path is relative to where dev runs"


def _holding(events: set[str]) -> Callable[[list[Record]], bool]:
    return lambda records: _ids(records) >= events


def _ids(records: list[Record]) -> set[str]:
    return {msgspec.json.decode(record.value)["id"] for record in records}


def test_a_second_dev_names_the_taken_port(config_file: tuple[Path, int, int], tmp_path: Path) -> None:
    path, server_port, _ = config_file
    dev = DevGateway(tmp_path, path, server_port)
    try:
        second = run_gateway("dev", "--config", str(path))
        assert second.returncode == 3
        assert f"port {server_port} on 127.0.0.1 is taken" in second.stderr
        assert "server.port" in second.stderr
        assert "producer connected" not in second.stdout + second.stderr
        [logged] = second.stdout.splitlines()
        assert logcapture.line_problem(logged) is None and '"event":"configuration error"' in logged
        assert dev.post_sample().status_code == 202, "the first one still serves"
    finally:
        assert dev.interrupt() == 0, "Ctrl-C stops it cleanly"
    assert "Unable to update metadata" not in dev.output(), "the broker outlived the gateway's shutdown"
