"""send_due against a real SMTP server (aiosmtpd on 127.0.0.1), a SQLite file and a moved clock.

Kill between accept and mark (documented at-least-once): the digest is sent, the process
dies before it is marked sent; once its lease runs out it is sent exactly once more, with
the same Message-ID, and then never again.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from smtpserver import HOST, SmtpTestServer
from sqlalchemy import Engine, select

from monitor import delivery
from monitor.config import Config, load_config
from monitor.mail import calendar
from monitor.mail.transport import OutboxFolderSender, SmtpSender
from monitor.model import Development, Entry, EventDate, Judgement, KnownEvent, SmtpTarget, Subscriber, Verdict
from monitor.store import digests, outbox, suppressions
from monitor.store.judgements import StoredEntry, save_judgements, seed_baseline
from monitor.store.tables import digests as digests_table

REPO = Path(__file__).resolve().parent.parent
FRIDAY = datetime(2023, 3, 3, 10, tzinfo=UTC)  # 17:00 in Phnom Penh, 05:00 in New York

PHNOM_PENH = Subscriber("daily@example.org", "Sophea", frequency="daily", at="07:30", timezone="Asia/Phnom_Penh")
NEW_YORK = Subscriber("weekly@example.org", frequency="weekly", at="09:00", timezone="America/New_York")
IMMEDIATE = Subscriber("now@example.org", frequency="immediate", cases=("kem-sokha-treason",))


@pytest.fixture(scope="module")
def base_config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    data = tmp_path_factory.mktemp("data")
    return load_config(REPO / "config", REPO / "baseline",
                       env={"MONITOR_DATA_DIR": str(data), "MONITOR_SECRET": "s" * 32,
                            "MONITOR_PUBLIC_URL": "https://monitor.example.org",
                            "MONITOR_SENDER": "Case Monitor <monitor@example.org>",
                            # Mail at once; test_an_immediate_burst_is_one_mail_after_a_quiet_period
                            # covers the quiet period.
                            "MONITOR_IMMEDIATE_QUIET_PERIOD": "0s"})


def configured(config: Config, *subscribers: Subscriber) -> Config:
    return replace(config, subscribers=subscribers)


@pytest.fixture
def engine(sqlite_engine: Engine, base_config: Config) -> Engine:
    """The migrated SQLite database (conftest), seeded with the baseline's cases."""
    seed_baseline(sqlite_engine, base_config.cases)
    return sqlite_engine


def sender_for(server: SmtpTestServer) -> SmtpSender:
    return SmtpSender(SmtpTarget(HOST, server.port, timeout=5))


def story(key: str, case: str = "kem-sokha-treason", kind: str = "conviction", day: date = date(2023, 3, 3),
          feed: str = "VOD English", published: datetime = FRIDAY, people: tuple[str, ...] = ("Kem Sokha",),
          summary: str = "Kem Sokha sentenced to 27 years of house arrest") -> tuple[Judgement, KnownEvent]:
    entry = Entry(id=key, source="test", title=f"{summary} ({key})", link=f"https://news.example.org/{key}",
                  published=published, feed=feed, content_hash=key)
    development = Development(case, kind, EventDate(day), people, summary)
    return (Judgement(entry, Verdict.NEW, people, (case,), development),
            KnownEvent(case, kind, EventDate(day), summary, people))


def duplicate(key: str, of: str, feed: str, published: datetime) -> tuple[Judgement, None]:
    entry = Entry(id=key, source="test", title=f"Copy {key}", link=f"https://copy.example.org/{key}",
                  published=published, feed=feed, content_hash=key)
    return Judgement(entry, Verdict.DUPLICATE, ("Kem Sokha",), ("kem-sokha-treason",), duplicate_of=of), None


def develop(engine: Engine, config: Config, *judged: Any, now: datetime = FRIDAY) -> list[StoredEntry]:
    """What the polling side does: store the verdicts, then promise the new developments."""
    stored = save_judgements(engine, judged, now)
    outbox.promise(engine, stored, config.subscribers, delivery.watchlist_cases(config), now)
    return stored


def to(server: SmtpTestServer, email: str) -> list[EmailMessage]:
    return [m.message for m in server.messages if email in m.rcpt_tos]


def test_schedule_slots_follow_local_time_and_dst() -> None:
    # 07:30 in Phnom Penh (UTC+7, no DST) is 00:30 UTC.
    assert calendar.next_slot(PHNOM_PENH, FRIDAY) == datetime(2023, 3, 4, 0, 30, tzinfo=UTC)
    assert calendar.latest_slot(PHNOM_PENH, FRIDAY) == datetime(2023, 3, 3, 0, 30, tzinfo=UTC)
    assert calendar.period_of(PHNOM_PENH, datetime(2023, 3, 3, 23, tzinfo=UTC)) == "2023-03-04"
    # Mondays 09:00 in New York: EST (UTC-5) on 6 March, EDT (UTC-4) after 12 March.
    assert calendar.next_slot(NEW_YORK, FRIDAY) == datetime(2023, 3, 6, 14, tzinfo=UTC)
    assert calendar.next_slot(NEW_YORK, datetime(2023, 3, 6, 14, 1, tzinfo=UTC)) == datetime(2023, 3, 13, 13, tzinfo=UTC)
    assert calendar.period_of(NEW_YORK, datetime(2023, 3, 6, 14, tzinfo=UTC)) == "2023-W10"
    assert delivery.retry_delay(1) == timedelta(minutes=2) and delivery.retry_delay(30) == timedelta(hours=1)


def test_three_frequencies_across_time_zones_with_the_clock_moved(
    engine: Engine, base_config: Config, smtp_server: SmtpTestServer
) -> None:
    config = configured(base_config, PHNOM_PENH, NEW_YORK, IMMEDIATE)
    sender = sender_for(smtp_server)
    develop(engine, config, story("a"))

    report = delivery.send_due(engine, config, sender, FRIDAY)
    assert report.sent == ["now@example.org"]  # immediate: at once; the others at their hour
    assert delivery.send_due(engine, config, sender, FRIDAY + timedelta(minutes=5)).sent == []

    before = datetime(2023, 3, 4, 0, 29, tzinfo=UTC)
    assert delivery.send_due(engine, config, sender, before).sent == []
    assert delivery.send_due(engine, config, sender, before + timedelta(minutes=1)).sent == ["daily@example.org"]
    assert delivery.send_due(engine, config, sender, before + timedelta(minutes=2)).sent == []  # once

    develop(engine, config, story("b", kind="appeal", day=date(2023, 3, 5), summary="Kem Sokha appeals"),
            now=datetime(2023, 3, 5, 0, tzinfo=UTC))
    assert delivery.send_due(engine, config, sender, datetime(2023, 3, 5, 0, tzinfo=UTC)).sent == ["now@example.org"]
    assert delivery.send_due(engine, config, sender, datetime(2023, 3, 5, 0, 30, tzinfo=UTC)).sent == ["daily@example.org"]
    monday = datetime(2023, 3, 6, 14, tzinfo=UTC)  # 09:00 EST; 21:00 in Phnom Penh
    assert delivery.send_due(engine, config, sender, monday - timedelta(seconds=1)).sent == []
    assert delivery.send_due(engine, config, sender, monday).sent == ["weekly@example.org"]
    assert delivery.send_due(engine, config, sender, datetime(2023, 3, 7, 0, 30, tzinfo=UTC)).sent == []

    assert [m["Subject"] for m in to(smtp_server, "weekly@example.org")] == [
        "2 developments: Kem Sokha appeal filed and Kem Sokha convicted"]
    assert len(to(smtp_server, "daily@example.org")) == 2
    assert len(to(smtp_server, "now@example.org")) == 2
    with engine.connect() as conn:
        periods = sorted(conn.execute(select(digests_table.c.subscriber, digests_table.c.period)).all())
    assert [tuple(p) for p in periods] == [
        ("daily@example.org", "2023-03-04"), ("daily@example.org", "2023-03-05"),
        ("now@example.org", "immediate:1"), ("now@example.org", "immediate:2"),
        ("weekly@example.org", "2023-W10")]
    ids = [m["Message-ID"] for m in (x.message for x in smtp_server.messages)]
    assert len(set(ids)) == len(ids) == 5


def test_the_email_is_multipart_with_one_click_unsubscribe_and_grouped_sources(
    engine: Engine, base_config: Config, smtp_server: SmtpTestServer
) -> None:
    config = configured(base_config, IMMEDIATE)
    develop(engine, config, story("a", published=FRIDAY),
            duplicate("late", "a", "The Guardian", FRIDAY + timedelta(hours=3)),
            duplicate("early", "a", "RFA Khmer", FRIDAY + timedelta(hours=1)))
    assert delivery.send_due(engine, config, sender_for(smtp_server), FRIDAY + timedelta(hours=4)).sent
    (message,) = to(smtp_server, "now@example.org")
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["Subject"] == "Kem Sokha: convicted — sentenced to 27 years of house arrest"
    assert message["List-Unsubscribe"].startswith("<https://monitor.example.org/unsubscribe?token=")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    with engine.connect() as conn:
        assert message["Message-ID"] == conn.execute(select(digests_table.c.message_id)).scalar()
    text = message.get_body(("plain",)).get_content()
    assert text.index("VOD English") < text.index("RFA Khmer") < text.index("The Guardian")
    assert "Earlier in this case" in text and "19 January 2022" in text  # baseline context


def test_smtp_down_then_back_loses_nothing_and_sends_once(
    engine: Engine, base_config: Config, smtp_server: SmtpTestServer
) -> None:
    people = [replace(IMMEDIATE, email=f"r{i}@example.org") for i in range(3)]
    config = configured(base_config, *people)
    sender = sender_for(smtp_server)
    develop(engine, config, story("a"))
    smtp_server.stop()
    report = delivery.send_due(engine, config, sender, FRIDAY)
    assert report.sent == [] and len(report.retrying) == 1 and len(report.deferred) == 2  # run stopped
    smtp_server.start()
    smtp_server.defer(1)  # then a 451 for the first recipient tried
    report = delivery.send_due(engine, config, sender, FRIDAY + timedelta(minutes=1))
    assert len(report.sent) == 1 and len(report.retrying) == 1  # r0 still waits out its backoff
    report = delivery.send_due(engine, config, sender, FRIDAY + timedelta(minutes=10))
    assert len(report.sent) == 2
    assert delivery.send_due(engine, config, sender, FRIDAY + timedelta(hours=5)).sent == []
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == [p.email for p in people]
    assert outbox.pending_counts(engine) == {} and digests.open_digests(engine) == []


class Killed(BaseException):
    """The process dying between the server's 250 and our UPDATE."""


class KilledAfterAccept:
    def __init__(self, inner: SmtpSender) -> None:
        self.inner = inner

    def session(self) -> Any:
        return self

    def __enter__(self) -> KilledAfterAccept:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def send(self, message: EmailMessage) -> None:
        self.inner.send(message)
        raise Killed


def test_a_kill_between_accept_and_mark_resends_exactly_once(
    engine: Engine, base_config: Config, smtp_server: SmtpTestServer
) -> None:
    config = configured(base_config, IMMEDIATE)
    develop(engine, config, story("a"))
    with pytest.raises(Killed):
        delivery.send_due(engine, config, KilledAfterAccept(sender_for(smtp_server)), FRIDAY)
    sender = sender_for(smtp_server)
    assert delivery.send_due(engine, config, sender, FRIDAY + timedelta(minutes=1)).sent == []  # lease held
    assert delivery.send_due(engine, config, sender, FRIDAY + timedelta(minutes=2)).sent == ["now@example.org"]
    assert delivery.send_due(engine, config, sender, FRIDAY + timedelta(days=1), force=True).sent == []
    first, second = to(smtp_server, "now@example.org")
    assert first["Message-ID"] == second["Message-ID"]
    assert first.get_body(("plain",)).get_content() == second.get_body(("plain",)).get_content()


def test_a_refused_address_fails_only_that_subscriber_and_is_suppressed(
    engine: Engine, base_config: Config, smtp_server: SmtpTestServer
) -> None:
    config = configured(base_config, replace(IMMEDIATE, email="bad@example.org"), IMMEDIATE)
    smtp_server.refuse("bad@example.org")
    develop(engine, config, story("a"))
    report = delivery.send_due(engine, config, sender_for(smtp_server), FRIDAY)
    assert report.sent == ["now@example.org"] and [e for e, _ in report.failed] == ["bad@example.org"]
    assert [(s.email, s.reason) for s in suppressions.list_suppressions(engine)] == [("bad@example.org", "bounce")]
    develop(engine, config, story("b", kind="appeal", summary="Kem Sokha appeals"))
    report = delivery.send_due(engine, config, sender_for(smtp_server), FRIDAY + timedelta(hours=1))
    assert report.sent == ["now@example.org"] and report.suppressed == ["bad@example.org"]
    assert len(smtp_server.messages) == 2


def test_force_sends_everything_pending_and_the_folder_sender_writes_eml(
    engine: Engine, base_config: Config, tmp_path: Path
) -> None:
    config = configured(base_config, PHNOM_PENH, NEW_YORK)
    develop(engine, config, story("a"))
    folder = tmp_path / "outbox"
    assert delivery.send_due(engine, config, OutboxFolderSender(folder), FRIDAY).sent == []
    report = delivery.send_due(engine, config, OutboxFolderSender(folder), FRIDAY, force=True)
    assert sorted(report.sent) == ["daily@example.org", "weekly@example.org"]
    assert len(list(folder.glob("*.eml"))) == 2
    # The scheduled slot that follows finds nothing pending: no empty digest.
    assert delivery.send_due(engine, config, OutboxFolderSender(folder), datetime(2023, 3, 4, 0, 30, tzinfo=UTC)).sent == []


def test_coverage_rides_along_and_preview_writes_nothing(engine: Engine, base_config: Config) -> None:
    reader = replace(PHNOM_PENH, coverage=True)
    config = configured(base_config, reader)
    known = story("k")[0]
    known = replace(known, verdict=Verdict.KNOWN, development=None, entry=replace(known.entry, title="Looking back"))
    develop(engine, config, story("a"), (known, None))
    digest, message = delivery.preview(engine, config, reader, FRIDAY)
    assert digest.period == "2023-03-04" and len(digest.developments) == 1
    assert [r.title for r in digest.coverage] == ["Looking back"]
    assert "Looking back" in message.get_body(("plain",)).get_content()
    assert outbox.pending_counts(engine) == {"daily@example.org": (1, 1)}


def test_an_immediate_burst_is_one_mail_after_a_quiet_period(
    engine: Engine, base_config: Config, smtp_server: SmtpTestServer
) -> None:
    # Issue 14: a first poll's backlog sent an immediate subscriber 5 mails in a second.
    config = configured(base_config, IMMEDIATE)
    config = replace(config, settings=replace(config.settings, immediate_quiet_period=timedelta(minutes=2)))
    develop(engine, config, story("a"), now=FRIDAY)
    develop(engine, config, story("b", kind="appeal", day=date(2023, 3, 4),
                                  summary="Kem Sokha appeals"), now=FRIDAY + timedelta(seconds=1))
    assert delivery.send_due(engine, config, sender_for(smtp_server), FRIDAY + timedelta(seconds=2)).sent == []
    develop(engine, config, story("c", kind="bail", day=date(2023, 3, 5),
                                  summary="Kem Sokha bailed"), now=FRIDAY + timedelta(seconds=90))
    assert delivery.send_due(engine, config, sender_for(smtp_server), FRIDAY + timedelta(seconds=150)).sent == []
    report = delivery.send_due(engine, config, sender_for(smtp_server), FRIDAY + timedelta(seconds=211))
    assert report.sent == ["now@example.org"]
    (message,) = to(smtp_server, "now@example.org")
    text = message.get_body(("plain",)).get_content()
    assert all(word in text for word in ("sentenced", "appeals", "bailed"))
    # A burst that never goes quiet is still sent after five quiet periods.
    for i in range(6):
        develop(engine, config, story(f"d{i}", kind="hearing", day=date(2023, 4, 1 + i), summary=f"hearing {i}"),
                now=FRIDAY + timedelta(minutes=10 + 2 * i) - timedelta(seconds=30))
    assert delivery.send_due(engine, config, sender_for(smtp_server),
                             FRIDAY + timedelta(minutes=20, seconds=1)).sent == ["now@example.org"]
