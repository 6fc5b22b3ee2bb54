"""Calendly: signed invitee events; a reschedule is a cancel naming the new invitee and a create naming the old.

- The booking is the Invitee: its ``uri`` is the vendor booking id, so a
  reschedule (a new invitee) is a new booking. ``invitee.canceled`` with
  ``rescheduled: true`` is ``booking.cancelled`` with ``rescheduled_to`` (the
  new invitee); the ``invitee.created`` that follows has ``rescheduled_from``.
- ``invitee_no_show.created`` is ``booking.no_show``; ``invitee_no_show.deleted``
  (the mark taken back) is ``booking.updated`` with the invitee's own status.
- Start, end, title, hosts and location come from ``payload.scheduled_event``
  when Calendly sends it, else they are null.
- The delivery key is ``event``, ``payload.uri`` and ``created_at`` from the
  signed body (Calendly sends no delivery id).
"""

from __future__ import annotations

import msgspec

from adapters._amount import decimal_amount
from adapters._contact import checked_email
from adapters._decode import convert_part, decode_payload
from adapters.base import Adapter, AdapterError, Change, Mapped, VerifiedRequest
from adapters.signatures import TimestampedHmac
from adapters.times import read_event_time, read_iso
from schemas.calendly import (
    CalendlyCancellation,
    CalendlyEnvelope,
    CalendlyEvent,
    CalendlyInvitee,
    CalendlyInviteeEvent,
    CalendlyPayment,
)
from schemas.canonical import (
    Attendee,
    Booking,
    BookingStatus,
    Cancellation,
    Customer,
    CustomField,
    EventData,
    EventType,
    Links,
    Location,
    Price,
)

__all__ = ["ADAPTER", "NAME", "SIGNATURE_HEADER", "CalendlySignature", "map_request"]

NAME = "calendly"
_ENVELOPE = msgspec.json.Decoder(CalendlyEnvelope)
SIGNATURE_HEADER = "calendly-webhook-signature"
CalendlySignature = TimestampedHmac(header=SIGNATURE_HEADER, signature_key="v1")
"""``Calendly-Webhook-Signature: t=<unix>,v1=<hex>``: HMAC-SHA256 of ``<t>.<raw body>``, within a tolerance."""

_EVENT_TYPES: dict[str, EventType] = {
    "invitee.created": "booking.created",
    "invitee.canceled": "booking.cancelled",
    "invitee_no_show.created": "booking.no_show",
    "invitee_no_show.deleted": "booking.updated",
}
_NOT_BOOKINGS = ("routing_form_submission.", "event_type.", "meeting_recap.", "contact.")
_STATUSES: dict[str, BookingStatus] = {"active": "confirmed", "canceled": "cancelled"}
_IMPLIED_STATUSES: dict[EventType, BookingStatus] = {"booking.cancelled": "cancelled", "booking.no_show": "no_show"}
_CANCELERS = {"host": "owner", "invitee": "customer"}


def map_request(request: VerifiedRequest) -> Mapped:
    """Map one Calendly webhook to canonical changes."""
    repairs: list[str] = []
    envelope = decode_payload(request.body, _ENVELOPE, repairs)
    key = _delivery_key(envelope)
    if envelope.event.startswith(_NOT_BOOKINGS):
        return Mapped(changes=[], delivery_key=key, note=f"{envelope.event} is not about a booking")
    event_type = _EVENT_TYPES.get(envelope.event)
    if event_type is None:
        raise AdapterError("unsupported-event", f"unknown Calendly event {envelope.event!r} - at `$.event`")
    booking = _booking(_invitee(envelope), event_type, repairs)
    time = read_event_time(envelope.created_at, "event created_at", repairs)
    data = EventData(provider=NAME, provider_event=envelope.event, booking=booking, repairs=repairs)
    return Mapped(changes=[Change(type=event_type, data=data, time=time)], delivery_key=key)


def _delivery_key(envelope: CalendlyEnvelope) -> str | None:
    """``event``, ``payload.uri`` and ``created_at``: all three, or none (the gateway then hashes the body)."""
    uri = envelope.payload.get("uri") if isinstance(envelope.payload, dict) else None
    if not (isinstance(uri, str) and uri and envelope.created_at):
        return None
    return f"{envelope.event} {uri} {envelope.created_at}"


def _invitee(envelope: CalendlyEnvelope) -> CalendlyInvitee:
    invitee = convert_part({"payload": envelope.payload}, CalendlyInviteeEvent).payload
    if not invitee.uri.strip():
        raise AdapterError("invalid-payload", "empty invitee uri - at `$.payload.uri`")
    return invitee


def _booking(invitee: CalendlyInvitee, event_type: EventType, repairs: list[str]) -> Booking:
    event = invitee.scheduled_event or CalendlyEvent()
    status = _status(invitee.status, _IMPLIED_STATUSES.get(event_type), repairs)
    return Booking(
        id=f"{NAME}:{invitee.uri}",
        provider_id=invitee.uri,
        kind="meeting",
        status=status,
        title=event.name or None,
        start=read_iso(event.start_time, "scheduled_event.start_time", repairs),
        end=read_iso(event.end_time, "scheduled_event.end_time", repairs),
        timezone=invitee.timezone or None,
        location=_location(event),
        staff=[name for member in event.event_memberships or [] if (name := member.user_name or member.user_email)],
        customer=_customer(invitee, repairs),
        attendees=[Attendee(email=checked_email(guest.email, "event_guests.email", repairs))
                   for guest in event.event_guests or [] if guest.email],
        price=_price(invitee.payment, repairs),
        paid=invitee.payment.successful if invitee.payment else None,
        custom_fields=[CustomField(name=qa.question, value=qa.answer) for qa in invitee.questions_and_answers or []],
        links=Links(cancel=invitee.cancel_url or None, reschedule=invitee.reschedule_url or None),
        cancellation=_cancellation(invitee.cancellation) if event_type == "booking.cancelled" else None,
        rescheduled_from=_canonical(invitee.old_invitee) if event_type == "booking.created" else None,
        rescheduled_to=_rescheduled_to(invitee, repairs) if event_type == "booking.cancelled" else None,
        created_at=read_iso(invitee.created_at, "created_at", repairs),
        updated_at=read_iso(invitee.updated_at, "updated_at", repairs),
    )


def _status(value: str | None, implied: BookingStatus | None, repairs: list[str]) -> BookingStatus | None:
    # A no-show keeps the invitee "active" at Calendly; the event itself says what became of the booking.
    if implied is not None:
        return implied
    if not value:
        return None
    status = _STATUSES.get(value.strip().lower())
    if status is None:
        repairs.append(f"status {value!r} has no canonical status; status is null")
    return status


def _location(event: CalendlyEvent) -> Location | None:
    where = event.location
    if where is None or not (where.location or where.join_url):
        return None
    return Location(address=where.location or None, video_url=where.join_url or None)


def _customer(invitee: CalendlyInvitee, repairs: list[str]) -> Customer | None:
    name = invitee.name or " ".join(part for part in (invitee.first_name, invitee.last_name) if part)
    customer = Customer(
        name=name or None,
        email=checked_email(invitee.email, "email", repairs),
        phone=invitee.text_reminder_number or None,
        timezone=invitee.timezone or None,
    )
    return None if customer == Customer() else customer


def _price(payment: CalendlyPayment | None, repairs: list[str]) -> Price | None:
    amount = decimal_amount(payment.amount, "payment.amount", repairs) if payment else None
    if payment is None or amount is None:
        return None
    return Price(amount=amount, currency=payment.currency.upper() if payment.currency else None)


def _cancellation(info: CalendlyCancellation | None) -> Cancellation | None:
    if info is None:
        return None
    by = _CANCELERS.get(info.canceler_type or "", info.canceler_type or info.canceled_by)
    return None if not (info.reason or by) else Cancellation(reason=info.reason or None, by=by or None)


def _canonical(uri: str | None) -> str | None:
    return f"{NAME}:{uri}" if uri else None


def _rescheduled_to(invitee: CalendlyInvitee, repairs: list[str]) -> str | None:
    if invitee.rescheduled and not invitee.new_invitee:
        repairs.append("rescheduled is true but new_invitee is missing; rescheduled_to left null")
    return _canonical(invitee.new_invitee)


ADAPTER = Adapter(name=NAME, map=map_request, signature=CalendlySignature)
