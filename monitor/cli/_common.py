"""What every command shares: the global options' state, clean errors, the user agent, a database."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from functools import wraps
from importlib.metadata import version
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy import Engine

from monitor import fetch
from monitor.config import Config, load_config
from monitor.errors import ConfigError, MonitorError
from monitor.model import Subscriber
from monitor.store.db import open_engine, upgrade

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


def url_reader(config: Config) -> Callable[[str], tuple[bytes, dict[str, str]]]:
    """Fetch one URL with the same fetch stage the daemon uses."""
    settings = config.settings

    def read(url: str) -> tuple[bytes, dict[str, str]]:
        async def once() -> fetch.FetchResult:
            async with fetch.make_client(user_agent(config), proxy=settings.proxy) as client:
                return await fetch.fetch_feed(client, fetch.FetchRequest(feed=url, url=url), fetch.FetchLimits(max_bytes=settings.max_feed_bytes))

        result = asyncio.run(once())
        return result.body, dict(result.headers)

    return read


def user_agent(config: Config) -> str:
    """Names the project and, where settings give one, a contact URL (polite crawling)."""
    contact = config.settings.user_agent_contact
    return f"case-monitor/{version('case-monitor')}" + (f" (+{contact})" if contact else "")



def open_database(config: Config) -> Engine:
    engine = open_engine(config.settings.database_url)
    upgrade(engine)
    return engine


def find_subscriber(config: Config, email: str) -> Subscriber:
    wanted = email.strip().casefold()
    for subscriber in config.subscribers:
        if subscriber.email.casefold() == wanted:
            return subscriber
    raise MonitorError(f"no subscriber '{email}' in {config.config_dir / 'subscribers.yaml'}",
                       hint="see 'monitor subscribers list'")


