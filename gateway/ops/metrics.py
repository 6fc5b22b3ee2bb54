"""Prometheus metrics: what operators watch. Label values are bounded (never a booking id).

With several workers (``PROMETHEUS_MULTIPROC_DIR`` set before they start),
every worker writes its values to that folder and ``/metrics`` on any worker
renders the sum: counters and histograms add up, spool gauges sum over live
workers, and ``gateway_broker_up`` is the lowest any live worker reports.
"""

from __future__ import annotations

import os
from typing import TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from gateway.types import Outcome

__all__ = ["CONTENT_TYPE_LATEST", "METRIC_NAMES", "MULTIPROCESS_DIR_ENV", "Metrics", "UNKNOWN_LABEL"]

MULTIPROCESS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"

UNKNOWN_LABEL = "unknown"
"""The provider and source label of requests to routes nobody configured (the URL is the sender's)."""

# The *_created series double the output and nobody here alerts on them.
disable_created_metrics()  # type: ignore[no-untyped-call]

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

METRIC_NAMES = (
    "gateway_requests_total",
    "gateway_request_duration_seconds",
    "gateway_canonical_events_total",
    "gateway_dead_letters_total",
    "gateway_broker_ack_seconds",
    "gateway_broker_up",
    "gateway_producer_refused",
    "gateway_spool_records",
    "gateway_spool_bytes",
    "gateway_spool_capacity_bytes",
    "gateway_quarantined_records",
    "gateway_duplicates_total",
    "gateway_dedupe_fail_open_total",
)


_Metric = TypeVar("_Metric", Counter, Histogram)


def _child(cache: dict[tuple[str, ...], _Metric], metric: _Metric, *labels: str) -> _Metric:
    """``metric.labels(*labels)``, created once per label values."""
    child = cache.get(labels)
    if child is None:
        child = cache[labels] = metric.labels(*labels)
    return child


class Metrics:
    """Every series the gateway exports, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.requests = Counter(
            "gateway_requests", "Webhook requests by provider, source and outcome.",
            ["provider", "source", "outcome"], registry=registry,
        )
        self.request_duration = Histogram(
            "gateway_request_duration_seconds", "Time from request start to answer.",
            ["provider", "source"], buckets=_LATENCY_BUCKETS, registry=registry,
        )
        self.canonical_events = Counter(
            "gateway_canonical_events", "Canonical events published, by provider and type.",
            ["provider", "type"], registry=registry,
        )
        self.dead_letters = Counter(
            "gateway_dead_letters", "Requests written to the dead-letter topic, by reason.",
            ["provider", "source", "reason"], registry=registry,
        )
        self.broker_ack = Histogram(
            "gateway_broker_ack_seconds", "Time from a producer batch's first record to the broker's acknowledgement.",
            buckets=_LATENCY_BUCKETS, registry=registry,
        )
        self.broker_up = Gauge("gateway_broker_up", "1 when the broker answered the last check.",
                               registry=registry, multiprocess_mode="livemin")
        self.producer_refused = Gauge(
            "gateway_producer_refused", "1 while the broker refuses the producer the configuration asks for "
            "(kafka.idempotence against a broker without it); records are spooled meanwhile.",
            registry=registry, multiprocess_mode="livemax")
        self.spool_records = Gauge("gateway_spool_records", "Records waiting in the spool.",
                                   registry=registry, multiprocess_mode="livesum")
        self.spool_bytes = Gauge("gateway_spool_bytes", "Bytes of records waiting in the spool.",
                                 registry=registry, multiprocess_mode="livesum")
        self.spool_capacity = Gauge("gateway_spool_capacity_bytes", "The spool's configured limit in bytes.",
                                    registry=registry, multiprocess_mode="livesum")
        self.quarantined = Gauge(
            "gateway_quarantined_records", "Records the broker refused for good, set aside from the spool "
            "(gateway quarantine list); they hold spool bytes until retried.",
            registry=registry, multiprocess_mode="livesum")
        self.duplicates = Counter(
            "gateway_duplicates", "Repeated deliveries answered from the dedupe store.",
            ["provider", "source"], registry=registry,
        )
        self.dedupe_fail_open = Counter(
            "gateway_dedupe_fail_open", "Deliveries published without dedupe because the dedupe store did not "
            "answer in time (at-least-once: a repeat of one of them publishes again, under the same ids).",
            ["provider", "source"], registry=registry,
        )
        # Label children of the per-request series, by label values: labels() costs more than a dict lookup.
        self._request_counters: dict[tuple[str, ...], Counter] = {}
        self._request_timers: dict[tuple[str, ...], Histogram] = {}
        self._event_counters: dict[tuple[str, ...], Counter] = {}

    def request_done(self, provider: str, source: str, outcome: Outcome, seconds: float) -> None:
        """Count one answered request and its duration."""
        _child(self._request_counters, self.requests, provider, source, outcome).inc()
        _child(self._request_timers, self.request_duration, provider, source).observe(seconds)

    def events_published(self, provider: str, event_types: list[str]) -> None:
        """Count a request's canonical events by type."""
        for event_type in event_types:
            _child(self._event_counters, self.canonical_events, provider, event_type).inc()

    def render(self) -> bytes:
        """The Prometheus text exposition of every series (of every worker, with several)."""
        if os.environ.get(MULTIPROCESS_DIR_ENV):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry)
        return generate_latest(self.registry)

    @staticmethod
    def worker_stopped() -> None:
        """Drop this worker's live gauges from the shared folder."""
        if os.environ.get(MULTIPROCESS_DIR_ENV):
            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
