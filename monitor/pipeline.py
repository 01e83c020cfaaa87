"""The pipeline composes the stages for one feed: fetch, parse, judge, store, promise.

`poll_feed(ctx, feed, due)` reads like Miniflux's RefreshFeed: load the feed's state, fetch
conditionally, map the outcome to one error kind, parse (in a worker), keep the entries not
seen before (dropping tombstoned ones, updating edited ones in place), judge them in
publication order with the shared Judge, store them, hand them to `on_stored` (delivery's
promise), and only then save ETag/Last-Modified and reset the error counter. It is the
per-feed error boundary: a failure of any type is recorded on that feed and returned as an
outcome, never raised, so one feed never stops the others (`poll_all`).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

import httpx
from sqlalchemy import Connection, Engine

from monitor import schedule
from monitor.config import FeedConfig, Settings
from monitor.errors import FetchError, MonitorError, ParseError
from monitor.fetch import (
    ClientPool,
    FetchLimits,
    FetchRequest,
    FetchResult,
    HostLimiter,
    RedirectLoop,
    RetryLater,
    TooLarge,
    fetch_feed,
)
from monitor.judge.order import publication_order, unique_entries
from monitor.judge.verdict import Judge
from monitor.logs import log_event
from monitor.memory import MemoryMarks, catch_up, mark
from monitor.model import Entry, Judgement, KnownEvent
from monitor.parse import ParsedFeed, parse_in_worker
from monitor.store import feeds as feed_store
from monitor.store.judgements import StoredEntry, save_judgements
from monitor.store.shared import xact_lock

__all__ = [
    "PollContext",
    "PollOutcome",
    "PollSummary",
    "make_parse_pool",
    "parse_in_worker",
    "parse_workers",
    "poll_all",
    "poll_feed",
    "summarize",
]

log = logging.getLogger("monitor.pipeline")

Status = Literal["ok", "not_modified", "failed", "gone", "skipped"]
# How far back publication times count for the adaptive interval (schedule.adaptive_interval).
ADAPTIVE_WEEKS = 4
# 304s are written down in batches of at most this many (and at the end of every round).
NOT_MODIFIED_BATCH = 500


def parse_workers() -> int:
    """Worker processes for parsing: one per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def make_parse_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """The parse pool of the daemon, `poll --once` and the benchmark alike: feedparser is the
    largest per-entry cost and holds the GIL, so it runs in processes, one per core.

    Workers come from a fork server that has imported only monitor.parse (never a fork of
    this process, which holds threads, sockets and database connections), and are started
    on first use.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["monitor.parse"])
    return ProcessPoolExecutor(max_workers=workers or parse_workers(), mp_context=context)


@dataclass
class PollContext:
    """What polling needs, handed in by the caller (daemon, `poll --once`, a test, a benchmark).

    `judge_factory` builds a Judge from the database (memory.load_judge); the Judge is shared
    by all feeds and used by one feed at a time. `on_stored` receives what each feed stored,
    inside the same worker, before the feed's validators are saved.
    """

    engine: Engine
    client: httpx.AsyncClient | ClientPool
    settings: Settings
    feeds: Mapping[str, FeedConfig]
    judge_factory: Callable[[], Judge]
    limits: FetchLimits = field(default_factory=FetchLimits)
    limiter: HostLimiter | None = None
    on_stored: Callable[[Connection, list[StoredEntry]], object] | None = None
    parse_pool: Executor | None = None
    rng: random.Random = field(default_factory=random.Random)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    in_flight: int | None = None  # feeds between fetch and store at once; default 2 x concurrency
    marks: MemoryMarks | None = None  # how far the Judge has read the database (memory.catch_up)
    _judge: Judge | None = field(default=None, repr=False)
    _lock: asyncio.Lock | None = field(default=None, repr=False)
    _slots: asyncio.Semaphore | None = field(default=None, repr=False)
    _not_modified: list[feed_store.NotModified] = field(default_factory=list, repr=False)

    @property
    def slots(self) -> asyncio.Semaphore:
        """At most `in_flight` feeds between fetch and store, over every round in progress,
        so bodies and parsed entries waiting for the Judge cannot pile up in memory."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.in_flight or max(4, 2 * self.settings.concurrency_global))
        return self._slots

    def note_not_modified(self, row: feed_store.NotModified) -> bool:
        """Queue one 304's bookkeeping; True when the batch is full and should be flushed."""
        self._not_modified.append(row)
        return len(self._not_modified) >= NOT_MODIFIED_BATCH

    async def flush_not_modified(self) -> None:
        """Write the queued 304s in one transaction. A failure is logged, not raised: those
        feeds keep their old schedule and are simply polled again."""
        rows, self._not_modified = self._not_modified, []
        if not rows:
            return
        try:
            await asyncio.to_thread(feed_store.record_not_modified_many, self.engine, rows)
        except Exception as exc:
            log_event(log, "poll.not_modified_unsaved", level=logging.ERROR, feeds=len(rows), error=f"{type(exc).__name__}: {exc}")

    async def aclose(self) -> None:
        """Write what is queued, close the HTTP clients, stop the parse workers."""
        await self.flush_not_modified()
        await self.client.aclose()
        if isinstance(self.parse_pool, ProcessPoolExecutor):
            await asyncio.to_thread(self.parse_pool.shutdown, True, cancel_futures=True)

    async def __aenter__(self) -> PollContext:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def judge_lock(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    def judge(self) -> Judge:
        if self._judge is None:
            self._judge = self.judge_factory()
        return self._judge

    def forget_judge(self) -> None:
        """The Judge may have learned events that were not stored: rebuild it next time."""
        self._judge = None
        self.marks = None

    async def rebuild_judge(self, prepare: Callable[[], object] | None = None) -> None:
        """A new Judge (after a config change), swapped in between two feeds' judging;
        `prepare` (e.g. re-seeding the baseline) runs first, under the same lock."""
        async with self.judge_lock:
            if prepare is not None:
                await asyncio.to_thread(prepare)
            self._judge = await asyncio.to_thread(self.judge_factory)
            self.marks = None


@dataclass(frozen=True)
class PollOutcome:
    """What one poll of one feed did."""

    feed: str
    status: Status
    kind: str | None = None  # the one error kind, for failed and gone
    error: str | None = None
    new_entries: int = 0
    updated_entries: int = 0
    verdicts: Mapping[str, int] = field(default_factory=dict)
    problem: str | None = None
    moved_to: str | None = None
    next_poll_at: datetime | None = None


@dataclass
class PollSummary:
    """Totals of one poll cycle."""

    ok: int = 0
    not_modified: int = 0
    failed: int = 0
    gone: int = 0
    skipped: int = 0
    new_entries: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)


def summarize(outcomes: Iterable[PollOutcome]) -> PollSummary:
    summary = PollSummary()
    for outcome in outcomes:
        setattr(summary, outcome.status, getattr(summary, outcome.status) + 1)
        summary.new_entries += outcome.new_entries
        summary.verdicts.update(outcome.verdicts)
    return summary


async def poll_all(
    ctx: PollContext,
    now: datetime,
    names: Sequence[str] | None = None,
    *,
    states: Sequence[feed_store.FeedState] | None = None,
    on_done: Callable[[PollOutcome], object] | None = None,
) -> list[PollOutcome]:
    """Poll a round of feeds once each; one line of totals in the log.

    The round is `states` when the caller has just read them (the daemon's tick reads the due
    feeds' rows in one query), else `names` (default: every enabled feed) with their rows
    read here in one query. At most `ctx.in_flight` feeds are between fetch and store at
    once, over all rounds in progress. The round's 304s are written in batches.
    """
    if states is None:
        wanted = [name for name, feed in ctx.feeds.items() if feed.enabled] if names is None else list(names)
        by_name = {state.name: state for state in await asyncio.to_thread(feed_store.feed_states, ctx.engine)}
        round_: list[tuple[str, feed_store.FeedState | None]] = [(name, by_name.get(name)) for name in wanted]
    else:
        round_ = [(state.name, state) for state in states]

    async def one(name: str, state: feed_store.FeedState | None) -> PollOutcome:
        async with ctx.slots:
            if state is None:
                outcome = _skipped(name, "not in the feeds table")
            else:
                outcome = await poll_feed(ctx, name, now, state=state, batch=True)
        if on_done is not None:
            on_done(outcome)
        return outcome

    try:
        outcomes = list(await asyncio.gather(*(one(name, state) for name, state in round_)))
    finally:
        await ctx.flush_not_modified()
    s = summarize(outcomes)
    log_event(
        log, "poll.cycle", feeds=len(outcomes), ok=s.ok, not_modified=s.not_modified, failed=s.failed,
        gone=s.gone, new_entries=s.new_entries, verdicts=",".join(f"{k}:{v}" for k, v in sorted(s.verdicts.items())) or None,
    )
    return outcomes


def _skipped(name: str, reason: str) -> PollOutcome:
    log_event(log, "poll.skipped", feed=name, reason=reason, level=logging.DEBUG)
    return PollOutcome(name, "skipped", error=reason)


async def poll_feed(
    ctx: PollContext, feed_name: str, due: datetime, *, state: feed_store.FeedState | None = None, batch: bool = False
) -> PollOutcome:
    """Poll one feed; never raises (except cancellation): failures become outcomes.

    `state` is the feed's row when the caller just read it (poll_all reads them all at once).
    With `batch` (poll_all), a 304 is only queued on the context and written with others
    (`flush_not_modified`); without, it is written before this returns.
    """
    now = ctx.clock()
    try:
        if state is None:
            state = await asyncio.to_thread(feed_store.load_feed, ctx.engine, feed_name)
        if state is None or state.disabled_reason:
            return _skipped(feed_name, "not in the feeds table" if state is None else f"disabled: {state.disabled_reason}")
        return await _poll(ctx, state, now, due, batch)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # the per-feed boundary: anything, even a bug, stays with this feed
        return await _failed(ctx, feed_name, now, exc, None)


async def _poll(ctx: PollContext, state: feed_store.FeedState, now: datetime, due: datetime, batch: bool) -> PollOutcome:
    name = state.name
    request = FetchRequest(feed=name, url=state.url, etag=state.etag, last_modified=state.last_modified)
    try:
        client = ctx.client.pick(name) if isinstance(ctx.client, ClientPool) else ctx.client
        result = await fetch_feed(client, request, ctx.limits, limiter=ctx.limiter)
    except FetchError as exc:
        return await _failed(ctx, name, now, exc, state)
    late = (now - due).total_seconds()
    if result.status == "gone":
        reason = f"HTTP 410 Gone at {result.url}"
        await asyncio.to_thread(feed_store.record_gone, ctx.engine, name, now=now, reason=reason)
        log_event(log, "poll.gone", level=logging.WARNING, feed=name, url=result.url, hint="feed disabled; change its URL in feeds.yaml to poll again")
        return PollOutcome(name, "gone", kind="gone", error=reason)
    moved = None
    if result.permanent_url and result.permanent_url != state.url:
        moved = result.permanent_url
        await asyncio.to_thread(feed_store.move_feed, ctx.engine, name, moved)
        log_event(log, "feed.moved", level=logging.WARNING, feed=name, old=state.url, new=moved, hint="update the URL in feeds.yaml")
    interval = _interval(ctx, name)
    if result.status == "not_modified":
        next_poll = _next_poll(ctx, now, interval, result)
        # No thread hop, lock or transaction per 304: queued, written in batches.
        if ctx.note_not_modified(feed_store.NotModified(name, now, next_poll, result.etag, result.last_modified)) or not batch:
            await ctx.flush_not_modified()
        log_event(log, "poll.not_modified", level=logging.DEBUG, feed=name, seconds=f"{result.elapsed:.2f}", late=f"{late:.1f}")
        return PollOutcome(name, "not_modified", moved_to=moved, next_poll_at=next_poll)

    try:
        parsed = await _parse(ctx, name, result)
    except ParseError as exc:
        return await _failed(ctx, name, now, exc, state, moved=moved)
    if parsed.problem:
        log_event(log, "feed.malformed", level=logging.WARNING, feed=name, kept=len(parsed.entries), problem=parsed.problem)

    async with ctx.judge_lock:
        try:
            new, updated, judgements = await asyncio.to_thread(_store_entries, ctx, list(parsed.entries), now)
        except BaseException:
            ctx.forget_judge()
            raise
    verdicts = dict(Counter(j.verdict.value for j in judgements))

    times = await asyncio.to_thread(feed_store.publication_times, ctx.engine, name, now - ADAPTIVE_WEEKS * schedule.WEEK)
    interval = schedule.adaptive_interval(
        times, now=now, minimum=min(ctx.settings.min_interval, interval), maximum=interval, default=interval, weeks=ADAPTIVE_WEEKS,
    )
    next_poll = _next_poll(ctx, now, interval, result, ttl_minutes=parsed.ttl_minutes)
    await asyncio.to_thread(
        feed_store.record_success, ctx.engine, name, now=now, next_poll_at=next_poll, etag=result.etag,
        last_modified=result.last_modified, problem=parsed.problem, new_entries=new,
    )
    log_event(
        log, "poll.ok", feed=name, entries=len(parsed.entries), new=new, updated=updated,
        verdicts=",".join(f"{k}:{v}" for k, v in sorted(verdicts.items())) or None,
        seconds=f"{result.elapsed:.2f}", next=next_poll.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    return PollOutcome(
        name, "ok", new_entries=new, updated_entries=updated, verdicts=verdicts, problem=parsed.problem,
        moved_to=moved, next_poll_at=next_poll,
    )


def _store_entries(ctx: PollContext, parsed: list[Entry], now: datetime) -> tuple[int, int, list[Judgement]]:
    """Under the judge lock, in a worker: keep what is new, judge it in order, store, promise.

    One transaction holds the database's judge lock (an advisory lock on PostgreSQL: every
    daemon of the database judges one feed at a time), reads which entries are stored
    already, brings the Judge up to what other daemons stored (memory.catch_up), judges
    and stores. So two feeds, or two daemons, carrying the same entry cannot both take it
    for new, and no two daemons both call one development `new`.
    """
    entries = unique_entries(_capped(parsed))
    keys = [e.key for e in entries]
    if not _anything_to_store(ctx, entries, keys):
        return 0, 0, []  # every entry stored already and unchanged: no lock taken
    with ctx.engine.begin() as conn:
        xact_lock(conn, "judge")
        gone = feed_store.tombstoned(conn, keys)
        known = feed_store.known_hashes(conn, keys)
        fresh: list[Entry] = []
        edited: list[Entry] = []
        for entry in entries:
            if entry.key in gone:
                continue  # pruned long ago: reappearing is not news (STYLE.md, tombstones)
            stored_hash = known.get(entry.key)
            if stored_hash is None:
                fresh.append(entry)
            elif stored_hash != entry.content_hash:
                edited.append(entry)  # same entry, new text: update it, do not alert again
        updated = feed_store.update_edited(conn, edited)
        if not fresh:
            return 0, updated, []
        judge = ctx.judge()
        ctx.marks = catch_up(conn, judge, ctx.marks)
        judged: list[tuple[Judgement, KnownEvent | None]] = [judge.judge(e, now=now) for e in publication_order(fresh)]
        # Promises are written in the same transaction as the developments they promise, so a
        # crash can lose neither one without the other.
        stored = save_judgements(conn, judged, now, on_stored=_holding_back_old(ctx, fresh, now))
        ctx.marks = mark(conn)
    return len(stored), updated, [j for j, _ in judged]


def _anything_to_store(ctx: PollContext, entries: list[Entry], keys: list[str]) -> bool:
    """Outside the lock, a first look: is any entry not stored yet, or stored with other text?"""
    known = feed_store.known_hashes(ctx.engine, keys)
    return any(known.get(e.key) != e.content_hash for e in entries)


def _capped(parsed: list[Entry]) -> list[Entry]:
    """Every field within the store's caps (feed_store.FIELD_CAPS); one log line per feed
    that had anything cut."""
    kept: list[Entry] = []
    cut: Counter[str] = Counter()
    for entry in parsed:
        capped, fields = feed_store.cap_fields(entry)
        kept.append(capped)
        cut.update(fields)
    if cut:
        feed = parsed[0].feed or parsed[0].source
        log_event(
            log, "entry.capped", level=logging.WARNING, feed=feed, entries=sum(1 for a, b in zip(parsed, kept, strict=True) if a is not b),
            fields=",".join(f"{k}:{v}" for k, v in sorted(cut.items())), hint="fields cut to the store's length caps",
        )
    return kept


def _holding_back_old(
    ctx: PollContext, fresh: list[Entry], now: datetime
) -> Callable[[Connection, list[StoredEntry]], object] | None:
    """on_stored without the entries published more than `max_entry_age_days` ago (off by
    default): they are judged and kept as history, but promised to nobody."""
    deliver, days = ctx.on_stored, ctx.settings.max_entry_age_days
    if deliver is None or days is None:
        return deliver
    cutoff = now - timedelta(days=days)
    held = {e.key for e in fresh if e.published is not None and e.published < cutoff}
    if not held:
        return deliver
    log_event(log, "poll.held_back", entries=len(held), older_than_days=days)
    return lambda conn, stored: deliver(conn, [s for s in stored if s.entry_key not in held])


async def _parse(ctx: PollContext, name: str, result: FetchResult) -> ParsedFeed:
    feed = ctx.feeds.get(name)
    language = feed.language if feed is not None else None
    args = (result.body, result.url, name, dict(result.headers), language)
    if ctx.parse_pool is None:
        parsed, error = await asyncio.to_thread(parse_in_worker, *args)
    else:
        parsed, error = await asyncio.get_running_loop().run_in_executor(ctx.parse_pool, parse_in_worker, *args)
    if parsed is None:
        raise ParseError(name, error or "not a readable feed")
    return parsed


def _interval(ctx: PollContext, name: str) -> timedelta:
    """The feed's configured interval: the longest it waits between polls. The default only
    for a feed dropped from the config mid-poll, so the error boundary never raises."""
    feed = ctx.feeds.get(name)
    return feed.interval if feed is not None else ctx.settings.default_interval


def _next_poll(
    ctx: PollContext, now: datetime, interval: timedelta, result: FetchResult, *, ttl_minutes: int | None = None
) -> datetime:
    """`interval` from now, but never sooner than the server asked: Retry-After (RFC 9110
    10.2.3 lets a 200 or 304 say when to come back), Cache-Control max-age or Expires (RFC
    9111 4.2.1) and RSS <ttl> are floors, each capped at max_interval."""
    due = now + interval
    ceiling = ctx.settings.max_interval.total_seconds()
    floors = [result.retry_after, result.fresh_for, None if ttl_minutes is None else ttl_minutes * 60.0]
    for seconds in floors:
        if seconds is not None:
            due = max(due, now + timedelta(seconds=min(seconds, ceiling)))
    return schedule.jittered(due, interval, ctx.rng)


def error_kind(exc: BaseException) -> str:
    """The one error kind recorded on the feed."""
    for cls, kind in (
        (TooLarge, "too_large"), (RedirectLoop, "redirect_loop"), (RetryLater, "retry_later"),
        (FetchError, "fetch_error"), (ParseError, "parse_error"), (MonitorError, "store_error"),
    ):
        if isinstance(exc, cls):
            return kind
    return "internal_error"


async def _failed(
    ctx: PollContext, name: str, now: datetime, exc: BaseException, state: feed_store.FeedState | None, *, moved: str | None = None
) -> PollOutcome:
    kind = error_kind(exc)
    message = str(exc).removeprefix(f"{name}: ") or type(exc).__name__
    if kind == "internal_error":
        message = f"{type(exc).__name__}: {message}"
    retry_after = exc.retry_after if isinstance(exc, RetryLater) else None
    errors = (state.error_count if state is not None else 0) + 1
    interval = _interval(ctx, name)
    next_poll = schedule.next_poll_after_error(
        now, errors, retry_after, ctx.rng,
        base=min(schedule.DEFAULT_BACKOFF_BASE, interval.total_seconds()),
        ceiling=max(ctx.settings.max_interval.total_seconds(), interval.total_seconds()),
    )
    log_event(
        log, "poll.failed", level=logging.WARNING, feed=name, kind=kind, error=message, errors=errors,
        next=next_poll.strftime("%Y-%m-%dT%H:%M:%SZ"), hint=getattr(exc, "hint", "") or None,
        exc_info=kind == "internal_error",
    )
    try:
        await asyncio.to_thread(feed_store.record_failure, ctx.engine, name, now=now, kind=kind, error=message, next_poll_at=next_poll)
    except Exception as store_exc:  # the database itself is in trouble: say so, go on
        log_event(log, "feed.record_failed", level=logging.ERROR, feed=name, error=f"{type(store_exc).__name__}: {store_exc}")
    return PollOutcome(name, "failed", kind=kind, error=message, moved_to=moved, next_poll_at=next_poll)
