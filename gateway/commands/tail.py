"""``gateway tail``: follow the canonical topic and print its events, one readable line each or as JSON."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import msgspec

from gateway.commands import EXIT_OK, Command
from gateway.commands._console import quiet_libraries, say
from gateway.commands._consume import EndMarks, open_consumer
from gateway.commands.dev import bundled_dev_config
from gateway.config import TopicSettings, load_config
from gateway.kafka.records import record_header
from schemas.canonical import EVENT_TYPES, CloudEvent

__all__ = ["COMMAND", "event_line"]

_EVENT = msgspec.json.Decoder(CloudEvent)

_EPILOG = """\
Without --config or --bootstrap, reads the broker of the bundled dev config (gateway dev).

Without --from-beginning only events written after tail started are shown: tail
positions at the end, then drops whatever lies below the high watermark of the
first fetch answer per partition. Apache Kafka's end offsets are exact already;
Tansu's point into the last batch, and this drops that batch's already-written
records, so the behaviour is the same on both.

output: one line per event: time, type, subject, provider, status, start, title,
customer; with --json the CloudEvent exactly as stored (one JSON object per line).
--type filters on the ce_type record header without decoding the event.

exit status: 0 after --max events or Ctrl-C; 2 usage; 3 configuration error;
4 broker unreachable or topic missing.
"""


def _positive(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = _EPILOG
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--config", type=Path, help="TOML configuration file: its broker and canonical topic")
    where.add_argument("--bootstrap", metavar="HOST:PORT", help="the Kafka bootstrap server(s)")
    parser.add_argument("--topic", help="the topic to follow (default: the canonical topic)")
    parser.add_argument("--type", dest="types", action="append", choices=EVENT_TYPES, metavar="TYPE",
                        help="only events of this canonical type (repeatable), e.g. booking.cancelled")
    parser.add_argument("--provider", dest="providers", action="append", metavar="PROVIDER",
                        help="only events from this vendor (repeatable)")
    parser.add_argument("--json", action="store_true", help="print each CloudEvent as stored, one per line")
    parser.add_argument("--from-beginning", action="store_true", help="start at the earliest event, not the end")
    parser.add_argument("--max", type=_positive, metavar="N", help="exit after printing N events")


def event_line(event: CloudEvent) -> str:
    """One readable line for an event."""
    booking = event.data.booking
    customer = booking.customer
    who = (customer.name or customer.email or "") if customer else ""
    title = f'"{booking.title}"' if booking.title else "-"
    return (f"{event.time}  {event.type:<19} {event.subject}  {event.provider}  {booking.status or '-'}  "
            f"start {booking.start or '-'}  {title}  {who}").rstrip()


def _render(record: Any, args: argparse.Namespace) -> str | None:
    """The line to print for ``record``, or None when the filters drop it."""
    if args.types and (record_header(record.headers, "ce_type") or b"").decode() not in args.types:
        return None
    if args.json and not args.providers:
        return bytes(record.value).decode("utf-8", errors="replace")
    try:
        event = _EVENT.decode(record.value)
    except msgspec.DecodeError as exc:
        say("tail", f"offset {record.partition}:{record.offset} is not a canonical event ({exc}); skipped")
        return None
    if args.providers and event.provider not in args.providers:
        return None
    return bytes(record.value).decode() if args.json else event_line(event)


async def _follow(bootstrap: str, topic: str, args: argparse.Namespace) -> None:
    consumer, partitions = await open_consumer(bootstrap, topic, from_end=not args.from_beginning)
    try:
        marks = EndMarks(consumer, partitions)
        if not args.from_beginning:
            await marks.wait_complete()
        start = "the beginning" if args.from_beginning else "the end"
        say("tail", f"following {topic} on {bootstrap} from {start}; Ctrl-C to stop")
        printed = 0
        while args.max is None or printed < args.max:
            batches = await consumer.getmany(timeout_ms=500, max_records=args.max and args.max - printed)
            for record in (record for records in batches.values() for record in records):
                line = None if (not args.from_beginning and marks.before_end(record)) else _render(record, args)
                if line is not None and (args.max is None or printed < args.max):
                    print(line, flush=True)
                    printed += 1
    finally:
        await consumer.stop()


def _run(args: argparse.Namespace) -> int:
    topics = TopicSettings()
    bootstrap = args.bootstrap
    if bootstrap is None:
        config = load_config(args.config) if args.config else bundled_dev_config()
        bootstrap, topics = config.kafka.bootstrap_servers, config.topics
    quiet_libraries()
    try:
        asyncio.run(_follow(bootstrap, args.topic or topics.canonical, args))
    except KeyboardInterrupt:
        pass
    except BrokenPipeError:
        # the reader (head, less) went away: not an error; keep Python from complaining at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_OK


COMMAND = Command("tail", "follow the canonical topic and print its events", _configure, _run)
