"""Cal.com adapter: documented samples and variants, JSON and form bodies, its signature scheme, robustness."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode

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
from adapters.calcom import ADAPTER, UNSIGNED, CalcomSignature, map_request
from gateway.config import SourceSettings
from gateway.errors import AuthenticationError
from gateway.flow.sources import build_sources
from tests.adapters.golden import GoldenCase, golden_cases, vendor_request, verified_request

CASES = golden_cases("calcom")
SEED = next(case for case in CASES if case.name == "seed_booking_cancelled").body_path.read_bytes()
SECRET = b"calcom-webhook-secret-1"
NOW = 1_700_000_000.0
FORM = {"content-type": "application/x-www-form-urlencoded"}


def _case(name: str) -> GoldenCase:
    return next(case for case in CASES if case.name == name)


def _body(name: str) -> bytes:
    return _case(name).body_path.read_bytes()


def _request(body: bytes, headers: dict[str, str] | None = None) -> VerifiedRequest:
    return vendor_request("calcom", body, headers)


def _trigger(case: GoldenCase) -> str:
    request = verified_request(case)
    if request.headers.get("content-type", "").startswith(FORM["content-type"]):
        return dict(parse_qsl(request.body.decode()))["triggerEvent"]
    trigger: str = json.loads(request.body)["triggerEvent"]
    return trigger


def test_every_documented_trigger_has_a_case() -> None:
    """Each trigger the brief names (mapped or acknowledged) has a golden case, and so do both body encodings."""
    valid = [case for case in CASES if not case.name.startswith("error_")]
    assert {_trigger(case) for case in valid} >= {
        "BOOKING_CREATED", "BOOKING_REQUESTED", "BOOKING_RESCHEDULED", "BOOKING_CANCELLED", "BOOKING_REJECTED",
        "BOOKING_PAYMENT_INITIATED", "BOOKING_PAID", "BOOKING_NO_SHOW_UPDATED", "MEETING_STARTED", "MEETING_ENDED",
        "PING", "RECORDING_READY",
    }  # fmt: skip
    assert any(case.request_path.exists() for case in valid)


def test_booking_id_is_uid_not_booking_id() -> None:
    """The canonical id is built from ``uid``; the numeric ``bookingId`` is not used."""
    [change] = map_request(_request(SEED)).changes
    assert change.data.booking.id == "calcom:unique-booking-identifier"


def test_reschedule_is_the_new_uid_and_the_old_one_cancelled() -> None:
    """BOOKING_RESCHEDULED: the new booking (its uid) names the old (rescheduleUid), which is cancelled naming it."""
    new, old = map_request(_request(_body("variant_booking_rescheduled"))).changes
    assert (new.type, old.type) == ("booking.rescheduled", "booking.cancelled")
    assert new.data.booking.id == "calcom:nEwUid7Rescheduled2" == old.data.booking.rescheduled_to
    assert old.data.booking.id == "calcom:3xkVq9WmZ2cRt8sJbY7aPd" == new.data.booking.rescheduled_from
    assert (old.data.booking.start, old.data.booking.end) == ("2024-06-11T14:00:00Z", "2024-06-11T14:30:00Z")
    assert old.data.booking.status == "cancelled" and old.data.booking.rescheduled_from is None


def test_reschedule_without_the_old_uid_is_one_event() -> None:
    """Without rescheduleUid there is nothing to cancel: only the new booking, rescheduled_from null."""
    document = json.loads(_body("variant_booking_rescheduled"))
    del document["payload"]["rescheduleUid"]
    [change] = map_request(_request(json.dumps(document).encode())).changes
    assert change.type == "booking.rescheduled" and change.data.booking.rescheduled_from is None


def test_flat_and_enveloped_meetings_map_alike() -> None:
    """MEETING_ENDED flat (fields at top level) and under ``payload`` give the same booking."""
    [flat] = map_request(_request(_body("variant_meeting_ended_flat"))).changes
    [enveloped] = map_request(_request(_body("variant_meeting_ended_enveloped"))).changes
    assert flat.type == enveloped.type == "booking.completed"
    assert _comparable(flat.data.booking) == _comparable(enveloped.data.booking)


def _comparable(booking: Any) -> dict[str, Any]:
    """The booking's fields but its id and the form answers (the flat sample carries none)."""
    fields = {name: getattr(booking, name) for name in booking.__struct_fields__}
    return {name: value for name, value in fields.items() if name not in ("id", "provider_id", "custom_fields")}


def test_form_body_maps_like_the_same_fields_in_json() -> None:
    """A form-encoded template body is read by the same names as JSON; numbers come from their text."""
    fields = {"triggerEvent": "BOOKING_CREATED", "createdAt": "2024-06-04T12:00:00.000Z", "uid": "u-1",
              "startTime": "2024-06-14T12:00:00Z", "length": "30", "title": "Intro & more"}
    as_form = map_request(_request(urlencode(fields).encode(), FORM))
    as_json = map_request(_request(json.dumps({**fields, "length": 30}).encode()))
    assert as_form == as_json
    assert as_form.changes[0].data.booking.duration_minutes == 30


def test_form_body_is_read_only_when_declared() -> None:
    """Without the form content type a form body is not JSON: malformed-json, not a guess."""
    with pytest.raises(AdapterError) as caught:
        map_request(_request(_body("variant_form_encoded_template")))
    assert caught.value.reason == "malformed-json"


def test_form_errors_name_the_field() -> None:
    """A form value of the wrong type is invalid-payload naming the field."""
    with pytest.raises(AdapterError, match=r"\$\.length") as caught:
        map_request(_request(b"triggerEvent=BOOKING_CREATED&uid=u&length=half", FORM))
    assert caught.value.reason == "invalid-payload"


def test_ping_and_non_bookings_are_acknowledged_with_a_note() -> None:
    """PING, MEETING_STARTED and RECORDING_READY give no change and a note."""
    for name in ("variant_ping", "variant_meeting_started_flat", "variant_recording_ready"):
        mapped = map_request(_request(_body(name)))
        assert mapped.changes == [] and mapped.note, name


def test_no_delivery_key_of_its_own() -> None:
    """Cal.com sends no delivery id: the gateway keys a delivery on its body's hash."""
    assert map_request(_request(SEED, {"webhook-id": "x"})).delivery_key is None


def test_no_show_marks_attendees() -> None:
    """One attendee absent: booking.no_show with that attendee marked, the booking's status left null."""
    [change] = map_request(_request(_body("variant_booking_no_show_updated"))).changes
    assert change.type == "booking.no_show" and change.data.booking.status is None
    assert [a.status for a in change.data.booking.attendees] == ["no_show", None]


def _keyed(*secrets: bytes, tolerance_s: int = 300) -> SignatureScheme:
    """CalcomSignature keyed as a source keys it: the one call here that knows the scheme factory's arguments."""
    return CalcomSignature(SchemeSettings(secrets=secrets, tolerance_s=tolerance_s))


def _header(body: bytes, secret: bytes = SECRET) -> dict[str, str]:
    return {"x-cal-signature-256": hmac.new(secret, body, hashlib.sha256).hexdigest()}


def _reason(headers: dict[str, str], body: bytes = SEED, secrets: tuple[bytes, ...] = (SECRET,)) -> str:
    with pytest.raises(SignatureError) as caught:
        _keyed(*secrets).verify(body, headers, NOW)
    return caught.value.reason


def test_adapter_registers_its_signature_scheme() -> None:
    """The adapter's scheme is CalcomSignature, and sign() writes Cal.com's header."""
    assert ADAPTER.signature is CalcomSignature
    assert _keyed(SECRET).sign(SEED, NOW) == _header(SEED)


def test_signature_valid_and_rotated() -> None:
    """The hex HMAC of the raw body verifies, under the current or the next secret."""
    _keyed(SECRET).verify(SEED, _header(SEED), NOW)
    _keyed(SECRET, b"next").verify(SEED, _header(SEED, b"next"), NOW)


def test_signature_has_no_timestamp_to_go_stale() -> None:
    """Cal.com signs no timestamp: a signature verifies whenever it arrives (replays are dedupe's job)."""
    _keyed(SECRET).verify(SEED, _header(SEED), NOW + 10 * 86_400)


def test_signature_forged_wrong_secret_reencoded() -> None:
    """A made-up digest, another secret, or a digest of re-encoded JSON does not match."""
    assert _reason({"x-cal-signature-256": "ab" * 32}) == "signature does not match"
    assert _reason(_header(SEED, b"someone-else")) == "signature does not match"
    reencoded = json.dumps(json.loads(SEED)).encode()
    assert reencoded != SEED and _reason(_header(reencoded)) == "signature does not match"


def test_missing_or_unsigned_header_is_refused() -> None:
    """No header, or Cal.com's ``no-secret-provided``, is refused with a reason saying what to do."""
    assert _reason({}) == "missing x-cal-signature-256 header"
    assert UNSIGNED in _reason({"x-cal-signature-256": UNSIGNED}) and 'auth = "none"' in _reason(
        {"x-cal-signature-256": UNSIGNED})


def _authenticate(auth: Literal["none", "hmac"], headers: dict[str, str]) -> None:
    secret = None if auth == "none" else SECRET.decode()
    settings_ = SourceSettings(id="calcom", provider="calcom", auth=auth, secret=secret)
    source = build_sources([settings_], {})[("calcom", "calcom")]
    source.authenticator.before_body(headers, {})
    source.authenticator.after_body(SEED, headers, NOW)


def test_unsigned_delivery_passes_only_an_auth_none_source() -> None:
    """``no-secret-provided`` (or no header) is accepted by an ``auth = "none"`` source, refused by ``hmac``."""
    for headers in ({"x-cal-signature-256": UNSIGNED}, {}):
        _authenticate("none", headers)
        with pytest.raises(AuthenticationError):
            _authenticate("hmac", headers)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@st.composite
def mutated_samples(draw: st.DrawFn) -> Any:
    """A sample with keys dropped or values swapped for arbitrary JSON, at top level or in the payload."""
    names = ("variant_booking_created_with_guest", "variant_booking_no_show_updated", "variant_booking_rescheduled")
    document = copy.deepcopy(json.loads(_body(draw(st.sampled_from(names)))))
    for target in (document, document["payload"]):
        for key in draw(st.lists(st.sampled_from(sorted(target)), max_size=3, unique=True)):
            if draw(st.booleans()):
                del target[key]
            else:
                target[key] = draw(JSON_VALUES)
    return document


def _maps_or_refuses(body: bytes, headers: dict[str, str] | None = None) -> None:
    try:
        assert isinstance(map_request(_request(body, headers)), Mapped)
    except AdapterError:
        pass


@settings(max_examples=200, deadline=None)
@given(JSON_VALUES | mutated_samples())
def test_any_json_maps_or_raises_adapter_error(document: Any) -> None:
    """Arbitrary JSON and mutated samples yield a Mapped or an AdapterError, never another exception."""
    _maps_or_refuses(json.dumps(document).encode())


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.booleans())
def test_any_bytes_map_or_raise_adapter_error(body: bytes, as_form: bool) -> None:
    """Arbitrary bytes, as JSON or as a form, yield a Mapped or an AdapterError, never another exception."""
    _maps_or_refuses(body, FORM if as_form else None)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["triggerEvent", "uid", "length", "startTime", "attendees", "organizer",
                                        "bookingId", "payload", "metadata", "x"]), st.text(max_size=12), max_size=6))
def test_any_form_fields_map_or_raise_adapter_error(fields: dict[str, str]) -> None:
    """Any form pairs over Cal.com's field names yield a Mapped or an AdapterError."""
    _maps_or_refuses(urlencode(fields).encode(), FORM)
