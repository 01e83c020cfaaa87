"""Fixtures shared by the test modules.

Databases (each test gets its own, so tests never share a file, a schema or a port, also
under pytest-xdist):

    sqlite_url        a SQLite URL in the test's tmp_path (the file does not exist yet)
    sqlite_engine     an engine on that file, migrated (upgrade) and disposed afterwards
    postgres_url      a fresh schema on the PostgreSQL at 127.0.0.1:5432 (tests/scratch_postgres.py),
                      dropped afterwards; the test skips with the reason where none answers
    postgres_engine   an engine on that schema, migrated
    store             sqlite_engine, then postgres_engine: a test taking it runs on both

Servers on 127.0.0.1, ephemeral ports:

    feed_server       tests/feedserver.py: serves feeds and misbehaves on demand
    smtp_server       tests/smtpserver.py: records what it accepts, refuses and defers on demand
    free_port         a port on 127.0.0.1 that nothing listened on a moment ago

And `sample_digest`: the fixed sample digest of monitor/digest/sample.py.

Every test runs in an empty working folder of its own (`isolated_cwd`), so a daemon run from
the repository (its `data/` folder, its secret) never leaks into a test.

Mark tests that take seconds with @pytest.mark.slow; `pytest -m "not slow" -n auto` runs the rest.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from feedserver import FeedServer
from scratch_postgres import scratch_schema
from smtpserver import SmtpTestServer
from sqlalchemy import Engine

from monitor.digest.sample import make_digest
from monitor.model import Digest
from monitor.store.db import open_engine, upgrade

# --- the working folder -----------------------------------------------------------------


@pytest.fixture(autouse=True)
def isolated_cwd(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test starts in a fresh empty folder: nothing depends on where pytest was run."""
    folder = tmp_path_factory.mktemp("cwd")
    monkeypatch.chdir(folder)
    return folder


# --- databases --------------------------------------------------------------------------


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'monitor.db'}"


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    with scratch_schema(request.path.stem) as url:  # the schema's name says which module made it
        yield url


def _migrated(url: str) -> Iterator[Engine]:
    engine = open_engine(url)
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    yield from _migrated(sqlite_url)


@pytest.fixture
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    yield from _migrated(postgres_url)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest) -> Engine:
    """A migrated database: the test runs once on SQLite and once on PostgreSQL."""
    name = {"sqlite": "sqlite_engine", "postgresql": "postgres_engine"}[request.param]
    engine: Engine = request.getfixturevalue(name)
    return engine


# --- servers ----------------------------------------------------------------------------


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A started FeedServer, stopped after the test."""
    with FeedServer() as server:
        yield server


@pytest.fixture
def smtp_server() -> Iterator[SmtpTestServer]:
    """A started SMTP server that accepts everything until told otherwise."""
    server = SmtpTestServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- digests ----------------------------------------------------------------------------


@pytest.fixture
def sample_digest() -> Digest:
    """The sample digest: one development (Kem Sokha convicted) for ana@example.org."""
    return make_digest()
