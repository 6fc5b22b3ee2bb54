"""A request's trace: the sender's ``traceparent`` when it is valid (strictly, W3C Trace Context), else a new one."""

from __future__ import annotations

import pytest

from gateway.trace import request_trace

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
VALID = f"00-{TRACE_ID}-{PARENT_ID}-01"


def _trace(*values: str) -> tuple[str, str, str]:
    trace = request_trace([(b"content-type", b"application/json"), *((b"traceparent", v.encode()) for v in values)])
    assert len(trace.trace_id) == 32 and len(trace.span_id) == 16 and len(trace.flags) == 2
    assert trace.traceparent == f"00-{trace.trace_id}-{trace.span_id}-{trace.flags}".encode()
    return trace.trace_id, trace.span_id, trace.flags


def test_a_valid_traceparent_gives_its_trace_and_a_new_span() -> None:
    trace_id, span_id, flags = _trace(VALID)
    assert trace_id == TRACE_ID and flags == "01" and span_id not in (PARENT_ID, "0" * 16)
    assert _trace(f"00-{TRACE_ID}-{PARENT_ID}-00")[2] == "00"
    assert _trace(f" {VALID}\t")[0] == TRACE_ID


def test_a_later_version_is_read_as_version_00() -> None:
    """Its first four parts as version 00 has them; what follows a dash is ignored; only the sampled flag is kept."""
    assert _trace(f"01-{TRACE_ID}-{PARENT_ID}-03-whatever")[::2] == (TRACE_ID, "01")
    assert _trace(f"01-{TRACE_ID}-{PARENT_ID}-02")[::2] == (TRACE_ID, "00")


@pytest.mark.parametrize("value", [
    "",
    "garbage",
    VALID.upper(),
    f"00-{'0' * 32}-{PARENT_ID}-01",
    f"00-{TRACE_ID}-{'0' * 16}-01",
    f"ff-{TRACE_ID}-{PARENT_ID}-01",
    f"00-{TRACE_ID}-{PARENT_ID}-01-extra",
    f"01-{TRACE_ID}-{PARENT_ID}-01extra",
    f"00-{TRACE_ID[:-1]}-{PARENT_ID}-01",
    f"00_{TRACE_ID}_{PARENT_ID}_01",
    f"00-{TRACE_ID[:-1]}g-{PARENT_ID}-01",
    f"0-{TRACE_ID}-{PARENT_ID}-01x",
])
def test_an_invalid_traceparent_starts_a_new_sampled_trace(value: str) -> None:
    trace_id, span_id, flags = _trace(value)
    assert trace_id not in (TRACE_ID, "0" * 32) and flags == "01" and span_id != "0" * 16


def test_no_traceparent_or_two_start_a_new_trace() -> None:
    first, second = _trace(), _trace()
    assert first[0] != second[0] and first[1] != second[1]
    assert _trace(VALID, VALID)[0] != TRACE_ID
