"""``gateway check``: run a vendor's adapter on body files offline and print the canonical events as JSON."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from adapters import ADAPTERS
from adapters.base import Adapter, AdapterError, SourceContext, VerifiedRequest
from adapters.times import format_utc
from gateway.commands import EXIT_FAILURE, EXIT_OK, Command
from gateway.commands._positions import SyntaxProblem, line_column, syntax_problem
from gateway.flow.envelope import build_events, delivery_key
from schemas.canonical import CloudEvent

__all__ = ["COMMAND", "Failure", "FileReport", "check_body"]

_EPILOG = """\
output: one JSON document per FILE on stdout, one per line (JSON Lines; --pretty indents them):
  {"file": PATH, "ok": BOOL, "syntax_error": {message, position, line, column} | null,
   "repairs": [TEXT, ...], "events": [CloudEvent, ...], "note": TEXT | null,
   "error": {reason, detail, position, line, column} | null}
"syntax_error" is what msgspec says of the body as sent, before any repair (null for a
form-encoded body, given --header 'Content-Type: application/x-www-form-urlencoded').
Diagnostics for people go to stderr as PATH:LINE:COLUMN: messages.

exit status: 0 every file mapped (a test ping with no event counts as mapped);
1 at least one file could not be read, parsed, repaired or mapped (all files are still checked);
2 usage (unknown provider, bad --header or --timezone).

example: gateway check --provider picktime body.json | jq -c '.events[] | [.type, .subject]'
"""


class Failure(msgspec.Struct, frozen=True, kw_only=True):
    """Why a file gave no events: the adapter's reason and detail, and where when it is a syntax error."""

    reason: str
    detail: str
    position: int | None = None
    line: int | None = None
    column: int | None = None


class FileReport(msgspec.Struct, frozen=True, kw_only=True):
    """What checking one file found."""

    file: str
    ok: bool
    syntax_error: SyntaxProblem | None = None
    repairs: list[str] = []
    events: list[CloudEvent] = []
    note: str | None = None
    error: Failure | None = None


def _header(text: str) -> tuple[str, str]:
    name, colon, value = text.partition(":")
    if not colon or not name.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not 'Name: value'")
    return name.strip().lower(), value.strip()


def _timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(f"unknown IANA time zone {name!r} (e.g. Europe/Berlin)") from None
    return name


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = _EPILOG
    parser.add_argument("--provider", required=True, choices=sorted(ADAPTERS), help="the vendor whose adapter to run")
    parser.add_argument("--timezone", type=_timezone, help="the source's time zone, for vendors that send local times")
    parser.add_argument("--header", dest="headers", type=_header, action="append", default=[],
                        metavar="'NAME: VALUE'", help="a request header the vendor would send (repeatable), "
                        "e.g. 'X-Webhook-Event: booking.created'")
    parser.add_argument("--pretty", action="store_true", help="indent the JSON documents")
    parser.add_argument("files", type=Path, nargs="+", metavar="FILE", help="a webhook body, byte for byte")


def check_body(
    name: str, body: bytes, adapter: Adapter, context: SourceContext, headers: Mapping[str, str], received_at: str
) -> FileReport:
    """Map one body as the gateway would, keeping msgspec's verdict on it as sent (a JSON body's: not a form's)."""
    form = headers.get("content-type", "").lower().startswith("application/x-www-form-urlencoded")
    problem = None if form else syntax_problem(body)
    request = VerifiedRequest(body=body, headers=headers, source=context, received_at=received_at)
    try:
        mapped = adapter.map(request)
    except AdapterError as exc:
        return FileReport(file=name, ok=False, syntax_error=problem, error=_failure(body, exc))
    events = build_events(request, mapped, delivery_key(request, mapped))
    repairs = list(dict.fromkeys(repair for event in events for repair in event.data.repairs))
    return FileReport(file=name, ok=True, syntax_error=problem, repairs=repairs, events=events, note=mapped.note)


def _failure(body: bytes, exc: AdapterError) -> Failure:
    if exc.position is None:
        return Failure(reason=exc.reason, detail=exc.detail)
    line, column = line_column(body, exc.position)
    return Failure(reason=exc.reason, detail=exc.detail, position=exc.position, line=line, column=column)


def _check_file(path: Path, adapter: Adapter, context: SourceContext, headers: Mapping[str, str]) -> FileReport:
    try:
        body = path.read_bytes()
    except OSError as exc:
        return FileReport(file=str(path), ok=False, error=Failure(reason="unreadable-file", detail=str(exc.strerror)))
    return check_body(str(path), body, adapter, context, headers, format_utc(datetime.now(UTC)))


def _explain(report: FileReport) -> None:
    """PATH:LINE:COLUMN: lines on stderr, the way compilers report, so editors can jump to them."""
    lines = []
    if report.syntax_error is not None:
        problem = report.syntax_error
        where = f"{report.file}:{problem.line or 0}:{problem.column or 0}"
        lines.append(f"{where}: not valid JSON as sent: {problem.message}")
    lines.extend(f"{report.file}: repaired: {repair}" for repair in report.repairs)
    if report.error is not None:
        error = report.error
        where = f":{error.line}:{error.column}" if error.line is not None else ""
        lines.append(f"{report.file}{where}: error: {error.reason}: {error.detail}")
    elif not report.events:
        lines.append(f"{report.file}: ok, no canonical event ({report.note or 'nothing to map'})")
    else:
        summary = ", ".join(f"{event.type} {event.subject}" for event in report.events)
        lines.append(f"{report.file}: ok, {len(report.events)} event(s): {summary}")
    print("\n".join(lines), file=sys.stderr, flush=True)


def _run(args: argparse.Namespace) -> int:
    adapter = ADAPTERS[args.provider]
    context = SourceContext(id=args.provider, provider=args.provider, timezone=args.timezone)
    headers = dict(args.headers)
    failed = 0
    for path in args.files:
        report = _check_file(path, adapter, context, headers)
        _explain(report)
        encoded = msgspec.json.encode(report)
        sys.stdout.buffer.write((msgspec.json.format(encoded, indent=2) if args.pretty else encoded) + b"\n")
        sys.stdout.buffer.flush()
        failed += not report.ok
    return EXIT_FAILURE if failed else EXIT_OK


COMMAND = Command("check", "run a vendor's adapter on body files offline and print the canonical events",
                  _configure, _run)
