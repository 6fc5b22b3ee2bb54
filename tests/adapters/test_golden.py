"""Golden files of every registered vendor: each body maps to exactly its expected CloudEvents (or error)."""

from __future__ import annotations

import pytest

from adapters import ADAPTERS
from tests.adapters.golden import ALL_CASES, GoldenCase, run_case


@pytest.mark.parametrize("case", ALL_CASES, ids=[f"{case.vendor}-{case.name}" for case in ALL_CASES])
def test_golden(case: GoldenCase) -> None:
    """Each body maps to exactly the CloudEvents (or error) in its expected file."""
    run_case(case)


def test_every_vendor_has_a_seed_case() -> None:
    """A registered vendor without a ``seed_`` golden case in testdata/<vendor>/ fails here, not silently."""
    seeded = {case.vendor for case in ALL_CASES if case.name.startswith("seed_")}
    assert seeded == set(ADAPTERS)
