"""``gateway quarantine``: list the records the broker refused for good, and send them again."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import msgspec

from gateway.commands import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, Command
from gateway.commands._console import quiet_libraries, say
from gateway.commands._consume import KafkaUnavailable
from gateway.commands._publishing import open_publisher
from gateway.commands.dev import BUNDLED_CONFIG, bundled_dev_config
from gateway.config import Config, load_config
from gateway.kafka.publisher import BrokerUnavailable, first_failure
from gateway.kafka.refusals import is_permanent, record_batch_bytes
from gateway.storage import quarantine
from gateway.storage.quarantine import QuarantinedRecord

__all__ = ["COMMAND", "Listed", "Retried"]

_EPILOG = """\
Without --config, uses the bundled dev config (gateway dev's spool folder and broker).

The relay sets a spooled record aside when the broker refuses it for good (a
non-retriable error such as MessageSizeTooLargeError) so the records behind it
go on; each entry keeps the record, the error and when. Entries live in the
spool folder's slot databases (spool.path) and count against spool.max_bytes.
Both commands work with the gateway running or stopped.

list: one line per entry (id, when set aside, topic, size as Kafka counts it,
error: detail), oldest first; --json prints one JSON object per entry.

retry: sends the chosen entries (IDs, or --all) with the config's producer
settings, one at a time, oldest first. An entry the broker acknowledges is
deleted; one refused for good again stays, with the new error. Fix the cause
first (raise the broker's message.max.bytes and kafka.max_record_bytes, say).

exit status: 0 listed, or every chosen entry delivered; 1 some entry refused
again; 2 usage (an unknown id, or neither IDs nor --all); 3 configuration
error; 4 broker unreachable or not acknowledging (entries not yet sent stay).
"""


class Listed(msgspec.Struct, frozen=True, kw_only=True):
    """One quarantined entry as ``list --json`` prints it (the record's bytes left out)."""

    id: str
    quarantined_at: str
    spooled_at: str
    topic: str
    key: str | None
    record_bytes: int
    error: str
    detail: str


class Retried(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """What ``retry`` did with one entry."""

    id: str
    outcome: Literal["delivered", "refused"]
    error: str | None = None


def _time(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _listed(entry: QuarantinedRecord) -> Listed:
    record = entry.record
    return Listed(id=entry.id, quarantined_at=_time(entry.quarantined_at), spooled_at=_time(entry.spooled_at),
                  topic=record.topic, key=None if record.key is None else record.key.decode("utf-8", "replace"),
                  record_bytes=record_batch_bytes(record), error=entry.error, detail=entry.detail)


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = _EPILOG
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="the quarantined records, oldest first")
    retrying = actions.add_parser("retry", help="send quarantined records again; delete those the broker takes")
    for sub in (listing, retrying):
        sub.add_argument("--config", type=Path,
                         help=f"TOML configuration file: spool.path and Kafka (default: the bundled {BUNDLED_CONFIG})")
        sub.add_argument("--json", action="store_true", help="one JSON object per entry")
    retrying.add_argument("ids", nargs="*", metavar="ID", help="the entries to retry (as list prints them)")
    retrying.add_argument("--all", action="store_true", help="retry every entry")


def _entries(directory: Path) -> list[tuple[Path, QuarantinedRecord]]:
    """Every entry of every slot, with the slot database holding it, oldest first."""
    found: list[tuple[Path, QuarantinedRecord]] = []
    for path in quarantine.slot_databases(directory):
        with closing(quarantine.connect(path)) as db:
            found.extend((path, entry) for entry in quarantine.entries(db))
    return sorted(found, key=lambda item: (item[1].quarantined_at, item[1].id))


def _print(documents: Sequence[msgspec.Struct], lines: Sequence[str], as_json: bool) -> None:
    if as_json:
        sys.stdout.buffer.write(b"".join(msgspec.json.encode(document) + b"\n" for document in documents))
        sys.stdout.buffer.flush()
    elif lines:
        print("\n".join(lines), flush=True)


def _list(config: Config, as_json: bool) -> int:
    listed = [_listed(entry) for _, entry in _entries(Path(config.spool.path))]
    _print(listed, [f"{item.id}  {item.quarantined_at}  {item.topic}  {item.record_bytes} bytes  "
                    f"{item.error}: {item.detail}" for item in listed], as_json)
    say("quarantine", f"{len(listed)} record(s) quarantined in {config.spool.path}")
    return EXIT_OK


async def _send(config: Config, chosen: Sequence[tuple[Path, QuarantinedRecord]]) -> list[Retried]:
    """Send each entry alone, oldest first: delete it once acknowledged, note a permanent refusal, stop otherwise."""
    publisher = await open_publisher(config)
    done: list[Retried] = []
    try:
        for path, entry in chosen:
            try:
                [batch] = publisher.place([entry.record])
            except BrokerUnavailable as exc:
                raise KafkaUnavailable(f"{exc}; {len(chosen) - len(done)} entries not retried") from None
            error = await first_failure([batch])
            if error is not None and not is_permanent(error):
                raise KafkaUnavailable(f"the broker did not acknowledge entry {entry.id} ({error!r}); "
                                       f"{len(chosen) - len(done)} entries not retried")
            with closing(quarantine.connect(path)) as db:
                if error is None:
                    quarantine.delete_entries(db, [entry.id])
                    done.append(Retried(id=entry.id, outcome="delivered"))
                else:
                    quarantine.refused_again(db, entry.id, error)
                    done.append(Retried(id=entry.id, outcome="refused", error=f"{type(error).__name__}: {error}"))
    finally:
        await publisher.stop()
    return done


def _retry(config: Config, args: argparse.Namespace) -> int:
    if bool(args.ids) == args.all:
        say("quarantine", "name the entries to retry (their ids, as list prints them), or --all")
        return EXIT_USAGE
    entries = _entries(Path(config.spool.path))
    known = {entry.id for _, entry in entries}
    unknown = [entry_id for entry_id in args.ids if entry_id not in known]
    if unknown:
        say("quarantine", f"no quarantined entry {', '.join(unknown)} in {config.spool.path}")
        return EXIT_USAGE
    chosen = entries if args.all else [(path, entry) for path, entry in entries if entry.id in set(args.ids)]
    done = asyncio.run(_send(config, chosen)) if chosen else []
    _print(done, [f"{item.id}  {item.outcome}" + (f"  {item.error}" if item.error else "") for item in done],
           args.json)
    refused = sum(item.outcome == "refused" for item in done)
    say("quarantine", f"{len(done) - refused} delivered, {refused} refused again (kept)")
    return EXIT_FAILURE if refused else EXIT_OK


def _run(args: argparse.Namespace) -> int:
    config = load_config(args.config) if args.config else bundled_dev_config()
    quiet_libraries()
    return _list(config, args.json) if args.action == "list" else _retry(config, args)


COMMAND = Command("quarantine", "list the records the broker refused for good, or send them again",
                  _configure, _run)
