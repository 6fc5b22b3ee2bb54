"""SchedulingKit adapter: golden cases, local times, delivery ids, its signature, and robustness."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.base import AdapterError, Mapped, SchemeSettings, SignatureError, SourceContext, VerifiedRequest
from adapters.schedulingkit import ADAPTER, SchedulingKitSignature, map_request
from tests.adapters.golden import RECEIVED_AT, GoldenCase, actual_output, golden_cases, verified_request
from tests.conftest import SEEDS

CASES = golden_cases("schedulingkit")
SEED = SEEDS / "schedulingkit-webhooks.txt"  # ../shared beside the clone, as CI lays it out
DOCUMENTED_EVENTS = {
    "event.created", "event.updated", "event.cancelled", "event.rescheduled", "event.reminder",
    "event.follow_up", "booking.created", "booking.confirmed", "booking.cancelled",
    "payment.completed", "payment.failed", "payment.refunded", "webhook.test",
}  # fmt: skip
SECRET = b"whsec_schedulingkit_current"
OLD_SECRET = b"whsec_schedulingkit_previous"


def _case(name: str) -> GoldenCase:
    return next(case for case in CASES if case.name == name)


def _body(name: str) -> bytes:
    return _case(name).body_path.read_bytes()


def _document(case: GoldenCase) -> Any:
    try:
        return msgspec.json.decode(case.body_path.read_bytes())
    except msgspec.DecodeError:
        return None


def _request(body: bytes, timezone: str | None = "Europe/Berlin", **headers: str) -> VerifiedRequest:
    source = SourceContext(id="schedulingkit", provider="schedulingkit", timezone=timezone)
    return VerifiedRequest(body=body, headers=headers, source=source, received_at=RECEIVED_AT)


def test_seed_cases_are_the_documented_sample_byte_for_byte() -> None:
    """Both seed cases hold the documentation's only sample exactly as printed."""
    seeds = [case for case in CASES if case.name.startswith("seed_")]
    assert len(seeds) == 2
    assert all(case.body_path.read_bytes() in SEED.read_bytes() for case in seeds)


def test_every_documented_event_has_a_case() -> None:
    """The golden cases send every event name the documentation lists."""
    documents = [_document(case) for case in CASES]
    sent = {document.get("event") for document in documents if isinstance(document, dict)}
    assert DOCUMENTED_EVENTS <= sent


def test_local_time_is_read_in_the_source_zone() -> None:
    """14:00 on 20 January in Berlin is 13:00 UTC, and the 30 minutes end at 13:30."""
    [event] = actual_output(_case("seed_booking_created"))
    booking = event["data"]["booking"]
    assert (booking["start"], booking["end"], booking["duration_minutes"]) == (
        "2025-01-20T13:00:00Z",
        "2025-01-20T13:30:00Z",
        30,
    )
    assert event["time"] == "2025-01-15T10:30:00Z"
    assert event["data"]["repairs"] == []


def test_without_a_source_zone_start_is_unknown_and_said_so() -> None:
    """With no configured zone the wall-clock start is not guessed: null, with the reason in repairs."""
    [event] = actual_output(_case("seed_booking_created_no_timezone"))
    assert event["data"]["booking"]["start"] is None
    assert event["data"]["booking"]["end"] is None
    assert event["data"]["repairs"] == [
        "date/time are local and the source has no timezone configured; start and end left null"
    ]


def test_unsigned_delivery_id_header_is_no_delivery_key() -> None:
    """X-Webhook-Delivery-Id is not signed, so it keys nothing: the gateway hashes the body (the header is archived)."""
    body = _body("seed_booking_created")
    assert map_request(_request(body, **{"x-webhook-delivery-id": "dlv_1"})).delivery_key is None
    assert map_request(_request(body)).delivery_key is None
    assert ADAPTER.delivery_id_header == "x-webhook-delivery-id"


def test_test_ping_yields_no_event() -> None:
    """webhook.test is acknowledged with a note and no change, whatever its data holds."""
    mapped = map_request(verified_request(_case("variant_webhook_test_odd_data")))
    assert mapped == Mapped(changes=[], note="test ping")


def test_event_header_disagreeing_with_body_is_noted() -> None:
    """The body's event wins over X-Webhook-Event, and the disagreement lands in repairs."""
    [event] = actual_output(_case("variant_event_header_disagrees"))
    assert event["type"] == "booking.confirmed"
    assert "disagrees" in event["data"]["repairs"][0]


def test_unknown_event_is_unsupported() -> None:
    """An event the documentation does not list raises unsupported-event."""
    with pytest.raises(AdapterError) as caught:
        map_request(verified_request(_case("error_unknown_event")))
    assert caught.value.reason == "unsupported-event"


def test_validation_error_keeps_msgspec_path() -> None:
    """A wrongly typed field is reported with msgspec's ``$.path`` unchanged."""
    with pytest.raises(AdapterError) as caught:
        map_request(verified_request(_case("error_wrong_duration_type")))
    assert caught.value.reason == "invalid-payload"
    assert "$.data.duration" in caught.value.detail


def _signed(body: bytes, secret: bytes = SECRET) -> str:
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def _verify(body: bytes, headers: dict[str, str], secrets: tuple[bytes, ...] = (SECRET,)) -> None:
    scheme = SchedulingKitSignature(SchemeSettings(secrets=tuple(secrets), tolerance_s=300))
    scheme.verify(body, headers, 1_750_000_000.0)


def test_signature_valid_hex_base64_and_prefixed() -> None:
    """A hex digest, a base64 digest and a ``sha256=`` prefixed one all verify."""
    body = _body("seed_booking_created")
    raw = hmac.new(SECRET, body, hashlib.sha256).digest()
    for sent in (_signed(body), _signed(body).upper(), base64.b64encode(raw).decode(), "sha256=" + _signed(body)):
        _verify(body, {"x-webhook-signature": sent})


def test_signature_accepts_the_rotated_secret() -> None:
    """During rotation a body signed with the second of two secrets verifies."""
    body = _body("seed_booking_created")
    _verify(body, {"x-webhook-signature": _signed(body, OLD_SECRET)}, (SECRET, OLD_SECRET))


def test_adapter_registers_its_scheme() -> None:
    """The ADAPTER entry names the vendor and builds this signature scheme."""
    assert ADAPTER.name == "schedulingkit"
    assert ADAPTER.signature is SchedulingKitSignature


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing x-webhook-signature header"),
        ({"x-webhook-signature": "  "}, "missing x-webhook-signature header"),
        ({"x-webhook-signature": "not-a-digest!"}, "malformed x-webhook-signature header"),
        ({"x-webhook-signature": "sha256=abc123"}, "malformed x-webhook-signature header"),
        ({"x-webhook-signature": "0" * 64}, "signature does not match"),
        ({"x-webhook-signature": _signed(b"{}", SECRET)}, "signature does not match"),
        ({"x-webhook-signature": _signed(b'{"event": "booking.created"}', b"wrong")}, "signature does not match"),
    ],
    ids=["missing", "blank", "malformed", "short-prefixed", "forged", "other-body", "wrong-secret"],
)
def test_signature_rejections(headers: dict[str, str], reason: str) -> None:
    """Missing, malformed, forged and wrong-secret signatures are refused with a reason."""
    with pytest.raises(SignatureError) as caught:
        _verify(b'{"event": "booking.created"}', headers)
    assert caught.value.reason.startswith(reason)


def test_signature_over_reencoded_json_fails() -> None:
    """A digest of the re-encoded JSON, not of the raw bytes, does not verify."""
    body = _body("seed_booking_created")
    reencoded = json.dumps(json.loads(body), separators=(",", ":")).encode()
    assert reencoded != body
    with pytest.raises(SignatureError, match="signature does not match"):
        _verify(body, {"x-webhook-signature": _signed(reencoded)})


def test_signature_has_no_timestamp_to_go_stale() -> None:
    """With no signed timestamp, any ``now`` is fine for a valid signature."""
    body = _body("seed_booking_created")
    scheme = SchedulingKitSignature(SchemeSettings(secrets=(SECRET,), tolerance_s=300))
    scheme.verify(body, {"x-webhook-signature": _signed(body)}, 0.0)


# Values near the edges of what the time and amount readers accept.
TRICKY = [
    *("0001-01-01", "9999-12-31", "00:00", "02:30", "24:00", "14:00+05:00"),
    *("1e999999999", "NaN", "9999-12-31T23:59:59-01:00"),
]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.sampled_from(TRICKY),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
SEED_DOCUMENTS: list[Any] = [document for document in map(_document, CASES) if isinstance(document, dict)]


@st.composite
def mutated_documents(draw: st.DrawFn) -> Any:
    """A seed or variant document with keys dropped or values swapped for other JSON."""
    document = json.loads(json.dumps(draw(st.sampled_from(SEED_DOCUMENTS))))
    for _ in range(draw(st.integers(1, 3))):
        target = document
        while isinstance(target, dict) and target and draw(st.booleans()):
            key = draw(st.sampled_from(sorted(target)))
            if not isinstance(target[key], dict):
                break
            target = target[key]
        if isinstance(target, dict) and target:
            key = draw(st.sampled_from(sorted(target)))
            if draw(st.booleans()):
                del target[key]
            else:
                target[key] = draw(JSON_VALUES)
    return document


def _maps_or_adapter_error(body: bytes, timezone: str | None) -> None:
    try:
        assert isinstance(map_request(_request(body, timezone)), Mapped)
    except AdapterError:
        pass


@settings(max_examples=200, deadline=None)
@given(JSON_VALUES, st.sampled_from([None, "Europe/Berlin", "Pacific/Kiritimati"]))
def test_any_json_maps_or_raises_adapter_error(value: Any, timezone: str | None) -> None:
    """Arbitrary JSON values give a Mapped or an AdapterError, never another exception."""
    _maps_or_adapter_error(msgspec.json.encode(value), timezone)


@settings(max_examples=200, deadline=None)
@given(mutated_documents(), st.sampled_from([None, "Europe/Berlin", "America/St_Johns"]))
def test_mutated_payloads_map_or_raise_adapter_error(document: Any, timezone: str | None) -> None:
    """Seed payloads with dropped keys and swapped value types never raise anything but AdapterError."""
    _maps_or_adapter_error(msgspec.json.encode(document), timezone)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_map_or_raise_adapter_error(body: bytes) -> None:
    """Arbitrary bytes give a Mapped or an AdapterError, never another exception."""
    _maps_or_adapter_error(body, "Europe/Berlin")


def test_duration_past_year_9999_leaves_end_null() -> None:
    """A duration that ends beyond the representable years is noted, not a crash."""
    document = json.loads(_body("seed_booking_created"))
    document["data"]["duration"] = 10**12
    [change] = map_request(_request(json.dumps(document).encode(), "Europe/Berlin")).changes
    assert change.data.booking.end is None
    assert "duration 1000000000000 ends outside the representable years; end left null" in change.data.repairs
