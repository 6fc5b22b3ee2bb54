"""Every line the suite makes the gateway write, checked against the log contract at the end of the session.

Two sources: the stdout files of the gateway processes the tests start
(``watch``), and the lines written in this process (``record``, wrapped
around the one writer by ``tests/conftest.py``). A test that writes an
off-contract line on purpose does it inside ``uncaptured()``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from jsonschema import Draft202012Validator

from gateway.ops.log_lines import declared
from gateway.ops.log_schema import SCHEMA_PATH

__all__ = ["SCHEMA", "VALIDATOR", "contract_problems", "line_problem", "record", "uncaptured", "watch"]

SCHEMA = json.loads(SCHEMA_PATH.read_text())
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
"""The committed schema, as a consumer of the logs would use it."""
_BY_DEFINITION = {
    name: Draft202012Validator({"$defs": SCHEMA["$defs"], "$ref": f"#/$defs/{name}"},
                               format_checker=Draft202012Validator.FORMAT_CHECKER)
    for name in SCHEMA["$defs"]
}


class _Captured:
    stdout_files: dict[Path, bool] = {}
    """Files a gateway wrote its stdout to; True when its stderr went there too (then only '{' lines are its)."""
    lines: list[bytes] = []
    paused: int = 0


def watch(path: Path, *, with_stderr: bool = False) -> None:
    """Check the lines of ``path``, a gateway process' stdout, at the end of the session."""
    _Captured.stdout_files[path] = with_stderr


def record(line: bytes) -> None:
    """A line written in this process."""
    if not _Captured.paused:
        _Captured.lines.append(line)


@contextmanager
def uncaptured() -> Iterator[None]:
    """Lines written inside are not the gateway's (a test of the writer itself)."""
    _Captured.paused += 1
    try:
        yield
    finally:
        _Captured.paused -= 1


def line_problem(text: str) -> str | None:
    """Why one stdout line breaks the contract, naming its event and fields; None when it keeps it."""
    try:
        line = json.loads(text)
    except ValueError:
        return f"not a JSON object: {text[:200]!r}"
    if not isinstance(line, dict):
        return f"not a JSON object: {text[:200]!r}"
    event, fields = line.get("event"), sorted(set(line) - {"event"})
    struct = declared(event) if isinstance(event, str) else None
    if struct is None or struct.__name__ not in _BY_DEFINITION:
        return (f"undeclared event {event!r} with fields {fields}: declare its Struct in gateway.ops.log_lines.LINES "
                "and run python -m gateway.ops.log_schema")
    errors = sorted(_BY_DEFINITION[struct.__name__].iter_errors(line), key=lambda error: list(error.path))
    if errors:
        return f"event {event!r} with fields {fields}: " + "; ".join(error.message for error in errors[:3])
    return None


def contract_problems() -> list[str]:
    """Every captured line that breaks the contract (each distinct problem once), with where it was written."""
    found: dict[str, str] = {}
    for path, with_stderr in _Captured.stdout_files.items():
        if not path.exists():
            continue
        for text in path.read_text(errors="replace").splitlines():
            if not text or (with_stderr and not text.startswith("{")):
                continue
            problem = line_problem(text)
            if problem is not None:
                found.setdefault(problem, str(path))
    for raw in _Captured.lines:
        problem = line_problem(raw.decode())
        if problem is not None:
            found.setdefault(problem, "this process")
    return [f"{problem} (in {where})" for problem, where in found.items()]

