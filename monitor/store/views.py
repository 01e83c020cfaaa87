"""Read-only queries for the web pages, /healthz and /metrics (the store as people see it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select, text

from monitor.store.shared import begin, maybe_utc
from monitor.store.tables import digests, entries, feeds, outbox


def ping(target: Connection | Engine) -> None:
    """Raise when the database cannot be reached."""
    with begin(target) as conn:
        conn.execute(text("SELECT 1")).scalar()


def last_successful_poll(target: Connection | Engine) -> datetime | None:
    with begin(target) as conn:
        return maybe_utc(conn.execute(select(func.max(feeds.c.last_success_at))).scalar())


def counts(target: Connection | Engine) -> dict[str, Any]:
    """What /metrics reads from the tables at scrape time."""
    with begin(target) as conn:
        verdicts: dict[Any, Any] = dict(conn.execute(select(entries.c.verdict, func.count()).group_by(entries.c.verdict)).all())
        by_status: dict[Any, Any] = dict(conn.execute(select(digests.c.status, func.count()).group_by(digests.c.status)).all())
        unclaimed = conn.execute(select(func.count()).select_from(outbox).where(
            outbox.c.sent.is_(False), outbox.c.digest_id.is_(None))).scalar() or 0
        feed_errors = conn.execute(select(func.coalesce(func.sum(feeds.c.error_count), 0))).scalar() or 0
        failing = conn.execute(select(func.count()).select_from(feeds).where(feeds.c.error_count > 0)).scalar() or 0
        last = maybe_utc(conn.execute(select(func.max(feeds.c.last_success_at))).scalar())
    return {"verdicts": {str(k): int(v) for k, v in verdicts.items()},
            "digests": {str(k): int(v) for k, v in by_status.items()},
            "unclaimed": int(unclaimed), "feed_errors": int(feed_errors), "failing_feeds": int(failing),
            "last_success": last}
