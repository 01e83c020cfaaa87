"""`monitor scan` streams (issue 11): the spool gives the lines the all-at-once path gives,
byte for byte, whatever the batch size; and its memory does not grow with the entries."""

from __future__ import annotations

import io
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from monitor import scan
from monitor.config import load_config
from monitor.judge.order import publication_order, unique_entries
from monitor.memory import load_judge
from monitor.model import Entry
from monitor.store.db import open_engine, upgrade
from monitor.store.judgements import seed_baseline

ROOT = Path(__file__).resolve().parent.parent
STREAMS = [ROOT / "tests" / "data" / name for name in ("stream", "stream2", "stream3")]
NOW = datetime(2025, 12, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def config():  # type: ignore[no-untyped-def]
    return load_config(ROOT / "config", ROOT / "baseline", env={})


def _lines(config: Any, folder: Path, *, batch: int | None) -> str:
    engine = open_engine("sqlite://")
    try:
        upgrade(engine)
        seed_baseline(engine, config.cases)
        judge = load_judge(engine, config.subjects, dict(config.cases))
        out, report = io.StringIO(), scan.ScanReport()
        if batch is None:  # the former path: every entry, judgement and line at once
            entries = scan.read_entries([str(folder)], lambda url: (b"", {}), report, lambda m: None)
            results = scan.judge_entries(engine, judge, publication_order(unique_entries(entries)), NOW)
            scan.write_results(results, out, report)
        else:
            with scan.spool_entries([str(folder)], lambda url: (b"", {}), report, lambda m: None) as spool:
                scan.judge_spool(engine, judge, spool, NOW, out, report, batch=batch)
    finally:
        engine.dispose()
    return out.getvalue()


@pytest.mark.parametrize("folder", STREAMS, ids=lambda p: p.name)
def test_the_spool_prints_what_the_all_at_once_path_prints(config: Any, folder: Path) -> None:
    expected = _lines(config, folder, batch=None)
    assert expected.count("\n") > 10
    for batch in (1, 7, 1000):
        assert _lines(config, folder, batch=batch) == expected


def _entry(i: int, *, link: str | None = None, key: str | None = None, day: int | None = None) -> Entry:
    return Entry(id=key or f"id-{i}", source="s.xml", title=f"t{i}", link=link if link is not None else f"https://x/{i}",
                 published=None if day is None else datetime(2025, 1, day, tzinfo=UTC), summary="x" * 1500,
                 content_hash=f"h{i}", feed="f")


def test_the_spool_keeps_one_of_each_in_publication_order() -> None:
    entries = [_entry(0, day=5), _entry(1, day=2), _entry(2, link="https://x/0", day=1), _entry(3, key="id-1", day=3),
               _entry(4), _entry(5, day=2), _entry(6, link="")]
    with scan.EntrySpool() as spool:
        for e in entries:
            spool.add(e)
        got = [e for batch in spool.in_publication_order(2) for e in batch]
    assert got == publication_order(unique_entries(entries))


def test_the_spool_holds_little_per_entry() -> None:
    tracemalloc.start()
    try:
        with scan.EntrySpool() as spool:
            for i in range(20_000):
                spool.add(_entry(i, day=1 + i % 28))
            _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # 20,000 entries of ~1.6 KB are ~32 MB; the spool keeps a sort key and 3 hashes each.
    assert peak / 20_000 < 600, f"{peak / 20_000:.0f} bytes per entry"
