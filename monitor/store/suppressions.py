"""Suppressions: unsubscribes and bounces, which win over config."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, delete, select

from monitor.store.shared import begin, insert_ignoring, subscriber_key, utc
from monitor.store.tables import (
    suppressions,
)


@dataclass(frozen=True)
class Suppression:
    email: str
    reason: str  # unsubscribe | bounce | manual
    detail: str
    created_at: datetime


def suppress(target: Connection | Engine, email: str, reason: str, detail: str, now: datetime) -> bool:
    """Put `email` on the suppression list; False if it was there already (first reason kept)."""
    with begin(target) as conn:
        result = conn.execute(
            insert_ignoring(conn, suppressions).values(
                email=subscriber_key(email), reason=reason, detail=detail[:2000], created_at=utc(now)
            ).returning(suppressions.c.email)
        )
        return result.first() is not None


def unsuppress(target: Connection | Engine, email: str) -> bool:
    """Take `email` off the suppression list; False if it was not on it."""
    with begin(target) as conn:
        result = conn.execute(delete(suppressions).where(suppressions.c.email == subscriber_key(email)))
        return bool(result.rowcount)


def suppressed_emails(target: Connection | Engine) -> set[str]:
    with begin(target) as conn:
        return set(conn.execute(select(suppressions.c.email)).scalars())


def list_suppressions(target: Connection | Engine) -> list[Suppression]:
    with begin(target) as conn:
        rows = conn.execute(select(suppressions).order_by(suppressions.c.created_at, suppressions.c.email))
        return [
            Suppression(r.email, r.reason, r.detail or "", utc(r.created_at)) for r in rows
        ]
