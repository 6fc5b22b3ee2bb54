"""Standard Webhooks: the spec's known answer, rotation, tolerance both ways, raw bytes only, the whsec_ secret."""

from __future__ import annotations

import base64

import msgspec
import pytest

from adapters.base import SchemeSettings, SignatureError
from adapters.signatures.standard_webhooks import SecretFormatError, StandardWebhooks, decode_secret

# The known answer of the standard-webhooks Python library's tests (tests/test_webhooks.py, test_sign_function).
KAT_SECRET = b"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
KAT_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
KAT_TIMESTAMP = 1614265330
KAT_BODY = b'{"test": 2432232314}'
KAT_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
OTHER_SECRET = b"whsec_" + base64.b64encode(b"another key of 24 bytes!")
NOW = float(KAT_TIMESTAMP)


def _scheme(*secrets: bytes, tolerance_s: int = 300) -> StandardWebhooks:
    return StandardWebhooks()(SchemeSettings(secrets=secrets or (KAT_SECRET,), tolerance_s=tolerance_s))


def _headers(signature: str = KAT_SIGNATURE, message_id: str = KAT_ID, timestamp: int = KAT_TIMESTAMP) -> dict[str, str]:
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp), "webhook-signature": signature}


def test_known_answer_is_signed_and_verified() -> None:
    """The spec library's vector: the same signature computed, and accepted over the same bytes."""
    assert _scheme().signature(KAT_ID, KAT_TIMESTAMP, KAT_BODY) == KAT_SIGNATURE
    _scheme().verify(KAT_BODY, _headers(), NOW)


def test_sign_then_verify() -> None:
    """What ``sign`` sends (its own message id), ``verify`` accepts; the id is the signed one."""
    headers = _scheme().sign(KAT_BODY, NOW)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["webhook-signature"].startswith("v1,")
    _scheme().verify(KAT_BODY, headers, NOW)
    assert StandardWebhooks.signed_id_header == "webhook-id"


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        pytest.param(_headers("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="), "does not match", id="forged"),
        pytest.param(_headers(message_id="msg_other"), "does not match", id="id-changed"),
        pytest.param(_headers(timestamp=KAT_TIMESTAMP + 1), "does not match", id="timestamp-changed"),
        pytest.param(_headers("v2," + KAT_SIGNATURE[3:]), "no v1,<base64>", id="other-version-only"),
        pytest.param(_headers("v1," + "!" * 44), "no v1,<base64>", id="not-base64"),
        pytest.param(_headers("v1,AAAA"), "no v1,<base64>", id="short-digest"),
        pytest.param(_headers(message_id="msg.1"), "ambiguous", id="dot-in-id"),
        pytest.param({**_headers(), "webhook-timestamp": "soon"}, "not unix seconds", id="timestamp-not-a-number"),
        pytest.param({"webhook-timestamp": str(KAT_TIMESTAMP), "webhook-signature": KAT_SIGNATURE}, "missing webhook-id",
                     id="no-id"),
        pytest.param({"webhook-id": KAT_ID, "webhook-signature": KAT_SIGNATURE}, "missing webhook-timestamp",
                     id="no-timestamp"),
        pytest.param({"webhook-id": KAT_ID, "webhook-timestamp": str(KAT_TIMESTAMP)}, "missing webhook-signature",
                     id="no-signature"),
    ],
)
def test_forged_or_malformed_headers_are_refused(headers: dict[str, str], reason: str) -> None:
    """Each is a SignatureError whose reason says what is wrong."""
    with pytest.raises(SignatureError, match=reason):
        _scheme().verify(KAT_BODY, headers, NOW)


def test_wrong_secret_is_refused() -> None:
    """The known answer under another key does not match."""
    with pytest.raises(SignatureError, match="does not match"):
        _scheme(OTHER_SECRET).verify(KAT_BODY, _headers(), NOW)


def test_rotation_both_ways() -> None:
    """The sender's two signatures (space-separated, other versions among them) or the receiver's two keys."""
    other = StandardWebhooks()(SchemeSettings(secrets=(OTHER_SECRET,))).signature(KAT_ID, KAT_TIMESTAMP, KAT_BODY)
    sent = f"v1a,c2lnbmVk {other} v2,{KAT_SIGNATURE[3:]} {KAT_SIGNATURE}"
    _scheme().verify(KAT_BODY, _headers(sent), NOW)
    _scheme(OTHER_SECRET, KAT_SECRET).verify(KAT_BODY, _headers(), NOW)
    with pytest.raises(SignatureError, match="does not match"):
        _scheme(OTHER_SECRET).verify(KAT_BODY, _headers(f"{KAT_SIGNATURE} v1,{'A' * 43}="), NOW)


@pytest.mark.parametrize("offset", [-301, 301], ids=["stale", "future"])
def test_timestamps_beyond_the_tolerance_are_refused(offset: int) -> None:
    """Older or newer than ``tolerance_s`` (300 by default): refused; at the bound, accepted."""
    with pytest.raises(SignatureError, match="outside the 300 s tolerance"):
        _scheme().verify(KAT_BODY, _headers(), NOW - offset)
    _scheme().verify(KAT_BODY, _headers(), NOW - offset + (1 if offset > 0 else -1))


def test_the_tolerance_is_the_sources_setting() -> None:
    """``signature_tolerance_s`` reaches the scheme."""
    with pytest.raises(SignatureError, match="outside the 10 s tolerance"):
        _scheme(tolerance_s=10).verify(KAT_BODY, _headers(), NOW + 11)


def test_reencoded_json_is_refused() -> None:
    """Only the raw bytes verify: the same JSON re-encoded (no space after the colon) does not."""
    reencoded = msgspec.json.encode(msgspec.json.decode(KAT_BODY))
    assert reencoded != KAT_BODY
    with pytest.raises(SignatureError, match="does not match"):
        _scheme().verify(reencoded, _headers(), NOW)


def test_secret_is_whsec_base64() -> None:
    """``whsec_<base64>`` gives the decoded key (padding optional); a raw key or bad base64 is refused."""
    assert decode_secret("whsec_" + base64.b64encode(b"key").decode()) == b"key"
    assert decode_secret("whsec_a2V5") == b"key"
    for bad, reason in (("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "starts with 'whsec_'"),
                        ("whsec_not base64!", "not base64"), ("whsec_", "empty")):
        with pytest.raises(SecretFormatError, match=reason):
            decode_secret(bad)
