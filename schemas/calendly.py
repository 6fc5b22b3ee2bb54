"""Calendly's webhook payload (API v2): the envelope and the Invitee it carries; unknown fields are ignored."""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = [
    "CalendlyCancellation",
    "CalendlyEnvelope",
    "CalendlyEvent",
    "CalendlyGuest",
    "CalendlyInvitee",
    "CalendlyInviteeEvent",
    "CalendlyLocation",
    "CalendlyMembership",
    "CalendlyNoShow",
    "CalendlyPayment",
    "CalendlyQuestion",
]


class CalendlyQuestion(msgspec.Struct, kw_only=True):
    question: str
    answer: str | None = None
    position: int | None = None


class CalendlyCancellation(msgspec.Struct, kw_only=True):
    """``canceled_by`` is a person's name; ``canceler_type`` is ``host`` or ``invitee``."""

    canceled_by: str | None = None
    reason: str | None = None
    canceler_type: str | None = None


class CalendlyPayment(msgspec.Struct, kw_only=True):
    external_id: str | None = None
    provider: str | None = None
    amount: float | int | str | None = None
    currency: str | None = None
    terms: str | None = None
    successful: bool | None = None


class CalendlyNoShow(msgspec.Struct, kw_only=True):
    uri: str | None = None
    created_at: str | None = None


class CalendlyLocation(msgspec.Struct, kw_only=True):
    """Where the event takes place: ``location`` is an address or phone number, ``join_url`` a video link."""

    type: str | None = None
    location: str | None = None
    join_url: str | None = None


class CalendlyMembership(msgspec.Struct, kw_only=True):
    """A host of the scheduled event."""

    user: str | None = None
    user_email: str | None = None
    user_name: str | None = None


class CalendlyGuest(msgspec.Struct, kw_only=True):
    email: str | None = None


class CalendlyEvent(msgspec.Struct, kw_only=True):
    """``payload.scheduled_event``, the Event the invitee booked: the only source of start and end."""

    uri: str | None = None
    name: str | None = None
    status: str | None = None
    start_time: str | None = None
    end_time: str | None = None
    event_type: str | None = None
    location: CalendlyLocation | None = None
    event_memberships: list[CalendlyMembership] | None = None
    event_guests: list[CalendlyGuest] | None = None


class CalendlyInvitee(msgspec.Struct, kw_only=True):
    """The Invitee in ``payload`` of every ``invitee.*`` and ``invitee_no_show.*`` event; ``uri`` is the booking id."""

    uri: str
    email: str | None = None
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    status: str | None = None
    timezone: str | None = None
    event: str | None = None
    scheduled_event: CalendlyEvent | None = None
    questions_and_answers: list[CalendlyQuestion] | None = None
    text_reminder_number: str | None = None
    rescheduled: bool | None = None
    old_invitee: str | None = None
    new_invitee: str | None = None
    cancel_url: str | None = None
    reschedule_url: str | None = None
    cancellation: CalendlyCancellation | None = None
    payment: CalendlyPayment | None = None
    no_show: CalendlyNoShow | None = None
    created_at: str | None = None
    updated_at: str | None = None


class CalendlyEnvelope(msgspec.Struct, kw_only=True):
    """``{event, created_at, created_by, payload}``; ``payload`` stays untyped until ``event`` says it is an invitee."""

    event: str
    created_at: str | None = None
    created_by: str | None = None
    payload: Any = None


class CalendlyInviteeEvent(msgspec.Struct, kw_only=True):
    """The envelope once ``event`` names an invitee: only ``payload`` is read, so errors keep their ``$.payload`` path."""

    payload: CalendlyInvitee
