"""The Redis claim backend: one Redis (7, or Valkey) shared by every replica.

A delivery's key is ``gateway:dedupe:`` and the hex digest of (source id,
delivery key). A claim is ``SET key pending:<token> NX PX claim_ttl`` (or, if that did
not take it, who holds it: ``GET``), so a holder that crashes leaves a
claim that expires; the confirm overwrites it with ``done:<events>`` for
the window; a release deletes it only while it is still this holder's. The
claims and confirms of one loop turn are one script call (one command, one
round trip, whatever their number): redis-py's cost is per command, and
this keeps Redis' share of a request's CPU small. Scripts
touch several keys, so a Redis Cluster is not supported (one Redis or
Valkey, with replicas if you like).

Redis down or slow (past ``timeout_s``): the copy fails open, is published
(at-least-once, same ids), and Redis is left alone for ``_RETRY_AFTER_S``
so that requests do not queue on a dead address meanwhile.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import secrets
import time
from collections.abc import Awaitable, Sequence
from typing import TypeVar

import structlog
from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from gateway.storage.batching import TickBatcher
from gateway.storage.claims import BackendState, DedupeHealth

__all__ = ["RedisClaimBackend"]

_log = structlog.get_logger("gateway.storage.redis_claims")
_PREFIX = "gateway:dedupe:"
_RETRY_AFTER_S = 1.0
# KEYS: the confirms' keys, then the claims'. ARGV: how many confirms, the window, the claim TTL, then a value
# per key (a confirm's done:<events>, a claim's pending token). For each claim, a line: 'claimed', or what
# holds it (one string, not an array: redis-py parses an array's items one by one, in Python).
# Confirms go first: a copy that waited in this process for one asks in the same call or a later one.
_STEP = """
local confirms, window, claim_ttl = tonumber(ARGV[1]), ARGV[2], ARGV[3]
for i = 1, confirms do
  redis.call('SET', KEYS[i], ARGV[3 + i], 'PX', window)
end
local found = {}
for i = confirms + 1, #KEYS do
  if redis.call('SET', KEYS[i], ARGV[3 + i], 'NX', 'PX', claim_ttl) then
    found[i - confirms] = 'claimed'
  else
    found[i - confirms] = redis.call('GET', KEYS[i]) or ''
  end
end
return table.concat(found, '\\n')
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_DONE = b"done:"
_T = TypeVar("_T")


def _retrieve(done: asyncio.Future[object]) -> None:
    """A queued confirm's outcome, taken so that asyncio does not report it (a failure is logged by ``_call``)."""
    if not done.cancelled():
        done.exception()


def _redis_key(source: str, key: str) -> str:
    return _PREFIX + hashlib.blake2b(f"{source}\n{key}".encode(), digest_size=16).hexdigest()


class RedisUnavailable(Exception):
    """Redis did not answer in time, or refused: the request fails open."""


class RedisClaimBackend:
    """Claims in Redis, with a bounded timeout on every call."""

    def __init__(self, url: str, *, window_s: float, claim_ttl_s: float, timeout_s: float) -> None:
        self._client = Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
                                      retry=Retry(NoBackoff(), 0), health_check_interval=0)
        self._step_script = self._client.register_script(_STEP)
        self._release_script = self._client.register_script(_RELEASE)
        self._window_ms = int(window_s * 1000)
        self._claim_ttl_ms = int(claim_ttl_s * 1000)
        self._timeout_s = timeout_s
        self._token = secrets.token_hex(8)
        self._counter = itertools.count()
        self._held: dict[str, bytes] = {}
        # (key, value, is_claim): a loop turn's claims and confirms, one script call.
        self._steps: TickBatcher[tuple[str, bytes, bool], object] = TickBatcher(self._step_batch, "redis-dedupe")
        self._down_until = 0.0
        self._detail: str | None = None

    async def open(self) -> None:
        try:
            await self._call(self._client.ping())
        except RedisUnavailable:
            pass  # logged; the gateway serves, failing open, and asks again later
        else:
            _log.info("dedupe redis connected")

    async def close(self) -> None:
        await self._steps.close()
        await self._client.aclose()

    async def try_claim(self, source: str, key: str) -> tuple[BackendState, int]:
        if self._is_down():
            return "unavailable", 0
        name = _redis_key(source, key)
        token = b"pending:%s:%d" % (self._token.encode(), next(self._counter))
        try:
            reply = await self._steps.submit((name, token, True))
        except RedisUnavailable:
            return "unavailable", 0
        if reply == b"claimed":
            self._held[name] = token
            return "claimed", 0
        if isinstance(reply, bytes) and reply.startswith(_DONE):
            return "seen", int(reply[len(_DONE):])
        return "pending", 0  # held by another copy (or it just expired: asked again)

    async def confirm(self, source: str, key: str, events: int) -> None:
        """Queued, not awaited: the records are durable already, and copies asking after this are answered after it.

        If it never lands (Redis gone, or this process killed), the claim expires and a later retry
        publishes again, under the same ids.
        """
        name = _redis_key(source, key)
        self._held.pop(name, None)
        if not self._is_down():
            self._steps.submit((name, b"%s%d" % (_DONE, events), False)).add_done_callback(_retrieve)

    async def release(self, source: str, key: str) -> None:
        name = _redis_key(source, key)
        token = self._held.pop(name, None)
        if token is None or self._is_down():
            return
        try:
            await self._call(self._release_script(keys=[name], args=[token]))
        except RedisUnavailable:
            pass  # the claim expires by itself

    def health(self) -> DedupeHealth:
        return DedupeHealth(backend="redis", available=self._detail is None, detail=self._detail)

    async def _step_batch(self, steps: Sequence[tuple[str, bytes, bool]]) -> list[object]:
        """For each claim: claimed, or what holds the key (empty when a release left nothing: asked again)."""
        confirms = [step for step in steps if not step[2]]
        ordered = confirms + [step for step in steps if step[2]]
        reply = await self._call(self._step_script(
            keys=[name for name, _, _ in ordered],
            args=[len(confirms), self._window_ms, self._claim_ttl_ms, *(value for _, value, _ in ordered)]))
        answers = iter(reply.split(b"\n"))
        return [next(answers) if is_claim else None for _, _, is_claim in steps]

    def _is_down(self) -> bool:
        return self._detail is not None and time.monotonic() < self._down_until

    async def _call(self, call: Awaitable[_T]) -> _T:
        """``call`` within the timeout; RedisUnavailable (logged once per outage) if Redis does not answer."""
        try:
            async with asyncio.timeout(self._timeout_s):
                result = await call
        except (RedisError, OSError, TimeoutError) as exc:
            detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            if self._detail is None:
                _log.warning("dedupe redis unavailable; accepting and publishing without dedupe (at-least-once)",
                             error=detail)
            self._detail = detail
            self._down_until = time.monotonic() + _RETRY_AFTER_S
            raise RedisUnavailable(detail) from None
        if self._detail is not None:
            _log.info("dedupe redis available again")
            self._detail = None
        return result
