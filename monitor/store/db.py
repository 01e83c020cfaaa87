"""Open the database and bring its schema to the latest migration.

SQLite is the embedded default (WAL, foreign keys on, a busy timeout so the daemon and a
one-shot command can share the file); PostgreSQL by URL. `sqlite://` with no path is an
in-memory database held on one connection, for `monitor scan` without `--state`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import StaticPool

from monitor.errors import StoreError
from monitor.logs import redact_url
from monitor.store.shared import xact_lock

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def open_engine(url: str) -> Engine:
    """An engine for `url`; SQLite files get their folder created and safe pragmas."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"timeout": 30})
        else:
            engine = create_engine(
                "sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool
            )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise StoreError(f"cannot open database {redact_url(url)}: {exc}", hint="check MONITOR_DATABASE_URL") from exc


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def alembic_config() -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine) -> None:
    """Apply every migration not yet applied (idempotent; safe at each start).

    On PostgreSQL the migrations run under an advisory lock: daemons started together
    migrate one at a time, and the second finds the schema current."""
    config = alembic_config()
    try:
        with engine.begin() as connection:
            xact_lock(connection, "schema")
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except SQLAlchemyError as exc:
        raise StoreError(
            f"cannot migrate database {redact_url(str(engine.url))}: {exc}",
            hint="check that the database URL is this monitor's database; 'monitor db current' shows its revision",
        ) from exc


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for a database never migrated."""
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read database {redact_url(str(engine.url))}: {exc}", hint="check MONITOR_DATABASE_URL") from exc


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def history() -> list[tuple[str, str | None, str]]:
    """Every migration, oldest first: (revision, the one it follows, its message)."""
    scripts = ScriptDirectory.from_config(alembic_config())
    return [(s.revision, s.down_revision if isinstance(s.down_revision, str) or s.down_revision is None
             else ",".join(s.down_revision), s.doc or "") for s in reversed(list(scripts.walk_revisions()))]


def is_current(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()



def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL; None for PostgreSQL or an in-memory database."""
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[1] if "///" in url else ""
    return Path(path) if path and path != ":memory:" else None


def hold_daemon_lock(engine: Engine, *, shared: bool) -> Callable[[], None]:
    """Make sure this daemon may run on this database; returns what releases it.

    SQLite runs one daemon: a second `monitor run` on the same file is refused (an
    exclusive lock on `<file>.run.lock`, released by the kernel when the process dies,
    even killed). On PostgreSQL, daemons with `workers: shared` hold a shared advisory
    lock and may be many; one with `workers: embedded` polls everything alone, so it
    needs the lock exclusive and is refused beside any other daemon (and they beside it).
    """
    path = sqlite_path(str(engine.url))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = path.with_name(path.name + ".run.lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise StoreError(
                f"another 'monitor run' (pid {holder}) is using {path}; SQLite runs one daemon",
                hint="stop the other one first; to run several daemons, use PostgreSQL with 'workers: shared'",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)

        def release_file() -> None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)

        return release_file
    if engine.dialect.name != "postgresql":
        return lambda: None
    conn = engine.connect()
    how = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
    got = conn.execute(text(f"SELECT {how}(hashtext('monitor:daemons'))")).scalar()
    conn.commit()  # the session keeps the lock; no transaction stays open
    if not got:
        conn.close()
        raise StoreError(
            f"another daemon runs on {redact_url(str(engine.url))} with "
            + ("workers: embedded, which polls every feed alone" if shared else "it")
            + "; an embedded daemon cannot share a database",
            hint="set 'workers: shared' (MONITOR_WORKERS=shared) for every daemon of one PostgreSQL database",
        )

    def release_session() -> None:
        with contextlib.suppress(SQLAlchemyError):
            conn.execute(text("SELECT pg_advisory_unlock_all()"))
            conn.commit()
        with contextlib.suppress(SQLAlchemyError):
            conn.close()

    return release_session
