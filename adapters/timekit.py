"""Timekit: a booking resource posted each time the booking enters a new state of its graph.

Timekit sends no event name, so ``provider_event`` is the state entered. Where
the contract is silent, the choices made here are:

- ``confirmed`` is ``booking.confirmed`` on graphs that announce a booking as
  pending first (``confirm_decline*`` after ``tentative``, ``reservation*``
  after ``reserved``), and ``booking.created`` (status confirmed) on every
  other graph: Timekit sends no separate "created" for instant bookings, so a
  consumer never misses one, and never sees two ``booking.created``.
- ``cancelled``, ``cancelled_by_customer`` and ``cancelled_by_owner`` are
  ``booking.cancelled`` with ``cancellation.by`` null, ``customer``, ``owner``;
  ``expired`` (an unconfirmed reservation timing out) is ``booking.cancelled``
  with reason ``expired``.
- ``paid`` is ``payment.completed`` (booking confirmed, paid); ``unpaid`` is
  ``payment.failed`` (booking cancelled with reason ``unpaid``: Timekit enters
  it when payment times out). ``payment.status`` is the state as sent.
- ``rescheduled_by_customer`` is ``booking.rescheduled``, the booking standing
  confirmed at the times the payload carries; ``rescheduled_from`` stays null.
- ``error`` (Timekit failed to make the booking) and unknown states raise
  ``unsupported-event`` so they are dead-lettered visibly, never dropped.
- Group graphs (``group_*``) are kind ``class``, every other graph
  ``appointment``. The first customer is ``booking.customer`` (none on
  ``group_owner``, whose customers are all attendees); ``attendees`` lists
  every customer when there are several or the graph is ``group_owner``.
- ``customers[].meta`` (JSON in a string) gives ``custom_fields`` of the
  primary customer, and the phone when ``phone`` itself is empty. The
  calendar is not a staff member, so ``staff`` stays empty.
- Empty strings are values not sent (null). ``Change.time`` is ``updated_at``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

import msgspec

from adapters._contact import checked_email
from adapters._decode import decode_payload, parse_embedded_json
from adapters._fields import field_value
from adapters.base import Adapter, AdapterError, Change, Mapped, VerifiedRequest
from adapters.signatures import HexHmac
from adapters.times import UnreadableTime, from_iso, read_iso
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
from schemas.timekit import TimekitBooking, TimekitCustomer, TimekitEvent

__all__ = ["ADAPTER", "NAME", "SIGNATURE_HEADER", "TimekitSignature", "map_request"]

NAME = "timekit"
_BOOKING = msgspec.json.Decoder(TimekitBooking)
SIGNATURE_HEADER = "x-timekit-signature"
TimekitSignature = HexHmac(header=SIGNATURE_HEADER)
"""The hex HMAC-SHA256 of the raw body under the app's secret, no timestamp."""


class _Transition(NamedTuple):
    type: EventType
    status: BookingStatus
    cancellation: Cancellation | None = None
    paid: bool | None = None


_TRANSITIONS: dict[str, _Transition] = {
    "tentative": _Transition("booking.created", "pending"),
    "reserved": _Transition("booking.created", "pending"),
    "confirmed": _Transition("booking.created", "confirmed"),
    "declined": _Transition("booking.declined", "declined"),
    "cancelled": _Transition("booking.cancelled", "cancelled", Cancellation()),
    "cancelled_by_customer": _Transition("booking.cancelled", "cancelled", Cancellation(by="customer")),
    "cancelled_by_owner": _Transition("booking.cancelled", "cancelled", Cancellation(by="owner")),
    "expired": _Transition("booking.cancelled", "cancelled", Cancellation(reason="expired")),
    "rescheduled_by_customer": _Transition("booking.rescheduled", "confirmed"),
    "completed": _Transition("booking.completed", "completed"),
    "paid": _Transition("payment.completed", "confirmed", paid=True),
    "unpaid": _Transition("payment.failed", "cancelled", Cancellation(reason="unpaid"), paid=False),
}
_PENDING_FIRST_GRAPHS = ("confirm_decline", "reservation")


def map_request(request: VerifiedRequest) -> Mapped:
    """Map one Timekit webhook (a booking that entered a state) to one canonical change."""
    repairs: list[str] = []
    payload = decode_payload(request.body, _BOOKING, repairs)
    if not payload.id.strip():
        raise AdapterError("invalid-payload", "booking id is empty - at $.id")
    transition = _transition(payload)
    booking = _booking(payload, transition, repairs)
    payment = Payment(status=payload.state) if transition.type.startswith("payment.") else None
    data = EventData(provider=NAME, provider_event=payload.state, booking=booking, payment=payment, repairs=repairs)
    return Mapped(changes=[Change(type=transition.type, data=data, time=_utc(payload.updated_at))])


def _transition(payload: TimekitBooking) -> _Transition:
    state = payload.state.strip().lower()
    if state == "error":
        raise AdapterError("unsupported-event", "Timekit state 'error': the booking failed at Timekit - at $.state")
    transition = _TRANSITIONS.get(state)
    if transition is None:
        raise AdapterError("unsupported-event", f"unknown Timekit state {payload.state!r} - at $.state")
    if state == "confirmed" and (payload.graph or "").startswith(_PENDING_FIRST_GRAPHS):
        return transition._replace(type="booking.confirmed")
    return transition


def _booking(payload: TimekitBooking, transition: _Transition, repairs: list[str]) -> Booking:
    event = payload.event or TimekitEvent()
    graph = payload.graph or ""
    customers = payload.customers or []
    people = [_person(customer, index, repairs) for index, customer in enumerate(customers)]
    primary = people[0] if people and graph != "group_owner" else None
    return Booking(
        id=f"{NAME}:{payload.id}",
        provider_id=payload.id,
        kind="class" if graph.startswith("group") else "appointment",
        status=transition.status,
        title=event.what or None,
        start=read_iso(event.start, "event.start", repairs),
        end=read_iso(event.end, "event.end", repairs),
        duration_minutes=_duration(event, repairs),
        all_day=event.allDay is True,
        timezone=primary[0].timezone if primary else None,
        location=Location(name=event.where) if event.where else None,
        customer=primary[0] if primary else None,
        attendees=_attendees(customers, people) if len(people) > 1 or graph == "group_owner" else [],
        paid=transition.paid,
        notes=event.description or None,
        custom_fields=_custom_fields(primary[1]) if primary else [],
        cancellation=transition.cancellation,
        created_at=read_iso(payload.created_at, "created_at", repairs),
        updated_at=read_iso(payload.updated_at, "updated_at", repairs),
    )


def _utc(value: str | None) -> str | None:
    """RFC 3339 UTC when ``value`` is a readable ISO time, else None."""
    try:
        return from_iso(value) if value else None
    except UnreadableTime:
        return None


def _duration(event: TimekitEvent, repairs: list[str]) -> int | None:
    start, end = _utc(event.start), _utc(event.end)
    if start is None or end is None:
        return None
    seconds = (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    if seconds < 0:
        repairs.append("event.end is before event.start; duration_minutes left null")
        return None
    return int(seconds // 60)


def _person(customer: TimekitCustomer, index: int, repairs: list[str]) -> tuple[Customer, dict[str, Any]]:
    where = f"customers[{index}]"
    meta = _meta(customer.meta, f"{where}.meta", repairs)
    meta_phone = meta.get("phone")
    person = Customer(
        name=customer.name or None,
        email=checked_email(customer.email, f"{where}.email", repairs),
        phone=customer.phone or (meta_phone if isinstance(meta_phone, str) and meta_phone else None),
        timezone=customer.timezone or None,
    )
    return person, meta


def _meta(meta: str | dict[str, Any] | None, where: str, repairs: list[str]) -> dict[str, Any]:
    if isinstance(meta, dict):
        return meta
    value = parse_embedded_json(meta, where, repairs)
    if value is not None and not isinstance(value, dict):
        repairs.append(f"{where} is JSON but not an object; left out")
    return value if isinstance(value, dict) else {}


def _attendees(customers: list[TimekitCustomer], people: list[tuple[Customer, dict[str, Any]]]) -> list[Attendee]:
    return [
        Attendee(id=customer.id or None, name=person.name, email=person.email, phone=person.phone)
        for customer, (person, _) in zip(customers, people, strict=True)
    ]


def _custom_fields(meta: dict[str, Any]) -> list[CustomField]:
    return [CustomField(name=name, value=field_value(value)) for name, value in meta.items()]


ADAPTER = Adapter(name=NAME, map=map_request, signature=TimekitSignature)
