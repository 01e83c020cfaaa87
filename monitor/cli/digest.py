"""`monitor digest preview|send`: a subscriber's next digest, and the digests that are due."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import click

from monitor import delivery
from monitor.cli._common import State, find_subscriber, open_database, reports_errors
from monitor.mail.transport import OutboxFolderSender, make_sender


@click.group("digest")
def digest_group() -> None:
    """Preview and send digests."""

@digest_group.command("preview")
@click.argument("email")
@click.option("--output", "-o", type=click.Path(path_type=Path), default=None,
              help="HTML file to write (default: <data_dir>/preview-<email>.html).")
@click.pass_obj
@reports_errors
def digest_preview(state: State, email: str, output: Path | None) -> None:
    """Write EMAIL's next digest as HTML to a file and print its text; sends nothing."""
    config = state.config
    subscriber = find_subscriber(config, email)
    engine = open_database(config)
    try:
        digest, message = delivery.preview(engine, config, subscriber, datetime.now(UTC))
    finally:
        engine.dispose()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", subscriber.email).strip("-")
    target = output or config.settings.data_dir / f"preview-{slug}.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    html = message.get_body(("html",))
    text = message.get_body(("plain",))
    assert html is not None and text is not None
    target.write_text(html.get_content(), encoding="utf-8")
    click.echo(f"Subject: {message['Subject']}")
    click.echo()
    click.echo(text.get_content().replace("\r\n", "\n"), nl=False)
    count = len(digest.developments)
    click.echo(f"monitor: {count} development(s), {len(digest.coverage)} coverage item(s); "
               f"HTML written to {target}", err=True)

@digest_group.command("send")
@click.option("--now", "force", is_flag=True, help="Send everything pending, whatever the schedule.")
@click.pass_obj
@reports_errors
def digest_send(state: State, force: bool) -> None:
    """Send the digests that are due (with --now, every pending one)."""
    config = state.config
    settings = config.settings
    sender = make_sender(settings.smtp, settings.outbox_dir)
    engine = open_database(config)
    try:
        report = delivery.send_due(engine, config, sender, datetime.now(UTC), force=force)
    finally:
        engine.dispose()
    for email, reason in report.failed:
        click.echo(f"monitor: {email}: failed: {reason}", err=True)
    for email, reason in report.retrying:
        click.echo(f"monitor: {email}: will retry: {reason}", err=True)
    where = f" to {settings.outbox_dir}" if isinstance(sender, OutboxFolderSender) else ""
    click.echo(f"digests: {report.summary()}{where}")
    if not report.ok:
        raise SystemExit(1)
