"""``python -m bench.logging_lines``: 100k per-request log lines through the real sink, directly and via structlog."""

from __future__ import annotations

import io
import statistics
import timeit
from collections.abc import Callable

import structlog

from gateway.ops.log_lines import Webhook
from gateway.ops.logging import configure_logging, log_request

LINES = 100_000
REPEATS = 5
DELIVERY = "0b8e3c52-7d0f-5b64-a3d1-2f6c9e8a4b17"
TYPES = ["com.example.booking.created", "com.example.booking.created"]
SUBJECTS = ["picktime:LOG1"]
TRACE_ID, SPAN_ID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"


def _direct() -> None:
    """The request line as the endpoint writes it: its Struct built, then encoded once."""
    log_request(Webhook(source="picktime-main", provider="picktime", delivery_id=DELIVERY, outcome="accepted",
                        status=202, events=2, duration_ms=round(0.000731 * 1000, 3), event_types=TYPES,
                        subjects=SUBJECTS, trace_id=TRACE_ID, span_id=SPAN_ID))


def _through_structlog() -> Callable[[], None]:
    logger = structlog.get_logger("bench").bind()

    def line() -> None:
        logger.info("webhook", source="picktime-main", provider="picktime", delivery_id=DELIVERY, outcome="accepted",
                    status=202, events=2, duration_ms=round(0.000731 * 1000, 3), event_types=TYPES,
                    subjects=SUBJECTS, trace_id=TRACE_ID, span_id=SPAN_ID)
    return line


def _measure(name: str, line: Callable[[], None], output: io.BytesIO) -> None:
    runs = []
    for _ in range(REPEATS):
        output.seek(0)
        output.truncate()
        runs.append(timeit.timeit(line, number=LINES))
    best, median = min(runs), statistics.median(runs)
    print(f"{name}: {LINES} lines, best {best:.3f} s ({best / LINES * 1e6:.2f} us/line), median {median:.3f} s")


def main() -> None:
    output = io.BytesIO()
    configure_logging("info", output)  # outside a loop every line is written at once, here to memory
    _direct()
    print(output.getvalue().decode(), end="")
    _measure("log_request", _direct, output)
    _measure("structlog chain", _through_structlog(), output)


if __name__ == "__main__":
    main()
