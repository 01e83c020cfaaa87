"""Store judged entries and developments, and load what diff needs to judge the next ones.

Only plain values (model dataclasses, dicts) cross this boundary; no Row or ORM object
leaves the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, delete, func, insert, select, update

from monitor.model import (
    Case,
    Development,
    Entry,
    EventDate,
    Judgement,
    KnownEvent,
    Precision,
    Source,
    Verdict,
)
from monitor.store.shared import begin, chunks, utc, xact_lock
from monitor.store.tables import developments, entries, judge_state, known_events, mentions


def seed_baseline(engine: Engine, cases: Mapping[str, Case]) -> None:
    """Replace the baseline's events with the ones in `cases` (editing baseline/ updates)."""
    rows = [
        {
            "case_id": case.id,
            "type": event.type,
            "date": event.date.value,
            "precision": str(event.date.precision),
            "summary": event.summary,
            "subjects": list(event.subjects or case.subjects),
            "sources": [
                {"outlet": s.outlet, "title": s.title, "date": s.date.isoformat() if s.date else None, "link": s.link}
                for s in event.sources
            ],
        }
        for case in cases.values()
        for event in case.events
    ]
    with engine.begin() as conn:
        xact_lock(conn, "baseline")  # daemons starting together: one replaces it, then the next
        conn.execute(delete(known_events))
        if rows:
            conn.execute(insert(known_events), rows)


def load_known_events(target: Connection | Engine, *, after_development: int | None = None) -> list[KnownEvent]:
    """Baseline events and every development seen, oldest first; with `after_development`,
    only the developments whose id is above it (what another daemon judged since)."""
    out: list[KnownEvent] = []
    with begin(target) as conn:
        baseline = select(known_events).order_by(known_events.c.date)
        for row in ([] if after_development is not None else conn.execute(baseline).mappings()):
            out.append(
                KnownEvent(
                    case=row["case_id"],
                    type=row["type"],
                    date=EventDate(row["date"], Precision(row["precision"])),
                    summary=row["summary"],
                    subjects=tuple(row["subjects"]),
                    sources=tuple(
                        Source(s["outlet"], s.get("title", ""), date.fromisoformat(s["date"]) if s.get("date") else None, s.get("link", ""))
                        for s in row["sources"]
                    ),
                )
            )
        first_published = (
            select(func.min(entries.c.published))
            .where(entries.c.development_id == developments.c.id, entries.c.verdict == Verdict.NEW.value)
            .scalar_subquery()
            .label("reported_at")
        )
        query = select(developments, first_published).order_by(developments.c.id)
        if after_development is not None:
            query = query.where(developments.c.id > after_development)
        for row in conn.execute(query).mappings():
            out.append(_development_event(row))
    return out


def _development_event(row: RowMapping) -> KnownEvent:
    return KnownEvent(
        case=str(row["case_id"]),
        type=str(row["type"]),
        date=EventDate(row["date"], Precision(str(row["precision"]))),
        summary=str(row["summary"]),
        subjects=tuple(row["subjects"]),
        entry_id=str(row["first_entry_key"]),
        reported_at=utc(row["reported_at"]),
    )


@dataclass(frozen=True)
class StoredStory:
    """An entry that reported a development, as the near-duplicate fingerprints need it."""

    entry_key: str
    root_key: str  # the entry that first reported its development
    people: tuple[str, ...]
    published: datetime | None
    title: str
    summary: str


def recent_stories(target: Connection | Engine, limit: int = 2000, *, after_entry: int | None = None) -> list[StoredStory]:
    """The latest entries that reported a development, oldest first (with `after_entry`,
    only those whose id is above it)."""
    query = (
        select(entries.c.entry_key, entries.c.title, entries.c.summary, entries.c.people,
               entries.c.published, entries.c.verdict, entries.c.duplicate_of)
        .where(entries.c.verdict.in_([Verdict.NEW.value, Verdict.DUPLICATE.value]))
        .order_by(entries.c.id.desc())
        .limit(limit)
    )
    if after_entry is not None:
        query = query.where(entries.c.id > after_entry)
    with begin(target) as conn:
        stories = [
            StoredStory(r.entry_key, r.duplicate_of or r.entry_key, tuple(r.people), r.published, r.title, r.summary)
            for r in conn.execute(query)
        ]
    stories.reverse()
    return stories


def stored_judgements(engine: Engine, keys: Iterable[str]) -> dict[str, StoredJudgement]:
    """Entries already judged, by entry key: a re-scan or re-poll reports them unchanged."""
    wanted = list(dict.fromkeys(keys))
    found: dict[str, StoredJudgement] = {}
    with engine.connect() as conn:
        for chunk in chunks(wanted):
            for row in conn.execute(select(entries).where(entries.c.entry_key.in_(chunk))):
                development = None
                if row.dev_case:
                    development = Development(
                        case=row.dev_case, type=row.dev_type,
                        date=EventDate(row.dev_date, Precision(row.dev_precision)),
                    )
                found[row.entry_key] = StoredJudgement(
                    verdict=Verdict(row.verdict), people=tuple(row.people), cases=tuple(row.cases),
                    development=development, duplicate_of=row.duplicate_of, why=tuple(row.why),
                )
    return found


@dataclass(frozen=True)
class StoredJudgement:
    """The verdict stored for an entry seen before; `for_entry` rebuilds its Judgement."""

    verdict: Verdict
    people: tuple[str, ...]
    cases: tuple[str, ...]
    development: Development | None
    duplicate_of: str | None
    why: tuple[str, ...]

    def for_entry(self, entry: Entry) -> Judgement:
        return Judgement(entry=entry, verdict=self.verdict, people=self.people, cases=self.cases,
                         development=self.development, duplicate_of=self.duplicate_of, why=self.why)


@dataclass(frozen=True)
class StoredEntry:
    """What was written for one judged entry: its row, and its development's row if any."""

    entry_key: str
    entry_row: int
    verdict: Verdict
    cases: tuple[str, ...]
    development_id: int | None  # for new and duplicate entries
    created_development: bool  # True for the entry that announced it (`new`)


@dataclass(frozen=True)
class MemoryMarks:
    """How far a Judge's memory has read the database: the judge_state version and reroot
    count, and the highest development and entry ids it holds."""

    version: int
    reroots: int
    development: int
    entry: int


def memory_marks(conn: Connection) -> MemoryMarks:
    """Where the database stands now (read under the judge lock to be exact)."""
    state = conn.execute(select(judge_state.c.version, judge_state.c.reroots).where(judge_state.c.id == 1)).first()
    dev = conn.execute(select(func.coalesce(func.max(developments.c.id), 0))).scalar_one()
    entry = conn.execute(select(func.coalesce(func.max(entries.c.id), 0))).scalar_one()
    version, reroots = (int(state.version), int(state.reroots)) if state is not None else (0, 0)
    return MemoryMarks(version, reroots, int(dev), int(entry))


def save_judgements(
    target: Connection | Engine,
    judged: Iterable[tuple[Judgement, KnownEvent | None]],
    now: datetime | None = None,
    *,
    on_stored: Callable[[Connection, list[StoredEntry]], object] | None = None,
) -> list[StoredEntry]:
    """Write judged entries (and the developments they announced) in one transaction.

    `on_stored` runs inside that transaction (delivery promises the new developments there),
    so a crash keeps both or neither. Every write bumps judge_state's version (and its
    reroot count when a first report was replaced), so other daemons' Judges know to read
    it before they judge (memory.py). Returns what was stored.
    """
    now = now or datetime.now(UTC)
    judged = list(judged)
    stored: list[StoredEntry] = []
    with begin(target) as conn:
        dev_by_root: dict[str, int] = {}
        for judgement, event in judged:
            if judgement.supersedes:
                superseded = _supersede(conn, judgement.supersedes, judgement.entry.id, judgement.entry.title)
                if superseded is not None:
                    dev_by_root[judgement.entry.id] = superseded
            elif judgement.verdict is Verdict.NEW and event is not None:
                dev_by_root[judgement.entry.id] = conn.execute(
                    insert(developments).returning(developments.c.id).values(
                        case_id=event.case, type=event.type, date=event.date.value,
                        precision=str(event.date.precision), subjects=list(event.subjects),
                        summary=event.summary, first_entry_key=judgement.entry.id, created_at=now,
                    )
                ).scalar_one()
        missing = {j.duplicate_of for j, _ in judged if j.verdict is Verdict.DUPLICATE and j.duplicate_of} - dev_by_root.keys()
        for chunk in chunks(sorted(missing)):
            query = select(developments.c.first_entry_key, developments.c.id).where(developments.c.first_entry_key.in_(chunk))
            dev_by_root.update({row.first_entry_key: row.id for row in conn.execute(query)})
        rows: list[dict[str, Any]] = []
        for judgement, _event in judged:
            entry, dev = judgement.entry, judgement.development
            if judgement.verdict is Verdict.NEW:
                development_id = dev_by_root.get(entry.id)
            elif judgement.verdict is Verdict.DUPLICATE and judgement.duplicate_of:
                development_id = dev_by_root.get(judgement.duplicate_of)
            else:
                development_id = None
            rows.append({
                "entry_key": entry.key, "feed": entry.feed, "source": entry.source, "title": entry.title,
                "link": entry.link, "summary": entry.summary[:2000], "published": entry.published,
                "language": (entry.language or "")[:40] or None,
                "first_seen": now, "content_hash": entry.content_hash, "verdict": judgement.verdict.value,
                "people": list(judgement.people), "cases": list(judgement.cases),
                "development_id": development_id, "duplicate_of": judgement.duplicate_of,
                "why": list(judgement.why),
                "dev_case": dev.case if dev else None, "dev_type": dev.type if dev else None,
                "dev_date": dev.date.value if dev else None, "dev_precision": str(dev.date.precision) if dev else None,
            })
        if not rows:
            return stored
        rerooted = int(any(j.supersedes for j, _ in judged))
        conn.execute(update(judge_state).where(judge_state.c.id == 1).values(
            version=judge_state.c.version + 1, reroots=judge_state.c.reroots + rerooted))
        # One executemany, then the ids by key: INSERT .. RETURNING in parameter order runs
        # one statement per row on SQLite (issue 11: 30,000 round trips for 30,000 entries).
        conn.execute(insert(entries), rows)
        keys = [row["entry_key"] for row in rows]
        id_of: dict[str, int] = {}
        for chunk in chunks(keys):
            id_of.update((row.entry_key, row.id) for row in conn.execute(select(entries.c.entry_key, entries.c.id).where(entries.c.entry_key.in_(chunk))))
        ids = [id_of[key] for key in keys]
        mention_rows = [
            {"entry_id": row_id, "subject": person, "alias": "", "field": ""}
            for row_id, (judgement, _) in zip(ids, judged, strict=True)
            for person in judgement.people
        ]
        if mention_rows:
            conn.execute(insert(mentions), mention_rows)
        for row_id, row, (judgement, _) in zip(ids, rows, judged, strict=True):
            stored.append(StoredEntry(
                row["entry_key"], row_id, judgement.verdict, judgement.cases, row["development_id"],
                judgement.verdict is Verdict.NEW and row["development_id"] is not None and not judgement.supersedes,
            ))
        if on_stored is not None:
            on_stored(conn, stored)
    return stored


def _supersede(conn: Connection, old_first: str, new_first: str, title: str) -> int | None:
    """`new_first`, published earlier, becomes the first report of `old_first`'s development.

    The development keeps its id (so what was promised stays promised, once); the entry
    that announced it and every duplicate of it now point at the new first report, and its
    summary (the digest's headline) is the new first report's `title`.
    """
    development_id = conn.execute(
        select(developments.c.id).where(developments.c.first_entry_key == old_first)
    ).scalar_one_or_none()
    if development_id is None:
        return None
    values: dict[str, str] = {"first_entry_key": new_first}
    if title.strip():
        values["summary"] = title
    conn.execute(update(developments).where(developments.c.id == development_id).values(**values))
    conn.execute(
        update(entries)
        .where(entries.c.development_id == development_id, entries.c.verdict == Verdict.NEW.value)
        .values(verdict=Verdict.DUPLICATE.value, duplicate_of=new_first)
    )
    conn.execute(update(entries).where(entries.c.duplicate_of == old_first).values(duplicate_of=new_first))
    return int(development_id)
