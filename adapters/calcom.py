"""Cal.com: signed booking triggers, JSON (enveloped or flat) or form-encoded; pings and non-bookings get a note.

- The booking id is ``uid`` (``bookingUid`` on BOOKING_NO_SHOW_UPDATED), not
  the numeric ``bookingId``. A reschedule makes a new booking: its new ``uid``,
  with ``rescheduled_from`` the old one (``rescheduleUid``). Cal.com cancels
  the old booking and sends nothing else for it, so BOOKING_RESCHEDULED also
  yields ``booking.cancelled`` of the old ``uid`` (at ``rescheduleStartTime``)
  with ``rescheduled_to`` the new one, as Calendly's reschedules do.
- A body is ``{triggerEvent, createdAt, payload}``, or flat (the booking's
  fields beside ``triggerEvent``: MEETING_STARTED/_ENDED, and JSON custom
  templates). A custom template that is not JSON arrives form-encoded
  (``application/x-www-form-urlencoded``): its pairs are read as the same
  flat fields, numbers and booleans from their text.
- Confirming an opt-in booking fires BOOKING_CREATED again (Cal.com has no
  BOOKING_CONFIRMED): ``booking.created``, the booking now confirmed.
- ``price`` is not mapped: Cal.com's documents do not say its unit.
- Cal.com sends no delivery id: the gateway keys deliveries on the body's hash.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import parse_qsl

import msgspec

from adapters._contact import checked_email
from adapters._decode import convert_part, decode_payload
from adapters._fields import field_value
from adapters.base import Adapter, AdapterError, Change, Mapped, VerifiedRequest
from adapters.signatures import HexHmac
from adapters.times import read_event_time, read_iso
from schemas.calcom import CalcomBooking, CalcomBookingEvent, CalcomDocument, CalcomPerson
from schemas.canonical import (
    Attendee,
    Booking,
    BookingStatus,
    Cancellation,
    Customer,
    CustomField,
    EventData,
    EventType,
    Location,
    Payment,
)

__all__ = ["ADAPTER", "NAME", "SIGNATURE_HEADER", "CalcomSignature", "map_request"]

NAME = "calcom"
# Lax: a custom template writes numbers as text ("length": "{{length}}"); Cal.com's own bodies are typed anyway.
_DOCUMENT = msgspec.json.Decoder(CalcomDocument, strict=False)
SIGNATURE_HEADER = "x-cal-signature-256"
UNSIGNED: Final = "no-secret-provided"
CalcomSignature = HexHmac(header=SIGNATURE_HEADER, unsigned=UNSIGNED)
"""``X-Cal-Signature-256: <hex>``: HMAC-SHA256 of the raw body; ``no-secret-provided`` when the webhook has no secret."""

_FORM = "application/x-www-form-urlencoded"
# Each trigger's canonical type, and the status it gives the booking; a fixed status wins over payload.status.
_TRIGGERS: dict[str, tuple[EventType, BookingStatus | None, bool]] = {
    "BOOKING_CREATED": ("booking.created", "confirmed", False),
    "BOOKING_REQUESTED": ("booking.created", "pending", False),
    "BOOKING_RESCHEDULED": ("booking.rescheduled", "confirmed", False),
    "BOOKING_CANCELLED": ("booking.cancelled", "cancelled", True),
    "BOOKING_REJECTED": ("booking.declined", "declined", True),
    "BOOKING_PAID": ("payment.completed", None, False),
    "MEETING_ENDED": ("booking.completed", "completed", True),
}
_NOTES = {
    "PING": "a Cal.com test ping",
    "MEETING_STARTED": "MEETING_STARTED: the contract has no type for a meeting beginning",
    "BOOKING_PAYMENT_INITIATED": "BOOKING_PAYMENT_INITIATED: a payment begun is not yet a payment event",
}
_NOT_BOOKINGS = ("RECORDING_", "FORM_SUBMITTED", "AFTER_", "INSTANT_MEETING", "OOO_", "DELEGATION_", "WRONG_ASSIGNMENT")
_STATUSES: dict[str, BookingStatus] = {
    "ACCEPTED": "confirmed",
    "PENDING": "pending",
    "AWAITING_HOST": "pending",
    "CANCELLED": "cancelled",
    "REJECTED": "declined",
}
# Booking-form answers already mapped to the booking's own fields.
_MAPPED_RESPONSES = frozenset({"name", "email", "guests", "notes", "location", "attendeePhoneNumber"})


def map_request(request: VerifiedRequest) -> Mapped:
    """Map one Cal.com webhook to canonical changes."""
    repairs: list[str] = []
    document = _document(request, repairs)
    trigger = document.trigger_event
    note = _NOTES.get(trigger) or (f"{trigger} is not about a booking" if trigger.startswith(_NOT_BOOKINGS) else None)
    if note is not None:
        return Mapped(changes=[], note=note)
    time = read_event_time(document.created_at, "createdAt", repairs)
    item = _booking_fields(document)
    if trigger == "BOOKING_NO_SHOW_UPDATED":
        return Mapped(changes=[_no_show(item, trigger, time, repairs)])
    known = _TRIGGERS.get(trigger)
    if known is None:
        raise AdapterError("unsupported-event", f"unknown Cal.com trigger {trigger!r} - at `$.triggerEvent`")
    event_type, implied, fixed = known
    uid = _uid(item.uid, document)
    booking = _booking(item, uid, _status(item.status, implied, fixed, repairs), trigger, repairs)
    payment = _payment(item) if event_type == "payment.completed" else None
    data = EventData(provider=NAME, provider_event=trigger, booking=booking, payment=payment, repairs=repairs)
    changes = [Change(type=event_type, data=data, time=time)]
    if trigger == "BOOKING_RESCHEDULED" and item.reschedule_uid and item.reschedule_uid.strip() not in ("", uid):
        changes.append(_replaced(booking, item, trigger, time, list(repairs)))
    return Mapped(changes=changes)


def _document(request: VerifiedRequest, repairs: list[str]) -> CalcomDocument:
    if not request.headers.get("content-type", "").lower().startswith(_FORM):
        return decode_payload(request.body, _DOCUMENT, repairs)
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AdapterError("invalid-payload", f"form body is not UTF-8: {exc.reason} at byte {exc.start}") from None
    fields = dict(parse_qsl(text))  # blank values (a template's empty {{variable}}) are left out
    try:
        return msgspec.convert(fields, CalcomDocument, strict=False)
    except msgspec.ValidationError as exc:
        raise AdapterError("invalid-payload", f"form-encoded body: {exc}") from None


def _booking_fields(document: CalcomDocument) -> CalcomBooking:
    """The enveloped ``payload`` read as a booking; a flat document is its own booking."""
    if document.payload is None:
        return document
    return convert_part({"payload": document.payload}, CalcomBookingEvent, strict=False).payload


def _uid(uid: str | None, document: CalcomDocument) -> str:
    if uid is None or not uid.strip():
        where = "$.payload.uid" if document.payload is not None else "$.uid"
        raise AdapterError("invalid-payload", f"no booking uid - at `{where}`")
    return uid


def _status(value: str | None, implied: BookingStatus | None, fixed: bool, repairs: list[str]) -> BookingStatus | None:
    if fixed or not value:
        return implied
    status = _STATUSES.get(value.strip().upper())
    if status is None:
        outcome = f"{implied!r} as the trigger implies" if implied else "null"
        repairs.append(f"status {value!r} has no canonical status; status is {outcome}")
        return implied
    return status


def _booking(item: CalcomBooking, uid: str, status: BookingStatus | None, trigger: str, repairs: list[str]) -> Booking:
    people = item.attendees or []
    booker = people[0] if people else None
    organizer = _organizer(item)
    video = (item.metadata or {}).get("videoCallUrl")
    return Booking(
        id=f"{NAME}:{uid}",
        provider_id=uid,
        kind="meeting",
        status=status,
        title=item.title or None,
        start=read_iso(item.start_time, "startTime", repairs),
        end=read_iso(item.end_time, "endTime", repairs),
        duration_minutes=item.length,
        timezone=(booker.time_zone if booker else None) or organizer.time_zone,
        location=Location(name=item.location or None, video_url=video if isinstance(video, str) and video else None)
        if item.location or video else None,
        services=[item.event_title] if item.event_title else [],
        staff=[name] if (name := organizer.name or organizer.email) else [],
        customer=_customer(booker, repairs),
        attendees=[_attendee(guest, repairs) for guest in people[1:]],
        paid=True if trigger == "BOOKING_PAID" else None,
        notes=item.additional_notes or None,
        custom_fields=_custom_fields(item.responses or {}),
        cancellation=_cancellation(item, trigger),
        rescheduled_from=f"{NAME}:{item.reschedule_uid}" if trigger == "BOOKING_RESCHEDULED" and item.reschedule_uid
        else None,
    )


def _custom_fields(responses: dict[str, Any]) -> list[CustomField]:
    """Answers not mapped elsewhere, by field name; each ``{label, value}`` or, from a template, the value itself."""
    fields = []
    for name, answer in responses.items():
        value = answer.get("value") if isinstance(answer, dict) else answer
        if name not in _MAPPED_RESPONSES and value not in (None, ""):
            fields.append(CustomField(name=name, value=field_value(value)))
    return fields


def _organizer(item: CalcomBooking) -> CalcomPerson:
    return CalcomPerson(name=item.organizer) if isinstance(item.organizer, str) else item.organizer or CalcomPerson()


def _name(person: CalcomPerson) -> str | None:
    return person.name or " ".join(part for part in (person.first_name, person.last_name) if part) or None


def _customer(booker: CalcomPerson | None, repairs: list[str]) -> Customer | None:
    if booker is None:
        return None
    customer = Customer(name=_name(booker), email=checked_email(booker.email, "attendees[0].email", repairs),
                        phone=booker.phone_number or None, timezone=booker.time_zone or None)
    return None if customer == Customer() else customer


def _attendee(guest: CalcomPerson, repairs: list[str]) -> Attendee:
    return Attendee(name=_name(guest), email=checked_email(guest.email, "attendees.email", repairs),
                    phone=guest.phone_number or None)


def _cancellation(item: CalcomBooking, trigger: str) -> Cancellation | None:
    if trigger == "BOOKING_REJECTED":
        return Cancellation(reason=item.rejection_reason, by="owner") if item.rejection_reason else None
    if trigger != "BOOKING_CANCELLED" or not (item.cancellation_reason or item.cancelled_by):
        return None
    return Cancellation(reason=item.cancellation_reason or None, by=_canceller(item))


def _replaced(new: Booking, item: CalcomBooking, trigger: str, time: str | None, repairs: list[str]) -> Change:
    """The booking a reschedule gave up: cancelled, its own times, ``rescheduled_to`` the new one.

    Its other details are the new booking's (the same event type and people); the
    video link and duration, which belong to the new booking, are left null.
    """
    old_uid = (item.reschedule_uid or "").strip()
    by = _role(item, item.rescheduled_by)
    old = msgspec.structs.replace(
        new, id=f"{NAME}:{old_uid}", provider_id=old_uid, status="cancelled",
        start=read_iso(item.reschedule_start_time, "rescheduleStartTime", repairs),
        end=read_iso(item.reschedule_end_time, "rescheduleEndTime", repairs),
        duration_minutes=None, location=Location(name=new.location.name) if new.location and new.location.name else None,
        cancellation=Cancellation(by=by) if by else None, rescheduled_from=None, rescheduled_to=new.id)
    data = EventData(provider=NAME, provider_event=trigger, booking=old, repairs=repairs)
    return Change(type="booking.cancelled", data=data, time=time)


def _canceller(item: CalcomBooking) -> str | None:
    """Who cancelled, from ``cancelledBy`` (an email)."""
    return _role(item, item.cancelled_by)


def _role(item: CalcomBooking, email: str | None) -> str | None:
    """Whose email it is: the organizer's is the owner, an attendee's the customer; any other as sent."""
    by = (email or "").strip()
    if not by:
        return None
    if (_organizer(item).email or "").lower() == by.lower():
        return "owner"
    if any((person.email or "").lower() == by.lower() for person in item.attendees or []):
        return "customer"
    return by


def _no_show(item: CalcomBooking, trigger: str, time: str | None, repairs: list[str]) -> Change:
    """Who is marked absent: booking.no_show when anyone is; the booking no_show only when everyone is."""
    uid = item.booking_uid or item.uid
    if not uid or not uid.strip():
        raise AdapterError("invalid-payload", "no booking uid - at `$.payload.bookingUid`")
    people = item.attendees or []
    absent = [bool(person.no_show) for person in people]
    attendees = [Attendee(email=checked_email(person.email, "attendees.email", repairs),
                          status="no_show" if gone else None) for person, gone in zip(people, absent, strict=True)]
    booking = Booking(id=f"{NAME}:{uid}", provider_id=uid, kind="meeting",
                      status="no_show" if absent and all(absent) else None, attendees=attendees)
    data = EventData(provider=NAME, provider_event=trigger, booking=booking, repairs=repairs)
    return Change(type="booking.no_show" if any(absent) else "booking.updated", data=data, time=time)


def _payment(item: CalcomBooking) -> Payment:
    """BOOKING_PAID: which payment, in what currency; the amount stays null (the unit of ``price`` is undocumented)."""
    currency = (item.currency or "").strip().upper() or None
    return Payment(id=None if item.payment_id is None else str(item.payment_id), currency=currency, status="paid")


ADAPTER = Adapter(name=NAME, map=map_request, signature=CalcomSignature, display_name="Cal.com")
