"""Reading money amounts into the contract's decimal strings, bounded so a body cannot blow them up."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

__all__ = ["MAX_AMOUNT_DIGITS", "UnreadableAmount", "decimal_amount", "parse_decimal"]

MAX_AMOUNT_DIGITS = 15
"""Amounts of more integer digits than this are not what a booking costs: refused, not formatted."""
_INT_LIMIT = 10**MAX_AMOUNT_DIGITS


class UnreadableAmount(ValueError):
    """An amount that is not a number, or not a plausible one; the text says which."""


def parse_decimal(value: object) -> Decimal | None:
    """``value`` as a Decimal to compute with; None when not sent.

    Raises UnreadableAmount for text that is not a number and for amounts
    that are infinite, NaN or of more than MAX_AMOUNT_DIGITS integer digits.
    """
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise UnreadableAmount(f"{value!r} is not a number") from None
    # adjusted() reads the exponent, so even 1e999999999 is judged without being expanded.
    if not amount.is_finite() or amount.adjusted() >= MAX_AMOUNT_DIGITS:
        raise UnreadableAmount(f"{str(value)[:40]!r} is not a plausible amount")
    return amount


def decimal_amount(value: object, field: str, repairs: list[str]) -> str | None:
    """``value`` as a two-place decimal string ("100.00"); None when not sent.

    An unreadable or implausible amount is kept as the vendor sent it (as
    text, never expanded) and noted in ``repairs``, as the contract asks.
    """
    if type(value) is int and -_INT_LIMIT < value < _INT_LIMIT:
        return f"{value}.00"  # what Decimal would give, without building one (bool is not int here)
    try:
        amount = parse_decimal(value)
    except UnreadableAmount as exc:
        repairs.append(f"{field} {exc}; kept as sent")
        return str(value)
    return None if amount is None else f"{amount:.2f}"
