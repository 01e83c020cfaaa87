"""`monitor config check`: validate config/ and baseline/."""

from __future__ import annotations

import click

from monitor.cli._common import State, reports_errors
from monitor.config import language_warnings
from monitor.judge.lexicon import install as install_languages
from monitor.judge.lexicon import language_packs


@click.group("config")
def config_group() -> None:
    """Inspect and validate the configuration."""


@config_group.command("check")
@click.pass_obj
@reports_errors
def config_check(state: State) -> None:
    """Validate config/ and baseline/; list every problem with file, line and reason.

    Warnings (a feed in a language the judgement has no words for) refuse nothing.
    """
    config = state.config
    install_languages(config.language_dirs)  # the user's packs, validated with file and line
    for warning in language_warnings(config.config_dir, config.feeds, language_packs()):
        click.echo(str(warning), err=True)
    events = sum(len(c.events) for c in config.cases.values())
    watched = sum(1 for s in config.subjects if s.is_watched)
    click.echo(
        f"ok: {len(config.watchlists)} watchlist(s), {watched} subjects ({len(config.subjects) - watched} others), "
        f"{len(config.cases)} cases, {events} baseline events, {len(config.feeds)} feeds, "
        f"{len(config.subscribers)} subscribers"
    )
