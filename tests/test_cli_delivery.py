"""`monitor digest ...` and `monitor subscribers ...` through click's CliRunner on a tmp copy
of config/ and baseline/, with the database and data folder in tmp_path."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from smtpserver import SmtpTestServer

from monitor import delivery
from monitor.cli import cli
from monitor.config import load_config
from monitor.model import Development, Entry, EventDate, Judgement, KnownEvent, Verdict
from monitor.store import outbox
from monitor.store.db import open_engine, upgrade
from monitor.store.judgements import save_judgements

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def site(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "config", tmp_path / "config")
    shutil.copytree(REPO / "baseline", tmp_path / "baseline")
    return tmp_path


def env(site: Path, **more: str) -> dict[str, str]:
    return {"MONITOR_DATA_DIR": str(site / "data"),
            "MONITOR_DATABASE_URL": f"sqlite:///{site / 'data' / 'monitor.db'}", **more}


def run(site: Path, *args: str, **more: str) -> Result:
    argv = ["--config", str(site / "config"), "--baseline", str(site / "baseline"), *args]
    return CliRunner().invoke(cli, argv, env=env(site, **more), catch_exceptions=False)


def a_development(site: Path) -> None:
    """What the polling side does: store a `new` verdict and promise it."""
    config = load_config(site / "config", site / "baseline", env=env(site))
    engine = open_engine(config.settings.database_url)
    upgrade(engine)
    when = datetime(2023, 3, 3, 9, tzinfo=UTC)
    entry = Entry(id="a", source="t", title="Kem Sokha sentenced", link="https://vodenglish.news/a",
                  published=when, feed="VOD English", content_hash="a")
    dev = Development("kem-sokha-treason", "conviction", EventDate(date(2023, 3, 3)), ("Kem Sokha",),
                      "Kem Sokha sentenced to 27 years of house arrest")
    event = KnownEvent("kem-sokha-treason", "conviction", EventDate(date(2023, 3, 3)), dev.summary, ("Kem Sokha",))
    stored = save_judgements(engine, [(Judgement(entry, Verdict.NEW, ("Kem Sokha",), ("kem-sokha-treason",), dev), event)], when)
    outbox.promise(engine, stored, config.subscribers, delivery.watchlist_cases(config), when)
    engine.dispose()


def test_subscribers_add_and_remove_keep_the_files_comments(site: Path) -> None:
    path = site / "config" / "subscribers.yaml"
    comments = [line for line in path.read_text().splitlines() if line.startswith("#")]
    result = run(site, "subscribers", "add", "sophea@example.org", "--name", "Sophea", "--watchlist", "cambodia",
                 "--frequency", "weekly", "--at", "07:30", "--timezone", "Asia/Phnom_Penh", "--coverage")
    assert result.exit_code == 0, result.output
    run(site, "subscribers", "add", "dara@example.org", "--case", "kem-sokha-treason", "--frequency", "immediate")
    text = path.read_text()
    assert [line for line in text.splitlines() if line.startswith("#")] == comments
    assert text.index("sophea@example.org") < text.index("dara@example.org")
    subscribers = load_config(site / "config", site / "baseline", env=env(site)).subscribers
    assert [(s.email, s.frequency, s.at, s.timezone, s.coverage) for s in subscribers] == [
        ("sophea@example.org", "weekly", "07:30", "Asia/Phnom_Penh", True),
        ("dara@example.org", "immediate", "07:00", "UTC", False)]

    listed = run(site, "subscribers", "list").output
    assert "sophea@example.org (Sophea)  weekly at 07:30 Asia/Phnom_Penh; follows watchlist cambodia" in listed
    assert "Suppression list: empty." in listed

    assert run(site, "subscribers", "remove", "SOPHEA@example.org").exit_code == 0
    text = path.read_text()
    assert "sophea" not in text and "dara@example.org" in text
    assert [line for line in text.splitlines() if line.startswith("#")] == comments


def test_subscribers_add_takes_a_headline_language_and_refuses_a_bad_one(site: Path) -> None:
    path = site / "config" / "subscribers.yaml"
    before = path.read_text()
    bad = run(site, "subscribers", "add", "x@example.org", "--language", "Khmer")
    assert bad.exit_code == 2 and "'Khmer' is not a language tag" in bad.output
    assert path.read_text() == before
    assert run(site, "subscribers", "add", "x@example.org", "--language", "km").exit_code == 0
    assert "    language: km\n" in path.read_text()
    assert load_config(site / "config", site / "baseline", env=env(site)).subscribers[0].language == "km"
    assert "headlines in km" in run(site, "subscribers", "list").output


def test_subscribers_add_refuses_an_unknown_watchlist_and_a_duplicate(site: Path) -> None:
    before = (site / "config" / "subscribers.yaml").read_text()
    result = run(site, "subscribers", "add", "x@example.org", "--watchlist", "nowhere")
    assert result.exit_code == 2 and "unknown watchlist 'nowhere'" in result.output
    assert (site / "config" / "subscribers.yaml").read_text() == before
    assert run(site, "subscribers", "add", "x@example.org").exit_code == 0
    assert run(site, "subscribers", "add", "X@example.org").exit_code == 2  # ConfigError: already subscribed
    assert run(site, "subscribers", "remove", "nobody@example.org").exit_code == 2


def test_digest_send_now_writes_eml_files_without_smtp_and_only_once(site: Path) -> None:
    run(site, "subscribers", "add", "sophea@example.org", "--timezone", "Asia/Phnom_Penh")
    a_development(site)
    result = run(site, "digest", "send")
    assert result.exit_code == 0 and "0 sent" in result.output  # daily at 07:00: not due now
    result = run(site, "digest", "send", "--now")
    assert result.exit_code == 0, result.output
    assert "1 sent" in result.output and str(site / "data" / "outbox") in result.output
    (eml,) = (site / "data" / "outbox").glob("*.eml")
    assert b"Kem Sokha: convicted" in eml.read_bytes()
    assert "0 sent" in run(site, "digest", "send", "--now").output


def test_digest_send_through_smtp_and_a_bounce_shows_in_the_list(site: Path, smtp_server: SmtpTestServer) -> None:
    run(site, "subscribers", "add", "good@example.org", "--frequency", "immediate")
    run(site, "subscribers", "add", "bad@example.org", "--frequency", "immediate")
    smtp_server.refuse("bad@example.org")
    a_development(site)
    result = run(site, "digest", "send", MONITOR_SMTP_URL=smtp_server.url)
    assert result.exit_code == 1  # one subscriber failed
    assert "1 sent" in result.output and "bad@example.org: failed" in result.output
    assert [m.rcpt_tos for m in smtp_server.messages] == [("good@example.org",)]
    listed = run(site, "subscribers", "list").output
    assert "bad@example.org  immediate; follows all cases  [SUPPRESSED: bounce]" in listed
    assert "bad@example.org  bounce" in listed


def test_digest_preview_writes_html_and_prints_text(site: Path) -> None:
    run(site, "subscribers", "add", "sophea@example.org")
    a_development(site)
    target = site / "preview.html"
    result = run(site, "digest", "preview", "sophea@example.org", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert "Subject: Kem Sokha: convicted" in result.output and "VOD English" in result.output
    assert "<html" in target.read_text() and "VOD English" in target.read_text()
    assert "0 sent" in run(site, "digest", "send").output  # preview sent and claimed nothing
    assert run(site, "digest", "preview", "nobody@example.org").exit_code == 1
