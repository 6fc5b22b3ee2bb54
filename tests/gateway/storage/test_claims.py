"""Claims: of concurrent copies of one delivery over several processes' stores, exactly one publishes.

Each ``Claims`` here is one replica's (Redis) or one worker's (SQLite on a shared file).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import pytest

from gateway.kafka.broker import free_port
from gateway.storage.claims import Claim, Claims
from gateway.storage.dedupe import DedupeStore
from gateway.storage.local_claims import ClaimsFolderInUse, LocalClaimBackend
from gateway.storage.redis_claims import RedisClaimBackend
from tests.conftest import ROOT
from tests.redis_server import RedisServer

ClaimsFactory = Callable[[], Claims]


def _redis(url: str, *, claim_ttl_s: float = 30, wait_s: float = 5) -> Claims:
    return Claims(RedisClaimBackend(url, window_s=3600, claim_ttl_s=claim_ttl_s, timeout_s=0.25), wait_s=wait_s)


def _local(path: Path, *, wait_s: float = 5, alone: bool = False) -> Claims:
    store = DedupeStore(path, window_s=3600, flush_interval_s=0.01)
    return Claims(LocalClaimBackend(store, alone=alone), wait_s=wait_s)


@asynccontextmanager
async def _opened(*all_claims: Claims) -> AsyncIterator[None]:
    async with AsyncExitStack() as stack:
        for claims in all_claims:
            await claims.open()
            stack.push_async_callback(claims.close)
        yield


async def _sixty_copies(replicas: list[Claims], key: str) -> list[Claim]:
    """60 copies at once over the replicas; the first to claim publishes (a short await) and confirms 2 events."""
    async def copy(claims: Claims) -> Claim:
        claim = await claims.claim("src", key)
        if claim.outcome == "first":
            await asyncio.sleep(0.05)  # publishing
            await claims.confirm("src", key, 2)
        return claim

    return list(await asyncio.gather(*(copy(replicas[n % len(replicas)]) for n in range(60))))


async def test_redis_one_of_sixty_copies_over_two_replicas_publishes(redis_server: RedisServer) -> None:
    first, second = _redis(redis_server.url), _redis(redis_server.url)
    async with _opened(first, second):
        claims = await _sixty_copies([first, second], f"sixty-{time.time_ns()}")
    assert Counter(claim.outcome for claim in claims) == {"first": 1, "duplicate": 59}
    assert {claim.events for claim in claims if claim.outcome == "duplicate"} == {2}


async def test_local_one_of_sixty_copies_over_two_workers_publishes(tmp_path: Path) -> None:
    first, second = _local(tmp_path), _local(tmp_path)
    async with _opened(first, second):
        claims = await _sixty_copies([first, second], "sixty")
    assert Counter(claim.outcome for claim in claims) == {"first": 1, "duplicate": 59}


async def _released_then_claimed(holder: Claims, other: Claims) -> None:
    """A copy waiting on a claim that is released (the publish failed) gets to publish itself."""
    assert (await holder.claim("src", "released")).outcome == "first"
    waiting = asyncio.ensure_future(other.claim("src", "released"))
    await asyncio.sleep(0.1)
    assert not waiting.done()
    await holder.release("src", "released")
    assert (await waiting).outcome == "first"
    await other.confirm("src", "released", 1)
    assert await holder.claim("src", "released") == Claim("duplicate", 1)


async def test_redis_a_released_claim_goes_to_a_waiting_copy(redis_server: RedisServer) -> None:
    holder, other = _redis(redis_server.url), _redis(redis_server.url)
    async with _opened(holder, other):
        await _released_then_claimed(holder, other)


async def test_local_a_released_claim_goes_to_a_waiting_copy(tmp_path: Path) -> None:
    holder, other = _local(tmp_path), _local(tmp_path)
    async with _opened(holder, other):
        await _released_then_claimed(holder, other)


async def _crashed_holder(holder: Claims, other: Claims, key: str) -> None:
    """A holder that never confirms (killed): copies meanwhile get in-progress, and after the TTL one publishes."""
    assert (await holder.claim("src", key)).outcome == "first"
    assert (await other.claim("src", key)).outcome == "in-progress"  # wait_s passed, claim still held
    await asyncio.sleep(0.8)
    assert (await other.claim("src", key)).outcome == "first"


async def test_redis_a_crashed_holders_claim_expires(redis_server: RedisServer) -> None:
    holder = _redis(redis_server.url, claim_ttl_s=0.6, wait_s=0.2)
    other = _redis(redis_server.url, claim_ttl_s=0.6, wait_s=0.2)
    async with _opened(holder, other):
        await _crashed_holder(holder, other, f"crashed-{time.time_ns()}")


_HOLDER = """
import asyncio, sys
from gateway.storage.claims import Claims
from gateway.storage.dedupe import DedupeStore
from gateway.storage.local_claims import LocalClaimBackend

async def main():
    claims = Claims(LocalClaimBackend(DedupeStore(sys.argv[1], window_s=3600)), wait_s=1)
    await claims.open()
    print((await claims.claim("src", "crashed")).outcome, flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


async def test_local_a_killed_workers_claim_goes_with_it(tmp_path: Path) -> None:
    """A worker SIGKILLed between claim and confirm: its claim is gone at once (the kernel drops its lock)."""
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(tmp_path)], stdout=subprocess.PIPE, cwd=ROOT)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == b"first"
        other = _local(tmp_path, wait_s=0.2)
        async with _opened(other):
            assert (await other.claim("src", "crashed")).outcome == "in-progress"
            holder.kill()
            holder.wait()
            assert (await other.claim("src", "crashed")).outcome == "first"
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()


async def test_redis_gone_fails_open_within_the_timeout(tmp_path: Path) -> None:
    """Nothing listening, then a server killed: every claim says unavailable, quickly, and health says why."""
    claims = _redis(f"redis://127.0.0.1:{free_port()}/0")
    async with _opened(claims):
        started = time.monotonic()
        assert (await claims.claim("src", "nobody")).outcome == "unavailable"
        assert time.monotonic() - started < 1
        health = claims.health()
        assert health.backend == "redis" and not health.available and health.detail
        await claims.confirm("src", "nobody", 1)
    with RedisServer(tmp_path) as server:
        claims = _redis(server.url)
        async with _opened(claims):
            assert (await claims.claim("src", "before")).outcome == "first"
            await claims.confirm("src", "before", 1)
            server.kill()
            outcomes = [(await claims.claim("src", f"after-{n}")).outcome for n in range(20)]
            assert set(outcomes) == {"unavailable"}
            assert not claims.health().available
            server.start()  # same port; after the pause, asked again
            await asyncio.sleep(1.1)
            assert (await claims.claim("src", "back")).outcome == "first"
            assert claims.health().available


async def test_local_a_confirmed_claim_is_let_go_only_once_the_other_worker_sees_the_entry(tmp_path: Path) -> None:
    """The moment the other worker can take the lock, its lookup finds the entry: 'claimed' never follows a confirm.

    The other worker asks without pause from the confirm on, through the write-behind and the lock's release.
    """
    holder, other = _local(tmp_path), _local(tmp_path)
    async with _opened(holder, other):
        for number in range(50):
            key = f"handover-{number}"
            assert (await holder.claim("src", key)).outcome == "first"
            await holder.confirm("src", key, 1)
            deadline = time.monotonic() + 10
            while (state := await other.backend.try_claim("src", key))[0] == "pending":
                assert time.monotonic() < deadline, f"the claim of {key} was never let go"
                await asyncio.sleep(0.001)
            assert state == ("seen", 1), (number, state)


async def test_local_alone_takes_the_folder_for_itself_and_no_record_locks(tmp_path: Path) -> None:
    """A process serving alone holds the folder: its 60 copies publish once with no record lock taken, and no
    other process can start on the folder meanwhile (its claims would not see this one's)."""
    alone = _local(tmp_path, alone=True)
    async with _opened(alone):
        assert isinstance(alone.backend, LocalClaimBackend) and alone.backend.solo
        outcomes = Counter(claim.outcome for claim in await _sixty_copies([alone], "k-alone"))
        assert outcomes == {"first": 1, "duplicate": 59}
        for late in (_local(tmp_path), _local(tmp_path, alone=True)):
            with pytest.raises(ClaimsFolderInUse, match="serves alone"):
                await late.open()
    after = _local(tmp_path)  # once it is gone, the folder is free again
    async with _opened(after):
        assert isinstance(after.backend, LocalClaimBackend) and not after.backend.solo


async def test_local_alone_beside_others_shares_the_folder(tmp_path: Path) -> None:
    """Asked to serve alone where another process already is, a process shares the folder and its record locks."""
    worker, alone = _local(tmp_path), _local(tmp_path, alone=True)
    async with _opened(worker, alone):
        assert isinstance(alone.backend, LocalClaimBackend) and not alone.backend.solo
        outcomes = Counter(claim.outcome for claim in await _sixty_copies([worker, alone], "k-shared"))
        assert outcomes == {"first": 1, "duplicate": 59}
