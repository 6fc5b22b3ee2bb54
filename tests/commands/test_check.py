"""``gateway check``: adapters run offline on files, events as JSON, syntax errors and repairs explained."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from tests.adapters.golden import RECEIVED_AT
from tests.commands import PICKTIME, TESTDATA, json_lines, run_gateway

BROKEN = PICKTIME / "seed_service_updated_broken.json"


class _Extras(msgspec.Struct):
    headers: dict[str, str] = {}
    timezone: str | None = None


def _seed_groups() -> list[tuple[str, list[str], list[Path]]]:
    """Seed files per vendor, grouped by the headers and time zone their case needs: one run per group."""
    groups: dict[tuple[str, tuple[str, ...]], list[Path]] = {}
    for body in sorted(TESTDATA.glob("*/seed_*.json")):
        if body.name.count(".") != 1:
            continue
        extras_path = body.with_name(f"{body.stem}.request.json")
        extras = msgspec.json.decode(extras_path.read_bytes(), type=_Extras) if extras_path.exists() else _Extras()
        options = [f"--header={name}: {value}" for name, value in extras.headers.items()]
        options += [f"--timezone={extras.timezone}"] if extras.timezone else []
        groups.setdefault((body.parent.name, tuple(options)), []).append(body)
    return [(vendor, list(options), files) for (vendor, options), files in groups.items()]


def _as_golden(events: list[Any]) -> list[Any]:
    """Events with the received time set to the golden files' fixed one (check uses now)."""
    for event in events:
        if event["time"] == event["receivedat"]:
            event["time"] = RECEIVED_AT
        event["receivedat"] = RECEIVED_AT
    return events


SEED_GROUPS = _seed_groups()


@pytest.mark.parametrize(("vendor", "options", "files"), SEED_GROUPS,
                         ids=[f"{vendor}-{files[0].stem}" for vendor, _, files in SEED_GROUPS])
def test_seed_files_print_the_golden_events(vendor: str, options: list[str], files: list[Path]) -> None:
    """Every vendor's seed samples print, one JSON document per file, the events of their golden files."""
    result = run_gateway("check", f"--provider={vendor}", *options, *map(str, files))
    assert result.returncode == 0, result.stderr
    reports = json_lines(result.stdout)
    assert [report["file"] for report in reports] == [str(path) for path in files]
    for report, path in zip(reports, files, strict=True):
        expected = msgspec.json.decode(path.with_name(f"{path.stem}.expected.json").read_bytes())
        assert report["ok"] is True and report["error"] is None
        assert _as_golden(report["events"]) == expected


def test_broken_sample_is_explained_before_and_after_repair() -> None:
    """The broken Picktime sample: msgspec's error at line:column as sent, then every repair, then the event."""
    result = run_gateway("check", "--provider", "picktime", str(BROKEN))
    assert result.returncode == 0, result.stderr
    [report] = json_lines(result.stdout)
    assert report["syntax_error"] == {"message": "JSON is malformed: expected ',' or '}' (byte 682)",
                                      "position": 682, "line": 25, "column": 1}
    assert report["repairs"][0] == "inserted a missing ',' before \"free_event\" at line 25 column 1"
    assert len(report["repairs"]) == 4 and report["events"][0]["data"]["repairs"] == report["repairs"]
    assert [event["type"] for event in report["events"]] == ["booking.updated"]
    lines = result.stderr.splitlines()
    assert lines[0] == f"{BROKEN}:25:1: not valid JSON as sent: JSON is malformed: expected ',' or '}}' (byte 682)"
    assert lines[1] == f"{BROKEN}: repaired: inserted a missing ',' before \"free_event\" at line 25 column 1"
    assert lines[-1] == f"{BROKEN}: ok, 1 event(s): booking.updated picktime:D5827ONQ5Z"


def test_failing_files_give_reason_position_and_path_and_the_rest_is_still_checked() -> None:
    """An unrepairable and an unmappable file fail (exit 1) with position or $.path; a good file after them maps."""
    unrepairable, unmappable = PICKTIME / "error_missing_colon.json", PICKTIME / "error_wrong_field_type.json"
    good = PICKTIME / "seed_service_created.json"
    result = run_gateway("check", "--provider", "picktime", str(unrepairable), str(unmappable), str(good))
    assert result.returncode == 1
    first, second, third = json_lines(result.stdout)
    assert first["ok"] is False and first["error"]["reason"] == "malformed-json"
    assert (first["error"]["position"], first["error"]["line"], first["error"]["column"]) == (14, 1, 15)
    assert second["error"]["reason"] == "invalid-payload"
    assert "- at `$.dataObject.start_date_time_gmt`" in second["error"]["detail"]
    assert third["ok"] is True and third["events"]
    assert f"{unrepairable}:1:15: error: malformed-json: JSON is malformed: expected ':' (byte 14)" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreadable_file_fails_without_traceback(tmp_path: Path) -> None:
    """A file that cannot be read is reported as such, exit 1."""
    missing = tmp_path / "missing.json"
    result = run_gateway("check", "--provider", "timekit", str(missing))
    assert result.returncode == 1
    assert json_lines(result.stdout)[0]["error"]["reason"] == "unreadable-file"
    assert f"{missing}: error: unreadable-file: No such file or directory" in result.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--provider", "acuity"], "invalid choice: 'acuity'"),
        (["--provider", "picktime", "--header", "no colon"], "'no colon' is not 'Name: value'"),
        (["--provider", "picktime", "--timezone", "Mars/Olympus"], "unknown IANA time zone 'Mars/Olympus'"),
    ],
    ids=["unknown-provider", "bad-header", "bad-timezone"],
)
def test_usage_mistakes_exit_2_with_a_message(arguments: list[str], message: str) -> None:
    """Unknown providers, malformed headers and unknown zones are usage errors (exit 2), not tracebacks."""
    result = run_gateway("check", *arguments, str(BROKEN))
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_form_body_is_not_judged_as_json() -> None:
    """A Cal.com form-encoded body checked with its content type maps, and no JSON syntax error is reported."""
    body = TESTDATA / "calcom" / "variant_form_encoded_template.json"
    result = run_gateway("check", "--provider=calcom", "--header=Content-Type: application/x-www-form-urlencoded",
                         str(body))
    [report] = json_lines(result.stdout)
    assert result.returncode == 0 and report["ok"] is True and report["syntax_error"] is None
    assert "not valid JSON" not in result.stderr
