"""Golden-file cases: a vendor body in, the expected CloudEvents (or adapter error) out.

A case is ``testdata/<vendor>/<case>.json`` (the body, byte for byte as sent)
with ``<case>.expected.json`` beside it: either the list of CloudEvents or
``{"error": "<reason>"}``. An optional ``<case>.request.json`` holds
``{"headers": {...}, "timezone": "..."}`` for what the body alone lacks.
Run pytest with ``UPDATE_GOLDEN=1`` to rewrite the expected files, then
review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import msgspec

from adapters import ADAPTERS
from adapters.base import AdapterError, SourceContext, VerifiedRequest
from gateway.flow.envelope import build_events, delivery_key

__all__ = ["ALL_CASES", "RECEIVED_AT", "GoldenCase", "RequestExtras", "golden_cases", "run_case"]

TESTDATA = Path(__file__).parent / "testdata"
RECEIVED_AT = "2026-01-02T03:04:05Z"
_ENCODER = msgspec.json.Encoder()


class RequestExtras(msgspec.Struct, forbid_unknown_fields=True):
    """What a case needs beside its body: headers, and the source's time zone."""

    headers: dict[str, str] = {}
    timezone: str | None = None


class GoldenCase(msgspec.Struct, frozen=True):
    vendor: str
    name: str
    body_path: Path

    @property
    def expected_path(self) -> Path:
        return self.body_path.with_name(f"{self.name}.expected.json")

    @property
    def request_path(self) -> Path:
        return self.body_path.with_name(f"{self.name}.request.json")


def golden_cases(vendor: str) -> list[GoldenCase]:
    """Every case in ``testdata/<vendor>``, sorted by name."""
    folder = TESTDATA / vendor
    bodies = sorted(p for p in folder.glob("*.json") if p.name.count(".") == 1)
    return [GoldenCase(vendor=vendor, name=p.stem, body_path=p) for p in bodies]


ALL_CASES = [case for vendor in sorted(ADAPTERS) for case in golden_cases(vendor)]
"""Every registered vendor's cases: what tests/adapters/test_golden.py runs."""


def vendor_request(vendor: str, body: bytes, headers: dict[str, str] | None = None) -> VerifiedRequest:
    """A request to the vendor's source (id and provider its name), as an adapter's unit tests build one."""
    return VerifiedRequest(body=body, headers=headers or {}, source=SourceContext(id=vendor, provider=vendor),
                           received_at=RECEIVED_AT)


def verified_request(case: GoldenCase) -> VerifiedRequest:
    """The request a case stands for, as the gateway would hand it to the adapter."""
    extras = RequestExtras()
    if case.request_path.exists():
        extras = msgspec.json.decode(case.request_path.read_bytes(), type=RequestExtras)
    return VerifiedRequest(
        body=case.body_path.read_bytes(),
        headers={name.lower(): value for name, value in extras.headers.items()},
        source=SourceContext(id=case.vendor, provider=case.vendor, timezone=extras.timezone),
        received_at=RECEIVED_AT,
    )


def actual_output(case: GoldenCase) -> Any:
    """The CloudEvents (as plain JSON values) or the error the adapter gives for a case."""
    adapter = ADAPTERS[case.vendor]
    request = verified_request(case)
    try:
        mapped = adapter.map(request)
    except AdapterError as exc:
        return {"error": exc.reason}
    events = build_events(request, mapped, delivery_key(request, mapped))
    return msgspec.json.decode(_ENCODER.encode(events))


def run_case(case: GoldenCase) -> None:
    """Assert a case's output equals its expected file (or rewrite it under UPDATE_GOLDEN=1)."""
    actual = actual_output(case)
    if os.environ.get("UPDATE_GOLDEN") == "1" or not case.expected_path.exists():
        text = msgspec.json.format(_ENCODER.encode(actual), indent=2)
        case.expected_path.write_bytes(text + b"\n")
        if os.environ.get("UPDATE_GOLDEN") != "1":
            raise AssertionError(f"wrote missing {case.expected_path.name}: review it and re-run")
    expected = msgspec.json.decode(case.expected_path.read_bytes())
    assert actual == expected
