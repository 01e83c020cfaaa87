"""Benchmark of the watch-and-diff core: parse, judge (match + classify + diff), whole scan.

Generates a synthetic farm of RSS files (default 100 feeds x 500 entries = 50,000 entries;
~2% name watched subjects with development words, the rest unrelated news) and a synthetic
watchlist of 5,000 subjects (generated names with aliases in two scripts, short forms,
exclusions, one case per five subjects) plus the shipped config's subjects and cases, then
times, in one process:

  (a) parse   monitor.parse.parse_feed over every file (bodies already in memory)
  (b) judge   monitor.judge.verdict.Judge.judge over the parsed entries, oldest first
  (c) scan    the whole `monitor scan` path: read files, parse, dedup, order, judge, store
              into a throwaway SQLite file, and render the JSON lines (monitor.scan functions,
              streaming: entries spooled to disk, judged and written in batches);
              run in a child process so its peak memory is its own

and prints entries/s for each, the ratio (b)/(a) in time (target < 0.5: matching,
classification and diff together cost less than half of feedparser's parse), and peak
memory. See benchmarks/README.md.

    .venv/bin/python benchmarks/scan.py [--entries 50000] [--feeds 100] [--subjects 5000]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from monitor.config import load_config  # noqa: E402
from monitor.judge.order import publication_order  # noqa: E402
from monitor.judge.verdict import Judge  # noqa: E402
from monitor.memory import load_judge  # noqa: E402
from monitor.model import Case, Subject  # noqa: E402
from monitor.parse import parse_feed  # noqa: E402

# --- synthetic names --------------------------------------------------------------------

_LATIN_ONSETS = ["b", "ch", "d", "h", "k", "kh", "l", "m", "n", "ng", "ph", "pr", "r", "s", "sr", "t", "th", "v", "y"]
_LATIN_NUCLEI = ["a", "ae", "ai", "ea", "eu", "i", "o", "oeu", "ou", "u", "uo", "ay"]
_LATIN_CODAS = ["", "", "k", "m", "n", "ng", "p", "r", "t", "th", "y"]
_KHMER_CONSONANTS = [chr(c) for c in range(0x1780, 0x17A3)]
_KHMER_VOWELS = ["\u17b6", "\u17b7", "\u17b8", "\u17bb", "\u17bc", "\u17c1", "\u17c2", "\u17c4", ""]

# Unrelated news: realistic-looking, never naming a subject.
_TOPICS = [
    ("Rice exports", "rise", "as farmers in {place} report a strong harvest"),
    ("Flooding", "displaces families", "in {place} after days of heavy rain"),
    ("New bridge", "opens", "linking {place} with the national road network"),
    ("Garment factory", "workers strike", "over unpaid wages in {place}"),
    ("Tourism", "recovers", "with visitor numbers in {place} back above pre-pandemic levels"),
    ("Dengue cases", "climb", "prompting a fumigation campaign in {place}"),
    ("Central bank", "holds rates", "citing stable inflation and a firm riel"),
    ("Football club", "wins the league", "after a late goal in {place}"),
    ("Power outages", "hit", "several districts of {place} during the heatwave"),
    ("School enrolment", "increases", "according to the education ministry's figures for {place}"),
    ("Mekong fish catch", "falls", "as dams upstream change the river's flow near {place}"),
    ("Land dispute", "drags on", "between villagers and a sugar company in {place}"),
]
_PLACES = ["Battambang", "Siem Reap", "Kampot", "Kratie", "Takeo", "Kampong Cham", "Stung Treng",
           "Prey Veng", "Koh Kong", "Mondulkiri", "Pursat", "Svay Rieng", "Kep", "Preah Vihear"]
_FILLER = [
    "Officials said the figures were preliminary and would be revised next month.",
    "Local residents told reporters they hoped conditions would improve soon.",
    "The ministry did not respond to a request for comment on Thursday.",
    "Analysts expect the trend to continue through the rest of the year.",
    "Provincial authorities said they had set aside funds to deal with the situation.",
    "Traders at the central market said prices had moved sharply in recent weeks.",
    "A spokesman said the plan had been discussed with development partners.",
    "Several NGOs working in the province welcomed the announcement.",
]
# Development stories about a watched subject: (title, lead sentence).
_DEVELOPMENTS = [
    ("{name} arrested in {place}", "Police on {weekday} arrested {name}, a member of the {case}, in {place}."),
    ("Court charges {name} with incitement", "A provincial court on {weekday} charged {name} with incitement over posts about the {case}."),
    ("{name} sentenced to {years} years", "A court on {weekday} sentenced {name} to {years} years in prison in the {case}."),
    ("{name} released on bail", "{name} was released on bail on {weekday}, lawyers in the {case} said."),
    ("{name} summoned for questioning", "Investigating judges on {weekday} summoned {name} for questioning in the {case}."),
    ("Appeal court upholds {name}'s conviction", "The Appeal Court on {weekday} upheld the conviction of {name} in the {case}."),
]
_MENTIONS = [
    ("{name} speaks at a forum in {place}", "{name} told a forum in {place} that dialogue was needed."),
    ("Interview: {name} on the road ahead", "In an interview, {name} reflected on the {case}."),
]
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def _latin_syllable(rng: random.Random) -> str:
    return rng.choice(_LATIN_ONSETS) + rng.choice(_LATIN_NUCLEI) + rng.choice(_LATIN_CODAS)


def _latin_word(rng: random.Random, syllables: int) -> str:
    return "".join(_latin_syllable(rng) for _ in range(syllables)).capitalize()


def _khmer_word(rng: random.Random) -> str:
    return "".join(rng.choice(_KHMER_CONSONANTS) + rng.choice(_KHMER_VOWELS) for _ in range(rng.randint(2, 3)))


def make_watchlist(count: int, rng: random.Random) -> tuple[list[Subject], dict[str, Case]]:
    """`count` generated subjects (one case per five) plus the shipped config's."""
    shipped = load_config(REPO / "config", REPO / "baseline")
    subjects: list[Subject] = list(shipped.subjects)
    cases: dict[str, Case] = dict(shipped.cases)
    taken = {s.name.casefold() for s in subjects}
    members: dict[str, list[str]] = {}
    while len(subjects) < count + len(shipped.subjects):
        family, given = _latin_word(rng, 1), _latin_word(rng, 2)
        name = f"{family} {given}"
        if name.casefold() in taken or len(given) < 6:
            continue
        taken.add(name.casefold())
        index = len(subjects) - len(shipped.subjects)
        case_id = f"case-{index // 5:04d}"
        members.setdefault(case_id, []).append(name)
        role = "subject" if rng.random() < 0.9 else rng.choice(["official", "lawyer", "rights_worker"])
        subjects.append(Subject(
            name=name,
            kind="person",
            role=role,
            aliases=(name, f"{given} {family}", f"{_khmer_word(rng)} {_khmer_word(rng)}"),
            short_forms=(given,),
            exclusions=(f"{given} Hotel", f"{given} Market") if rng.random() < 0.3 else (),
            cases=(case_id,) if role == "subject" else (),
            watchlist="synthetic",
        ))
    for case_id, names in members.items():
        cases[case_id] = Case(
            id=case_id,
            title=f"The {names[0]} case",
            subjects=tuple(names),
            keywords=(f"{names[0].split()[1]} case", f"{case_id} trial"),
        )
    return subjects, cases


# --- synthetic feeds ---------------------------------------------------------------------


def _summary(rng: random.Random, lead: str) -> str:
    # A figure makes every story's text its own, as real news is (identical text would be
    # folded into one entry by the content-hash dedup).
    figure = f"The figure cited was {rng.randint(100, 999_999):,}, up {rng.uniform(0.5, 40):.1f} percent on a year earlier."
    rest = " ".join([figure, *rng.sample(_FILLER, 2)])
    return f"<p>{escape(lead)}</p><p>{escape(rest)}</p>"


def make_feeds(folder: Path, feeds: int, per_feed: int, subjects: list[Subject], cases: dict[str, Case],
               rng: random.Random, relevant_share: float = 0.02) -> tuple[list[Path], int]:
    """RSS 2.0 files; returns them and how many entries name a watched subject."""
    watched = [s for s in subjects if s.is_watched and s.cases and s.watchlist == "synthetic"]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    span = timedelta(days=365)
    total = feeds * per_feed
    relevant_slots = set(rng.sample(range(total), int(total * relevant_share)))
    # A development story is told by one to three outlets within two days.
    stories: list[tuple[str, str, datetime]] = []
    paths: list[Path] = []
    relevant = 0
    slot = 0
    for f in range(feeds):
        items: list[str] = []
        for i in range(per_feed):
            published = start + timedelta(seconds=rng.randrange(int(span.total_seconds())))
            place = rng.choice(_PLACES)
            if slot in relevant_slots:
                relevant += 1
                if stories and rng.random() < 0.4:
                    title, lead, when = rng.choice(stories)
                    published = when + timedelta(hours=rng.randint(1, 40))
                else:
                    subject = rng.choice(watched)
                    case = cases[subject.cases[0]]
                    template = rng.choice(_DEVELOPMENTS if rng.random() < 0.8 else _MENTIONS)
                    words = {"name": rng.choice(subject.aliases[:2]), "place": place, "case": case.title,
                             "weekday": rng.choice(_WEEKDAYS), "years": rng.randint(2, 20)}
                    title, lead = (t.format(**words) for t in template)
                    stories.append((title, lead, published))
                summary = _summary(rng, lead)
            else:
                topic, verb, tail = rng.choice(_TOPICS)
                title = f"{topic} {verb} in {place}" if "{place}" in tail else f"{topic} {verb}"
                summary = _summary(rng, f"{topic} {verb} {tail.format(place=place)}.")
            slot += 1
            guid = f"https://outlet{f:03d}.example/news/{i:05d}"
            items.append(
                f"<item><guid>{guid}</guid><title>{escape(title)}</title><link>{guid}</link>"
                f"<pubDate>{format_datetime(published)}</pubDate>"
                f"<description>{escape(summary)}</description></item>"
            )
        path = folder / f"outlet{f:03d}.xml"
        path.write_text(
            '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
            f"<title>Outlet {f}</title><link>https://outlet{f:03d}.example/</link><description>News</description>"
            + "\n".join(items) + "</channel></rss>",
            encoding="utf-8",
        )
        paths.append(path)
    return paths, relevant


# --- phases -------------------------------------------------------------------------------


def peak_mib() -> float:
    """Peak resident memory of this process (VmHWM: unlike ru_maxrss, not inherited across exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB; macOS: bytes


def whole_scan(folder: Path, subjects: list[Subject], cases: dict[str, Case]) -> tuple[float, int, dict[str, int]]:
    """The `monitor scan` path (cli.scan_command minus click): a throwaway SQLite file, the
    entries spooled to disk, then judged, stored and written a batch at a time."""
    from monitor import scan
    from monitor.store.db import open_engine, upgrade
    from monitor.store.judgements import seed_baseline

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="monitor-bench-scan-") as scratch:
        engine = open_engine(f"sqlite:///{scratch}/scan.db")
        upgrade(engine)
        seed_baseline(engine, cases)
        report = scan.ScanReport()
        judge = load_judge(engine, subjects, cases)
        with scan.spool_entries([str(folder)], lambda url: (b"", {}), report, lambda message: None) as spool:
            scan.judge_spool(engine, judge, spool, datetime.now(UTC), _Sink(), report)
        engine.dispose()
    return time.perf_counter() - started, report.entries, report.verdicts


class _Sink(io.StringIO):
    """Stdout to /dev/null: counts the characters, keeps none (a real scan's lines leave)."""

    chars = 0

    def write(self, text: str) -> int:
        self.chars += len(text)
        return len(text)


def child_scan(folder: str, subjects_count: int, seed: int) -> None:
    """Run phase (c) alone in this (fresh) process and print its figures as JSON."""
    subjects, cases = make_watchlist(subjects_count, random.Random(seed))
    before = peak_mib()
    seconds, entries, verdicts = whole_scan(Path(folder), subjects, cases)
    print(json.dumps({"seconds": seconds, "entries": entries, "verdicts": verdicts,
                      "peak_mib": peak_mib(), "peak_before_mib": before}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=50_000, help="entries in all (default 50000)")
    parser.add_argument("--feeds", type=int, default=100, help="feeds to spread them over (default 100)")
    parser.add_argument("--subjects", type=int, default=5_000, help="generated subjects (default 5000)")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--child-scan", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_scan:
        child_scan(args.child_scan, args.subjects, args.seed)
        return

    per_feed = max(1, args.entries // args.feeds)
    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    subjects, cases = make_watchlist(args.subjects, random.Random(args.seed))
    with tempfile.TemporaryDirectory(prefix="monitor-bench-") as tmp:
        folder = Path(tmp)
        paths, relevant = make_feeds(folder, args.feeds, per_feed, subjects, cases, rng)
        bodies = [(str(p), p.read_bytes()) for p in paths]
        megabytes = sum(len(b) for _, b in bodies) / 1e6
        total = args.feeds * per_feed
        print(f"farm: {args.feeds} feeds x {per_feed} entries = {total:,} entries, {megabytes:.1f} MB, "
              f"{relevant:,} ({relevant / total:.1%}) name a watched subject; generated in {time.perf_counter() - t0:.1f} s")
        print(f"watchlist: {len(subjects):,} subjects ({args.subjects:,} generated + shipped), {len(cases):,} cases")
        print()

        # (a) parse
        started = time.perf_counter()
        parsed = [e for source, body in bodies for e in parse_feed(body, source=source).entries]
        parse_s = time.perf_counter() - started
        assert len(parsed) == total, (len(parsed), total)
        del bodies

        # (b) judge: match + classify + diff (the Judge is built outside the timing)

        ordered = publication_order(parsed)
        started = time.perf_counter()
        known = [e for case in cases.values() for e in case.events]
        judge = Judge(subjects, cases, known)
        build_s = time.perf_counter() - started
        started = time.perf_counter()
        verdicts: dict[str, int] = {}
        for entry in ordered:
            judgement, _ = judge.judge(entry)
            verdicts[judgement.verdict.value] = verdicts.get(judgement.verdict.value, 0) + 1
        judge_s = time.perf_counter() - started
        parent_peak = peak_mib()

        # (c) whole scan, in a fresh process (its own peak memory)
        child = subprocess.run(
            [sys.executable, __file__, "--child-scan", str(folder), "--subjects", str(args.subjects),
             "--seed", str(args.seed)],
            capture_output=True, text=True, check=True,
        )
        whole = json.loads(child.stdout.strip().splitlines()[-1])

    ratio = judge_s / parse_s
    rows = [
        ("(a) parse (parse_feed: lxml fast path, feedparser when it refuses)", parse_s, total),
        ("(b) judge (match + classify + diff)", judge_s, total),
        ("(c) whole scan (read, parse, judge, store in SQLite, JSON)", whole["seconds"], whole["entries"]),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'phase'.ljust(width)}  {'seconds':>8}  {'entries/s':>10}")
    for label, seconds, count in rows:
        print(f"{label.ljust(width)}  {seconds:8.2f}  {count / seconds:10,.0f}")
    print()
    print(f"Judge build (matcher automaton for {len(subjects):,} subjects): {build_s:.2f} s")
    print(f"verdicts in (b): {dict(sorted(verdicts.items()))}")
    print(f"verdicts in (c): {dict(sorted(whole['verdicts'].items()))}  ({whole['entries']:,} lines after dedup)")
    print()
    verdict_word = "MET" if ratio < 0.5 else "MISSED"
    print(f"ratio (b)/(a) in time: {ratio:.3f}  (target < 0.5: {verdict_word})")
    print(f"peak memory: {parent_peak:.0f} MiB for (a)+(b) with {total:,} parsed entries held; "
          f"{whole['peak_mib']:.0f} MiB for the whole scan (c) "
          f"({whole['peak_before_mib']:.0f} MiB of it before scanning: interpreter, imports, watchlist)")


if __name__ == "__main__":
    main()
