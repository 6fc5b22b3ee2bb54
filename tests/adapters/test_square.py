"""Square adapter: every booking status, its booking id and delivery key, and its URL-and-body signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import msgspec
import pytest

from adapters.base import SchemeSettings, SignatureError, VerifiedRequest
from adapters.signatures import UrlHmac
from adapters.square import ADAPTER, SIGNATURE_HEADER, SquareSignature, map_request
from tests.adapters.golden import golden_cases, vendor_request

CASES = golden_cases("square")
SEED = next(case for case in CASES if case.name.startswith("seed_")).body_path.read_bytes()
URL = "https://hooks.example.com/webhooks/square"
INTERNAL_URL = "http://10.0.0.7:8080/webhooks/square"
SECRET = b"square-signature-key-1"
NOW = 1_700_000_000.0


def _request(body: bytes) -> VerifiedRequest:
    return vendor_request("square", body)


def _signed(body: bytes, url: str = URL, secret: bytes = SECRET) -> dict[str, str]:
    """Square's documented signature, computed here independently of the scheme."""
    digest = hmac.new(secret, url.encode() + body, hashlib.sha256).digest()
    return {SIGNATURE_HEADER: base64.b64encode(digest).decode()}


def _scheme(*secrets: bytes, url: str | None = URL) -> UrlHmac:
    return SquareSignature(SchemeSettings(secrets=secrets or (SECRET,), notification_url=url))


def test_every_documented_status_and_event_type_has_a_case() -> None:
    """booking.created and .updated, and each BookingStatus of the SDK, appear in a valid case."""
    bodies = [json.loads(case.body_path.read_bytes()) for case in CASES if not case.name.startswith("error_")]
    assert {body["type"] for body in bodies} == {"booking.created", "booking.updated"}
    statuses = {body["data"]["object"]["booking"].get("status") for body in bodies}
    assert statuses >= {"PENDING", "ACCEPTED", "CANCELLED_BY_CUSTOMER", "CANCELLED_BY_SELLER", "DECLINED", "NO_SHOW"}


def test_booking_id_is_the_booking_not_data_id_and_event_id_is_the_delivery_key() -> None:
    """``data.id`` is ``<booking id>:<version>``: the canonical id is the booking's own; ``event_id`` keys the delivery."""
    mapped = map_request(_request(SEED))
    assert mapped.delivery_key == "d954ea4e-a393-52d4-bda6-bfd10cbd571f"
    booking = mapped.changes[0].data.booking
    assert (booking.id, booking.provider_id) == ("square:i2id2g3enyspi7", "i2id2g3enyspi7")
    assert booking.customer is None, "Square sends only customer_id: no name or email is made up"


def test_signature_as_square_documents_it_verifies() -> None:
    """base64 HMAC-SHA256 of notification_url + raw body, under the signature key."""
    _scheme().verify(SEED, _signed(SEED), NOW)
    assert _scheme().sign(SEED, NOW) == _signed(SEED)


def test_rotated_key_verifies_and_other_keys_do_not() -> None:
    """Either of two configured keys verifies; a forged or wrong key does not."""
    _scheme(b"old", SECRET).verify(SEED, _signed(SEED), NOW)
    for secret in (b"forged", SECRET + b"x"):
        with pytest.raises(SignatureError, match="does not match"):
            _scheme().verify(SEED, _signed(SEED, secret=secret), NOW)


def test_signed_for_the_internal_url_is_refused() -> None:
    """Behind a proxy the gateway sees another URL: a signature over that one is not Square's, and is refused."""
    with pytest.raises(SignatureError, match="does not match"):
        _scheme().verify(SEED, _signed(SEED, url=INTERNAL_URL), NOW)
    with pytest.raises(SignatureError, match="does not match"):
        _scheme().verify(SEED, _signed(SEED, url=URL + "/"), NOW)


def test_signature_over_reencoded_json_is_refused() -> None:
    """Only the raw bytes verify, not the same JSON re-encoded."""
    reencoded = msgspec.json.encode(msgspec.json.decode(SEED))
    assert reencoded != SEED
    with pytest.raises(SignatureError, match="does not match"):
        _scheme().verify(SEED, _signed(reencoded), NOW)


def test_missing_malformed_or_unconfigured_is_refused() -> None:
    """No header, a header that is no digest, or a source without its URL: refused with the reason."""
    with pytest.raises(SignatureError, match="missing x-square-hmacsha256-signature"):
        _scheme().verify(SEED, {}, NOW)
    with pytest.raises(SignatureError, match="not a base64 SHA-256 digest"):
        _scheme().verify(SEED, {SIGNATURE_HEADER: "not base64!"}, NOW)
    with pytest.raises(SignatureError, match="no notification_url"):
        _scheme(url=None).verify(SEED, _signed(SEED), NOW)


def test_registered_with_its_scheme_and_a_notification_url() -> None:
    """The registry entry signs as Square does and asks its sources for the URL."""
    assert ADAPTER.signature is SquareSignature
    assert ADAPTER.needs_notification_url and ADAPTER.reply is None
