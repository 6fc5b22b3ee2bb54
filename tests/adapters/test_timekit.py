"""Timekit adapter: golden cases for every state, its signature scheme, and that it raises nothing but AdapterError."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.base import AdapterError, Mapped, SchemeSettings, SignatureError, VerifiedRequest
from adapters.timekit import SIGNATURE_HEADER, TimekitSignature, map_request
from tests.adapters.golden import RECEIVED_AT, actual_output, golden_cases, vendor_request

CASES = golden_cases("timekit")
SEED = next(case for case in CASES if case.name == "seed_booking_confirmed_instant").body_path.read_bytes()
SECRET = b"app-secret-current"
OLD_SECRET = b"app-secret-previous"
NOW = 1_700_000_000.0


def _output(name: str) -> Any:
    return actual_output(next(case for case in CASES if case.name == name))


def _types(name: str) -> tuple[str, str, str]:
    [event] = _output(name)
    return event["type"], event["data"]["booking"]["status"], event["data"]["provider_event"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("seed_booking_confirmed_instant", ("booking.created", "confirmed", "confirmed")),
        ("variant_tentative_confirm_decline", ("booking.created", "pending", "tentative")),
        ("variant_confirmed_confirm_decline", ("booking.confirmed", "confirmed", "confirmed")),
        ("variant_reserved", ("booking.created", "pending", "reserved")),
        ("variant_reservation_confirmed", ("booking.confirmed", "confirmed", "confirmed")),
        ("variant_declined", ("booking.declined", "declined", "declined")),
        ("variant_cancelled", ("booking.cancelled", "cancelled", "cancelled")),
        ("variant_cancelled_by_customer", ("booking.cancelled", "cancelled", "cancelled_by_customer")),
        ("variant_cancelled_by_owner_group_customer", ("booking.cancelled", "cancelled", "cancelled_by_owner")),
        ("variant_expired", ("booking.cancelled", "cancelled", "expired")),
        ("variant_rescheduled_by_customer", ("booking.rescheduled", "confirmed", "rescheduled_by_customer")),
        ("variant_completed", ("booking.completed", "completed", "completed")),
        ("variant_paid", ("payment.completed", "confirmed", "paid")),
        ("variant_unpaid", ("payment.failed", "cancelled", "unpaid")),
    ],
)
def test_every_state_has_its_canonical_type(name: str, expected: tuple[str, str, str]) -> None:
    """Each documented Timekit state becomes its canonical type and status, the state kept as provider_event."""
    assert _types(name) == expected


def test_seed_times_with_colonless_offsets_become_utc() -> None:
    """``+0100`` offsets are read; duration comes from start and end; Change.time is updated_at."""
    [event] = _output("seed_booking_confirmed_instant")
    booking = event["data"]["booking"]
    assert (booking["start"], booking["end"], booking["duration_minutes"]) == (
        "2016-01-01T09:00:00Z",
        "2016-01-01T10:00:00Z",
        60,
    )
    assert event["time"] == booking["updated_at"] == "2016-11-24T12:34:54Z"
    assert booking["timezone"] == "Europe/Copenhagen"


def test_seed_obfuscated_email_is_kept_and_noted() -> None:
    """The doc's scrubbed ``[email protected]`` is kept as sent and explained in repairs."""
    [event] = _output("seed_booking_confirmed_instant")
    assert event["data"]["booking"]["customer"]["email"] == "[email\xa0protected]"
    assert any("not an email address" in repair for repair in event["data"]["repairs"])


def test_cancellation_says_who_cancelled() -> None:
    """The cancelled states tell owner, customer, nobody in particular, or expiry apart."""
    cancellations = [
        _output(name)[0]["data"]["booking"]["cancellation"]
        for name in ("variant_cancelled", "variant_cancelled_by_customer", "variant_cancelled_by_owner_group_customer")
    ]
    assert [item["by"] for item in cancellations] == [None, "customer", "owner"]
    assert _output("variant_expired")[0]["data"]["booking"]["cancellation"] == {"reason": "expired", "by": None}


def test_group_owner_lists_customers_as_attendees() -> None:
    """A group_owner booking is a class whose customers are attendees, phone lifted from meta."""
    booking = _output("variant_group_owner_confirmed")[0]["data"]["booking"]
    assert (booking["kind"], booking["customer"]) == ("class", None)
    assert [attendee["phone"] for attendee in booking["attendees"]] == ["+15555550101", "+15555550102"]


def test_meta_becomes_custom_fields() -> None:
    """The primary customer's meta (JSON in a string) becomes name/value custom fields."""
    booking = _output("variant_tentative_confirm_decline")[0]["data"]["booking"]
    assert booking["custom_fields"] == [{"name": "comment", "value": "Window seat"}, {"name": "newsletter", "value": "true"}]


def test_unreadable_values_are_kept_and_explained() -> None:
    """A start without offset and an unreadable meta are kept or left out, each with a repair note."""
    [event] = _output("variant_unreadable_values")
    assert event["data"]["booking"]["start"] == "2024-03-12 10:00"
    assert event["data"]["booking"]["duration_minutes"] is None
    assert event["time"] == RECEIVED_AT
    assert len(event["data"]["repairs"]) == 3


def _sign(body: bytes, secret: bytes = SECRET) -> str:
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def _verify(headers: dict[str, str], body: bytes = SEED, secrets: tuple[bytes, ...] = (SECRET,)) -> None:
    TimekitSignature(SchemeSettings(secrets=tuple(secrets), tolerance_s=300)).verify(body, headers, NOW)


def test_signature_over_raw_body_is_accepted() -> None:
    """A hex HMAC-SHA256 of the raw body under the app secret verifies."""
    _verify({SIGNATURE_HEADER: _sign(SEED)})


def test_rotated_secret_is_accepted() -> None:
    """A body signed with the second of two configured secrets verifies."""
    _verify({SIGNATURE_HEADER: _sign(SEED, OLD_SECRET)}, secrets=(SECRET, OLD_SECRET))


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing x-timekit-signature header"),
        ({SIGNATURE_HEADER: "  "}, "missing x-timekit-signature header"),
        ({SIGNATURE_HEADER: "not-a-digest"}, "malformed x-timekit-signature header: not a hex SHA-256 digest"),
        ({SIGNATURE_HEADER: "ab" * 31}, "malformed x-timekit-signature header: not a hex SHA-256 digest"),
        ({SIGNATURE_HEADER: "0" * 64}, "signature does not match"),
        ({SIGNATURE_HEADER: _sign(SEED, b"someone-else")}, "signature does not match"),
        ({SIGNATURE_HEADER: _sign(SEED, OLD_SECRET)}, "signature does not match"),
    ],
    ids=["missing", "blank", "malformed", "short", "forged", "wrong-secret", "retired-secret"],
)
def test_bad_signatures_are_refused(headers: dict[str, str], reason: str) -> None:
    """Missing, malformed, forged and wrong-secret signatures raise SignatureError with a reason."""
    with pytest.raises(SignatureError) as caught:
        _verify(headers)
    assert caught.value.reason == reason


def test_signature_over_reencoded_json_is_refused() -> None:
    """Timekit's own example hashes re-encoded JSON: that differs from the raw bytes and must fail."""
    reencoded = json.dumps(json.loads(SEED), separators=(",", ":")).encode()
    assert reencoded != SEED
    with pytest.raises(SignatureError, match="does not match"):
        _verify({SIGNATURE_HEADER: _sign(reencoded)})


def _request(body: bytes) -> VerifiedRequest:
    return vendor_request("timekit", body)


def _maps_or_refuses(body: bytes) -> None:
    try:
        assert isinstance(map_request(_request(body)), Mapped)
    except AdapterError as exc:
        assert exc.reason in {"malformed-json", "invalid-payload", "unsupported-event"}


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
SEED_DOCUMENT: dict[str, Any] = json.loads(SEED)


def _mutated(document: Any, path: list[str | int], value: Any, drop: bool) -> Any:
    """The seed with the value at ``path`` dropped or replaced (the path is cut where the document ends)."""
    if not path or not isinstance(document, (dict, list)):
        return value
    key, rest = path[0], path[1:]
    if isinstance(document, dict) and isinstance(key, str) and key in document:
        copy = dict(document)
        if drop and not rest:
            del copy[key]
        else:
            copy[key] = _mutated(document[key], rest, value, drop)
        return copy
    if isinstance(document, list) and isinstance(key, int) and 0 <= key < len(document):
        return [_mutated(item, rest, value, drop) if index == key else item for index, item in enumerate(document)]
    return document


def _paths(document: Any, prefix: list[str | int]) -> list[list[str | int]]:
    """Every path into ``document``: each key and index, nested."""
    children: list[tuple[str | int, Any]] = []
    if isinstance(document, dict):
        children = list(document.items())
    elif isinstance(document, list):
        children = list(enumerate(document))
    paths = [prefix] if prefix else []
    for key, child in children:
        paths.extend(_paths(child, [*prefix, key]))
    return paths


SEED_PATHS = st.sampled_from(_paths(SEED_DOCUMENT, []))
STATES = st.sampled_from(["confirmed", "tentative", "paid", "cancelled_by_owner", "error", "unknown"])


@settings(max_examples=200, deadline=None)
@given(JSON_VALUES)
def test_arbitrary_json_maps_or_raises_adapter_error(value: Any) -> None:
    """Any JSON value yields a Mapped or an AdapterError, never another exception."""
    _maps_or_refuses(msgspec.json.encode(value))


@settings(max_examples=200, deadline=None)
@given(SEED_PATHS, JSON_VALUES, st.booleans(), STATES)
def test_mutated_seed_maps_or_raises_adapter_error(path: list[str | int], value: Any, drop: bool, state: str) -> None:
    """The seed with keys dropped or values swapped for other types yields a Mapped or an AdapterError."""
    document = _mutated({**SEED_DOCUMENT, "state": state}, path, value, drop)
    _maps_or_refuses(msgspec.json.encode(document))


JSONISH_TEXT = st.text(alphabet='{}[]",:0123456789.eE+-truefalsnl\\ud8 \n', max_size=120)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200) | JSONISH_TEXT.map(str.encode))
def test_arbitrary_bytes_map_or_raise_adapter_error(body: bytes) -> None:
    """Any bytes, and near-JSON text that takes the repair path, yield a Mapped or an AdapterError."""
    _maps_or_refuses(body)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"id": "a", "state": "confirmed", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "malformed-json"),
        (b'{"id": "a", "state": "confirmed", "x": ' + b"[" * 100_000, "malformed-json"),
        (b'{"id": "a", "state": "confirmed", "updated_at": "\\ud800"}', "malformed-json"),
    ],
    ids=["deeply-nested", "deeply-nested-unclosed", "lone-surrogate"],
)
def test_bodies_that_break_the_decoder_are_refused(body: bytes, reason: str) -> None:
    """Nesting past msgspec's limit and a lone surrogate escape are AdapterErrors, not crashes."""
    with pytest.raises(AdapterError) as caught:
        map_request(_request(body))
    assert caught.value.reason == reason


def test_values_that_break_the_readers_are_kept_and_noted() -> None:
    """Deeply nested meta and a time that overflows in UTC are noted in repairs, the event still made."""
    document = {
        "id": "edge-1",
        "state": "confirmed",
        "customers": [{"meta": "[" * 100_000}],
        "event": {"start": "9999-12-31T23:59:59-0100", "end": "9999-12-31T23:59:59-0100"},
    }
    [change] = map_request(_request(msgspec.json.encode(document))).changes
    assert change.data.booking.start == "9999-12-31T23:59:59-0100"
    assert change.data.booking.duration_minutes is None
    assert len(change.data.repairs) == 3
