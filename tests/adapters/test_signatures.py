"""Signature schemes apart from vendors: the registry by name, sign and verify agreeing, rotation, tolerance."""

from __future__ import annotations

import base64

import pytest

from adapters import ADAPTERS
from adapters.base import SchemeSettings, SignatureError
from adapters.signatures import (
    SCHEMES,
    HeaderTimestampHmac,
    HexHmac,
    HmacScheme,
    StandardWebhooks,
    TimestampedHmac,
    UrlHmac,
)

NOW = 1_700_000_000.0
BODY = b'{"id": "b-1"}'
CONFIGURED: dict[str, HmacScheme] = {
    "hex-hmac": HexHmac(header="x-sig", prefix="sha256="),
    "timestamped-hmac": TimestampedHmac(header="x-sig"),
    "url-hmac": UrlHmac(header="x-sig"),
    "header-timestamp-hmac": HeaderTimestampHmac(header="x-sig", timestamp_header="x-sig-timestamp"),
    "standard-webhooks": StandardWebhooks(),
}
URL = "https://hooks.example.com/square"


def _keyed(name: str, secrets: tuple[bytes, ...], tolerance_s: int = 300) -> HmacScheme:
    """The scheme keyed with these secrets as configured (``whsec_<base64>``); the URL for schemes that sign one."""
    if name == "standard-webhooks":
        secrets = tuple(b"whsec_" + base64.b64encode(secret) for secret in secrets)
    return CONFIGURED[name](SchemeSettings(secrets=secrets, tolerance_s=tolerance_s, notification_url=URL))


def test_registry_names_every_scheme_once() -> None:
    """SCHEMES maps each scheme's name to its class, and a test case covers each."""
    assert {name: scheme.name for name, scheme in SCHEMES.items()} == {name: name for name in SCHEMES}
    assert set(CONFIGURED) == set(SCHEMES)
    assert all(isinstance(CONFIGURED[name], SCHEMES[name]) for name in SCHEMES)


def test_every_signing_vendor_names_a_registered_scheme() -> None:
    """An adapter's signature is a registered scheme with the vendor's settings, not code of its own."""
    signing = {name: adapter.signature for name, adapter in ADAPTERS.items() if adapter.signature is not None}
    assert signing
    for scheme in signing.values():
        assert isinstance(scheme, HmacScheme) and SCHEMES[scheme.name] is type(scheme)


@pytest.mark.parametrize("name", sorted(CONFIGURED))
def test_sign_then_verify_under_any_rotated_secret(name: str) -> None:
    """What ``sign`` sends with either of two secrets, ``verify`` with both accepts."""
    for secrets in ((b"new", b"old"), (b"old", b"new")):
        headers = _keyed(name, secrets[:1]).sign(BODY, NOW)
        _keyed(name, (b"old", b"new")).verify(BODY, headers, NOW)


@pytest.mark.parametrize("name", sorted(CONFIGURED))
def test_verify_refuses_another_secret_or_body(name: str) -> None:
    """A digest under a secret not configured, or over other bytes, does not match."""
    headers = _keyed(name, (b"other",)).sign(BODY, NOW)
    with pytest.raises(SignatureError, match="signature does not match"):
        _keyed(name, (b"mine",)).verify(BODY, headers, NOW)
    with pytest.raises(SignatureError, match="signature does not match"):
        _keyed(name, (b"other",)).verify(BODY + b" ", headers, NOW)


def test_hex_prefix_is_read_in_any_case() -> None:
    """A configured prefix is dropped however it is cased; without one configured it is malformed."""
    key = SchemeSettings(secrets=(b"k",), tolerance_s=0)
    digest = HexHmac(header="x-sig")(key).sign(BODY, NOW)["x-sig"]
    HexHmac(header="x-sig", prefix="sha256=")(key).verify(BODY, {"x-sig": "SHA256=" + digest}, NOW)
    with pytest.raises(SignatureError, match="malformed x-sig header: not a hex SHA-256 digest"):
        HexHmac(header="x-sig")(key).verify(BODY, {"x-sig": "sha256=" + digest}, NOW)


def test_timestamped_keys_and_tolerance_are_settings() -> None:
    """Other key names are signed and read; a timestamp beyond ``tolerance_s`` is refused."""
    scheme = TimestampedHmac(header="x-sig", timestamp_key="ts", signature_key="v1")(
        SchemeSettings(secrets=(b"k",), tolerance_s=60))
    headers = scheme.sign(BODY, NOW)
    assert headers["x-sig"].startswith(f"ts={int(NOW)},v1=")
    scheme.verify(BODY, headers, NOW + 60)
    with pytest.raises(SignatureError, match="timestamp outside the 60 s tolerance"):
        scheme.verify(BODY, headers, NOW + 61)


def test_hex_unsigned_marker_is_refused_by_name() -> None:
    """A vendor's no-secret literal (``unsigned``) is refused saying so, not as a malformed digest."""
    scheme = HexHmac(header="x-sig", unsigned="no-secret-provided")(SchemeSettings(secrets=(b"k",)))
    with pytest.raises(SignatureError, match="'no-secret-provided': the webhook has no secret at the vendor"):
        scheme.verify(BODY, {"x-sig": "no-secret-provided"}, NOW)
    scheme.verify(BODY, scheme.sign(BODY, NOW), NOW)
