"""`monitor scan`: replay feed files, folders of them, or URLs through match and diff.

Sends nothing. Prints one JSON object per entry, oldest publication first (README.md,
"`monitor scan`: the contract"). Each source that cannot be read gets one error line on stderr naming it; the
others are still scanned.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine

from monitor.config import primary_language
from monitor.errors import MonitorError
from monitor.judge.verdict import Judge
from monitor.model import Entry, Judgement
from monitor.parse import parse_feed
from monitor.sources import expand_sources
from monitor.store import judgements as store

# In a folder, only files that look like feeds are read (a README or labels file beside
# them is not an error); a file named explicitly is always read.
FEED_SUFFIXES = frozenset({".xml", ".rss", ".atom", ".rdf", ".feed"})


@dataclass
class ScanReport:
    """What a scan did: entries judged, per verdict, and the sources that failed."""

    entries: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_entries(
    sources: Iterable[str],
    fetch_url: Callable[[str], tuple[bytes, dict[str, str]]],
    report: ScanReport,
    warn: Callable[[str], None],
) -> list[Entry]:
    """Parse every source; one that fails is reported and skipped, never fatal."""
    collected: list[Entry] = []
    for source in expand_sources(sources, FEED_SUFFIXES):
        try:
            if source.startswith(("http://", "https://")):
                body, headers = fetch_url(source)
            else:
                try:
                    body, headers = Path(source).read_bytes(), {}
                except OSError as exc:
                    raise MonitorError(f"{source}: cannot read file: {exc.strerror or exc}") from exc
            parsed = parse_feed(body, source=source, headers=headers)
        except MonitorError as exc:
            report.failures.append(source)
            warn(f"error: {exc}")
            continue
        if parsed.problem:
            report.problems.append(source)
            warn(f"warning: {source}: feed is malformed, kept {len(parsed.entries)} entries ({parsed.problem})")
        collected.extend(parsed.entries)
    return collected


def languages_without_pack(entries: Iterable[Entry], languages: Collection[str]) -> list[str]:
    """The languages of `entries` (as their feeds declare them) that are not in `languages`,
    each once, in order of first appearance."""
    missing: dict[str, None] = {}
    for entry in entries:
        if entry.language:
            language = primary_language(entry.language)
            if language and language not in languages:
                missing.setdefault(language)
    return list(missing)


def judge_entries(engine: Engine, judge: Judge, entries: list[Entry], now: datetime) -> list[Judgement]:
    """Judge new entries in order and store them; entries seen before keep their verdict."""
    stored = store.stored_judgements(engine, (e.key for e in entries))
    results: list[Judgement] = []
    fresh = []
    for entry in entries:
        row = stored.get(entry.key)
        if row is not None:
            results.append(row.for_entry(entry))
            continue
        judgement, event = judge.judge(entry, now=now)
        fresh.append((judgement, event))
        results.append(judgement)
    store.save_judgements(engine, fresh, now)
    return results


def to_json(judgement: Judgement) -> str:
    entry = judgement.entry
    dev = judgement.development
    line = {
        "id": entry.id,
        "source": entry.source,
        "title": entry.title,
        "link": entry.link,
        "published": entry.published.isoformat() if entry.published else None,
        "people": list(judgement.people),
        "cases": list(judgement.cases),
        "verdict": judgement.verdict.value,
        "development": (
            {"case": dev.case, "type": dev.type, "date": str(dev.date)} if dev is not None else None
        ),
        "duplicate_of": judgement.duplicate_of,
        "why": list(judgement.why),
    }
    return json.dumps(line, ensure_ascii=False)


def write_results(results: Iterable[Judgement], out: TextIO, report: ScanReport) -> None:
    for judgement in results:
        out.write(to_json(judgement) + "\n")
        report.entries += 1
        key = judgement.verdict.value
        report.verdicts[key] = report.verdicts.get(key, 0) + 1
