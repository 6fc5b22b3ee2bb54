"""Picktime: service, class and resource bookings, and class participants."""

from __future__ import annotations

from typing import Any

import msgspec

from adapters._amount import decimal_amount
from adapters._decode import decode_payload, parse_embedded_json
from adapters._fields import field_value
from adapters.base import Adapter, AdapterError, Change, Mapped, VerifiedRequest
from adapters.times import UnreadableTime, from_compact_utc, from_epoch_seconds
from schemas.canonical import (
    Attendee,
    Booking,
    BookingKind,
    BookingStatus,
    Capacity,
    Customer,
    CustomField,
    EventData,
    EventType,
    Links,
    Location,
    Price,
)
from schemas.picktime import PicktimeBooking, PicktimeEnvelope

__all__ = ["ADAPTER", "NAME", "map_request"]

NAME = "picktime"
_ENVELOPE = msgspec.json.Decoder(PicktimeEnvelope)

_KINDS: dict[str, BookingKind] = {"appointment": "appointment", "class": "class", "resource": "resource"}
_BOOKING_TYPES: dict[str, EventType] = {
    "CREATE": "booking.created",
    "UPDATE": "booking.updated",
    "DELETE": "booking.cancelled",
}
_ATTENDEE_TYPES: dict[str, EventType] = {
    "CREATE": "attendee.added",
    "UPDATE": "booking.updated",
    "DELETE": "attendee.removed",
}
_STATUSES: dict[str, BookingStatus] = {
    "new": "confirmed",
    "confirmed": "confirmed",
    "approved": "confirmed",
    "rescheduled": "confirmed",
    "pending": "pending",
    "waiting": "pending",
    "waitlist": "pending",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "rejected": "declined",
    "declined": "declined",
    "completed": "completed",
    "checked_out": "completed",
    "no_show": "no_show",
    "noshow": "no_show",
}
# Epoch seconds stay below this until the year 5138; larger values are another layout.
_EPOCH_SECONDS_LIMIT = 10**11
_ENVELOPE_KEYS = ("status", "type")


def map_request(request: VerifiedRequest) -> Mapped:
    """Map one Picktime webhook to canonical changes."""
    repairs: list[str] = []
    envelope = decode_payload(request.body, _ENVELOPE, repairs, fixup=_lift_envelope_keys)
    action = envelope.type.upper()
    if action not in _BOOKING_TYPES:
        raise AdapterError("unsupported-event", f"unknown Picktime type {envelope.type!r} - at $.type")
    if isinstance(envelope.dataObject, PicktimeBooking):
        return Mapped(changes=[_booking_change(envelope.dataObject, envelope.type, action, repairs)])
    items = envelope.dataObject
    if not items:
        return Mapped(changes=[], note="empty dataObject: nothing changed")
    if all(isinstance(item, str) for item in items):
        return Mapped(changes=[_removed_attendee(str(item), envelope.type, repairs) for item in items])
    if any(isinstance(item, str) for item in items):
        raise AdapterError("invalid-payload", "dataObject mixes attendee ids and bookings - at $.dataObject")
    bookings = [item for item in items if isinstance(item, PicktimeBooking)]
    return Mapped(changes=[_booking_change(item, envelope.type, action, repairs) for item in bookings])


def _lift_envelope_keys(document: Any, repairs: list[str]) -> Any:
    """Undo a missing '}' after dataObject: the envelope's own keys ended up inside it."""
    if not isinstance(document, dict) or "type" in document:
        return document
    inner = document.get("dataObject")
    if not isinstance(inner, dict) or "type" not in inner:
        return document
    moved = [key for key in _ENVELOPE_KEYS if key in inner]
    for key in moved:
        document[key] = inner.pop(key)
    repairs.append(f"moved {', '.join(moved)} out of dataObject, whose closing '}}' was missing")
    return document


def _booking_change(item: PicktimeBooking, provider_event: str, action: str, repairs: list[str]) -> Change:
    kind = _KINDS.get(item.event_type)
    if kind is None:
        raise AdapterError("unsupported-event", f"unknown Picktime event_type {item.event_type!r} - at $.dataObject.event_type")
    own_repairs = list(repairs)
    is_participant = item.attendee_id is not None
    event_type = (_ATTENDEE_TYPES if is_participant else _BOOKING_TYPES)[action]
    person = _person(item)
    booking = _booking(item, kind, action, own_repairs, customer=None if is_participant else person)
    attendee = _attendee(item.attendee_id, person) if is_participant else None
    data = EventData(
        provider=NAME, provider_event=provider_event, booking=booking, attendee=attendee, repairs=own_repairs
    )
    return Change(type=event_type, data=data)


def _removed_attendee(attendee_id: str, provider_event: str, repairs: list[str]) -> Change:
    session_id, separator, _ = attendee_id.partition("_")
    if not separator or not session_id:
        raise AdapterError(
            "invalid-payload", f"attendee id {attendee_id!r} does not start with its session's event_id - at $.dataObject"
        )
    booking = Booking(id=f"{NAME}:{session_id}", provider_id=session_id, kind="class", status=None)
    data = EventData(
        provider=NAME,
        provider_event=provider_event,
        booking=booking,
        attendee=Attendee(id=attendee_id),
        repairs=list(repairs),
    )
    return Change(type="attendee.removed", data=data)


def _booking(
    item: PicktimeBooking, kind: BookingKind, action: str, repairs: list[str], customer: Customer | None
) -> Booking:
    provider_id = item.event_id if kind == "class" else (item.booking_id or item.event_id)
    return Booking(
        id=f"{NAME}:{provider_id}",
        provider_id=provider_id,
        kind=kind,
        status="cancelled" if action == "DELETE" and item.attendee_id is None else _status(item.event_status, repairs),
        title=", ".join(item.service_names) or None,
        start=_time(item.start_date_time_gmt, "start_date_time_gmt", repairs),
        end=_time(item.end_date_time_gmt, "end_date_time_gmt", repairs),
        duration_minutes=item.event_duration,
        all_day=item.all_day,
        location=Location(name=item.location_name) if item.location_name else None,
        services=[*item.service_names, *item.sub_service_names],
        staff=list(item.team_member_name),
        resources=list(item.resource_names),
        customer=customer,
        capacity=_capacity(item) if kind == "class" else None,
        price=_price(item.price, repairs),
        paid=item.paid,
        notes=item.booking_notes or None,
        custom_fields=_custom_fields(item.addnl_fields, repairs),
        links=Links(cancel=item.cancel_url or None),
    )


def _status(event_status: str | None, repairs: list[str]) -> BookingStatus | None:
    if event_status is None:
        return None
    status = _STATUSES.get(event_status.lower())
    if status is None:
        repairs.append(f"event_status {event_status!r} has no canonical status; status left null")
    return status


def _time(value: int | None, field: str, repairs: list[str]) -> str | None:
    if value is None:
        return None
    try:
        if value < _EPOCH_SECONDS_LIMIT:
            return from_epoch_seconds(value)
        text = from_compact_utc(value)
    except UnreadableTime as exc:
        repairs.append(f"{field} {value} could not be read ({exc}); kept as sent")
        return str(value)
    repairs.append(f"{field} {value} read as yyyyMMddHHmm UTC, not epoch seconds")
    return text


def _price(value: int | float | str | None, repairs: list[str]) -> Price | None:
    amount = decimal_amount(value, "price", repairs)
    return None if amount is None else Price(amount=amount)


def _capacity(item: PicktimeBooking) -> Capacity | None:
    if item.total_slots is None and item.slots_filled is None:
        return None
    return Capacity(total=item.total_slots, filled=item.slots_filled)


def _person(item: PicktimeBooking) -> Customer | None:
    region = f"{item.state} {item.zip}" if item.state and item.zip else item.state or item.zip
    address = ", ".join(filter(None, (item.address, item.city, region)))
    name, email, phone = item.customer_name or None, item.email or None, item.mobile_no or None
    if not (name or email or phone or address):
        return None
    return Customer(name=name, email=email, phone=phone, address=address or None)


def _attendee(attendee_id: str | None, person: Customer | None) -> Attendee:
    if person is None:
        return Attendee(id=attendee_id)
    return Attendee(id=attendee_id, name=person.name, email=person.email, phone=person.phone)


def _custom_fields(addnl_fields: str | None, repairs: list[str]) -> list[CustomField]:
    if not addnl_fields:
        return []
    fields = parse_embedded_json(addnl_fields, "addnl_fields", repairs)
    if not isinstance(fields, dict):
        return []
    return [CustomField(name=str(name), value=field_value(value)) for name, value in fields.items()]


ADAPTER = Adapter(name=NAME, map=map_request)
