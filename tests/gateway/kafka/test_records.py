"""The records' metadata: headers that could carry credentials or signatures are never archived."""

from __future__ import annotations

import pytest

from gateway.kafka.records import safe_headers

KEPT = {"content-type": "application/json", "user-agent": "vendor/1.0", "webhook-id": "msg_1", "x-request-id": "r1"}


@pytest.mark.parametrize(
    "name",
    [
        "authorization", "proxy-authorization", "cookie", "set-cookie",
        "x-some-signature", "oncehub-signature", "webhook-signature", "x-api-token", "x-webhook-secret",
        "x-api-key", "apikey", "x-password", "x-auth-user",
    ],
)
def test_credential_and_signature_headers_are_removed(name: str) -> None:
    """Credentials, signatures and anything named like a token, secret, key or password are dropped."""
    assert safe_headers({**KEPT, name: "secret-value"}) == KEPT


def test_ordinary_headers_are_kept_as_sent() -> None:
    """Headers that carry no credential are kept, names and values unchanged."""
    assert safe_headers(KEPT) == KEPT
    assert safe_headers({}) == {}
