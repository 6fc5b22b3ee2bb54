"""Zoom adapter: Scheduler events, the URL validation answer, and ``v0`` signatures with a timestamp header."""

from __future__ import annotations

import hashlib
import hmac
import json

import msgspec
import pytest

from adapters.base import SchemeSettings, SignatureError, VerifiedRequest
from adapters.signatures import HeaderTimestampHmac
from adapters.zoom import ADAPTER, ZoomSignature, map_request, reply
from tests.adapters.golden import golden_cases, vendor_request

CASES = golden_cases("zoom")
SECRET = b"zoom-secret-token"
NOW = 1_767_225_600.0
CREATED = next(case for case in CASES if case.name == "variant_scheduled_event_created").body_path.read_bytes()
VALIDATION = next(case for case in CASES if case.name == "variant_url_validation").body_path.read_bytes()


def _request(body: bytes) -> VerifiedRequest:
    return vendor_request("zoom", body)


def _signed(body: bytes, timestamp: str = str(int(NOW)), secret: bytes = SECRET) -> dict[str, str]:
    """Zoom's documented signature (webhook-sample), computed here independently of the scheme."""
    digest = hmac.new(secret, f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {"x-zm-signature": f"v0={digest}", "x-zm-request-timestamp": timestamp}


def _scheme(*secrets: bytes, tolerance_s: int = 300) -> HeaderTimestampHmac:
    return ZoomSignature(SchemeSettings(secrets=secrets or (SECRET,), tolerance_s=tolerance_s))


def test_url_validation_is_answered_with_the_token_hmac() -> None:
    """encryptedToken = hex HMAC-SHA256(secret token, plainToken), beside the plainToken."""
    answer = reply(_request(VALIDATION), SECRET)
    assert answer is not None and answer.content_type == "application/json"
    token = "qgg8vlvZRS6UYooatFL8Aw"
    assert json.loads(answer.body) == {
        "plainToken": token, "encryptedToken": hmac.new(SECRET, token.encode(), hashlib.sha256).hexdigest()}
    mapped = map_request(_request(VALIDATION))
    assert mapped.changes == [] and mapped.note is not None


@pytest.mark.parametrize("body", [CREATED, b"not json", b'{"event": "endpoint.url_validation", "payload": {}}'])
def test_no_reply_for_anything_else(body: bytes) -> None:
    """A booking event, garbage or a validation without its token gets the gateway's own answer."""
    assert reply(_request(body), SECRET) is None


def test_every_documented_event_has_a_case() -> None:
    """Both Scheduler booking events, the routing form, the validation and a non-Scheduler event have cases."""
    events = {json.loads(case.body_path.read_bytes())["event"] for case in CASES if not case.name.startswith("error_")}
    assert events >= {"scheduler.scheduled_event_created", "scheduler.scheduled_event_canceled",
                      "scheduler.routing_form_submission_created", "endpoint.url_validation", "meeting.started"}


def test_delivery_key_and_event_time_come_from_the_body() -> None:
    """No delivery id is documented: event, event_ts and the scheduled event id name it; event_ts is the time."""
    mapped = map_request(_request(CREATED))
    assert mapped.delivery_key == "scheduler.scheduled_event_created:1767225600123:se_9f8e7d6c5b4a"
    assert mapped.changes[0].time == "2026-01-01T00:00:00.123Z"
    assert mapped.changes[0].data.booking.start is None, "start_date_time is not confirmed: not read"


def test_signature_as_zoom_documents_it_verifies_and_signs() -> None:
    """``v0=<hex>`` over ``v0:<timestamp>:<raw body>``; sign sends both headers."""
    _scheme().verify(CREATED, _signed(CREATED), NOW)
    assert _scheme().sign(CREATED, NOW) == _signed(CREATED)


def test_rotated_forged_and_reencoded() -> None:
    """A second secret verifies; another secret or a re-encoded body does not."""
    _scheme(b"old", SECRET).verify(CREATED, _signed(CREATED), NOW)
    with pytest.raises(SignatureError, match="does not match"):
        _scheme().verify(CREATED, _signed(CREATED, secret=b"forged"), NOW)
    reencoded = msgspec.json.encode(msgspec.json.decode(CREATED))
    with pytest.raises(SignatureError, match="does not match"):
        _scheme().verify(CREATED, _signed(reencoded), NOW)


@pytest.mark.parametrize("offset", [-301, 301])
def test_stale_and_future_timestamps_are_refused(offset: int) -> None:
    """A timestamp beyond signature_tolerance_s either way is refused, even correctly signed."""
    headers = _signed(CREATED, timestamp=str(int(NOW) + offset))
    with pytest.raises(SignatureError, match="outside the 300 s tolerance"):
        _scheme().verify(CREATED, headers, NOW)
    _scheme(tolerance_s=301).verify(CREATED, headers, NOW)


def test_millisecond_timestamps_are_read_as_such() -> None:
    """The unit is undocumented: a millisecond timestamp within the tolerance verifies, as signed."""
    _scheme().verify(CREATED, _signed(CREATED, timestamp=str(int(NOW * 1000) + 250)), NOW)
    with pytest.raises(SignatureError, match="tolerance"):
        _scheme().verify(CREATED, _signed(CREATED, timestamp=str(int(NOW * 1000) - 301_000)), NOW)


@pytest.mark.parametrize(("headers", "reason"), [
    ({}, "missing x-zm-signature"),
    ({"x-zm-signature": "v0=" + "a" * 64}, "missing x-zm-request-timestamp"),
    ({"x-zm-signature": "v0=" + "a" * 64, "x-zm-request-timestamp": "soon"}, "not a unix timestamp"),
    ({"x-zm-signature": "v1=" + "a" * 64, "x-zm-request-timestamp": str(int(NOW))}, "expected v0=<hex SHA-256>"),
    ({"x-zm-signature": "v0=xyz", "x-zm-request-timestamp": str(int(NOW))}, "expected v0=<hex SHA-256>"),
])
def test_malformed_headers_are_refused_with_the_reason(headers: dict[str, str], reason: str) -> None:
    """Each unusable header says what is wrong with it."""
    with pytest.raises(SignatureError, match=reason):
        _scheme().verify(CREATED, headers, NOW)


def test_registered_with_its_scheme_and_reply() -> None:
    """The registry entry signs as Zoom does and answers its challenge."""
    assert ADAPTER.signature is ZoomSignature and ADAPTER.reply is reply
