"""Authenticating a sender: a shared token, HTTP Basic, or the vendor's own signature."""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping, Sequence

from adapters.base import SignatureError, SignatureScheme
from gateway.errors import AuthenticationError

__all__ = ["Authenticator", "BasicAuth", "NoAuth", "SignatureAuth", "TokenAuth"]


def _matches_any(candidate: bytes, secrets: Sequence[bytes]) -> bool:
    """Constant-time comparison against every secret, none skipped."""
    matched = False
    for secret in secrets:
        matched |= hmac.compare_digest(candidate, secret)
    return matched


class Authenticator:
    """Checks credentials before the body is read, and a signature after."""

    def before_body(self, headers: Mapping[str, str], query: Mapping[str, str]) -> None:
        """Raise AuthenticationError when the request's credentials are wrong."""

    def after_body(self, body: bytes, headers: Mapping[str, str], now: float) -> None:
        """Raise AuthenticationError when the body's signature is wrong."""


class NoAuth(Authenticator):
    """Accepts every request (for vendors behind a private network only)."""


class TokenAuth(Authenticator):
    """A shared token as ``Authorization: Bearer <token>`` or ``?token=<token>``."""

    def __init__(self, secrets: Sequence[str]) -> None:
        self._secrets = [secret.encode() for secret in secrets]

    def before_body(self, headers: Mapping[str, str], query: Mapping[str, str]) -> None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        candidate = token.strip() if scheme.lower() == "bearer" else query.get("token", "")
        if not candidate:
            raise AuthenticationError("no token: send Authorization: Bearer <token> or ?token=<token>")
        if not _matches_any(candidate.encode(), self._secrets):
            raise AuthenticationError("the token is not valid for this source")


class BasicAuth(Authenticator):
    """HTTP Basic credentials, compared as ``user:password``."""

    def __init__(self, secrets: Sequence[str]) -> None:
        self._secrets = [secret.encode() for secret in secrets]

    def before_body(self, headers: Mapping[str, str], query: Mapping[str, str]) -> None:
        scheme, _, encoded = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic" or not encoded:
            raise AuthenticationError("no Basic credentials", headers={"WWW-Authenticate": 'Basic realm="webhooks"'})
        try:
            candidate = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise AuthenticationError("Basic credentials are not base64") from None
        if not _matches_any(candidate, self._secrets):
            raise AuthenticationError("the Basic credentials are not valid for this source")


class SignatureAuth(Authenticator):
    """The vendor's own signature over the raw body, checked before anything parses it."""

    def __init__(self, scheme: SignatureScheme) -> None:
        self._scheme = scheme

    def after_body(self, body: bytes, headers: Mapping[str, str], now: float) -> None:
        try:
            self._scheme.verify(body, headers, now)
        except SignatureError as exc:
            raise AuthenticationError(f"signature rejected: {exc.reason}") from None
