"""``gateway replay``: map the raw archive or the dead letters again with the current adapters and republish."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from gateway.commands import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, Command
from gateway.commands._console import quiet_libraries, say
from gateway.commands._consume import EndMarks, KafkaUnavailable, open_consumer
from gateway.commands._progress import Progress
from gateway.commands._publishing import open_publisher
from gateway.commands._replaying import Counts, Failed, Replayer, Window
from gateway.commands.dev import BUNDLED_CONFIG, bundled_dev_config
from gateway.config import Config, load_config
from gateway.kafka.publisher import BrokerUnavailable, PendingBatch, Publisher, first_failure
from gateway.outbound import OutboundRecord

__all__ = ["COMMAND", "Summary"]

_IDLE_S = 3.0  # only ever waited out when a position cannot reach its mark; generous for busy brokers
_ACK_BATCH = 1000

_EPILOG = """\
Without --config, uses the bundled dev config (gateway dev's broker, topics and sources).

Reads the topic from its earliest offset up to its end as it was when the replay
started: per partition, the high watermark of the first fetch answer. That is
right on Apache Kafka and on Tansu (whose end_offsets point into the last batch);
records written meanwhile are left for the next run. Should the position never
reach that mark (e.g. trailing transaction markers), reading stops after 3 s
with nothing fetched, saying so ("reached_end": false in --json).

Each record is mapped again with gateway.flow.pipeline.process, using the source the
config names in its gateway-meta header and its original received time, so event
ids and times are those of the first time: consumers deduplicate on the
CloudEvent id. Only canonical events are published (acks=all, every ack
awaited); nothing is archived or dead-lettered again. Records that still fail
are counted and listed. --since is inclusive, --until exclusive.

output: progress on stderr (one redrawn line on a terminal, else a line every
1000 records or 5 s); the summary on stdout (text, or one JSON object with --json).

exit status: 0 every record that could be mapped was published (or counted,
with --dry-run) and none failed; 1 some records failed to map (the others were
published); 2 usage (including a --source the config lacks); 3 configuration
error; 4 broker unreachable, topic missing, or publishing not acknowledged.
"""


class Summary(msgspec.Struct, frozen=True, kw_only=True):
    """What a replay did."""

    topic: str
    dry_run: bool
    reached_end: bool
    counts: Counts
    published: int
    elapsed_s: float
    failures: list[Failed]


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an RFC 3339 time such as 2026-01-02T03:04:05Z") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone: add Z or an offset such as +01:00")
    return moment


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = _EPILOG
    parser.add_argument("--config", type=Path,
                        help=f"TOML configuration file: sources, Kafka, topics (default: the bundled {BUNDLED_CONFIG}, "
                             "gateway dev's)")
    parser.add_argument("--from", dest="origin", required=True, choices=("raw", "dead-letter"),
                        help="the topic to read")
    parser.add_argument("--source", help="only records of this source id")
    parser.add_argument("--since", type=_moment, help="only records received at or after this RFC 3339 time")
    parser.add_argument("--until", type=_moment, help="only records received before this RFC 3339 time")
    parser.add_argument("--dry-run", action="store_true", help="map and count, publish nothing")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")


class _Sink:
    """Sends canonical records with the gateway's Publisher and awaits their acks in batches."""

    def __init__(self, publisher: Publisher | None) -> None:
        self._publisher = publisher
        self._batches: set[PendingBatch] = set()
        self._unacked = 0
        self.published = 0

    async def send(self, records: list[OutboundRecord]) -> None:
        if self._publisher is None or not records:
            return
        try:
            batches = self._publisher.append(records)
        except BrokerUnavailable as exc:
            raise KafkaUnavailable(f"the broker refused republished events ({exc})") from None
        self._batches.update(batches)
        self._unacked += len(records)
        if self._unacked >= _ACK_BATCH:
            await self.flush()

    async def flush(self) -> None:
        failed = await first_failure(self._batches)
        if failed is not None:
            raise KafkaUnavailable(f"the broker did not acknowledge republished events ({failed})")
        self.published += self._unacked
        self._batches.clear()
        self._unacked = 0


async def _drain(consumer: Any, marks: EndMarks, replayer: Replayer, sink: _Sink, progress: Progress) -> bool:
    """Replay every record before the end marks; whether they were reached (else nothing came for a while)."""
    idle_since = time.monotonic()
    while not await marks.reached():
        batches = await consumer.getmany(timeout_ms=200)
        for records in batches.values():
            for record in records:
                if marks.before_end(record):
                    await sink.send(replayer.replay(record))
                    progress.update(replayer.counts)
        if batches:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since > _IDLE_S:
            # e.g. trailing transaction markers the position never passes: nothing more will come
            say("replay", f"nothing fetched for {_IDLE_S:.0f} s short of the end marks; stopping there")
            return False
    return True


async def _replay(config: Config, args: argparse.Namespace, progress: Progress) -> Summary:
    topic = config.topics.raw if args.origin == "raw" else config.topics.dead_letter
    replayer = Replayer(config, Window(source=args.source, since=args.since, until=args.until))
    consumer, partitions = await open_consumer(config.kafka.bootstrap_servers, topic, from_end=False)
    try:
        publisher = None if args.dry_run else await open_publisher(config)
        sink = _Sink(publisher)
        try:
            marks = EndMarks(consumer, partitions)
            await marks.wait_complete()
            reached_end = await _drain(consumer, marks, replayer, sink, progress)
            await sink.flush()
        finally:
            if publisher is not None:
                await publisher.stop()
    finally:
        await consumer.stop()
    progress.update(replayer.counts, final=True)
    return Summary(topic=topic, dry_run=args.dry_run, reached_end=reached_end, counts=replayer.counts,
                   published=sink.published, elapsed_s=round(progress.elapsed_s, 3), failures=replayer.failures)


def _print_summary(summary: Summary) -> None:
    counts = msgspec.structs.asdict(summary.counts)
    totals = ", ".join(f"{name} {value}" for name, value in counts.items())
    mode = " (dry run: nothing published)" if summary.dry_run else f", published {summary.published}"
    lines = [f"replayed {summary.topic}: {totals}{mode} in {summary.elapsed_s:.1f} s"]
    if summary.failures:
        lines.append("still failing (delivery id, source, reason: detail):")
        lines.extend(f"  {f.delivery_id or f'offset {f.partition}:{f.offset}'}  {f.source or '-'}  "
                     f"{f.reason}: {f.detail}" for f in summary.failures)
    print("\n".join(lines), flush=True)


def _run(args: argparse.Namespace) -> int:
    config = load_config(args.config) if args.config else bundled_dev_config()
    known = sorted(source.id for source in config.sources)
    if args.source is not None and args.source not in known:
        say("replay", f"no source {args.source!r} in {args.config or BUNDLED_CONFIG} (configured: {', '.join(known) or 'none'})")
        return EXIT_USAGE
    quiet_libraries()
    progress = Progress(sys.stderr, interactive=sys.stderr.isatty())
    summary = asyncio.run(_replay(config, args, progress))
    if args.json:
        sys.stdout.buffer.write(msgspec.json.encode(summary) + b"\n")
        sys.stdout.buffer.flush()
    else:
        _print_summary(summary)
    return EXIT_FAILURE if summary.failures else EXIT_OK


COMMAND = Command("replay", "map the raw archive or dead letters again with the current adapters and republish",
                  _configure, _run)
