"""The shared email check: blanks trimmed, non-addresses kept as sent and noted."""

from __future__ import annotations

import pytest

from adapters._contact import checked_email


@pytest.mark.parametrize(
    ("sent", "kept", "noted"),
    [
        (None, None, False),
        ("", None, False),
        ("  ", None, False),
        ("jane@example.com", "jane@example.com", False),
        (" jane@example.com\n", "jane@example.com", False),
        ("jane at example.com", "jane at example.com", True),
        ("biff@example", "biff@example", True),
        ("[email\xa0protected]", "[email\xa0protected]", True),
    ],
)
def test_checked_email(sent: str | None, kept: str | None, noted: bool) -> None:
    """The value comes back trimmed; a repair is noted only for text that is not an address."""
    repairs: list[str] = []
    assert checked_email(sent, "invitee.email", repairs) == kept
    assert repairs == ([f"invitee.email {kept!r} is not an email address; kept as sent"] if noted else [])
