"""``python -m bench.repair [--before REV]``: JSON repair of growing bodies; each doubling should cost twice, not four times.

Bodies are Picktime's broken sample with a field of N elements and no commas
between them (4 bytes a repair: N = 100,000 is issue 11's 400 KB body). For
each size: the repairer alone, then the whole Picktime mapping (within the
budget, and under the default budget, where the body is refused early).
``--before REV`` also times the repairer of git revision REV (the quadratic
one before issue 11 is 7a83f97), on the sizes it finishes in reasonable time.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

from adapters import picktime
from adapters._repair import repair_json
from adapters.base import AdapterError, SourceContext, VerifiedRequest
from adapters.limits import RepairLimits, set_repair_limits

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "adapters" / "testdata" / "picktime" / "seed_service_updated_broken.json"
SIZES = (12_500, 25_000, 50_000, 100_000, 200_000)
BEFORE_UP_TO = 50_000  # the quadratic repairer takes about 10 s at 100k
UNLIMITED = 10**9


def body(missing_commas: int) -> str:
    """The sample with ``missing_commas`` repairs to make in a field the adapter ignores."""
    history = '"history": [' + ' "a"' * (missing_commas + 1) + " ],\n"
    return SAMPLE.read_text().replace('"videoMeeting"', history + '"videoMeeting"', 1)


def best_of(run: Callable[[], object], repeats: int = 3) -> float:
    """The fastest of ``repeats`` runs, in seconds."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def _map(text: str) -> Callable[[], object]:
    request = VerifiedRequest(body=text.encode(), headers={}, source=SourceContext(id="bench", provider="picktime"),
                              received_at="2026-01-02T03:04:05Z")

    def run() -> object:
        try:
            return picktime.map_request(request)
        except AdapterError as exc:
            return exc
    return run


def _before(revision: str) -> types.ModuleType:
    source = subprocess.run(["git", "show", f"{revision}:adapters/_repair.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    module = types.ModuleType("repair_before")
    sys.modules[module.__name__] = module  # dataclasses look their module up there
    exec(compile(source, f"{revision}:adapters/_repair.py", "exec"), module.__dict__)  # noqa: S102 - our own history
    return module


def _row(label: str, size: int, seconds: float, previous: float | None, text: str) -> str:
    ratio = f"x{seconds / previous:4.2f}" if previous else "     "
    per_byte = seconds / len(text) * 1e9
    return f"{label:<26} {size:>8} {len(text) / 1e3:>8.0f} KB {seconds * 1e3:>9.1f} ms {ratio} {per_byte:>6.0f} ns/byte"


class _Run:
    """One row group: a label, what to time on a body, the limits it runs under, the largest size, the repeats."""

    def __init__(self, label: str, make: Callable[[str], Callable[[], object]], limits: RepairLimits,
                 largest: int = SIZES[-1], repeats: int = 3) -> None:
        self.label, self.make, self.limits, self.largest, self.repeats = label, make, limits, largest, repeats


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.repair", description=__doc__.splitlines()[0])
    parser.add_argument("--before", metavar="REV", help="also time the repairer of this git revision")
    args = parser.parse_args()
    unlimited = RepairLimits(max_repairs=UNLIMITED)
    runs = [
        _Run("repair (now)", lambda text: lambda: repair_json(text, max_repairs=UNLIMITED), unlimited),
        _Run("picktime map, all repaired", _map, unlimited),
        _Run("picktime map, over budget", _map, RepairLimits()),
    ]
    if args.before:
        before = _before(args.before)
        runs.append(_Run(f"repair ({args.before})", lambda text: lambda: before.repair_json(text), unlimited,
                         largest=BEFORE_UP_TO, repeats=1))
    print(f"{'what':<26} {'repairs':>8} {'body':>11} {'best':>12} {'2x size':>5} {'cost':>14}")
    timed: dict[tuple[str, int], float] = {}
    for run in runs:
        set_repair_limits(run.limits)
        previous = None
        for size in (size for size in SIZES if size <= run.largest):
            text = body(size)
            timed[run.label, size] = seconds = best_of(run.make(text), run.repeats)
            print(_row(run.label, size, seconds, previous, text))
            previous = seconds
    set_repair_limits(RepairLimits())
    for size in SIZES if args.before else ():
        if (f"repair ({args.before})", size) in timed:
            ratio = timed[f"repair ({args.before})", size] / timed["repair (now)", size]
            print(f"{size} repairs: {args.before} took {ratio:.1f} times as long as now")


if __name__ == "__main__":
    main()
