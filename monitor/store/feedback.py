"""Feedback from the digest: a reader's label on a development ("not news", "wrong type",
"wrong case"). A labelled development is left out of every later digest of this
installation: its unclaimed promises are dropped at once, and delivery skips it."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, select

from monitor.store.shared import begin, chunks, insert_ignoring, maybe_utc, subscriber_key, utc
from monitor.store.tables import developments, entries, feedback, outbox

LABELS = ("not_news", "wrong_type", "wrong_case")


def record(target: Connection | Engine, email: str, development_id: int, label: str, now: datetime) -> bool:
    """Store the label (once per subscriber, development and label) and drop the
    development's unclaimed promises. False when the development does not exist."""
    if label not in LABELS:
        raise ValueError(f"unknown feedback label {label!r}")
    with begin(target) as conn:
        if conn.execute(select(developments.c.id).where(developments.c.id == development_id)).first() is None:
            return False
        conn.execute(insert_ignoring(conn, feedback).values(
            development_id=development_id, subscriber=subscriber_key(email), label=label, created_at=utc(now)))
        conn.execute(delete(outbox).where(outbox.c.development_id == development_id, outbox.c.digest_id.is_(None),
                                          outbox.c.sent.is_(False)))
    return True


def labels_for(target: Connection | Engine, ids: Collection[int]) -> dict[int, list[str]]:
    """Development id -> the distinct labels readers gave it."""
    out: dict[int, list[str]] = {}
    with begin(target) as conn:
        for chunk in chunks(sorted(set(ids))):
            for row in conn.execute(select(feedback.c.development_id, feedback.c.label).distinct()
                                    .where(feedback.c.development_id.in_(chunk)).order_by(feedback.c.label)):
                out.setdefault(row.development_id, []).append(row.label)
    return out


def labelled(target: Connection | Engine, ids: Collection[int]) -> set[int]:
    """Those of `ids` that carry any label: left out of digests."""
    return set(labels_for(target, ids))


@dataclass(frozen=True)
class Label:
    development_id: int
    subscriber: str
    label: str
    created_at: datetime | None
    case_id: str
    type: str
    date: str
    entry_key: str
    entry_id: str  # the entry's id as its feed gives it (guid, else link): the labeled streams' key
    title: str
    link: str
    published: datetime | None
    feed: str
    people: tuple[str, ...]


def export(target: Connection | Engine) -> list[Label]:
    """Every label with the development and its first report, oldest first."""
    with begin(target) as conn:
        rows: list[Any] = list(conn.execute(
            select(feedback, developments.c.case_id, developments.c.type, developments.c.date,
                   developments.c.first_entry_key, entries.c.title, entries.c.link, entries.c.published,
                   entries.c.feed, entries.c.source, entries.c.people)
            .join(developments, developments.c.id == feedback.c.development_id)
            .join(entries, entries.c.entry_key == developments.c.first_entry_key, isouter=True)
            .order_by(feedback.c.created_at, feedback.c.id)))
    return [Label(r.development_id, r.subscriber, r.label, maybe_utc(r.created_at), r.case_id, r.type,
                  r.date.isoformat(), r.first_entry_key, _unscoped(r.first_entry_key, r.feed or r.source or ""),
                  r.title or "", r.link or "", maybe_utc(r.published), r.feed or r.source or "",
                  tuple(r.people or ())) for r in rows]


def _unscoped(key: str, feed: str) -> str:
    """A bare guid is stored as "<feed>#<guid>" (model.Entry.key); the feed gives "<guid>"."""
    return key.removeprefix(f"{feed}#") if feed else key
