"""`monitor run` as a real subprocess against tests/feedserver.py: config reload (valid and
invalid), SIGKILL mid-poll and restart without loss or doubles, SIGTERM exits cleanly."""

from __future__ import annotations

import email
import email.policy
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from feedserver import FeedServer
from sqlalchemy import create_engine, func, select

from monitor.store.tables import developments, digests, entries, outbox

pytestmark = pytest.mark.slow  # a real daemon run: about 10 s

ROOT = Path(__file__).resolve().parent.parent
STREAM = ROOT / "tests" / "data" / "stream"
SETTINGS = """\
min_interval: 1s
default_interval: 2s
max_interval: 10s
immediate_quiet_period: 0s
"""


def item(guid: str, title: str) -> str:
    return (
        f"<item><guid>{guid}</guid><title>{title}</title><link>http://127.0.0.1/{guid}</link>"
        f"<pubDate>Mon, 01 Sep 2025 09:00:00 GMT</pubDate><description>{title}.</description></item>"
    )


class Site:
    """The feeds the daemon polls; `publish` adds an item to the first feed."""

    def __init__(self, server: FeedServer) -> None:
        self.server = server
        self.base = (STREAM / "asean-courier.xml").read_text(encoding="utf-8")
        self.extra: list[str] = []
        server.add("/a.xml", self.base)
        server.add("/b.atom", (STREAM / "angkor-sentinel.atom").read_bytes(), content_type="application/atom+xml")
        server.add("/c.xml", (STREAM / "khmer-daily-voice.xml").read_bytes())

    def publish(self, guid: str, title: str) -> None:
        self.extra.append(item(guid, title))
        self.server.add("/a.xml", self.base.replace("</channel>", "".join(self.extra) + "</channel>"))


def feeds_yaml(server: FeedServer, *names: str) -> str:
    paths = {"a": "/a.xml", "b": "/b.atom", "c": "/c.xml", "slow": "/slow?delay=1.5"}
    return "feeds:\n" + "".join(f"  - name: feed {n}\n    url: {server.url(paths[n])}\n    interval: 2s\n" for n in names)


@pytest.fixture
def site(feed_server: FeedServer) -> Site:
    return Site(feed_server)


class Daemon:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.config = tmp / "config"
        self.baseline = tmp / "baseline"
        self.log = tmp / "daemon.log"
        self.db = tmp / "data" / "monitor.db"
        self.proc: subprocess.Popen[bytes] | None = None
        self.offset = 0

    def start(self) -> None:
        env = {**os.environ, "MONITOR_DATA_DIR": str(self.tmp / "data"), "MONITOR_DATABASE_URL": f"sqlite:///{self.db}"}
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "monitor", "--config", str(self.config), "--baseline", str(self.baseline), "run"],
                cwd=self.tmp, env=env, stdout=log, stderr=subprocess.STDOUT,
            )

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, check: Callable[[], bool], what: str, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None and self.proc.poll() is None, f"daemon died:\n{self.text()}"
            if check():
                return
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}:\n{self.text()[-4000:]}")

    def logged(self, needle: str) -> Callable[[], bool]:
        start = len(self.text())
        return lambda: needle in self.text()[start:]

    def keys(self) -> list[str]:
        if not self.db.exists():
            return []
        engine = create_engine(f"sqlite:///{self.db}")
        try:
            with engine.connect() as conn:
                # A bare guid is stored scoped by its feed ("feed a#guid"): compare the guid.
                return [k.rsplit("#", 1)[-1] for k in conn.execute(select(entries.c.entry_key)).scalars()]
        except Exception:
            return []
        finally:
            engine.dispose()


@pytest.fixture
def daemon(tmp_path: Path, free_port: int) -> Iterator[Daemon]:
    shutil.copytree(ROOT / "config", tmp_path / "config")
    shutil.copytree(ROOT / "baseline", tmp_path / "baseline")
    # a free port for the unsubscribe endpoint
    (tmp_path / "config" / "settings.yaml").write_text(SETTINGS + f"http_port: {free_port}\n")
    (tmp_path / "config" / "subscribers.yaml").write_text(
        "subscribers:\n  - email: desk@example.org\n    frequency: immediate\n"
    )
    d = Daemon(tmp_path)
    yield d
    if d.proc is not None and d.proc.poll() is None:
        d.proc.kill()
        d.proc.wait()


@pytest.mark.timeout(90)
def test_daemon_reloads_survives_sigkill_and_stops_on_sigterm(daemon: Daemon, site: Site) -> None:
    server = site.server
    (daemon.config / "feeds.yaml").write_text(feeds_yaml(server, "a", "b"))
    daemon.start()
    daemon.wait_for(lambda: 'feed="feed a"' in daemon.text() and 'feed="feed b"' in daemon.text(), "first polls")
    daemon.wait_for(lambda: len(daemon.keys()) >= 10, "entries of a and b")
    first = len(daemon.keys())

    # A valid change: a watchlist edited, a feed added. Both picked up without a restart.
    watchlist = daemon.config / "watchlists" / "cambodia.yaml"
    original = watchlist.read_text(encoding="utf-8")
    applied = daemon.logged("event=config.applied")
    watchlist.write_text(original + "\n# edited while running\n", encoding="utf-8")
    (daemon.config / "feeds.yaml").write_text(feeds_yaml(server, "a", "b", "c", "slow"))
    daemon.wait_for(applied, "the valid change applied")
    daemon.wait_for(lambda: any(k.startswith("kdv-") for k in daemon.keys()), "entries of the added feed")

    # An invalid change: refused with file and line; the old config keeps polling.
    refused = daemon.logged("event=config.refused")
    watchlist.write_text(original + "\nnot_a_key: 1\n", encoding="utf-8")
    daemon.wait_for(refused, "the invalid change refused")
    line = original.count("\n") + 2
    assert f"line={line}" in daemon.text() and "cambodia.yaml" in daemon.text()
    site.publish("while-invalid", "Ministry opens a new road in Kampot")
    daemon.wait_for(lambda: "while-invalid" in daemon.keys(), "a poll under the old config")
    watchlist.write_text(original, encoding="utf-8")  # valid again, for the restart
    daemon.wait_for(daemon.logged("event=config.applied"), "the fixed config applied")

    # SIGKILL while a poll is in flight (the slow feed takes 1.5 s to answer).
    seen = len(server.requests)
    site.publish("before-kill", "Provincial court hears land dispute")
    daemon.wait_for(lambda: any("/slow" in p for _, p, _ in server.requests[seen:]), "a slow poll in flight")
    assert daemon.proc is not None
    daemon.proc.send_signal(signal.SIGKILL)
    daemon.proc.wait()

    site.publish("after-restart", "Rice harvest rises in Battambang")
    daemon.start()
    daemon.wait_for(lambda: {"before-kill", "after-restart"} <= set(daemon.keys()), "entries after the restart")
    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=20) == 0
    assert "event=daemon.stopped" in daemon.text()

    keys = daemon.keys()
    assert len(keys) == len(set(keys)) > first
    assert {"while-invalid", "before-kill", "after-restart", "item-1"} <= set(keys)
    engine = create_engine(f"sqlite:///{daemon.db}")
    with engine.connect() as conn:
        firsts = list(conn.execute(select(developments.c.first_entry_key)).scalars())
        new = conn.execute(select(func.count()).select_from(entries).where(entries.c.verdict == "new")).scalar()
    engine.dispose()
    assert len(firsts) == len(set(firsts)) == new

    # The immediate subscriber was mailed (no SMTP configured: .eml files in the outbox
    # folder), each digest once, and every development promised to them went into one.
    emls = sorted((daemon.tmp / "data" / "outbox").glob("*.eml"))
    assert emls, f"no digest written:\n{daemon.text()[-3000:]}"
    ids = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)["Message-ID"] for p in emls]
    assert len(ids) == len(set(ids))
    engine = create_engine(f"sqlite:///{daemon.db}")
    with engine.connect() as conn:
        sent = conn.execute(select(func.count()).select_from(digests).where(digests.c.status == "sent")).scalar()
        unsent = conn.execute(select(func.count()).select_from(outbox).where(outbox.c.sent.is_(False))).scalar()
    engine.dispose()
    assert sent == len(emls)
    assert unsent == 0
    assert "Traceback" not in daemon.text()


@pytest.mark.timeout(60)
def test_a_normal_start_logs_no_skipped_runs_and_names_missing_subscribers(daemon: Daemon, site: Site) -> None:
    # Issue 14: APScheduler's "maximum number of running instances reached" at start made a
    # healthy start look broken; a config with no subscribers said nothing.
    (daemon.config / "feeds.yaml").write_text(feeds_yaml(site.server, "a", "b", "c", "slow"))
    daemon.start()
    daemon.wait_for(daemon.logged("digests.sent"), "the first digests")
    time.sleep(4)  # a few reload rounds and second polls
    assert "maximum number of running instances" not in daemon.text()
    assert "no_subscribers" not in daemon.text()
    assert daemon.proc is not None
    daemon.proc.send_signal(signal.SIGTERM)
    daemon.proc.wait(timeout=20)

    (daemon.config / "subscribers.yaml").write_text("subscribers: []\n")
    daemon.start()
    daemon.wait_for(daemon.logged("daemon.no_subscribers"), "the no-subscribers warning")
    assert "monitor subscribers add" in daemon.text()
