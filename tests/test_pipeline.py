"""monitor.pipeline.poll_feed against a real misbehaving server on 127.0.0.1 (tests/feedserver.py):
each bad feed's error is recorded on that feed, and the other feeds of the same poll are fine."""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from feedserver import FEED_XML, FeedServer
from sqlalchemy import Engine, func, select

from monitor.config import FeedConfig, Settings, load_config
from monitor.fetch import FetchLimits, HostLimiter, make_client
from monitor.memory import load_judge
from monitor.pipeline import PollContext, PollOutcome, poll_all, poll_feed
from monitor.store import feeds as feed_store
from monitor.store.judgements import StoredEntry, seed_baseline
from monitor.store.tables import entries, tombstones

ROOT = Path(__file__).resolve().parent.parent
UA = "case-monitor/test (+https://example.invalid/contact)"
FAST = FetchLimits(max_bytes=256 * 1024, max_redirects=5, connect_timeout=1, read_timeout=1, total_timeout=1.5)
SETTINGS = Settings(min_interval=timedelta(seconds=1), default_interval=timedelta(minutes=30))


def rss(*items: tuple[str, str, str]) -> str:
    """RSS 2.0 with (guid, title, description) items."""
    body = "".join(
        f"<item><guid>{g}</guid><title>{t}</title><link>http://127.0.0.1/{g}</link>"
        f"<pubDate>Wed, 01 Mar 2023 09:00:00 GMT</pubDate><description>{d}</description></item>"
        for g, t, d in items
    )
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>{body}</channel></rss>'


@pytest.fixture(scope="module")
def config():  # type: ignore[no-untyped-def]
    return load_config(ROOT / "config", ROOT / "baseline", env={})


@pytest.fixture
def engine(sqlite_engine: Engine, config) -> Engine:  # type: ignore[no-untyped-def]
    """The migrated SQLite database (conftest), seeded with the baseline's cases."""
    seed_baseline(sqlite_engine, config.cases)
    return sqlite_engine


class CountingPool(ThreadPoolExecutor):
    """A parse pool that counts what it was asked to parse."""

    def __init__(self) -> None:
        super().__init__(max_workers=2)
        self.calls = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.calls += 1
        return super().submit(fn, *args, **kwargs)


class Harness:
    """A PollContext over a real client, database and server; `run` polls like the daemon."""

    def __init__(self, engine: Engine, server: FeedServer, config: Any, feeds: dict[str, str]) -> None:
        self.engine, self.server = engine, server
        self.stored: list[StoredEntry] = []
        self.pool = CountingPool()
        self.configured = {n: FeedConfig(name=n, url=server.url(p), interval=timedelta(minutes=10)) for n, p in feeds.items()}
        feed_store.sync_feeds(engine, self.configured.values(), datetime.now(UTC))
        self.config = config
        self.limits = FAST

    def context(self, client: Any) -> PollContext:
        return PollContext(
            engine=self.engine, client=client, settings=SETTINGS, feeds=self.configured,
            judge_factory=lambda: load_judge(self.engine, self.config.subjects, dict(self.config.cases)),
            limits=self.limits, limiter=HostLimiter(per_host=4, total=4), on_stored=lambda _conn, stored: self.stored.extend(stored), parse_pool=self.pool,
        )

    def all(self) -> dict[str, PollOutcome]:
        async def go() -> list[PollOutcome]:
            async with make_client(UA) as client:
                return await poll_all(self.context(client), datetime.now(UTC))

        return {o.feed: o for o in asyncio.run(go())}

    def one(self, name: str) -> PollOutcome:
        async def go() -> PollOutcome:
            async with make_client(UA) as client:
                return await poll_feed(self.context(client), name, datetime.now(UTC))

        return asyncio.run(go())

    def state(self, name: str) -> feed_store.FeedState:
        state = feed_store.load_feed(self.engine, name)
        assert state is not None
        return state

    def count(self, table: Any = entries) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)

    def close(self) -> None:
        self.pool.shutdown()


@pytest.fixture
def harness(engine: Engine, feed_server: FeedServer, config: Any) -> Iterator[Callable[[dict[str, str]], Harness]]:
    made: list[Harness] = []

    def make(feeds: dict[str, str]) -> Harness:
        made.append(Harness(engine, feed_server, config, feeds))
        return made[-1]

    yield make
    for h in made:
        h.close()


def test_validators_are_stored_and_a_304_costs_no_parse(harness, feed_server: FeedServer) -> None:  # type: ignore[no-untyped-def]
    h = harness({"good": "/feed.xml"})
    first = h.one("good")
    assert first.status == "ok" and first.new_entries == 1
    state = h.state("good")
    assert state.etag and state.last_modified == "Wed, 01 Mar 2023 09:00:00 GMT"
    assert state.last_status == "ok" and state.error_count == 0
    assert h.pool.calls == 1
    second = h.one("good")
    assert second.status == "not_modified"
    assert feed_server.requests[-1][2]["if-none-match"] == state.etag
    assert h.pool.calls == 1  # the 304 was not parsed
    assert h.count() == 1


MISBEHAVING = {
    # name: (path, expected status, expected error kind or None)
    "slow drip": ("/drip?every=0.4&size=100", "failed", "fetch_error"),
    "huge body": ("/huge", "failed", "too_large"),
    "gzip bomb": ("/gzip-bomb.xml", "failed", "too_large"),
    "redirect chain": ("/redirect/302/redirect/307/feed.xml", "ok", None),
    "too many redirects": ("/chain/9", "failed", "redirect_loop"),
    "redirect loop": ("/loop/a", "failed", "redirect_loop"),
    "moved": ("/moved/301", "ok", None),
    "gone": ("/gone", "gone", "gone"),
    "rate limited": ("/status/429?retry_after=120", "failed", "retry_later"),
    "server error": ("/status/500", "failed", "fetch_error"),
    "cp1252 says utf-8": ("/charset/cp1252-says-utf8.xml", "ok", None),
    "utf-8 says cp1252": ("/charset/utf8-says-cp1252.xml", "ok", None),
    "malformed": ("/malformed.xml", "ok", None),
    "entity bomb": ("/bomb.xml", "ok", None),
    "html page": ("/page.html", "failed", "parse_error"),
}


@pytest.mark.slow
def test_each_misbehaving_feed_fails_alone_with_its_error_on_that_feed(harness, feed_server: FeedServer) -> None:  # type: ignore[no-untyped-def]
    feed_server.add("/good-a.xml", rss(("a-1", "Alpha one", "x"), ("a-2", "Alpha two", "y")))
    feed_server.add("/good-b.xml", rss(("b-1", "Beta one", "z")))
    paths = {name: path for name, (path, _, _) in MISBEHAVING.items()}
    h = harness({**paths, "good a": "/good-a.xml", "good b": "/good-b.xml"})
    started = time.monotonic()
    outcomes = h.all()
    assert time.monotonic() - started < 10
    for name, (_, status, kind) in MISBEHAVING.items():
        outcome, state = outcomes[name], h.state(name)
        assert (outcome.status, outcome.kind) == (status, kind), (name, outcome)
        if status == "failed":
            assert state.error_count == 1 and state.last_status == kind, name
            assert state.last_error and state.last_error == outcome.error, name
            assert state.etag is None, name
        else:
            assert state.error_count == 0, name
    assert outcomes["good a"].new_entries == 2 and outcomes["good b"].new_entries == 1
    assert h.state("good a").last_status == "ok"
    # 301: the stored URL follows the move; 410: the feed is disabled and no longer due.
    assert h.state("moved").url == feed_server.url("/feed.xml")
    assert outcomes["moved"].moved_to == feed_server.url("/feed.xml")
    assert h.state("redirect chain").url == feed_server.url("/redirect/302/redirect/307/feed.xml")
    assert h.state("gone").disabled_reason and "410" in h.state("gone").disabled_reason
    assert "gone" not in feed_store.due_feeds(h.engine, datetime.now(UTC) + timedelta(days=400))
    # 429 with Retry-After: 120 s sets the next poll; 500 backs off by at least a minute.
    wait = (h.state("rate limited").next_poll_at - datetime.now(UTC)).total_seconds()  # type: ignore[operator]
    assert 100 < wait <= 135
    assert "retry after 120" in (h.state("rate limited").last_error or "")
    assert "HTTP 500" in (h.state("server error").last_error or "")
    # Malformed: entries kept, problem recorded. Wrong charsets: text still decoded.
    assert outcomes["malformed"].new_entries >= 1
    assert h.state("malformed").problem and "no element found" in h.state("malformed").problem
    assert h.state("cp1252 says utf-8").problem is not None or outcomes["cp1252 says utf-8"].new_entries == 1
    assert "not a readable feed" in (h.state("html page").last_error or "")


def test_entity_bomb_is_harmless(harness) -> None:  # type: ignore[no-untyped-def]
    h = harness({"bomb": "/bomb.xml"})
    tracemalloc.start()
    started = time.monotonic()
    try:
        outcome = h.one("bomb")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 3
    assert peak < 20 * 1024 * 1024
    assert outcome.status in ("ok", "failed")
    with h.engine.connect() as conn:
        titles = list(conn.execute(select(entries.c.title)).scalars())
    assert all(len(t) < 1000 for t in titles)  # nothing expanded a billion times


def test_backoff_then_a_success_resets_the_error_count(harness, feed_server: FeedServer) -> None:  # type: ignore[no-untyped-def]
    feed_server.add("/flaky.xml", "oops", status=500, content_type="text/plain")
    h = harness({"flaky": "/flaky.xml"})
    assert h.one("flaky").status == "failed"
    assert h.one("flaky").status == "failed"
    state = h.state("flaky")
    assert state.error_count == 2 and state.last_status == "fetch_error"
    assert state.next_poll_at is not None and state.next_poll_at > datetime.now(UTC) + timedelta(seconds=50)
    feed_server.add("/flaky.xml", FEED_XML)
    assert h.one("flaky").status == "ok"
    state = h.state("flaky")
    assert state.error_count == 0 and state.last_status == "ok" and state.etag
    assert state.next_poll_at is not None and state.next_poll_at <= datetime.now(UTC) + timedelta(minutes=11)


def test_an_edited_entry_is_updated_not_alerted_again(harness, feed_server: FeedServer) -> None:  # type: ignore[no-untyped-def]
    feed_server.add("/edit.xml", rss(("e-1", "Original title", "first text")))
    h = harness({"edits": "/edit.xml"})
    assert h.one("edits").new_entries == 1
    feed_server.add("/edit.xml", rss(("e-1", "Corrected title", "second text")))
    outcome = h.one("edits")
    assert (outcome.new_entries, outcome.updated_entries) == (0, 1)
    assert len(h.stored) == 1  # promised once
    with h.engine.connect() as conn:
        rows = list(conn.execute(select(entries.c.entry_key, entries.c.title)))
    assert [(r.entry_key, r.title) for r in rows] == [("edits#e-1", "Corrected title")]  # bare guid: scoped by feed


def test_a_pruned_entry_that_reappears_is_not_news(harness, feed_server: FeedServer) -> None:  # type: ignore[no-untyped-def]
    feed_server.add("/old.xml", rss(("old-1", "Old story", "x")))
    h = harness({"old": "/old.xml"})
    assert h.one("old").new_entries == 1
    now = datetime.now(UTC)
    assert feed_store.prune_entries(h.engine, before=now + timedelta(seconds=1), now=now) == 1
    assert h.count() == 0 and h.count(tombstones) == 1
    feed_server.add("/old.xml", rss(("old-1", "Old story", "x"), ("new-1", "New story", "y")))
    outcome = h.one("old")
    assert outcome.new_entries == 1
    with h.engine.connect() as conn:
        assert list(conn.execute(select(entries.c.entry_key)).scalars()) == ["old#new-1"]


def test_a_bug_in_one_feed_is_recorded_and_the_others_go_on(harness, feed_server: FeedServer) -> None:  # type: ignore[no-untyped-def]
    feed_server.add("/one.xml", rss(("x-1", "One", "x")))
    h = harness({"one": "/one.xml", "good": "/feed.xml"})
    calls: list[int] = []

    def explode(_conn: object, stored: list[StoredEntry]) -> None:
        calls.append(len(stored))
        if len(calls) == 1:
            raise RuntimeError("delivery exploded")

    async def go() -> list[PollOutcome]:
        async with make_client(UA) as client:
            ctx = replace(h.context(client), on_stored=explode)
            return await poll_all(ctx, datetime.now(UTC))

    outcomes = {o.feed: o for o in asyncio.run(go())}
    failed = [o for o in outcomes.values() if o.status == "failed"]
    assert len(failed) == 1 and failed[0].kind == "internal_error"
    assert "RuntimeError: delivery exploded" in (h.state(failed[0].feed).last_error or "")
    assert [o.status for o in outcomes.values()].count("ok") == 1


def test_sync_feeds_adds_removes_and_retimes(engine: Engine) -> None:
    now = datetime.now(UTC)
    a = FeedConfig(name="a", url="http://127.0.0.1:9/a", interval=timedelta(minutes=5))
    b = FeedConfig(name="b", url="http://127.0.0.1:9/b", interval=timedelta(minutes=5))
    assert feed_store.sync_feeds(engine, [a, b], now) == (["a", "b"], [])
    feed_store.move_feed(engine, "a", "http://127.0.0.1:9/a2")
    c = FeedConfig(name="c", url="http://127.0.0.1:9/c", interval=timedelta(minutes=5))
    a_retimed = replace(a, interval=timedelta(minutes=7))
    assert feed_store.sync_feeds(engine, [a_retimed, c], now, previous_urls={"a": a.url, "b": b.url}) == (["c"], ["b"])
    state = feed_store.load_feed(engine, "a")
    assert state is not None and state.interval_seconds == 420
    assert state.url == "http://127.0.0.1:9/a2"  # a permanent move survives a reload
    assert sorted(feed_store.due_feeds(engine, now)) == ["a", "c"]


def test_entries_older_than_the_age_limit_are_kept_but_promised_to_nobody(harness, feed_server: FeedServer) -> None:  # type: ignore[no-untyped-def]
    # Two developments, published 1 March 2023: with a 30-day limit (today is later) they are
    # judged and stored as history, but nothing is handed to delivery.
    feed_server.add("/old.xml", rss(("sokha-1", "Kem Sokha sentenced to 27 years", "A court convicted Kem Sokha of treason.")))
    h = harness({"old": "/old.xml"})
    async def go() -> PollOutcome:
        async with make_client(UA) as client:
            ctx = replace(h.context(client), settings=replace(SETTINGS, max_entry_age_days=30))
            return await poll_feed(ctx, "old", datetime.now(UTC))

    outcome = asyncio.run(go())
    assert outcome.new_entries == 1 and outcome.verdicts.get("new") == 1
    assert h.count() == 1
    assert h.stored == []  # held back: nobody is alerted

    # Off by default: the same entry in another feed is promised.
    feed_server.add("/fresh.xml", rss(("sokha-2", "Kem Sokha convicted of treason", "A court convicted Kem Sokha.")))
    h2 = harness({"fresh": "/fresh.xml"})
    assert h2.one("fresh").new_entries == 1
    assert [s.entry_key for s in h2.stored] == ["fresh#sokha-2"]


def test_a_round_of_304s_is_written_in_one_batch(harness, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    # Issue 11: per 304, a thread hop, a global lock and one UPDATE transaction. Now the
    # round's 304s are queued and written in one executemany, after the round.
    h = harness({f"f{i}": "/feed.xml" for i in range(6)})
    assert {o.status for o in h.all().values()} == {"ok"}
    batches: list[int] = []
    real = feed_store.record_not_modified_many
    monkeypatch.setattr(feed_store, "record_not_modified_many", lambda engine, rows: (batches.append(len(rows)), real(engine, rows)))
    monkeypatch.setattr(feed_store, "record_not_modified", lambda *a, **k: pytest.fail("one 304 written alone"))
    before = {f"f{i}": h.state(f"f{i}").next_poll_at for i in range(6)}
    outcomes = h.all()
    assert {o.status for o in outcomes.values()} == {"not_modified"}
    assert batches == [6]
    for name, outcome in outcomes.items():
        state = h.state(name)
        assert state.last_status == "not_modified" and state.next_poll_at == outcome.next_poll_at != before[name]


def test_daemon_poll_once_and_benchmark_share_one_context_builder(tmp_path: Path, config: Any) -> None:
    # One path: build_context gives parse workers in processes, one per core, built by the
    # same function the benchmark calls; closing the context stops them.
    from concurrent.futures import ProcessPoolExecutor

    from monitor.daemon import build_context
    from monitor.parse import parse_in_worker
    from monitor.pipeline import parse_workers
    from monitor.store.db import open_engine

    engine = open_engine(f"sqlite:///{tmp_path / 'm.db'}")
    ctx = build_context(config, engine, UA)
    try:
        assert isinstance(ctx.parse_pool, ProcessPoolExecutor)
        assert ctx.parse_pool._max_workers == parse_workers() >= 1
        assert ctx.limiter is not None and ctx.limiter.per_host == config.settings.concurrency_per_host
        body = FEED_XML.encode() if isinstance(FEED_XML, str) else FEED_XML
        parsed, error = ctx.parse_pool.submit(parse_in_worker, body, "s", "f", {}, None).result(timeout=60)
        assert error is None and parsed is not None and parsed.entries
    finally:
        asyncio.run(ctx.aclose())
        engine.dispose()
    assert ctx.parse_pool._shutdown_thread


def test_a_permanent_move_survives_a_restart_until_the_config_changes(harness, feed_server: FeedServer) -> None:  # type: ignore[no-untyped-def]
    h = harness({"moved": "/moved/301"})
    assert h.one("moved").moved_to == feed_server.url("/feed.xml")
    # A restart syncs the same config without knowing the one applied before.
    feed_store.sync_feeds(h.engine, h.configured.values(), datetime.now(UTC))
    state = h.state("moved")
    assert state.url == feed_server.url("/feed.xml") and state.moved
    assert state.configured_url == feed_server.url("/moved/301")
    # Editing the URL in feeds.yaml wins, at a reload or at a start.
    edited = [FeedConfig(name="moved", url=feed_server.url("/feed2.xml"), interval=timedelta(minutes=10))]
    feed_store.sync_feeds(h.engine, edited, datetime.now(UTC))
    state = h.state("moved")
    assert state.url == feed_server.url("/feed2.xml") and not state.moved


@pytest.mark.parametrize(
    ("headers", "ttl"),
    [({"Cache-Control": "public, max-age=7200"}, ""), ({"Expires": "__EXPIRES__"}, ""), ({}, "<ttl>120</ttl>")],
    ids=["max-age", "expires", "rss-ttl"],
)
def test_freshness_and_ttl_are_a_floor_on_the_next_poll(harness, feed_server: FeedServer, headers: dict[str, str], ttl: str) -> None:  # type: ignore[no-untyped-def]
    from email.utils import formatdate

    headers = {k: (formatdate(time.time() + 7200, usegmt=True) if v == "__EXPIRES__" else v) for k, v in headers.items()}
    body = rss(("fresh-1", "A title", "Text")).replace("<title>T</title>", f"<title>T</title>{ttl}")
    feed_server.add("/fresh.xml", body, headers=headers)
    h = harness({"fresh": "/fresh.xml"})  # a 10-minute interval
    before = datetime.now(UTC)
    outcome = h.one("fresh")
    assert outcome.status == "ok" and outcome.next_poll_at is not None
    assert outcome.next_poll_at >= before + timedelta(minutes=119)


def test_shortening_a_feeds_interval_brings_its_next_poll_forward(harness, feed_server: FeedServer) -> None:  # type: ignore[no-untyped-def]
    h = harness({"good": "/feed.xml"})
    h.one("good")
    state = h.state("good")
    assert state.next_poll_at is not None and state.next_poll_at > datetime.now(UTC) + timedelta(minutes=9)
    now = datetime.now(UTC)
    shorter = [FeedConfig(name="good", url=feed_server.url("/feed.xml"), interval=timedelta(minutes=1))]
    feed_store.sync_feeds(h.engine, shorter, now)  # at start (no previous config)
    state = h.state("good")
    assert state.next_poll_at is not None and state.next_poll_at <= now + timedelta(minutes=1)
    longer = [FeedConfig(name="good", url=feed_server.url("/feed.xml"), interval=timedelta(hours=1))]
    feed_store.sync_feeds(h.engine, longer, now, previous_urls={"good": feed_server.url("/feed.xml")})
    assert h.state("good").next_poll_at == state.next_poll_at  # a longer one waits for the next poll


def test_a_1_mb_title_is_capped_at_store_time_and_logged_once(harness, feed_server: FeedServer, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    huge = "Kem Sokha " * 100_000  # 1 MB
    body = rss(("huge-1", huge, huge), ("huge-2", huge, "short"), ("small", "A small title", "Text"))
    body = body.replace("<link>http://127.0.0.1/huge-1</link>", f"<link>http://127.0.0.1/{'x' * 100_000}</link>")
    feed_server.add("/huge.xml", body)
    h = harness({"huge": "/huge.xml"})
    h.limits = replace(FAST, max_bytes=8 * 1024 * 1024, total_timeout=20)
    with caplog.at_level("WARNING", logger="monitor.pipeline"):
        outcome = h.one("huge")
    assert outcome.status == "ok" and outcome.new_entries == 3
    with h.engine.connect() as conn:
        rows = conn.execute(select(entries.c.title, entries.c.summary, entries.c.link, entries.c.entry_key)).all()
    for row in rows:
        assert len(row.title) <= feed_store.FIELD_CAPS["title"] and len(row.summary) <= feed_store.FIELD_CAPS["summary"]
        assert len(row.link) <= feed_store.FIELD_CAPS["link"] and len(row.entry_key) <= 1000
    assert any(r.title.startswith("Kem Sokha Kem Sokha") and r.title.endswith("\u2026") for r in rows)
    capped = [r.getMessage() for r in caplog.records if "entry.capped" in r.getMessage()]
    assert len(capped) == 1 and "huge" in capped[0] and "entries=2" in capped[0] and "title:2" in capped[0]
    assert h.one("huge").new_entries == 0  # polled again: the same entries, not new ones
