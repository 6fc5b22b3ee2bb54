"""Every registered adapter keeps its contract on any body: a Mapped or an AdapterError, a reply or None."""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters import ADAPTERS
from adapters.base import AdapterError, Mapped, SourceContext, VerifiedRequest
from tests.adapters.golden import RECEIVED_AT, golden_cases

VENDORS = sorted(ADAPTERS)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@functools.cache
def _documents(vendor: str) -> list[Any]:
    """The vendor's cases that are valid JSON, decoded."""
    documents = []
    for case in golden_cases(vendor):
        try:
            documents.append(json.loads(case.body_path.read_bytes()))
        except ValueError:
            continue
    return documents


@st.composite
def mutated_cases(draw: st.DrawFn, vendor: str) -> bytes:
    """A case of the vendor's with one top-level or nested value replaced by any JSON value."""
    document: Any = copy.deepcopy(draw(st.sampled_from(_documents(vendor))))
    node = document
    while isinstance(node, dict) and node and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(node)))
        if not isinstance(node[key], dict) or not draw(st.booleans()):
            node[key] = draw(JSON_VALUES)
            break
        node = node[key]
    return json.dumps(document).encode()


def _keeps_the_contract(vendor: str, body: bytes) -> None:
    adapter = ADAPTERS[vendor]
    request = VerifiedRequest(body=body, headers={}, source=SourceContext(id=vendor, provider=vendor),
                              received_at=RECEIVED_AT)
    try:
        assert isinstance(adapter.map(request), Mapped)
    except AdapterError:
        pass
    if adapter.reply is not None:
        adapter.reply(request, b"secret")  # None or a reply; never an exception


@pytest.mark.parametrize("vendor", VENDORS)
def test_any_body_maps_or_is_refused(vendor: str) -> None:
    """Mutated cases, any JSON and any bytes: never an exception outside the adapter's contract."""

    @settings(max_examples=60, deadline=None, derandomize=True, database=None)
    @given(st.one_of(mutated_cases(vendor), JSON_VALUES.map(lambda value: json.dumps(value).encode()),
                     st.binary(max_size=200)))
    def check(body: bytes) -> None:
        _keeps_the_contract(vendor, body)

    check()
