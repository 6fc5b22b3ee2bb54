"""Helpers for the command tests: run ``python -m gateway`` as a child process, post deliveries never seen before."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import msgspec

from tests.conftest import ROOT, TOKEN

__all__ = ["PICKTIME", "TESTDATA", "json_lines", "post_fresh", "run_gateway"]

TESTDATA = ROOT / "tests" / "adapters" / "testdata"
PICKTIME = TESTDATA / "picktime"
_FRESH = itertools.count(1)


def run_gateway(*args: str, timeout_s: float = 30) -> subprocess.CompletedProcess[str]:
    """Run ``python -m gateway ARGS`` to completion; stdout and stderr captured as text."""
    return subprocess.run([sys.executable, "-m", "gateway", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout_s, check=False)


def json_lines(text: str) -> list[Any]:
    """Every non-empty line of ``text`` decoded as JSON."""
    return [msgspec.json.decode(line) for line in text.splitlines() if line.strip()]


def post_fresh(client: httpx.Client, body_or_path: bytes | Path, source: str = "picktime") -> httpx.Response:
    """POST a body to a Picktime source, padded with whitespace so its delivery key (a body hash) is new."""
    body = body_or_path.read_bytes() if isinstance(body_or_path, Path) else body_or_path
    padded = body + b"\n" + b" " * (1000 + next(_FRESH))
    return client.post(f"/webhooks/picktime/{source}?token={TOKEN}", content=padded,
                       headers={"Content-Type": "application/json"})
