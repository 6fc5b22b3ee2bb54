"""The canonical schema: the committed JSON Schema matches the Structs, and the contract's closed sets."""

from __future__ import annotations

import msgspec
import pytest

from schemas.canonical import EVENT_TYPES, Booking, CloudEvent
from schemas.jsonschema import SCHEMA_PATH, render


def test_committed_json_schema_is_current() -> None:
    """schemas/canonical-event.schema.json is what the Structs generate (run python -m schemas.jsonschema)."""
    assert SCHEMA_PATH.read_bytes() == render()


def test_event_types_are_the_contracts_closed_set() -> None:
    """Exactly the fifteen canonical types of contract version 1."""
    assert len(EVENT_TYPES) == 15
    assert {"booking.created", "attendee.removed", "payment.refunded"} <= set(EVENT_TYPES)


def test_unknown_type_is_refused_on_decode() -> None:
    """A consumer decoding with the Structs refuses types outside the closed set, naming the path."""
    event = {"specversion": "1.0", "id": "1", "source": "/sources/x", "type": "booking.exploded", "subject": "x:1",
             "time": "2024-01-01T00:00:00Z", "dataschema": "urn:d", "provider": "x", "receivedat": "2024-01-01T00:00:00Z",
             "data": {"provider": "x", "provider_event": "e",
                      "booking": {"id": "x:1", "provider_id": "1", "kind": "meeting", "status": None}}}
    with pytest.raises(msgspec.ValidationError, match=r"\$.type"):
        msgspec.convert(event, CloudEvent)


def test_unsent_values_encode_as_null_or_empty() -> None:
    """A booking with only its identity encodes every other field as null, [] or false."""
    encoded = msgspec.json.decode(msgspec.json.encode(Booking(id="x:1", provider_id="1", kind="class", status=None)))
    assert encoded["customer"] is None and encoded["services"] == [] and encoded["all_day"] is False
    assert encoded["links"] == {"cancel": None, "reschedule": None, "manage": None}
