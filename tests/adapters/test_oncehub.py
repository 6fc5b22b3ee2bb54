"""OnceHub adapter: seed sample and variants against golden files, its signature scheme, and robustness."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.base import AdapterError, Mapped, SchemeSettings, SignatureError, VerifiedRequest
from adapters.oncehub import ADAPTER, OncehubSignature, map_request
from tests.adapters.golden import GoldenCase, actual_output, golden_cases, vendor_request

CASES = golden_cases("oncehub")
SEED = next(case for case in CASES if case.name == "seed_booking_scheduled").body_path.read_bytes()
SECRET = b"whsec-oncehub-endpoint-1"
NOW = 1_611_144_604.0


def _case(name: str) -> GoldenCase:
    return next(case for case in CASES if case.name == name)


def _request(body: bytes) -> VerifiedRequest:
    return vendor_request("oncehub", body)


def test_every_documented_event_type_has_a_case() -> None:
    """Every OnceHub event type and booking status appears in at least one case."""
    valid = [case for case in CASES if not case.name.startswith(("error_", "variant_repaired"))]
    bodies = [json.loads(case.body_path.read_bytes()) for case in valid]
    types = {body["type"] for body in bodies}
    statuses = {str(body["data"].get("status", "")).lower() for body in bodies if body["type"].startswith("booking.")}
    assert types >= {
        "booking.scheduled", "booking.rescheduled", "booking.canceled", "booking.canceled_then_rescheduled",
        "booking.canceled_reschedule_requested", "booking.completed", "booking.no_show",
        "conversation.started", "conversation.closed", "conversation.abandoned",
    }  # fmt: skip
    assert statuses >= {"requested", "scheduled", "rescheduled", "completed", "canceled", "no-show"}


def test_delivery_key_is_the_event_id() -> None:
    """The envelope's EVNT id is the delivery key, so a retried delivery keeps its CloudEvent ids."""
    mapped = map_request(_request(SEED))
    assert mapped.delivery_key == "EVNT-KN56U3YL7C"
    assert mapped.changes[0].time == "2018-03-22T09:49:12Z"


def test_conversation_events_are_acknowledged_without_events() -> None:
    """conversation.* yields no change, a note, and still its delivery key."""
    mapped = map_request(_request(_case("variant_conversation_started").body_path.read_bytes()))
    assert mapped == Mapped(changes=[], delivery_key="EVNT-CONVSTA01", note=mapped.note)
    assert mapped.note is not None and "conversation" in mapped.note


def test_seed_obfuscated_email_is_kept_and_noted() -> None:
    """The seed's '[email protected]' (a web-page artefact) is kept as sent and explained in repairs."""
    [event] = actual_output(_case("seed_booking_scheduled"))
    assert event["data"]["booking"]["customer"]["email"] == "[email\u00a0protected]"
    assert any("not an email address" in repair for repair in event["data"]["repairs"])


def test_validation_error_keeps_msgspec_path_under_data() -> None:
    """A wrongly typed booking field is reported with its full ``$.data`` path."""
    with pytest.raises(AdapterError) as caught:
        map_request(_request(_case("error_wrong_field_type").body_path.read_bytes()))
    assert caught.value.reason == "invalid-payload"
    assert "`$.data.duration_minutes`" in caught.value.detail


def _header(body: bytes, secret: bytes = SECRET, timestamp: int = int(NOW)) -> dict[str, str]:
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"oncehub-signature": f"t={timestamp},s={digest}"}


def _verify(headers: dict[str, str], body: bytes = SEED, secrets: tuple[bytes, ...] = (SECRET,)) -> None:
    OncehubSignature(SchemeSettings(secrets=tuple(secrets), tolerance_s=300)).verify(body, headers, NOW)


def _reason(headers: dict[str, str], body: bytes = SEED, secrets: tuple[bytes, ...] = (SECRET,)) -> str:
    with pytest.raises(SignatureError) as caught:
        _verify(headers, body, secrets)
    return caught.value.reason


def test_adapter_registers_its_signature_scheme() -> None:
    """The adapter exposes OncehubSignature as its scheme factory."""
    assert ADAPTER.signature is OncehubSignature


def test_signature_valid() -> None:
    """A header signed over ``<t>.<raw body>`` with the secret verifies."""
    _verify(_header(SEED))


def test_signature_any_of_several_s_values() -> None:
    """With several ``s=`` values, one matching is enough."""
    good = _header(SEED)["oncehub-signature"]
    _verify({"oncehub-signature": f"{good.split(',')[0]},s={'0' * 64},{good.split(',')[1]}"})


def test_signature_rotated_secret() -> None:
    """The second of two configured secrets verifies too (rotation)."""
    _verify(_header(SEED, secret=b"new-secret"), secrets=(SECRET, b"new-secret"))


def test_signature_forged() -> None:
    """A made-up digest is refused."""
    assert _reason({"oncehub-signature": f"t={int(NOW)},s={'ab' * 32}"}) == "signature does not match"


def test_signature_wrong_secret() -> None:
    """A digest made with another secret is refused."""
    assert _reason(_header(SEED, secret=b"someone-else")) == "signature does not match"


def test_signature_over_reencoded_json_fails() -> None:
    """A signature over re-encoded JSON does not verify the raw bytes."""
    reencoded = json.dumps(json.loads(SEED)).encode()
    assert _reason(_header(reencoded)) == "signature does not match"


def test_signature_missing_header() -> None:
    """No header is refused with a reason naming it."""
    assert _reason({}) == "missing oncehub-signature header"


@pytest.mark.parametrize(
    "value", ["", "garbage", "s=" + "ab" * 32, f"t={int(NOW)}", f"t=soon,s={'ab' * 32}", f"t=1,t=2,s={'ab' * 32}"]
)
def test_signature_malformed_header(value: str) -> None:
    """A header without exactly one numeric ``t=`` and a readable ``s=`` is refused as malformed."""
    assert _reason({"oncehub-signature": value}).startswith("malformed oncehub-signature header")


@pytest.mark.parametrize("skew", [-301, 301])
def test_signature_timestamp_outside_tolerance(skew: int) -> None:
    """A correctly signed timestamp more than 300 s in the past or future is refused."""
    headers = _header(SEED, timestamp=int(NOW) + skew)
    assert _reason(headers) == "timestamp outside the 300 s tolerance"


def test_signature_timestamp_at_the_tolerance_edge() -> None:
    """Exactly 300 s of drift is still accepted."""
    _verify(_header(SEED, timestamp=int(NOW) - 300))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def _seed_documents() -> list[dict[str, Any]]:
    folder = Path(CASES[0].body_path).parent
    names = ("seed_booking_scheduled", "variant_booking_completed_expanded", "variant_booking_requested")
    return [json.loads((folder / f"{name}.json").read_bytes()) for name in names]


@st.composite
def mutated_seeds(draw: st.DrawFn) -> Any:
    """A seed document with keys dropped or values swapped for arbitrary JSON, at top level or in data."""
    document = copy.deepcopy(draw(st.sampled_from(_seed_documents())))
    for target in (document, document["data"], document["data"]["form_submission"]):
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
@given(JSON_VALUES | mutated_seeds())
def test_any_json_maps_or_raises_adapter_error(document: Any) -> None:
    """Arbitrary JSON and mutated seeds yield a Mapped or an AdapterError, never another exception."""
    _maps_or_refuses(json.dumps(document).encode())


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_map_or_raise_adapter_error(body: bytes) -> None:
    """Arbitrary bytes yield a Mapped or an AdapterError, never another exception."""
    _maps_or_refuses(body)


def test_duration_past_year_9999_leaves_end_null_and_noted() -> None:
    """A duration that pushes the end out of range is noted, not taken for an unreadable start."""
    document = json.loads(_case("seed_booking_scheduled").body_path.read_bytes())
    document["data"]["duration_minutes"] = 10**12
    [change] = map_request(_request(json.dumps(document).encode())).changes
    assert change.data.booking.end is None
    assert "duration_minutes 1000000000000 puts the end out of range; end left null" in change.data.repairs
