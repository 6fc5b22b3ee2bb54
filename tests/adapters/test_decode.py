"""Decoding with repair under the process's repair limits: the budget refuses, the listing stays short."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.base import AdapterError, SourceContext, VerifiedRequest
from adapters.limits import RepairLimits, repair_limits, set_repair_limits
from adapters.picktime import map_request
from tests.adapters.malformed import picktime_missing_commas

SOURCE = SourceContext(id="picktime", provider="picktime")


def _request(body: bytes) -> VerifiedRequest:
    return VerifiedRequest(body=body, headers={}, source=SOURCE, received_at="2026-01-02T03:04:05Z")


@pytest.fixture()
def limits() -> Iterator[None]:
    """Whatever a test sets, the next one starts from the defaults."""
    yield
    set_repair_limits(RepairLimits())


def test_the_defaults_allow_a_thousand_repairs_and_list_twenty() -> None:
    """Until the configuration says otherwise, adapters repair up to 1000 times and describe 20 repairs."""
    assert repair_limits() == RepairLimits(max_repairs=1000, listed_repairs=20)


def test_a_body_over_the_budget_is_malformed_json_saying_so(limits: None) -> None:
    """Past ``max_repairs`` the body is not repaired: malformed-json, with the budget and where it ran out."""
    set_repair_limits(RepairLimits(max_repairs=500))
    with pytest.raises(AdapterError) as caught:
        map_request(_request(picktime_missing_commas(1_000)))
    assert caught.value.reason == "malformed-json"
    assert "not repairable: the repair budget of 500 repairs is exceeded at line 3 column " in caught.value.detail
    assert caught.value.position is not None


def test_repairs_past_the_listing_are_counted_in_one_line(limits: None) -> None:
    """Every repair is made; the event lists the first ``listed_repairs`` and one line with the total."""
    set_repair_limits(RepairLimits(max_repairs=10_000, listed_repairs=5))
    repairs = map_request(_request(picktime_missing_commas(5_000))).changes[0].data.repairs
    assert repairs[:5] == [f"inserted a missing ',' before \"a\" at line 3 column {18 + 4 * n}" for n in range(5)]
    # 5,000 in the history, the sample's own two commas and its '}'
    assert repairs[5] == "4998 more repairs not listed (5003 in all)"
    assert "moved status, type out of dataObject, whose closing '}' was missing" in repairs
