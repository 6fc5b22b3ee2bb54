"""Zoom Scheduler: scheduled events created and canceled, and Zoom's URL validation challenge answered."""

from __future__ import annotations

import hashlib
import hmac
from typing import TypeVar

import msgspec

from adapters._contact import checked_email
from adapters._decode import convert_part, decode_payload
from adapters.base import Adapter, AdapterError, Change, Mapped, VendorReply, VerifiedRequest
from adapters.signatures import HeaderTimestampHmac
from adapters.times import UnreadableTime, from_epoch_seconds, read_iso
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
)
from schemas.zoom import ZoomAnswer, ZoomEnvelope, ZoomInvitee, ZoomSchedulerEvent, ZoomTime, ZoomValidation

__all__ = ["ADAPTER", "NAME", "TRACKING_HEADER", "VALIDATION_EVENT", "ZoomSignature", "map_request", "reply"]

T = TypeVar("T")
NAME = "zoom"
VALIDATION_EVENT = "endpoint.url_validation"
_ENVELOPE = msgspec.json.Decoder(ZoomEnvelope)
_ENCODER = msgspec.json.Encoder()
ZoomSignature = HeaderTimestampHmac(header="x-zm-signature", timestamp_header="x-zm-request-timestamp")
"""``x-zm-signature: v0=<hex>``: HMAC-SHA256 of ``v0:<x-zm-request-timestamp>:<raw body>``, within a tolerance."""

_EVENT_TYPES: dict[str, tuple[EventType, BookingStatus]] = {
    "scheduler.scheduled_event_created": ("booking.created", "confirmed"),
    "scheduler.scheduled_event_canceled": ("booking.cancelled", "cancelled"),
}
_NOT_BOOKINGS = {"scheduler.routing_form_submission_created": "a routing form submission, not a booking"}


def map_request(request: VerifiedRequest) -> Mapped:
    """Map one Zoom notification: a Scheduler booking to its change; the URL validation to no event."""
    repairs: list[str] = []
    envelope = decode_payload(request.body, _ENVELOPE, repairs)
    acknowledged = _acknowledged(envelope)
    if acknowledged is not None:
        return acknowledged
    known = _EVENT_TYPES.get(envelope.event)
    if known is None:
        raise AdapterError("unsupported-event", f"unknown Zoom event {envelope.event!r} - at `$.event`")
    event_type, status = known
    invitee = _convert(envelope, ZoomSchedulerEvent).payload.object
    event_id = invitee.scheduled_event.event_id
    if not event_id.strip():
        raise AdapterError("invalid-payload", "empty event id - at `$.payload.object.scheduled_event.event_id`")
    booking = _booking(invitee, status, repairs)
    data = EventData(provider=NAME, provider_event=envelope.event, booking=booking, repairs=repairs)
    change = Change(type=event_type, data=data, time=_event_time(envelope.event_ts, repairs))
    return Mapped(changes=[change], delivery_key=_delivery_key(envelope, event_id))


def _acknowledged(envelope: ZoomEnvelope) -> Mapped | None:
    """No event for the URL validation, a routing form, or an event not of Scheduler's; None for the rest."""
    if envelope.event == VALIDATION_EVENT:
        _convert(envelope, ZoomValidation)  # the token must be there to be answered
        return Mapped(changes=[], note=f"{VALIDATION_EVENT}: Zoom checking the endpoint, not a booking")
    if envelope.event in _NOT_BOOKINGS:
        note = f"{envelope.event} is {_NOT_BOOKINGS[envelope.event]}"
    elif not envelope.event.startswith("scheduler."):  # one app's subscription may hold meeting, user... events
        note = f"{envelope.event} is not a Zoom Scheduler event"
    else:
        return None
    return Mapped(changes=[], delivery_key=_delivery_key(envelope, None), note=note)


def reply(request: VerifiedRequest, secret: bytes) -> VendorReply | None:
    """Zoom's URL validation answer: the plain token and its hex HMAC-SHA256 under the app's secret token."""
    try:
        envelope = _ENVELOPE.decode(request.body)
        if envelope.event != VALIDATION_EVENT:
            return None
        token = msgspec.convert({"payload": envelope.payload}, ZoomValidation).payload.plain_token
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError, UnicodeDecodeError):
        return None
    answer = {"plainToken": token, "encryptedToken": hmac.new(secret, token.encode(), hashlib.sha256).hexdigest()}
    return VendorReply(body=_ENCODER.encode(answer))


def _convert(envelope: ZoomEnvelope, kind: type[T]) -> T:
    return convert_part({"payload": envelope.payload}, kind)


def _delivery_key(envelope: ZoomEnvelope, event_id: str | None) -> str | None:
    """Zoom sends no delivery id: its event, event_ts and scheduled event id name a notification."""
    if envelope.event_ts is None:
        return None
    return f"{envelope.event}:{envelope.event_ts}:{event_id or ''}"


def _event_time(event_ts: int | None, repairs: list[str]) -> str | None:
    if event_ts is None:
        return None
    try:
        return from_epoch_seconds(event_ts // 1000, event_ts % 1000 * 1000)
    except UnreadableTime:
        repairs.append(f"event_ts {event_ts} is out of range; event time is the time received")
        return None


def _booking(invitee: ZoomInvitee, status: BookingStatus, repairs: list[str]) -> Booking:
    event = invitee.scheduled_event
    name = " ".join(part for part in (invitee.invitee_first_name, invitee.invitee_last_name) if part) or None
    customer = Customer(name=name, email=checked_email(invitee.invitee_email, "invitee_email", repairs))
    cancelled = status == "cancelled"
    return Booking(
        id=f"{NAME}:{event.event_id}",
        provider_id=event.event_id,
        kind="meeting",
        status=status,
        end=_time(event.end_date_time, "end_date_time", repairs),
        customer=None if customer == Customer() else customer,
        attendees=[Attendee(name=attendee.display_name or None,
                            email=checked_email(attendee.email, "attendees[].email", repairs))
                   for attendee in event.attendees or []],
        custom_fields=[_custom_field(answer) for answer in invitee.questions_and_answers or []],
        links=Links(manage=invitee.manage_url or None),
        cancellation=Cancellation(reason="rescheduled") if cancelled and invitee.rescheduled else None,
        created_at=_time(event.created, "created", repairs),
    )


def _time(value: ZoomTime, field: str, repairs: list[str]) -> str | None:
    """An RFC 3339 text is read; a number's unit is not documented, so it is left out, noted."""
    if isinstance(value, int):
        repairs.append(f"{field} {value} is a number in an undocumented unit; left null")
        return None
    return read_iso(value, field, repairs)


def _custom_field(answer: ZoomAnswer) -> CustomField:
    return CustomField(name=answer.question, value=answer.answer or None)


TRACKING_HEADER = "x-zm-trackingid"
"""Zoom's per-delivery id (undocumented, unsigned): archived beside the request, never a delivery key."""

ADAPTER = Adapter(name=NAME, map=map_request, signature=ZoomSignature, reply=reply, delivery_id_header=TRACKING_HEADER)
