"""``python -m bench.run``: the gateway against two baselines, in one run, on one real broker.

Drives each server with wrk (64 connections, every request a different
booking), reports requests/s, p50/p99 latency and errors, and the gateway's
ratios to the baselines measured in the same run. The gateway runs with one
worker and two (dedupe claims through their shared SQLite file), then, on
one real redis-server, one instance and two instances (wrk's connections
split between them) with ``[dedupe] backend = "redis"``. ``--memory``
instead runs the gateway alone to 1M requests and reports its RSS at 100k
and at 1M.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from gateway.config import TopicSettings
from gateway.kafka.broker import EmbeddedBroker, free_port
from gateway.kafka.topics import ensure_topics
from tests.redis_server import RedisServer

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-token"
FASTAPI_TOPIC = "bench.fastapi.v1"


class WrkResult(msgspec.Struct):
    requests: int
    duration_us: int
    p50_us: int
    p99_us: int
    max_us: int
    errors: int
    server_cpu_s: float = 0.0

    @property
    def rate(self) -> float:
        return self.requests / (self.duration_us / 1e6)

    @property
    def cpu_us_per_request(self) -> float:
        """CPU time (user + system, every process of the server) per request: steadier than req/s on a busy box."""
        return self.server_cpu_s * 1e6 / self.requests if self.requests else 0.0


@dataclass
class Server:
    name: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    port: int = 0

    def start(self, port: int) -> None:
        self.port = port
        command = [part.replace("{port}", str(port)) for part in self.command]
        config = next((Path(part) for part in command if part.endswith(".toml")), None)
        if config is not None:  # a gateway: its config names the port
            config.write_text(config.read_text().replace("port = 0\n", f"port = {port}\n"))
        self.process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **self.env},
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _wait_listening(port, self.process)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None


def _wait_listening(port: int, process: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.stderr.read().decode() if process.stderr else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                time.sleep(0.5)  # let the lifespan finish connecting to the broker
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def gateway_config(bootstrap: str, port: int, workdir: Path, redis_url: str | None = None) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    dedupe = f'[dedupe]\nbackend = "redis"\nredis_url = "{redis_url}"\n' if redis_url else ""
    path = workdir / "gateway.toml"
    path.write_text(f"""
[server]
host = "127.0.0.1"
port = {port}
[kafka]
bootstrap_servers = "{bootstrap}"
idempotence = false
[topics]
partitions = 1
[spool]
path = "{workdir / 'spool'}"
[[sources]]
id = "picktime"
provider = "picktime"
auth = "token"
secret = "{TOKEN}"
{dedupe}""")
    return path


def _wrk_command(port: int, seconds: int, connections: int, run_id: str) -> list[str]:
    return ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-s", str(ROOT / "bench/unique.lua"),
            f"http://127.0.0.1:{port}/webhooks/picktime", "--", run_id, TOKEN, "/webhooks/picktime"]


def wrk(ports: list[int], seconds: int, connections: int, run_id: str) -> WrkResult:
    """wrk against every port at once, the connections split between them; the results added up.

    With several ports, p50 and p99 are the worst of the instances' (an upper bound of the whole's).
    """
    loads = [subprocess.Popen(_wrk_command(port, seconds, connections // len(ports), f"{run_id}-{n}"),
                              stdout=subprocess.PIPE, text=True) for n, port in enumerate(ports)]
    results = []
    for load in loads:
        output, _ = load.communicate()
        if load.returncode != 0:
            raise RuntimeError(f"wrk failed ({load.returncode})")
        line = next(line for line in output.splitlines() if line.startswith("BENCH "))
        results.append(msgspec.json.decode(line.removeprefix("BENCH "), type=WrkResult))
    return WrkResult(requests=sum(r.requests for r in results), duration_us=max(r.duration_us for r in results),
                     p50_us=max(r.p50_us for r in results), p99_us=max(r.p99_us for r in results),
                     max_us=max(r.max_us for r in results), errors=sum(r.errors for r in results))


def gateway_name(workers: int) -> str:
    return "gateway" if workers == 1 else f"gateway {workers} workers"


REDIS_ONE = "gateway + redis"
REDIS_TWO = "2 instances + redis"


@dataclass
class Setup:
    """What wrk drives at once: one server, or several instances on ports of their own."""

    name: str
    servers: list[Server]

    def start(self) -> list[int]:
        ports = [free_port() for _ in self.servers]
        for server, port in zip(self.servers, ports, strict=True):
            server.start(port)
        return ports

    def stop(self) -> None:
        for server in self.servers:
            server.stop()

    def cpu_seconds(self) -> float:
        return sum(_cpu_seconds(server.process.pid) for server in self.servers if server.process is not None)


def _gateway(name: str, config: Path, workers: int = 1) -> Server:
    return Server(name, [sys.executable, "-m", "gateway", "serve", "--config", str(config), "--workers", str(workers)])


def setups(bootstrap: str, workdir: Path, worker_counts: list[int], redis_url: str | None) -> list[Setup]:
    """The two baselines, the gateway once per worker count, then one and two instances on Redis.

    Every gateway has a config and spool of its own; the port in its config is the one ``Server.start`` gets.
    """
    python = sys.executable
    uvicorn = [python, "-m", "uvicorn", "--port", "{port}", "--no-access-log", "--log-level", "warning"]

    def config(name: str, redis: str | None = None) -> Path:
        return gateway_config(bootstrap, 0, workdir / name, redis)

    found = [
        Setup("starlette floor", [Server("starlette floor", [*uvicorn, "bench.baseline_starlette:app"])]),
        Setup("fastapi receiver", [Server("fastapi receiver", [*uvicorn, "bench.baseline_fastapi:app"],
                                          env={"BENCH_BOOTSTRAP": bootstrap, "BENCH_TOPIC": FASTAPI_TOPIC})]),
        *(Setup(gateway_name(workers), [_gateway(gateway_name(workers), config(f"w{workers}"), workers)])
          for workers in worker_counts),
    ]
    if redis_url:
        found.append(Setup(REDIS_ONE, [_gateway(REDIS_ONE, config("redis-1", redis_url))]))
        found.append(Setup(REDIS_TWO, [_gateway(f"{REDIS_TWO} #{n}", config(f"redis-2-{n}", redis_url))
                                       for n in range(2)]))
    return found


def compare(args: argparse.Namespace, broker: EmbeddedBroker, workdir: Path, redis_url: str | None) -> int:
    results: dict[str, list[WrkResult]] = {}
    for round_number in range(args.rounds):
        for setup in setups(broker.bootstrap_servers, workdir / f"round{round_number}", args.workers, redis_url):
            ports = setup.start()
            try:
                wrk(ports, args.warmup, args.connections, f"warm{round_number}{setup.name[:3]}")
                cpu_before = setup.cpu_seconds()
                result = wrk(ports, args.seconds, args.connections, f"r{round_number}{setup.name[:3]}")
                result.server_cpu_s = setup.cpu_seconds() - cpu_before
            finally:
                setup.stop()
            results.setdefault(setup.name, []).append(result)
            print(f"round {round_number + 1} {setup.name:<19} {result.rate:8.0f} req/s  "
                  f"p50 {result.p50_us / 1000:6.1f} ms  p99 {result.p99_us / 1000:6.1f} ms  errors {result.errors}  "
                  f"cpu {result.cpu_us_per_request:5.0f} us/req", flush=True)
    return report(results, args)


def report(results: dict[str, list[WrkResult]], args: argparse.Namespace) -> int:
    rate = {name: statistics.median(r.rate for r in runs) for name, runs in results.items()}
    p99 = {name: max(r.p99_us for r in runs) / 1000 for name, runs in results.items()}
    errors = {name: sum(r.errors for r in runs) for name, runs in results.items()}
    cpu = {name: statistics.median(r.cpu_us_per_request for r in runs) for name, runs in results.items()}
    print(f"\n{args.connections} connections, {args.seconds} s x {args.rounds} rounds")
    print(f"{'server':<22}{'req/s (median)':>16}{'p99 ms (worst)':>16}{'errors':>8}{'cpu us/req':>12}")
    for name in results:
        print(f"{name:<22}{rate[name]:>16.0f}{p99[name]:>16.1f}{errors[name]:>8}{cpu[name]:>12.0f}")
    print()
    for workers in args.workers:
        name = gateway_name(workers)
        print(f"{name} / fastapi receiver = {rate[name] / rate['fastapi receiver']:.2f}x, "
              f"/ starlette floor = {rate[name] / rate['starlette floor']:.2f}x"
              + (f", / gateway = {rate[name] / rate['gateway']:.2f}x" if workers != 1 and 1 in args.workers else ""))
    if REDIS_ONE in rate and "gateway" in rate:
        cost = 1 - rate[REDIS_ONE] / rate["gateway"]
        print(f"{REDIS_ONE} / gateway = {rate[REDIS_ONE] / rate['gateway']:.2f}x (Redis costs {cost:.0%} of one "
              f"worker's throughput; target < 10%), {REDIS_TWO} / gateway = {rate[REDIS_TWO] / rate['gateway']:.2f}x")
    if 1 not in args.workers:
        return 0
    vs_fastapi = rate["gateway"] / rate["fastapi receiver"]
    vs_floor = rate["gateway"] / rate["starlette floor"]
    print(f"\ntargets (one worker): gateway / fastapi receiver = {vs_fastapi:.2f}x (>= 2.5x), "
          f"gateway / starlette floor = {vs_floor:.2f}x (>= 0.5x), p99 = {p99['gateway']:.1f} ms (<= 50 ms), "
          f"errors = {errors['gateway']} (0)")
    met = vs_fastapi >= 2.5 and vs_floor >= 0.5 and p99["gateway"] <= 50 and errors["gateway"] == 0
    print("targets met" if met else "targets NOT met")
    return 0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children that are still running."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for process in [pid, *_children(pid)]:
        try:
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _children(parent: int) -> list[int]:
    children = Path(f"/proc/{parent}/task/{parent}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _worker_pids(parent: int) -> list[int]:
    return _children(parent) or [parent]


def _requests_served(port: int) -> int:
    import urllib.request

    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return int(sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith("gateway_requests_total{")))


def memory(args: argparse.Namespace, broker: EmbeddedBroker, workdir: Path) -> int:
    port = free_port()
    gateway = _gateway("gateway", gateway_config(broker.bootstrap_servers, 0, workdir / "memory"))
    gateway.start(port)
    assert gateway.process is not None
    load = subprocess.Popen(["wrk", "-t2", f"-c{args.connections}", "-d3600s", "--timeout", "5s",
                             "-s", str(ROOT / "bench/unique.lua"), f"http://127.0.0.1:{port}/webhooks/picktime",
                             "--", "mem", TOKEN, "/webhooks/picktime"], stdout=subprocess.DEVNULL)
    marks = [10_000, 100_000, 250_000, 500_000, 750_000, 1_000_000]
    started = time.monotonic()
    try:
        while marks:
            time.sleep(1)
            served = _requests_served(port)
            if served >= marks[0]:
                rss = sum(_rss_kib(pid) for pid in _worker_pids(gateway.process.pid))
                print(f"{served:>9} requests  RSS {rss / 1024:7.1f} MiB  ({time.monotonic() - started:5.0f} s)",
                      flush=True)
                marks.pop(0)
    finally:
        load.terminate()
        load.wait()
        gateway.stop()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15, help="measured seconds per server per round")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up seconds before each measurement")
    parser.add_argument("--rounds", type=int, default=2, help="rounds (servers alternate within a round)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                        help="gateway worker counts, each run in every round (e.g. --workers 1 2)")
    parser.add_argument("--no-redis", action="store_true",
                        help="leave out the two Redis setups (they need redis-server: apt-get install redis-server)")
    parser.add_argument("--memory", action="store_true", help="run the gateway to 1M requests and report RSS")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("bench: wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="gateway-bench-") as tmp:
        workdir = Path(tmp)
        with EmbeddedBroker("127.0.0.1", free_port(), log_path=workdir / "tansu.log") as broker:
            topics = TopicSettings(partitions=1)
            asyncio.run(ensure_topics(broker.bootstrap_servers, topics))
            asyncio.run(ensure_topics(broker.bootstrap_servers,
                                      TopicSettings(canonical=FASTAPI_TOPIC, raw=FASTAPI_TOPIC + ".r",
                                                    dead_letter=FASTAPI_TOPIC + ".d", partitions=1)))
            if args.memory:
                return memory(args, broker, workdir)
            if args.no_redis:
                return compare(args, broker, workdir, None)
            with RedisServer(workdir) as redis:
                return compare(args, broker, workdir, redis.url)


if __name__ == "__main__":
    raise SystemExit(main())
