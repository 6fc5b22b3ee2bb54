"""Bodies a hostile (or badly broken) sender controls the malformation of: for the repair limits' tests."""

from __future__ import annotations

from pathlib import Path

__all__ = ["picktime_missing_commas"]

_BROKEN_SAMPLE = Path(__file__).parent / "testdata" / "picktime" / "seed_service_updated_broken.json"


def picktime_missing_commas(count: int) -> bytes:
    """Picktime's broken UPDATE sample with a field the adapter ignores holding ``count`` elements and no commas.

    About 4 bytes a missing comma: 100,000 of them make the 400 KB body of issue 11.
    """
    sample = _BROKEN_SAMPLE.read_text()
    history = '"history": [' + ' "a"' * (count + 1) + " ],\n"
    return sample.replace('"videoMeeting"', history + '"videoMeeting"', 1).encode()
