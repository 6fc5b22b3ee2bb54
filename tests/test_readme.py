"""Every shell command in the README runs as written, against ``gateway dev`` as ``make run`` starts it.

The README's ```sh blocks are read, their commands listed (comments dropped,
continued and piped lines joined) and each is either run here, from the
repository root, with its exit status and answer checked, or named in
NOT_RUN with the reason. A command added to the README that is in neither
fails the test, so the README cannot drift from what works.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from gateway.commands.dev import bundled_dev_config
from tests import logcapture
from tests.conftest import ROOT, wait_answering
from tests.faults.rig import unique_booking
from tests.waiting import wait_for

README = ROOT / "README.md"
# Held while this module's `gateway dev` runs on the bundled config's fixed ports (8080, 19092).
DEV_PORTS_LOCK = Path(tempfile.gettempdir()) / "booking-gateway-dev-ports.lock"

NOT_RUN = {
    "make run": "starts the same `gateway dev` that this test starts itself",
    "make test": "what CI runs; this test is part of it",
    "make bench": "takes minutes and needs wrk: run by hand, figures in the README",
    "make bench-memory": "drives a million requests: run by hand",
    "UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/adapters": "rewrites the golden files",
    ".venv/bin/python -m schemas.jsonschema": "rewrites the committed schema (tests/schemas checks it is current)",
}
FOLLOWING = {
    ".venv/bin/gateway tail --from-beginning": "follows the topic until stopped: stopped after its first event",
}
_COMMENT = re.compile(r"\s+#\s.*$")


def readme_commands(text: str) -> list[str]:
    """The commands of every ```sh block: one string each, trailing comments dropped."""
    commands: list[str] = []
    for block in re.findall(r"^```sh\n(.*?)^```", text, flags=re.M | re.S):
        pending = ""
        for raw in block.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            line = _COMMENT.sub("", line)
            if line.endswith("\\"):
                pending += line[:-1].rstrip() + " "
            elif line.endswith("|"):
                pending += line + " "
            else:
                commands.append(pending + line)
                pending = ""
    return commands


def _as_run_here(command: str) -> str:
    """The command, calling this interpreter's environment where the README says ``.venv/bin/``."""
    venv_bin = Path(sys.prefix) / "bin"
    if (ROOT / ".venv" / "bin").resolve() == venv_bin.resolve():
        return command
    return command.replace(".venv/bin/", f"{venv_bin}/")


@contextmanager
def _dev_ports() -> Iterator[None]:
    """The bundled config's fixed ports for this run alone: another test run on the machine waits for its turn."""
    with open(DEV_PORTS_LOCK, "w") as lock:

        def locked() -> bool:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True

        wait_for(locked, f"{DEV_PORTS_LOCK} (another test run is using the dev ports)", timeout_s=120, interval_s=0.2)
        yield


@pytest.fixture(scope="module")
def dev_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``gateway dev`` with the bundled config, as ``make run`` starts it (its ports, its spool in a fresh folder)."""
    with _dev_ports():
        yield from _started_dev_gateway(tmp_path_factory)


def _started_dev_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start it, yield its base URL, stop it (and it must exit 0)."""
    config = bundled_dev_config()
    base = f"http://{config.server.host}:{config.server.port}"
    workdir = tmp_path_factory.mktemp("readme")
    log = workdir / "dev.log"
    logcapture.watch(log, with_stderr=True)
    with open(log, "wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "gateway", "dev"], cwd=workdir, stdout=output,
                                   stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        wait_answering(process, base + "/readyz", log.read_text)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, log.read_text()


def test_every_readme_command_is_run_or_named_with_a_reason() -> None:
    commands = readme_commands(README.read_text())
    assert len(commands) >= 8, commands
    listed = set(NOT_RUN) | set(FOLLOWING)
    assert not listed - set(commands), f"named here but no longer in the README: {listed - set(commands)}"


def _runnable() -> list[str]:
    return [command for command in readme_commands(README.read_text()) if command not in NOT_RUN]


@pytest.mark.parametrize("command", _runnable())
def test_readme_command_works_as_written(command: str, dev_gateway: str, tmp_path: Path) -> None:
    shell = ["bash", "-o", "pipefail", "-c", _as_run_here(command)]
    if command in FOLLOWING:
        # An event of its own to follow to, whether or not the README's curl ran before it.
        source = next(source for source in bundled_dev_config().sources if source.provider == "picktime")
        posted = httpx.post(f"{dev_gateway}/webhooks/picktime?token={source.secret}",
                            content=unique_booking("readme", time.time_ns()), timeout=10)
        assert posted.status_code == 202, posted.text
        stderr = tmp_path / "stderr"
        with open(stderr, "wb") as errors:
            process = subprocess.Popen(shell, cwd=ROOT, stdout=subprocess.PIPE, stderr=errors, start_new_session=True)
        assert process.stdout is not None
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(process.stdout, selectors.EVENT_READ)
                ready = selector.select(timeout=20)  # the first event, or whatever it said before exiting
            first = process.stdout.readline() if ready else b""
        finally:
            os.killpg(process.pid, signal.SIGINT)
            process.wait(timeout=15)
            process.stdout.close()
        assert first.strip(), f"printed no event within 20 s; stderr: {stderr.read_text()}"
        return
    done = subprocess.run(shell, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, f"exit {done.returncode}\nstdout: {done.stdout}\nstderr: {done.stderr}"
    if "curl " in command:
        answer = json.loads(done.stdout)
        assert "events" in answer and "type" not in answer, f"the gateway refused it: {answer}"
