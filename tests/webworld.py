"""A web app over a store that has judged a labeled stream: what the page and feedback tests stand on."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import Engine

from monitor.cli import cli
from monitor.config import Config, ensure_secret, load_config
from monitor.model import Subscriber
from monitor.store.db import open_engine
from monitor.web import RunningServer, WebContext, make_app, serve_in_thread

ROOT = Path(__file__).resolve().parent.parent
STREAM = ROOT / "tests" / "data" / "stream"
CASE = "kem-sokha-treason"
NOW = datetime(2025, 9, 1, 9, tzinfo=UTC)


def scanned_world(tmp_path: Path, *, public_url_is_server: bool = False) -> Iterator[tuple[Engine, Config, RunningServer]]:
    """The stream scanned into a SQLite file, two immediate subscribers of CASE, the app served
    on 127.0.0.1 (with `public_url_is_server`, the links the app writes point back at it)."""
    db = tmp_path / "state.db"
    result = CliRunner().invoke(cli, ["--config", str(ROOT / "config"), "--baseline", str(ROOT / "baseline"),
                                      "scan", str(STREAM), "--state", f"sqlite:///{db}"])
    assert result.exit_code == 0, result.output
    config = load_config(ROOT / "config", ROOT / "baseline")
    config = dataclasses.replace(config, subscribers=(
        Subscriber("first@example.org", cases=(CASE,), frequency="immediate"),
        Subscriber("second@example.org", cases=(CASE,), frequency="immediate")))
    engine = open_engine(f"sqlite:///{db}")
    secret = ensure_secret(config.settings).encode()
    holder: dict[str, Config] = {"c": config}
    server = serve_in_thread(make_app(WebContext(engine, secret, clock=lambda: NOW, config_of=lambda: holder["c"])))
    if public_url_is_server:
        holder["c"] = dataclasses.replace(config, settings=dataclasses.replace(config.settings, public_url=server.url))
    yield engine, holder["c"], server
    server.stop()
    engine.dispose()
