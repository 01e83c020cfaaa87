"""Shared workers: Procrastinate drives the two work functions when daemons share PostgreSQL.

`workers: shared` in settings. Every daemon of the database runs the same three loops and
one Procrastinate worker; none of them is special, so any may die:

- the *dispatcher* reads our tables, the schedule of record: it leases the feeds that are
  due (FOR UPDATE SKIP LOCKED, so two dispatchers never take one feed) and defers one
  `poll` job per feed, and one `digest` job per subscriber whose digest may be due. Each
  job carries a per-feed (per-subscriber) `lock`, so Procrastinate never runs two of them
  at once, and a `queueing_lock`, so at most one waits in the queue. No work is a bare
  Procrastinate periodic task (one can skip a tick after a kill): a missed dispatch is
  done by the next one, from the tables.
- the *reaper* finds the jobs of a daemon silent for `stalled_after` (Procrastinate's
  `get_stalled_jobs`, by worker heartbeat; a killed worker never finishes its jobs and
  its per-feed lock would block that feed forever) and puts them back in the queue.
- the *worker* runs jobs: `poll` is pipeline.poll_feed for (feed, due), skipped when that
  due time was polled already (a job run again after a kill polls once); `digest` is
  delivery.send_due for one subscriber, where UNIQUE(subscriber, period) and the send
  lease make a second mail impossible.

Judging is serialised over the database by the pipeline's judge lock (memory.catch_up);
what this module adds is who polls what, and when.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import psycopg
from procrastinate import App, PsycopgConnector
from procrastinate import exceptions as queue_errors
from procrastinate.jobs import Status
from procrastinate.worker import Worker
from sqlalchemy import Engine, text

from monitor import delivery, pipeline
from monitor.config import Config, Settings
from monitor.logs import log_event
from monitor.mail.transport import make_sender
from monitor.store import dispatch
from monitor.store.shared import subscriber_key, xact_lock

__all__ = ["SharedWorkers", "ensure_queue_schema", "queue_url"]

log = logging.getLogger("monitor.cluster")

POLL_TASK = "monitor.poll"
DIGEST_TASK = "monitor.digest"
DISPATCH_EVERY = 1.0  # seconds between looks at which feeds are due
DIGEST_DISPATCH_EVERY = 5.0  # seconds between looks at which digests may be due
CLAIM_LIMIT = 500  # feeds leased per dispatch at most


def queue_url(database_url: str) -> str:
    """The libpq URL of the database (Procrastinate speaks psycopg, not SQLAlchemy)."""
    for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql://" + database_url.removeprefix(prefix)
    return database_url


def ensure_queue_schema(engine: Engine) -> bool:
    """Install Procrastinate's tables in our database once, under the schema lock, so
    daemons starting together install it once. True when installed now."""
    with engine.begin() as conn:
        xact_lock(conn, "schema")
        if conn.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar() is not None:
            return False
        schema = (resources.files("procrastinate.sql") / "schema.sql").read_text(encoding="utf-8")
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.execute(schema)  # no parameters: sent as written, in our transaction
    return True


class FeedFence:
    """Per-feed PostgreSQL advisory locks held on one connection of this daemon while it
    polls: what truly says a poller is alive. Procrastinate's stall detection goes by
    heartbeat, and a daemon merely slow (a loaded machine) can look dead and have its job
    run again elsewhere; the second run finds the feed locked and skips. A daemon that
    really died lost its connection, and its locks with it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._mutex = asyncio.Lock()
        self._held: set[str] = set()

    async def _execute(self, query: str, name: str) -> bool:
        async with self._mutex:
            for attempt in (1, 2):
                try:
                    if self._conn is None or self._conn.closed:
                        self._held.clear()  # a new session holds nothing
                        self._conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True, connect_timeout=5)
                    cursor = await self._conn.execute(query, {"name": f"monitor:feed:{name}"})
                    row = await cursor.fetchone()
                    return bool(row and row[0])
                except psycopg.OperationalError:
                    self._conn = None
                    if attempt == 2:
                        raise
            return False

    async def acquire(self, name: str) -> bool:
        if name in self._held:
            return False
        got = await self._execute("SELECT pg_try_advisory_lock(hashtext(%(name)s))", name)
        if got:
            self._held.add(name)
        return got

    async def release(self, name: str) -> None:
        if name in self._held:
            self._held.discard(name)
            with contextlib.suppress(psycopg.Error):
                await self._execute("SELECT pg_advisory_unlock(hashtext(%(name)s))", name)

    async def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                await self._conn.close()


@dataclass
class Counters:
    polls: int = 0
    digests: int = 0


@dataclass
class SharedWorkers:
    """One daemon's part of the shared work: dispatcher, reaper and a Procrastinate worker."""

    engine: Engine
    ctx: pipeline.PollContext
    config_of: Callable[[], Config]
    name: str  # this daemon's id, in logs
    on_polled: Callable[[pipeline.PollOutcome, float], object] = lambda _outcome, _seconds: None
    counters: Counters = field(default_factory=Counters)
    _app: App | None = None
    _worker: Worker | None = None
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _fence: FeedFence | None = None

    @property
    def settings(self) -> Settings:
        return self.config_of().settings

    @property
    def stalled_after(self) -> float:
        return self.settings.stalled_after.total_seconds()

    @property
    def lease(self) -> timedelta:
        """How long a dispatched feed stays off other dispatchers' hands without its job
        ending: long enough for a queued job to start; a late job skips an old due. It is
        also how long a feed waits when its dispatcher dies between lease and defer, so it
        follows `stalled_after` (60 s by default) rather than a fixed floor; dispatching a
        feed again early is harmless (queueing lock, per-feed fence)."""
        return 2 * self.settings.stalled_after

    async def start(self) -> None:
        installed = await asyncio.to_thread(ensure_queue_schema, self.engine)
        if installed:
            log_event(log, "queue.installed", tables="procrastinate_*")
        concurrency = self.settings.concurrency_global + 4  # polls wait on ctx.slots anyway
        connector = PsycopgConnector(conninfo=queue_url(self.settings.database_url), min_size=2,
                                     max_size=concurrency + 4, kwargs={"connect_timeout": 5})
        self._fence = FeedFence(queue_url(self.settings.database_url))
        app = self._app = App(connector=connector)
        app.task(name=POLL_TASK, queue="polls", pass_context=False)(self._poll)
        app.task(name=DIGEST_TASK, queue="digests", pass_context=False)(self._digest)
        await app.open_async()
        self._tasks = [
            asyncio.create_task(self._run_worker(concurrency), name="worker"),
            asyncio.create_task(self._loop("dispatch", DISPATCH_EVERY, self._dispatch_polls), name="dispatch"),
            asyncio.create_task(self._loop("dispatch_digests", DIGEST_DISPATCH_EVERY, self._dispatch_digests),
                                name="dispatch_digests"),
            asyncio.create_task(self._loop("reap", max(1.0, self.stalled_after / 3), self._reap), name="reap"),
        ]
        log_event(log, "workers.started", mode="shared", concurrency=concurrency, stalled_after=f"{self.stalled_after:g}s")

    async def stop(self, grace: float) -> None:
        """No more dispatching; jobs in flight get `grace` seconds, then are cancelled (their
        feeds' leases end, so another daemon picks them up at once)."""
        self._stop.set()
        # A stopping worker beats no more: jobs still running after `stalled_after` would be
        # taken for stalled and run again elsewhere (the fence makes that a skip, not a
        # second poll), so the grace ends before.
        grace = min(grace, 0.75 * self.stalled_after)
        if self._worker is not None:
            self._worker.shutdown_graceful_timeout = grace
            self._worker.stop()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=grace + 5)
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._app is not None:
            with contextlib.suppress(Exception):
                await self._app.close_async()
        if self._fence is not None:
            await self._fence.close()

    # -- the loops ----------------------------------------------------------------------

    async def _loop(self, name: str, every: float, step: Callable[[], Any]) -> None:
        """Run `step` every `every` seconds until stopped; a failure (the database
        restarting, say) is logged and the next round tries again."""
        failing = False
        while not self._stop.is_set():
            try:
                await step()
                if failing:
                    log_event(log, f"{name}.recovered")
                failing = False
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not failing:
                    log_event(log, f"{name}.failed", level=logging.WARNING, error=f"{type(exc).__name__}: {exc}")
                failing = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=every)

    async def _run_worker(self, concurrency: int) -> None:
        """Procrastinate's worker, started again if it ever stops on an error (a lost
        connection) while the daemon runs."""
        assert self._app is not None
        while not self._stop.is_set():
            beat = max(0.5, self.stalled_after / 4)
            self._worker = Worker(
                self._app, queues=["polls", "digests"], name=self.name, concurrency=concurrency,
                install_signal_handlers=False, listen_notify=True, fetch_job_polling_interval=1.0,
                update_heartbeat_interval=beat, stalled_worker_timeout=self.stalled_after,
                delete_jobs="successful",
            )
            try:
                await self._worker.run()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log_event(log, "worker.failed", level=logging.WARNING, error=f"{type(exc).__name__}: {exc}")
            if not self._stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=2.0)

    async def _dispatch_polls(self) -> None:
        assert self._app is not None
        due = await asyncio.to_thread(dispatch.claim_due_feeds, self.engine, datetime.now(UTC), self.lease, CLAIM_LIMIT)
        enabled = {name for name, feed in self.ctx.feeds.items() if feed.enabled}
        task = self._app.tasks[POLL_TASK]
        for feed in due:
            if feed.name not in enabled:
                await asyncio.to_thread(dispatch.release, self.engine, feed.name)
                continue
            lock = f"feed:{feed.name}"
            try:
                await task.configure(lock=lock, queueing_lock=lock).defer_async(feed=feed.name, due=feed.due.isoformat())
            except queue_errors.AlreadyEnqueued:
                pass  # its job waits in the queue already: the lease is renewed, nothing more

    async def _dispatch_digests(self) -> None:
        assert self._app is not None
        config = self.config_of()
        now = datetime.now(UTC)
        ready = await asyncio.to_thread(
            dispatch.digest_candidates, self.engine, now, config.settings.immediate_quiet_period)
        task = self._app.tasks[DIGEST_TASK]
        for subscriber in config.subscribers:
            key = subscriber_key(subscriber.email)
            if not ready.wants(key, subscriber.frequency):
                continue
            lock = f"digest:{key}"
            with contextlib.suppress(queue_errors.AlreadyEnqueued):
                await task.configure(lock=lock, queueing_lock=lock).defer_async(subscriber=subscriber.email)

    async def _reap(self) -> None:
        """Put back in the queue the jobs of daemons silent for `stalled_after`."""
        assert self._app is not None
        manager = self._app.job_manager
        for job in await manager.get_stalled_jobs(seconds_since_heartbeat=self.stalled_after):
            try:
                await manager.retry_job(job)
                outcome = "retried"
            except queue_errors.ConnectorException:
                # Another reaper got it first, or the dispatcher queued a fresh job for that
                # feed (its lease had run out): this one is done for.
                with contextlib.suppress(queue_errors.ConnectorException):
                    await manager.finish_job(job, status=Status.FAILED, delete_job=False)
                outcome = "dropped"
            log_event(log, "job.stalled", level=logging.WARNING, job=job.id, task=job.task_name,
                      lock=job.lock, worker=job.worker_id, outcome=outcome)
        await manager.prune_stalled_workers(self.stalled_after * 4)

    # -- the jobs -----------------------------------------------------------------------

    async def _poll(self, feed: str, due: str) -> None:
        """Poll `feed` for its `due` time, once: pipeline.poll_feed, the daemon's own work."""
        assert self._fence is not None
        due_at = datetime.fromisoformat(due)
        if not await self._fence.acquire(feed):
            # A run of this job thought stalled is still polling (its daemon is slow, not
            # dead): that run ends the lease.
            log_event(log, "job.poll_busy", feed=feed, due=due, daemon=self.name)
            return
        try:
            if not await asyncio.to_thread(dispatch.still_due, self.engine, feed, due_at):
                log_event(log, "job.poll", level=logging.DEBUG, feed=feed, due=due, status="done_already", daemon=self.name)
                return
            started = time.monotonic()
            outcome = await pipeline.poll_feed(self.ctx, feed, due_at)
            self.counters.polls += 1
            log_event(log, "job.poll", feed=feed, due=due, status=outcome.status, new=outcome.new_entries, daemon=self.name)
            self.on_polled(outcome, time.monotonic() - started)
        finally:
            await asyncio.shield(asyncio.to_thread(dispatch.release, self.engine, feed))
            await asyncio.shield(self._fence.release(feed))

    async def _digest(self, subscriber: str) -> None:
        """Send `subscriber`'s digest if it is due: delivery.send_due for them alone."""
        config = self.config_of()
        sender = make_sender(config.settings.smtp, config.settings.outbox_dir)
        report = await asyncio.to_thread(delivery.send_due, self.engine, config, sender, datetime.now(UTC),
                                         emails=[subscriber])
        self.counters.digests += len(report.sent)
        if report.sent or report.failed or report.retrying:
            log_event(log, "job.digest", subscriber=subscriber, summary=report.summary(), daemon=self.name)
        for email, reason in report.failed:
            log_event(log, "digest.failed", level=logging.ERROR, subscriber=email, reason=reason)
        for email, reason in report.retrying:
            log_event(log, "digest.retrying", level=logging.WARNING, subscriber=email, reason=reason)
