"""The schema: Alembic migrations produce exactly monitor.store.tables.metadata.

On an in-memory SQLite, a SQLite file, and (when 127.0.0.1:5432 answers) PostgreSQL in a
schema of its own that is dropped afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from monitor.logs import redact_url
from monitor.model import Development, Entry, EventDate, Judgement, KnownEvent, Verdict
from monitor.store import judgements as store
from monitor.store.db import alembic_config, is_current, open_engine, upgrade
from monitor.store.tables import metadata

NOW = datetime(2023, 3, 4, 12, tzinfo=UTC)


@pytest.fixture(params=["sqlite-memory", "sqlite-file", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database (not migrated, unlike conftest's sqlite_engine and postgres_engine)."""
    urls = {"sqlite-memory": "sqlite://", "sqlite-file": f"sqlite:///{tmp_path / 'data' / 'monitor.db'}"}
    url = urls.get(request.param) or request.getfixturevalue("postgres_url")
    engine = open_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def differences(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        return list(compare_metadata(context, metadata))


def test_the_migration_produces_exactly_the_declared_schema(engine: Engine) -> None:
    upgrade(engine)
    assert differences(engine) == []
    tables = set(inspect(engine).get_table_names())
    assert tables == set(metadata.tables) | {"alembic_version"}


def test_upgrade_is_idempotent(engine: Engine) -> None:
    upgrade(engine)
    upgrade(engine)
    upgrade(engine)
    assert is_current(engine)
    assert differences(engine) == []
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head]


def test_a_fresh_database_is_not_current_until_upgraded(engine: Engine) -> None:
    assert not is_current(engine)
    upgrade(engine)
    assert is_current(engine)


def test_upgrade_keeps_data(engine: Engine) -> None:
    upgrade(engine)
    entry = Entry(id="k-1", source="s", title="Kem Sokha sentenced", link="https://x.example/1",
                  published=NOW, summary="s", content_hash="h")
    dev = Development("kem-sokha-treason", "conviction", EventDate(date(2023, 3, 3)), ("Kem Sokha",))
    event = KnownEvent("kem-sokha-treason", "conviction", EventDate(date(2023, 3, 3)), "Sentenced", ("Kem Sokha",),
                       entry_id="k-1")
    store.save_judgements(engine, [(Judgement(entry, Verdict.NEW, ("Kem Sokha",), ("kem-sokha-treason",), dev), event)], NOW)
    upgrade(engine)
    stored = store.stored_judgements(engine, [entry.key])
    assert stored[entry.key].verdict is Verdict.NEW
    assert stored[entry.key].development is not None and stored[entry.key].development.case == "kem-sokha-treason"
    (known,) = store.load_known_events(engine)
    assert known.entry_id == "k-1" and known.date == EventDate(date(2023, 3, 3))


def test_the_sqlite_file_and_its_folder_are_created(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "monitor.db"
    engine = open_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
        assert path.is_file()
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    finally:
        engine.dispose()


def test_a_password_is_redacted_from_database_urls() -> None:
    assert redact_url("postgresql://monitor:s3cret@db:5432/monitor") == "postgresql://monitor:***@db:5432/monitor"
    assert "s3cret" not in redact_url("postgresql+psycopg://u:s3cret@h/db")
    assert redact_url("sqlite:///data/monitor.db") == "sqlite:///data/monitor.db"
