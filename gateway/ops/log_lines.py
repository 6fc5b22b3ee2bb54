"""The log contract: every line the gateway writes on stdout, one Struct per ``event``, declared here and only here.

A line is its ``event`` (the Struct's tag), the Struct's fields, then
``level`` and ``timestamp``, which the one writer (``gateway.ops.logging``)
appends. ``schemas/log-lines.schema.json`` is generated from ``LINES``
(``python -m schemas.log_lines``). A new line is a new Struct added to
``LINES``; a field renamed or removed, or an event renamed, is a new
``LOG_CONTRACT_VERSION``. Fields a sender controls are never logged beyond
ids and counts: never a secret, never a body.
"""

from __future__ import annotations

from typing import Literal

import msgspec
from msgspec import UNSET, UnsetType

from gateway.types import Outcome

__all__ = ["LINES", "LOG_CONTRACT_VERSION", "DeadLetterReason", "LogLevel", "LogLine", "Webhook", "declared"]

LOG_CONTRACT_VERSION = 1
"""The version of the log contract: the README's, and the schema's ``$id``."""

LogLevel = Literal["debug", "info", "warning", "error", "critical"]
DeadLetterReason = Literal["malformed-json", "invalid-payload", "unsupported-event", "adapter-error"]
"""``adapters.base.ErrorReason``, restated: the ops layer stands below the adapters (a test keeps the two equal)."""


class LogLine(msgspec.Struct, kw_only=True, omit_defaults=True, forbid_unknown_fields=True,
              tag_field="event"):
    """One line on stdout: ``event`` (the subclass' tag) first, then its fields."""


class Webhook(LogLine, tag="webhook"):
    """One request to a webhook URL, written once when it is answered (or its sender hung up)."""

    source: str
    provider: str
    delivery_id: str | None
    outcome: Outcome
    status: int
    events: int
    duration_ms: float
    event_types: list[str]
    """The canonical types of the request's events, in order (also on a duplicate: the repeat's)."""
    subjects: list[str]
    """The canonical booking ids (``subject``) its events are about, each once (also on a duplicate)."""
    trace_id: str
    """The W3C trace id of the request (its ``traceparent``'s, or a new one): also on every record it produced."""
    span_id: str
    """The gateway's span for the request: the parent id in the ``traceparent`` header of its records."""
    problem: str | UnsetType = UNSET
    """A refusal's problem type (the problem document's ``type``)."""
    reason: DeadLetterReason | UnsetType = UNSET
    """A 422's dead-letter reason."""
    position: int | UnsetType = UNSET
    """A 422's byte offset in the body, when the adapter knows it."""


class Starting(LogLine, tag="starting"):
    """The app is starting: before the dedupe store and the producer open."""

    sources: int
    bootstrap_servers: str


class Ready(LogLine, tag="ready to receive"):
    """Started: the HTTP server takes requests."""

    host: str
    port: int
    spool: str


class Stopping(LogLine, tag="stopping: in-flight requests are done; flushing the producer"):
    """Shutting down: no request is in flight any more."""


class Stopped(LogLine, tag="stopped"):
    """Shut down; what is left in the spool is relayed at the next start."""

    spooled_records: int


class UnhandledError(LogLine, tag="unhandled error"):
    """A bug met by a request (answered with a 500 problem document)."""

    path: str
    exception: str


class AdapterRaised(LogLine, tag="adapter raised outside its contract; dead-lettering the body"):
    """An adapter bug: the body goes to the dead-letter topic (reason adapter-error)."""

    source: str
    provider: str
    exception: str


class DedupeNotLoaded(LogLine, tag="dedupe filter not loaded; every lookup asks SQLite"):
    """The dedupe backend is degraded: every lookup reads the database."""

    error: str


class DedupeLoaded(LogLine, tag="dedupe filter loaded"):
    """The dedupe filter holds the window's entries."""

    entries: int
    filter_bytes: int


class DedupeNotWritten(LogLine, tag="dedupe entries not written; retries of these deliveries will publish again"):
    """The dedupe backend is degraded: entries were lost."""

    entries: int
    error: str


class DedupeRedisConnected(LogLine, tag="dedupe redis connected"):
    """``[dedupe] backend = "redis"``: Redis answered at start."""


class DedupeRedisUnavailable(
    LogLine, tag="dedupe redis unavailable; accepting and publishing without dedupe (at-least-once)"
):
    """Redis did not answer within ``dedupe.redis_timeout_ms`` (once per outage): deliveries fail open meanwhile."""

    error: str
    """The client's error (its class and message: a host and port, never the URL's password)."""


class DedupeRedisBack(LogLine, tag="dedupe redis available again"):
    """Redis answers again after an outage: claims go through it again."""


class BrokerUnreachable(LogLine, tag="broker unreachable at start; retrying in the background"):
    """Broker down at start: requests are spooled until it answers."""

    bootstrap_servers: str


class BrokerAcceptsProducer(LogLine, tag="the broker accepts the producer now"):
    """A refused producer is accepted again (its setting was changed)."""

    setting: str


class ProducerConnected(LogLine, tag="producer connected"):
    """Broker up: the producer is connected."""

    bootstrap_servers: str


class ProducerRefused(LogLine, tag="broker refused the producer; spooling until it is accepted"):
    """The broker answers but refuses the configured producer: a setting to change."""

    refused: str
    error: str
    setting: str
    fix: str
    bootstrap_servers: str


class ProducerStopped(LogLine, tag="producer stopped"):
    """The producer is closed."""


class SpoolFromPreviousRun(LogLine, tag="spool holds records from a previous run; relaying"):
    """Draining: records spooled by an earlier run are relayed."""

    records: int


class StoppingSpooled(LogLine, tag="stopping with records spooled; they are relayed at the next start"):
    """Stopped with records in the spool."""

    spooled: int


class RecordsNotQueued(LogLine, tag="records not queued; spooling"):
    """Spooling: the producer would not take the records."""

    error: str


class BatchRefusedForGood(LogLine, tag="broker refused a batch for good"):
    """The broker refused a batch with an error retrying does not cure."""

    error: str


class AckLate(LogLine, tag="broker did not acknowledge in time; spooling"):
    """Spooling: no acknowledgement within ``kafka.ack_timeout_ms``."""

    ack_timeout_s: float


class BatchSpooled(LogLine, tag="broker refused a batch; its records are spooled"):
    """Spooling: the broker refused a batch."""

    error: str


class RelaySpoolUpdateFailed(LogLine, tag="relay could not update the spool; will retry"):
    """The relay could not settle what it sent (the disk refused); it tries again."""

    detail: str


class Quarantined(LogLine, tag="broker refused a record for good; quarantined"):
    """A spooled record the broker will never take: kept aside (``gateway quarantine``)."""

    quarantine_id: str
    topic: str
    error: str
    detail: str
    quarantined: int


class Relayed(LogLine, tag="relayed spooled records"):
    """Relay progress: spooled records the broker acknowledged, and how many are left."""

    batches: int
    records: int
    left: int


class RelayNotQueued(LogLine, tag="relay could not queue records"):
    """The relay could not hand records to the producer; it tries again."""

    error: str
    spooled: int


class RelayAckLate(LogLine, tag="relay: broker did not acknowledge; will retry"):
    """The broker did not acknowledge relayed records in time; they stay spooled."""

    spooled: int


class ConfigurationError(LogLine, tag="configuration error"):
    """``serve`` or ``dev`` refused its configuration and exits (status 3)."""

    error: str


LINES: tuple[type[LogLine], ...] = (
    Webhook, Starting, Ready, Stopping, Stopped, UnhandledError, AdapterRaised, DedupeNotLoaded, DedupeLoaded,
    DedupeNotWritten, DedupeRedisConnected, DedupeRedisUnavailable, DedupeRedisBack, BrokerUnreachable, BrokerAcceptsProducer, ProducerConnected, ProducerRefused, ProducerStopped,
    SpoolFromPreviousRun, StoppingSpooled, RecordsNotQueued, BatchRefusedForGood, AckLate, BatchSpooled,
    RelaySpoolUpdateFailed, Quarantined, Relayed, RelayNotQueued, RelayAckLate, ConfigurationError,
)
"""Every line the gateway writes: adding an event is adding its Struct here."""

_BY_EVENT: dict[str, type[LogLine]] = {str(line.__struct_config__.tag): line for line in LINES}


def declared(event: str) -> type[LogLine] | None:
    """The Struct of ``event``, or None when no line of that name is declared."""
    return _BY_EVENT.get(event)
