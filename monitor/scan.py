"""`monitor scan`: replay feed files, folders of them, or URLs through match and diff.

Sends nothing. Prints one JSON object per entry, oldest publication first (README.md,
"`monitor scan`: the contract"). Each source that cannot be read gets one error line on stderr naming it; the
others are still scanned.

It streams (`spool_entries`, then `judge_spool`): memory stays flat with the number of
entries. Parsed entries are parked on disk in read order while only small sort keys stay in
memory; then they are read back oldest first, judged, stored and printed a batch at a time.
"""

from __future__ import annotations

import json
import pickle
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TextIO

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
FEED_SUFFIXES = frozenset({".xml", ".rss", ".atom", ".rdf", ".feed", ".cdf"})


@dataclass
class ScanReport:
    """What a scan did: entries judged, per verdict, and the sources that failed."""

    entries: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _read_source(
    source: str, fetch_url: Callable[[str], tuple[bytes, dict[str, str]]], report: ScanReport, warn: Callable[[str], None]
) -> tuple[Entry, ...]:
    """One source's entries; a source that fails is reported and yields none."""
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
        return ()
    if parsed.problem:
        report.problems.append(source)
        warn(f"warning: {source}: feed is malformed, kept {len(parsed.entries)} entries ({parsed.problem})")
    return parsed.entries


_FAR = datetime.max.replace(tzinfo=UTC)


class EntrySpool:
    """The entries of a scan, one of each (monitor.judge.order.unique_entries' rule), parked
    in a temporary file in read order; in memory only what orders them (publication time,
    position, offset) and hashes of the keys that tell repeats apart."""

    def __init__(self) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile(prefix="monitor-scan-")
        self._order: list[tuple[datetime, int, int]] = []
        self._seen: set[int] = set()
        self.languages: dict[str, None] = {}  # every entry's declared language, first seen first
        self.read = 0

    def add(self, entry: Entry) -> None:
        self.read += 1
        if entry.language:
            self.languages.setdefault(entry.language)
        # unique_entries' keys, as 64-bit hashes: same key, same link, or the same content
        # twice in one feed.
        keys = {hash(f"key:{entry.key}"), hash(f"hash:{entry.feed or entry.source}:{entry.content_hash}")}
        if entry.link:
            keys.add(hash(f"link:{entry.link}"))
        if keys & self._seen:
            return
        self._seen |= keys
        offset = self._file.tell()
        pickle.dump(entry, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self._order.append((entry.published or _FAR, len(self._order), offset))

    def __len__(self) -> int:
        return len(self._order)

    def in_publication_order(self, batch: int) -> Iterator[list[Entry]]:
        """Batches of entries, oldest publication first, undated last in read order
        (monitor.judge.order.publication_order's rule)."""
        self._order.sort()
        self._file.flush()
        for start in range(0, len(self._order), batch):
            out = []
            for _when, _position, offset in self._order[start : start + batch]:
                self._file.seek(offset)
                out.append(pickle.load(self._file))
            yield out

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> EntrySpool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def spool_entries(
    sources: Iterable[str],
    fetch_url: Callable[[str], tuple[bytes, dict[str, str]]],
    report: ScanReport,
    warn: Callable[[str], None],
) -> EntrySpool:
    """Parse every source into a spool, one source's entries in memory at a time."""
    spool = EntrySpool()
    try:
        for source in expand_sources(sources, FEED_SUFFIXES):
            for entry in _read_source(source, fetch_url, report, warn):
                spool.add(entry)
    except BaseException:
        spool.close()
        raise
    return spool


def judge_spool(
    engine: Engine, judge: Judge, spool: EntrySpool, now: datetime, out: TextIO, report: ScanReport, *, batch: int = 1000
) -> None:
    """Judge, store and print the spool's entries oldest first, `batch` at a time: the same
    lines, byte for byte, as judge_entries then write_results over all of them at once."""
    for entries in spool.in_publication_order(batch):
        write_results(judge_entries(engine, judge, entries, now), out, report)


def read_entries(
    sources: Iterable[str],
    fetch_url: Callable[[str], tuple[bytes, dict[str, str]]],
    report: ScanReport,
    warn: Callable[[str], None],
) -> list[Entry]:
    """Parse every source; one that fails is reported and skipped, never fatal. (Holds
    every entry: `spool_entries` is the streaming form.)"""
    collected: list[Entry] = []
    for source in expand_sources(sources, FEED_SUFFIXES):
        collected.extend(_read_source(source, fetch_url, report, warn))
    return collected


def languages_without_pack(entries: Iterable[Entry] | EntrySpool, languages: Collection[str]) -> list[str]:
    """The languages of `entries` (as their feeds declare them) that are not in `languages`,
    each once, in order of first appearance."""
    declared = entries.languages if isinstance(entries, EntrySpool) else (e.language for e in entries)
    missing: dict[str, None] = {}
    for tag in declared:
        if tag:
            language = primary_language(tag)
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
