"""`monitor db upgrade|current|history`: the database schema (Alembic migrations)."""

from __future__ import annotations

import click

from monitor.cli._common import State, reports_errors
from monitor.logs import redact_url
from monitor.store.db import current_revision, head_revision, history, open_engine, upgrade


@click.group("db")
def db_group() -> None:
    """The database schema: upgrade it, show its revision and the migrations.

    The daemon and every command upgrade the database on start; `db upgrade` does it alone
    (before a deployment, or after restoring an old backup).
    """


@db_group.command("upgrade")
@click.pass_obj
@reports_errors
def db_upgrade(state: State) -> None:
    """Apply every migration not yet applied (safe to repeat)."""
    url = state.config.settings.database_url
    engine = open_engine(url)
    try:
        before = current_revision(engine)
        upgrade(engine)
        after = current_revision(engine)
    finally:
        engine.dispose()
    where = redact_url(url)
    if before == after:
        click.echo(f"{where}: already at {after} (head)")
    else:
        click.echo(f"{where}: upgraded from {before or 'an empty database'} to {after} (head)")


@db_group.command("current")
@click.pass_obj
@reports_errors
def db_current(state: State) -> None:
    """Show the database's revision and whether it is the latest."""
    url = state.config.settings.database_url
    engine = open_engine(url)
    try:
        revision = current_revision(engine)
    finally:
        engine.dispose()
    head = head_revision()
    state_ = "head" if revision == head else f"behind head {head}: run 'monitor db upgrade'"
    click.echo(f"{redact_url(url)}: {revision or 'no schema yet'} ({state_})")


@db_group.command("history")
def db_history() -> None:
    """List the migrations, oldest first."""
    for revision, down, message in history():
        click.echo(f"{down or '<base>'} -> {revision}: {message}")
