"""The outbox: one promise per (subscriber, development) (or per coverage entry).

The UNIQUE constraint is the real dedup: every insert is insert-or-ignore, so promising
twice is harmless. Emails are stored lower-cased (`subscriber_key`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, select

from monitor.model import (
    Subscriber,
)
from monitor.store.judgements import StoredEntry
from monitor.store.shared import begin, chunks, insert_ignoring, split_items, subscriber_key, utc
from monitor.store.suppressions import suppressed_emails
from monitor.store.tables import (
    developments,
    outbox,
    subscriber_schedule,
)


def followed_cases(subscriber: Subscriber, watchlist_cases: Mapping[str, frozenset[str]]) -> frozenset[str] | None:
    """The case ids `subscriber` follows; None means every case."""
    if subscriber.cases:
        return frozenset(subscriber.cases)
    if subscriber.watchlists:
        return frozenset().union(*(watchlist_cases.get(w, frozenset()) for w in subscriber.watchlists))
    return None


def promise(
    target: Connection | Engine,
    stored: Sequence[StoredEntry],
    subscribers: Sequence[Subscriber],
    watchlist_cases: Mapping[str, frozenset[str]],
    now: datetime,
) -> int:
    """Promise each new development to every subscriber who follows its case (and known or
    mention entries to those who asked for coverage); suppressed emails get nothing.

    Idempotent: the UNIQUE constraints turn a second promise into nothing. Returns the
    number of outbox rows added.
    """
    created = [s.development_id for s in stored if s.created_development and s.development_id is not None]
    coverage = [s for s in stored if str(s.verdict) in ("known", "mention")]
    if not created and not coverage:
        return 0
    with begin(target) as conn:
        blocked = suppressed_emails(conn)
        audience = [
            (subscriber_key(s.email), followed_cases(s, watchlist_cases), s.coverage)
            for s in subscribers
            if subscriber_key(s.email) not in blocked
        ]
        case_of: dict[int, str] = {}
        for chunk in chunks(created):
            query = select(developments.c.id, developments.c.case_id).where(developments.c.id.in_(chunk))
            case_of.update({row.id: row.case_id for row in conn.execute(query)})
        promised_at = utc(now)
        rows: list[dict[str, Any]] = []
        for development_id in created:
            case_id = case_of.get(development_id)
            if case_id is None:
                continue
            for email, cases, _ in audience:
                if cases is None or case_id in cases:
                    rows.append({"subscriber": email, "development_id": development_id,
                                 "entry_id": None, "promised_at": promised_at})
        for entry in coverage:
            for email, cases, wants_coverage in audience:
                if wants_coverage and (cases is None or cases.intersection(entry.cases)):
                    rows.append({"subscriber": email, "development_id": None,
                                 "entry_id": entry.entry_row, "promised_at": promised_at})
        added = 0
        # RETURNING lists only the rows inserted; rowcount of an executemany is not portable.
        statement = insert_ignoring(conn, outbox).returning(outbox.c.id)
        for batch in chunks(rows, 2000):
            added += len(conn.execute(statement, list(batch)).all())
        return added


def pending_counts(target: Connection | Engine) -> dict[str, tuple[int, int]]:
    """Per subscriber, the unsent rows not yet in a digest: (developments, coverage entries)."""
    with begin(target) as conn:
        query = (
            select(outbox.c.subscriber, func.count(outbox.c.development_id), func.count(outbox.c.entry_id))
            .where(outbox.c.sent.is_(False), outbox.c.digest_id.is_(None))
            .group_by(outbox.c.subscriber)
        )
        return {row[0]: (int(row[1]), int(row[2])) for row in conn.execute(query)}


def unclaimed_span(target: Connection | Engine, email: str) -> tuple[datetime, datetime] | None:
    """When the oldest and the newest development still waiting for `email` were promised."""
    with begin(target) as conn:
        row = conn.execute(
            select(func.min(outbox.c.promised_at), func.max(outbox.c.promised_at)).where(
                outbox.c.subscriber == subscriber_key(email), outbox.c.sent.is_(False),
                outbox.c.digest_id.is_(None), outbox.c.development_id.is_not(None))
        ).one()
        return None if row[0] is None else (utc(row[0]), utc(row[1]))


def unclaimed_items(target: Connection | Engine, email: str) -> tuple[list[int], list[int]]:
    """The development ids and coverage entry ids promised to `email`, not yet in a digest."""
    with begin(target) as conn:
        query = select(outbox.c.development_id, outbox.c.entry_id).where(
            outbox.c.subscriber == subscriber_key(email), outbox.c.sent.is_(False), outbox.c.digest_id.is_(None)
        ).order_by(outbox.c.id)
        return split_items(conn.execute(query))


def forget_subscriber(target: Connection | Engine, email: str) -> int:
    """Drop a removed subscriber's unclaimed promises and schedule; returns promises dropped."""
    key = subscriber_key(email)
    with begin(target) as conn:
        result = conn.execute(delete(outbox).where(
            outbox.c.subscriber == key, outbox.c.sent.is_(False), outbox.c.digest_id.is_(None)))
        conn.execute(delete(subscriber_schedule).where(subscriber_schedule.c.subscriber == key))
        return max(result.rowcount, 0)
