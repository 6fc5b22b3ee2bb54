"""Reading money amounts into the contract's decimal strings, bounded so a body cannot blow them up."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

__all__ = ["MAX_AMOUNT_DIGITS", "decimal_amount"]

MAX_AMOUNT_DIGITS = 15
"""Amounts of more integer digits than this are not what a booking costs: refused, not formatted."""


def decimal_amount(value: object, field: str, repairs: list[str]) -> str | None:
    """``value`` as a two-place decimal string ("100.00"); None when not sent.

    An unreadable or implausible amount is kept as the vendor sent it (as
    text, never expanded) and noted in ``repairs``, as the contract asks.
    """
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        repairs.append(f"{field} {value!r} is not a number; kept as sent")
        return str(value)
    # adjusted() reads the exponent, so even 1e999999999 is judged without being expanded.
    if not amount.is_finite() or amount.adjusted() >= MAX_AMOUNT_DIGITS:
        repairs.append(f"{field} {str(value)[:40]!r} is not a plausible amount; kept as sent")
        return str(value)
    return f"{amount:.2f}"
