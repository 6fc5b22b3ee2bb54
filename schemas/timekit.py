"""Timekit's webhook payload: the booking resource with its customers, event and calendar (unknown fields are ignored)."""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["TimekitBooking", "TimekitCalendar", "TimekitCustomer", "TimekitEvent"]


class TimekitCustomer(msgspec.Struct, kw_only=True):
    """One customer; ``meta`` is JSON inside a string (``"{}"``), or an object if Timekit ever expands it."""

    id: str | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    voip: str | None = None
    timezone: str | None = None
    meta: str | dict[str, Any] | None = None


class TimekitEvent(msgspec.Struct, kw_only=True):
    """The calendar event the booking holds; times carry offsets such as ``+0100``."""

    id: str | None = None
    what: str | None = None
    where: str | None = None
    description: str | None = None
    rsvp: str | None = None
    allDay: bool | None = None
    start: str | None = None
    end: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class TimekitCalendar(msgspec.Struct, kw_only=True):
    """The resource's calendar the booking was made in."""

    id: str | None = None
    name: str | None = None
    description: str | None = None


class TimekitBooking(msgspec.Struct, kw_only=True):
    """The whole webhook body: a booking that has just entered ``state`` on its ``graph``."""

    id: str
    state: str
    graph: str | None = None
    completed: bool | None = None
    created_at: str | None = None
    updated_at: str | None = None
    customers: list[TimekitCustomer] | None = None
    event: TimekitEvent | None = None
    calendar: TimekitCalendar | None = None
