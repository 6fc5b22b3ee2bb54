"""Shared fixtures: a real broker (Tansu) and a real gateway process serving a test configuration."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import settings

from adapters import ADAPTERS
from gateway.config import TopicSettings
from gateway.kafka.broker import EmbeddedBroker, free_port
from gateway.kafka.topics import ensure_topics
from gateway.ops import logging as gateway_logging
from gateway.ops.processes import terminate
from tests import logcapture
from tests.redis_server import RedisServer
from tests.waiting import wait_for

# Property tests check behaviour, not speed: a loaded 2-core CI machine must not fail them on hypothesis' deadline.
settings.register_profile("gateway", deadline=None)
settings.load_profile("gateway")

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT.parent / "shared" / "seeds"
TOKEN = "test-picktime-token"
ROTATED_TOKEN = "test-picktime-token-next"
BASIC = "vendor:s3cret-pass"
TEST_TIMEZONE = "Europe/Berlin"
"""The ``timezone`` of every test source whose vendor sends local times (``Adapter.needs_timezone``)."""
VENDOR_SECRETS = {
    vendor: (TOKEN, ROTATED_TOKEN) if vendor == "picktime" else (f"test-{vendor}-secret", f"test-{vendor}-secret-next")
    for vendor in sorted(ADAPTERS)
}
"""Every registered vendor's secrets (a second one to rotate to), for its source and its ``-fuzz`` source."""
NOTIFICATION_URL = "https://bookings.example.com/hooks/square"
"""The ``notification_url`` of every test source whose vendor signs its URL: a public one, not what the test sees."""
STANDARD_WEBHOOKS_SECRETS = ("whsec_" + "dGVzdC1zdGFuZGFyZC13ZWJob29rcy1rZXk=", "whsec_" + "bmV4dC1zdGFuZGFyZC13ZWJob29rcy1rZXk=")
"""The ``timekit-sw`` source's secrets (``auth = "standard-webhooks"``, a second one to rotate to)."""
MAX_BODY_BYTES = 65_536
TOPICS = TopicSettings()


def pytest_configure(config: pytest.Config) -> None:
    """Children started by the tests take Ctrl-C (SIGINT) as they would from a terminal.

    A runner started in the background by a shell without job control (``make test &``,
    some CI steps) ignores SIGINT, and every child inherits the ignore: a ``tail`` or
    ``gateway dev`` sent SIGINT by a test would never stop. Python children get their
    default handler back only when SIGINT is not ignored in the runner.
    """
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    _capture_in_process_lines()


def _capture_in_process_lines() -> None:
    """Every line the one writer renders in this process is kept for the log contract's check.

    Logging is configured as the gateway configures it, so a line logged by code a test runs in-process
    goes through that writer even when no app was built.
    """
    gateway_logging.configure_logging()
    writer = gateway_logging._line

    def recording(line: Any, level: str) -> bytes:
        rendered = writer(line, level)
        logcapture.record(rendered)
        return rendered

    gateway_logging._line = recording


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Every line the suite made the gateway write keeps the log contract (schemas/log-lines.schema.json)."""
    problems = logcapture.contract_problems()
    if not problems:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    message = "log lines outside the contract:\n  " + "\n  ".join(problems)
    if reporter is not None:
        reporter.write_sep("=", "log contract", red=True)
        reporter.write_line(message)
    else:
        print(message, file=sys.stderr)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    """One Tansu broker on a free loopback port for the whole session."""
    log = tmp_path_factory.mktemp("broker") / "tansu.log"
    with EmbeddedBroker("127.0.0.1", free_port(), log_path=log) as running:
        yield running


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One redis-server on a free loopback port for the whole session (tests that kill it start their own)."""
    with RedisServer(tmp_path_factory.mktemp("redis")) as running:
        yield running


def gateway_config(
    bootstrap: str, port: int, spool: Path, *, ack_timeout_ms: int = 1000, spool_max_bytes: int = 1 << 30
) -> str:
    """The test configuration: sources per auth scheme, and two (``<vendor>``, ``<vendor>-fuzz``) per registered vendor."""
    return f"""
[server]
host = "127.0.0.1"
port = {port}
max_body_bytes = {MAX_BODY_BYTES}
[kafka]
bootstrap_servers = "{bootstrap}"
idempotence = false
ack_timeout_ms = {ack_timeout_ms}
request_timeout_ms = 5000
[topics]
partitions = 1
[spool]
path = "{spool}"
max_bytes = {spool_max_bytes}
[log]
level = "info"
[[sources]]
id = "picktime-e2e"
provider = "picktime"
auth = "token"
secret = "{TOKEN}"
[[sources]]
id = "picktime consumers"
provider = "picktime"
auth = "token"
secret = "{TOKEN}"
[[sources]]
id = "picktime-basic"
provider = "picktime"
auth = "basic"
secret = "{BASIC}"
[[sources]]
id = "timekit-sw"
provider = "timekit"
auth = "standard-webhooks"
secrets = {list(STANDARD_WEBHOOKS_SECRETS)!r}
""" + "".join(vendor_source(vendor, vendor) + vendor_source(vendor, f"{vendor}-fuzz") for vendor in sorted(ADAPTERS))


def vendor_source(vendor: str, source_id: str) -> str:
    """A test source for a registered vendor, as its adapter declares it: default auth, time zone if it needs one."""
    adapter = ADAPTERS[vendor]
    timezone = f'timezone = "{TEST_TIMEZONE}"\n' if adapter.needs_timezone else ""
    timezone += f'notification_url = "{NOTIFICATION_URL}"\n' if adapter.needs_notification_url else ""
    return f"""
[[sources]]
id = "{source_id}"
provider = "{vendor}"
auth = "{adapter.default_auth}"
secrets = {list(VENDOR_SECRETS[vendor])!r}
{timezone}"""


class GatewayProcess:
    """A ``python -m gateway serve`` child process and where to reach it."""

    def __init__(self, process: subprocess.Popen[bytes], base_url: str, log_path: Path) -> None:
        self.process = process
        self.base_url = base_url
        self.log_path = log_path
        """Its stdout: the log lines."""
        self.stderr_path = log_path.with_suffix(".stderr")
        """Its stderr: what uvicorn and Python themselves have to say."""

    def output(self) -> str:
        """Both of its streams, as a person reading a failure wants them."""
        stderr = self.stderr_path.read_text() if self.stderr_path.exists() else ""
        return self.log_path.read_text() + ("\nstderr:\n" + stderr if stderr else "")

    def log_lines(self) -> list[str]:
        return self.log_path.read_text().splitlines()

    def log_entries(self) -> list[dict[str, Any]]:
        """The JSON lines of the log written so far (a line still being written is left for the next read)."""
        text = self.log_path.read_text()
        complete = text[: text.rfind("\n") + 1]
        return [json.loads(line) for line in complete.splitlines() if line.startswith("{")]

    def wait_for_log(
        self, match: Callable[[dict[str, Any]], bool], what: str, *, count: int = 1, timeout_s: float = 15
    ) -> list[dict[str, Any]]:
        """Wait until the log holds ``count`` JSON lines that ``match``; those lines."""
        def found() -> list[dict[str, Any]]:
            lines = [entry for entry in self.log_entries() if match(entry)]
            return lines if len(lines) >= count else []

        return wait_for(found, f"{count} log line(s) with {what} in {self.log_path}", timeout_s=timeout_s,
                        context=lambda: "the log:\n" + self.output()[-4000:])


def start_gateway(
    config_text: str, workdir: Path, *, wait_ready: bool = True, args: Sequence[str] = ()
) -> GatewayProcess:
    """Start the gateway on the config (``serve`` options in ``args``) and wait until /readyz answers 200.

    With ``wait_ready`` False, until /healthz answers 200. With several workers, that is the first one.
    """
    config_path = workdir / "gateway.toml"
    config_path.write_text(config_text)
    port = int(config_text.split("port = ", 1)[1].split("\n", 1)[0])
    log_path = workdir / "gateway.log"
    logcapture.watch(log_path)
    with open(log_path, "ab") as log, open(log_path.with_suffix(".stderr"), "ab") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--config", str(config_path), *args],
            stdout=log, stderr=errors, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    gateway = GatewayProcess(process, f"http://127.0.0.1:{port}", log_path)
    wait_answering(process, gateway.base_url + ("/readyz" if wait_ready else "/healthz"), gateway.output)
    return gateway


def wait_answering(process: subprocess.Popen[bytes], url: str, output: Callable[[], str], timeout_s: float = 30) -> None:
    """Wait until ``url`` of the server ``process`` started answers 200; if it exits or never does, kill it and fail.

    The answer counts once ``process`` has logged its own "ready to receive": a server of someone
    else's on the same port (another run's ``gateway dev``) must not pass for it.
    """
    def answers() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"the server exited at start (status {process.returncode}):\n{output()}")
        return '"ready to receive"' in output() and httpx.get(url, timeout=1).status_code == 200

    try:
        wait_for(answers, f"{url} to answer 200", timeout_s=timeout_s, interval_s=0.1,
                 ignoring=(httpx.TransportError,), context=lambda: f"its output:\n{output()}")
    except AssertionError:
        process.kill()
        process.wait()
        raise


def stop_gateway(gateway: GatewayProcess) -> None:
    terminate(gateway.process, timeout_s=15)


@pytest.fixture(scope="session")
def gateway(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    """The gateway, serving the test configuration against the session broker."""
    asyncio.run(ensure_topics(broker.bootstrap_servers, TopicSettings(partitions=1)))
    workdir = tmp_path_factory.mktemp("gateway")
    running = start_gateway(gateway_config(broker.bootstrap_servers, free_port(), workdir / "spool"), workdir)
    yield running
    stop_gateway(running)


@pytest.fixture(scope="session")
def client(gateway: GatewayProcess) -> Iterator[httpx.Client]:
    """An HTTP client for the gateway."""
    with httpx.Client(base_url=gateway.base_url, timeout=10) as http:
        yield http
