"""The `monitor` command line: global options, then one subcommand per job.

Every command validates config/ and baseline/ first and refuses a bad config with every
problem listed. A MonitorError becomes one clean message, its hint, and exit code 1 (2
for a refused config); a traceback only with -v.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from monitor.config import Config, load_config
from monitor.errors import ConfigError, MonitorError

F = TypeVar("F", bound=Callable[..., Any])


class State:
    """What the global options say, and the config they load (once, on first use)."""

    def __init__(self, config_dir: Path, baseline_dir: Path, verbose: int) -> None:
        self.config_dir = config_dir
        self.baseline_dir = baseline_dir
        self.verbose = verbose
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_dir, self.baseline_dir)
        return self._config


def reports_errors(func: F) -> F:
    """Turn a MonitorError into a clean message and exit code (traceback only with -v)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except MonitorError as exc:
            state = click.get_current_context().find_object(State)
            if state is not None and state.verbose:
                raise
            click.echo(f"monitor: error: {exc}", err=True)
            if exc.hint:
                click.echo(f"monitor: hint: {exc.hint}", err=True)
            sys.exit(2 if isinstance(exc, ConfigError) else 1)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_dir", type=click.Path(path_type=Path), default=Path("config"), show_default=True, help="Folder with settings.yaml, feeds.yaml, subscribers.yaml and watchlists/.")
@click.option("--baseline", "baseline_dir", type=click.Path(path_type=Path), default=Path("baseline"), show_default=True, help="Folder with the known state: sources.yaml and cases/*.yaml.")
@click.option("-v", "--verbose", count=True, help="More logging; tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, config_dir: Path, baseline_dir: Path, verbose: int) -> None:
    """Watch news feeds for new developments in the cases you follow."""
    logging.basicConfig(
        level=logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    ctx.obj = State(config_dir, baseline_dir, verbose)


@cli.group("config")
def config_group() -> None:
    """Inspect and validate the configuration."""


@config_group.command("check")
@click.pass_obj
@reports_errors
def config_check(state: State) -> None:
    """Validate config/ and baseline/; list every problem with file, line and reason."""
    config = state.config
    events = sum(len(c.events) for c in config.cases.values())
    watched = sum(1 for s in config.subjects if s.is_watched)
    click.echo(
        f"ok: {len(config.watchlists)} watchlist(s), {watched} subjects ({len(config.subjects) - watched} others), "
        f"{len(config.cases)} cases, {events} baseline events, {len(config.feeds)} feeds, "
        f"{len(config.subscribers)} subscribers"
    )


@cli.command("scan")
@click.argument("sources", nargs=-1, required=True)
@click.option("--state", "state_url", default=None, help="Database URL to judge against and record into (default: a fresh in-memory one seeded from the baseline).")
@click.pass_obj
@reports_errors
def scan_command(state: State, sources: tuple[str, ...], state_url: str | None) -> None:
    """Judge the entries of feed FILES, folders of them, or URLs; print one JSON line each.

    Sends nothing. Lines come oldest publication first; see DESIGN.md for the fields.
    """
    from monitor import scan
    from monitor.judge import load_judge
    from monitor.store.db import open_engine, upgrade
    from monitor.store.judgements import seed_baseline

    config = state.config
    engine = open_engine(state_url or "sqlite://")
    try:
        upgrade(engine)
        seed_baseline(engine, config.cases)
        report = scan.ScanReport()
        now = datetime.now(UTC)

        def warn(message: str) -> None:
            click.echo(f"monitor: {message}", err=True)

        entries = scan.read_entries(sources, _url_reader(config), report, warn)
        ordered = scan.publication_order(scan.unique_entries(entries))
        judge = load_judge(engine, config.subjects, dict(config.cases))
        results = scan.judge_entries(engine, judge, ordered, now)
        scan.write_results(results, sys.stdout, report)
        sys.stdout.flush()
    finally:
        engine.dispose()
    counts = ", ".join(f"{k} {v}" for k, v in sorted(report.verdicts.items())) or "no entries"
    click.echo(f"monitor: scanned {report.entries} entries ({counts}); {len(report.failures)} source(s) failed", err=True)
    if report.failures:
        sys.exit(1)


def _url_reader(config: Config) -> Callable[[str], tuple[bytes, dict[str, str]]]:
    """Fetch one URL with the same fetch stage the daemon uses."""
    import asyncio

    from monitor import fetch

    settings = config.settings

    def read(url: str) -> tuple[bytes, dict[str, str]]:
        async def once() -> fetch.FetchResult:
            async with fetch.make_client(user_agent(config)) as client:
                return await fetch.fetch_feed(client, fetch.FetchRequest(feed=url, url=url), fetch.FetchLimits(max_bytes=settings.max_feed_bytes))

        result = asyncio.run(once())
        return result.body, dict(result.headers)

    return read


def user_agent(config: Config) -> str:
    """Names the project and, where settings give one, a contact URL (polite crawling)."""
    from importlib.metadata import version

    contact = config.settings.user_agent_contact
    return f"case-monitor/{version('case-monitor')}" + (f" (+{contact})" if contact else "")


def main() -> None:
    cli(prog_name="monitor")


def _register_commands() -> None:
    """The daemon's and delivery's commands live beside the stages they drive."""
    from monitor import cli_daemon, cli_delivery

    cli_daemon.register(cli)
    cli_delivery.register(cli)


_register_commands()


if __name__ == "__main__":
    main()
