"""The running sources: a vendor's reply is keyed with the source's own vendor secret, and only then offered."""

from __future__ import annotations

import hashlib
import hmac
import json

from adapters.base import SourceContext, VerifiedRequest
from gateway.config import parse_config
from gateway.flow.sources import build_sources

CHALLENGE = b'{"event": "endpoint.url_validation", "payload": {"plainToken": "p-1"}, "event_ts": 1}'


def test_zoom_reply_uses_the_first_of_the_rotated_secrets() -> None:
    """While rotating, the first listed Secret Token keys the answer."""
    source = build_sources(parse_config('[[sources]]\nid = "zoom"\nprovider = "zoom"\nauth = "hmac"\n'
                                        'secrets = ["new", "old"]\n', "t.toml", {}).sources, {})[("zoom", "zoom")]
    assert source.reply is not None
    request = VerifiedRequest(body=CHALLENGE, headers={}, source=SourceContext(id="zoom", provider="zoom"),
                              received_at="2026-01-01T00:00:00Z")
    answer = source.reply(request)
    assert answer is not None
    assert json.loads(answer.body)["encryptedToken"] == hmac.new(b"new", b"p-1", hashlib.sha256).hexdigest()


def test_a_token_source_offers_no_reply() -> None:
    """A token is not Zoom's Secret Token: an answer keyed with it would be wrong, so none is given."""
    source = build_sources(parse_config('[[sources]]\nid = "zoom"\nprovider = "zoom"\nauth = "token"\n'
                                        'secret = "t"\n', "t.toml", {}).sources, {})[("zoom", "zoom")]
    assert source.reply is None
