"""``python -m bench.claims``: what a delivery's claim and confirm cost the event loop, per backend, measured alone.

In one process, 64 tasks claim and confirm unique deliveries as fast as they
can; the figure is the process's CPU time per delivery. ``bare`` is the
dedupe store without claims (a lookup and a remember, what one process did
before claims), ``local`` the record-lock claims of ``[dedupe] backend =
"local"``, ``redis`` those of ``backend = "redis"`` against a real
redis-server (its own CPU not counted). Three rounds, alternating.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import uvloop

from gateway.storage.claims import Claims
from gateway.storage.dedupe import DedupeStore
from gateway.storage.local_claims import LocalClaimBackend
from gateway.storage.redis_claims import RedisClaimBackend
from tests.redis_server import RedisServer

Run = Callable[[str], Awaitable[None]]


async def _cpu_per_delivery(deliveries: int, tasks: int, one: Run) -> float:
    names = iter(range(deliveries))

    async def task() -> None:
        for number in names:
            await one(f"d-{time.time_ns()}-{number}")

    started = time.process_time()
    await asyncio.gather(*(task() for _ in range(tasks)))
    return (time.process_time() - started) / deliveries * 1e6


def _through(claims: Claims) -> Run:
    async def one(key: str) -> None:
        claim = await claims.claim("bench", key)
        assert claim.outcome == "first", claim
        await asyncio.sleep(0)  # publishing
        await claims.confirm("bench", key, 1)

    return one


def _bare(store: DedupeStore) -> Run:
    async def one(key: str) -> None:
        assert store.seen("bench", key) is None
        await asyncio.sleep(0)
        store.remember("bench", key, 1)

    return one


async def _measure(args: argparse.Namespace, workdir: Path, redis_url: str) -> None:
    bare = DedupeStore(workdir / "bare", window_s=3600)
    local = Claims(LocalClaimBackend(DedupeStore(workdir / "local", window_s=3600)), wait_s=5)
    redis = Claims(RedisClaimBackend(redis_url, window_s=3600, claim_ttl_s=30, timeout_s=1), wait_s=5)
    await bare.open()
    await local.open()
    await redis.open()
    runs = {"bare": _bare(bare), "local": _through(local), "redis": _through(redis)}
    figures: dict[str, list[float]] = {name: [] for name in runs}
    try:
        for _ in range(args.rounds):
            for name, one in runs.items():
                figures[name].append(await _cpu_per_delivery(args.deliveries, args.tasks, one))
    finally:
        await bare.close()
        await local.close()
        await redis.close()
    for name, values in figures.items():
        print(f"{name:<6} {min(values):6.1f} us of CPU per delivery (best of {args.rounds}; "
              f"all: {', '.join(f'{value:.1f}' for value in values)})")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.claims", description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=20_000)
    parser.add_argument("--tasks", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gateway-claims-") as tmp, RedisServer(Path(tmp)) as redis:
        uvloop.run(_measure(args, Path(tmp), redis.url))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
