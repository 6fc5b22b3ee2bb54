"""Square's booking webhook payload (``booking.created``, ``booking.updated``) as documented; unknown fields ignored."""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["SquareBooking", "SquareBookingEvent", "SquareEnvelope", "SquareSegment"]


class SquareSegment(msgspec.Struct, kw_only=True):
    """One service of the appointment; an appointment's length is the sum of its segments'."""

    duration_minutes: int | None = None
    intermission_minutes: int | None = None
    service_variation_id: str | None = None
    team_member_id: str | None = None


class SquareBooking(msgspec.Struct, kw_only=True):
    """``data.object.booking``: no end time, and of the customer only ``customer_id``."""

    id: str
    version: int | None = None
    status: str | None = None
    start_at: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    all_day: bool | None = None
    appointment_segments: list[SquareSegment] | None = None
    customer_id: str | None = None
    customer_note: str | None = None
    seller_note: str | None = None
    location_id: str | None = None
    transition_time_minutes: int | None = None


class _BookingObject(msgspec.Struct, kw_only=True):
    booking: SquareBooking


class _BookingData(msgspec.Struct, kw_only=True):
    object: _BookingObject
    type: str | None = None
    id: str | None = None


class SquareEnvelope(msgspec.Struct, kw_only=True):
    """The event; ``data`` stays untyped until ``type`` says it is a booking."""

    type: str
    event_id: str | None = None
    merchant_id: str | None = None
    location_id: str | None = None
    created_at: str | None = None
    data: Any = None


class SquareBookingEvent(msgspec.Struct, kw_only=True):
    """The envelope once ``type`` says booking: only ``data`` is read, so errors keep their ``$.data`` path."""

    data: _BookingData
