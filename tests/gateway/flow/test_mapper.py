"""Where a request is mapped: small bodies inline on the loop, large ones on the mapping threads; limits applied."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import structlog

from adapters.base import Adapter, Mapped, SourceContext, VerifiedRequest
from adapters.limits import RepairLimits, repair_limits, set_repair_limits
from gateway.config import MappingSettings, SourceSettings, TopicSettings
from gateway.flow.auth import NoAuth
from gateway.flow.mapper import Mapper
from gateway.flow.sources import Source, build_sources

SETTINGS = MappingSettings(thread_above_bytes=1024, threads=1, max_repairs=7, listed_repairs=3, max_events=2)


@pytest.fixture()
def mapper() -> Iterator[Mapper]:
    """A mapper on SETTINGS; the process's repair limits go back to the defaults after."""
    running = Mapper(SETTINGS, TopicSettings())
    yield running
    running.close()
    set_repair_limits(RepairLimits())


def _recording_source(seen: list[tuple[str, object]]) -> Source:
    def map_request(request: VerifiedRequest) -> Mapped:
        seen.append((threading.current_thread().name, structlog.contextvars.get_contextvars().get("request")))
        return Mapped(changes=[], note="recorded")

    context = SourceContext(id="probe", provider="probe")
    return Source(context, Adapter(name="probe", map=map_request), NoAuth())


def _request(size: int) -> VerifiedRequest:
    context = SourceContext(id="probe", provider="probe")
    return VerifiedRequest(body=b" " * size, headers={}, source=context, received_at="2026-01-02T03:04:05Z")


async def test_small_bodies_stay_on_the_loop_large_ones_go_to_a_mapping_thread(mapper: Mapper) -> None:
    """Up to ``thread_above_bytes`` the loop's own thread maps; above, a gateway-mapping thread, with the log context."""
    seen: list[tuple[str, object]] = []
    source = _recording_source(seen)
    with structlog.contextvars.bound_contextvars(request="r1"):
        assert (await mapper.process(source, _request(1024))).note == "recorded"
        assert (await mapper.process(source, _request(1025))).note == "recorded"
    assert seen[0] == (threading.current_thread().name, "r1")
    assert seen[1][0].startswith("gateway-mapping") and seen[1][1] == "r1"


def test_the_configured_repair_limits_reach_the_adapters(mapper: Mapper) -> None:
    """Building the mapper applies ``mapping.max_repairs`` and ``mapping.listed_repairs`` to every adapter."""
    assert repair_limits() == RepairLimits(max_repairs=7, listed_repairs=3)


@pytest.mark.parametrize("removed", [1, 2, 3])
async def test_more_events_than_max_events_is_a_dead_letter(mapper: Mapper, removed: int) -> None:
    """A Picktime removal of ``removed`` attendees: up to ``max_events`` events pass, one more is invalid-payload."""
    source = build_sources([SourceSettings(id="pt", provider="picktime", secret="x")], {})[("picktime", "pt")]
    ids = ", ".join(f'"session_{n}"' for n in range(removed))
    body = f'{{"dataObject": [{ids}], "status": true, "type": "DELETE"}}'.encode()
    request = VerifiedRequest(body=body, headers={}, source=source.context, received_at="2026-01-02T03:04:05Z")
    processed = await mapper.process(source, request)
    if removed <= SETTINGS.max_events:
        assert processed.error is None and len(processed.event_ids) == removed
    else:
        assert processed.error is not None and processed.error.reason == "invalid-payload"
        assert processed.error.detail == "3 events in one request, more than mapping.max_events (2)"
        assert processed.outcome == "dead-lettered"
