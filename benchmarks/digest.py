"""Benchmark: promise, render and queue digests for many subscribers.

    .venv/bin/python benchmarks/digest.py [--subscribers 10000] [--developments 200]
                                          [--database-url URL] [--render-only]

Builds a throwaway SQLite database (or uses --database-url, e.g. a scratch PostgreSQL)
with the repository's config/ and baseline/, stores the developments through
save_judgements, promises them (a third of the subscribers follow everything, a third one
watchlist, a third one case), then runs send_due(force=True) with an OutboxFolderSender
into a temporary folder: claim, assemble, render (Jinja + CSS inlining) and write .eml.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from monitor import delivery
from monitor.config import load_config
from monitor.mail.transport import OutboxFolderSender
from monitor.model import Development, Entry, EventDate, Judgement, KnownEvent, Subscriber, Verdict
from monitor.store import outbox
from monitor.store.db import open_engine, upgrade
from monitor.store.judgements import save_judgements, seed_baseline

REPO = Path(__file__).resolve().parent.parent
TYPES = ("arrest", "charge", "hearing", "conviction", "appeal", "release", "bail", "summons")
FEEDS = ("VOD English", "RFA Khmer", "Khmer Times", "CamboJA News", "The Guardian")


def judgements(count: int, cases: list[str], rng: random.Random, start: datetime):
    out: list[tuple[Judgement, KnownEvent | None]] = []
    for i in range(count):
        case, kind = rng.choice(cases), rng.choice(TYPES)
        when = start + timedelta(minutes=7 * i)
        day = date(2023, 1, 1) + timedelta(days=i)
        summary = f"Development {i}: {kind.replace('_', ' ')} in {case}"
        development = Development(case, kind, EventDate(day), ("Kem Sokha",), summary)
        key = f"https://news.example.org/{i}"
        entry = Entry(id=key, source="bench", title=summary, link=key, published=when,
                      feed=rng.choice(FEEDS), content_hash=str(i))
        out.append((Judgement(entry, Verdict.NEW, ("Kem Sokha",), (case,), development),
                    KnownEvent(case, kind, EventDate(day), summary, ("Kem Sokha",))))
        for d in range(rng.randint(0, 2)):  # other outlets telling the same story
            copy = replace(entry, id=f"{key}/copy{d}", link=f"https://copy{d}.example.org/{i}",
                           feed=rng.choice(FEEDS), published=when + timedelta(minutes=d + 1))
            out.append((Judgement(copy, Verdict.DUPLICATE, ("Kem Sokha",), (case,), duplicate_of=key), None))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--developments", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--render-only", action="store_true", help="compose and render, write nothing")
    args = parser.parse_args(argv)
    rng = random.Random(4)
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        config = load_config(REPO / "config", REPO / "baseline",
                             env={"MONITOR_DATA_DIR": str(tmp), "MONITOR_SECRET": "b" * 32})
        cases = sorted(config.cases)
        lists = sorted(w.name for w in config.watchlists)
        people = []
        for i in range(args.subscribers):
            follow = i % 3
            people.append(Subscriber(
                email=f"reader{i}@example.org", name=f"Reader {i}",
                watchlists=(rng.choice(lists),) if follow == 1 else (),
                cases=(rng.choice(cases),) if follow == 2 else (),
                frequency=("immediate", "daily", "weekly")[i % 3 if i % 7 else 1],
                timezone=rng.choice(("UTC", "Asia/Phnom_Penh", "America/New_York", "Europe/Paris")),
            ))
        config = replace(config, subscribers=tuple(people))
        engine = open_engine(args.database_url or f"sqlite:///{tmp / 'bench.db'}")
        upgrade(engine)
        seed_baseline(engine, config.cases)
        now = datetime(2023, 3, 3, 10, tzinfo=UTC)

        started = time.perf_counter()
        stored = save_judgements(engine, judgements(args.developments, cases, rng, now - timedelta(days=2)), now)
        stored_s = time.perf_counter() - started

        started = time.perf_counter()
        promised = outbox.promise(engine, stored, config.subscribers, delivery.watchlist_cases(config), now)
        promise_s = time.perf_counter() - started

        started = time.perf_counter()
        if args.render_only:
            composer = delivery.Composer(engine, delivery.Audience.of(config), now)
            digests = 0
            for subscriber in config.subscribers:
                dev_ids, entry_ids = outbox.unclaimed_items(engine, subscriber.email)
                if dev_ids:
                    composer.render(composer.digest(subscriber, "2023-03-03", dev_ids, entry_ids))
                    digests += 1
        else:
            report = delivery.send_due(engine, config, OutboxFolderSender(tmp / "outbox"), now, force=True)
            digests = len(report.sent)
            assert report.ok, report.summary()
        send_s = time.perf_counter() - started
        engine.dispose()

    what = "rendered" if args.render_only else "claimed, rendered and queued as .eml"
    print(f"{args.subscribers} subscribers, {len(stored)} entries, {args.developments} developments "
          f"(stored in {stored_s:.2f} s)")
    print(f"promise: {promised} outbox rows in {promise_s:.2f} s ({promised / promise_s:,.0f} rows/s)")
    print(f"digests: {digests} {what} in {send_s:.2f} s ({digests / send_s:,.1f} digests/s; "
          f"{promised / max(digests, 1):.0f} developments per digest on average)")


if __name__ == "__main__":
    sys.exit(main())
