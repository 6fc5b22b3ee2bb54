"""The CloudEvents envelope: a source URI for any configured source id."""

from __future__ import annotations

import msgspec
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from gateway.flow.envelope import source_uri
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
