"""Picktime's webhook payload, as its documentation shows it (unknown fields are ignored)."""

from __future__ import annotations

import msgspec

__all__ = ["PicktimeBooking", "PicktimeEnvelope"]


class PicktimeBooking(msgspec.Struct, kw_only=True):
    """One ``dataObject``: an appointment, a class session, a resource booking or a participant."""

    event_id: str
    event_type: str
    attendee_id: str | None = None
    booking_id: str | None = None
    event_status: str | None = None
    event_duration: int | None = None
    start_date_time_gmt: int | None = None
    end_date_time_gmt: int | None = None
    all_day: bool = False
    total_slots: int | None = None
    slots_filled: int | None = None
    price: int | float | str | None = None
    paid: bool | None = None
    booking_notes: str | None = None
    location_name: str | None = None
    service_names: list[str] = []
    sub_service_names: list[str] = []
    team_member_name: list[str] = []
    resource_names: list[str] = []
    customer_name: str | None = None
    email: str | None = None
    mobile_no: str | None = None
    address: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    addnl_fields: str | None = None
    cancel_url: str | None = None


class PicktimeEnvelope(msgspec.Struct, kw_only=True):
    """The envelope: one booking, a list of class sessions, or a list of removed attendee ids."""

    dataObject: PicktimeBooking | list[PicktimeBooking | str]
    type: str
    status: bool | None = None
