"""Every adapter's delivery key comes from the body alone: no header a signature leaves uncovered can change it."""

from __future__ import annotations

import pytest

from adapters import ADAPTERS
from adapters.base import AdapterError, VerifiedRequest
from tests.adapters.golden import ALL_CASES, GoldenCase, verified_request

# Headers a sender (or an attacker replaying its request) may set freely: ids the signature does not cover.
ID_HEADERS = ("webhook-id", "x-webhook-delivery-id", "x-request-id", "idempotency-key", "x-delivery-id")


def _key(request: VerifiedRequest, case: GoldenCase) -> str | None | AdapterError:
    try:
        return ADAPTERS[case.vendor].map(request).delivery_key
    except AdapterError as exc:
        return exc


@pytest.mark.parametrize("case", ALL_CASES, ids=[f"{case.vendor}-{case.name}" for case in ALL_CASES])
def test_id_headers_do_not_change_the_delivery_key(case: GoldenCase) -> None:
    """The same body with other, or no, delivery id headers maps to the same ``Mapped.delivery_key``."""
    request = verified_request(case)
    declared = ADAPTERS[case.vendor].delivery_id_header
    names = ID_HEADERS if declared is None else (*ID_HEADERS, declared)
    replayed = {**request.headers, **{name: "replayed-under-a-new-id" for name in names}}
    stripped = {name: value for name, value in request.headers.items() if name not in names}
    expected = _key(request, case)
    for headers in (replayed, stripped):
        got = _key(VerifiedRequest(body=request.body, headers=headers, source=request.source,
                                   received_at=request.received_at), case)
        assert type(got) is type(expected) and (isinstance(got, AdapterError) or got == expected)
