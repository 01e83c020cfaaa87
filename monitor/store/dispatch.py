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

from sqlalchemy import Engine, func, or_, select, update

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


@dataclass(frozen=True)
class DigestCandidates:
    """Subscriber keys that may have a digest to claim or send now; delivery decides."""

    open_due: frozenset[str]  # a digest claimed, not yet sent, its next attempt come
    schedule_due: frozenset[str]  # a daily or weekly time come
    scheduled: frozenset[str]  # have a schedule row at all
    quiet: frozenset[str]  # promises waiting, the last one older than the quiet period

    def wants(self, key: str, frequency: str) -> bool:
        if key in self.open_due:
            return True
        if frequency == "immediate":
            return key in self.quiet
        return key in self.schedule_due or key not in self.scheduled  # first sight sets the time


def digest_candidates(engine: Engine, now: datetime, quiet: timedelta) -> DigestCandidates:
    """Who may have a digest due at `now`, in four small queries whatever the number of
    subscribers: so the dispatcher queues a digest job only for them."""
    now = utc(now)
    with engine.connect() as conn:
        open_due = conn.execute(
            select(digests.c.subscriber).where(digests.c.status == "pending")
            .where(or_(digests.c.next_attempt_at.is_(None), digests.c.next_attempt_at <= now)).distinct()
        ).scalars().all()
        schedule = conn.execute(select(subscriber_schedule.c.subscriber, subscriber_schedule.c.next_digest_at)).all()
        waiting = conn.execute(
            select(outbox.c.subscriber, func.min(outbox.c.promised_at), func.max(outbox.c.promised_at))
            .where(outbox.c.sent.is_(False), outbox.c.digest_id.is_(None), outbox.c.development_id.is_not(None))
            .group_by(outbox.c.subscriber)
        ).all()
    quiet_ones = {
        key for key, first, last in waiting
        if now - (utc(last) or now) >= quiet or now - (utc(first) or now) >= 5 * quiet
    }
    return DigestCandidates(
        open_due=frozenset(open_due),
        schedule_due=frozenset(key for key, at in schedule if at is not None and (utc(at) or now) <= now),
        scheduled=frozenset(key for key, _at in schedule),
        quiet=frozenset(quiet_ones),
    )
