"""Read-only queries for the web pages, /healthz and /metrics (the store as people see it)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select, text

from monitor.model import EventDate, Precision
from monitor.store import feedback
from monitor.store.digest_rows import outlet_of
from monitor.store.shared import begin, maybe_utc
from monitor.store.tables import developments, digests, entries, feeds, known_events, outbox


def ping(target: Connection | Engine) -> None:
    """Raise when the database cannot be reached."""
    with begin(target) as conn:
        conn.execute(text("SELECT 1")).scalar()


def last_successful_poll(target: Connection | Engine) -> datetime | None:
    with begin(target) as conn:
        return maybe_utc(conn.execute(select(func.max(feeds.c.last_success_at))).scalar())


def counts(target: Connection | Engine) -> dict[str, Any]:
    """What /metrics reads from the tables at scrape time."""
    with begin(target) as conn:
        verdicts: dict[Any, Any] = dict(conn.execute(select(entries.c.verdict, func.count()).group_by(entries.c.verdict)).all())
        by_status: dict[Any, Any] = dict(conn.execute(select(digests.c.status, func.count()).group_by(digests.c.status)).all())
        unclaimed = conn.execute(select(func.count()).select_from(outbox).where(
            outbox.c.sent.is_(False), outbox.c.digest_id.is_(None))).scalar() or 0
        feed_errors = conn.execute(select(func.coalesce(func.sum(feeds.c.error_count), 0))).scalar() or 0
        failing = conn.execute(select(func.count()).select_from(feeds).where(feeds.c.error_count > 0)).scalar() or 0
        last = maybe_utc(conn.execute(select(func.max(feeds.c.last_success_at))).scalar())
    return {"verdicts": {str(k): int(v) for k, v in verdicts.items()},
            "digests": {str(k): int(v) for k, v in by_status.items()},
            "unclaimed": int(unclaimed), "feed_errors": int(feed_errors), "failing_feeds": int(failing),
            "last_success": last}


# --- Case pages: timelines of baseline events and developments, with their sources. ---



@dataclass
class SourceView:
    entry_id: int
    outlet: str
    title: str
    link: str
    published: str | None  # ISO 8601
    verdict: str
    date: str | None = None  # the development's date as this entry told it
    type: str | None = None


@dataclass
class DevelopmentRow:
    id: int
    case_id: str
    type: str
    date: str
    precision: str
    summary: str
    people: list[str]
    first: SourceView | None
    others: list[SourceView]
    outlets: int  # distinct outlets that reported it
    single_source: bool
    why: list[str]
    text: str = ""  # the first report's title and summary: what the judgement read
    feedback: list[str] = field(default_factory=list)  # labels readers gave it
    kind: str = "development"

    @property
    def event_date(self) -> EventDate:
        return EventDate(date.fromisoformat(self.date), Precision(self.precision))


@dataclass
class BaselineRow:
    id: int
    case_id: str
    type: str
    date: str
    precision: str
    summary: str
    sources: list[dict[str, str]]
    kind: str = "baseline"

    @property
    def event_date(self) -> EventDate:
        return EventDate(date.fromisoformat(self.date), Precision(self.precision))


def as_json(row: DevelopmentRow | BaselineRow) -> dict[str, Any]:
    return asdict(row)


def _iso(moment: datetime | None) -> str | None:
    moment = maybe_utc(moment)
    return moment.isoformat() if moment else None


def _sources(conn: Connection, development_ids: Collection[int]) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = {}
    ids = sorted(development_ids)
    for start in range(0, len(ids), 500):
        for row in conn.execute(select(entries).where(entries.c.development_id.in_(ids[start:start + 500]))):
            found.setdefault(row.development_id, []).append(row)
    return found


def _development(row: Any, reports: list[Any], labels: Mapping[int, list[str]]) -> DevelopmentRow:
    def order(e: Any) -> tuple[Any, ...]:
        published = maybe_utc(e.published)
        return (e.verdict != "new", published is None, published.timestamp() if published else 0.0, e.id)

    reports = sorted(reports, key=order)
    views = [SourceView(e.id, outlet_of(e.feed, e.link), e.title, e.link, _iso(e.published), e.verdict,
                        e.dev_date.isoformat() if e.dev_date else None, e.dev_type) for e in reports]
    first = views[0] if views else None
    outlets = len({v.outlet for v in views})
    head = reports[0] if reports else None
    return DevelopmentRow(
        id=row.id, case_id=row.case_id, type=row.type, date=row.date.isoformat(), precision=row.precision,
        summary=row.summary, people=list(row.subjects or ()), first=first, others=views[1:], outlets=outlets,
        single_source=outlets <= 1, why=list(head.why or ()) if head is not None else [],
        text=(head.title + ("\n\n" + head.summary if head.summary else "")) if head is not None else "",
        feedback=labels.get(row.id, []),
    )


def _labels(conn: Connection, ids: Collection[int]) -> dict[int, list[str]]:
    return feedback.labels_for(conn, ids)


def timeline(
    target: Connection | Engine, case_id: str, *, types: Collection[str] = (), since: date | None = None,
    until: date | None = None, hidden: bool = True,
) -> list[DevelopmentRow | BaselineRow]:
    """The case's baseline events and developments interleaved by date, oldest first.

    `types` keeps only those development types; `since`/`until` bound the dates (inclusive).
    With `hidden` false, developments readers marked "not news" or "wrong case" are left out.
    """
    with begin(target) as conn:
        query = select(known_events).where(known_events.c.case_id == case_id)
        dev_query = select(developments).where(developments.c.case_id == case_id)
        if types:
            query = query.where(known_events.c.type.in_(sorted(types)))
            dev_query = dev_query.where(developments.c.type.in_(sorted(types)))
        if since:
            query = query.where(known_events.c.date >= since)
            dev_query = dev_query.where(developments.c.date >= since)
        if until:
            query = query.where(known_events.c.date <= until)
            dev_query = dev_query.where(developments.c.date <= until)
        base = list(conn.execute(query))
        devs = list(conn.execute(dev_query))
        sources = _sources(conn, [d.id for d in devs])
        labels = _labels(conn, [d.id for d in devs])
    out: list[DevelopmentRow | BaselineRow] = [
        BaselineRow(r.id, r.case_id, r.type, r.date.isoformat(), r.precision, r.summary,
                    [{k: str(v) for k, v in s.items()} for s in r.sources or ()]) for r in base]
    for d in devs:
        row = _development(d, sources.get(d.id, []), labels)
        if not hidden and set(row.feedback) & {"not_news", "wrong_case"}:
            continue
        out.append(row)
    out.sort(key=lambda r: (r.date, r.kind == "development", r.id))
    return out


def development(target: Connection | Engine, development_id: int) -> DevelopmentRow | None:
    with begin(target) as conn:
        row = conn.execute(select(developments).where(developments.c.id == development_id)).first()
        if row is None:
            return None
        return _development(row, _sources(conn, [row.id]).get(row.id, []), _labels(conn, [row.id]))


@dataclass
class CaseSummary:
    id: str
    title: str
    status: str
    developments: int
    baseline_events: int
    sources: int
    last_development: dict[str, Any] | None


def case_summaries(target: Connection | Engine, cases: Mapping[str, tuple[str, str]]) -> list[CaseSummary]:
    """Every case in `cases` (id -> (title, status)) with its counts and last development."""
    with begin(target) as conn:
        dev_counts: dict[Any, Any] = dict(conn.execute(select(developments.c.case_id, func.count()).group_by(developments.c.case_id)).all())
        base_counts: dict[Any, Any] = dict(conn.execute(select(known_events.c.case_id, func.count()).group_by(known_events.c.case_id)).all())
        source_counts: dict[Any, Any] = dict(conn.execute(
            select(developments.c.case_id, func.count(entries.c.id))
            .join(entries, entries.c.development_id == developments.c.id).group_by(developments.c.case_id)).all())
        last: dict[str, Any] = {}
        for row in conn.execute(select(developments).order_by(developments.c.date, developments.c.id)):
            last[row.case_id] = row
    out = []
    for case_id, (title, status) in cases.items():
        found: Any = last.get(case_id)
        out.append(CaseSummary(
            case_id, title, status, int(dev_counts.get(case_id, 0)), int(base_counts.get(case_id, 0)),
            int(source_counts.get(case_id, 0)),
            {"id": found.id, "type": found.type, "date": found.date.isoformat(), "precision": found.precision,
             "summary": found.summary} if found is not None else None,
        ))
    return out
