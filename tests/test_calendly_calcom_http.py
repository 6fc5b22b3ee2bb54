"""Calendly and Cal.com over HTTP: tolerance, never 410, retries keyed on the body, pings, unsigned Cal.com sources."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import msgspec
import pytest

from adapters.base import SchemeSettings, SignatureSchemeFactory
from adapters.calcom import UNSIGNED, CalcomSignature
from adapters.calendly import CalendlySignature
from gateway.config import TopicSettings
from gateway.kafka.broker import EmbeddedBroker, free_port
from gateway.kafka.records import META_HEADER, DeliveryMeta
from gateway.kafka.topics import ensure_topics
from tests.adapters.golden import golden_cases
from tests.conftest import TOPICS, gateway_config, start_gateway, stop_gateway
from tests.kafka import Record, header, read_until

SECRET = "http-test-secret"
EXTRA_SOURCES = f"""
[[sources]]
id = "calendly-http"
provider = "calendly"
auth = "hmac"
secret = "{SECRET}"
signature_tolerance_s = 120
[[sources]]
id = "calcom-http"
provider = "calcom"
auth = "hmac"
secret = "{SECRET}"
[[sources]]
id = "calcom-open"
provider = "calcom"
auth = "none"
"""


def _body(vendor: str, name: str) -> bytes:
    return next(case for case in golden_cases(vendor) if case.name == name).body_path.read_bytes()


@pytest.fixture(scope="module")
def http(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A gateway of this module's own, with sources no other suite posts to (so no answer here is a duplicate)."""
    asyncio.run(ensure_topics(broker.bootstrap_servers, TopicSettings(partitions=1)))
    workdir = tmp_path_factory.mktemp("calendly-calcom")
    config = gateway_config(broker.bootstrap_servers, free_port(), Path(workdir / "spool")) + EXTRA_SOURCES
    running = start_gateway(config, workdir)
    try:
        with httpx.Client(base_url=running.base_url, timeout=10) as client:
            yield client
    finally:
        stop_gateway(running)


def _signed(scheme: SignatureSchemeFactory, body: bytes, now: float) -> dict[str, str]:
    """The headers the vendor sends with ``body`` at ``now``, keyed with this module's secret."""
    return scheme(SchemeSettings(secrets=(SECRET.encode(),))).sign(body, now)


def _calendly(body: bytes, now: float) -> dict[str, str]:
    return _signed(CalendlySignature, body, now)


@pytest.mark.parametrize("skew", [-121, 121])
def test_calendly_timestamp_outside_the_sources_tolerance_is_401(http: httpx.Client, skew: int) -> None:
    """A Calendly signature made two minutes ago or ahead is outside this source's signature_tolerance_s of 120."""
    body = _body("calendly", "variant_invitee_canceled")
    response = http.post("/webhooks/calendly/calendly-http", content=body, headers=_calendly(body, time.time() + skew))
    assert response.status_code == 401 and "tolerance" in response.json()["detail"]


def test_calendly_retry_signed_anew_is_a_duplicate(http: httpx.Client) -> None:
    """Calendly re-signs a retry with a new ``t``: the key comes from the body, so the retry is a 200 duplicate."""
    body = _body("calendly", "variant_invitee_canceled_rescheduled")
    first = http.post("/webhooks/calendly/calendly-http", content=body, headers=_calendly(body, time.time() - 60))
    again = http.post("/webhooks/calendly/calendly-http", content=body, headers=_calendly(body, time.time()))
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["duplicate"] is True and again.json()["events"] == first.json()["events"]


@pytest.mark.parametrize("path", ["/webhooks/calendly/no-such-source", "/webhooks/calendly-typo"])
def test_unknown_calendly_source_is_404_never_410(http: httpx.Client, path: str) -> None:
    """An unknown source is 404: a 410 Gone would make Calendly delete the subscription."""
    body = _body("calendly", "seed_invitee_created")
    response = http.post(path, content=body, headers=_calendly(body, time.time()))
    assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"


def test_calcom_no_secret_provided_is_401_saying_what_to_do(http: httpx.Client) -> None:
    """Cal.com's literal for an unsigned webhook is refused by an hmac source, naming auth = "none"."""
    response = http.post("/webhooks/calcom/calcom-http", content=_body("calcom", "seed_booking_cancelled"),
                         headers={"x-cal-signature-256": UNSIGNED})
    assert response.status_code == 401
    assert UNSIGNED in response.json()["detail"] and 'auth = "none"' in response.json()["detail"]


@pytest.mark.parametrize("headers", [{"x-cal-signature-256": UNSIGNED}, {}])
def test_calcom_auth_none_source_takes_unsigned_deliveries(http: httpx.Client, headers: dict[str, str]) -> None:
    """A source with auth = "none" accepts Cal.com's unsigned deliveries (with or without the literal)."""
    body = _body("calcom", "variant_booking_requested") + (b"\n" if headers else b"")
    response = http.post("/webhooks/calcom/calcom-open", content=body, headers=headers)
    assert response.status_code == 202, response.text


async def test_calcom_ping_is_202_archived_without_an_event(http: httpx.Client, broker: EmbeddedBroker) -> None:
    """The Ping test is answered 2xx with a note, archived on the raw topic byte for byte, and makes no event."""
    body = _body("calcom", "variant_ping")
    response = http.post("/webhooks/calcom/calcom-http", content=body,
                         headers=_signed(CalcomSignature, body, time.time()))
    assert response.status_code == 202 and response.json()["events"] == [] and response.json()["note"]
    delivery_id = response.json()["delivery_id"]
    records = await read_until(broker.bootstrap_servers, TOPICS.raw,
                               lambda got: any(_meta(r).delivery_id == delivery_id for r in got))
    [record] = [r for r in records if _meta(r).delivery_id == delivery_id]
    assert record.value == body and _meta(record).event_ids == []
    assert not any(name.startswith("x-cal-signature") for name in _meta(record).headers)


def _meta(record: Record) -> DeliveryMeta:
    return msgspec.json.decode(header(record, META_HEADER) or b"{}", type=DeliveryMeta)


def test_calcom_form_body_signed_as_sent(http: httpx.Client) -> None:
    """A form-encoded template body is verified over its raw bytes and mapped."""
    body = _body("calcom", "variant_form_encoded_template")
    headers = {"content-type": "application/x-www-form-urlencoded",
               **_signed(CalcomSignature, body, time.time())}
    response = http.post("/webhooks/calcom/calcom-http", content=body, headers=headers)
    assert response.status_code == 202 and len(response.json()["events"]) == 1
