"""Verdicts do not depend on the order feeds arrive in (README.md, "What it does").

The feeds of a labeled stream are polled one at a time, in several shuffled orders, as the
daemon's per-feed jobs would take them; what the store holds afterwards must equal what
`monitor scan` says of the same files (which judges in publication order), entry by entry:
the same verdict and the same first report.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from feedserver import FeedServer
from sqlalchemy import Engine, select

from monitor import scan
from monitor.config import FeedConfig, Settings, load_config
from monitor.fetch import FetchLimits, make_client
from monitor.judge.order import publication_order, unique_entries
from monitor.memory import load_judge
from monitor.pipeline import PollContext, poll_feed
from monitor.store import feeds as feed_store
from monitor.store.db import open_engine, upgrade
from monitor.store.judgements import seed_baseline
from monitor.store.tables import entries

ROOT = Path(__file__).resolve().parent.parent
STREAM = ROOT / "tests" / "data" / "stream"
NOW = datetime(2025, 12, 1, tzinfo=UTC)
SETTINGS = Settings(min_interval=timedelta(seconds=1), default_interval=timedelta(minutes=30))

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def config():  # type: ignore[no-untyped-def]
    return load_config(ROOT / "config", ROOT / "baseline", env={})


def scanned(config) -> dict[str, tuple[str, str | None]]:  # type: ignore[no-untyped-def]
    """entry key -> (verdict, first report) as `monitor scan` judges the stream."""
    engine = open_engine("sqlite://")
    try:
        upgrade(engine)
        seed_baseline(engine, config.cases)
        report = scan.ScanReport()
        entries = scan.read_entries([str(STREAM)], lambda url: (b"", {}), report, lambda message: None)
        judge = load_judge(engine, config.subjects, dict(config.cases))
        results = scan.judge_entries(engine, judge, publication_order(unique_entries(entries)), NOW)
    finally:
        engine.dispose()
    return {j.entry.link: (j.verdict.value, j.duplicate_of) for j in results}


def polled(engine: Engine, server: FeedServer, config, order: list[str]) -> dict[str, tuple[str, str | None]]:  # type: ignore[no-untyped-def]
    """entry link -> (verdict, first report) in the store after polling feeds in `order`."""
    seed_baseline(engine, config.cases)
    feeds = {path.name: FeedConfig(name=path.name, url=server.url(f"/{path.name}"), interval=timedelta(minutes=30))
             for path in STREAM.iterdir() if path.suffix in scan.FEED_SUFFIXES}
    for path in STREAM.iterdir():
        if path.name in feeds:
            server.add(f"/{path.name}", path.read_bytes())
    feed_store.sync_feeds(engine, feeds.values(), NOW)

    async def go() -> None:
        async with make_client("case-monitor/test") as client:
            ctx = PollContext(
                engine=engine, client=client, settings=SETTINGS, feeds=feeds,
                judge_factory=lambda: load_judge(engine, config.subjects, dict(config.cases)),
                limits=FetchLimits(max_bytes=1 << 20), clock=lambda: NOW,
            )
            for name in order:  # one feed at a time: each poll is one arrival
                outcome = await poll_feed(ctx, name, NOW)
                assert outcome.status == "ok", outcome

    asyncio.run(go())
    with engine.connect() as conn:
        rows = conn.execute(select(entries.c.link, entries.c.verdict, entries.c.duplicate_of)).all()
    return {row.link: (row.verdict, row.duplicate_of) for row in rows}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_any_arrival_order_gives_the_verdicts_of_a_scan(store: Engine, feed_server: FeedServer, config, seed: int) -> None:  # type: ignore[no-untyped-def]
    names = sorted(p.name for p in STREAM.iterdir() if p.suffix in scan.FEED_SUFFIXES)
    order = names[:]
    random.Random(seed).shuffle(order)
    expected = scanned(config)
    got = polled(store, feed_server, config, order)
    differ = {link: (expected[link], got.get(link)) for link in expected if got.get(link) != expected[link]}
    assert not differ, f"order {order}: {len(differ)} entries differ from the scan: {differ}"
