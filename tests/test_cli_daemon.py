"""`monitor poll --once`, `monitor status` and `monitor feeds test` as a user runs them:
real subprocesses, a real feed server on 127.0.0.1, a real SQLite file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from feedserver import FeedServer
from sqlalchemy import create_engine, func, insert, select

from monitor.store.tables import digests, entries

pytestmark = pytest.mark.slow  # each test runs `monitor` in a subprocess against a big feed

ROOT = Path(__file__).resolve().parent.parent
STREAM = ROOT / "tests" / "data" / "stream"


class Setup:
    def __init__(self, tmp: Path, server: FeedServer) -> None:
        self.tmp, self.server = tmp, server
        self.db = tmp / "data" / "monitor.db"
        shutil.copytree(ROOT / "config", tmp / "config")
        shutil.copytree(ROOT / "baseline", tmp / "baseline")
        server.add("/ledger.xml", (STREAM / "phnom-penh-ledger.xml").read_bytes())
        (tmp / "config" / "feeds.yaml").write_text(
            "feeds:\n"
            f"  - name: Ledger\n    url: {server.url('/ledger.xml')}\n"
            f"  - name: Broken\n    url: {server.url('/status/500')}\n"
        )

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "MONITOR_DATA_DIR": str(self.tmp / "data"), "MONITOR_DATABASE_URL": f"sqlite:///{self.db}"}
        return subprocess.run(
            [sys.executable, "-m", "monitor", "--config", str(self.tmp / "config"), "--baseline", str(self.tmp / "baseline"), *args],
            capture_output=True, text=True, env=env, cwd=self.tmp, timeout=120, stdin=subprocess.DEVNULL,
        )

    def stored(self) -> int:
        if not self.db.exists():
            return 0
        engine = create_engine(f"sqlite:///{self.db}")
        try:
            with engine.connect() as conn:
                return int(conn.execute(select(func.count()).select_from(entries)).scalar() or 0)
        finally:
            engine.dispose()


@pytest.fixture
def setup(tmp_path: Path, feed_server: FeedServer) -> Setup:
    return Setup(tmp_path, feed_server)


def test_poll_once_summarises_and_names_the_failing_feed(setup: Setup) -> None:
    first = setup.run("poll", "--once")
    assert first.returncode == 0, first.stderr
    assert "feeds: 1 ok, 0 not modified, 1 failed" in first.stdout
    assert "failed: Broken:" in first.stderr and "500" in first.stderr
    assert "new entries: 20" in first.stdout and "new " in first.stdout
    assert setup.stored() == 20

    second = setup.run("poll", "--once")  # the server answers 304: nothing parsed, nothing doubled
    assert "feeds: 0 ok, 1 not modified, 1 failed" in second.stdout
    assert "new entries: 0" in second.stdout
    assert setup.stored() == 20


def test_status_shows_each_feeds_last_success_error_and_entries(setup: Setup) -> None:
    before = setup.run("status")
    assert before.returncode == 0, before.stderr
    assert "Ledger: never polled" in before.stdout
    setup.run("poll", "--once")
    status = setup.run("status")
    assert status.returncode == 0, status.stderr
    ledger = status.stdout.split("Ledger", 1)[1].split("Broken", 1)[0]
    assert "last success: 20" in ledger and "entries: 20" in ledger
    broken = status.stdout.split("Broken", 1)[1]
    assert "last error:" in broken and "x1" in broken and "500" in broken
    assert "total: 2 feeds, 1 failing, 0 disabled, 20 entries stored" in status.stdout


def test_status_says_a_moved_feed_should_be_updated_and_the_move_survives_a_restart(setup: Setup) -> None:
    (setup.tmp / "config" / "feeds.yaml").write_text(f"feeds:\n  - name: Moved\n    url: {setup.server.url('/moved/301')}\n")
    assert setup.run("poll", "--once").returncode == 0
    setup.run("poll", "--once")  # a second start: the moved URL is kept, not reverted
    status = setup.run("status")
    assert f"url: {setup.server.url('/feed.xml')}" in status.stdout
    assert f"moved permanently from {setup.server.url('/moved/301')}: update its url in feeds.yaml" in status.stdout
    assert setup.server.paths().count("/moved/301") == 1


def test_poll_once_honours_retry_after(setup: Setup) -> None:
    (setup.tmp / "config" / "feeds.yaml").write_text(f"feeds:\n  - name: Busy\n    url: {setup.server.url('/status/503?retry_after=3600')}\n")
    first = setup.run("poll", "--once")
    assert "1 failed" in first.stdout and "retry after 3600" in first.stderr
    second = setup.run("poll", "--once")
    assert second.returncode == 0, second.stderr
    assert "waiting: Busy: the server asked to retry after" in second.stderr
    assert "1 waiting (Retry-After)" in second.stdout
    assert len([p for p in setup.server.paths() if p.startswith("/status/503")]) == 1


def test_status_counts_disabled_feeds_shows_digests_and_check_fails_on_trouble(setup: Setup) -> None:
    feeds = (setup.tmp / "config" / "feeds.yaml").read_text()
    (setup.tmp / "config" / "feeds.yaml").write_text(
        feeds + f"  - name: Off\n    url: {setup.server.url('/feed.xml')}\n    enabled: false\n"
        f"  - name: Gone\n    url: {setup.server.url('/status/410')}\n"
    )
    setup.run("poll", "--once")
    status = setup.run("status", "--check")
    assert "total: 4 feeds, 2 failing, 2 disabled" in status.stdout  # Broken fails, Gone is gone
    assert "digests: 0 pending, 0 stuck (sending failed, retrying), 0 failed" in status.stdout
    assert status.returncode == 1

    (setup.tmp / "config" / "feeds.yaml").write_text(f"feeds:\n  - name: Ledger\n    url: {setup.server.url('/ledger.xml')}\n")
    healthy = setup.run("status", "--check")
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    engine = create_engine(f"sqlite:///{setup.db}")
    try:
        with engine.begin() as conn:
            now = datetime.now(UTC)
            conn.execute(insert(digests), [
                {"subscriber": "a@example.org", "period": "p1", "message_id": "<1@x>", "created_at": now, "status": "pending", "attempts": 0, "last_error": None},
                {"subscriber": "a@example.org", "period": "p2", "message_id": "<2@x>", "created_at": now, "status": "pending", "attempts": 3, "last_error": "SMTP 451"},
            ])
    finally:
        engine.dispose()
    stuck = setup.run("status", "--check")
    assert "digests: 2 pending, 1 stuck (sending failed, retrying), 0 failed" in stuck.stdout
    assert stuck.returncode == 1
    assert setup.run("status").returncode == 0  # without --check, status only reports


def test_feeds_test_shows_verdicts_and_stores_nothing(setup: Setup) -> None:
    shown = setup.run("feeds", "test", "Ledger")
    assert shown.returncode == 0, shown.stderr
    assert "Kem Sokha" in shown.stdout and "new" in shown.stdout
    assert setup.stored() == 0
    refused = setup.run("feeds", "test", "no-such-feed")
    assert refused.returncode == 1
    assert "no-such-feed" in refused.stderr
