"""Alembic environment: migrations run against the connection the store hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from monitor.store.tables import metadata

config = context.config
connection = config.attributes.get("connection")


def _run(conn) -> None:
    context.configure(
        connection=conn,
        target_metadata=metadata,
        render_as_batch=conn.dialect.name == "sqlite",  # SQLite alters tables by copy
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    _run(connection)
else:
    url = config.get_main_option("sqlalchemy.url")
    assert url, "alembic needs sqlalchemy.url or a connection"
    engine = create_engine(url)
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()
