"""The delivery outbox: promises, digests, suppressions and subscriber schedules, in SQL.

A promise is one `outbox` row per (subscriber, development) (or per coverage entry); a
digest is one `digests` row per (subscriber, period) that freezes the rows it carries when
it is claimed. Both UNIQUE constraints are the real dedup: every insert here is
insert-or-ignore, so promising twice or claiming twice is harmless. Emails are stored
lower-cased (`subscriber_key`). Only plain values leave this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, Engine, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from monitor.model import (
    DigestDevelopment,
    EventDate,
    KnownEvent,
    Precision,
    Report,
    Source,
    Subscriber,
)
from monitor.store.judgements import StoredEntry
from monitor.store.tables import (
    developments,
    digests,
    entries,
    known_events,
    outbox,
    subscriber_schedule,
    suppressions,
)

CONTEXT_EVENTS = 3
_CHUNK = 500  # ids per IN (...) list: well under SQLite's 32766 bound parameters


def subscriber_key(email: str) -> str:
    """The form an email takes in our tables: trimmed, lower-cased."""
    return email.strip().lower()


def utc(moment: datetime) -> datetime:
    """An aware UTC datetime (SQLite hands back naive ones: we only ever store UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _maybe_utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else utc(moment)


class _Begin:
    """`with _begin(x) as conn`: a transaction of our own on an Engine, or the caller's."""

    def __init__(self, target: Connection | Engine) -> None:
        self._target = target
        self._context: Any = None

    def __enter__(self) -> Connection:
        if isinstance(self._target, Engine):
            self._context = self._target.begin()
            return self._context.__enter__()  # type: ignore[no-any-return]
        return self._target

    def __exit__(self, *exc: object) -> None:
        if self._context is not None:
            self._context.__exit__(*exc)


def _insert_ignoring(conn: Connection, table: Any) -> Insert:
    """INSERT that skips rows violating a UNIQUE constraint, in this dialect's words."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    return table.insert().prefix_with("IGNORE")  # MySQL/MariaDB spelling


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- Suppressions: unsubscribes and bounces win over config. ---


@dataclass(frozen=True)
class Suppression:
    email: str
    reason: str  # unsubscribe | bounce | manual
    detail: str
    created_at: datetime


def suppress(target: Connection | Engine, email: str, reason: str, detail: str, now: datetime) -> bool:
    """Put `email` on the suppression list; False if it was there already (first reason kept)."""
    with _Begin(target) as conn:
        result = conn.execute(
            _insert_ignoring(conn, suppressions).values(
                email=subscriber_key(email), reason=reason, detail=detail[:2000], created_at=utc(now)
            ).returning(suppressions.c.email)
        )
        return result.first() is not None


def unsuppress(target: Connection | Engine, email: str) -> bool:
    """Take `email` off the suppression list; False if it was not on it."""
    with _Begin(target) as conn:
        result = conn.execute(delete(suppressions).where(suppressions.c.email == subscriber_key(email)))
        return bool(result.rowcount)


def suppressed_emails(target: Connection | Engine) -> set[str]:
    with _Begin(target) as conn:
        return set(conn.execute(select(suppressions.c.email)).scalars())


def list_suppressions(target: Connection | Engine) -> list[Suppression]:
    with _Begin(target) as conn:
        rows = conn.execute(select(suppressions).order_by(suppressions.c.created_at, suppressions.c.email))
        return [
            Suppression(r.email, r.reason, r.detail or "", utc(r.created_at)) for r in rows
        ]


# --- Promises. ---


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
    with _Begin(target) as conn:
        blocked = suppressed_emails(conn)
        audience = [
            (subscriber_key(s.email), followed_cases(s, watchlist_cases), s.coverage)
            for s in subscribers
            if subscriber_key(s.email) not in blocked
        ]
        case_of: dict[int, str] = {}
        for chunk in _chunks(created):
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
        statement = _insert_ignoring(conn, outbox).returning(outbox.c.id)
        for chunk in _chunks(rows, 2000):
            added += len(conn.execute(statement, list(chunk)).all())
        return added


def pending_counts(target: Connection | Engine) -> dict[str, tuple[int, int]]:
    """Per subscriber, the unsent rows not yet in a digest: (developments, coverage entries)."""
    with _Begin(target) as conn:
        query = (
            select(outbox.c.subscriber, func.count(outbox.c.development_id), func.count(outbox.c.entry_id))
            .where(outbox.c.sent.is_(False), outbox.c.digest_id.is_(None))
            .group_by(outbox.c.subscriber)
        )
        return {row[0]: (int(row[1]), int(row[2])) for row in conn.execute(query)}


def unclaimed_items(target: Connection | Engine, email: str) -> tuple[list[int], list[int]]:
    """The development ids and coverage entry ids promised to `email`, not yet in a digest."""
    with _Begin(target) as conn:
        query = select(outbox.c.development_id, outbox.c.entry_id).where(
            outbox.c.subscriber == subscriber_key(email), outbox.c.sent.is_(False), outbox.c.digest_id.is_(None)
        ).order_by(outbox.c.id)
        return _split_items(conn.execute(query))


def _split_items(rows: Iterable[Any]) -> tuple[list[int], list[int]]:
    development_ids, entry_ids = [], []
    for development_id, entry_id in rows:
        if development_id is not None:
            development_ids.append(int(development_id))
        elif entry_id is not None:
            entry_ids.append(int(entry_id))
    return development_ids, entry_ids


def forget_subscriber(target: Connection | Engine, email: str) -> int:
    """Drop a removed subscriber's unclaimed promises and schedule; returns promises dropped."""
    key = subscriber_key(email)
    with _Begin(target) as conn:
        result = conn.execute(delete(outbox).where(
            outbox.c.subscriber == key, outbox.c.sent.is_(False), outbox.c.digest_id.is_(None)))
        conn.execute(delete(subscriber_schedule).where(subscriber_schedule.c.subscriber == key))
        return max(result.rowcount, 0)


# --- Schedules. ---


def next_digest_at(target: Connection | Engine, email: str) -> datetime | None:
    with _Begin(target) as conn:
        value = conn.execute(select(subscriber_schedule.c.next_digest_at).where(
            subscriber_schedule.c.subscriber == subscriber_key(email))).scalar()
        return _maybe_utc(value)


def set_next_digest_at(target: Connection | Engine, email: str, when: datetime, last_period: str | None = None) -> None:
    """Record when `email`'s next digest is due (and the period just claimed, if any)."""
    key = subscriber_key(email)
    with _Begin(target) as conn:
        conn.execute(_insert_ignoring(conn, subscriber_schedule).values(subscriber=key, next_digest_at=utc(when)))
        values: dict[str, Any] = {"next_digest_at": utc(when)}
        if last_period is not None:
            values["last_period"] = last_period
        conn.execute(update(subscriber_schedule).where(subscriber_schedule.c.subscriber == key).values(**values))


# --- Digests. ---


@dataclass(frozen=True)
class DigestRow:
    id: int
    subscriber: str
    period: str
    message_id: str
    status: str
    attempts: int
    last_error: str
    next_attempt_at: datetime | None


def _digest_row(row: Any) -> DigestRow:
    return DigestRow(row.id, row.subscriber, row.period, row.message_id, row.status,
                     int(row.attempts or 0), row.last_error or "", _maybe_utc(row.next_attempt_at))


def claim_digest(
    target: Connection | Engine, email: str, period: str, message_id: str, now: datetime,
    *, coverage: bool = True,
) -> DigestRow | None:
    """Create the digest (email, period) and move every unclaimed promise of `email` into it.

    Returns None (and creates nothing) when that period is taken already or nothing is
    pending. One transaction: a concurrent claimer either sees the digest or takes the rows
    first, never both. Coverage rows ride along only when `coverage` is true.
    """
    key = subscriber_key(email)
    with _Begin(target) as conn:
        inserted = conn.execute(
            _insert_ignoring(conn, digests).values(
                subscriber=key, period=period, message_id=message_id, created_at=utc(now),
                status="pending", attempts=0,
            ).returning(digests.c.id)
        ).first()
        if inserted is None:
            return None
        row = conn.execute(select(digests).where(digests.c.id == inserted.id)).one()
        wanted = outbox.c.development_id.is_not(None) if not coverage else outbox.c.id.is_not(None)
        attached = conn.execute(
            update(outbox)
            .where(outbox.c.subscriber == key, outbox.c.sent.is_(False), outbox.c.digest_id.is_(None), wanted)
            .values(digest_id=row.id)
        ).rowcount
        if not attached:
            conn.execute(delete(digests).where(digests.c.id == row.id))
            return None
        return _digest_row(row)


def period_taken(target: Connection | Engine, email: str, period: str) -> bool:
    with _Begin(target) as conn:
        return conn.execute(select(digests.c.id).where(
            digests.c.subscriber == subscriber_key(email), digests.c.period == period)).first() is not None


def open_digests(target: Connection | Engine, email: str | None = None) -> list[DigestRow]:
    """Digests claimed but not yet accepted by the mail server (oldest first)."""
    with _Begin(target) as conn:
        query = select(digests).where(digests.c.status == "pending").order_by(digests.c.id)
        if email is not None:
            query = query.where(digests.c.subscriber == subscriber_key(email))
        return [_digest_row(r) for r in conn.execute(query)]


def begin_attempt(target: Connection | Engine, digest_id: int, now: datetime, lease_until: datetime, *, force: bool = False) -> bool:
    """Take the right to send a digest now: count the attempt and hold it until `lease_until`.

    A compare-and-set: False when another process holds the lease (an attempt in flight, or
    one that crashed, which is retried when the lease runs out) or the digest is done.
    `force` also takes a digest waiting out a backoff after a recorded failure.
    """
    ready = or_(digests.c.next_attempt_at.is_(None), digests.c.next_attempt_at <= utc(now))
    if force:
        ready = or_(ready, digests.c.last_error.is_not(None))
    with _Begin(target) as conn:
        result = conn.execute(
            update(digests)
            .where(digests.c.id == digest_id, digests.c.status == "pending", ready)
            .values(attempts=digests.c.attempts + 1, next_attempt_at=utc(lease_until), last_error=None)
        )
        return bool(result.rowcount)


def mark_sent(target: Connection | Engine, digest_id: int, now: datetime) -> None:
    """The server accepted the digest: it and every row it carries are sent."""
    with _Begin(target) as conn:
        conn.execute(update(digests).where(digests.c.id == digest_id).values(
            status="sent", sent_at=utc(now), next_attempt_at=None, last_error=None))
        conn.execute(update(outbox).where(outbox.c.digest_id == digest_id).values(sent=True))


def mark_failed(target: Connection | Engine, digest_id: int, error: str) -> None:
    """Refused for good: the digest stops; its rows stay unsent, on the record."""
    with _Begin(target) as conn:
        conn.execute(update(digests).where(digests.c.id == digest_id).values(
            status="failed", last_error=error[:2000], next_attempt_at=None))


def mark_retry(target: Connection | Engine, digest_id: int, error: str, next_attempt_at: datetime) -> None:
    """A transient failure: the digest stays pending until `next_attempt_at`."""
    with _Begin(target) as conn:
        conn.execute(update(digests).where(digests.c.id == digest_id).values(
            last_error=error[:2000] or "failed", next_attempt_at=utc(next_attempt_at)))


def digest_items(target: Connection | Engine, digest_id: int) -> tuple[list[int], list[int]]:
    """The development ids and coverage entry ids a digest carries."""
    with _Begin(target) as conn:
        query = select(outbox.c.development_id, outbox.c.entry_id).where(
            outbox.c.digest_id == digest_id).order_by(outbox.c.id)
        return _split_items(conn.execute(query))


def digest_status(target: Connection | Engine, email: str) -> list[DigestRow]:
    with _Begin(target) as conn:
        query = select(digests).where(digests.c.subscriber == subscriber_key(email)).order_by(digests.c.id)
        return [_digest_row(r) for r in conn.execute(query)]


# --- What a digest shows: developments with their reports and context. ---


def outlet_of(feed: str, link: str) -> str:
    """The feed's name, else the host of the link (without www.)."""
    if feed:
        return feed
    try:
        host = urlsplit(link).hostname or ""
    except ValueError:
        host = ""
    return host.removeprefix("www.")


def _report(row: Any) -> Report:
    return Report(outlet_of(row.feed, row.link), row.title, row.link, _maybe_utc(row.published))


def load_developments(
    target: Connection | Engine, ids: Iterable[int], case_titles: Mapping[str, str],
) -> dict[int, DigestDevelopment]:
    """DigestDevelopments by id: the development, every entry that reported it (the `new`
    one first, then duplicates by publication), and its case's last known events before it."""
    wanted = sorted(set(ids))
    out: dict[int, DigestDevelopment] = {}
    if not wanted:
        return out
    with _Begin(target) as conn:
        rows: list[Any] = []
        reports: dict[int, list[Any]] = {}
        for chunk in _chunks(wanted):
            rows += conn.execute(select(developments).where(developments.c.id.in_(chunk))).all()
            for entry in conn.execute(select(
                entries.c.id, entries.c.development_id, entries.c.verdict, entries.c.feed,
                entries.c.title, entries.c.link, entries.c.published,
            ).where(entries.c.development_id.in_(chunk))):
                reports.setdefault(entry.development_id, []).append(entry)
        timelines = _timelines(conn, {r.case_id for r in rows}, max(wanted))
    for row in rows:
        found = reports.get(row.id, [])
        found.sort(key=lambda e: (e.verdict != "new", e.published is None,
                                  utc(e.published) if e.published else datetime.min.replace(tzinfo=UTC), e.id))
        when = EventDate(row.date, Precision(row.precision))
        out[row.id] = DigestDevelopment(
            development_id=row.id,
            case_id=row.case_id,
            case_title=case_titles.get(row.case_id, row.case_id),
            type=row.type,
            date=when,
            summary=row.summary,
            people=tuple(row.subjects or ()),
            reports=tuple(_report(e) for e in found),
            context=_context_before(timelines.get(row.case_id, []), row.id, row.type, row.date),
        )
    return out


def _timelines(conn: Connection, case_ids: set[str], max_id: int) -> dict[str, list[tuple[int | None, KnownEvent]]]:
    """Per case: baseline events (id None) and developments up to `max_id`."""
    out: dict[str, list[tuple[int | None, KnownEvent]]] = {c: [] for c in case_ids}
    if not case_ids:
        return out
    cases = sorted(case_ids)
    for row in conn.execute(select(known_events).where(known_events.c.case_id.in_(cases))):
        out[row.case_id].append((None, KnownEvent(
            case=row.case_id, type=row.type, date=EventDate(row.date, Precision(row.precision)),
            summary=row.summary, subjects=tuple(row.subjects or ()),
            sources=tuple(Source(s.get("outlet", ""), s.get("title", ""),
                                 date.fromisoformat(s["date"]) if s.get("date") else None, s.get("link", ""))
                          for s in row.sources or ()),
        )))
    for row in conn.execute(select(developments).where(developments.c.case_id.in_(cases), developments.c.id <= max_id)):
        out[row.case_id].append((row.id, KnownEvent(
            case=row.case_id, type=row.type, date=EventDate(row.date, Precision(row.precision)),
            summary=row.summary, subjects=tuple(row.subjects or ()), entry_id=row.first_entry_key,
        )))
    return out


def _context_before(timeline: list[tuple[int | None, KnownEvent]], development_id: int, kind: str, when: date) -> tuple[KnownEvent, ...]:
    """The last CONTEXT_EVENTS events of the case before this development, newest first:
    baseline events up to its date (not itself restated) and developments seen before it."""
    earlier = [
        event for event_id, event in timeline
        if (event_id is None and event.date.value <= when and not (event.type == kind and event.date.value == when))
        or (event_id is not None and event_id < development_id)
    ]
    earlier.sort(key=lambda e: e.date.value, reverse=True)
    return tuple(earlier[:CONTEXT_EVENTS])


def load_coverage(target: Connection | Engine, entry_ids: Iterable[int]) -> list[Report]:
    """Coverage entries as Reports, newest publication first."""
    wanted = sorted(set(entry_ids))
    rows: list[Any] = []
    with _Begin(target) as conn:
        for chunk in _chunks(wanted):
            rows += conn.execute(select(entries.c.id, entries.c.feed, entries.c.title, entries.c.link,
                                        entries.c.published).where(entries.c.id.in_(chunk))).all()
    rows.sort(key=lambda e: (utc(e.published) if e.published else datetime.min.replace(tzinfo=UTC), e.id), reverse=True)
    return [_report(r) for r in rows]


__all__ = [
    "DigestRow", "Suppression", "begin_attempt", "claim_digest", "digest_items", "digest_status",
    "followed_cases", "forget_subscriber", "list_suppressions", "load_coverage", "load_developments",
    "mark_failed", "mark_retry", "mark_sent", "next_digest_at", "open_digests", "outlet_of",
    "pending_counts", "period_taken", "promise", "set_next_digest_at", "subscriber_key", "suppress",
    "suppressed_emails", "unclaimed_items", "unsuppress", "utc",
]
