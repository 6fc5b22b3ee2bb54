"""Canonical time text, public to the whole gateway: vendors' timestamps read into RFC 3339 UTC, and the one formatter."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "UnreadableTime",
    "add_minutes",
    "format_utc",
    "from_compact_utc",
    "from_epoch_seconds",
    "from_iso",
    "from_local",
    "read_event_time",
    "read_iso",
]

_COLONLESS_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")
_COMPACT = re.compile(r"^\d{12}$")
_SECONDS_PER_DAY = 86_400
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# The epoch seconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, the range datetime can hold.
_EPOCH_MIN = (date.min.toordinal() - _EPOCH_ORDINAL) * _SECONDS_PER_DAY
_EPOCH_MAX = (date.max.toordinal() - _EPOCH_ORDINAL + 1) * _SECONDS_PER_DAY - 1
_CLOCK_MINUTES = tuple(f"{hour:02d}:{minute:02d}" for hour in range(24) for minute in range(60))
_TWO_DIGITS = tuple(f"{n:02d}" for n in range(60))


class UnreadableTime(ValueError):
    """A timestamp in a layout that cannot be read safely."""


def format_utc(moment: datetime) -> str:
    """Format an aware datetime as RFC 3339 UTC with a ``Z``; fractions only as precise as needed.

    Raises UnreadableTime when the moment falls outside the representable range once in UTC.
    """
    try:
        utc = moment.astimezone(UTC)
    except OverflowError as exc:
        raise UnreadableTime(f"{moment.isoformat()} is out of range in UTC") from exc
    if not utc.microsecond:
        timespec = "seconds"
    elif utc.microsecond % 1000 == 0:
        timespec = "milliseconds"
    else:
        timespec = "microseconds"
    return utc.isoformat(timespec=timespec).replace("+00:00", "Z")


def from_epoch_seconds(value: int, microsecond: int = 0) -> str:
    """Read Unix epoch seconds (and microseconds); the same text as ``format_utc`` of that moment."""
    if not _EPOCH_MIN <= value <= _EPOCH_MAX:
        raise UnreadableTime(f"epoch seconds {value} out of range")
    days, seconds = divmod(value, _SECONDS_PER_DAY)
    minute, second = divmod(seconds, 60)
    text = f"{_epoch_day(days)}T{_CLOCK_MINUTES[minute]}:{_TWO_DIGITS[second]}"
    if not microsecond:
        return text + "Z"
    if microsecond % 1000 == 0:
        return f"{text}.{microsecond // 1000:03d}Z"
    return f"{text}.{microsecond:06d}Z"


@lru_cache(maxsize=1024)
def _epoch_day(days: int) -> str:
    """The ISO date ``days`` after 1970-01-01 (bookings cluster on few days, so this is cached)."""
    return date.fromordinal(_EPOCH_ORDINAL + days).isoformat()


def from_compact_utc(value: int | str) -> str:
    """Read a ``yyyyMMddHHmm`` UTC timestamp such as ``202411271600``."""
    text = str(value)
    if not _COMPACT.match(text):
        raise UnreadableTime(f"{text!r} is not yyyyMMddHHmm")
    try:
        return format_utc(datetime.strptime(text, "%Y%m%d%H%M").replace(tzinfo=UTC))
    except ValueError as exc:
        raise UnreadableTime(f"{text!r} is not a valid yyyyMMddHHmm time") from exc


def from_iso(value: str) -> str:
    """Read an ISO 8601 time with an offset (``Z``, ``+01:00`` or ``+0100``)."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    else:
        text = _COLONLESS_OFFSET.sub(r"\1:\2", text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise UnreadableTime(f"{value!r} is not an ISO 8601 time") from exc
    if moment.tzinfo is None:
        raise UnreadableTime(f"{value!r} has no UTC offset")
    return format_utc(moment)


def from_local(date_text: str, time_text: str, zone: str) -> str:
    """Read a wall-clock date and time in an IANA zone."""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnreadableTime(f"unknown time zone {zone!r}") from exc
    try:
        naive = datetime.fromisoformat(f"{date_text.strip()}T{time_text.strip()}")
    except ValueError as exc:
        raise UnreadableTime(f"{date_text!r} {time_text!r} is not a local date and time") from exc
    return format_utc(naive.replace(tzinfo=tz))  # format_utc turns out-of-range into UnreadableTime


def add_minutes(rfc3339_utc: str, minutes: int) -> str:
    """Add minutes to a time this module formatted; UnreadableTime when out of range."""
    moment = datetime.fromisoformat(rfc3339_utc.replace("Z", "+00:00"))
    try:
        return format_utc(moment + timedelta(minutes=minutes))
    except OverflowError as exc:
        raise UnreadableTime(f"{rfc3339_utc} plus {minutes} minutes is out of range") from exc


def read_iso(value: str | None, field: str, repairs: list[str]) -> str | None:
    """``value`` read by from_iso; None when empty; an unreadable one kept as sent and noted in ``repairs``."""
    return _read_noted(value, field, repairs, keep_unreadable=True)


def read_event_time(value: str | None, field: str, repairs: list[str]) -> str | None:
    """The time a change happened, read by from_iso; None (the time received) when empty or unreadable, noted."""
    return _read_noted(value, field, repairs, keep_unreadable=False)


def _read_noted(value: str | None, field: str, repairs: list[str], *, keep_unreadable: bool) -> str | None:
    if not value:
        return None
    try:
        return from_iso(value)
    except UnreadableTime as exc:
        outcome = "kept as sent" if keep_unreadable else "event time is the time received"
        repairs.append(f"{field} {value!r} could not be read ({exc}); {outcome}")
        return value if keep_unreadable else None
