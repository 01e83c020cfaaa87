"""Prometheus metrics: what this process did (polls, verdicts, errors, latency), counted as it
happens, and what the database holds (stored entries, digests sent and pending), read at
scrape time so it is right whichever process wrote it. Names follow Prometheus conventions:
`monitor_` prefix, base units (seconds), `_total` on counters.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from typing import TypeVar

import httpx
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from monitor.store import views

log = logging.getLogger(__name__)
T = TypeVar("T")
_STARTED = "monitor.started"

POLL_OUTCOMES = ("ok", "not_modified", "failed", "gone", "skipped")
VERDICTS = ("new", "duplicate", "known", "mention", "none")
DIGEST_STATUSES = ("pending", "sent", "failed")


class _StoreCollector(Collector):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        try:
            found = views.counts(self.engine)
        except Exception as exc:  # a scrape must answer even when the database does not
            log.warning("metrics: cannot read the database: %s", exc)
            up = GaugeMetricFamily("monitor_database_up", "1 when the database answered this scrape.")
            up.add_metric([], 0)
            yield up
            return
        up = GaugeMetricFamily("monitor_database_up", "1 when the database answered this scrape.")
        up.add_metric([], 1)
        yield up
        stored = GaugeMetricFamily("monitor_entries_stored", "Entries in the database, by verdict.", labels=["verdict"])
        for verdict in sorted(set(VERDICTS) | set(found["verdicts"])):
            stored.add_metric([verdict], found["verdicts"].get(verdict, 0))
        yield stored
        sent = CounterMetricFamily("monitor_digests_sent", "Digests the mail server accepted (all processes).")
        sent.add_metric([], found["digests"].get("sent", 0))
        yield sent
        failed = CounterMetricFamily("monitor_digests_failed", "Digests refused for good (all processes).")
        failed.add_metric([], found["digests"].get("failed", 0))
        yield failed
        pending = GaugeMetricFamily("monitor_digests_pending", "Digests claimed and not yet sent.")
        pending.add_metric([], found["digests"].get("pending", 0))
        yield pending
        unclaimed = GaugeMetricFamily("monitor_outbox_unclaimed", "Developments and coverage promised to a subscriber, not yet in a digest.")
        unclaimed.add_metric([], found["unclaimed"])
        yield unclaimed
        failing = GaugeMetricFamily("monitor_feeds_failing", "Feeds whose last poll failed.")
        failing.add_metric([], found["failing_feeds"])
        yield failing
        last = GaugeMetricFamily("monitor_last_successful_poll_timestamp_seconds", "Unix time of the last successful poll of any feed.")
        last.add_metric([], found["last_success"].timestamp() if found["last_success"] else 0)
        yield last


class Metrics:
    """One registry per daemon; the daemon records, `/metrics` exposes."""

    def __init__(self, engine: Engine) -> None:
        self.registry = CollectorRegistry()
        self.polls = Counter("monitor_polls", "Feed polls by outcome.", ["outcome"], registry=self.registry)
        self.entries = Counter("monitor_entries_judged", "Entries judged by this process, by verdict.",
                               ["verdict"], registry=self.registry)
        self.feed_errors = Counter("monitor_feed_errors", "Failed feed polls, by kind of error.", ["kind"],
                                   registry=self.registry)
        self.poll_seconds = Histogram("monitor_poll_duration_seconds", "Time to fetch, parse, judge and store one feed.",
                                      registry=self.registry,
                                      buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120))
        self.fetch_seconds = Histogram("monitor_fetch_duration_seconds",
                                       "Time from sending a feed request to its response headers.",
                                       registry=self.registry,
                                       buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
        self.judge_seconds = Histogram("monitor_judge_duration_seconds", "Time to judge one entry.",
                                       registry=self.registry,
                                       buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1))
        for outcome in POLL_OUTCOMES:
            self.polls.labels(outcome)  # present at 0 from the start
        for verdict in VERDICTS:
            self.entries.labels(verdict)
        self.registry.register(_StoreCollector(engine))

    def record_poll(self, status: str, kind: str | None, verdicts: Mapping[str, int], seconds: float) -> None:
        self.polls.labels(status).inc()
        self.poll_seconds.observe(seconds)
        if status == "failed":
            self.feed_errors.labels(kind or "other").inc()
        for verdict, n in verdicts.items():
            if n:
                self.entries.labels(verdict).inc(n)

    def instrument_client(self, client: httpx.AsyncClient) -> None:
        """Time every request of `client` to its response headers (httpx event hooks)."""

        async def started(request: httpx.Request) -> None:
            request.extensions[_STARTED] = time.monotonic()

        async def answered(response: httpx.Response) -> None:
            began = response.request.extensions.get(_STARTED)
            if isinstance(began, float):
                self.fetch_seconds.observe(time.monotonic() - began)

        hooks = client.event_hooks
        client.event_hooks = {"request": [*hooks.get("request", []), started],
                              "response": [*hooks.get("response", []), answered]}

    def instrument_judge(self, judge: T) -> T:
        """Time each `judge.judge(entry, ...)` call of this Judge (in whichever thread runs it)."""
        original = judge.judge  # type: ignore[attr-defined]
        histogram = self.judge_seconds

        def timed(*args: object, **kwargs: object) -> object:
            began = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                histogram.observe(time.perf_counter() - began)

        setattr(judge, "judge", timed)  # noqa: B010 - an instance attribute over the method
        return judge

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
