"""The shared amount readers: two-place strings, bounded, unreadable amounts kept as sent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from adapters._amount import UnreadableAmount, decimal_amount, parse_decimal


@pytest.mark.parametrize(("sent", "read"), [(None, None), ("", None), (True, None), (49, "49.00"), ("12.5", "12.50")])
def test_decimal_amount_reads(sent: object, read: str | None) -> None:
    """Readable amounts become two-place strings; values not sent are None, with no repair."""
    repairs: list[str] = []
    assert decimal_amount(sent, "payment.amount", repairs) == read
    assert repairs == []


@pytest.mark.parametrize(
    ("sent", "note"),
    [
        ("forty-nine", "payment.amount 'forty-nine' is not a number; kept as sent"),
        ("1e999999999", "payment.amount '1e999999999' is not a plausible amount; kept as sent"),
        ("NaN", "payment.amount 'NaN' is not a plausible amount; kept as sent"),
        (10**15, "payment.amount '1000000000000000' is not a plausible amount; kept as sent"),
    ],
)
def test_decimal_amount_keeps_unreadable_as_sent(sent: object, note: str) -> None:
    """An unreadable or implausible amount is kept as text and noted."""
    repairs: list[str] = []
    assert decimal_amount(sent, "payment.amount", repairs) == str(sent)
    assert repairs == [note]


def test_parse_decimal_is_bounded_like_decimal_amount() -> None:
    """parse_decimal gives a Decimal to compute with, and refuses what decimal_amount keeps as sent."""
    assert parse_decimal("999999999999999.99") == Decimal("999999999999999.99")
    with pytest.raises(UnreadableAmount):
        parse_decimal("1e15")


@given(st.integers(min_value=-(10**16), max_value=10**16))
@example(0)
@example(10**15 - 1)
@example(10**15)
@example(-(10**15) + 1)
@example(-(10**15))
def test_decimal_amount_reads_ints_as_decimal_would(sent: int) -> None:
    """An int amount gives the same text and repairs as its Decimal reading, on both sides of the bound."""
    repairs: list[str] = []
    expected_repairs: list[str] = []
    try:
        expected = f"{parse_decimal(sent):.2f}"
    except UnreadableAmount as exc:
        expected = str(sent)
        expected_repairs.append(f"price {exc}; kept as sent")
    assert decimal_amount(sent, "price", repairs) == expected
    assert repairs == expected_repairs
