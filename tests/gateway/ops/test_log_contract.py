"""The log contract: the committed schema is the Structs', and a line off the contract is named with its fields."""

from __future__ import annotations

import io
import json
import typing
from collections.abc import Iterator

import pytest
import structlog

from adapters.base import ErrorReason
from gateway.ops import logging as logging_module
from gateway.ops.log_lines import LINES, LOG_CONTRACT_VERSION, DeadLetterReason, declared
from gateway.ops.log_schema import LOG_SCHEMA_ID, SCHEMA_PATH, render
from gateway.ops.logging import configure_logging
from tests import logcapture
from tests.commands import run_gateway
from tests.conftest import ROOT, GatewayProcess

READY = {"event": "ready to receive", "host": "127.0.0.1", "port": 8080, "spool": "/var/spool", "level": "info",
         "timestamp": "2026-01-01T00:00:00.000000Z"}


def test_the_committed_schema_is_generated_from_the_structs() -> None:
    """``python -m gateway.ops.log_schema`` was run after the last change to ``LINES``."""
    assert SCHEMA_PATH.read_bytes() == render(), "run: python -m gateway.ops.log_schema"
    assert logcapture.SCHEMA["$id"] == LOG_SCHEMA_ID
    assert set(logcapture.SCHEMA["discriminator"]["mapping"]) == {declared_event(line) for line in LINES}


def test_gateway_schema_prints_it() -> None:
    result = run_gateway("schema", "--log-lines")
    assert result.returncode == 0 and result.stdout.encode() == render()
    assert run_gateway("schema", "--log-lines", "--asyncapi").returncode == 2


def declared_event(line: type) -> str:
    return str(line.__struct_config__.tag)  # type: ignore[attr-defined]


def test_the_readme_documents_the_contract_and_its_version() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "schemas/log-lines.schema.json" in readme and LOG_SCHEMA_ID in readme
    assert f"log contract, version {LOG_CONTRACT_VERSION}" in readme.lower()


def test_the_dead_letter_reasons_are_the_adapters() -> None:
    assert typing.get_args(DeadLetterReason) == typing.get_args(ErrorReason)


def test_every_event_is_declared_once() -> None:
    events = [declared_event(line) for line in LINES]
    assert len(events) == len(set(events))
    assert all(declared(event) is line for event, line in zip(events, LINES, strict=True))


def test_a_line_keeping_the_contract_passes() -> None:
    assert logcapture.line_problem(json.dumps(READY)) is None
    logcapture.VALIDATOR.validate(READY)


@pytest.mark.parametrize(("name", "line", "named"), [
    ("a field removed", {key: value for key, value in READY.items() if key != "port"}, "'port' is a required"),
    ("a field renamed", {**{key: value for key, value in READY.items() if key != "port"}, "listen_port": 8080},
     "listen_port"),
    ("a field of another type", {**READY, "port": "8080"}, "is not of type 'integer'"),
    ("no level", {key: value for key, value in READY.items() if key != "level"}, "'level' is a required"),
    ("an undeclared event", {"event": "something new", "widgets": 3, "level": "info", "timestamp": READY["timestamp"]},
     "undeclared event 'something new' with fields ['level', 'timestamp', 'widgets']"),
])
def test_a_line_off_the_contract_is_named(name: str, line: dict[str, object], named: str) -> None:
    problem = logcapture.line_problem(json.dumps(line))
    assert problem is not None and named in problem, (name, problem)
    assert repr(line["event"]) in problem


def test_a_line_that_is_not_json_is_named() -> None:
    assert "not a JSON object" in str(logcapture.line_problem("INFO: Started server process"))


@pytest.fixture
def logged() -> Iterator[io.BytesIO]:
    saved, sink = structlog.get_config(), logging_module._Sink.logger
    output = io.BytesIO()
    configure_logging("info", output)
    yield output
    structlog.configure(**saved)
    logging_module._Sink.logger, logging_module._Sink.requests_wanted = sink, True


def test_a_declared_line_is_written_by_its_struct(logged: io.BytesIO) -> None:
    """Its fields in the Struct's order, whatever order the call named them in."""
    structlog.get_logger("test").info("ready to receive", spool="/s", port=1, host="h")
    [line] = logged.getvalue().splitlines()
    assert list(json.loads(line)) == ["event", "host", "port", "spool", "level", "timestamp"]
    assert logcapture.line_problem(line.decode()) is None


def test_an_undeclared_or_changed_line_is_still_written_and_then_named(logged: io.BytesIO) -> None:
    """Nothing is lost at run time; the suite's contract check names the line."""
    with logcapture.uncaptured():
        structlog.get_logger("test").warning("something new", widgets=3)
        structlog.get_logger("test").info("ready to receive", host="h", port=1)
    new, changed = (json.loads(text) for text in logged.getvalue().splitlines())
    assert new["event"] == "something new" and new["widgets"] == 3 and new["level"] == "warning"
    assert changed["event"] == "ready to receive" and "spool" not in changed
    assert "'spool' is a required" in str(logcapture.line_problem(json.dumps(changed)))


def test_the_session_gateway_writes_only_contract_lines(gateway: GatewayProcess) -> None:
    """So far; the session's end checks every gateway's stdout again, with every other line written here."""
    lines = gateway.log_lines()
    assert lines and [problem for problem in map(logcapture.line_problem, lines) if problem] == []
