"""Appointlet adapter: both payload generations against golden files, its repairs, and that it only ever raises AdapterError."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.appointlet import ADAPTER, map_request
from adapters.base import AdapterError, Mapped, VerifiedRequest
from tests.adapters.golden import GoldenCase, actual_output, golden_cases, vendor_request, verified_request

CASES = golden_cases("appointlet")
SEEDS = [case for case in CASES if case.name.startswith("seed_")]


def _case(name: str) -> GoldenCase:
    return next(case for case in CASES if case.name == name)


def _request(body: bytes) -> VerifiedRequest:
    return vendor_request("appointlet", body)


def _error(name: str) -> AdapterError:
    with pytest.raises(AdapterError) as caught:
        map_request(verified_request(_case(name)))
    return caught.value


def test_seed_folder_holds_both_documented_bodies() -> None:
    """The documented booking sample and the Test button's ping are both seed cases."""
    assert [case.name for case in SEEDS] == ["seed_booking_confirmed", "seed_test_ping"]


def test_appointlet_has_no_signature_scheme() -> None:
    """Appointlet signs nothing: the source's token or basic auth authenticates it."""
    assert ADAPTER.signature is None
    assert ADAPTER.name == "appointlet"


def test_documented_sample_is_repaired_and_read() -> None:
    """The sample's U+00A0 indentation is repaired and noted; name, phone and seconds are read."""
    [event] = actual_output(_case("seed_booking_confirmed"))
    data = event["data"]
    assert event["type"] == "booking.created"
    assert data["provider_event"] == "booking/confirmed"
    assert data["repairs"] == ["treated non-breaking spaces (U+00A0) as whitespace"]
    assert data["booking"]["customer"]["name"] == "John Smith"
    assert data["booking"]["customer"]["phone"] == "+1.888.555.1212"
    assert data["booking"]["duration_minutes"] == 30
    assert data["booking"]["status"] == "confirmed"


def test_envelope_id_is_the_delivery_key() -> None:
    """The envelope ``id`` is the delivery key, so a resent webhook keeps its event ids."""
    mapped = map_request(verified_request(_case("variant_activity_meeting_scheduled")))
    assert mapped.delivery_key == "14224744"
    assert mapped.changes[0].time == "2024-05-29T18:56:43.249804Z"


def test_test_ping_and_other_resources_yield_no_event() -> None:
    """A test ping and meeting-type, member and field events are acknowledged with a note."""
    for name in ("seed_test_ping", "variant_meeting_type_created", "variant_member_updated",
                 "variant_field_deleted", "variant_activity_meeting_type_updated"):
        mapped = map_request(verified_request(_case(name)))
        assert mapped.changes == [] and mapped.note


def test_duration_not_in_whole_minutes_is_rounded_down_and_noted() -> None:
    """2730 seconds is 45 minutes, and the lost half minute is said."""
    [event] = actual_output(_case("variant_booking_paid_custom_fields"))
    assert event["data"]["booking"]["duration_minutes"] == 45
    assert any("not a whole number of minutes" in repair for repair in event["data"]["repairs"])


def test_attendee_events_name_the_attendee_and_the_meeting() -> None:
    """An attendee event's subject is its meeting, whether the meeting comes whole or as an id."""
    whole = actual_output(_case("variant_activity_attendee_scheduled"))
    by_id = actual_output(_case("variant_activity_attendee_cancelled"))
    assert {event["subject"] for event in [*whole, *by_id]} == {"appointlet:2751918"}
    assert [event["type"] for event in [*whole, *by_id]] == ["attendee.added", "attendee.removed"]
    assert by_id[0]["data"]["attendee"]["name"] == "Jane Doe"


def test_unknown_actions_are_unsupported() -> None:
    """Booking, Meeting and Attendee actions the adapter does not know are refused as unsupported."""
    for name in ("error_unknown_booking_action", "error_unknown_meeting_action", "error_unknown_attendee_action"):
        assert _error(name).reason == "unsupported-event"


def test_validation_error_path_starts_at_the_body_root() -> None:
    """A wrongly typed field inside ``object`` is reported with its full ``$.object...`` path."""
    error = _error("error_wrong_field_type")
    assert error.reason == "invalid-payload"
    assert "$.object.start" in error.detail


def test_unrepairable_json_is_malformed() -> None:
    """A missing ':' is not guessed at."""
    assert _error("error_missing_colon").reason == "malformed-json"


def test_time_out_of_datetime_range_is_kept_as_sent() -> None:
    """A year-1 time with an offset (out of range in UTC) is kept as sent and noted, not a crash."""
    body = b'{"type":"booking","action":"confirmed","object":{"id":1,"start":"0001-01-01T00:00:00+01:00"}}'
    [change] = map_request(_request(body)).changes
    assert change.data.booking.start == "0001-01-01T00:00:00+01:00"
    assert change.data.repairs and "kept as sent" in change.data.repairs[0]


def test_absurd_amount_is_kept_as_sent_not_expanded() -> None:
    """An amount with a million-digit exponent is never formatted: the price keeps the text as sent, noted."""
    body = b'{"type":"booking","action":"confirmed","object":{"id":1,"payment_amount":"1e999999999"}}'
    [change] = map_request(_request(body)).changes
    assert change.data.booking.price is not None and change.data.booking.price.amount == "1e999999999"
    assert change.data.booking.paid is None
    assert "not a plausible amount; not used to work out paid" in change.data.repairs[0]


def _maps_or_refuses(body: bytes) -> None:
    try:
        assert isinstance(map_request(_request(body)), Mapped)
    except AdapterError:
        pass


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
_SEED_DOCUMENTS: list[Any] = [
    msgspec.json.decode(case.body_path.read_bytes().replace("\u00a0".encode(), b" ")) for case in CASES
    if case.name.startswith(("seed_", "variant_"))
]


def _paths(document: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(document, dict):
        for key, value in document.items():
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found.extend(_paths(value, (*prefix, index)))
    return found


@st.composite
def mutated_seeds(draw: st.DrawFn) -> bytes:
    """A seed or variant body with one member dropped or one value swapped for any JSON value."""
    document = msgspec.json.decode(msgspec.json.encode(draw(st.sampled_from(_SEED_DOCUMENTS))))
    path = draw(st.sampled_from(_paths(document)[1:] or [()]))
    if not path:
        return msgspec.json.encode(draw(JSON_VALUES))
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    if isinstance(parent, dict) and draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(JSON_VALUES)
    return msgspec.json.encode(document)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON_VALUES)
def test_any_json_value_maps_or_is_refused(value: Any) -> None:
    """Any JSON value yields a Mapped or an AdapterError, never another exception."""
    _maps_or_refuses(msgspec.json.encode(value))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_seeds())
def test_mutated_seed_maps_or_is_refused(body: bytes) -> None:
    """A documented body with a member dropped or retyped yields a Mapped or an AdapterError."""
    _maps_or_refuses(body)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_map_or_are_refused(body: bytes) -> None:
    """Arbitrary bytes yield a Mapped or an AdapterError, never another exception."""
    _maps_or_refuses(body)
