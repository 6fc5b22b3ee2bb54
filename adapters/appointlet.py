"""Appointlet: bookings from the documented payload, meetings and attendees from the newer Activity one."""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import msgspec

from adapters._amount import UnreadableAmount, parse_decimal
from adapters._decode import decode_payload
from adapters._fields import field_value
from adapters.base import Adapter, AdapterError, Change, Mapped, VerifiedRequest
from adapters.times import read_event_time, read_iso
from schemas.appointlet import (
    AppointletAttendee,
    AppointletBooking,
    AppointletBookingLinks,
    AppointletEnvelope,
    AppointletFieldAnswer,
    AppointletMeeting,
    AppointletService,
)
from schemas.canonical import (
    Attendee,
    Booking,
    BookingStatus,
    Customer,
    CustomField,
    EventData,
    EventType,
    Links,
    Location,
    Price,
)

__all__ = ["ADAPTER", "NAME", "map_request"]

NAME = "appointlet"
_ENVELOPE = msgspec.json.Decoder(AppointletEnvelope)
T = TypeVar("T")

# Verbs are looked up lower-cased, "canceled" (the documented spelling) as "cancelled".
# booking/confirmed is Appointlet's "new booking"; a status of None is read from the booking's own flags.
_BOOKING_ACTIONS: dict[str, tuple[EventType, BookingStatus | None]] = {
    "created": ("booking.created", None),
    "confirmed": ("booking.created", "confirmed"),
    "cancelled": ("booking.cancelled", "cancelled"),
    "rescheduled": ("booking.rescheduled", None),
}
_MEETING_ACTIONS: dict[str, tuple[EventType, BookingStatus | None]] = {
    "scheduled": ("booking.created", "confirmed"),
    "approved": ("booking.confirmed", "confirmed"),
    "declined": ("booking.declined", "declined"),
    "cancelled": ("booking.cancelled", "cancelled"),
    "rescheduled": ("booking.rescheduled", "confirmed"),
    "tagged": ("booking.updated", None),
    "untagged": ("booking.updated", None),
}
_ATTENDEE_ACTIONS: dict[str, EventType] = {
    "scheduled": "attendee.added",
    "approved": "booking.updated",
    "cancelled": "attendee.removed",
    "declined": "attendee.removed",
    "reminded": "booking.reminder",
}
_PERSON_SLUGS = frozenset({"first-name", "last-name", "phone-number"})


def map_request(request: VerifiedRequest) -> Mapped:
    """Map one Appointlet webhook to canonical changes."""
    repairs: list[str] = []
    envelope = decode_payload(request.body, _ENVELOPE, repairs)
    key = None if envelope.id is None else str(envelope.id)
    if envelope.test:
        return Mapped(changes=[], delivery_key=key, note="test ping")
    if envelope.type is None:
        raise AdapterError("invalid-payload", "neither a test ping nor a typed event - at $.type")
    if envelope.type.lower() == "activity":
        return _activity(envelope, key, repairs)
    if envelope.type.lower() == "booking":
        return _legacy(envelope, key, repairs)
    return Mapped(changes=[], delivery_key=key, note=f"Appointlet {envelope.type}/{envelope.action} is not about a booking")


def _verb(text: str) -> str:
    return text.lower().replace("canceled", "cancelled")


def _convert(value: dict[str, Any], into: type[T], at: str) -> T:
    """Read a resource as its Struct, keeping msgspec's text with the path from the body's root."""
    try:
        return msgspec.convert(value, into)
    except msgspec.ValidationError as exc:
        text = str(exc)
        detail = text.replace(" - at `$", f" - at `{at}", 1) if " - at `$" in text else f"{text} - at `{at}`"
        raise AdapterError("invalid-payload", detail) from None


def _legacy(envelope: AppointletEnvelope, key: str | None, repairs: list[str]) -> Mapped:
    known = _BOOKING_ACTIONS.get(_verb(envelope.action or ""))
    if known is None:
        raise AdapterError("unsupported-event", f"unknown Appointlet booking action {envelope.action!r} - at $.action")
    if envelope.object is None:
        raise AdapterError("invalid-payload", "booking event without its object - at $.object")
    item = _convert(envelope.object, AppointletBooking, "$.object")
    event_type, status = known
    time = read_event_time(envelope.date_created, "date_created", repairs)
    booking = _legacy_booking(item, status or _legacy_status(item), repairs)
    data = EventData(provider=NAME, provider_event=f"{envelope.type}/{envelope.action}", booking=booking, repairs=repairs)
    return Mapped(changes=[Change(type=event_type, data=data, time=time)], delivery_key=key)


def _legacy_status(item: AppointletBooking) -> BookingStatus | None:
    if item.canceled:
        return "cancelled"
    return None if item.confirmed is None else "confirmed" if item.confirmed else "pending"


def _legacy_booking(item: AppointletBooking, status: BookingStatus | None, repairs: list[str]) -> Booking:
    service = item.service or AppointletService()
    rel = item.rel or AppointletBookingLinks()
    price, paid = _price_and_paid(item, service, repairs)
    host = item.bookable.name if item.bookable else None
    return Booking(
        id=f"{NAME}:{item.id}",
        provider_id=str(item.id),
        kind="meeting",
        status=status,
        title=service.name or None,
        start=read_iso(item.start, "object.start", repairs),
        end=read_iso(item.end, "object.end", repairs),
        duration_minutes=_minutes_of_seconds(service.duration, repairs),
        timezone=item.timezone or None,
        services=[service.name] if service.name else [],
        staff=[host] if host else [],
        customer=_customer(item),
        price=price,
        paid=paid,
        custom_fields=_custom_fields(item, repairs),
        links=Links(cancel=rel.cancel or None, reschedule=rel.reschedule or None, manage=item.url or None),
        created_at=read_iso(item.date_created, "object.date_created", repairs),
    )


def _minutes_of_seconds(seconds: float | None, repairs: list[str]) -> int | None:
    if seconds is None:
        return None
    if not math.isfinite(seconds) or seconds < 0:
        repairs.append(f"object.service.duration {seconds!r} is not a number of seconds; left out")
        return None
    minutes = int(seconds // 60)
    if seconds % 60:
        repairs.append(f"object.service.duration {seconds!r} s is not a whole number of minutes; rounded down to {minutes}")
    return minutes


def _customer(item: AppointletBooking) -> Customer | None:
    answers = {answer.field.slug: answer.value for answer in item.fields if answer.field and answer.field.slug}
    name = " ".join(part for part in (_text(answers.get("first-name")), _text(answers.get("last-name"))) if part)
    customer = Customer(
        name=name or None,
        email=item.email or None,
        phone=_text(answers.get("phone-number")),
        timezone=item.timezone or None,
    )
    return None if customer == Customer() else customer


def _custom_fields(item: AppointletBooking, repairs: list[str]) -> list[CustomField]:
    fields: list[CustomField] = []
    for index, answer in enumerate(item.fields):
        name = _field_name(answer)
        if name is None:
            repairs.append(f"object.fields[{index}] names no field (no slug, no id); left out")
        elif name not in _PERSON_SLUGS:
            fields.append(CustomField(name=name, value=field_value(answer.value)))
    return fields


def _field_name(answer: AppointletFieldAnswer) -> str | None:
    if answer.field is None:
        return None
    if answer.field.slug:
        return answer.field.slug
    return None if answer.field.id is None else str(answer.field.id)


def _text(value: Any) -> str | None:
    text = field_value(value)
    if isinstance(text, list):
        text = ", ".join(text)
    return (text.strip() or None) if text is not None else None


def _price_and_paid(item: AppointletBooking, service: AppointletService, repairs: list[str]) -> tuple[Price | None, bool | None]:
    """The meeting type's price (else the amount charged), and whether the charge covers it."""
    listed = _decimal(service.price, "object.service.price", repairs)
    charged = _decimal(item.payment_amount, "object.payment_amount", repairs)
    refunded = _decimal(item.payment_refunded, "object.payment_refunded", repairs)
    currency = item.payment_currency or service.currency or None
    price = _price(service.price, listed, service.currency or currency) or _price(
        item.payment_amount, charged, item.payment_currency or currency
    )
    return price, _paid(listed, charged, refunded)


def _price(sent: str | int | float | None, read: Decimal | None, currency: str | None) -> Price | None:
    """The amount as read, or, when unreadable, as the vendor sent it (the contract's rule); None if not sent."""
    if read is not None:
        return Price(amount=f"{read:.2f}", currency=currency or None)
    if sent is None or sent == "":
        return None
    return Price(amount=str(sent), currency=currency or None)


def _paid(listed: Decimal | None, charged: Decimal | None, refunded: Decimal | None) -> bool | None:
    """True when the charge, less refunds, covers the price; None when there was nothing to pay."""
    if charged is None or listed == 0:
        return None
    kept = charged - (refunded or 0)
    if listed is None:
        return True if kept > 0 else None
    return kept >= listed


def _decimal(value: str | int | float | None, field: str, repairs: list[str]) -> Decimal | None:
    """An amount to compute with; an unreadable one is noted, and kept out of working out ``paid``."""
    try:
        return parse_decimal(value)
    except UnreadableAmount as exc:
        repairs.append(f"{field} {exc}; not used to work out paid")
        return None


def _activity(envelope: AppointletEnvelope, key: str | None, repairs: list[str]) -> Mapped:
    action = envelope.action or ""
    noun, dot, verb = action.partition(".")
    if not dot or not noun or not verb:
        raise AdapterError("unsupported-event", f"Activity action {envelope.action!r} is not '<Entity>.<verb>' - at $.action")
    if noun.lower() not in ("meeting", "attendee"):
        return Mapped(changes=[], delivery_key=key, note=f"Appointlet {action} is not about a booking")
    if envelope.entity is None:
        raise AdapterError("invalid-payload", "Activity without its entity - at $.entity")
    time = read_event_time(envelope.created_at, "created_at", repairs)
    if noun.lower() == "meeting":
        change = _meeting_change(envelope.entity, action, _verb(verb), time, repairs)
    else:
        change = _attendee_change(envelope.entity, action, _verb(verb), time, repairs)
    return Mapped(changes=[change], delivery_key=key)


def _meeting_change(entity: dict[str, Any], action: str, verb: str, time: str | None, repairs: list[str]) -> Change:
    known = _MEETING_ACTIONS.get(verb)
    if known is None:
        raise AdapterError("unsupported-event", f"unknown Appointlet action {action!r} - at $.action")
    meeting = _convert(entity, AppointletMeeting, "$.entity")
    event_type, status = known
    booking = _meeting_booking(meeting, status or _meeting_status(meeting), "entity", repairs)
    data = EventData(provider=NAME, provider_event=action, booking=booking, repairs=repairs)
    return Change(type=event_type, data=data, time=time)


def _attendee_change(entity: dict[str, Any], action: str, verb: str, time: str | None, repairs: list[str]) -> Change:
    event_type = _ATTENDEE_ACTIONS.get(verb)
    if event_type is None:
        raise AdapterError("unsupported-event", f"unknown Appointlet action {action!r} - at $.action")
    person = _convert(entity, AppointletAttendee, "$.entity")
    booking = _attendee_booking(person.meeting, repairs)
    name = " ".join(part for part in (person.first_name, person.last_name) if part)
    person_id = None if person.id is None else str(person.id)
    attendee = Attendee(id=person_id, name=name or None, email=person.email or None, phone=person.phone or None, status=verb)
    data = EventData(provider=NAME, provider_event=action, booking=booking, attendee=attendee, repairs=repairs)
    return Change(type=event_type, data=data, time=time)


def _attendee_booking(meeting: AppointletMeeting | int | str | None, repairs: list[str]) -> Booking:
    if isinstance(meeting, AppointletMeeting):
        return _meeting_booking(meeting, _meeting_status(meeting), "entity.meeting", repairs)
    if meeting is None or meeting == "":
        raise AdapterError("invalid-payload", "Attendee entity does not name its meeting - at $.entity.meeting")
    return Booking(id=f"{NAME}:{meeting}", provider_id=str(meeting), kind="meeting", status=None)


def _meeting_status(meeting: AppointletMeeting) -> BookingStatus | None:
    """Read from the flags; ``confirmed`` is not read: the documented Meeting.scheduled sample has it false."""
    if meeting.cancelled:
        return "cancelled"
    return None if meeting.approved is None else "confirmed" if meeting.approved else "declined"


def _meeting_booking(meeting: AppointletMeeting, status: BookingStatus | None, at: str, repairs: list[str]) -> Booking:
    start = read_iso(meeting.start, f"{at}.start", repairs)
    end = read_iso(meeting.end, f"{at}.end", repairs)
    return Booking(
        id=f"{NAME}:{meeting.id}",
        provider_id=str(meeting.id),
        kind="meeting",
        status=status,
        title=meeting.name or None,
        start=start,
        end=end,
        duration_minutes=_span_minutes(start, end, at, repairs),
        location=_location(meeting),
        created_at=read_iso(meeting.created_at, f"{at}.created_at", repairs),
    )


def _span_minutes(start: str | None, end: str | None, at: str, repairs: list[str]) -> int | None:
    """Whole minutes from start to end, when both were read (only times read end in Z)."""
    if not (start and end and start.endswith("Z") and end.endswith("Z")):
        return None
    try:
        seconds = (datetime.fromisoformat(end[:-1] + "+00:00") - datetime.fromisoformat(start[:-1] + "+00:00")).total_seconds()
    except ValueError:
        return None
    if seconds < 0:
        repairs.append(f"{at}.end is before {at}.start; duration left out")
        return None
    return int(seconds // 60)


def _location(meeting: AppointletMeeting) -> Location | None:
    place = (meeting.location or "").strip()
    if not place:
        return None
    if place.startswith(("https://", "http://")):
        return Location(video_url=place)
    if meeting.location_type == "place":
        return Location(address=place)
    return Location(name=place)


ADAPTER = Adapter(name=NAME, map=map_request, signature=None)
