"""OnceHub's webhook payload as documented (references as id strings or expanded objects); unknown fields are ignored."""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = [
    "OncehubBooking",
    "OncehubBookingEvent",
    "OncehubCancelInfo",
    "OncehubConferencing",
    "OncehubCustomField",
    "OncehubEnvelope",
    "OncehubFormSubmission",
    "OncehubRef",
    "OncehubUser",
]


class OncehubRef(msgspec.Struct, kw_only=True):
    """An expanded booking page, master page or event type (collapsed to its id string by default)."""

    id: str | None = None
    name: str | None = None
    public_name: str | None = None
    label: str | None = None


class OncehubUser(msgspec.Struct, kw_only=True):
    """An expanded owner (a OnceHub user); collapsed it is the user id string."""

    id: str | None = None
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None


class OncehubConferencing(msgspec.Struct, kw_only=True):
    join_url: str | None = None


class OncehubCancelInfo(msgspec.Struct, kw_only=True):
    """Why and by whom a booking was cancelled or rescheduled; ``actioned_by`` is ``user`` or ``customer``."""

    reason: str | None = None
    actioned_by: str | None = None
    user_id: str | None = None


class OncehubCustomField(msgspec.Struct, kw_only=True):
    name: str
    value: str | int | float | bool | list[str] | None = None


class OncehubFormSubmission(msgspec.Struct, kw_only=True):
    """What the customer typed into the booking form; ``guests`` is ``[""]`` when there are none."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    mobile_phone: str | None = None
    company: str | None = None
    note: str | None = None
    guests: list[str] | None = None
    custom_fields: list[OncehubCustomField] | None = None


class OncehubBooking(msgspec.Struct, kw_only=True):
    """The booking object in ``data`` of every ``booking.*`` event."""

    id: str
    tracking_id: str | None = None
    subject: str | None = None
    status: str | None = None
    creation_time: str | None = None
    starting_time: str | None = None
    last_updated_time: str | None = None
    duration_minutes: int | None = None
    customer_timezone: str | None = None
    owner: str | OncehubUser | None = None
    virtual_conferencing: OncehubConferencing | None = None
    location_description: str | None = None
    rescheduled_booking_id: str | None = None
    cancel_reschedule_url: str | None = None
    cancel_reschedule_information: OncehubCancelInfo | None = None
    form_submission: OncehubFormSubmission | None = None
    booking_page: str | OncehubRef | None = None
    master_page: str | OncehubRef | None = None
    event_type: str | OncehubRef | None = None


class OncehubEnvelope(msgspec.Struct, kw_only=True):
    """The event object; ``data`` stays untyped until ``type`` says whether it is a booking."""

    type: str
    id: str | None = None
    object: str | None = None
    creation_time: str | None = None
    api_version: str | None = None
    data: Any = None


class OncehubBookingEvent(msgspec.Struct, kw_only=True):
    """The envelope once ``type`` says booking: only ``data`` is read, so errors keep their ``$.data`` path."""

    data: OncehubBooking
