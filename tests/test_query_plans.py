"""The hot queries find their rows through indexes, never by a pass over `entries`.

Each store function a poll (or a Judge build, a prune, a digest) runs is called for real on
a small database; every statement it sends is recorded and explained: EXPLAIN QUERY PLAN on
SQLite, EXPLAIN on PostgreSQL with sequential scans priced out (`enable_seqscan = off`, so a
Seq Scan in the plan means no index could serve it). A full scan of `entries` fails the test:
that is what made a first poll grow with the square of the feeds (issue 11).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event

from monitor.model import Development, Entry, EventDate, Judgement, KnownEvent, Verdict
from monitor.store import digest_rows
from monitor.store import feeds as feed_store
from monitor.store import judgements as store

NOW = datetime(2023, 3, 4, 12, tzinfo=UTC)
FULL_SCAN = {
    "sqlite": re.compile(r"\bSCAN entries\b"),
    "postgresql": re.compile(r"Seq Scan on entries\b"),
}


def _fill(engine: Engine) -> None:
    """A few feeds' worth of history: plain entries, developments and their duplicates."""
    judged: list[tuple[Judgement, KnownEvent | None]] = []
    for i in range(60):
        entry = Entry(id=f"k-{i}", source="s", title=f"Story {i}", link=f"https://x.example/{i}",
                      published=NOW - timedelta(hours=i) if i % 7 else None, summary="s",
                      content_hash=f"h{i}", feed=f"feed {i % 3}")
        if i % 10 == 0:
            dev = Development("case-a", "arrest", EventDate(date(2023, 3, 1)), ("Kem Sokha",))
            event_ = KnownEvent("case-a", "arrest", EventDate(date(2023, 3, 1)), "Arrested", ("Kem Sokha",), entry_id=entry.id)
            judged.append((Judgement(entry, Verdict.NEW, ("Kem Sokha",), ("case-a",), dev), event_))
        elif i % 10 == 1:
            judged.append((Judgement(entry, Verdict.DUPLICATE, ("Kem Sokha",), ("case-a",), duplicate_of=f"k-{i - 1}"), None))
        else:
            judged.append((Judgement(entry, Verdict.NONE), None))
    store.save_judgements(engine, judged, NOW)


@contextmanager
def recorded(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, executemany: bool) -> None:
        if not executemany and statement.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE")):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def plans(engine: Engine, statements: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    out = []
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")
            prefix = "EXPLAIN "
        else:
            prefix = "EXPLAIN QUERY PLAN "
        for statement, parameters in statements:
            rows = conn.exec_driver_sql(prefix + statement, parameters).all()
            out.append((statement, "\n".join(str(r[-1]) for r in rows)))
        conn.rollback()
    return out


HOT: dict[str, Callable[[Engine], object]] = {
    "publication_times": lambda e: feed_store.publication_times(e, "feed 1", NOW - timedelta(weeks=4)),
    "known_hashes": lambda e: feed_store.known_hashes(e, ["k-1", "k-2", "nope"]),
    "tombstoned": lambda e: feed_store.tombstoned(e, ["k-1", "nope"]),
    "update_edited": lambda e: feed_store.update_edited(
        e, [Entry(id="k-2", source="s", title="Edited", link="https://x.example/2", published=NOW, summary="s", content_hash="new")]),
    "stored_judgements": lambda e: store.stored_judgements(e, ["k-1", "k-3"]),
    "load_known_events": store.load_known_events,
    "recent_stories": store.recent_stories,
    "prune_entries": lambda e: feed_store.prune_entries(e, before=NOW - timedelta(days=400), now=NOW),
    "load_developments": lambda e: digest_rows.load_developments(e, [1, 2], {}),
    "supersede": lambda e: _supersede(e),
    "feed_states": feed_store.feed_states,
}


def _supersede(engine: Engine) -> None:
    with engine.connect() as conn:
        store._supersede(conn, "k-10", "k-99", "An earlier report")
        conn.rollback()


@pytest.mark.parametrize("name", sorted(HOT))
def test_no_hot_query_scans_entries(store: Engine, name: str) -> None:  # noqa: F811 (the fixture)
    _fill(store)
    with recorded(store) as statements:
        HOT[name](store)
    assert statements, f"{name} sent no query"
    scans = [(sql, plan) for sql, plan in plans(store, statements) if FULL_SCAN[store.dialect.name].search(plan)]
    assert scans == [], f"{name}: a full scan of entries:\n" + "\n\n".join(f"{s}\n{p}" for s, p in scans)


def test_publication_times_keeps_undated_entries_by_first_seen(sqlite_engine: Engine) -> None:
    _fill(sqlite_engine)
    times = feed_store.publication_times(sqlite_engine, "feed 0", NOW - timedelta(weeks=4))
    # feed 0 holds k-0, k-3, ...; the undated ones (every 7th) count by first_seen (NOW).
    expected = [NOW - timedelta(hours=i) if i % 7 else NOW for i in range(0, 60, 3)]
    assert sorted(times) == sorted(expected)
