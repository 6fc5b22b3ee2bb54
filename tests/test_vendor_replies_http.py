"""Square, Zoom and canonical over real HTTP: the signed URL, Zoom's challenge answered and archived, passthrough ids."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import httpx
import msgspec
import pytest

from gateway.kafka.broker import EmbeddedBroker
from gateway.kafka.records import META_HEADER, DeliveryMeta
from tests.adapters.golden import golden_cases
from tests.conftest import NOTIFICATION_URL, TOPICS, VENDOR_SECRETS, GatewayProcess
from tests.kafka import Record, header, read_until
from tests.test_vendors_http import signed_headers


def _body(vendor: str, case: str) -> bytes:
    return next(found for found in golden_cases(vendor) if found.name == case).body_path.read_bytes()


def _detail(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    detail: str = response.json()["detail"]
    return detail


def test_square_signed_for_the_url_the_gateway_sees_is_refused(client: httpx.Client, gateway: GatewayProcess) -> None:
    """Square signs its notification_url: a signature over the internal URL (what the gateway sees) is a 401."""
    body = _body("square", "seed_booking_updated").replace(b"d954ea4e-a393", f"{time.time_ns()}".encode())
    for url in (f"{gateway.base_url}/webhooks/square", NOTIFICATION_URL + "/"):
        digest = hmac.new(VENDOR_SECRETS["square"][0].encode(), url.encode() + body, hashlib.sha256).digest()
        headers = {"x-square-hmacsha256-signature": base64.b64encode(digest).decode()}
        assert "does not match" in _detail(client.post("/webhooks/square", content=body, headers=headers), 401)
    rotated = signed_headers("square", body, VENDOR_SECRETS["square"][1])
    assert client.post("/webhooks/square", content=body, headers=rotated).status_code == 202


async def test_zoom_url_validation_is_answered_in_time_and_archived(
    client: httpx.Client, broker: EmbeddedBroker
) -> None:
    """200 with plainToken and its HMAC under the Secret Token, well within Zoom's 3 s; on the raw topic, no event."""
    token = f"tok-{time.time_ns()}"
    body = json.dumps({"payload": {"plainToken": token}, "event_ts": int(time.time() * 1000),
                       "event": "endpoint.url_validation"}).encode()
    started = time.perf_counter()
    response = client.post("/webhooks/zoom", content=body, headers=signed_headers("zoom", body))
    assert time.perf_counter() - started < 3
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    secret = VENDOR_SECRETS["zoom"][0].encode()
    assert response.json() == {"plainToken": token,
                               "encryptedToken": hmac.new(secret, token.encode(), hashlib.sha256).hexdigest()}
    again = client.post("/webhooks/zoom", content=body, headers=signed_headers("zoom", body))
    assert again.status_code == 200 and again.content == response.content, "a repeat gets the same answer"

    def archived(records: list[Record]) -> list[Record]:
        return [record for record in records if record.value == body]

    records = await read_until(broker.bootstrap_servers, TOPICS.raw, lambda got: bool(archived(got)))
    meta = msgspec.json.decode(header(archived(records)[0], META_HEADER) or b"", type=DeliveryMeta)
    assert (meta.provider, meta.outcome, meta.event_ids) == ("zoom", "ignored", [])
    assert "x-zm-signature" not in meta.headers


@pytest.mark.parametrize("offset", [-600, 600])
def test_zoom_stale_and_future_timestamps_are_401(client: httpx.Client, offset: int) -> None:
    """A Zoom signature ten minutes old or ten minutes ahead is outside the 300 s tolerance."""
    body = _body("zoom", "variant_scheduled_event_created")
    headers = signed_headers("zoom", body, now=time.time() + offset)
    assert "tolerance" in _detail(client.post("/webhooks/zoom", content=body, headers=headers), 401)


def test_zoom_validation_with_a_wrong_signature_gets_no_answer(client: httpx.Client) -> None:
    """The challenge is answered only once the request is authenticated."""
    body = _body("zoom", "variant_url_validation")
    headers = signed_headers("zoom", body, "forged")
    assert "plainToken" not in _detail(client.post("/webhooks/zoom", content=body, headers=headers), 401)


def test_canonical_invalid_event_is_422_naming_the_first_error(client: httpx.Client) -> None:
    """An event outside the contract is refused with msgspec's path, as other invalid payloads are."""
    body = _body("canonical", "error_unknown_data_field")
    detail = _detail(client.post("/webhooks/canonical", content=body, headers=signed_headers("canonical", body)), 422)
    assert detail == "Object contains unknown field `colour` - at `$.data.booking`"


def test_canonical_event_keeps_its_id_also_when_repeated(client: httpx.Client) -> None:
    """The sender's id is the CloudEvent id, and a resend is a duplicate answered with that id."""
    document = json.loads(_body("canonical", "variant_booking_cancelled_minimal"))
    document["id"] = f"front-desk-{time.time_ns()}"
    body = json.dumps(document).encode()
    first = client.post("/webhooks/canonical", content=body, headers=signed_headers("canonical", body))
    assert first.status_code == 202 and first.json()["events"] == [document["id"]]
    again = client.post("/webhooks/canonical", content=body, headers=signed_headers("canonical", body))
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["events"] == [document["id"]]
