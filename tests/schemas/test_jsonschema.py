"""The published JSON Schema is as strict as CloudEvents 1.0, the Structs with it, and every golden event meets both."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from jsonschema import Draft202012Validator

from adapters import ADAPTERS
from schemas.canonical import CloudEvent
from schemas.jsonschema import SCHEMA_PATH
from tests.adapters.golden import golden_cases

SCHEMA = msgspec.json.decode(SCHEMA_PATH.read_bytes())
FORMAT_CHECKER = Draft202012Validator.FORMAT_CHECKER
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=FORMAT_CHECKER)


def _golden_events() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every canonical event in every registered vendor's expected files, named ``vendor/case[index]``."""
    for vendor in sorted(ADAPTERS):
        for case in golden_cases(vendor):
            expected = msgspec.json.decode(case.expected_path.read_bytes())
            if isinstance(expected, list):
                for index, event in enumerate(expected):
                    yield f"{vendor}/{case.name}[{index}]", event


GOLDEN_EVENTS = dict(_golden_events())
VALID_EVENT = next(iter(GOLDEN_EVENTS.values()))


class Broken(msgspec.Struct, frozen=True):
    """A valid event with one attribute removed (``value`` UNSET) or replaced."""

    name: str
    field: str
    value: Any = msgspec.UNSET
    calendar_only: bool = False
    """Only the schema's ``format`` sees it: decoding checks the shape of a time, not the calendar."""

    def event(self) -> dict[str, Any]:
        event = copy.deepcopy(VALID_EVENT)
        if self.value is msgspec.UNSET:
            del event[self.field]
        else:
            event[self.field] = self.value
        return event


BROKEN = [
    Broken("no specversion", "specversion"),
    Broken("specversion 0.3", "specversion", "0.3"),
    Broken("no id", "id"),
    Broken("empty id", "id", ""),
    Broken("no source", "source"),
    Broken("empty source", "source", ""),
    Broken("source with spaces", "source", "/sources/picktime main"),
    Broken("no type", "type"),
    Broken("empty subject", "subject", ""),
    Broken("time yesterday", "time", "yesterday"),
    Broken("time without offset", "time", "2024-11-21T13:30:00"),
    Broken("time not in UTC", "time", "2024-11-21T14:30:00+01:00"),
    Broken("time in month 13", "time", "2024-13-01T00:00:00Z", calendar_only=True),
    Broken("relative dataschema", "dataschema", "canonical-event.schema.json"),
    Broken("empty provider", "provider", ""),
    Broken("receivedat now", "receivedat", "now"),
]


def test_golden_events_were_found() -> None:
    """Every registered vendor contributes golden events to the positive cases."""
    assert {name.split("/", 1)[0] for name in GOLDEN_EVENTS} == set(ADAPTERS)


def test_schema_is_valid_draft_2020_12() -> None:
    """The committed schema is itself a valid 2020-12 schema."""
    Draft202012Validator.check_schema(SCHEMA)


def _formats(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("format"), str):
            yield node["format"]
        for value in node.values():
            yield from _formats(value)
    elif isinstance(node, list):
        for item in node:
            yield from _formats(item)


def test_the_validator_checks_every_format_the_schema_names() -> None:
    """date-time, uri and uri-reference are checked, not ignored (jsonschema skips formats it has no checker for)."""
    formats = set(_formats(SCHEMA))
    assert formats == {"date-time", "uri", "uri-reference"}
    assert formats <= set(FORMAT_CHECKER.checkers)


@pytest.mark.parametrize("name", GOLDEN_EVENTS)
def test_golden_event_meets_schema_and_structs(name: str) -> None:
    """Each golden event validates against the committed schema, formats included, and decodes with the Structs."""
    event = GOLDEN_EVENTS[name]
    assert [error.message for error in VALIDATOR.iter_errors(event)] == []
    msgspec.convert(event, CloudEvent)


@pytest.mark.parametrize("case", BROKEN, ids=[case.name for case in BROKEN])
def test_schema_refuses_what_cloudevents_refuses(case: Broken) -> None:
    """The schema refuses each broken event, naming the attribute."""
    errors = list(VALIDATOR.iter_errors(case.event()))
    assert errors
    named = {error.json_path for error in errors} | {str(error.message) for error in errors}
    assert f"$.{case.field}" in named or f"'{case.field}' is a required property" in named


@pytest.mark.parametrize("case", [case for case in BROKEN if not case.calendar_only],
                         ids=[case.name for case in BROKEN if not case.calendar_only])
def test_structs_refuse_what_the_schema_refuses(case: Broken) -> None:
    """Decoding with the Structs refuses the same events, with msgspec's path or the missing field's name."""
    with pytest.raises(msgspec.ValidationError, match=rf"`{case.field}`|\$\.{case.field}\b"):
        msgspec.convert(case.event(), CloudEvent)
