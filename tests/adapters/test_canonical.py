"""The canonical passthrough: an event published as sent, but for where it came from; anything else refused."""

from __future__ import annotations

import json

import msgspec
import pytest

from adapters.base import AdapterError, SourceContext, VerifiedRequest
from adapters.canonical import ADAPTER, map_request
from gateway.flow.envelope import build_events, delivery_key
from tests.adapters.golden import RECEIVED_AT, golden_cases

CASES = golden_cases("canonical")
SEED = next(case for case in CASES if case.name.startswith("seed_")).body_path.read_bytes()


def _request(body: bytes, source_id: str = "front-desk") -> VerifiedRequest:
    return VerifiedRequest(body=body, headers={}, source=SourceContext(id=source_id, provider="canonical"),
                           received_at=RECEIVED_AT)


def test_id_type_subject_time_and_data_are_published_as_sent() -> None:
    """Only source and provider change: they name the gateway's source and the canonical provider."""
    request = _request(SEED)
    mapped = map_request(request)
    [event] = build_events(request, mapped, delivery_key(request, mapped))
    sent, published = json.loads(SEED), msgspec.to_builtins(event)
    for attribute in ("id", "type", "subject", "time", "data", "specversion", "dataschema", "datacontenttype"):
        assert published[attribute] == sent[attribute], attribute
    assert (published["source"], published["provider"]) == ("/sources/front-desk", "canonical")
    assert mapped.delivery_key == sent["id"]


def test_an_invalid_event_names_its_first_error() -> None:
    """The error is msgspec's, with the JSON path of the first problem."""
    document = json.loads(SEED)
    document["data"]["booking"]["status"] = "maybe"
    document["data"]["booking"]["kind"] = "party"
    with pytest.raises(AdapterError) as raised:
        map_request(_request(json.dumps(document).encode()))
    assert raised.value.reason == "invalid-payload"
    assert raised.value.detail == "Invalid enum value 'party' - at `$.data.booking.kind`"


def test_nothing_is_repaired() -> None:
    """A business's own system sends valid JSON: a trailing comma is refused, not mended."""
    with pytest.raises(AdapterError) as raised:
        map_request(_request(SEED.rstrip().rstrip(b"}") + b",}"))
    assert raised.value.reason == "malformed-json" and raised.value.position is not None


def test_registered_without_a_signature_of_its_own() -> None:
    """The source picks token or basic (or another scheme any source may choose)."""
    assert ADAPTER.signature is None and ADAPTER.default_auth == "token"
