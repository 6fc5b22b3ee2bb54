"""``notification_url``: a vendor that signs its URL needs it, byte for byte; no other source takes one."""

from __future__ import annotations

import re

import pytest

from gateway.config import ConfigError, parse_config
from gateway.flow.sources import build_sources, scheme_settings


def _source(provider: str, extra: str = "", auth: str = "hmac") -> str:
    return f'[[sources]]\nid = "s"\nprovider = "{provider}"\nauth = "{auth}"\nsecret = "k"\n{extra}'


def test_square_hmac_source_without_notification_url_is_refused() -> None:
    """Without the URL Square signs, nothing could verify: refused at start, naming the setting."""
    with pytest.raises(ConfigError) as raised:
        parse_config(_source("square"), "t.toml", {})
    assert raised.value.where == "t.toml: $.sources[0].notification_url"
    assert "public URL" in raised.value.problem


def test_the_url_is_kept_byte_for_byte_and_reaches_the_scheme() -> None:
    """Nothing normalizes it: a trailing slash or a port is what Square signs."""
    url = "https://Hooks.example.com:443/webhooks/square/?x=1"
    config = parse_config(_source("square", f'notification_url = "{url}"\n'), "t.toml", {})
    assert config.sources[0].notification_url == url
    assert scheme_settings(config.sources[0], {}).notification_url == url
    assert build_sources(config.sources, {})[("square", "s")].adapter.needs_notification_url


@pytest.mark.parametrize(("provider", "url", "problem"), [
    ("oncehub", "https://hooks.example.com/x", "does not sign its URL"),
    ("square", "hooks.example.com/x", "not an absolute http(s) URL"),
    ("square", " https://hooks.example.com/x", "not an absolute http(s) URL"),
])
def test_a_url_where_it_means_nothing_or_not_a_url_is_refused(provider: str, url: str, problem: str) -> None:
    """Set on a vendor that does not sign URLs, or not a URL: refused rather than silently ignored."""
    with pytest.raises(ConfigError, match=re.escape(problem)):
        parse_config(_source(provider, f'notification_url = "{url}"\n'), "t.toml", {})


def test_a_square_source_with_a_token_needs_no_url() -> None:
    """A token in the URL authenticates without Square's signature, so no signed URL is needed."""
    parse_config(_source("square", auth="token"), "t.toml", {})
