"""What every store module needs: UTC datetimes back from SQL, transactions, insert-or-ignore, chunked IN lists."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from monitor.model import utc

T = TypeVar("T")
CHUNK = 500  # keys per IN (...) list: well under SQLite's 32766 bound parameters


def subscriber_key(email: str) -> str:
    """The form an email takes in our tables: trimmed, lower-cased."""
    return email.strip().lower()


__all__ = ["utc"]  # re-exported: store modules take it from here


def maybe_utc(moment: datetime | None) -> datetime | None:
    return utc(moment)


class begin:  # noqa: N801  (used as `with begin(x) as conn`)
    """`with begin(x) as conn`: a transaction of our own on an Engine, or the caller's."""

    def __init__(self, target: Connection | Engine) -> None:
        self._target = target
        self._context: Any = None

    def __enter__(self) -> Connection:
        if isinstance(self._target, Engine):
            self._context = self._target.begin()
            return self._context.__enter__()
        return self._target

    def __exit__(self, *exc: object) -> None:
        if self._context is not None:
            self._context.__exit__(*exc)


def xact_lock(conn: Connection, name: str) -> None:
    """Hold PostgreSQL's advisory lock `name` until this transaction ends, waiting for it:
    what serialises daemons sharing one database (start-up, the baseline, the feeds table,
    judging). SQLite has one daemon and serialises writers itself: a no-op there."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": f"monitor:{name}"})


def insert_ignoring(conn: Connection, table: Any) -> Insert:
    """INSERT that skips rows violating a UNIQUE constraint, in this dialect's words."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    return table.insert().prefix_with("IGNORE")  # MySQL/MariaDB spelling


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterable[Sequence[T]]:
    """Slices small enough for one IN (...) list."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def split_items(rows: Iterable[Any]) -> tuple[list[int], list[int]]:
    development_ids, entry_ids = [], []
    for development_id, entry_id in rows:
        if development_id is not None:
            development_ids.append(int(development_id))
        elif entry_id is not None:
            entry_ids.append(int(entry_id))
    return development_ids, entry_ids
