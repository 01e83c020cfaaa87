"""Digests: one row per (subscriber, period), claimed once, attempted, marked sent; and each subscriber's next digest time.

A digest freezes the promises it carries when it is claimed; UNIQUE(subscriber, period)
makes a second mail for one period impossible.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, or_, select, update

from monitor.store.shared import begin, insert_ignoring, maybe_utc, split_items, subscriber_key, utc
from monitor.store.tables import (
    digests,
    outbox,
    subscriber_schedule,
)


def next_digest_at(target: Connection | Engine, email: str) -> datetime | None:
    with begin(target) as conn:
        value = conn.execute(select(subscriber_schedule.c.next_digest_at).where(
            subscriber_schedule.c.subscriber == subscriber_key(email))).scalar()
        return maybe_utc(value)


def set_next_digest_at(target: Connection | Engine, email: str, when: datetime, last_period: str | None = None) -> None:
    """Record when `email`'s next digest is due (and the period just claimed, if any)."""
    key = subscriber_key(email)
    with begin(target) as conn:
        conn.execute(insert_ignoring(conn, subscriber_schedule).values(subscriber=key, next_digest_at=utc(when)))
        values: dict[str, Any] = {"next_digest_at": utc(when)}
        if last_period is not None:
            values["last_period"] = last_period
        conn.execute(update(subscriber_schedule).where(subscriber_schedule.c.subscriber == key).values(**values))


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
                     int(row.attempts or 0), row.last_error or "", maybe_utc(row.next_attempt_at))


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
    with begin(target) as conn:
        inserted = conn.execute(
            insert_ignoring(conn, digests).values(
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


def claim_notice(target: Connection | Engine, email: str, period: str, message_id: str, now: datetime) -> DigestRow | None:
    """A mail that carries no promise (the operator's feed health): the digest (email,
    period), created now, or the one still pending from an earlier try; None when that
    period's mail was sent (or refused for good) already. UNIQUE(subscriber, period) makes
    a second one impossible, whatever the number of daemons."""
    key = subscriber_key(email)
    with begin(target) as conn:
        conn.execute(insert_ignoring(conn, digests).values(
            subscriber=key, period=period, message_id=message_id, created_at=utc(now), status="pending", attempts=0))
        row = conn.execute(select(digests).where(digests.c.subscriber == key, digests.c.period == period)).one()
    return _digest_row(row) if row.status == "pending" else None


def period_taken(target: Connection | Engine, email: str, period: str) -> bool:
    with begin(target) as conn:
        return conn.execute(select(digests.c.id).where(
            digests.c.subscriber == subscriber_key(email), digests.c.period == period)).first() is not None


def open_digests(target: Connection | Engine, email: str | None = None) -> list[DigestRow]:
    """Digests claimed but not yet accepted by the mail server (oldest first)."""
    with begin(target) as conn:
        query = select(digests).where(digests.c.status == "pending").order_by(digests.c.id)
        if email is not None:
            query = query.where(digests.c.subscriber == subscriber_key(email))
        return [_digest_row(r) for r in conn.execute(query)]


@dataclass(frozen=True)
class DigestHealth:
    """For `monitor status`: digests claimed and not yet sent (pending), those of them whose
    sending already failed at least once (stuck), and those refused for good (failed)."""

    pending: int
    stuck: int
    failed: int


def digest_health(target: Connection | Engine) -> DigestHealth:
    with begin(target) as conn:
        rows = list(conn.execute(select(digests.c.status, digests.c.attempts, digests.c.last_error).where(digests.c.status != "sent")))
    pending = [r for r in rows if r.status == "pending"]
    return DigestHealth(
        pending=len(pending),
        stuck=sum(1 for r in pending if (r.attempts or 0) > 0 and r.last_error),
        failed=sum(1 for r in rows if r.status == "failed"),
    )


def begin_attempt(target: Connection | Engine, digest_id: int, now: datetime, lease_until: datetime, *, force: bool = False) -> bool:
    """Take the right to send a digest now: count the attempt and hold it until `lease_until`.

    A compare-and-set: False when another process holds the lease (an attempt in flight, or
    one that crashed, which is retried when the lease runs out) or the digest is done.
    `force` also takes a digest waiting out a backoff after a recorded failure.
    """
    ready = or_(digests.c.next_attempt_at.is_(None), digests.c.next_attempt_at <= utc(now))
    if force:
        ready = or_(ready, digests.c.last_error.is_not(None))
    with begin(target) as conn:
        result = conn.execute(
            update(digests)
            .where(digests.c.id == digest_id, digests.c.status == "pending", ready)
            .values(attempts=digests.c.attempts + 1, next_attempt_at=utc(lease_until), last_error=None)
        )
        return bool(result.rowcount)


def mark_sent(target: Connection | Engine, digest_id: int, now: datetime) -> None:
    """The server accepted the digest: it and every row it carries are sent."""
    with begin(target) as conn:
        conn.execute(update(digests).where(digests.c.id == digest_id).values(
            status="sent", sent_at=utc(now), next_attempt_at=None, last_error=None))
        conn.execute(update(outbox).where(outbox.c.digest_id == digest_id).values(sent=True))


def mark_failed(target: Connection | Engine, digest_id: int, error: str) -> None:
    """Refused for good: the digest stops; its rows stay unsent, on the record."""
    with begin(target) as conn:
        conn.execute(update(digests).where(digests.c.id == digest_id).values(
            status="failed", last_error=error[:2000], next_attempt_at=None))


def mark_retry(target: Connection | Engine, digest_id: int, error: str, next_attempt_at: datetime) -> None:
    """A transient failure: the digest stays pending until `next_attempt_at`."""
    with begin(target) as conn:
        conn.execute(update(digests).where(digests.c.id == digest_id).values(
            last_error=error[:2000] or "failed", next_attempt_at=utc(next_attempt_at)))


def digest_items(target: Connection | Engine, digest_id: int) -> tuple[list[int], list[int]]:
    """The development ids and coverage entry ids a digest carries."""
    with begin(target) as conn:
        query = select(outbox.c.development_id, outbox.c.entry_id).where(
            outbox.c.digest_id == digest_id).order_by(outbox.c.id)
        return split_items(conn.execute(query))


def digest_status(target: Connection | Engine, email: str) -> list[DigestRow]:
    with begin(target) as conn:
        query = select(digests).where(digests.c.subscriber == subscriber_key(email)).order_by(digests.c.id)
        return [_digest_row(r) for r in conn.execute(query)]
