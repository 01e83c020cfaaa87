"""Store judged entries and developments, and load what diff needs to judge the next ones.

Only plain values (model dataclasses, dicts) cross this boundary; no Row or ORM object
leaves the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Engine, delete, insert, select

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
from monitor.store.tables import developments, entries, known_events, mentions


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
        conn.execute(delete(known_events))
        if rows:
            conn.execute(insert(known_events), rows)


def load_known_events(engine: Engine) -> list[KnownEvent]:
    """Baseline events and every development seen, oldest first."""
    out: list[KnownEvent] = []
    with engine.connect() as conn:
        for row in conn.execute(select(known_events).order_by(known_events.c.date)).mappings():
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
        for row in conn.execute(select(developments).order_by(developments.c.id)).mappings():
            out.append(_development_event(row))
    return out


def _development_event(row: Mapping[str, object]) -> KnownEvent:
    return KnownEvent(
        case=str(row["case_id"]),
        type=str(row["type"]),
        date=EventDate(row["date"], Precision(str(row["precision"]))),  # type: ignore[arg-type]
        summary=str(row["summary"]),
        subjects=tuple(row["subjects"]),  # type: ignore[arg-type]
        entry_id=str(row["first_entry_key"]),
    )


def recent_stories(engine: Engine, limit: int = 2000) -> list[dict[str, object]]:
    """The latest entries that reported a development, for near-duplicate fingerprints."""
    query = (
        select(entries.c.entry_key, entries.c.title, entries.c.summary, entries.c.people,
               entries.c.published, entries.c.verdict, entries.c.duplicate_of)
        .where(entries.c.verdict.in_([Verdict.NEW.value, Verdict.DUPLICATE.value]))
        .order_by(entries.c.id.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
    rows.reverse()
    return rows


def stored_judgements(engine: Engine, keys: Iterable[str]) -> dict[str, dict[str, object]]:
    """Entries already judged, by entry key: a re-scan or re-poll reports them unchanged."""
    wanted = list(dict.fromkeys(keys))
    found: dict[str, dict[str, object]] = {}
    with engine.connect() as conn:
        for chunk_start in range(0, len(wanted), 500):
            chunk = wanted[chunk_start : chunk_start + 500]
            query = select(entries, developments.c.case_id, developments.c.type.label("dev_type"),
                           developments.c.date.label("dev_date"), developments.c.precision.label("dev_precision")
                           ).outerjoin(developments, entries.c.development_id == developments.c.id
                           ).where(entries.c.entry_key.in_(chunk))
            for row in conn.execute(query).mappings():
                found[row["entry_key"]] = dict(row)
    return found


@dataclass(frozen=True)
class StoredEntry:
    """What was written for one judged entry: its row, and its development's row if any."""

    entry_key: str
    entry_row: int
    verdict: Verdict
    cases: tuple[str, ...]
    development_id: int | None  # for new and duplicate entries
    created_development: bool  # True for the entry that announced it (`new`)


def save_judgements(engine: Engine, judged: Iterable[tuple[Judgement, KnownEvent | None]], now: datetime | None = None) -> list[StoredEntry]:
    """Write judged entries (and the developments they announced) in one transaction.

    Returns what was stored, so delivery can promise the new developments.
    """
    now = now or datetime.now(UTC)
    stored: list[StoredEntry] = []
    dev_by_root: dict[str, int] = {}
    with engine.begin() as conn:
        for judgement, event in judged:
            entry = judgement.entry
            development_id: int | None = None
            if judgement.verdict is Verdict.NEW and event is not None:
                development_id = conn.execute(
                    insert(developments).values(
                        case_id=event.case, type=event.type, date=event.date.value,
                        precision=str(event.date.precision), subjects=list(event.subjects),
                        summary=event.summary, first_entry_key=entry.id, created_at=now,
                    )
                ).inserted_primary_key[0]
                dev_by_root[entry.id] = development_id
            elif judgement.verdict is Verdict.DUPLICATE and judgement.duplicate_of:
                development_id = dev_by_root.get(judgement.duplicate_of) or _development_of(conn, judgement.duplicate_of)
            entry_id = conn.execute(
                insert(entries).values(
                    entry_key=entry.id, feed=entry.feed, source=entry.source, title=entry.title,
                    link=entry.link, summary=entry.summary[:2000], published=entry.published,
                    first_seen=now, content_hash=entry.content_hash, verdict=judgement.verdict.value,
                    people=list(judgement.people), cases=list(judgement.cases),
                    development_id=development_id, duplicate_of=judgement.duplicate_of,
                    why=list(judgement.why),
                )
            ).inserted_primary_key[0]
            if judgement.people:
                conn.execute(insert(mentions), [
                    {"entry_id": entry_id, "subject": p, "alias": "", "field": ""} for p in judgement.people
                ])
            stored.append(StoredEntry(
                entry.id, entry_id, judgement.verdict, judgement.cases, development_id,
                judgement.verdict is Verdict.NEW and development_id is not None,
            ))
    return stored


def _development_of(conn, entry_key: str) -> int | None:  # type: ignore[no-untyped-def]
    return conn.execute(select(entries.c.development_id).where(entries.c.entry_key == entry_key)).scalar()


def judgement_from_row(entry: Entry, row: Mapping[str, object]) -> Judgement:
    """Rebuild the judgement stored for an entry seen before."""
    development = None
    if row.get("case_id"):
        development = Development(
            case=str(row["case_id"]),
            type=str(row["dev_type"]),
            date=EventDate(row["dev_date"], Precision(str(row["dev_precision"]))),  # type: ignore[arg-type]
        )
    return Judgement(
        entry=entry,
        verdict=Verdict(str(row["verdict"])),
        people=tuple(row["people"]),  # type: ignore[arg-type]
        cases=tuple(row["cases"]),  # type: ignore[arg-type]
        development=development,
        duplicate_of=row.get("duplicate_of"),  # type: ignore[arg-type]
        why=tuple(row["why"]),  # type: ignore[arg-type]
    )
