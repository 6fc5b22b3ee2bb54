"""Getting a request's records to the broker, or durably into the spool, before the 2xx.

The promise: once ``deliver`` returns, the records reach the broker whatever
happens next. Records go straight to the broker while it acknowledges within
``ack_timeout_ms`` and the spool is empty; otherwise into the spool, which
a relay drains oldest first. While the spool holds anything, new records
join it rather than overtake it, so a booking's events keep their order.
A send that timed out may still land: it is tracked, and its spooled copy
is dropped instead of resent when it does.

A record the broker refuses for good (``is_permanent``) does not hold the
spool: it is resent alone, to tell it from the records that shared its
batch, and if refused again it moves into the quarantine; the records
behind it go on in order. Any other failure retries the same records, in
order, with backoff.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import structlog

from gateway.kafka.publisher import BatchOutcome, BrokerUnavailable, PendingBatch, Publisher, first_failure
from gateway.kafka.refusals import first_oversized, is_permanent
from gateway.ops.metrics import Metrics
from gateway.outbound import OutboundRecord
from gateway.storage.quarantine import QuarantinedRecord, new_entry
from gateway.storage.spool import Spool, SpooledBatch, SpoolFullError

__all__ = ["Delivered", "Deliverer"]

Delivered = Literal["acked", "spooled"]
"""Where ``deliver`` left the records: acknowledged by the broker, or in the spool for the relay."""

_log = structlog.get_logger("gateway.kafka.delivery")
_RELAY_BATCHES = 256
_RELAY_IDLE_S = 1.0
_BACKOFF_MIN_S = 0.1
_BACKOFF_MAX_S = 5.0
_SHUTDOWN_DRAIN_S = 10.0


@dataclass(slots=True)
class _InFlight:
    """A send that missed its deadline: its records were spooled, but its batches may still be acknowledged."""

    seq: int
    size: int
    batches: list[PendingBatch]


async def _acked_in_time(batches: Sequence[PendingBatch]) -> bool:
    """True when every batch was acknowledged within its deadline."""
    for batch in batches:
        if not await batch.in_time:
            return False
    return True


class Deliverer:
    """Publisher plus spool plus relay: ``deliver`` returns once the records are safe."""

    def __init__(self, publisher: Publisher, spool: Spool, metrics: Metrics) -> None:
        self.publisher = publisher
        self.spool = spool
        self._metrics = metrics
        publisher.listen(self._batch_outcome)
        self._in_flight: list[_InFlight] = []
        self._wake = asyncio.Event()
        self._relay: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.spool.open()
        self._metrics.spool_capacity.set(self.spool.max_bytes)
        self._update_spool_metrics()
        if not self.spool.is_empty:
            _log.warning("spool holds records from a previous run; relaying", records=self.spool.records)
        await self.publisher.start()
        self._metrics.producer_refused.set(0 if self.publisher.refusal is None else 1)
        self._relay = asyncio.create_task(self._relay_forever(), name="spool-relay")

    async def stop(self) -> None:
        """Give the relay a bounded time to empty the spool, flush the producer, close the spool.

        What is still spooled stays on disk for the next start.
        """
        await self._drain_before_stop()
        if self._relay is not None:
            self._relay.cancel()
            await asyncio.gather(self._relay, return_exceptions=True)
        await self.publisher.stop()
        await self._settle_in_flight()
        await self.spool.close()

    async def _drain_before_stop(self) -> None:
        deadline = time.monotonic() + _SHUTDOWN_DRAIN_S
        while (not self.spool.is_empty or self._in_flight) and self.publisher.connected:
            if time.monotonic() > deadline:
                _log.warning("stopping with records spooled; they are relayed at the next start",
                             spooled=self.spool.records)
                return
            self._wake.set()
            await asyncio.sleep(0.05)

    async def deliver(self, records: Sequence[OutboundRecord]) -> Delivered:
        """Return once the records are acknowledged or spooled; SpoolFullError otherwise.

        Raises RecordTooLarge, before anything is sent or spooled, when a record is over the publisher's limit.
        """
        too_large = first_oversized(records, self.publisher.max_record_bytes)
        if too_large is not None:
            raise too_large
        batches: list[PendingBatch] = []
        if self.spool.is_empty and not self._in_flight and self.publisher.connected:
            try:
                batches = self.publisher.append(records)
            except BrokerUnavailable as exc:
                _log.warning("records not queued; spooling", error=type(exc).__name__)
            else:
                if await _acked_in_time(batches):
                    return "acked"
        seq, size = await self.spool.append(records)
        self._update_spool_metrics()
        if any(not batch.acked.done() for batch in batches):
            self._in_flight.append(_InFlight(seq, size, batches))
        self._wake.set()
        return "spooled"

    def _batch_outcome(self, batch: PendingBatch, outcome: BatchOutcome) -> None:
        """The publisher's report on one batch (shared by many requests): metrics, and a warning when it failed."""
        if outcome == "acked":
            self._metrics.broker_ack.observe(time.perf_counter() - batch.created)
            self._metrics.broker_up.set(1)
            return
        if outcome == "failed" and batch.error is not None and is_permanent(batch.error):
            # The broker answers; it refused these records, not the connection (the relay sets them aside).
            _log.warning("broker refused a batch for good", error=type(batch.error).__name__)
            return
        self._metrics.broker_up.set(0)
        if outcome == "late":
            _log.warning("broker did not acknowledge in time; spooling", ack_timeout_s=self.publisher.ack_deadline_s)
        else:
            _log.warning("broker refused a batch; its records are spooled", error=type(batch.error).__name__)

    async def _relay_forever(self) -> None:
        backoff = _BACKOFF_MIN_S
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=_RELAY_IDLE_S)
            except TimeoutError:
                # Idle: still tell operators whether the broker answers, or refuses the producer.
                readiness = await self.publisher.readiness()
                self._metrics.broker_up.set(1 if readiness.broker else 0)
                self._metrics.producer_refused.set(0 if readiness.refusal is None else 1)
                if self.spool.is_open:
                    await self.spool.recount_quarantine()
                    self._update_spool_metrics()
            self._wake.clear()
            while not self.spool.is_empty or self._in_flight:
                if await self._relay_once():
                    backoff = _BACKOFF_MIN_S
                    continue
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _BACKOFF_MAX_S)

    async def _relay_once(self) -> bool:
        """Send the oldest spooled batches; True once the broker took them (records it refused for good quarantined)."""
        await self._settle_in_flight()
        if not self.publisher.connected:
            self._metrics.broker_up.set(0)
            return False
        batches = await self.spool.oldest(_RELAY_BATCHES)
        if not batches:
            return True
        if self._in_flight:
            # A send timed out while we read: settle it first, or its batch could go out twice.
            return True
        refused = await self._send(batches)
        if refused is None:
            return False
        try:
            await self.spool.remove(batches, refused)
        except SpoolFullError as exc:
            _log.error("relay could not update the spool; will retry", detail=exc.detail)
            return False
        self._update_spool_metrics()
        for entry in (entry for entries in refused.values() for entry in entries):
            _log.error("broker refused a record for good; quarantined", quarantine_id=entry.id,
                       topic=entry.record.topic, error=entry.error, detail=entry.detail,
                       quarantined=self.spool.quarantined)
        _log.info("relayed spooled records", batches=len(batches), records=sum(len(b.records) for b in batches),
                  left=self.spool.records)
        return True

    async def _send(self, batches: Sequence[SpooledBatch]) -> dict[int, list[QuarantinedRecord]] | None:
        """Send the batches' records; those refused for good (by batch seq), or None to retry them all."""
        records = [record for batch in batches for record in batch.records]
        try:
            placed = self.publisher.place(records)
        except BrokerUnavailable as exc:
            _log.warning("relay could not queue records", error=type(exc).__name__, spooled=self.spool.records)
            return None
        await first_failure(list(dict.fromkeys(placed)))
        errors = [batch.error for batch in placed]
        if any(error is not None and not is_permanent(error) for error in errors):
            self._metrics.broker_up.set(0)
            _log.warning("relay: broker did not acknowledge; will retry", spooled=self.spool.records)
            return None
        self._metrics.broker_up.set(1)
        return await self._refused_alone(batches, errors) if any(errors) else {}

    async def _refused_alone(
        self, batches: Sequence[SpooledBatch], errors: Sequence[BaseException | None]
    ) -> dict[int, list[QuarantinedRecord]] | None:
        """Resend each refused record alone, in order: the entries for those refused again, by batch seq.

        A record that lands alone only shared a batch with the one refused. None when a resend
        failed otherwise (the broker went away): the batches are retried as they are.
        """
        refused: dict[int, list[QuarantinedRecord]] = {}
        outcomes = iter(errors)
        for batch in batches:
            for record in batch.records:
                if next(outcomes) is None:
                    continue
                try:
                    [alone] = self.publisher.place([record])
                except BrokerUnavailable:
                    return None
                error = await first_failure([alone])
                if error is not None and not is_permanent(error):
                    return None
                if error is not None:
                    refused.setdefault(batch.seq, []).append(new_entry(record, error, batch.spooled_at))
        return refused

    async def _settle_in_flight(self) -> None:
        """Wait for timed-out sends to resolve; drop the spooled copies of those that landed."""
        if not self._in_flight:
            return
        settling, self._in_flight = self._in_flight, []
        await first_failure([batch for item in settling for batch in item.batches])
        landed = [
            SpooledBatch(item.seq, [], item.size)
            for item in settling
            if all(batch.delivered for batch in item.batches)
        ]
        if landed and self.spool.is_open:
            await self.spool.remove(landed)
            self._update_spool_metrics()

    def _update_spool_metrics(self) -> None:
        self._metrics.spool_records.set(self.spool.records)
        self._metrics.spool_bytes.set(self.spool.bytes + self.spool.quarantined_bytes)
        self._metrics.quarantined.set(self.spool.quarantined)
