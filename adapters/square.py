"""Square Bookings: ``booking.created`` and ``booking.updated``, whose status says cancelled, declined or no-show."""

from __future__ import annotations

import msgspec

from adapters._decode import convert_part, decode_payload
from adapters.base import Adapter, AdapterError, Change, Mapped, VerifiedRequest
from adapters.signatures import UrlHmac
from adapters.times import UnreadableTime, add_minutes, from_iso, read_event_time, read_iso
from schemas.canonical import Booking, BookingStatus, Cancellation, EventData, EventType
from schemas.square import SquareBooking, SquareBookingEvent, SquareEnvelope, SquareSegment

__all__ = ["ADAPTER", "NAME", "SIGNATURE_HEADER", "SquareSignature", "map_request"]

NAME = "square"
_ENVELOPE = msgspec.json.Decoder(SquareEnvelope)
SIGNATURE_HEADER = "x-square-hmacsha256-signature"
SquareSignature = UrlHmac(header=SIGNATURE_HEADER)
"""``x-square-hmacsha256-signature: <base64>``: HMAC-SHA256 of the source's notification_url + the raw body."""

_STATUSES: dict[str, BookingStatus] = {
    "PENDING": "pending",
    "ACCEPTED": "confirmed",
    "CANCELLED_BY_CUSTOMER": "cancelled",
    "CANCELLED_BY_SELLER": "cancelled",
    "DECLINED": "declined",
    "NO_SHOW": "no_show",
}
# booking.updated says "updated or cancelled": the status tells which change it was. Without per-booking
# state a new start_at (a reschedule) cannot be told from any other edit, so it is booking.updated.
_UPDATES: dict[BookingStatus, EventType] = {
    "cancelled": "booking.cancelled",
    "declined": "booking.declined",
    "no_show": "booking.no_show",
}
_CANCELLED_BY = {"CANCELLED_BY_CUSTOMER": "customer", "CANCELLED_BY_SELLER": "owner"}


def map_request(request: VerifiedRequest) -> Mapped:
    """Map one Square booking webhook to its canonical change."""
    repairs: list[str] = []
    envelope = decode_payload(request.body, _ENVELOPE, repairs)
    if envelope.type not in ("booking.created", "booking.updated"):
        raise AdapterError("unsupported-event", f"unknown Square event type {envelope.type!r} - at `$.type`")
    item = _booking_data(envelope)
    status = _status(item.status, repairs)
    event_type: EventType = "booking.created"
    if envelope.type == "booking.updated":
        event_type = _UPDATES.get(status, "booking.updated") if status else "booking.updated"
    data = EventData(provider=NAME, provider_event=envelope.type, booking=_booking(item, status, repairs),
                     repairs=repairs)
    time = read_event_time(envelope.created_at, "event created_at", repairs)
    return Mapped(changes=[Change(type=event_type, data=data, time=time)], delivery_key=envelope.event_id or None)


def _booking_data(envelope: SquareEnvelope) -> SquareBooking:
    item = convert_part({"data": envelope.data}, SquareBookingEvent).data.object.booking
    if not item.id.strip():
        raise AdapterError("invalid-payload", "empty booking id - at `$.data.object.booking.id`")
    return item


def _status(value: str | None, repairs: list[str]) -> BookingStatus | None:
    if not value:
        return None
    status = _STATUSES.get(value.strip().upper())
    if status is None:
        repairs.append(f"status {value!r} has no canonical status; status is null")
    return status


def _booking(item: SquareBooking, status: BookingStatus | None, repairs: list[str]) -> Booking:
    minutes = _minutes(item.appointment_segments or [], repairs)
    by = _CANCELLED_BY.get((item.status or "").strip().upper())
    return Booking(
        id=f"{NAME}:{item.id}",
        provider_id=item.id,
        kind="appointment",
        status=status,
        start=read_iso(item.start_at, "start_at", repairs),
        end=_end(item.start_at, minutes, repairs),
        duration_minutes=minutes,
        all_day=bool(item.all_day),
        notes=item.customer_note or None,
        cancellation=Cancellation(by=by) if by else None,
        created_at=read_iso(item.created_at, "created_at", repairs),
        updated_at=read_iso(item.updated_at, "updated_at", repairs),
    )


def _minutes(segments: list[SquareSegment], repairs: list[str]) -> int | None:
    """The segments' durations and intermissions summed; None when a duration is missing or negative."""
    total = 0
    for index, segment in enumerate(segments):
        duration, intermission = segment.duration_minutes, segment.intermission_minutes or 0
        if duration is None or duration < 0 or intermission < 0:
            repairs.append(f"appointment_segments[{index}] has no usable duration_minutes; end and duration left null")
            return None
        total += duration + intermission
    return total if segments else None


def _end(start_at: str | None, minutes: int | None, repairs: list[str]) -> str | None:
    if not start_at or minutes is None:
        return None
    try:
        start = from_iso(start_at)
    except UnreadableTime:
        return None  # already noted for start_at
    try:
        return add_minutes(start, minutes)
    except UnreadableTime:
        repairs.append(f"start_at plus {minutes} minutes is out of range; end left null")
        return None


ADAPTER = Adapter(name=NAME, map=map_request, signature=SquareSignature, needs_notification_url=True)
