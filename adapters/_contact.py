"""Checking the contact details vendors send, keeping what cannot be read as sent."""

from __future__ import annotations

import re

__all__ = ["checked_email"]

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def checked_email(value: str | None, field: str, repairs: list[str]) -> str | None:
    """``value`` without surrounding blanks; None when empty.

    Text that is not an address (one ``@``, a dot in the domain, no spaces)
    is kept as sent and noted in ``repairs``, as the contract asks.
    """
    text = (value or "").strip()
    if text and not _EMAIL.fullmatch(text):
        repairs.append(f"{field} {text!r} is not an email address; kept as sent")
    return text or None
