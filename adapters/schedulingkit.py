"""SchedulingKit: event and booking lifecycle, reminders, payments; HMAC-signed bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from adapters._amount import decimal_amount
from adapters._contact import checked_email
from adapters._decode import decode_payload
from adapters.base import Adapter, AdapterError, Change, Mapped, VerifiedRequest
from adapters.signatures import HexHmac
from adapters.times import UnreadableTime, add_minutes, from_local, read_event_time
from schemas.canonical import Booking, BookingStatus, Customer, EventData, EventType, Location, Payment
from schemas.schedulingkit import (
    SchedulingKitBooking,
    SchedulingKitEnvelope,
    SchedulingKitHead,
    SchedulingKitInvitee,
    SchedulingKitPayment,
)

__all__ = ["ADAPTER", "NAME", "SchedulingKitSignature", "delivery_headers", "map_request"]

NAME = "schedulingkit"
_HEAD = msgspec.json.Decoder(SchedulingKitHead)
_ENVELOPE = msgspec.json.Decoder(SchedulingKitEnvelope)

SIGNATURE_HEADER = "x-webhook-signature"
DELIVERY_HEADER = "x-webhook-delivery-id"
EVENT_HEADER = "x-webhook-event"
SchedulingKitSignature = HexHmac(header=SIGNATURE_HEADER, prefix="sha256=", documented="hex or base64")
"""``X-Webhook-Signature``: HMAC-SHA256 of the raw body, hex (or base64), maybe ``sha256=``."""
TEST_EVENT = "webhook.test"

_TYPES: dict[str, EventType] = {
    "booking.created": "booking.created",
    "event.created": "booking.created",
    "booking.confirmed": "booking.confirmed",
    "event.updated": "booking.updated",
    "event.rescheduled": "booking.rescheduled",
    "booking.cancelled": "booking.cancelled",
    "event.cancelled": "booking.cancelled",
    "event.reminder": "booking.reminder",
    "event.follow_up": "booking.follow_up",
    "payment.completed": "payment.completed",
    "payment.failed": "payment.failed",
    "payment.refunded": "payment.refunded",
}
# Only these events say what state the booking is in; the others leave it to data.status.
_EVENT_STATUSES: dict[str, BookingStatus] = {
    "booking.confirmed": "confirmed",
    "booking.cancelled": "cancelled",
    "event.cancelled": "cancelled",
}
_STATUSES: dict[str, BookingStatus] = {
    "confirmed": "confirmed",
    "scheduled": "confirmed",
    "booked": "confirmed",
    "rescheduled": "confirmed",
    "pending": "pending",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "declined": "declined",
    "rejected": "declined",
    "completed": "completed",
    "no_show": "no_show",
}


def delivery_headers(body: bytes, delivery_id: str) -> dict[str, str]:
    """The headers SchedulingKit sends beside its signature: the body's event, and the delivery's id."""
    headers = {}
    try:
        headers[EVENT_HEADER] = _HEAD.decode(body).event
    except msgspec.DecodeError:
        pass  # nothing to name: the gateway reads the event from the body anyway
    headers[DELIVERY_HEADER] = delivery_id
    return headers


def map_request(request: VerifiedRequest) -> Mapped:
    """Map one SchedulingKit webhook to canonical changes.

    The body holds no delivery id and ``X-Webhook-Delivery-Id`` is not signed,
    so the gateway keys the delivery on the body's hash (the header is archived).
    """
    head = decode_payload(request.body, _HEAD, [])
    if head.event == TEST_EVENT:
        return Mapped(changes=[], note="test ping")
    event_type = _TYPES.get(head.event)
    if event_type is None:
        raise AdapterError("unsupported-event", f"unknown SchedulingKit event {head.event!r} - at $.event")
    repairs: list[str] = []
    envelope = decode_payload(request.body, _ENVELOPE, repairs)
    _check_event_header(request.headers.get(EVENT_HEADER), envelope.event, repairs)
    if envelope.data is None:
        raise AdapterError("invalid-payload", "data is missing or null - at $.data")
    change = _change(envelope, envelope.data, event_type, request.source.timezone, repairs)
    return Mapped(changes=[change])


def _check_event_header(header: str | None, event: str, repairs: list[str]) -> None:
    sent = (header or "").strip()
    if sent and sent != event:
        repairs.append(f"X-Webhook-Event header {sent!r} disagrees with the body's event {event!r}; used the body's")


def _change(
    envelope: SchedulingKitEnvelope,
    data: SchedulingKitBooking,
    event_type: EventType,
    zone: str | None,
    repairs: list[str],
) -> Change:
    time = read_event_time(envelope.timestamp, "timestamp", repairs)
    booking = _booking(data, envelope.event, zone, repairs)
    payment = _payment(data.payment, repairs) if event_type.startswith("payment.") else None
    event_data = EventData(
        provider=NAME, provider_event=envelope.event, booking=booking, payment=payment, repairs=repairs
    )
    return Change(type=event_type, data=event_data, time=time)


def _booking(data: SchedulingKitBooking, event: str, zone: str | None, repairs: list[str]) -> Booking:
    provider_id = _provider_id(data.id)
    start, end = _times(data.date, data.time, data.duration, zone, repairs)
    return Booking(
        id=f"{NAME}:{provider_id}",
        provider_id=provider_id,
        kind="meeting",
        status=_EVENT_STATUSES.get(event) or _status(data.status, repairs),
        title=data.event_type or None,
        start=start,
        end=end,
        duration_minutes=data.duration,
        timezone=data.timezone or None,
        location=_location(data.location, data.meeting_link),
        services=[data.event_type] if data.event_type else [],
        customer=_customer(data.invitee, repairs),
        paid=True if event == "payment.completed" else None,
    )


def _provider_id(value: int | str | None) -> str:
    text = str(value).strip() if value is not None else ""
    if not text:
        raise AdapterError("invalid-payload", "data.id is missing or empty, so the booking has no id - at $.data.id")
    return text


def _status(status: str | None, repairs: list[str]) -> BookingStatus | None:
    if status is None:
        return None
    mapped = _STATUSES.get(status.strip().lower())
    if mapped is None:
        repairs.append(f"status {status!r} has no canonical status; status left null")
    return mapped


def _times(
    date: str | None, time: str | None, duration: int | None, zone: str | None, repairs: list[str]
) -> tuple[str | None, str | None]:
    """Start and end in UTC, when the payload has both parts and the source a usable zone."""
    if date is None and time is None:
        return None, None
    if date is None or time is None:
        repairs.append(f"date {date!r} and time {time!r} are not both present; start and end left null")
        return None, None
    if zone is None:
        repairs.append("date/time are local and the source has no timezone configured; start and end left null")
        return None, None
    if not _known_zone(zone):
        repairs.append(f"date/time are local and the source's timezone {zone!r} is unknown; start and end left null")
        return None, None
    return _read_local(date, time, zone, duration, repairs)


def _read_local(date: str, time: str, zone: str, duration: int | None, repairs: list[str]) -> tuple[str, str | None]:
    try:
        start = from_local(date, time, zone)
        note = _wall_clock_note(date, time, zone)
    except UnreadableTime as exc:
        repairs.append(f"date/time {date!r} {time!r} could not be read ({exc}); start kept as sent, end left null")
        return f"{date} {time}", None
    if note is not None:
        repairs.append(note)
    return start, _end(start, duration, repairs)


def _wall_clock_note(date: str, time: str, zone: str) -> str | None:
    """Say when from_local had to choose: an offset it ignored, a DST gap or overlap."""
    wall = datetime.fromisoformat(f"{date.strip()}T{time.strip()}")
    if wall.tzinfo is not None:
        return f"time {time!r} carries its own offset; it was read as wall-clock time in {zone}"
    tz = ZoneInfo(zone)
    first, second = wall.replace(tzinfo=tz), wall.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return None
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall:
        return f"{date} {time} does not exist in {zone} (clocks went forward); read with the offset before the change"
    return f"{date} {time} happens twice in {zone} (clocks went back); read as the first"


def _known_zone(zone: str) -> bool:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _end(start: str, duration: int | None, repairs: list[str]) -> str | None:
    if duration is None:
        return None
    if duration < 0:
        repairs.append(f"duration {duration} is negative; end left null")
        return None
    try:
        return add_minutes(start, duration)
    except UnreadableTime:
        repairs.append(f"duration {duration} ends outside the representable years; end left null")
        return None


def _location(name: str | None, video_url: str | None) -> Location | None:
    if not name and not video_url:
        return None
    return Location(name=name or None, video_url=video_url or None)


def _customer(invitee: SchedulingKitInvitee | None, repairs: list[str]) -> Customer | None:
    if invitee is None:
        return None
    email = checked_email(invitee.email, "invitee.email", repairs)
    customer = Customer(name=invitee.name or None, email=email, timezone=invitee.timezone or None)
    return None if customer == Customer() else customer


def _payment(payment: SchedulingKitPayment | None, repairs: list[str]) -> Payment | None:
    if payment is None:
        return None
    return Payment(
        id=None if payment.id is None else str(payment.id),
        amount=decimal_amount(payment.amount, "payment.amount", repairs),
        currency=payment.currency.strip().upper() if payment.currency else None,
        status=payment.status or None,
        refunded_amount=decimal_amount(payment.refunded_amount, "payment.refunded_amount", repairs),
    )


ADAPTER = Adapter(
    name=NAME, map=map_request, signature=SchedulingKitSignature, delivery_headers=delivery_headers,
    delivery_id_header=DELIVERY_HEADER, needs_timezone=True,
)
