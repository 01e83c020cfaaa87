"""Commands that deliver digests: digest preview/send, subscribers add/remove/list."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from monitor.config import Config


def _engine(config: Config) -> Engine:
    from monitor.store.db import open_engine, upgrade

    engine = open_engine(config.settings.database_url)
    upgrade(engine)
    return engine


def _subscriber(config: Config, email: str):  # type: ignore[no-untyped-def]
    from monitor.errors import MonitorError

    wanted = email.strip().casefold()
    for subscriber in config.subscribers:
        if subscriber.email.casefold() == wanted:
            return subscriber
    raise MonitorError(f"no subscriber '{email}' in {config.config_dir / 'subscribers.yaml'}",
                       hint="see 'monitor subscribers list'")


def register(cli: click.Group) -> None:
    """Add this module's commands to the `monitor` group."""
    from monitor.cli import State, reports_errors

    @cli.group("digest")
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
        from monitor import delivery

        config = state.config
        subscriber = _subscriber(config, email)
        engine = _engine(config)
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
        from monitor import delivery
        from monitor.deliver import OutboxFolderSender, make_sender

        config = state.config
        settings = config.settings
        sender = make_sender(settings.smtp_url, settings.outbox_dir, settings.smtp_password)
        engine = _engine(config)
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

    @cli.group("subscribers")
    def subscribers_group() -> None:
        """List, add and remove subscribers (config/subscribers.yaml)."""

    @subscribers_group.command("list")
    @click.pass_obj
    @reports_errors
    def subscribers_list(state: State) -> None:
        """Show the subscribers of the config and the suppression list (which wins)."""
        from monitor.store import outbox

        config = state.config
        engine = _engine(config)
        try:
            suppressed = {s.email: s for s in outbox.list_suppressions(engine)}
        finally:
            engine.dispose()
        if not config.subscribers:
            click.echo("No subscribers in the config.")
        for s in config.subscribers:
            follows = ", ".join(s.cases) or ", ".join(f"watchlist {w}" for w in s.watchlists) or "all cases"
            line = f"{s.email}" + (f" ({s.name})" if s.name else "")
            line += f"  {s.frequency}"
            if s.frequency != "immediate":
                line += f" at {s.at} {s.timezone}"
            line += f"; follows {follows}" + ("; with coverage" if s.coverage else "")
            stop = suppressed.get(outbox.subscriber_key(s.email))
            if stop:
                line += f"  [SUPPRESSED: {stop.reason}]"
            click.echo(line)
        click.echo()
        if not suppressed:
            click.echo("Suppression list: empty.")
            return
        click.echo("Suppression list (no mail is sent to these, whatever the config says):")
        for stop in suppressed.values():
            detail = f" ({stop.detail})" if stop.detail else ""
            click.echo(f"{stop.email}  {stop.reason}  {stop.created_at:%Y-%m-%d %H:%M} UTC{detail}")

    @subscribers_group.command("add")
    @click.argument("email")
    @click.option("--name", default="", help="Display name.")
    @click.option("--watchlist", "watchlists", multiple=True, help="Watchlist to follow (repeat; default all).")
    @click.option("--case", "cases", multiple=True, help="Case id to follow (repeat; default all of the watchlists).")
    @click.option("--frequency", type=click.Choice(["immediate", "daily", "weekly"]), default="daily", show_default=True)
    @click.option("--at", "at", default="07:00", show_default=True, help="Local time of the digest, HH:MM.")
    @click.option("--timezone", default="UTC", show_default=True, help="IANA time zone, e.g. Asia/Phnom_Penh.")
    @click.option("--coverage/--no-coverage", default=False, help="Also list known/mention entries.")
    @click.pass_obj
    @reports_errors
    def subscribers_add(state: State, email: str, name: str, watchlists: tuple[str, ...], cases: tuple[str, ...],
                        frequency: str, at: str, timezone: str, coverage: bool) -> None:
        """Add EMAIL to config/subscribers.yaml (comments and order kept)."""
        from monitor.config import add_subscriber
        from monitor.errors import MonitorError
        from monitor.model import Subscriber
        from monitor.store import outbox

        config = state.config
        known_lists = {w.name for w in config.watchlists}
        for name_ in watchlists:
            if name_ not in known_lists:
                raise MonitorError(f"unknown watchlist '{name_}'", hint=f"watchlists: {', '.join(sorted(known_lists))}")
        for case_id in cases:
            if case_id not in config.cases:
                raise MonitorError(f"unknown case '{case_id}'", hint=f"cases: {', '.join(sorted(config.cases))}")
        subscriber = Subscriber(email=email.strip(), name=name, watchlists=watchlists, cases=cases,
                                frequency=frequency, at=at, timezone=timezone, coverage=coverage)
        add_subscriber(config.config_dir / "subscribers.yaml", subscriber)
        click.echo(f"added {subscriber.email} ({frequency})")
        engine = _engine(config)
        try:
            stop = {s.email: s for s in outbox.list_suppressions(engine)}.get(outbox.subscriber_key(email))
        finally:
            engine.dispose()
        if stop:
            click.echo(f"monitor: warning: {email} is on the suppression list ({stop.reason}, "
                       f"{stop.created_at:%Y-%m-%d}); no mail is sent to them", err=True)

    @subscribers_group.command("remove")
    @click.argument("email")
    @click.pass_obj
    @reports_errors
    def subscribers_remove(state: State, email: str) -> None:
        """Remove EMAIL from config/subscribers.yaml; drops their unsent promises."""
        from monitor.config import remove_subscriber
        from monitor.store import outbox

        config = state.config
        removed = remove_subscriber(config.config_dir / "subscribers.yaml", email)
        engine = _engine(config)
        try:
            dropped = outbox.forget_subscriber(engine, removed.email)
        finally:
            engine.dispose()
        click.echo(f"removed {removed.email}" + (f"; {dropped} unsent item(s) dropped" if dropped else ""))
