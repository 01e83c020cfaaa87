"""Feed state in SQL: the schedule of record (next poll), validators, errors, and pruning.

Rows follow config/feeds.yaml (`sync_feeds`); the pipeline records each poll's outcome
(`record_success`, `record_not_modified`, `record_failure`, `record_gone`, `move_feed`);
`prune_entries` turns old entries into tombstones so that one which reappears in a feed
is not news again. Only plain values (FeedState, dicts, sets) leave this module.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import (
    Connection,
    Engine,
    RowMapping,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)

from monitor.model import Entry
from monitor.store.shared import CHUNK, begin, chunks, utc, xact_lock
from monitor.store.tables import entries, feeds, mentions, outbox, tombstones

__all__ = [
    "FIELD_CAPS",
    "FeedState",
    "NotModified",
    "cap_fields",
    "due_feeds",
    "due_states",
    "entry_counts",
    "feed_states",
    "known_hashes",
    "load_feed",
    "move_feed",
    "prune_entries",
    "publication_times",
    "latest_publication_times",
    "record_failure",
    "record_gone",
    "record_not_modified",
    "record_not_modified_many",
    "record_success",
    "sync_feeds",
    "tombstoned",
    "update_edited",
]


# The most characters an entry's field keeps in the store (and so in judging and mail): a
# feed's 1 MB title must not become a 4 MB email. Cut fields end with an ellipsis.
FIELD_CAPS = {"title": 1000, "summary": 2000, "content": 20000, "link": 2000, "source": 2000}
# An id longer than this is replaced by its digest (still unique within its feed).
ID_CAP = 500


def cap_fields(entry: Entry) -> tuple[Entry, list[str]]:
    """`entry` with every field within FIELD_CAPS (and its id within ID_CAP); the names of
    the fields that were cut."""
    changes: dict[str, Any] = {}
    for name, cap in FIELD_CAPS.items():
        value = getattr(entry, name)
        if len(value) > cap:
            changes[name] = value[: cap - 1] + "\u2026"
    if len(entry.id) > ID_CAP:
        changes["id"] = "long-id:" + hashlib.sha256(entry.id.encode("utf-8", "surrogatepass")).hexdigest()
    if not changes:
        return entry, []
    return replace(entry, **changes), sorted(changes)


class FeedLike(Protocol):
    """What sync_feeds needs of a configured feed (monitor.config.FeedConfig fits)."""

    @property
    def name(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def interval(self) -> timedelta: ...
    @property
    def enabled(self) -> bool: ...


@dataclass(frozen=True)
class FeedState:
    """One feed's row: where it lives now, its validators, its schedule and its health."""

    name: str
    url: str
    etag: str | None
    last_modified: str | None
    interval_seconds: int | None
    next_poll_at: datetime | None
    last_success_at: datetime | None
    last_status: str | None
    error_count: int
    last_error: str | None
    last_error_at: datetime | None
    problem: str | None
    disabled_reason: str | None
    configured_url: str | None = None
    failing_since: datetime | None = None  # when the current run of failures began

    @property
    def moved(self) -> bool:
        """Polled at another URL than feeds.yaml says (a permanent redirect was followed)."""
        return self.configured_url is not None and self.configured_url != self.url


def _state(row: RowMapping) -> FeedState:
    return FeedState(
        name=row["name"],
        url=row["url"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        interval_seconds=row["interval_seconds"],
        next_poll_at=utc(row["next_poll_at"]),
        last_success_at=utc(row["last_success_at"]),
        last_status=row["last_status"],
        error_count=row["error_count"] or 0,
        last_error=row["last_error"],
        last_error_at=utc(row["last_error_at"]),
        problem=row["problem"],
        disabled_reason=row["disabled_reason"],
        configured_url=row["configured_url"],
        failing_since=utc(row["failing_since"]),
    )


def sync_feeds(
    engine: Engine,
    configured: Iterable[FeedLike],
    now: datetime,
    *,
    previous_urls: Mapping[str, str] | None = None,
) -> tuple[list[str], list[str]]:
    """Make the rows match the configured feeds; returns (added, removed) names.

    A new feed is due now. A feed whose interval was shortened is due no later than the new
    interval from now. A removed feed's row goes (its entries stay). The stored URL
    may differ from the configured one after a permanent redirect: it is replaced only when
    the configured URL itself changed since `previous_urls` (the config applied before) or,
    without them (at start), since the URL stored as configured at the last sync; so a move
    survives restarts until feeds.yaml is edited.
    """
    wanted = {f.name: f for f in configured}
    added: list[str] = []
    with engine.begin() as conn:
        xact_lock(conn, "feeds")  # daemons reloading one config together: one at a time
        rows = {r["name"]: r for r in conn.execute(select(feeds.c.name, feeds.c.url, feeds.c.configured_url, feeds.c.interval_seconds, feeds.c.next_poll_at)).mappings()}
        removed = sorted(set(rows) - set(wanted))
        for chunk in chunks(removed):
            conn.execute(delete(feeds).where(feeds.c.name.in_(chunk)))
        new_rows = []
        for name, feed in wanted.items():
            seconds = int(feed.interval.total_seconds())
            row = rows.get(name)
            if row is None:
                new_rows.append({"name": name, "url": feed.url, "configured_url": feed.url, "interval_seconds": seconds, "next_poll_at": now, "error_count": 0, "entry_count": 0})
                added.append(name)
                continue
            changes: dict[str, Any] = {}
            before = row["configured_url"] if previous_urls is None else previous_urls.get(name)
            config_changed = before is None or before != feed.url
            if row["configured_url"] != feed.url:
                changes["configured_url"] = feed.url
            if row["url"] != feed.url and config_changed:
                # A new URL is a new resource: the old validators do not apply to it.
                changes.update(url=feed.url, etag=None, last_modified=None, disabled_reason=None, next_poll_at=now)
            if row["interval_seconds"] != seconds:
                changes["interval_seconds"] = seconds
                sooner = now + feed.interval
                next_poll = utc(row["next_poll_at"])
                if "next_poll_at" not in changes and next_poll is not None and next_poll > sooner:
                    changes["next_poll_at"] = sooner
            if changes:
                conn.execute(update(feeds).where(feeds.c.name == name).values(**changes))
        if new_rows:
            conn.execute(insert(feeds), new_rows)
    return added, removed


def load_feed(engine: Engine, name: str) -> FeedState | None:
    with engine.connect() as conn:
        row = conn.execute(select(feeds).where(feeds.c.name == name)).mappings().first()
    return None if row is None else _state(row)


def feed_states(engine: Engine) -> list[FeedState]:
    """Every feed's row, by name."""
    with engine.connect() as conn:
        return [_state(r) for r in conn.execute(select(feeds).order_by(feeds.c.name)).mappings()]


def due_feeds(engine: Engine, now: datetime) -> list[str]:
    """Names of the feeds whose next poll is due (disabled ones never are), soonest first."""
    query = (
        select(feeds.c.name)
        .where(feeds.c.disabled_reason.is_(None))
        .where((feeds.c.next_poll_at.is_(None)) | (feeds.c.next_poll_at <= now))
        .order_by(feeds.c.next_poll_at, feeds.c.name)
    )
    with engine.connect() as conn:
        return list(conn.execute(query).scalars())


def due_states(engine: Engine, now: datetime) -> list[FeedState]:
    """The rows of every feed due by `now` (disabled ones never are), soonest first: one
    query per scheduler tick, whatever the number of feeds."""
    query = (
        select(feeds)
        .where(feeds.c.disabled_reason.is_(None))
        .where((feeds.c.next_poll_at.is_(None)) | (feeds.c.next_poll_at <= now))
        .order_by(feeds.c.next_poll_at, feeds.c.name)
    )
    with engine.connect() as conn:
        return [_state(r) for r in conn.execute(query).mappings()]


def record_success(
    engine: Engine,
    name: str,
    *,
    now: datetime,
    next_poll_at: datetime,
    etag: str | None,
    last_modified: str | None,
    problem: str | None,
    new_entries: int,
) -> None:
    """A body fetched and its entries stored: save the validators, reset the error counter.

    Called only after the entries are stored (Miniflux's RefreshFeed order), so a crash
    in between costs one unconditional fetch, never an entry.
    """
    with engine.begin() as conn:
        conn.execute(
            update(feeds).where(feeds.c.name == name).values(
                etag=etag, last_modified=last_modified, next_poll_at=next_poll_at,
                last_success_at=now, last_status="ok", error_count=0, problem=problem, failing_since=None,
                entry_count=feeds.c.entry_count + new_entries,
            )
        )


def record_not_modified(
    engine: Engine, name: str, *, now: datetime, next_poll_at: datetime, etag: str | None, last_modified: str | None
) -> None:
    """304: nothing to parse; the feed is healthy."""
    with engine.begin() as conn:
        conn.execute(
            update(feeds).where(feeds.c.name == name).values(
                etag=etag, last_modified=last_modified, next_poll_at=next_poll_at,
                last_success_at=now, last_status="not_modified", error_count=0, failing_since=None,
            )
        )


@dataclass(frozen=True)
class NotModified:
    """One 304 to write down: record_not_modified_many takes a batch of them."""

    name: str
    now: datetime
    next_poll_at: datetime
    etag: str | None
    last_modified: str | None


def record_not_modified_many(engine: Engine, rows: Sequence[NotModified]) -> None:
    """Many 304s in one transaction and one executemany: a round of unchanged feeds costs a
    statement per feed, not a transaction (and a lock) per feed."""
    if not rows:
        return
    statement = update(feeds).where(feeds.c.name == bindparam("b_name")).values(
        etag=bindparam("b_etag"), last_modified=bindparam("b_last_modified"), next_poll_at=bindparam("b_next"),
        last_success_at=bindparam("b_now"), last_status="not_modified", error_count=0, failing_since=None,
    )
    params = [
        {"b_name": r.name, "b_etag": r.etag, "b_last_modified": r.last_modified, "b_next": r.next_poll_at, "b_now": r.now}
        for r in rows
    ]
    with engine.begin() as conn:
        conn.execute(statement, params)


def record_failure(engine: Engine, name: str, *, now: datetime, kind: str, error: str, next_poll_at: datetime) -> int:
    """One more consecutive failure; returns the new error count."""
    with engine.begin() as conn:
        conn.execute(
            update(feeds).where(feeds.c.name == name).values(
                error_count=feeds.c.error_count + 1, last_error=error[:2000], last_error_at=now,
                last_status=kind[:40], next_poll_at=next_poll_at,
                failing_since=func.coalesce(feeds.c.failing_since, now),
            )
        )
        count = conn.execute(select(feeds.c.error_count).where(feeds.c.name == name)).scalar()
    return int(count or 0)


def record_gone(engine: Engine, name: str, *, now: datetime, reason: str) -> None:
    """410 Gone (RFC 9110 15.5.11): stop polling until the feed's URL changes in config."""
    with engine.begin() as conn:
        conn.execute(
            update(feeds).where(feeds.c.name == name).values(
                disabled_reason=reason, last_status="gone", last_error=reason, last_error_at=now, next_poll_at=None,
            )
        )


def move_feed(engine: Engine, name: str, url: str) -> None:
    """A permanent redirect (301/308): poll the new URL from now on."""
    with engine.begin() as conn:
        conn.execute(update(feeds).where(feeds.c.name == name).values(url=url))


def tombstoned(target: Connection | Engine, keys: Iterable[str]) -> set[str]:
    """Which of `keys` were pruned: they must not come back as news."""
    wanted = list(dict.fromkeys(keys))
    found: set[str] = set()
    with begin(target) as conn:
        for chunk in chunks(wanted):
            found.update(conn.execute(select(tombstones.c.entry_key).where(tombstones.c.entry_key.in_(chunk))).scalars())
    return found


def known_hashes(target: Connection | Engine, keys: Iterable[str]) -> dict[str, str]:
    """Entry key -> stored content hash, for the keys already stored."""
    wanted = list(dict.fromkeys(keys))
    found: dict[str, str] = {}
    with begin(target) as conn:
        for chunk in chunks(wanted):
            query = select(entries.c.entry_key, entries.c.content_hash).where(entries.c.entry_key.in_(chunk))
            found.update({row.entry_key: row.content_hash for row in conn.execute(query)})
    return found


def update_edited(target: Connection | Engine, edited: Sequence[Entry]) -> int:
    """Entries seen before whose text changed: update them in place, keep their verdict."""
    if not edited:
        return 0
    with begin(target) as conn:
        for entry in edited:
            conn.execute(
                update(entries).where(entries.c.entry_key == entry.key).values(
                    title=entry.title, link=entry.link, summary=entry.summary[:2000],
                    published=entry.published, content_hash=entry.content_hash,
                )
            )
    return len(edited)


def publication_times(engine: Engine, feed: str, since: datetime) -> list[datetime]:
    """When the feed's stored entries were published (or first seen), since `since`."""
    # Two index ranges of ix_entries_feed_published (feed, published, first_seen), never a
    # pass over the table: coalesce(published, first_seen) >= since, spelled so an index
    # serves it. The cost is the feed's entries since `since`, whatever the history kept.
    when = func.coalesce(entries.c.published, entries.c.first_seen)
    query = select(when).where(entries.c.feed == feed).where(
        or_(entries.c.published >= since, and_(entries.c.published.is_(None), entries.c.first_seen >= since))
    )
    with engine.connect() as conn:
        return [t for t in (utc(v) for v in conn.execute(query).scalars()) if t is not None]


def latest_publication_times(engine: Engine, feed: str, limit: int = 30) -> list[datetime]:
    """When the feed's `limit` newest stored entries were published (else first seen), newest
    first: the feed's rhythm (feed health), read from ix_entries_feed_published."""
    when = func.coalesce(entries.c.published, entries.c.first_seen)
    query = (select(when).where(entries.c.feed == feed)
             .order_by(entries.c.published.desc().nulls_last(), entries.c.first_seen.desc()).limit(limit))
    with engine.connect() as conn:
        return [t for t in (utc(v) for v in conn.execute(query).scalars()) if t is not None]


def entry_counts(engine: Engine) -> dict[str, int]:
    """Stored entries per feed name."""
    query = select(entries.c.feed, func.count()).group_by(entries.c.feed)
    with engine.connect() as conn:
        return {row[0]: int(row[1]) for row in conn.execute(query)}


def prune_entries(engine: Engine, *, before: datetime, now: datetime) -> int:
    """Entries first seen before `before` become tombstones; returns how many.

    An entry an outbox row still points at (coverage not yet mailed) is kept. The
    development an entry announced stays: it is part of what the users know.
    """
    held = exists().where(outbox.c.entry_id == entries.c.id)
    query = select(entries.c.id, entries.c.entry_key).where(entries.c.first_seen < before).where(~held)
    pruned = 0
    with engine.begin() as conn:
        rows = list(conn.execute(query))
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            keys = [r.entry_key for r in chunk]
            ids = [r.id for r in chunk]
            already = set(conn.execute(select(tombstones.c.entry_key).where(tombstones.c.entry_key.in_(keys))).scalars())
            fresh = [{"entry_key": k, "pruned_at": now} for k in keys if k not in already]
            if fresh:
                conn.execute(insert(tombstones), fresh)
            conn.execute(delete(mentions).where(mentions.c.entry_id.in_(ids)))
            conn.execute(delete(entries).where(entries.c.id.in_(ids)))
            pruned += len(chunk)
    return pruned
