"""SchedulingKit's webhook payload, as its documentation shows it (unknown fields are ignored)."""

from __future__ import annotations

import msgspec

__all__ = [
    "SchedulingKitBooking",
    "SchedulingKitEnvelope",
    "SchedulingKitHead",
    "SchedulingKitInvitee",
    "SchedulingKitPayment",
]


class SchedulingKitHead(msgspec.Struct, kw_only=True):
    """Just the event name: read first, so a test ping's ``data`` never has to be a booking."""

    event: str


class SchedulingKitInvitee(msgspec.Struct, kw_only=True):
    """The person who booked."""

    name: str | None = None
    email: str | None = None
    timezone: str | None = None


class SchedulingKitPayment(msgspec.Struct, kw_only=True):
    """``data.payment`` on payment.* events; amounts may come as numbers or strings."""

    id: int | str | None = None
    amount: int | float | str | None = None
    currency: str | None = None
    status: str | None = None
    refunded_amount: int | float | str | None = None


class SchedulingKitBooking(msgspec.Struct, kw_only=True):
    """``data``: the booking; ``date`` and ``time`` are wall-clock in the account's zone."""

    id: int | str | None = None
    event_type: str | None = None
    status: str | None = None
    date: str | None = None
    time: str | None = None
    duration: int | None = None
    timezone: str | None = None
    invitee: SchedulingKitInvitee | None = None
    location: str | None = None
    meeting_link: str | None = None
    payment: SchedulingKitPayment | None = None


class SchedulingKitEnvelope(msgspec.Struct, kw_only=True):
    """The envelope every webhook shares: ``{event, timestamp, data}``."""

    event: str
    timestamp: str | None = None
    data: SchedulingKitBooking | None = None
