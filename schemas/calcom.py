"""Cal.com's webhook payload (version 2021-10-20), enveloped or flat; Cal.com's camelCase names, unknown fields ignored."""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["CalcomBooking", "CalcomBookingEvent", "CalcomDocument", "CalcomPerson"]


class CalcomPerson(msgspec.Struct, kw_only=True, rename="camel"):
    """The organizer or an attendee (the booker first, then guests); ``no_show`` on BOOKING_NO_SHOW_UPDATED."""

    name: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    time_zone: str | None = None
    phone_number: str | None = None
    no_show: bool | None = None


class CalcomBooking(msgspec.Struct, kw_only=True, rename="camel"):
    """The booking: ``payload`` of most triggers, the document itself when flat (meetings, custom templates)."""

    uid: str | None = None
    booking_id: int | None = None
    booking_uid: str | None = None
    """BOOKING_NO_SHOW_UPDATED names its booking so, not by ``uid``."""
    title: str | None = None
    type: str | None = None
    event_title: str | None = None
    start_time: str | None = None
    end_time: str | None = None
    length: int | None = None
    status: str | None = None
    location: str | None = None
    additional_notes: str | None = None
    organizer: CalcomPerson | str | None = None
    """An object as Cal.com sends it; a custom template may send only a name (its own example: ``{{organizer.name}}``)."""
    attendees: list[CalcomPerson] | None = None
    responses: dict[str, Any] | None = None
    """Booking-form answers by field: ``{label, value}`` as Cal.com sends them, any JSON from a template."""
    metadata: dict[str, Any] | None = None
    reschedule_uid: str | None = None
    """BOOKING_RESCHEDULED: the booking this one replaced, and its times."""
    reschedule_start_time: str | None = None
    reschedule_end_time: str | None = None
    rescheduled_by: str | None = None
    cancellation_reason: str | None = None
    cancelled_by: str | None = None
    rejection_reason: str | None = None
    payment_id: int | None = None
    currency: str | None = None


class CalcomDocument(CalcomBooking, kw_only=True, rename="camel"):
    """A whole body: ``triggerEvent``, ``createdAt`` and ``payload``, or (flat) the booking fields beside them."""

    trigger_event: str
    created_at: str | None = None
    payload: Any = None


class CalcomBookingEvent(msgspec.Struct, kw_only=True):
    """A document's ``payload`` read as a booking, so errors keep their ``$.payload`` path."""

    payload: CalcomBooking
