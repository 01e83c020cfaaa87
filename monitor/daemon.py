"""The daemon: APScheduler 3 at the edge, driving pipeline.poll_feed per feed.

With `workers: shared` (several daemons on one PostgreSQL) the polls and digests are
driven by cluster.SharedWorkers (Procrastinate) instead; everything else here (the web
pages, config reload, maintenance, the heartbeat, stopping) is the same in both modes.

Our tables are the schedule of record: one `tick` job reads the rows of every feed due
(`feeds.next_poll_at`, which the pipeline sets after each poll: jittered interval, backoff,
Retry-After, adaptive interval) in one query, and starts a round of `poll_all` for those not
already in flight: the code `poll --once` and the benchmark run. A reload job watches config/ and baseline/ and
applies a valid change without a restart; an invalid one is logged (file, line, reason) and
the running config stays. A maintenance job prunes old entries to tombstones. SIGTERM and
SIGINT stop it: in-flight polls get a grace period to finish, then are cancelled, and every
write is one transaction, so nothing is half-written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import socket
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Connection, Engine

from monitor import delivery
from monitor.cluster import SharedWorkers
from monitor.config import Config, ensure_secret, load_config
from monitor.errors import ConfigError
from monitor.fetch import FetchLimits, HostLimiter, make_client_pool
from monitor.logs import log_event, redact_url
from monitor.mail.transport import make_sender
from monitor.memory import load_judge
from monitor.operator import send_operator_mail
from monitor.pipeline import PollContext, PollOutcome, make_parse_pool, poll_all
from monitor.store import daemons as daemon_store
from monitor.store import feeds as feed_store
from monitor.store.db import hold_daemon_lock, open_engine, upgrade
from monitor.store.judgements import StoredEntry, seed_baseline
from monitor.web import WebContext, WebServer, make_app
from monitor.web.auth import is_public
from monitor.web.metrics import Metrics

__all__ = ["NO_SUBSCRIBERS", "Daemon", "build_context", "open_store", "promise_callback"]

log = logging.getLogger("monitor.daemon")

RELOAD_EVERY = 2.0  # seconds between looks at config/ and baseline/ mtimes
TICK_EVERY = 1.0  # seconds between looks at which feeds are due
DIGESTS_EVERY = 60.0  # seconds between looks at what digests are due
MAINTENANCE_EVERY = timedelta(hours=1)
OPERATOR_EVERY = timedelta(minutes=15)  # between looks at feed health (the operator's mail)
OPERATOR_FIRST = 10.0  # seconds after start: the first round of polls has had its chance
STOP_GRACE = 10.0  # seconds in-flight polls get to finish on SIGTERM
JOB_DEFAULTS = {"coalesce": True, "max_instances": 3, "misfire_grace_time": None}
NO_SUBSCRIBERS = (
    "no subscribers: developments are stored but no digest is sent; "
    "add one with 'monitor subscribers add EMAIL'"
)


def open_store(config: Config) -> Engine:
    """The database of settings.database_url, migrated, with the baseline seeded."""
    engine = open_engine(config.settings.database_url)
    prepare_store(engine, config)
    return engine


def prepare_store(engine: Engine, config: Config) -> None:
    """Migrate and seed the baseline (each under its lock: daemons may start together)."""
    upgrade(engine)
    seed_baseline(engine, config.cases)


def heartbeat_every(config: Config) -> float:
    """Seconds between heartbeats: a few per `stalled_after`, at most every 10 s."""
    return max(0.5, min(10.0, config.settings.stalled_after.total_seconds() / 4))


def promise_callback(config_of: Callable[[], Config]) -> Callable[[Connection, list[StoredEntry]], object]:
    """on_stored for the pipeline: delivery's outbox.promise for the current subscribers."""
    from monitor.store import outbox

    def on_stored(conn: Connection, stored: list[StoredEntry]) -> object:
        config = config_of()
        return outbox.promise(conn, stored, config.subscribers, delivery.watchlist_cases(config), datetime.now(UTC))

    return on_stored


def build_context(config: Config, engine: Engine, user_agent: str, *, promise: bool = True,
                  config_of: Callable[[], Config] | None = None) -> PollContext:
    """The PollContext of the daemon and of `poll --once` alike (the benchmark's too): a
    client pool, host limits and parse workers sized from settings and the machine. The
    caller closes it (`await ctx.aclose()`, or `async with ctx`).

    `config_of` returns the config in force (the daemon swaps in a new one on reload), so the
    judge and the promises always see the current subjects and subscribers.
    """
    settings = config.settings
    current = config_of or (lambda: config)
    return PollContext(
        engine=engine,
        client=make_client_pool(user_agent, max_connections=settings.concurrency_global, proxy=settings.proxy),
        settings=settings,
        feeds={f.name: f for f in config.feeds},
        judge_factory=lambda: load_judge(engine, current().subjects, dict(current().cases), current().language_dirs),
        limits=FetchLimits(max_bytes=settings.max_feed_bytes),
        limiter=HostLimiter(per_host=settings.concurrency_per_host, total=settings.concurrency_global),
        on_stored=promise_callback(current) if promise else None,
        parse_pool=make_parse_pool(),
    )


def _snapshot(*folders: Path) -> dict[str, tuple[int, int]]:
    """Path -> (mtime_ns, size) of every file under the folders."""
    out: dict[str, tuple[int, int]] = {}
    for folder in folders:
        for root, _dirs, files in os.walk(folder):
            for name in files:
                path = os.path.join(root, name)
                with contextlib.suppress(OSError):
                    st = os.stat(path)
                    out[path] = (st.st_mtime_ns, st.st_size)
    return out


class Daemon:
    """`monitor run`: poll every enabled feed on its schedule until told to stop."""

    def __init__(self, config: Config, user_agent: str, *, reload_every: float = RELOAD_EVERY) -> None:
        self.config = config
        self.user_agent = user_agent
        self.reload_every = reload_every
        # Every job guards itself against overlap (`_single`): a run that finds its job still
        # running returns at once, so APScheduler's instance limit is never what stops one
        # and a healthy start logs no "maximum number of running instances reached".
        self.scheduler = AsyncIOScheduler(timezone=UTC, job_defaults=JOB_DEFAULTS)
        self._busy: set[str] = set()
        self._again: set[str] = set()
        self._stop = asyncio.Event()
        self._running: set[asyncio.Task[object]] = set()
        self._polling: set[str] = set()  # feeds in a round not yet done
        self._snapshot: dict[str, tuple[int, int]] = {}
        self.engine: Engine | None = None
        self.ctx: PollContext | None = None
        self.web: WebServer | None = None
        self.metrics: Metrics | None = None
        self._unhealthy_logged: set[tuple[str, str, date]] = set()
        self.workers: SharedWorkers | None = None  # workers: shared
        self.id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self._polls = 0
        self._digests = 0

    def stop(self, reason: str = "requested") -> None:
        if not self._stop.is_set():
            log_event(log, "daemon.stopping", reason=reason)
            self._stop.set()

    @property
    def shared(self) -> bool:
        return self.config.settings.workers == "shared"

    async def run(self) -> int:
        config = self.config
        self.engine = engine = open_engine(config.settings.database_url)
        try:
            # SQLite: one daemon per file; PostgreSQL: shared daemons together, or one embedded.
            release = await asyncio.to_thread(hold_daemon_lock, engine, shared=self.shared)
        except BaseException:
            engine.dispose()
            raise
        try:
            return await self._run(engine)
        finally:
            release()
            engine.dispose()

    async def _run(self, engine: Engine) -> int:
        config = self.config
        await asyncio.to_thread(prepare_store, engine, config)
        self.metrics = Metrics(engine)
        now = datetime.now(UTC)
        await asyncio.to_thread(feed_store.sync_feeds, engine, config.feeds, now)
        self.ctx = ctx = build_context(config, engine, self.user_agent, config_of=lambda: self.config)
        metrics = self.metrics
        for client in getattr(ctx.client, "clients", [ctx.client]):
            metrics.instrument_client(client)
        make_judge = ctx.judge_factory
        ctx.judge_factory = lambda: metrics.instrument_judge(make_judge())
        await ctx.rebuild_judge()
        self._snapshot = _snapshot(config.config_dir, config.baseline_dir)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop, signal.Signals(sig).name)
        driver = "shared" if self.shared else "embedded"
        await asyncio.to_thread(daemon_store.register, engine, self.id, socket.gethostname(), os.getpid(), driver, now)
        try:
            if self.shared:
                self.workers = SharedWorkers(engine=engine, ctx=ctx, config_of=lambda: self.config, name=self.id,
                                             on_polled=self._shared_polled)
                await self.workers.start()
            else:
                self.scheduler.add_job(
                    self._single("tick", self._tick), IntervalTrigger(seconds=TICK_EVERY, timezone=UTC),
                    id="tick", next_run_time=now,
                )
                self.scheduler.add_job(
                    self._tracked(self._single("digests", self._send_digests, again=True)),
                    IntervalTrigger(seconds=DIGESTS_EVERY, timezone=UTC),
                    id="digests", next_run_time=now + timedelta(seconds=5),
                )
            self.scheduler.add_job(
                self._tracked(self._single("maintenance", self._maintenance)),
                IntervalTrigger(seconds=MAINTENANCE_EVERY.total_seconds(), timezone=UTC),
                id="maintenance", next_run_time=now + timedelta(seconds=30),
            )
            self.scheduler.add_job(
                self._single("reload", self._reload), IntervalTrigger(seconds=self.reload_every, timezone=UTC),
                id="reload",
            )
            self.scheduler.add_job(
                self._single("heartbeat", self._heartbeat), IntervalTrigger(seconds=heartbeat_every(config), timezone=UTC),
                id="heartbeat",
            )
            self.scheduler.add_job(
                self._tracked(self._single("operator", self._feed_health)),
                IntervalTrigger(seconds=OPERATOR_EVERY.total_seconds(), timezone=UTC),
                id="operator", next_run_time=now + timedelta(seconds=OPERATOR_FIRST),
            )
            await self._start_web()
            self.scheduler.start()
            settings = config.settings
            log_event(
                log, "daemon.started", pid=os.getpid(), feeds=sum(f.enabled for f in config.feeds),
                database=redact_url(settings.database_url), workers=driver, id=self.id,
                # With no SMTP server, digests are .eml files in this folder.
                mail=redact_url(settings.smtp_url) if settings.smtp_url else f"outbox folder {settings.outbox_dir}",
            )
            if not config.subscribers:
                log_event(log, "daemon.no_subscribers", level=logging.WARNING, hint=NO_SUBSCRIBERS)
            await self._stop.wait()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            if self.scheduler.running:
                self.scheduler.pause()  # no new runs; in-flight polls get their grace period
            if self.workers is not None:
                await self.workers.stop(STOP_GRACE)
            await self._finish_in_flight()
            if self.scheduler.running:
                self.scheduler.shutdown(wait=False)
            await ctx.aclose()
            if self.web is not None:
                await self.web.stop()
            with contextlib.suppress(Exception):
                await asyncio.to_thread(daemon_store.unregister, engine, self.id)
            log_event(log, "daemon.stopped")
        return 0

    async def _heartbeat(self) -> None:
        """This daemon is alive (`monitor status` lists it), with its totals; daemons silent
        for long (killed) are forgotten."""
        assert self.engine is not None
        now = datetime.now(UTC)
        polls, digests = self._polls, self._digests
        if self.workers is not None:
            polls, digests = self.workers.counters.polls, self.workers.counters.digests
        try:
            await asyncio.to_thread(daemon_store.beat, self.engine, self.id, now, polls=polls, digests=digests)
            await asyncio.to_thread(daemon_store.forget_silent, self.engine, now - timedelta(hours=1))
        except Exception as exc:  # the database restarting: the next beat tries again
            log_event(log, "heartbeat.failed", level=logging.WARNING, error=f"{type(exc).__name__}: {exc}")

    def _shared_polled(self, outcome: PollOutcome, seconds: float) -> None:
        if self.metrics is not None:
            self.metrics.record_poll(outcome.status, outcome.kind, outcome.verdicts, seconds)

    async def _finish_in_flight(self) -> None:
        running = [t for t in self._running if not t.done()]
        if not running:
            return
        _done, pending = await asyncio.wait(running, timeout=STOP_GRACE)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
            log_event(log, "daemon.abandoned", polls=len(pending))

    def _tracked(self, func: Callable[..., object]) -> Callable[..., object]:
        async def run(*args: object) -> None:
            if self._stop.is_set():
                return
            task = asyncio.current_task()
            assert task is not None
            self._running.add(task)
            try:
                await func(*args)  # type: ignore[misc]
            except asyncio.CancelledError:
                # Abandoned at stop: each write is one transaction, so nothing is half-done.
                log_event(log, "job.abandoned", level=logging.WARNING, job=run.__name__, args=",".join(map(str, args)) or None)
            finally:
                self._running.discard(task)

        run.__name__ = getattr(func, "__name__", "job")
        return run

    def _single(self, key: str, func: Callable[..., object], *, again: bool = False) -> Callable[..., object]:
        """One run of `key` at a time: a run asked for while one is in flight returns at
        once (with `again`, the run in flight goes round once more instead)."""

        async def run(*args: object) -> None:
            if key in self._busy:
                if again:
                    self._again.add(key)
                return
            self._busy.add(key)
            try:
                while True:
                    self._again.discard(key)
                    await func(*args)  # type: ignore[misc]
                    if key not in self._again or self._stop.is_set():
                        break
            finally:
                self._busy.discard(key)

        run.__name__ = getattr(func, "__name__", key)
        return run

    # -- feeds ---------------------------------------------------------------------------

    async def _tick(self) -> None:
        """Start a round for the feeds due and not in flight; returns without waiting for it,
        so a slow feed never holds back the others. The 304s of finished rounds are
        written first, so a feed's row is current before it is read again."""
        assert self.engine is not None and self.ctx is not None
        ctx = self.ctx
        await ctx.flush_not_modified()
        now = datetime.now(UTC)
        due = await asyncio.to_thread(feed_store.due_states, self.engine, now)
        enabled = {name for name, feed in ctx.feeds.items() if feed.enabled}
        states = [s for s in due if s.name in enabled and s.name not in self._polling]
        if not states or self._stop.is_set():
            return
        self._polling.update(s.name for s in states)
        task = asyncio.create_task(self._round(states, now))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _round(self, states: list[feed_store.FeedState], now: datetime) -> None:
        assert self.ctx is not None
        started = time.monotonic()

        def polled(outcome: PollOutcome) -> None:
            if self.metrics is not None:  # a round's feeds share its start: seconds to each feed's end
                self.metrics.record_poll(outcome.status, outcome.kind, outcome.verdicts, time.monotonic() - started)
            self._polled(outcome)

        try:
            await poll_all(self.ctx, now, states=states, on_done=polled)
        except asyncio.CancelledError:
            # Abandoned at stop: each write is one transaction, so nothing is half-done.
            log_event(log, "job.abandoned", level=logging.WARNING, job="poll", feeds=len(states))
        finally:
            self._polling.difference_update(s.name for s in states)

    def _polled(self, outcome: PollOutcome) -> None:
        self._polling.discard(outcome.feed)
        self._polls += 1
        if outcome.new_entries and any(s.frequency == "immediate" for s in self.config.subscribers):
            # Immediate subscribers: send once the burst has gone quiet (a later poll with
            # more news moves this again; the quiet period restarts with it).
            quiet = self.config.settings.immediate_quiet_period
            when = datetime.now(UTC) + (quiet + timedelta(seconds=1) if quiet else timedelta(0))
            with contextlib.suppress(JobLookupError):
                self.scheduler.modify_job("digests", next_run_time=when)

    # -- digests and the web pages --------------------------------------------

    async def _send_digests(self) -> None:
        """Send what is due; the outbox tables decide what that is, so a missed run is
        caught up by the next one."""
        assert self.engine is not None
        config = self.config
        settings = config.settings
        try:
            sender = make_sender(settings.smtp, settings.outbox_dir)
            report = await asyncio.to_thread(delivery.send_due, self.engine, config, sender, datetime.now(UTC))
        except Exception as exc:  # never let one bad run stop the schedule
            log_event(log, "digests.failed", level=logging.ERROR, error=f"{type(exc).__name__}: {exc}")
            return
        self._digests += len(report.sent)
        if report.sent or report.failed or report.retrying:
            log_event(log, "digests.sent", summary=report.summary())
            for email, reason in report.failed:
                log_event(log, "digest.failed", level=logging.ERROR, subscriber=email, reason=reason)
            for email, reason in report.retrying:
                log_event(log, "digest.retrying", level=logging.WARNING, subscriber=email, reason=reason)

    async def _feed_health(self) -> None:
        """Feeds failing for a day, gone or silent past their rhythm: logged, and mailed to
        operator_email at most once a day (operator.py)."""
        assert self.engine is not None
        settings = self.config.settings
        try:
            sender = make_sender(settings.smtp, settings.outbox_dir)
            mail = await asyncio.to_thread(send_operator_mail, self.engine, self.config, sender, datetime.now(UTC))
        except Exception as exc:  # never let one bad run stop the schedule
            log_event(log, "operator.failed", level=logging.ERROR, error=f"{type(exc).__name__}: {exc}")
            return
        day = datetime.now(UTC).date()
        for trouble in mail.report:  # each trouble logged once a day, mailed or not
            if (trouble.feed, trouble.state, day) not in self._unhealthy_logged:
                self._unhealthy_logged.add((trouble.feed, trouble.state, day))
                log_event(log, "feed.unhealthy", level=logging.WARNING, feed=trouble.feed, state=trouble.state,
                          detail=trouble.detail)
        if mail.outcome == "sent":
            log_event(log, "operator.mailed", to=settings.operator_email, feeds=len(mail.report))
        elif mail.outcome in ("retrying", "refused"):
            log_event(log, "operator.not_mailed", level=logging.ERROR, to=settings.operator_email,
                      outcome=mail.outcome, error=mail.error)

    async def _start_web(self) -> None:
        """Serve the web pages (one-click unsubscribe, RFC 8058, among them) as a task of
        this loop; a busy port is logged, not fatal."""
        assert self.engine is not None
        settings = self.config.settings
        try:
            secret = ensure_secret(settings).encode()
            ctx = WebContext(engine=self.engine, secret=secret, config_of=lambda: self.config, metrics=self.metrics,
                             operator_hash=settings.operator_password_hash,
                             public=is_public(settings.http_host))
            self.web = WebServer(make_app(ctx), settings.http_host, settings.http_port)
            await self.web.start()
        except OSError as exc:
            self.web = None
            log_event(
                log, "unsubscribe.unavailable", level=logging.ERROR, host=settings.http_host,
                port=settings.http_port, error=str(exc),
            )
            return
        log_event(log, "web.listening", url=self.web.url)

    # -- maintenance and reload ----------------------------------------------------------

    async def _maintenance(self) -> None:
        assert self.engine is not None
        now = datetime.now(UTC)
        before = now - timedelta(days=self.config.settings.retention_days)
        try:
            pruned = await asyncio.to_thread(feed_store.prune_entries, self.engine, before=before, now=now)
        except Exception as exc:
            log_event(log, "maintenance.failed", level=logging.ERROR, error=f"{type(exc).__name__}: {exc}")
            return
        log_event(log, "maintenance.pruned", entries=pruned, before=before.date())

    async def _reload(self) -> None:
        if self._stop.is_set():
            return
        old = self.config
        snapshot = await asyncio.to_thread(_snapshot, old.config_dir, old.baseline_dir)
        if snapshot == self._snapshot:
            return
        self._snapshot = snapshot
        try:
            new = await asyncio.to_thread(load_config, old.config_dir, old.baseline_dir)
        except ConfigError as exc:
            for problem in exc.problems:
                log_event(
                    log, "config.refused", level=logging.ERROR, file=problem.file, line=problem.line,
                    key=problem.path or None, reason=problem.message,
                )
            log_event(log, "config.kept", level=logging.ERROR, reason=f"{len(exc.problems)} problem(s); the running config stays")
            return
        except Exception as exc:  # an unreadable file mid-save: try again on the next change
            log_event(log, "config.refused", level=logging.ERROR, reason=f"{type(exc).__name__}: {exc}")
            return
        try:
            await self._apply(old, new)
        except Exception as exc:
            log_event(log, "config.apply_failed", level=logging.ERROR, error=f"{type(exc).__name__}: {exc}", exc_info=True)

    async def _apply(self, old: Config, new: Config) -> None:
        assert self.engine is not None and self.ctx is not None
        engine, ctx = self.engine, self.ctx
        if new.settings.database_url != old.settings.database_url:
            log_event(log, "config.restart_needed", level=logging.WARNING, setting="database_url")
        now = datetime.now(UTC)
        previous = {f.name: f.url for f in old.feeds}
        added, removed = await asyncio.to_thread(feed_store.sync_feeds, engine, new.feeds, now, previous_urls=previous)
        self.config = new
        ctx.feeds = {f.name: f for f in new.feeds}
        ctx.settings = new.settings
        await ctx.rebuild_judge(prepare=lambda: seed_baseline(engine, new.cases))
        old_by_name = {f.name: f for f in old.feeds}
        # The tick polls what is due: a new feed or URL is due now (sync_feeds), a shortened
        # interval brings the next poll forward, a longer one applies from the next poll.
        retimed = sum(
            1 for f in new.feeds
            if f.name in old_by_name and f.enabled and old_by_name[f.name].interval != f.interval
        )
        log_event(
            log, "config.applied", feeds=sum(f.enabled for f in new.feeds), added=len(added), removed=len(removed),
            retimed=retimed, subjects=len(new.subjects), cases=len(new.cases),
        )
