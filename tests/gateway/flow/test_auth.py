"""Authenticating a sender: token, Basic and signature auth, each with a rotated (second) secret."""

from __future__ import annotations

import base64
from collections.abc import Mapping

import pytest

from adapters.base import SchemeSettings
from adapters.oncehub import OncehubSignature
from adapters.signatures import StandardWebhooks
from gateway.errors import AuthenticationError
from gateway.flow.auth import Authenticator, BasicAuth, NoAuth, SignatureAuth, TokenAuth

NOW = 1_760_000_000.0
BODY = b'{"booking": 1}'
NO_QUERY: dict[str, str] = {}


def _basic(credentials: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}


def _signed(secret: bytes, body: bytes = BODY, now: float = NOW) -> dict[str, str]:
    scheme = OncehubSignature(SchemeSettings(secrets=(secret,), tolerance_s=300))
    return {name.lower(): value for name, value in scheme.sign(body, now).items()}


@pytest.mark.parametrize(
    ("headers", "query"),
    [
        pytest.param({"authorization": "Bearer current"}, NO_QUERY, id="bearer"),
        pytest.param({"authorization": "bearer  previous "}, NO_QUERY, id="bearer-rotated-secret"),
        pytest.param({}, {"token": "current"}, id="query"),
        pytest.param({}, {"token": "previous"}, id="query-rotated-secret"),
    ],
)
def test_token_auth_accepts_any_configured_secret(headers: dict[str, str], query: dict[str, str]) -> None:
    """A token matching the current or the previous secret passes, in the header or the query."""
    TokenAuth(["current", "previous"]).before_body(headers, query)


@pytest.mark.parametrize(
    ("headers", "query", "detail"),
    [
        pytest.param({}, NO_QUERY, "no token", id="missing"),
        pytest.param({"authorization": "Bearer "}, NO_QUERY, "no token", id="empty-bearer"),
        pytest.param({"authorization": "Bearer wrong"}, NO_QUERY, "not valid", id="wrong-bearer"),
        pytest.param({}, {"token": "wrong"}, "not valid", id="wrong-query"),
        pytest.param({"authorization": "Basic current"}, NO_QUERY, "no token", id="other-scheme"),
        pytest.param({}, {"token": "retired"}, "not valid", id="retired-secret"),
    ],
)
def test_token_auth_refuses_a_missing_or_wrong_token(headers: dict[str, str], query: dict[str, str], detail: str) -> None:
    """A missing, empty or unknown token is a 401 saying which."""
    with pytest.raises(AuthenticationError, match=detail) as caught:
        TokenAuth(["current", "previous"]).before_body(headers, query)
    assert caught.value.status_code == 401 and caught.value.problem == "unauthenticated"


@pytest.mark.parametrize("credentials", ["user:current", "user:previous"], ids=["current", "rotated-secret"])
def test_basic_auth_accepts_any_configured_secret(credentials: str) -> None:
    """``user:password`` matching either configured pair passes."""
    BasicAuth(["user:current", "user:previous"]).before_body(_basic(credentials), NO_QUERY)


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        pytest.param({}, "no Basic credentials", id="missing"),
        pytest.param({"authorization": "Bearer user:current"}, "no Basic credentials", id="other-scheme"),
        pytest.param({"authorization": "Basic !!!"}, "not base64", id="not-base64"),
        pytest.param(_basic("user:wrong"), "not valid", id="wrong-password"),
        pytest.param(_basic("other:current"), "not valid", id="wrong-user"),
    ],
)
def test_basic_auth_refuses_missing_or_wrong_credentials(headers: dict[str, str], detail: str) -> None:
    """Missing, undecodable or unknown credentials are a 401."""
    with pytest.raises(AuthenticationError, match=detail):
        BasicAuth(["user:current", "user:previous"]).before_body(headers, NO_QUERY)


def test_basic_auth_challenge_names_the_scheme() -> None:
    """Without credentials the 401 carries a Basic challenge."""
    with pytest.raises(AuthenticationError) as caught:
        BasicAuth(["user:current"]).before_body({}, NO_QUERY)
    assert caught.value.headers == {"WWW-Authenticate": 'Basic realm="webhooks"'}


@pytest.mark.parametrize("secret", [b"current", b"previous"], ids=["current", "rotated-secret"])
def test_signature_auth_accepts_a_body_signed_with_any_secret(secret: bytes) -> None:
    """A body signed with the current or the previous secret passes, and nothing is checked before the body."""
    auth = SignatureAuth(OncehubSignature(SchemeSettings(secrets=(b"current", b"previous"), tolerance_s=300)))
    auth.before_body({}, NO_QUERY)
    auth.after_body(BODY, _signed(secret), NOW)


@pytest.mark.parametrize(
    ("body", "headers", "detail"),
    [
        pytest.param(BODY, {}, "missing", id="missing"),
        pytest.param(BODY, _signed(b"wrong"), "does not match", id="wrong-secret"),
        pytest.param(b'{"booking": 2}', _signed(b"current"), "does not match", id="body-changed"),
        pytest.param(BODY, _signed(b"current", now=NOW - 3600), "tolerance", id="stale"),
    ],
)
def test_signature_auth_refuses_a_missing_wrong_or_stale_signature(
    body: bytes, headers: dict[str, str], detail: str
) -> None:
    """The scheme's SignatureError becomes a 401 that keeps its reason."""
    auth = SignatureAuth(OncehubSignature(SchemeSettings(secrets=(b"current", b"previous"), tolerance_s=300)))
    with pytest.raises(AuthenticationError, match=f"signature rejected: .*{detail}"):
        auth.after_body(body, headers, NOW)


def test_no_auth_accepts_everything() -> None:
    """NoAuth checks nothing before or after the body, and says so in its own methods."""
    NoAuth().before_body({}, NO_QUERY)
    NoAuth().after_body(BODY, {}, NOW)
    assert "before_body" in vars(NoAuth) and "after_body" in vars(NoAuth)


def test_the_base_authenticator_refuses_at_both_steps() -> None:
    """The base fails closed: before and after the body, a 401 naming the class."""
    with pytest.raises(AuthenticationError, match="Authenticator checks nothing before the body") as caught:
        Authenticator().before_body({}, NO_QUERY)
    assert caught.value.status_code == 401
    with pytest.raises(AuthenticationError, match="Authenticator checks nothing after the body"):
        Authenticator().after_body(BODY, {}, NOW)


def test_a_subclass_that_misnames_a_check_fails_when_defined() -> None:
    """A typo in a check's name is a TypeError at class definition, not an authenticator that accepts all."""
    with pytest.raises(TypeError, match="Typo must state what it accepts in after_body"):
        class Typo(Authenticator):
            def before_body(self, headers: Mapping[str, str], query: Mapping[str, str]) -> None:
                """Accepts."""

            def after_bdy(self, body: bytes, headers: Mapping[str, str], now: float) -> None:
                """Misnamed: would accept every body if the base did."""


def test_every_authenticator_states_both_checks() -> None:
    """Each concrete authenticator defines both checks itself (a subclass of one inherits them, which is fine)."""
    for auth in (NoAuth, TokenAuth, BasicAuth, SignatureAuth):
        assert {"before_body", "after_body"} <= set(vars(auth)), auth


def test_only_a_scheme_that_signs_an_id_yields_one() -> None:
    """signed_id is the scheme's signed header (Standard Webhooks' webhook-id); None for every other authenticator."""
    headers = {"webhook-id": "msg_1", "x-webhook-delivery-id": "dlv_1"}
    keyed = StandardWebhooks()(SchemeSettings(secrets=(b"whsec_" + base64.b64encode(b"k" * 24),)))
    assert SignatureAuth(keyed).signed_id(headers) == "msg_1"
    assert SignatureAuth(OncehubSignature(SchemeSettings(secrets=(b"k",)))).signed_id(headers) is None
    for auth in (NoAuth(), TokenAuth(["t"]), BasicAuth(["u:p"])):
        assert auth.signed_id(headers) is None
