"""End to end: a delivery is keyed only on what its authentication covers, and no secret reaches the raw topic."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import msgspec
import pytest

from adapters.base import SchemeSettings
from adapters.schedulingkit import SchedulingKitSignature
from adapters.signatures import StandardWebhooks
from adapters.timekit import TimekitSignature
from gateway.kafka.broker import EmbeddedBroker
from gateway.kafka.records import META_HEADER, DeliveryMeta
from tests.adapters.golden import TESTDATA
from tests.conftest import STANDARD_WEBHOOKS_SECRETS, TOKEN, TOPICS, VENDOR_SECRETS
from tests.kafka import Record, header, read_until

SW_URL = "/webhooks/timekit/timekit-sw"
TIMEKIT_BODY = (TESTDATA / "timekit" / "seed_booking_confirmed_instant.json").read_bytes()


def _meta(record: Record) -> DeliveryMeta:
    return msgspec.json.decode(header(record, META_HEADER) or b"{}", type=DeliveryMeta)


async def _archived(broker: EmbeddedBroker, delivery_id: str) -> list[Record]:
    records = await read_until(broker.bootstrap_servers, TOPICS.raw,
                               lambda got: any(_meta(r).delivery_id == delivery_id for r in got))
    return [record for record in records if _meta(record).delivery_id == delivery_id]


def _replayed_under_a_new_id(client: httpx.Client, url: str, body: bytes, signed: dict[str, str],
                             id_header: str) -> tuple[httpx.Response, httpx.Response]:
    first = client.post(url, content=body, headers={**signed, id_header: "dlv_captured"})
    replay = client.post(url, content=body, headers={**signed, id_header: "dlv_replayed_under_a_new_id"})
    return first, replay


@pytest.mark.parametrize(
    ("vendor", "sample", "id_header"),
    [
        pytest.param("schedulingkit", "seed_booking_created.json", "x-webhook-delivery-id", id="schedulingkit"),
        pytest.param("timekit", "seed_booking_confirmed_instant.json", "webhook-id", id="timekit"),
    ],
)
async def test_a_captured_request_replayed_under_a_new_header_id_is_a_duplicate(
    vendor: str, sample: str, id_header: str, client: httpx.Client, broker: EmbeddedBroker
) -> None:
    """The signature covers only the body: a new unsigned delivery id is a 200 duplicate with the same ids."""
    body = (TESTDATA / vendor / sample).read_bytes() + b" " * 41  # a body of this test's own
    scheme = SchedulingKitSignature if vendor == "schedulingkit" else TimekitSignature
    signed = scheme(SchemeSettings(secrets=(VENDOR_SECRETS[vendor][0].encode(),))).sign(body, time.time())
    first, replay = _replayed_under_a_new_id(client, f"/webhooks/{vendor}", body, signed, id_header)
    assert (first.status_code, replay.status_code) == (202, 200), (first.text, replay.text)
    assert replay.json()["duplicate"] is True
    assert (replay.json()["delivery_id"], replay.json()["events"]) == (first.json()["delivery_id"], first.json()["events"])
    [archived] = await _archived(broker, first.json()["delivery_id"])
    assert _meta(archived).unsigned_delivery_id == "dlv_captured"
    assert _meta(archived).delivery_key.startswith("sha256:")


def _sw(body: bytes, now: float, secret: str = STANDARD_WEBHOOKS_SECRETS[0]) -> dict[str, str]:
    return StandardWebhooks()(SchemeSettings(secrets=(secret.encode(),))).sign(body, now)


async def test_standard_webhooks_keys_on_the_signed_id(client: httpx.Client, broker: EmbeddedBroker) -> None:
    """A retry (same webhook-id, signed again later) is a duplicate; another signed id is another delivery."""
    body = TIMEKIT_BODY + b" " * 42
    now = time.time()
    first = client.post(SW_URL, content=body, headers=_sw(body, now))
    assert first.status_code == 202, first.text
    retry_headers = _sw(body, now + 5)
    message_id = _sw(body, now)["webhook-id"]
    retry_headers["webhook-id"] = message_id
    rotated = StandardWebhooks()(SchemeSettings(secrets=(STANDARD_WEBHOOKS_SECRETS[1].encode(),)))
    retry_headers["webhook-signature"] = rotated.signature(
        message_id, int(now + 5), body)  # the sender's retry, signed with the rotated-to key
    retry = client.post(SW_URL, content=body, headers=retry_headers)
    assert retry.status_code == 200 and retry.json()["events"] == first.json()["events"], retry.text
    other = client.post(SW_URL, content=body, headers=_sw(body, now + 1))
    assert other.status_code == 202 and other.json()["events"] != first.json()["events"], other.text
    [archived] = await _archived(broker, first.json()["delivery_id"])
    assert _meta(archived).delivery_key == message_id and _meta(archived).unsigned_delivery_id is None


Change = Callable[[dict[str, str], bytes], tuple[dict[str, str], bytes]]
"""What an attacker (or a broken sender) does to a signed request: its headers and body after."""


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        pytest.param(lambda h, b: ({**h, "webhook-id": "msg_forged"}, b), "does not match", id="forged-id"),
        pytest.param(lambda h, b: (h, msgspec.json.encode(msgspec.json.decode(b))), "does not match", id="re-encoded"),
        pytest.param(lambda h, b: (_sw(b, time.time() - 400), b), "tolerance", id="stale"),
        pytest.param(lambda h, b: (_sw(b, time.time() + 400), b), "tolerance", id="future"),
        pytest.param(lambda h, b: (_sw(b, time.time(), "whsec_d3Jvbmcta2V5"), b), "does not match", id="wrong-secret"),
        pytest.param(lambda h, b: ({k: v for k, v in h.items() if k != "webhook-id"}, b), "missing webhook-id",
                     id="no-id"),
    ],
)
def test_standard_webhooks_refusals_are_401(change: Change, reason: str, client: httpx.Client) -> None:
    """Forged, re-encoded, stale, future, wrong-secret or id-less: 401 problem documents saying why."""
    body = TIMEKIT_BODY + b" " * 43
    headers, sent = change(_sw(body, time.time()), body)
    response = client.post(SW_URL, content=sent, headers=headers)
    assert response.status_code == 401 and response.headers["content-type"] == "application/problem+json"
    assert reason in response.json()["detail"]


PROXY_HEADERS = ("X-Forwarded-Uri", "X-Original-URI", "X-Envoy-Original-Path", "Referer", "X-Rewrite-Url", "X-Anything")


async def test_proxy_headers_reach_the_raw_topic_without_the_token(client: httpx.Client, broker: EmbeddedBroker) -> None:
    """Every header carrying the request's URL is archived with its ``?token=`` and any copy of the secret redacted."""
    body = (TESTDATA / "picktime" / "seed_resource_updated.json").read_bytes() + b" " * 44
    url = f"/webhooks/picktime/picktime-e2e?token={TOKEN}"
    headers = {name: f"https://gw.example{url}&page=1" for name in PROXY_HEADERS}
    headers["X-Debug"] = f"secret was {TOKEN}"
    response = client.post(url, content=body, headers=headers)
    assert response.status_code == 202, response.text
    [archived] = await _archived(broker, response.json()["delivery_id"])
    assert TOKEN.encode() not in b"".join(value for _, value in archived.headers)
    kept = _meta(archived).headers
    for name in PROXY_HEADERS:
        assert kept[name.lower()] == "https://gw.example/webhooks/picktime/picktime-e2e?token=[redacted]&page=1"
    assert kept["x-debug"] == "secret was [redacted]"
