"""Appointlet's webhook payloads, both generations, as its documentation shows them (unknown fields are ignored)."""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = [
    "AppointletAttendee",
    "AppointletBookable",
    "AppointletBooking",
    "AppointletBookingLinks",
    "AppointletEnvelope",
    "AppointletField",
    "AppointletFieldAnswer",
    "AppointletMeeting",
    "AppointletService",
]


class AppointletEnvelope(msgspec.Struct, kw_only=True):
    """Either generation's envelope, or the Test button's ``{"test": true}``.

    ``type`` tells them apart: ``"Activity"`` is the newer generation
    (``action`` such as ``Meeting.scheduled``, the resource in ``entity``);
    any other value is the documented one (``booking``, ``meeting_type``, ...,
    the resource in ``object``). The resource stays a plain mapping until
    ``type`` says which Struct it is.
    """

    id: int | str | None = None
    type: str | None = None
    action: str | None = None
    test: bool | None = None
    date_created: str | None = None
    created_at: str | None = None
    object: dict[str, Any] | None = None
    entity: dict[str, Any] | None = None


# The documented generation: ``object`` of a ``booking`` event.


class AppointletService(msgspec.Struct, kw_only=True):
    """The meeting type booked; ``duration`` is in seconds, ``price`` a decimal string."""

    name: str | None = None
    duration: float | None = None
    price: str | int | float | None = None
    currency: str | None = None


class AppointletBookable(msgspec.Struct, kw_only=True):
    """The member (host) the booking is with."""

    name: str | None = None


class AppointletField(msgspec.Struct, kw_only=True):
    """A booking-form field; ``slug`` names it (``first-name``, ``last-name``, ``phone-number``, ...)."""

    id: int | str | None = None
    slug: str | None = None


class AppointletFieldAnswer(msgspec.Struct, kw_only=True):
    """One answer on the booking form."""

    field: AppointletField | None = None
    value: Any = None


class AppointletBookingLinks(msgspec.Struct, kw_only=True):
    """``object.rel``: API links acting on the booking."""

    cancel: str | None = None
    reschedule: str | None = None


class AppointletBooking(msgspec.Struct, kw_only=True):
    """A booking (``object``); ``payment_*`` are decimal strings."""

    id: int | str
    timezone: str | None = None
    email: str | None = None
    start: str | None = None
    end: str | None = None
    date_created: str | None = None
    confirmed: bool | None = None
    canceled: bool | None = None
    url: str | None = None
    payment_amount: str | int | float | None = None
    payment_refunded: str | int | float | None = None
    payment_currency: str | None = None
    service: AppointletService | None = None
    bookable: AppointletBookable | None = None
    fields: list[AppointletFieldAnswer] = []
    rel: AppointletBookingLinks | None = None


# The newer generation: ``entity`` of an ``Activity``.


class AppointletMeeting(msgspec.Struct, kw_only=True):
    """A meeting (``entity`` of ``Meeting.*``), with the fields the documented sample shows."""

    id: int | str
    type: str | None = None
    created_at: str | None = None
    name: str | None = None
    location: str | None = None
    location_type: str | None = None
    start: str | None = None
    end: str | None = None
    approved: bool | None = None
    confirmed: bool | None = None
    cancelled: bool | None = None


class AppointletAttendee(msgspec.Struct, kw_only=True):
    """An attendee (``entity`` of ``Attendee.*``).

    The documentation shows no Attendee sample: this shape is assumed, kept
    loose, and ``meeting`` is read as the meeting itself or its bare id.
    """

    id: int | str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    timezone: str | None = None
    meeting: AppointletMeeting | int | str | None = None
