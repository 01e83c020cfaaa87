"""What a digest shows of a development: its sources and the case's last known events before it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, Engine, select

from monitor.model import (
    CONTEXT_EVENTS,
    TYPE_FAMILY,
    DigestDevelopment,
    EventDate,
    KnownEvent,
    Precision,
    Report,
    Source,
)
from monitor.store.shared import begin, chunks, maybe_utc, utc
from monitor.store.tables import (
    developments,
    entries,
    known_events,
)


def outlet_of(feed: str, link: str) -> str:
    """The feed's name, else the host of the link (without www.)."""
    if feed:
        return feed
    try:
        host = urlsplit(link).hostname or ""
    except ValueError:
        host = ""
    return host.removeprefix("www.")


_TYPE_WHY = re.compile(r"^type: '(.+)' -> ")
_SENTENCE_END = re.compile(r"(?<=[.!?។。؟])\s+")
EVIDENCE_MAX = 300


def type_phrase(why: Any) -> str:
    """The words the type was read from ("type: 'found guilty' -> conviction" in `why`), or ''."""
    return next((m[1] for w in why or () if isinstance(w, str) and (m := _TYPE_WHY.match(w))), "")


def evidence(title: str, summary: str, why: Any) -> str:
    """The sentence (the title, else one of the summary) holding the words the type was read
    from ("type: 'found guilty' -> conviction" in `why`); those words alone when no sentence
    holds them as written; '' when the entry has no such words."""
    phrase = type_phrase(why)
    if not phrase:
        return ""
    wanted = phrase.casefold()
    for text in (title or "", *_SENTENCE_END.split(summary or "")):
        flat = " ".join(text.split())
        if wanted in flat.casefold():
            return flat if len(flat) <= EVIDENCE_MAX else flat[: EVIDENCE_MAX - 1].rstrip() + "…"
    return phrase


def _report(row: Any) -> Report:
    return Report(outlet_of(row.feed, row.link), row.title, row.link, maybe_utc(row.published),
                  language=getattr(row, "language", None), type_phrase=type_phrase(getattr(row, "why", None)))


def load_developments(
    target: Connection | Engine, ids: Iterable[int], case_titles: Mapping[str, str],
) -> dict[int, DigestDevelopment]:
    """DigestDevelopments by id: the development, every entry that reported it (the `new`
    one first, then duplicates by publication), and its case's last known events before it."""
    wanted = sorted(set(ids))
    out: dict[int, DigestDevelopment] = {}
    if not wanted:
        return out
    with begin(target) as conn:
        rows: list[Any] = []
        reports: dict[int, list[Any]] = {}
        for chunk in chunks(wanted):
            rows += conn.execute(select(developments).where(developments.c.id.in_(chunk))).all()
            for entry in conn.execute(select(
                entries.c.id, entries.c.development_id, entries.c.verdict, entries.c.feed,
                entries.c.title, entries.c.link, entries.c.published, entries.c.summary, entries.c.why,
                entries.c.language,
            ).where(entries.c.development_id.in_(chunk))):
                reports.setdefault(entry.development_id, []).append(entry)
        timelines = _timelines(conn, {r.case_id for r in rows}, max(wanted))
        deaths = _deaths(conn, max(wanted))
    for row in rows:
        found = reports.get(row.id, [])
        found.sort(key=lambda e: (e.verdict != "new", e.published is None,
                                  utc(e.published) if e.published else datetime.min.replace(tzinfo=UTC), e.id))
        when = EventDate(row.date, Precision(row.precision))
        out[row.id] = DigestDevelopment(
            development_id=row.id,
            case_id=row.case_id,
            case_title=case_titles.get(row.case_id, row.case_id),
            type=row.type,
            date=when,
            summary=row.summary,
            people=tuple(row.subjects or ()),
            reports=tuple(_report(e) for e in found),
            context=_context_before(timelines.get(row.case_id, []), row.id, row.type, row.date),
            evidence=evidence(found[0].title, found[0].summary, found[0].why) if found else "",
            dead=_dead_before(deaths, row.id, row.date),
        )
    return out


def _deaths(conn: Connection, max_id: int) -> list[tuple[int | None, date, tuple[str, ...]]]:
    """Every death the store knows, in any case: (development id or None for the baseline,
    date, subjects). A victim's name turns up in other cases too (a memorial's arrests)."""
    kinds = sorted(t for t, family in TYPE_FAMILY.items() if family == "death")
    out: list[tuple[int | None, date, tuple[str, ...]]] = [
        (None, row.date, tuple(row.subjects or ()))
        for row in conn.execute(select(known_events.c.date, known_events.c.subjects).where(known_events.c.type.in_(kinds)))
    ]
    out += [
        (row.id, row.date, tuple(row.subjects or ()))
        for row in conn.execute(select(developments.c.id, developments.c.date, developments.c.subjects)
                                .where(developments.c.type.in_(kinds), developments.c.id <= max_id))
    ]
    return out


def _dead_before(deaths: list[tuple[int | None, date, tuple[str, ...]]], development_id: int,
                 when: date) -> tuple[str, ...]:
    """The subjects of deaths before this development (baseline events dated before it,
    developments seen before it): it did not happen to them."""
    dead: dict[str, None] = {}
    for event_id, day, subjects in deaths:
        if (event_id is None and day < when) or (event_id is not None and event_id < development_id):
            dead.update(dict.fromkeys(subjects))
    return tuple(dead)


def _timelines(conn: Connection, case_ids: set[str], max_id: int) -> dict[str, list[tuple[int | None, KnownEvent]]]:
    """Per case: baseline events (id None) and developments up to `max_id`."""
    out: dict[str, list[tuple[int | None, KnownEvent]]] = {c: [] for c in case_ids}
    if not case_ids:
        return out
    cases = sorted(case_ids)
    for row in conn.execute(select(known_events).where(known_events.c.case_id.in_(cases))):
        out[row.case_id].append((None, KnownEvent(
            case=row.case_id, type=row.type, date=EventDate(row.date, Precision(row.precision)),
            summary=row.summary, subjects=tuple(row.subjects or ()),
            sources=tuple(Source(s.get("outlet", ""), s.get("title", ""),
                                 date.fromisoformat(s["date"]) if s.get("date") else None, s.get("link", ""))
                          for s in row.sources or ()),
        )))
    for row in conn.execute(select(developments).where(developments.c.case_id.in_(cases), developments.c.id <= max_id)):
        out[row.case_id].append((row.id, KnownEvent(
            case=row.case_id, type=row.type, date=EventDate(row.date, Precision(row.precision)),
            summary=row.summary, subjects=tuple(row.subjects or ()), entry_id=row.first_entry_key,
        )))
    return out


def _context_before(timeline: list[tuple[int | None, KnownEvent]], development_id: int, kind: str, when: date) -> tuple[KnownEvent, ...]:
    """The last CONTEXT_EVENTS events of the case before this development, newest first:
    baseline events up to its date (not itself restated) and developments seen before it."""
    earlier = [
        event for event_id, event in timeline
        if (event_id is None and event.date.value <= when and not (event.type == kind and event.date.value == when))
        or (event_id is not None and event_id < development_id)
    ]
    earlier.sort(key=lambda e: e.date.value, reverse=True)
    return tuple(earlier[:CONTEXT_EVENTS])


def load_coverage(target: Connection | Engine, entry_ids: Iterable[int]) -> list[Report]:
    """Coverage entries as Reports, newest publication first."""
    wanted = sorted(set(entry_ids))
    rows: list[Any] = []
    with begin(target) as conn:
        for chunk in chunks(wanted):
            rows += conn.execute(select(entries.c.id, entries.c.feed, entries.c.title, entries.c.link,
                                        entries.c.published).where(entries.c.id.in_(chunk))).all()
    rows.sort(key=lambda e: (utc(e.published) if e.published else datetime.min.replace(tzinfo=UTC), e.id), reverse=True)
    return [_report(r) for r in rows]
