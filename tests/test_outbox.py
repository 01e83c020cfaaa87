"""The outbox in SQL: promises once, suppressions, digest claims and leases.

Every test runs on a SQLite file and, when 127.0.0.1:5432 answers (CI: database `test`,
user postgres, trust auth), on PostgreSQL in a schema of its own that is dropped after.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, func, select

from monitor.model import Development, Entry, EventDate, Judgement, KnownEvent, Subscriber, Verdict
from monitor.store import digest_rows, digests, outbox, suppressions
from monitor.store.judgements import save_judgements
from monitor.store.tables import digests as digests_table
from monitor.store.tables import outbox as outbox_table

NOW = datetime(2023, 3, 3, 10, tzinfo=UTC)
WATCHLISTS = {
    "cambodia": frozenset({"kem-sokha-treason", "november-2019-return"}),
    "other": frozenset({"elsewhere"}),
}


def judged(key: str, verdict: Verdict = Verdict.NEW, case: str = "kem-sokha-treason",
           kind: str = "conviction", duplicate_of: str | None = None) -> tuple[Judgement, KnownEvent | None]:
    entry = Entry(id=key, source="test", title=f"Story {key}", link=f"https://news.example.org/{key}",
                  published=NOW, feed="Example News", content_hash=key)
    development = Development(case, kind, EventDate(date(2023, 3, 3)), ("Kem Sokha",), "Sentenced")
    event = KnownEvent(case, kind, EventDate(date(2023, 3, 3)), "Kem Sokha sentenced", ("Kem Sokha",))
    if verdict is Verdict.NEW:
        return Judgement(entry, verdict, ("Kem Sokha",), (case,), development), event
    return Judgement(entry, verdict, ("Kem Sokha",), (case,), development if duplicate_of else None,
                     duplicate_of=duplicate_of), None


def rows(engine: Engine) -> list[tuple[str, int | None, int | None]]:
    with engine.connect() as conn:
        query = select(outbox_table.c.subscriber, outbox_table.c.development_id, outbox_table.c.entry_id)
        return sorted(conn.execute(query).all(), key=str)  # type: ignore[arg-type]


def test_a_development_is_promised_once_per_subscriber(store: Engine) -> None:
    stored = save_judgements(store, [judged("a"), judged("b", Verdict.DUPLICATE, duplicate_of="a")], NOW)
    people = [Subscriber("One@Example.org"), Subscriber("two@example.org")]
    assert outbox.promise(store, stored, people, WATCHLISTS, NOW) == 2
    assert outbox.promise(store, stored, people, WATCHLISTS, NOW) == 0  # idempotent
    development = stored[0].development_id
    assert rows(store) == [("one@example.org", development, None), ("two@example.org", development, None)]


def test_promises_follow_cases_then_watchlists_then_everything(store: Engine) -> None:
    stored = save_judgements(store, [judged("a"), judged("r", case="november-2019-return", kind="arrest")], NOW)
    people = [
        Subscriber("case@example.org", cases=("november-2019-return",)),
        Subscriber("list@example.org", watchlists=("cambodia",)),
        Subscriber("elsewhere@example.org", watchlists=("other",)),
        Subscriber("all@example.org"),
    ]
    assert outbox.promise(store, stored, people, WATCHLISTS, NOW) == 5
    got = {(email, dev) for email, dev, _ in rows(store)}
    a, r = stored[0].development_id, stored[1].development_id
    assert got == {("case@example.org", r), ("list@example.org", a), ("list@example.org", r),
                   ("all@example.org", a), ("all@example.org", r)}


def test_a_suppressed_subscriber_is_promised_nothing(store: Engine) -> None:
    assert suppressions.suppress(store, "Gone@Example.org", "unsubscribe", "one-click", NOW)
    assert not suppressions.suppress(store, "gone@example.org", "bounce", "550", NOW)  # first reason kept
    stored = save_judgements(store, [judged("a")], NOW)
    people = [Subscriber("gone@example.org"), Subscriber("here@example.org")]
    assert outbox.promise(store, stored, people, WATCHLISTS, NOW) == 1
    assert [r[0] for r in rows(store)] == ["here@example.org"]
    assert [(s.email, s.reason) for s in suppressions.list_suppressions(store)] == [("gone@example.org", "unsubscribe")]
    assert suppressions.unsuppress(store, "GONE@example.org")
    assert suppressions.suppressed_emails(store) == set()


def test_coverage_entries_go_only_to_subscribers_who_asked(store: Engine) -> None:
    stored = save_judgements(store, [judged("k", Verdict.KNOWN), judged("m", Verdict.MENTION),
                                      judged("x", Verdict.NONE)], NOW)
    people = [Subscriber("wants@example.org", coverage=True), Subscriber("plain@example.org"),
              Subscriber("elsewhere@example.org", watchlists=("other",), coverage=True)]
    assert outbox.promise(store, stored, people, WATCHLISTS, NOW) == 2
    assert outbox.promise(store, stored, people, WATCHLISTS, NOW) == 0
    assert {(e, entry) for e, _, entry in rows(store)} == {
        ("wants@example.org", stored[0].entry_row), ("wants@example.org", stored[1].entry_row)}
    assert outbox.pending_counts(store) == {"wants@example.org": (0, 2)}


def test_a_period_is_claimed_once_and_freezes_its_rows(store: Engine) -> None:
    stored = save_judgements(store, [judged("a")], NOW)
    outbox.promise(store, stored, [Subscriber("one@example.org")], WATCHLISTS, NOW)
    claim = digests.claim_digest(store, "one@example.org", "2023-03-03", "<m@x>", NOW)
    assert claim is not None and claim.status == "pending" and claim.attempts == 0
    assert digests.claim_digest(store, "one@example.org", "2023-03-03", "<m@x>", NOW) is None
    assert digests.period_taken(store, "one@example.org", "2023-03-03")
    # Nothing left to claim: no empty digest is created for another period.
    assert digests.claim_digest(store, "one@example.org", "2023-03-04", "<n@x>", NOW) is None
    assert not digests.period_taken(store, "one@example.org", "2023-03-04")
    # A later promise does not join the claimed digest: it waits for the next one.
    later = save_judgements(store, [judged("b", kind="appeal")], NOW)
    outbox.promise(store, later, [Subscriber("one@example.org")], WATCHLISTS, NOW)
    assert digests.digest_items(store, claim.id) == ([stored[0].development_id], [])
    assert outbox.unclaimed_items(store, "one@example.org") == ([later[0].development_id], [])


def test_an_attempt_holds_a_lease_and_sent_marks_every_row(store: Engine) -> None:
    stored = save_judgements(store, [judged("a")], NOW)
    outbox.promise(store, stored, [Subscriber("one@example.org")], WATCHLISTS, NOW)
    claim = digests.claim_digest(store, "one@example.org", "2023-03-03", "<m@x>", NOW)
    assert claim is not None
    lease = NOW + timedelta(minutes=2)
    assert digests.begin_attempt(store, claim.id, NOW, lease)
    assert not digests.begin_attempt(store, claim.id, NOW, lease)  # someone is sending it
    assert not digests.begin_attempt(store, claim.id, NOW, lease, force=True)  # in flight: not even forced
    digests.mark_retry(store, claim.id, "451 try later", lease)
    assert digests.begin_attempt(store, claim.id, NOW, lease, force=True)  # failed: --now may retry
    assert digests.begin_attempt(store, claim.id, lease, lease + timedelta(minutes=4))  # lease over
    digests.mark_sent(store, claim.id, lease)
    assert not digests.begin_attempt(store, claim.id, lease + timedelta(days=1), lease + timedelta(days=2))
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(outbox_table).where(outbox_table.c.sent.is_(False))).scalar() == 0
        row = conn.execute(select(digests_table.c.status, digests_table.c.attempts)).one()
    assert tuple(row) == ("sent", 3)
    assert digests.open_digests(store) == []


def test_schedule_is_recorded_per_subscriber(store: Engine) -> None:
    assert digests.next_digest_at(store, "one@example.org") is None
    digests.set_next_digest_at(store, "One@example.org", NOW)
    digests.set_next_digest_at(store, "one@example.org", NOW + timedelta(days=1), last_period="2023-03-03")
    assert digests.next_digest_at(store, "one@example.org") == NOW + timedelta(days=1)


def test_forgetting_a_subscriber_drops_unclaimed_promises(store: Engine) -> None:
    stored = save_judgements(store, [judged("a")], NOW)
    outbox.promise(store, stored, [Subscriber("one@example.org"), Subscriber("two@example.org")], WATCHLISTS, NOW)
    assert outbox.forget_subscriber(store, "one@example.org") == 1
    assert [r[0] for r in rows(store)] == ["two@example.org"]


def test_developments_are_assembled_with_first_reporter_first(store: Engine) -> None:
    early = datetime(2023, 3, 3, 4, tzinfo=UTC)
    new, event = judged("a")
    duplicate_late, _ = judged("b", Verdict.DUPLICATE, duplicate_of="a")
    duplicate_early, _ = judged("c", Verdict.DUPLICATE, duplicate_of="a")
    duplicate_early = replace(duplicate_early, entry=replace(duplicate_early.entry, published=early, feed="",
                                                             link="https://www.rfa.org/khmer/c"))
    stored = save_judgements(store, [(new, event), (duplicate_late, None), (duplicate_early, None)], NOW)
    found = digest_rows.load_developments(store, [stored[0].development_id], {"kem-sokha-treason": "Kem Sokha treason case"})
    development = found[stored[0].development_id]
    assert development.case_title == "Kem Sokha treason case"
    assert [r.outlet for r in development.reports] == ["Example News", "rfa.org", "Example News"]
    assert [r.link.rsplit("/", 1)[1] for r in development.reports] == ["a", "c", "b"]
