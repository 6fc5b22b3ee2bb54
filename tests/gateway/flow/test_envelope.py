"""The CloudEvents envelope: a source URI for any configured source id; delivery keys only from what auth covers."""

from __future__ import annotations

import hashlib

import msgspec
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from adapters.base import Mapped, SourceContext, VerifiedRequest
from gateway.flow.envelope import delivery_key, source_uri, unsigned_delivery_id
from schemas.canonical import UriReference

SOURCE_IDS = st.text(st.characters(codec="utf-8"), min_size=1)  # what a TOML file can hold


def test_plain_source_id_is_kept_readable() -> None:
    """An id of letters, digits and dashes is the last path segment as written."""
    assert source_uri("picktime-main") == "/sources/picktime-main"


def test_source_id_with_spaces_is_percent_encoded() -> None:
    """A space (allowed in a configured id) would make no URI reference: it is escaped."""
    assert source_uri("main site") == "/sources/main%20site"


@given(SOURCE_IDS)
def test_any_source_id_makes_a_uri_reference(source_id: str) -> None:
    """Whatever the id, ``source`` passes the Struct's pattern and the schema's uri-reference format."""
    uri = source_uri(source_id)
    assert msgspec.convert(uri, UriReference) == uri
    assert Draft202012Validator.FORMAT_CHECKER.conforms(uri, "uri-reference")


def _request(headers: dict[str, str], signed_id: str | None = None) -> VerifiedRequest:
    return VerifiedRequest(body=BODY, headers=headers, source=SourceContext(id="s", provider="timekit"),
                           received_at="2026-01-02T03:04:05Z", signed_id=signed_id)


BODY = b'{"id": 1}'
DIGEST = "sha256:" + hashlib.sha256(BODY).hexdigest()


def test_the_body_id_comes_first() -> None:
    """The vendor's own id from the body keys the delivery, before a signed id."""
    assert delivery_key(_request({}, signed_id="msg_1"), Mapped(changes=[], delivery_key="EVNT-1")) == "EVNT-1"


def test_a_signed_id_comes_before_the_body_digest() -> None:
    """Without a body id, the id the signature covers keys the delivery, mapped or dead-lettered."""
    assert delivery_key(_request({}, signed_id="msg_1"), Mapped(changes=[])) == "msg_1"
    assert delivery_key(_request({}, signed_id="msg_1"), None) == "msg_1"


def test_unsigned_id_headers_never_key_a_delivery() -> None:
    """A webhook-id or vendor delivery header no signature covers leaves the key at the body's digest."""
    headers = {"webhook-id": "msg_new", "x-webhook-delivery-id": "dlv_new"}
    assert delivery_key(_request(headers), Mapped(changes=[])) == DIGEST
    assert delivery_key(_request(headers), None) == DIGEST


def test_the_unsigned_header_id_is_kept_for_the_archive() -> None:
    """The vendor's declared header, else webhook-id; not when it is the signed id that keyed the delivery."""
    headers = {"webhook-id": "msg_1", "x-webhook-delivery-id": " dlv_1 "}
    assert unsigned_delivery_id(headers, "x-webhook-delivery-id", None) == "dlv_1"
    assert unsigned_delivery_id(headers, None, None) == "msg_1"
    assert unsigned_delivery_id(headers, None, "msg_1") is None
    assert unsigned_delivery_id({}, "x-webhook-delivery-id", None) is None
