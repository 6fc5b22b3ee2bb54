"""Picktime adapter: every seed sample and variants against golden files, and its repairs."""

from __future__ import annotations

import pytest

from adapters.base import AdapterError
from tests.adapters.golden import GoldenCase, actual_output, golden_cases

CASES = golden_cases("picktime")


def test_all_eleven_documented_kinds_are_covered() -> None:
    """The seed folder holds one case per documented Picktime payload kind."""
    assert len([case for case in CASES if case.name.startswith("seed_")]) == 11


def _case(name: str) -> GoldenCase:
    return next(case for case in CASES if case.name == name)


def test_broken_update_sample_is_repaired_and_says_how() -> None:
    """The documented UPDATE sample (missing commas and brace) yields one updated event with its repairs."""
    [event] = actual_output(_case("seed_service_updated_broken"))
    assert event["type"] == "booking.updated"
    assert event["data"]["provider_event"] == "UPDATE"
    repairs = event["data"]["repairs"]
    assert sum("missing ','" in repair for repair in repairs) == 2
    assert any("missing '}'" in repair for repair in repairs)
    assert event["data"]["booking"]["end"] == "2024-11-21T15:45:00Z"


def test_compact_timestamp_is_read_as_utc() -> None:
    """``202411271600`` in an epoch field is read as yyyyMMddHHmm UTC and noted."""
    _, second = actual_output(_case("seed_class_sessions_created"))
    assert second["data"]["booking"]["start"] == "2024-11-27T16:00:00Z"
    assert second["data"]["booking"]["end"] == "2024-11-27T16:30:00Z"
    assert any("yyyyMMddHHmm" in repair for repair in second["data"]["repairs"])


def test_session_and_its_participants_share_a_subject() -> None:
    """Added and removed participants carry their class session's subject."""
    added = actual_output(_case("variant_participant_added_waitlist_update"))
    removed = actual_output(_case("variant_participants_removed_two"))
    subjects = {event["subject"] for event in [*added, *removed]}
    assert subjects == {"picktime:c0ffee00-1706-440a-8af9-1f6d00000555"}
    assert [event["type"] for event in removed] == ["attendee.removed", "attendee.removed"]


def test_unrepairable_json_names_the_position() -> None:
    """A missing ':' is not guessed at: the error says where the document broke."""
    from adapters.picktime import map_request
    from tests.adapters.golden import verified_request

    with pytest.raises(AdapterError) as caught:
        map_request(verified_request(_case("error_missing_colon")))
    assert caught.value.reason == "malformed-json"
    assert "line 1 column 15" in caught.value.detail


def test_validation_error_keeps_msgspec_path() -> None:
    """A wrongly typed field is reported with msgspec's ``$.path`` unchanged."""
    from adapters.picktime import map_request
    from tests.adapters.golden import verified_request

    with pytest.raises(AdapterError) as caught:
        map_request(verified_request(_case("error_wrong_field_type")))
    assert caught.value.reason == "invalid-payload"
    assert "$.dataObject.start_date_time_gmt" in caught.value.detail
