"""Benchmark of the parse step: the lxml fast path (monitor/feedread.py) against raw feedparser.

Uses poll.py's farm (60% RSS 2.0, 40% Atom, ~1.9 KB entries with an author, categories, an
HTML summary and HTML content with entities; bodies in memory), checks first that the fast
path accepts every feed and gives feedparser's entries field for field, then times, each
in `--repeat` rounds (the best of each is printed; the machine is shared, so the figures are
noisy):

  feedparser         feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False),
                     as monitor.parse calls it (and feedparser's defaults, for reference)
  fast path          monitor.feedread.read_feed(body, headers)
  parse stage        monitor.parse.parse_feed (fast path, feedparser when it refuses) against
                     the same stage on feedparser alone (feedparser.parse + the same entry
                     building), i.e. what a scan or a poll spends per entry

    .venv/bin/python benchmarks/parse.py [--feeds 200] [--entries 50] [--repeat 5]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import feedparser  # noqa: E402
from poll import feed_body  # noqa: E402

from monitor.feedread import read_feed  # noqa: E402
from monitor.parse import _to_entry, html_to_text, parse_feed  # noqa: E402

HEADERS = {"content-type": "application/xml; charset=utf-8"}


def feedparser_monitor(body: bytes) -> Any:
    return feedparser.parse(BytesIO(body), response_headers=dict(HEADERS), sanitize_html=False,
                            resolve_relative_uris=False)


def feedparser_defaults(body: bytes) -> Any:
    return feedparser.parse(BytesIO(body), response_headers=dict(HEADERS))


def fast_path(body: bytes) -> Any:
    return read_feed(body, HEADERS)


def entries_of(parsed: Any) -> tuple[Any, ...]:
    """parse_feed's own building of entries from a feedparser-shaped result."""
    language = parsed.feed.get("language") or None
    return html_to_text(parsed.feed.get("title", "")), tuple(
        _to_entry(raw, source="bench", feed="bench", language=language) for raw in parsed.entries)


def stage_feedparser(body: bytes) -> Any:
    return entries_of(feedparser_monitor(body))


def stage_fast(body: bytes) -> Any:
    return parse_feed(body, source="bench", feed="bench", headers=HEADERS)


def best_times(runs: list[Callable[[bytes], Any]], bodies: list[bytes], repeat: int) -> list[float]:
    """The best time of each run over `repeat` rounds; each round times every run in turn,
    so a busy spell on the shared machine hits them all alike."""
    best = [float("inf")] * len(runs)
    for _ in range(repeat):
        for i, run in enumerate(runs):
            start = time.perf_counter()
            for body in bodies:
                run(body)
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    names = ["Kem Sokha", "Sam Rainsy", "Mu Sochua"]
    bodies = [feed_body(i, args.entries, names) for i in range(args.feeds)]
    total = args.feeds * args.entries
    size = sum(map(len, bodies))
    print(f"farm: {args.feeds} feeds x {args.entries} entries = {total:,} entries, {size / 1e6:.1f} MB "
          f"(~{size / total:.0f} B/entry), headers {HEADERS}")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for i, body in enumerate(bodies):
            fast = fast_path(body)
            if fast is None:
                raise SystemExit(f"the fast path refused feed {i}: nothing to compare")
            if entries_of(fast) != stage_feedparser(body):
                raise SystemExit(f"feed {i}: the fast path and feedparser disagree")
    print(f"check: the fast path accepted all {args.feeds} feeds and equals feedparser on every entry")

    rows = [
        ("feedparser, defaults", feedparser_defaults),
        ("feedparser, as monitor.parse calls it", feedparser_monitor),
        ("fast path (monitor.feedread.read_feed)", fast_path),
        ("parse stage on feedparser alone", stage_feedparser),
        ("parse stage with the fast path (parse_feed)", stage_fast),
    ]
    rates: dict[str, float] = {}
    print(f"best of {args.repeat} rounds (2 shared cores: noisy; compare ratios within one run)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        times = best_times([run for _, run in rows], bodies, args.repeat)
    for (label, _), seconds in zip(rows, times, strict=True):
        rates[label] = total / seconds
        print(f"  {label:<46} {seconds:7.2f} s  {total / seconds:9,.0f} entries/s  {size / seconds / 1e6:6.1f} MB/s")
    raw = rates["fast path (monitor.feedread.read_feed)"] / rates["feedparser, as monitor.parse calls it"]
    stage = rates["parse stage with the fast path (parse_feed)"] / rates["parse stage on feedparser alone"]
    print(f"fast path / raw feedparser: {raw:.1f}x (target >= 3x)")
    print(f"parse stage, fast path / feedparser: {stage:.1f}x")


if __name__ == "__main__":
    main()
