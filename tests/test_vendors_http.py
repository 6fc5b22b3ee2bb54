"""Every vendor end to end: signed as the vendor signs, posted over HTTP, and on the canonical topic as golden."""

from __future__ import annotations

import time

import httpx
import msgspec
import pytest

from adapters import ADAPTERS
from adapters.base import SchemeSettings, SourceContext, VerifiedRequest
from gateway.kafka.broker import EmbeddedBroker
from tests.adapters.golden import GoldenCase, RequestExtras, golden_cases
from tests.conftest import NOTIFICATION_URL, TEST_TIMEZONE, TOPICS, VENDOR_SECRETS
from tests.kafka import header, read_until

VENDORS = sorted(ADAPTERS)
SIGNING = [vendor for vendor in VENDORS if ADAPTERS[vendor].signature is not None]
TOKENS = [vendor for vendor in VENDORS if ADAPTERS[vendor].signature is None]
# Fields that depend on when the test runs rather than on the payload.
RECEIPT_FIELDS = ("time", "receivedat")


def _cases() -> list[GoldenCase]:
    found = []
    for vendor in VENDORS:
        timezone = TEST_TIMEZONE if ADAPTERS[vendor].needs_timezone else None
        for case in golden_cases(vendor):
            expected = msgspec.json.decode(case.expected_path.read_bytes())
            if isinstance(expected, list) and _extras(case).timezone == timezone:
                found.append(case)
    return found


def _extras(case: GoldenCase) -> RequestExtras:
    if case.request_path.exists():
        return msgspec.json.decode(case.request_path.read_bytes(), type=RequestExtras)
    return RequestExtras()


def signed_headers(vendor: str, body: bytes, secret: str | None = None, now: float | None = None) -> dict[str, str]:
    """The headers the vendor sends: its signature, or the source's bearer token."""
    secret = secret or VENDOR_SECRETS[vendor][0]
    scheme = ADAPTERS[vendor].signature
    if scheme is None:
        return {"Authorization": f"Bearer {secret}"}
    settings = SchemeSettings(secrets=(secret.encode(),), notification_url=NOTIFICATION_URL)
    return scheme(settings).sign(body, time.time() if now is None else now)


def vendor_reply(vendor: str, body: bytes) -> bytes | None:
    """The body the vendor expects back for ``body`` (Zoom's URL validation), keyed with its first test secret."""
    reply = ADAPTERS[vendor].reply
    if reply is None:
        return None
    request = VerifiedRequest(body=body, headers={}, source=SourceContext(id=vendor, provider=vendor), received_at="")
    answer = reply(request, VENDOR_SECRETS[vendor][0].encode())
    return None if answer is None else answer.body


CASES = _cases()


@pytest.mark.parametrize("case", CASES, ids=[f"{case.vendor}-{case.name}" for case in CASES])
async def test_signed_sample_reaches_the_canonical_topic_as_golden(
    case: GoldenCase, client: httpx.Client, broker: EmbeddedBroker
) -> None:
    """The events on the topic are the golden file's, up to the time of receipt."""
    body = case.body_path.read_bytes()
    headers = {**_extras(case).headers, **signed_headers(case.vendor, body)}
    response = client.post(f"/webhooks/{case.vendor}", content=body, headers=headers)
    assert response.status_code in (200, 202), response.text
    expected = msgspec.json.decode(case.expected_path.read_bytes())
    if vendor_reply(case.vendor, body) is not None:  # the vendor's own answer instead of the gateway's
        assert response.status_code == 200 and expected == []
        assert response.content == vendor_reply(case.vendor, body)
        return
    assert response.json()["events"] == [event["id"] for event in expected]
    wanted = {event["id"] for event in expected}
    if not wanted:
        assert response.json()["note"]
        return
    records = await read_until(broker.bootstrap_servers, TOPICS.canonical,
                               lambda got: wanted <= {(header(r, "ce_id") or b"").decode() for r in got})
    published = {event["id"]: event for event in (msgspec.json.decode(r.value) for r in records)
                 if event["id"] in wanted}
    for event in expected:
        got = published[event["id"]]
        assert {k: v for k, v in got.items() if k not in RECEIPT_FIELDS} == \
            {k: v for k, v in event.items() if k not in RECEIPT_FIELDS}


def _problem_401(response: httpx.Response) -> str:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    detail: str = response.json()["detail"]
    return detail


def _seed(vendor: str) -> bytes:
    return next(case for case in golden_cases(vendor) if case.name.startswith("seed_")).body_path.read_bytes()


@pytest.mark.parametrize("vendor", SIGNING)
def test_forged_signature_is_401(vendor: str, client: httpx.Client) -> None:
    """A signature made with another secret is refused with a problem document."""
    body = _seed(vendor)
    assert "does not match" in _problem_401(client.post(f"/webhooks/{vendor}", content=body,
                                                        headers=signed_headers(vendor, body, "forged")))


@pytest.mark.parametrize("vendor", SIGNING)
def test_missing_signature_is_401(vendor: str, client: httpx.Client) -> None:
    """No signature header at all: 401 naming the header."""
    assert "missing" in _problem_401(client.post(f"/webhooks/{vendor}", content=_seed(vendor)))


@pytest.mark.parametrize("vendor", SIGNING)
def test_signature_over_reencoded_json_is_401(vendor: str, client: httpx.Client) -> None:
    """Signing a re-encoded copy of the JSON (as Timekit's own example does) does not verify the raw bytes."""
    body = _seed(vendor)
    reencoded = msgspec.json.encode(msgspec.json.decode(body))
    assert reencoded != body
    _problem_401(client.post(f"/webhooks/{vendor}", content=body, headers=signed_headers(vendor, reencoded)))


def test_rotated_secret_is_accepted(client: httpx.Client) -> None:
    """The second of a source's secrets verifies too, so secrets rotate without downtime."""
    body = _seed("timekit") + b"\n"
    response = client.post("/webhooks/timekit", content=body,
                           headers=signed_headers("timekit", body, VENDOR_SECRETS["timekit"][1]))
    assert response.status_code == 202


def test_stale_oncehub_timestamp_is_401(client: httpx.Client) -> None:
    """A OnceHub signature made ten minutes ago is outside the 300 s tolerance."""
    body = _seed("oncehub")
    headers = signed_headers("oncehub", body, now=time.time() - 600)
    assert "tolerance" in _problem_401(client.post("/webhooks/oncehub", content=body, headers=headers))


@pytest.mark.parametrize("vendor", TOKENS)
def test_wrong_token_is_401(vendor: str, client: httpx.Client) -> None:
    """A vendor without a signature: its source's token is required."""
    _problem_401(client.post(f"/webhooks/{vendor}", content=_seed(vendor), headers={"Authorization": "Bearer wrong"}))
