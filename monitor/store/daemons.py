"""The daemons of one database: a row each, beaten every few seconds, for `monitor status`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, select, text, update

from monitor.store.shared import insert_ignoring, utc
from monitor.store.tables import daemons


@dataclass(frozen=True)
class DaemonRow:
    id: str
    host: str
    pid: int
    driver: str
    started_at: datetime
    beat_at: datetime
    polls: int
    digests: int


def register(engine: Engine, daemon_id: str, host: str, pid: int, driver: str, now: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(insert_ignoring(conn, daemons).values(
            id=daemon_id, host=host, pid=pid, driver=driver, started_at=utc(now), beat_at=utc(now), polls=0, digests=0))


def beat(engine: Engine, daemon_id: str, now: datetime, *, polls: int, digests: int) -> None:
    """This daemon is alive at `now`, with its totals since start."""
    with engine.begin() as conn:
        conn.execute(update(daemons).where(daemons.c.id == daemon_id).values(beat_at=utc(now), polls=polls, digests=digests))


def unregister(engine: Engine, daemon_id: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(daemons).where(daemons.c.id == daemon_id))


def forget_silent(engine: Engine, before: datetime) -> int:
    """Drop the rows of daemons silent since `before` (killed ones never unregister)."""
    with engine.begin() as conn:
        return conn.execute(delete(daemons).where(daemons.c.beat_at < utc(before))).rowcount or 0


def listed(engine: Engine) -> list[DaemonRow]:
    with engine.connect() as conn:
        rows = conn.execute(select(daemons).order_by(daemons.c.started_at)).all()
    return [DaemonRow(r.id, r.host, r.pid, r.driver, utc(r.started_at), utc(r.beat_at), int(r.polls), int(r.digests))
            for r in rows]


@dataclass(frozen=True)
class QueueHealth:
    """The shared job queue (Procrastinate's table), when there is one."""

    queued: int  # waiting to run
    in_flight: int  # running
    stalled: int  # running on a daemon silent for `stalled_after`
    failed: int


def queue_health(engine: Engine, stalled_after: timedelta) -> QueueHealth | None:
    """Counts from the job queue, or None on a database without one (SQLite, embedded)."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        if conn.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar() is None:
            return None
        counts: dict[str, int] = dict(conn.execute(text(
            "SELECT status::text, count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing', 'failed') GROUP BY status"
        )).tuples().all())
        stalled = conn.execute(text(
            "SELECT count(*) FROM procrastinate_jobs j LEFT JOIN procrastinate_workers w ON w.id = j.worker_id "
            "WHERE j.status = 'doing' AND (w.id IS NULL OR w.last_heartbeat < now() - make_interval(secs => :s))"
        ), {"s": stalled_after.total_seconds()}).scalar()
    return QueueHealth(int(counts.get("todo", 0)), int(counts.get("doing", 0)), int(stalled or 0), int(counts.get("failed", 0)))
