"""Zoom's webhook payload: the URL validation challenge and Scheduler's events, as far as their schema was read.

Only what ``shared/design/vendors-next.md`` confirms is declared; the rest
of Zoom's fields are ignored. Times whose layout is unconfirmed are taken as
strings or numbers and read later.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = [
    "ZoomAnswer",
    "ZoomAttendee",
    "ZoomEnvelope",
    "ZoomInvitee",
    "ZoomScheduledEvent",
    "ZoomSchedulerEvent",
    "ZoomTime",
    "ZoomValidation",
]

ZoomTime = str | int | None
"""A time in an unconfirmed layout: RFC 3339 text, or a number in an unconfirmed unit."""


class ZoomAnswer(msgspec.Struct, kw_only=True):
    """One answer of the booking form; ``answer`` is a list, even for one value."""

    question: str
    answer: list[str] | str | None = None
    position: int | None = None


class ZoomAttendee(msgspec.Struct, kw_only=True):
    display_name: str | None = None
    email: str | None = None


class ZoomScheduledEvent(msgspec.Struct, kw_only=True):
    """``payload.object.scheduled_event``: the meeting booked."""

    event_id: str
    attendees: list[ZoomAttendee] | None = None
    created: ZoomTime = None
    end_date_time: ZoomTime = None
    external_location: Any = None


class ZoomInvitee(msgspec.Struct, kw_only=True):
    """``payload.object``: the invitee who booked, and the scheduled event."""

    scheduled_event: ZoomScheduledEvent
    created: ZoomTime = None
    invitee_email: str | None = None
    invitee_first_name: str | None = None
    invitee_last_name: str | None = None
    manage_url: str | None = None
    questions_and_answers: list[ZoomAnswer] | None = None
    rescheduled: bool | None = None


class _SchedulerPayload(msgspec.Struct, kw_only=True):
    object: ZoomInvitee
    account_id: str | None = None


class ZoomSchedulerEvent(msgspec.Struct, kw_only=True):
    """The envelope once ``event`` says Scheduler: only ``payload`` is read, so errors keep their path."""

    payload: _SchedulerPayload


class _ValidationPayload(msgspec.Struct, kw_only=True):
    plain_token: str = msgspec.field(name="plainToken")


class ZoomValidation(msgspec.Struct, kw_only=True):
    """``endpoint.url_validation``: the token to answer HMAC'd with the app's secret token."""

    payload: _ValidationPayload


class ZoomEnvelope(msgspec.Struct, kw_only=True):
    """Every Zoom notification: ``event``, ``event_ts`` (unix milliseconds), an untyped ``payload``."""

    event: str
    event_ts: int | None = None
    payload: Any = None
