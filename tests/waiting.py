"""Waiting, within a deadline, for what another process or task produces: the suite's one polling loop.

A test that asserts on state made asynchronously (a log line, records on a
topic, a file, a readiness answer) first waits here until a check holds, and
fails with a message naming what it waited for, never after a fixed sleep.
``wait_for`` is for plain tests and fixtures; ``until`` for coroutines, where a
blocking wait would stall the tasks being waited for.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar, cast, overload

__all__ = ["DEFAULT_TIMEOUT_S", "freeze", "until", "wait_for"]

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 15.0
_INTERVAL_S = 0.05


class _Attempts:
    """One bounded wait's deadline, the last thing its check saw, and the message it fails with."""

    def __init__(self, what: str, timeout_s: float, context: Callable[[], str] | None) -> None:
        self.what = what
        self.timeout_s = timeout_s
        self.context = context
        self.deadline = time.monotonic() + timeout_s
        self.last: str = "never checked"

    def saw(self, value: object) -> bool:
        """Whether ``value`` (a check's answer) ends the wait."""
        if value:
            return True
        self.last = f"check returned {value!r}"
        return False

    def missed(self, error: BaseException) -> None:
        self.last = f"check raised {error!r}"

    def left_s(self) -> float:
        return self.deadline - time.monotonic()

    def failure(self) -> AssertionError:
        message = f"waited {self.timeout_s:g} s for {self.what}; last {self.last}"
        if self.context is not None:
            message += f"\n{self.context()}"
        return AssertionError(message)


def wait_for(
    check: Callable[[], T],
    what: str,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    interval_s: float = _INTERVAL_S,
    ignoring: tuple[type[Exception], ...] = (),
    context: Callable[[], str] | None = None,
) -> T:
    """Call ``check`` until it returns something truthy, and return that; AssertionError after ``timeout_s``.

    Exceptions of the ``ignoring`` types count as "not yet"; any other propagates at once (a
    check raises to give up early, e.g. when the process it waits for has exited). ``context``
    is called on failure for what helps to explain it (a log, say).
    """
    attempts = _Attempts(what, timeout_s, context)
    while True:
        try:
            value = check()
        except ignoring as error:
            attempts.missed(error)
        else:
            if attempts.saw(value):
                return value
        if attempts.left_s() <= 0:
            raise attempts.failure()
        time.sleep(min(interval_s, max(attempts.left_s(), 0)))


@overload
async def until(
    check: Callable[[], Awaitable[T]], what: str, *, timeout_s: float = ..., interval_s: float = ...,
    ignoring: tuple[type[Exception], ...] = ..., context: Callable[[], str] | None = ...,
) -> T: ...


@overload
async def until(
    check: Callable[[], T], what: str, *, timeout_s: float = ..., interval_s: float = ...,
    ignoring: tuple[type[Exception], ...] = ..., context: Callable[[], str] | None = ...,
) -> T: ...


async def until(
    check: Callable[[], T | Awaitable[T]],
    what: str,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    interval_s: float = _INTERVAL_S,
    ignoring: tuple[type[Exception], ...] = (),
    context: Callable[[], str] | None = None,
) -> T:
    """``wait_for`` on the event loop: ``check`` may be a coroutine function, and is cut off at the deadline."""
    attempts = _Attempts(what, timeout_s, context)
    while True:
        try:
            async with asyncio.timeout(max(attempts.left_s(), 0)):
                answer = check()
                value = cast(T, await answer) if inspect.isawaitable(answer) else answer
        except TimeoutError as error:
            attempts.missed(error)
        except ignoring as error:
            attempts.missed(error)
        else:
            if attempts.saw(value):
                return value
        if attempts.left_s() <= 0:
            raise attempts.failure()
        await asyncio.sleep(min(interval_s, max(attempts.left_s(), 0)))


def freeze(pid: int, timeout_s: float = 5) -> None:
    """SIGSTOP ``pid`` and wait until every thread of it has stopped.

    ``kill`` returns once the signal is queued. One thread takes it and stops the others when it
    next runs; on a busy machine its other threads (Tansu's, say) meanwhile go on answering
    requests, so a "frozen" broker would still acknowledge what is sent right after the signal.
    """
    os.kill(pid, signal.SIGSTOP)
    if Path("/proc/self/task").is_dir():  # nothing to watch without Linux's /proc: the signal alone
        wait_for(lambda: _stopped(pid), f"every thread of process {pid} to stop after SIGSTOP",
                 timeout_s=timeout_s, interval_s=0.001)


def _stopped(pid: int) -> bool:
    states = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except FileNotFoundError:  # a thread that has just ended
            continue
        states.append(stat.rsplit(")", 1)[1].split()[0])
    return all(state in "tTZX" for state in states)
