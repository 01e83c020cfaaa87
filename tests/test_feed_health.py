"""Feed health reaches the operator: a feed failing for a day, gone, or silent for longer than
its own rhythm (Huginn's expected_update_period, learned from its entries) is listed by
`monitor status` and mailed to `operator_email` once a day. Real HTTP feeds on 127.0.0.1,
`monitor poll`, real SQLite files, a real SMTP server (aiosmtpd), and `monitor run`."""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from feedserver import FeedServer
from smtpserver import SmtpTestServer

from monitor import delivery
from monitor.cli import cli
from monitor.config import load_config
from monitor.health import MIN_SILENCE, assess, duration, rhythm
from monitor.mail.transport import SmtpSender
from monitor.model import Subscriber
from monitor.operator import feed_health, send_operator_mail
from monitor.store.db import open_engine

ROOT = Path(__file__).resolve().parent.parent
DAY = timedelta(days=1)


def rss(items: list[tuple[str, datetime]]) -> str:
    body = "".join(f"<item><guid>{guid}</guid><title>Weather report {guid}</title>"
                   f"<link>https://weather.example/{guid}</link><pubDate>{format_datetime(when)}</pubDate></item>"
                   for guid, when in items)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Weather</title>{body}</channel></rss>'


def daily(last: datetime, count: int = 8) -> list[tuple[str, datetime]]:
    """`count` entries a day apart, the newest at `last`."""
    return [(f"w{i}", last - i * DAY) for i in range(count)]


# --- the rhythm and the verdicts, pure ------------------------------------------------------


NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)


def check(times: list[datetime], **row: object) -> str | None:
    values = {"error_count": 0, "failing_since": None, "last_error": None, "last_success_at": NOW,
              "disabled_reason": None, **row}
    found = assess("Feed", now=NOW, failing_after=DAY, times=times, **values)  # type: ignore[arg-type]
    return found.state if found else None


def test_the_rhythm_is_learned_from_the_newest_entries() -> None:
    times = [w for _, w in daily(NOW - 2 * DAY)]
    pace = rhythm(times)
    assert pace is not None and pace.usual == DAY and pace.longest == DAY and pace.expected == 3 * DAY
    assert rhythm(times[:4]) is None  # four entries teach nothing yet
    weekly = [NOW - 7 * i * DAY for i in range(6)]
    assert rhythm(weekly).expected == 21 * DAY  # type: ignore[union-attr]
    hourly = [NOW - timedelta(hours=i) for i in range(30)]
    assert rhythm(hourly).expected == MIN_SILENCE  # type: ignore[union-attr]


def test_silent_past_the_rhythm_failing_for_a_day_and_gone() -> None:
    daily_feed = [w for _, w in daily(NOW - 2 * DAY)]
    assert check(daily_feed) is None  # two days: within three usual gaps
    assert check([w for _, w in daily(NOW - 4 * DAY)]) == "silent"
    weekly = [NOW - 10 * DAY - 7 * i * DAY for i in range(6)]
    assert check(weekly) is None  # a weekly feed quiet for ten days keeps its rhythm
    assert check([w for _, w in daily(NOW - 4 * DAY)], last_success_at=NOW - 2 * DAY) is None  # not looked since
    assert check(daily_feed[:3]) is None  # too new to have a rhythm
    assert check(daily_feed, error_count=3, failing_since=NOW - 23 * timedelta(hours=1)) is None
    assert check(daily_feed, error_count=30, failing_since=NOW - 25 * timedelta(hours=1)) == "failing"
    assert check(daily_feed, disabled_reason="410 Gone") == "gone"
    assert duration(timedelta(days=1, hours=2, minutes=5)) == "1 day 2 h" and duration(timedelta(minutes=20)) == "20 min"


# --- through the real parts -----------------------------------------------------------------


class Site:
    def __init__(self, tmp: Path, server: FeedServer, smtp: SmtpTestServer) -> None:
        self.tmp = tmp
        self.server = server
        self.smtp = smtp
        shutil.copytree(ROOT / "config", tmp / "config")
        shutil.copytree(ROOT / "baseline", tmp / "baseline")
        now = datetime.now(UTC)
        server.add("/weather.xml", rss(daily(now - 12 * DAY)))  # a daily feed, quiet for twelve days
        server.add("/fresh.xml", rss(daily(now - timedelta(hours=3))))
        (tmp / "config" / "feeds.yaml").write_text(
            "feeds:\n"
            f"  - name: Weather\n    url: {server.url('/weather.xml')}\n"
            f"  - name: Fresh\n    url: {server.url('/fresh.xml')}\n"
            f"  - name: Broken\n    url: {server.url('/status/500')}\n"
            f"  - name: Off\n    url: {server.url('/status/503')}\n    enabled: false\n")
        self.env = {"MONITOR_DATA_DIR": str(tmp / "data"), "MONITOR_DATABASE_URL": f"sqlite:///{tmp / 'data' / 'monitor.db'}",
                    "MONITOR_SMTP_URL": smtp.url, "MONITOR_OPERATOR_EMAIL": "ops@example.org"}

    def run(self, *args: str, **env: str) -> Result:
        argv = ["--config", str(self.tmp / "config"), "--baseline", str(self.tmp / "baseline"), *args]
        return CliRunner().invoke(cli, argv, env={**self.env, **env}, catch_exceptions=False)


@pytest.fixture
def site(tmp_path: Path, feed_server: FeedServer, smtp_server: SmtpTestServer) -> Site:
    return Site(tmp_path, feed_server, smtp_server)


def test_the_operator_gets_one_mail_a_day_listing_failing_and_silent_feeds(site: Site) -> None:
    assert site.run("poll").exit_code == 0
    config = load_config(site.tmp / "config", site.tmp / "baseline", env=site.env)
    engine = open_engine(config.settings.database_url)
    sender = SmtpSender(config.settings.smtp)  # type: ignore[arg-type]
    try:
        now = datetime.now(UTC)
        # Broken has failed for a few seconds only: the silent feed alone is news.
        assert [(h.feed, h.state) for h in feed_health(engine, config, now)] == [("Weather", "silent")]
        tomorrow = now + DAY + timedelta(minutes=1)
        first = send_operator_mail(engine, config, sender, tomorrow)
        assert first.outcome == "sent"
        assert [(h.feed, h.state) for h in first.report] == [("Weather", "silent"), ("Broken", "failing")]
        again = send_operator_mail(engine, config, sender, tomorrow + timedelta(hours=1))
        assert again.outcome == "sent_already"
        (received,) = site.smtp.messages
        assert received.rcpt_tos == ("ops@example.org",)
        message = received.message
        assert message["Subject"] == "Feed health: 2 feeds need attention (1 failing, 1 silent)"
        text = " ".join(message.get_body(("plain",)).get_content().split())
        assert "- Broken: failing for 1 day (since" in text and "HTTP 500" in text
        assert "- Weather: silent for 13 days: no new entry since" in text
        assert "it usually publishes every 1 day" in text
        assert "Fresh" not in text and "Off" not in text
        # the next day, still in trouble: the next mail
        assert send_operator_mail(engine, config, sender, tomorrow + DAY).outcome == "sent"
        assert len(site.smtp.messages) == 2
    finally:
        engine.dispose()


def test_a_refusing_smtp_server_keeps_the_mail_pending_and_a_healthy_install_sends_none(site: Site) -> None:
    site.server.add("/weather.xml", rss(daily(datetime.now(UTC) - timedelta(hours=2))))
    (site.tmp / "config" / "feeds.yaml").write_text(
        f"feeds:\n  - name: Weather\n    url: {site.server.url('/weather.xml')}\n"
        f"  - name: Broken\n    url: {site.server.url('/status/500')}\n")
    assert site.run("poll").exit_code == 0
    config = load_config(site.tmp / "config", site.tmp / "baseline", env=site.env)
    engine = open_engine(config.settings.database_url)
    sender = SmtpSender(config.settings.smtp)  # type: ignore[arg-type]
    try:
        now = datetime.now(UTC)
        assert send_operator_mail(engine, config, sender, now).outcome == "healthy"  # Broken: failing for seconds
        later = now + DAY + timedelta(minutes=1)
        site.smtp.defer(1)
        failed = send_operator_mail(engine, config, sender, later)
        assert failed.outcome == "retrying" and "451" in failed.error
        # The operator also subscribes: their pending feed-health mail is never taken for a digest.
        subscribed = dataclasses.replace(config, subscribers=(Subscriber("ops@example.org", frequency="immediate"),))
        assert delivery.send_due(engine, subscribed, sender, later, force=True).sent == []
        assert send_operator_mail(engine, config, sender, later + timedelta(minutes=1)).outcome == "waiting"
        assert send_operator_mail(engine, config, sender, later + timedelta(minutes=3)).outcome == "sent"
        assert len(site.smtp.messages) == 1
    finally:
        engine.dispose()


def test_status_shows_each_feeds_health_and_where_it_is_mailed(site: Site) -> None:
    assert site.run("poll").exit_code == 0
    time.sleep(1.1)
    status = site.run("status", MONITOR_FEED_FAILING_AFTER="1s")
    out = status.output
    weather = out.split("Weather\n", 1)[1].split("\nFresh", 1)[0]
    assert "  health: silent for 12 days: no new entry since" in weather
    broken = out.split("Broken\n", 1)[1]
    assert "  health: failing for 0 min (since" in broken or "  health: failing for 1 min (since" in broken
    assert "feed health: 1 failing for 1s or more, 1 silent past their usual rhythm; mailed daily to ops@example.org" in out
    quiet = site.run("status", MONITOR_OPERATOR_EMAIL="")
    assert "feed health: 0 failing for 1d or more, 1 silent past their usual rhythm; set operator_email" in quiet.output


def test_a_bad_operator_email_is_refused_with_file_and_line(site: Site) -> None:
    settings = site.tmp / "config" / "settings.yaml"
    settings.write_text(settings.read_text() + "operator_email: ops at example\n")
    result = site.run("config", "check", MONITOR_OPERATOR_EMAIL="")
    assert result.exit_code == 2
    line = len(settings.read_text().splitlines())
    assert f"settings.yaml:{line}: operator_email:" in result.output


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_the_daemon_mails_the_operator(site: Site, free_port: int) -> None:
    (site.tmp / "config" / "settings.yaml").write_text(f"http_port: {free_port}\nfeed_failing_after: 1s\n")
    log = site.tmp / "daemon.log"
    env = {**os.environ, **site.env}
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(site.tmp / "config"), "--baseline",
             str(site.tmp / "baseline"), "run"], cwd=site.tmp, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 45
        while not site.smtp.messages and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.2)
        assert site.smtp.messages, log.read_text()[-3000:]
        (received,) = site.smtp.messages
        assert received.message["Subject"] == "Feed health: 2 feeds need attention (1 failing, 1 silent)"
        text = log.read_text()
        assert "operator.mailed" in text and "feed.unhealthy" in text
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
