"""What the shared workers' dispatcher reads from our tables: which feeds are due (claimed
with a lease, FOR UPDATE SKIP LOCKED, so two dispatchers never take one feed) and which
subscribers may have a digest to send.

Our tables stay the schedule of record (feeds.next_poll_at, subscriber_schedule, the
outbox); the job queue only carries "poll this feed for this due time" and "send this
subscriber's digest".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, or_, select, update

from monitor.store.shared import utc
from monitor.store.tables import digests, feeds, outbox, subscriber_schedule


@dataclass(frozen=True)
class DueFeed:
    name: str
    due: datetime  # the next_poll_at it was claimed for: a job runs for (feed, due) once


def claim_due_feeds(engine: Engine, now: datetime, lease: timedelta, limit: int = 500) -> list[DueFeed]:
    """Lease up to `limit` due, enabled feeds not leased by anyone: soonest first.

    The lease keeps every other dispatcher off the feed while its job is queued or running;
    the poll ends it (`release`), and a lease that runs out (a daemon died) makes the feed
    claimable again. Rows another dispatcher is claiming at this instant are skipped, not
    waited for.
    """
    now = utc(now)
    query = (
        select(feeds.c.id, feeds.c.name, feeds.c.next_poll_at)
        .where(feeds.c.disabled_reason.is_(None))
        .where(or_(feeds.c.next_poll_at.is_(None), feeds.c.next_poll_at <= now))
        .where(or_(feeds.c.lease_until.is_(None), feeds.c.lease_until <= now))
        .order_by(feeds.c.next_poll_at, feeds.c.id)
        .limit(limit)
    )
    if engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=feeds)
    with engine.begin() as conn:
        rows = conn.execute(query).all()
        if not rows:
            return []
        conn.execute(update(feeds).where(feeds.c.id.in_([r.id for r in rows])).values(lease_until=now + lease))
    return [DueFeed(r.name, utc(r.next_poll_at) or now) for r in rows]


def release(engine: Engine, name: str) -> None:
    """The feed's job is over (polled, skipped or abandoned): the next due time is claimable."""
    with engine.begin() as conn:
        conn.execute(update(feeds).where(feeds.c.name == name).values(lease_until=None))


def still_due(engine: Engine, name: str, due: datetime) -> bool:
    """False when (feed, due) was polled already: its next_poll_at moved past `due`, or the
    feed went away or was disabled. A job run twice (retried after a kill) polls once."""
    with engine.connect() as conn:
        row = conn.execute(select(feeds.c.next_poll_at, feeds.c.disabled_reason).where(feeds.c.name == name)).first()
    if row is None or row.disabled_reason:
        return False
    next_poll = utc(row.next_poll_at)
    return next_poll is None or next_poll <= utc(due)


def digest_candidates(engine: Engine, now: datetime) -> set[str]:
    """Subscriber keys that may have a digest to claim or send at `now`: promises not yet in
    a digest, digests claimed and not sent, or a daily/weekly time come. delivery decides."""
    now = utc(now)
    with engine.connect() as conn:
        pending = conn.execute(
            select(outbox.c.subscriber).where(outbox.c.sent.is_(False), outbox.c.digest_id.is_(None)).distinct()
        ).scalars()
        open_ = conn.execute(select(digests.c.subscriber).where(digests.c.status == "pending").distinct()).scalars()
        due = conn.execute(
            select(subscriber_schedule.c.subscriber).where(subscriber_schedule.c.next_digest_at <= now)
        ).scalars()
        return set(pending) | set(open_) | set(due)


def scheduled(engine: Engine) -> set[str]:
    """Subscriber keys with a schedule row (a daily/weekly subscriber without one is new)."""
    with engine.connect() as conn:
        return set(conn.execute(select(subscriber_schedule.c.subscriber)).scalars())
