"""The ``canonical`` provider: a business's own system publishes canonical events through the gateway, as sent."""

from __future__ import annotations

import re
from datetime import datetime

import msgspec

from adapters.base import Adapter, AdapterError, Change, Mapped, VerifiedRequest
from schemas.canonical import DATASCHEMA
from schemas.passthrough import SentEvent

__all__ = ["ADAPTER", "NAME", "map_request"]

NAME = "canonical"
_DECODER = msgspec.json.Decoder(SentEvent)
_BYTE_POSITION = re.compile(r"\(byte (\d+)\)")


def map_request(request: VerifiedRequest) -> Mapped:
    """The one event the body is, checked against the contract; nothing is repaired."""
    event = _decode(request.body)
    if event.dataschema is not None and event.dataschema != DATASCHEMA:
        raise AdapterError("invalid-payload", f"Expected `{DATASCHEMA}` (this gateway's schema) - at `$.dataschema`")
    if event.time is not None and not _is_calendar_time(event.time):
        raise AdapterError("invalid-payload", f"Expected an RFC 3339 date-time, got {event.time!r} - at `$.time`")
    if event.subject != event.data.booking.id:
        raise AdapterError("invalid-payload", "Expected the subject to be `data.booking.id` "
                                              f"({event.data.booking.id!r}) - at `$.subject`")
    change = Change(type=event.type, data=event.data, time=event.time, id=event.id)
    return Mapped(changes=[change], delivery_key=event.id)


def _is_calendar_time(text: str) -> bool:
    """The Timestamp pattern checks the shape; this checks the calendar (no 2026-02-30), as the schema's format does."""
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _decode(body: bytes) -> SentEvent:
    try:
        return _DECODER.decode(body)
    except msgspec.ValidationError as exc:
        raise AdapterError("invalid-payload", str(exc)) from None
    except msgspec.DecodeError as exc:
        found = _BYTE_POSITION.search(str(exc))
        raise AdapterError("malformed-json", str(exc), position=int(found.group(1)) if found else None) from None
    except RecursionError:
        raise AdapterError("malformed-json", "the document is nested too deeply") from None
    except UnicodeDecodeError as exc:
        raise AdapterError("malformed-json", f"a string is not UTF-8: {exc.reason} at byte {exc.start}",
                           position=exc.start) from None


ADAPTER = Adapter(name=NAME, map=map_request)
