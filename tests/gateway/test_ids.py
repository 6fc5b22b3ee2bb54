"""Deterministic ids: the fast UUIDv5 equals the standard library's."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from gateway.ids import Uuid5Namespace


@given(st.uuids(), st.text())
def test_namespace_text_matches_the_standard_library(namespace: uuid.UUID, name: str) -> None:
    """A Uuid5Namespace gives str(uuid.uuid5(...)), however many names it has hashed before."""
    ids = Uuid5Namespace(namespace)
    assert ids.text(name) == str(uuid.uuid5(namespace, name))
    assert ids.text(name + "x") == str(uuid.uuid5(namespace, name + "x"))
