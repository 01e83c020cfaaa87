"""`monitor subscribers list|add|remove`: edit config/subscribers.yaml, show the suppression list."""

from __future__ import annotations

import click

from monitor.cli._common import State, open_database, reports_errors
from monitor.config import (
    add_subscriber,
    parse_email,
    parse_language_tag,
    parse_time_of_day,
    parse_timezone,
    remove_subscriber,
)
from monitor.errors import MonitorError
from monitor.model import Subscriber
from monitor.store import outbox, shared, suppressions


@click.group("subscribers")
def subscribers_group() -> None:
    """List, add and remove subscribers (config/subscribers.yaml); lift a suppression."""


def _checked(parse):
    """A click callback: the config's own parser, its ValueError a bad argument (exit 2)."""

    def callback(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
        if value is None:  # an option left out: its default
            return None
        try:
            return str(parse(value))
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None

    return callback


@subscribers_group.command("list")
@click.pass_obj
@reports_errors
def subscribers_list(state: State) -> None:
    """Show the subscribers of the config and the suppression list (which wins)."""
    config = state.config
    engine = open_database(config)
    try:
        suppressed = {s.email: s for s in suppressions.list_suppressions(engine)}
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
        line += f"; headlines in {s.language}" if s.language else ""
        stop = suppressed.get(shared.subscriber_key(s.email))
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
@click.argument("email", callback=_checked(parse_email))
@click.option("--name", default="", help="Display name.")
@click.option("--watchlist", "watchlists", multiple=True, help="Watchlist to follow (repeat; default all).")
@click.option("--case", "cases", multiple=True, help="Case id to follow (repeat; default all of the watchlists).")
@click.option("--frequency", type=click.Choice(["immediate", "daily", "weekly"]), default="daily", show_default=True)
@click.option("--at", "at", default="07:00", show_default=True, callback=_checked(parse_time_of_day), help="Local time of the digest, HH:MM.")
@click.option("--timezone", default="UTC", show_default=True, callback=_checked(parse_timezone), help="IANA time zone, e.g. Asia/Phnom_Penh.")
@click.option("--coverage/--no-coverage", default=False, help="Also list known/mention entries.")
@click.option("--language", default=None, callback=_checked(parse_language_tag),
              help="Preferred language of headlines, e.g. en or km (default: the first report's).")
@click.pass_obj
@reports_errors
def subscribers_add(state: State, email: str, name: str, watchlists: tuple[str, ...], cases: tuple[str, ...],
                    frequency: str, at: str, timezone: str, coverage: bool, language: str | None) -> None:
    """Add EMAIL to config/subscribers.yaml (comments and order kept)."""
    config = state.config
    known_lists = {w.name for w in config.watchlists}
    for name_ in watchlists:
        if name_ not in known_lists:
            raise click.BadParameter(f"unknown watchlist '{name_}' (watchlists: {', '.join(sorted(known_lists))})",
                                     param_hint="'--watchlist'")
    for case_id in cases:
        if case_id not in config.cases:
            raise click.BadParameter(f"unknown case '{case_id}' (cases: {', '.join(sorted(config.cases))})",
                                     param_hint="'--case'")
    subscriber = Subscriber(email=email.strip(), name=name, watchlists=watchlists, cases=cases,
                            frequency=frequency, at=at, timezone=timezone, coverage=coverage, language=language)
    add_subscriber(config.config_dir / "subscribers.yaml", subscriber)
    click.echo(f"added {subscriber.email} ({frequency})")
    engine = open_database(config)
    try:
        stop = {s.email: s for s in suppressions.list_suppressions(engine)}.get(shared.subscriber_key(email))
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
    config = state.config
    removed = remove_subscriber(config.config_dir / "subscribers.yaml", email)
    engine = open_database(config)
    try:
        dropped = outbox.forget_subscriber(engine, removed.email)
    finally:
        engine.dispose()
    click.echo(f"removed {removed.email}" + (f"; {dropped} unsent item(s) dropped" if dropped else ""))


@subscribers_group.command("unsuppress")
@click.argument("email")
@click.pass_obj
@reports_errors
def subscribers_unsuppress(state: State, email: str) -> None:
    """Take EMAIL off the suppression list (after an unsubscribe or a bounce), so mail
    reaches them again if config/subscribers.yaml lists them."""
    config = state.config
    engine = open_database(config)
    try:
        lifted = suppressions.unsuppress(engine, email)
    finally:
        engine.dispose()
    if not lifted:
        raise MonitorError(f"'{email}' is not on the suppression list", hint="see 'monitor subscribers list'")
    listed = any(shared.subscriber_key(s.email) == shared.subscriber_key(email) for s in config.subscribers)
    click.echo(f"unsuppressed {email}" + ("" if listed else "; not in subscribers.yaml: add them with "
                                          "'monitor subscribers add'"))
