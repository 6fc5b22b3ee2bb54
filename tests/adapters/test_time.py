"""The shared time readers: the fast epoch formatting equals the datetime one, range included."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.times import UnreadableTime, format_utc, from_epoch_seconds

_FIRST = -62_135_596_800  # 0001-01-01T00:00:00Z
_LAST = 253_402_300_799  # 9999-12-31T23:59:59Z


@given(st.integers(min_value=_FIRST, max_value=_LAST))
def test_epoch_seconds_read_as_datetime_would(value: int) -> None:
    """Every epoch second datetime can hold is formatted exactly as format_utc formats it."""
    assert from_epoch_seconds(value) == format_utc(datetime.fromtimestamp(value, UTC))


@pytest.mark.parametrize(("value", "text"), [(_FIRST, "0001-01-01T00:00:00Z"), (_LAST, "9999-12-31T23:59:59Z"),
                                             (-1, "1969-12-31T23:59:59Z"), (951_782_400, "2000-02-29T00:00:00Z")])
def test_epoch_seconds_edges(value: int, text: str) -> None:
    """The first and last representable seconds, the second before the epoch and a leap day."""
    assert from_epoch_seconds(value) == text


@pytest.mark.parametrize("value", [_FIRST - 1, _LAST + 1, 2**63, -(2**63), 10**20])
def test_epoch_seconds_out_of_range_are_unreadable(value: int) -> None:
    """Seconds outside years 1 to 9999 are refused with the same message as before."""
    with pytest.raises(UnreadableTime, match=f"^epoch seconds {value} out of range$"):
        from_epoch_seconds(value)
