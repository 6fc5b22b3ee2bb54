"""Wall-clock text: the same as formatting the datetime, without building one."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from adapters.times import format_utc
from gateway.clock import log_timestamp, received_at_text

_MOMENTS = st.one_of(
    st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False),
    st.integers(min_value=0, max_value=4_102_444_800).map(float),
    st.sampled_from([1_732_195_800.0, 1_732_195_800.123, 1_732_195_800.123456, 1_732_195_800.9999996]),
)


@given(_MOMENTS)
def test_received_at_reads_as_format_utc_of_the_datetime(now: float) -> None:
    """Fractions only as precise as needed, rounded as datetime.fromtimestamp rounds."""
    assert received_at_text(now) == format_utc(datetime.fromtimestamp(now, UTC))


@given(_MOMENTS)
def test_log_timestamp_reads_as_structlogs_iso_utc_stamp(now: float) -> None:
    """What structlog's TimeStamper(fmt="iso", utc=True) writes for the same moment."""
    assert log_timestamp(now) == datetime.fromtimestamp(now, UTC).isoformat().replace("+00:00", "Z")
