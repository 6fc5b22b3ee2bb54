"""Calendly adapter: the documented sample and variants, its signature scheme, the reschedule links, robustness."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.base import (
    AdapterError,
    Mapped,
    SchemeSettings,
    SignatureError,
    SignatureScheme,
    VerifiedRequest,
)
from adapters.calendly import ADAPTER, CalendlySignature, map_request
from gateway.errors import GatewayError
from tests.adapters.golden import GoldenCase, golden_cases, vendor_request

CASES = golden_cases("calendly")
SEED = next(case for case in CASES if case.name == "seed_invitee_created").body_path.read_bytes()
SECRET = b"calendly-signing-key-1"
NOW = 1_700_000_000.0


def _case(name: str) -> GoldenCase:
    return next(case for case in CASES if case.name == name)


def _body(name: str) -> bytes:
    return _case(name).body_path.read_bytes()


def _request(body: bytes, headers: dict[str, str] | None = None) -> VerifiedRequest:
    return vendor_request("calendly", body, headers)


def test_every_event_type_has_a_case() -> None:
    """The four invitee events, the reschedule's two halves and a non-booking event each have a golden case."""
    bodies = [json.loads(case.body_path.read_bytes()) for case in CASES if not case.name.startswith("error_")]
    events = {body["event"] for body in bodies}
    assert events >= {"invitee.created", "invitee.canceled", "invitee_no_show.created", "invitee_no_show.deleted",
                      "routing_form_submission.created"}
    payloads = [body["payload"] for body in bodies if body["event"].startswith("invitee")]
    assert any(p.get("old_invitee") for p in payloads) and any(p.get("rescheduled") for p in payloads)


def test_reschedule_links_both_bookings() -> None:
    """The cancel half names the new invitee in rescheduled_to; the create half names the old in rescheduled_from."""
    [cancel] = map_request(_request(_body("variant_invitee_canceled_rescheduled"))).changes
    [create] = map_request(_request(_body("variant_invitee_created_rescheduled"))).changes
    assert cancel.type == "booking.cancelled" and create.type == "booking.created"
    assert cancel.data.booking.rescheduled_to == create.data.booking.id
    assert create.data.booking.rescheduled_from == cancel.data.booking.id
    assert cancel.data.booking.rescheduled_from is None and create.data.booking.rescheduled_to is None


def test_plain_cancel_has_no_rescheduled_to() -> None:
    """A cancellation that is not a reschedule leaves rescheduled_to null, so consumers can tell them apart."""
    [change] = map_request(_request(_body("variant_invitee_canceled"))).changes
    assert change.type == "booking.cancelled" and change.data.booking.rescheduled_to is None


def test_times_only_from_scheduled_event() -> None:
    """Without payload.scheduled_event (the documented 2023 sample) start and end are null, not invented."""
    [change] = map_request(_request(SEED)).changes
    assert change.data.booking.start is None and change.data.booking.end is None
    [full] = map_request(_request(_body("variant_invitee_created_full"))).changes
    assert (full.data.booking.start, full.data.booking.end) == ("2024-03-14T15:00:00Z", "2024-03-14T15:30:00Z")


def test_delivery_key_is_event_uri_and_created_at_from_the_body() -> None:
    """The key is built from the signed body; a delivery header (even webhook-id) does not change it."""
    expected = ("invitee.created https://api.calendly.com/scheduled_events/AAAAAAAAAAAAAAAA/invitees/AAAAAAAAAAAAAAAA"
                " 2020-11-23T17:51:19.000000Z")
    assert map_request(_request(SEED)).delivery_key == expected
    assert map_request(_request(SEED, {"webhook-id": "msg_1", "x-request-id": "r"})).delivery_key == expected


def test_delivery_key_needs_all_three_parts() -> None:
    """Without created_at there is no key of Calendly's (the gateway hashes the body instead)."""
    assert map_request(_request(_body("variant_minimal_without_created_at"))).delivery_key is None


def test_no_show_and_its_reversal_share_the_booking() -> None:
    """The no-show mark and its removal are two keys of one booking: no_show, then the invitee's own status."""
    created = map_request(_request(_body("variant_invitee_no_show_created")))
    deleted = map_request(_request(_body("variant_invitee_no_show_deleted")))
    assert created.changes[0].type == "booking.no_show" and created.changes[0].data.booking.status == "no_show"
    assert deleted.changes[0].type == "booking.updated" and deleted.changes[0].data.booking.status == "confirmed"
    assert created.changes[0].data.booking.id == deleted.changes[0].data.booking.id
    assert created.delivery_key != deleted.delivery_key


def test_non_booking_events_are_acknowledged_with_a_note() -> None:
    """routing_form_submission.* yields no change, a note, and still its delivery key."""
    mapped = map_request(_request(_body("variant_routing_form_submission_created")))
    assert mapped.changes == [] and mapped.note and mapped.delivery_key


def test_no_gateway_error_answers_410() -> None:
    """Calendly deletes a subscription answered 410 Gone: no problem the gateway renders has that status."""
    def subclasses(cls: type[GatewayError]) -> list[type[GatewayError]]:
        return [cls, *(sub for child in cls.__subclasses__() for sub in subclasses(child))]
    assert all(cls.status_code != 410 for cls in subclasses(GatewayError))


def _keyed(*secrets: bytes, tolerance_s: int = 300) -> SignatureScheme:
    """CalendlySignature keyed as a source keys it: the one call here that knows the scheme factory's arguments."""
    return CalendlySignature(SchemeSettings(secrets=secrets, tolerance_s=tolerance_s))


def _header(body: bytes, secret: bytes = SECRET, timestamp: int = int(NOW)) -> dict[str, str]:
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"calendly-webhook-signature": f"t={timestamp},v1={digest}"}


def _verify(headers: dict[str, str], body: bytes = SEED, secrets: tuple[bytes, ...] = (SECRET,)) -> None:
    _keyed(*secrets).verify(body, headers, NOW)


def _reason(headers: dict[str, str], body: bytes = SEED, secrets: tuple[bytes, ...] = (SECRET,)) -> str:
    with pytest.raises(SignatureError) as caught:
        _verify(headers, body, secrets)
    return caught.value.reason


def test_adapter_registers_its_signature_scheme() -> None:
    """The adapter exposes CalendlySignature as its scheme, and sign() writes Calendly's own header."""
    assert ADAPTER.signature is CalendlySignature
    assert _keyed(SECRET).sign(SEED, NOW) == _header(SEED)


def test_signature_valid() -> None:
    """A header signed over ``<t>.<raw body>`` with the signing key verifies."""
    _verify(_header(SEED))


def test_signature_rotated_secret() -> None:
    """The second of two configured keys verifies too (rotation)."""
    _verify(_header(SEED, secret=b"new-key"), secrets=(SECRET, b"new-key"))


def test_signature_forged() -> None:
    """A made-up digest is refused."""
    assert _reason({"calendly-webhook-signature": f"t={int(NOW)},v1={'ab' * 32}"}) == "signature does not match"


def test_signature_wrong_secret() -> None:
    """A digest made with another key is refused."""
    assert _reason(_header(SEED, secret=b"someone-else")) == "signature does not match"


def test_signature_over_reencoded_json_fails() -> None:
    """A signature over re-encoded JSON does not verify the raw bytes."""
    reencoded = json.dumps(json.loads(SEED)).encode()
    assert reencoded != SEED
    assert _reason(_header(reencoded)) == "signature does not match"


def test_signature_missing_header() -> None:
    """No header is refused with a reason naming it."""
    assert _reason({}) == "missing calendly-webhook-signature header"


@pytest.mark.parametrize("value", ["", "garbage", f"t={int(NOW)}", "v1=" + "ab" * 32, f"t={int(NOW)},s={'ab' * 32}"])
def test_signature_malformed_header(value: str) -> None:
    """A header without one numeric ``t=`` and a readable ``v1=`` is refused as malformed."""
    assert _reason({"calendly-webhook-signature": value}).startswith("malformed calendly-webhook-signature header")


@pytest.mark.parametrize("skew", [-301, 301])
def test_signature_stale_or_future_timestamp(skew: int) -> None:
    """A correctly signed timestamp more than signature_tolerance_s (300) in the past or future is refused."""
    assert _reason(_header(SEED, timestamp=int(NOW) + skew)) == "timestamp outside the 300 s tolerance"


def test_signature_tolerance_is_the_sources_setting() -> None:
    """The tolerance comes from the source (signature_tolerance_s), not from the adapter."""
    headers = _header(SEED, timestamp=int(NOW) - 30)
    _keyed(SECRET, tolerance_s=30).verify(SEED, headers, NOW)
    with pytest.raises(SignatureError, match="29 s tolerance"):
        _keyed(SECRET, tolerance_s=29).verify(SEED, headers, NOW)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@st.composite
def mutated_samples(draw: st.DrawFn) -> Any:
    """A full sample with keys dropped or values swapped for arbitrary JSON, in the envelope, payload or event."""
    names = ("variant_invitee_created_full", "variant_invitee_canceled_rescheduled", "variant_invitee_no_show_created")
    document = copy.deepcopy(json.loads(_body(draw(st.sampled_from(names)))))
    for target in (document, document["payload"], document["payload"]["scheduled_event"]):
        for key in draw(st.lists(st.sampled_from(sorted(target)), max_size=3, unique=True)):
            if draw(st.booleans()):
                del target[key]
            else:
                target[key] = draw(JSON_VALUES)
    return document


def _maps_or_refuses(body: bytes) -> None:
    try:
        assert isinstance(map_request(_request(body)), Mapped)
    except AdapterError:
        pass


@settings(max_examples=200, deadline=None)
@given(JSON_VALUES | mutated_samples())
def test_any_json_maps_or_raises_adapter_error(document: Any) -> None:
    """Arbitrary JSON and mutated samples yield a Mapped or an AdapterError, never another exception."""
    _maps_or_refuses(json.dumps(document).encode())


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_map_or_raise_adapter_error(body: bytes) -> None:
    """Arbitrary bytes yield a Mapped or an AdapterError, never another exception."""
    _maps_or_refuses(body)
