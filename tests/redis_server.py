"""A real redis-server (Debian's package) on a free loopback port, for the dedupe tests, as Tansu is for the broker."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
from pathlib import Path
from types import TracebackType

from gateway.kafka.broker import free_port
from gateway.ops.processes import terminate
from tests.waiting import wait_for

__all__ = ["RedisServer"]


def _answers_ping(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
        connection.sendall(b"PING\r\n")
        return connection.recv(16).startswith(b"+PONG")


class RedisServer:
    """``with RedisServer(workdir) as redis:`` a server at ``redis.url``, no persistence; ``kill`` and ``start`` it."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed (Debian: apt-get install redis-server; .ci/run does)"
        self._binary = binary
        self._workdir = workdir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self._workdir / "redis.log"
        self._process = subprocess.Popen(
            [self._binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", str(self._workdir), "--logfile", str(log)],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )
        process = self._process

        def up() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"redis-server exited ({process.returncode}):\n{log.read_text()}")
            return _answers_ping(self.port)

        wait_for(up, f"redis-server on port {self.port}", timeout_s=15, interval_s=0.05, ignoring=(OSError,))

    def kill(self) -> None:
        """SIGKILL: gone at once, as a crashed or unreachable Redis is."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait()

    def stop(self) -> None:
        if self._process is not None:
            terminate(self._process, timeout_s=10)

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()
