"""Redaction of archived header values: credentials in URLs and queries, the source's own secrets, in linear time."""

from __future__ import annotations

import time

import pytest

from gateway.kafka.records import safe_headers
from gateway.kafka.redaction import REDACTED, redact

PROXY_HEADERS = ("x-forwarded-uri", "x-original-uri", "x-envoy-original-path", "referer", "x-rewrite-url",
                 "x-original-url", "x-anything-a-proxy-invents")
SECRET = "s3cr3t-T0ken-value"


@pytest.mark.parametrize("name", PROXY_HEADERS)
def test_a_token_in_any_url_header_is_redacted(name: str) -> None:
    """The URL a proxy copies into a header keeps its path and harmless parameters, not the token."""
    value = f"/webhooks/picktime?page=2&token={SECRET}&x=1"
    assert safe_headers({name: value}) == {name: f"/webhooks/picktime?page=2&token={REDACTED}&x=1"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("https://gw.example/webhooks/p?access_token=abc#x", f"https://gw.example/webhooks/p?access_token={REDACTED}#x",
                     id="access_token"),
        pytest.param("/p?X-Amz-Signature=abc&X-Amz-Credential=k%2F1", f"/p?X-Amz-Signature={REDACTED}&X-Amz-Credential={REDACTED}",
                     id="presigned"),
        pytest.param("/p?api_key=a;password=b", f"/p?api_key={REDACTED};password={REDACTED}", id="semicolons"),
        pytest.param("/cb#id_token=abc&state=1", f"/cb#id_token={REDACTED}&state=1", id="fragment"),
        pytest.param("token=abc==", f"token={REDACTED}", id="bare-base64"),
        pytest.param("/p?token=ab?cd=e&x=1", f"/p?token={REDACTED}&x=1", id="value-with-query-marks"),
        pytest.param("next=token=abc&x=1", f"next=token={REDACTED}&x=1", id="nested-pair"),
        pytest.param("https://user:pa55@host.example/p", f"https://{REDACTED}@host.example/p", id="userinfo"),
        pytest.param("https://tok3n@host.example/p", f"https://{REDACTED}@host.example/p", id="token-as-user"),
        pytest.param("/p?next=https%3A%2F%2Fx%2Fy%3Ftoken%3Dabc", f"/p?next=https://x/y?token={REDACTED}",
                     id="percent-encoded"),
        pytest.param("/p?next=https%253A%252F%252Fx%253Ftoken%253Dabc", f"/p?next=https://x?token={REDACTED}",
                     id="encoded-twice"),
    ],
)
def test_credentials_are_found_in_every_url_shape(value: str, expected: str) -> None:
    """Parameters named like credentials (any case, ``_`` or ``-``), userinfo, encoded URLs inside URLs."""
    assert redact(value) == expected


@pytest.mark.parametrize(
    "value",
    ["application/json; charset=utf-8", "vendor/1.0 (+https://vendor.example/bot)", "mailto:ops@vendor.example",
     "/webhooks/picktime?page=2&sort=asc", "gzip, deflate", "100%", "for=192.0.2.1;proto=https"],
)
def test_values_without_credentials_are_kept_as_sent(value: str) -> None:
    """Nothing to redact: the value is unchanged, byte for byte."""
    assert redact(value) == value


def test_the_sources_own_secrets_are_redacted_anywhere() -> None:
    """A configured secret is found in any header, in any position, under any parameter name or none."""
    headers = {"x-debug": f"called with {SECRET} by mistake", "x-forwarded-uri": f"/p?t={SECRET}",
               "x-trace": f"{SECRET}{SECRET}", "user-agent": "vendor/1.0"}
    assert safe_headers(headers, (SECRET,)) == {
        "x-debug": f"called with {REDACTED} by mistake", "x-forwarded-uri": f"/p?t={REDACTED}",
        "x-trace": REDACTED + REDACTED, "user-agent": "vendor/1.0",
    }


def test_a_percent_encoded_secret_is_redacted() -> None:
    """A secret holding characters a URL escapes is found in its encoded form too."""
    assert redact("/p?x=a%2Bb%40c", ("a+b@c",)) == f"/p?x={REDACTED}"


@pytest.mark.parametrize(
    "value",
    ["?" + "key" * 100_000, "&" * 300_000, "a=" * 150_000, "//" + "a" * 300_000, "//a@" * 75_000,
     "%25" * 100_000, "?token" + "=" * 300_000, " x" * 150_000],
    ids=["long-name", "delimiters", "pairs", "long-userinfo", "many-userinfos", "percent", "equals", "spaces"],
)
def test_hostile_values_take_linear_time(value: str) -> None:
    """300 kB of the worst shapes a sender can pick is redacted in well under a second (quadratic would take minutes)."""
    started = time.perf_counter()
    redact(value, (SECRET, "other-secret"))
    assert time.perf_counter() - started < 1.0
