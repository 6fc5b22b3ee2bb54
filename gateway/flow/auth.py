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


_CHECKS = ("before_body", "after_body")


class Authenticator:
    """Checks credentials before the body is read, and a signature after.

    Fails closed: the base refuses at both steps, so every subclass states
    what it accepts at each (NoAuth included), and a subclass that misnames a
    check fails when its class is defined instead of accepting every request.
    """

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        missing = [name for name in _CHECKS if getattr(cls, name) is getattr(Authenticator, name)]
        if missing:
            raise TypeError(f"{cls.__name__} must state what it accepts in {' and '.join(missing)}")

    def before_body(self, headers: Mapping[str, str], query: Mapping[str, str]) -> None:
        """Raise AuthenticationError when the request's credentials are wrong; the base refuses every request."""
        raise AuthenticationError(f"{type(self).__name__} checks nothing before the body: refused")

    def after_body(self, body: bytes, headers: Mapping[str, str], now: float) -> None:
        """Raise AuthenticationError when the body's signature is wrong; the base refuses every request."""
        raise AuthenticationError(f"{type(self).__name__} checks nothing after the body: refused")

    def signed_id(self, headers: Mapping[str, str]) -> str | None:
        """The delivery id the checked signature covers (after ``after_body`` passed); None unless one is signed."""
        return None


class NoAuth(Authenticator):
    """Accepts every request (for vendors behind a private network only)."""

    def before_body(self, headers: Mapping[str, str], query: Mapping[str, str]) -> None:
        """Accepts: no credentials are asked for."""

    def after_body(self, body: bytes, headers: Mapping[str, str], now: float) -> None:
        """Accepts: no signature is asked for."""


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

    def after_body(self, body: bytes, headers: Mapping[str, str], now: float) -> None:
        """Accepts: the token, checked before the body, is the whole credential."""


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

    def after_body(self, body: bytes, headers: Mapping[str, str], now: float) -> None:
        """Accepts: the credentials, checked before the body, are the whole credential."""


class SignatureAuth(Authenticator):
    """The vendor's own signature over the raw body, checked before anything parses it."""

    def __init__(self, scheme: SignatureScheme) -> None:
        self._scheme = scheme

    def before_body(self, headers: Mapping[str, str], query: Mapping[str, str]) -> None:
        """Accepts for now: the signature covers the body, so it is checked in ``after_body``."""

    def after_body(self, body: bytes, headers: Mapping[str, str], now: float) -> None:
        try:
            self._scheme.verify(body, headers, now)
        except SignatureError as exc:
            raise AuthenticationError(f"signature rejected: {exc.reason}") from None

    def signed_id(self, headers: Mapping[str, str]) -> str | None:
        """The scheme's signed delivery id header (Standard Webhooks' ``webhook-id``), if it signs one."""
        header = self._scheme.signed_id_header
        return (headers.get(header, "").strip() or None) if header is not None else None
