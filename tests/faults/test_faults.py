"""Never lose an acknowledged webhook: a frozen broker, a killed broker, a killed gateway, a full spool."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from pathlib import Path

import pytest

from tests.faults.rig import Answer, Rig, rig, unique_booking
from tests.waiting import until

ACK_TIMEOUT_S = 1.0
# Spooling after a timed-out ack costs an fsync; a shared CI machine gets room on top.
ANSWER_MARGIN_S = 1.5


def acknowledged(answers: list[Answer]) -> set[str]:
    """The event ids of every request the gateway answered 2xx."""
    return {event for answer in answers if answer.status in (200, 202) for event in answer.events}


def report(name: str, acked: set[str], published: list[str]) -> tuple[int, int]:
    """Print and return (lost, duplicated) for the closing note and the assertion."""
    counts = Counter(published)
    lost = len(acked - set(counts))
    duplicated = sum(count - 1 for event, count in counts.items() if event in acked and count > 1)
    print(f"\n{name}: acknowledged={len(acked)} lost={lost} duplicated={duplicated}")
    return lost, duplicated


async def test_frozen_broker_answers_in_time_and_loses_nothing(tmp_path: Path) -> None:
    """With the broker frozen for 4 s under a stream, every request is answered within the deadline and arrives."""
    with rig(tmp_path) as running:
        bodies = [unique_booking("freeze", n) for n in range(600)]
        stream = asyncio.create_task(running.stream(bodies, concurrency=4, pace_s=0.04))
        await until(lambda: len(running.answered) >= 25, "25 answers before the freeze")
        running.signal_broker(signal.SIGSTOP)
        await asyncio.sleep(4.0)
        running.signal_broker(signal.SIGCONT)
        answers = await stream
        assert {answer.status for answer in answers} == {202}, Counter(answer.status for answer in answers)
        slowest = max(answer.seconds for answer in answers)
        assert slowest < ACK_TIMEOUT_S + ANSWER_MARGIN_S, f"slowest answer took {slowest:.2f} s"
        assert any(answer.spooled for answer in answers), "the freeze should have forced spooling"
        acked = acknowledged(answers)
        lost, _ = report("frozen broker", acked, await running.canonical_ids(acked))
        assert lost == 0


async def test_killed_and_restarted_broker_loses_nothing(tmp_path: Path) -> None:
    """Requests answered while the broker is dead are spooled and reach it once it is back."""
    with rig(tmp_path) as running:
        before = await running.stream([unique_booking("kill-a", n) for n in range(50)])
        acked_before = acknowledged(before)
        lost_before, _ = report("before broker kill", acked_before, await running.canonical_ids(acked_before))
        running.signal_broker(signal.SIGKILL)
        running.broker.stop()
        during = await running.stream([unique_booking("kill-b", n) for n in range(60)])
        seen = Counter((answer.status, answer.spooled) for answer in during)
        assert seen == Counter({(202, True): 60}), seen
        running.start_broker()
        after = await running.stream([unique_booking("kill-c", n) for n in range(40)])
        acked_after = acknowledged(during) | acknowledged(after)
        lost_after, _ = report("broker killed and restarted", acked_after, await running.canonical_ids(acked_after))
        assert (lost_before, lost_after) == (0, 0)


async def test_killed_gateway_relays_its_spool_after_restart(tmp_path: Path) -> None:
    """SIGKILL mid-stream with records spooled: after a restart every acknowledged event arrives."""
    with rig(tmp_path) as running:
        running.signal_broker(signal.SIGSTOP)
        bodies = [unique_booking("gwkill", n) for n in range(300)]
        stream = asyncio.create_task(running.stream(bodies, concurrency=4, pace_s=0.02))
        await until(lambda: len(acknowledged(running.answered)) >= 20, "20 spooled answers before the kill")
        running.kill_gateway()
        answers = await stream
        running.signal_broker(signal.SIGCONT)
        acked = acknowledged(answers)
        assert acked, "some requests must have been answered before the kill"
        assert any(answer.status == 0 for answer in answers), "the kill should cut some requests off"
        running.start_gateway()
        lost, _ = report("gateway SIGKILL", acked, await running.canonical_ids(acked))
        assert lost == 0
        again = await running.stream([bodies[0]])
        assert again[0].status == 200, "the dedupe store must survive the kill"


async def test_full_spool_refuses_with_retry_after_then_recovers(tmp_path: Path) -> None:
    """A full spool answers 503 with Retry-After and fails readiness; drained, it accepts again."""
    with rig(tmp_path, spool_max_bytes=16_384) as running:
        running.signal_broker(signal.SIGSTOP)
        answers = await running.stream([unique_booking("full", n) for n in range(30)], concurrency=1)
        refused = [answer for answer in answers if answer.status == 503]
        assert refused and all(answer.retry_after for answer in refused)
        assert all(answer.status == 202 for answer in answers[: answers.index(refused[0])])
        ready = running.readiness()
        assert ready.status_code == 503 and ready.json()["spool"]["full"] is True
        running.signal_broker(signal.SIGCONT)
        await running.spool_drained()
        [after] = await running.stream([unique_booking("full-after", 0)])
        assert after.status == 202
        acked = acknowledged(answers) | set(after.events)
        lost, _ = report("spool full", acked, await running.canonical_ids(acked))
        assert lost == 0


async def test_broker_away_keeps_gateway_ready_and_says_so(tmp_path: Path) -> None:
    """Without a broker at start, the gateway starts, spools, and reports 'ready-spooling'."""
    built = Rig(tmp_path)
    try:
        built.start_gateway(wait_ready=False)
        body = built.readiness().json()
        assert body["status"] == "ready-spooling" and body["broker"] is False
        [answer] = await built.stream([unique_booking("nobroker", 0)])
        assert answer.status == 202 and answer.spooled
        built.start_broker()
        lost, _ = report("no broker at start", set(answer.events), await built.canonical_ids(set(answer.events)))
        assert lost == 0
    finally:
        built.stop()


@pytest.mark.parametrize("copies", [2, 50])
async def test_concurrent_copies_of_a_delivery_publish_once(copies: int, tmp_path: Path) -> None:
    """The same delivery posted many times at once yields one 202, duplicates answered 200, one set of events."""
    with rig(tmp_path) as running:
        body = unique_booking(f"dup{copies}", 0)
        answers = await running.stream([body] * copies, concurrency=copies)
        statuses = Counter(answer.status for answer in answers)
        assert statuses == Counter({202: 1, 200: copies - 1})
        assert len({tuple(answer.events) for answer in answers}) == 1
        acked = acknowledged(answers)
        await running.spool_drained()  # nothing left to publish: any copy would be on the topic by now
        published = await running.canonical_ids(acked)
        assert Counter(published) == Counter({event: 1 for event in acked})
