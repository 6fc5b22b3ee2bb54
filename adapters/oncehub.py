"""OnceHub: signed booking lifecycle events; conversation events are acknowledged without a canonical event."""

from __future__ import annotations

import re

import msgspec

from adapters._contact import checked_email
from adapters._decode import convert_part, decode_payload
from adapters._fields import field_value
from adapters.base import Adapter, AdapterError, Change, Mapped, VerifiedRequest
from adapters.signatures import TimestampedHmac
from adapters.times import UnreadableTime, add_minutes, from_iso, read_event_time, read_iso
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
)
from schemas.oncehub import (
    OncehubBooking,
    OncehubBookingEvent,
    OncehubCancelInfo,
    OncehubCustomField,
    OncehubEnvelope,
    OncehubFormSubmission,
    OncehubRef,
    OncehubUser,
)

__all__ = ["ADAPTER", "NAME", "SIGNATURE_HEADER", "OncehubSignature", "map_request"]

NAME = "oncehub"
_ENVELOPE = msgspec.json.Decoder(OncehubEnvelope)
SIGNATURE_HEADER = "oncehub-signature"
OncehubSignature = TimestampedHmac(header=SIGNATURE_HEADER)
"""``Oncehub-Signature: t=<unix>,s=<hex>``: HMAC-SHA256 of ``<t>.<raw body>``, within a tolerance."""

_EVENT_TYPES: dict[str, EventType] = {
    "booking.scheduled": "booking.created",
    "booking.rescheduled": "booking.rescheduled",
    "booking.canceled": "booking.cancelled",
    "booking.canceled_then_rescheduled": "booking.cancelled",
    "booking.canceled_reschedule_requested": "booking.cancelled",
    "booking.completed": "booking.completed",
    "booking.no_show": "booking.no_show",
}
_STATUSES: dict[str, BookingStatus] = {
    "requested": "pending",
    "scheduled": "confirmed",
    "rescheduled": "confirmed",
    "completed": "completed",
    "canceled": "cancelled",
    "no_show": "no_show",
}
# What the event type itself says of the booking when data.status is missing or unknown.
_IMPLIED_STATUSES: dict[EventType, BookingStatus] = {
    "booking.cancelled": "cancelled",
    "booking.completed": "completed",
    "booking.no_show": "no_show",
}
# OnceHub "users" are the account's hosts, i.e. the booking's owner side.
_ACTORS = {"user": "owner", "customer": "customer"}
_COLLAPSED_ID = re.compile(r"[A-Z]{2,5}-[A-Z0-9]+")


def map_request(request: VerifiedRequest) -> Mapped:
    """Map one OnceHub webhook to canonical changes."""
    repairs: list[str] = []
    envelope = decode_payload(request.body, _ENVELOPE, repairs)
    delivery_key = envelope.id or None
    if envelope.type.startswith("conversation."):
        note = f"{envelope.type} is about a chat conversation, not a booking"
        return Mapped(changes=[], delivery_key=delivery_key, note=note)
    event_type = _EVENT_TYPES.get(envelope.type)
    if event_type is None:
        raise AdapterError("unsupported-event", f"unknown OnceHub event type {envelope.type!r} - at `$.type`")
    booking = _booking(_booking_data(envelope), event_type, repairs)
    time = read_event_time(envelope.creation_time, "event creation_time", repairs)
    data = EventData(provider=NAME, provider_event=envelope.type, booking=booking, repairs=repairs)
    return Mapped(changes=[Change(type=event_type, data=data, time=time)], delivery_key=delivery_key)


def _booking_data(envelope: OncehubEnvelope) -> OncehubBooking:
    item = convert_part({"data": envelope.data}, OncehubBookingEvent).data
    if not item.id.strip():
        raise AdapterError("invalid-payload", "empty booking id - at `$.data.id`")
    return item


def _booking(item: OncehubBooking, event_type: EventType, repairs: list[str]) -> Booking:
    form = item.form_submission or OncehubFormSubmission()
    status = _status(item.status, _IMPLIED_STATUSES.get(event_type), repairs)
    cancelled = status == "cancelled" or event_type == "booking.cancelled"
    url = item.cancel_reschedule_url or None
    return Booking(
        id=f"{NAME}:{item.id}",
        provider_id=item.id,
        kind="meeting",
        status=status,
        title=item.subject or _name(item.event_type) or _name(item.booking_page),
        start=read_iso(item.starting_time, "starting_time", repairs),
        end=_end(item.starting_time, item.duration_minutes, repairs),
        duration_minutes=item.duration_minutes,
        timezone=item.customer_timezone or None,
        location=_location(item),
        services=_names(item.event_type),
        staff=_names(item.owner),
        customer=_customer(form, item.customer_timezone, repairs),
        attendees=_guests(form.guests or [], repairs),
        notes=form.note or None,
        custom_fields=[_custom_field(field) for field in form.custom_fields or []],
        links=Links(cancel=url, reschedule=url),
        cancellation=_cancellation(item.cancel_reschedule_information) if cancelled else None,
        rescheduled_from=_rescheduled_from(item) if event_type == "booking.rescheduled" else None,
        created_at=read_iso(item.creation_time, "creation_time", repairs),
        updated_at=read_iso(item.last_updated_time, "last_updated_time", repairs),
    )


def _status(value: str | None, implied: BookingStatus | None, repairs: list[str]) -> BookingStatus | None:
    if not value:
        return implied
    # API v1 spelled the same states "Scheduled", "No-Show".
    status = _STATUSES.get(value.strip().lower().replace("-", "_"))
    if status is None:
        outcome = f"{implied!r} as the event type implies" if implied else "null"
        repairs.append(f"status {value!r} has no canonical status; status is {outcome}")
        return implied
    return status


def _end(starting_time: str | None, minutes: int | None, repairs: list[str]) -> str | None:
    if not starting_time or minutes is None:
        return None
    if minutes < 0:
        repairs.append(f"duration_minutes {minutes} is negative; end left null")
        return None
    try:
        start = from_iso(starting_time)
    except UnreadableTime:
        return None  # already noted for starting_time
    try:
        return add_minutes(start, minutes)
    except UnreadableTime:
        repairs.append(f"duration_minutes {minutes} puts the end out of range; end left null")
        return None


def _name(ref: str | OncehubRef | OncehubUser | None) -> str | None:
    """A display name from an expanded object; a collapsed id string (``USR-...``) is not a name."""
    if isinstance(ref, OncehubUser):
        return ref.name or " ".join(part for part in (ref.first_name, ref.last_name) if part) or None
    if isinstance(ref, OncehubRef):
        return ref.name or ref.public_name or None
    if ref is None or _COLLAPSED_ID.fullmatch(ref):
        return None
    return ref.strip() or None


def _names(ref: str | OncehubRef | OncehubUser | None) -> list[str]:
    name = _name(ref)
    return [name] if name else []


def _location(item: OncehubBooking) -> Location | None:
    join_url = item.virtual_conferencing.join_url if item.virtual_conferencing else None
    if not item.location_description and not join_url:
        return None
    return Location(address=item.location_description or None, video_url=join_url or None)


def _customer(form: OncehubFormSubmission, timezone: str | None, repairs: list[str]) -> Customer | None:
    customer = Customer(
        name=form.name or None,
        email=checked_email(form.email, "form_submission.email", repairs),
        phone=form.phone or form.mobile_phone or None,
        timezone=timezone or None,
        company=form.company or None,
    )
    return None if customer == Customer() else customer


def _guests(guests: list[str], repairs: list[str]) -> list[Attendee]:
    # OnceHub sends [""] for a booking without guests.
    return [Attendee(email=checked_email(guest, "guest", repairs)) for guest in guests if guest.strip()]


def _custom_field(field: OncehubCustomField) -> CustomField:
    return CustomField(name=field.name, value=field_value(field.value))


def _cancellation(info: OncehubCancelInfo | None) -> Cancellation | None:
    if info is None or not (info.reason or info.actioned_by):
        return None
    by = _ACTORS.get(info.actioned_by, info.actioned_by) if info.actioned_by else None
    return Cancellation(reason=info.reason or None, by=by)


def _rescheduled_from(item: OncehubBooking) -> str | None:
    # The documented sample names the booking itself; a self-reference says nothing.
    previous = item.rescheduled_booking_id
    return f"{NAME}:{previous}" if previous and previous != item.id else None


ADAPTER = Adapter(name=NAME, map=map_request, signature=OncehubSignature)
