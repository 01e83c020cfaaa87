"""Benchmark: the daemon's steady state. Every feed polled every cycle, a tenth of them changed,
a month of history already in the store; does each cycle's work fit in its cycle, and does
memory stay flat?

    .venv/bin/python benchmarks/cycle.py [--feeds 10000] [--cycles 6] [--cycle-seconds 300]

The farm (a separate process on 127.0.0.1, as in benchmarks/poll.py) serves `--feeds` feeds
of 50 entries (~1-2 KB each: author, categories, HTML summary and content with entities; 2%
name a watched subject with a development word, so the judge, promises and the diff run).
Each body has an ETag; a conditional request for the current version gets 304.

Before the clock: the store gets a month of history, every feed's 50 entries (published
over the last 30 days), written through the store's own `save_judgements` and each feed's
validators recorded, as the daemon would have left them. Then `--cycles` cycles are run back
to back on a simulated clock `--cycle-seconds` apart (6 x 300 s = half an hour of the
daemon's life): at each, a tenth of the feeds (a different tenth each time) publish two new
entries, and every feed is polled once through `poll_all` with the shipped defaults (client
pool, host limits, parse workers in processes sized to the machine). A cycle's work must
take less than the cycle; nothing waits between cycles, so the run takes only the work.

Printed per cycle: wall time and its share of the cycle, feeds fetched / not modified /
failed, new entries and their verdicts, and the peak resident memory of the poller and its
parse workers summed (sampled every 0.1 s), which must stay flat from cycle to cycle.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from poll import PeakMemory, feed_document, item_xml  # noqa: E402

ENTRIES = 50
NEW_PER_CHANGE = 2
HISTORY = timedelta(days=30)
START = datetime(2026, 11, 1, tzinfo=UTC)


def changed(feed: int, cycle: int) -> bool:
    """A tenth of the feeds change at each cycle, a different tenth each time."""
    return cycle > 0 and (feed + cycle * 3) % 10 == 0


def version(feed: int, cycle: int) -> int:
    return sum(changed(feed, c) for c in range(1, cycle + 1))


def published(seq: int) -> float:
    """Entry `seq` of a feed: the first 50 spread over the month before START, later ones a
    minute apart after it."""
    if seq < ENTRIES:
        return (START - HISTORY + HISTORY * (seq + 1) / ENTRIES).timestamp()
    return (START + timedelta(minutes=seq - ENTRIES + 1)).timestamp()


def feed_body(i: int, v: int, names: list[str]) -> bytes:
    """Feed i at version v: its newest 50 entries, in poll.py's farm's shapes; 2% name a
    watched subject."""
    top = v * NEW_PER_CHANGE + ENTRIES
    items = []
    for seq in range(top - 1, top - ENTRIES - 1, -1):
        named = (i * 31 + seq) % 50 == 7 and names
        name = names[(i * 31 + seq) // 50 % len(names)] if named else None
        items.append(item_xml(i, seq, published(seq), name, "cycle"))
    return feed_document(i, items, "cycle")


def etag(i: int, v: int) -> str:
    return f'"{i}-{v}"'


def serve(names: list[str], cycle: Any, ready: Any, port: Any) -> None:
    """The farm, in its own process: feed i's body at its version for the current cycle."""
    cache: dict[tuple[int, int], bytes] = {}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                inm = next((line.split(":", 1)[1].strip() for line in lines[1:] if line.lower().startswith("if-none-match:")), None)
                i = int(path.rsplit("/", 1)[1].split(".")[0])
                v = version(i, cycle.value)
                tag = etag(i, v)
                if inm == tag:
                    writer.write(f"HTTP/1.1 304 Not Modified\r\nETag: {tag}\r\n\r\n".encode())
                else:
                    body = cache.pop((i, v), None) or feed_body(i, v, names)
                    if len(cache) < 2000:
                        cache[(i, v)] = body
                    writer.write(f"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nETag: {tag}\r\n"
                                 f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        port.value = server.sockets[0].getsockname()[1]
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def write_history(engine: Any, config: Any, names: list[str]) -> int:
    """Every feed's first 50 entries stored, and its validators, as a month of polling left them."""
    from monitor.model import Judgement, Verdict
    from monitor.parse import parse_feed
    from monitor.store import feeds as feed_store
    from monitor.store.judgements import save_judgements

    stored, batch = 0, []
    for i, feed in enumerate(config.feeds):
        entries = parse_feed(feed_body(i, 0, names), source=feed.url, feed=feed.name, headers={}).entries
        batch += entries
        feed_store.record_success(engine, feed.name, now=START, next_poll_at=START, etag=etag(i, 0),
                                  last_modified=None, problem=None, new_entries=len(entries))
        if len(batch) >= 5000 or i == len(config.feeds) - 1:
            save_judgements(engine, ((Judgement(entry=e, verdict=Verdict.NONE), None) for e in batch), START)
            stored, batch = stored + len(batch), []
    return stored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=10_000)
    parser.add_argument("--cycles", type=int, default=6, help="cycles to run (default 6: half an hour at 300 s)")
    parser.add_argument("--cycle-seconds", type=int, default=300)
    args = parser.parse_args()

    from monitor.config import FeedConfig, load_config
    from monitor.daemon import build_context, open_store
    from monitor.pipeline import poll_all, summarize
    from monitor.store import feeds as feed_store

    cycle_length = timedelta(seconds=args.cycle_seconds)
    with tempfile.TemporaryDirectory(prefix="monitor-bench-cycle-") as scratch:
        tmp = Path(scratch)
        shutil.copytree(ROOT / "config", tmp / "config")
        (tmp / "config" / "subscribers.yaml").write_text("subscribers:\n  - email: desk@example.org\n    frequency: daily\n")
        config = load_config(tmp / "config", ROOT / "baseline", env={"MONITOR_DATA_DIR": str(tmp / "data")})
        names = sorted({s.name for s in config.subjects if s.role == "subject"})[:40]

        mp = multiprocessing.get_context("spawn")
        ready, port, cycle = mp.Event(), mp.Value("i", 0), mp.Value("i", 0)
        server = mp.Process(target=serve, args=(names, cycle, ready, port), daemon=True)
        server.start()
        if not ready.wait(120):
            raise SystemExit("the farm did not start")
        config = dataclasses.replace(config, feeds=tuple(
            FeedConfig(name=f"bench {i}", url=f"http://127.0.0.1:{port.value}/feed/{i}.xml", interval=cycle_length)
            for i in range(args.feeds)
        ))
        engine = open_store(config)
        feed_store.sync_feeds(engine, config.feeds, START)
        started = time.perf_counter()
        history = write_history(engine, config, names)
        print(f"history: {history} entries of {args.feeds} feeds written in {time.perf_counter() - started:.0f} s "
              f"(not timed below)")

        async def run(memory: PeakMemory) -> list[tuple[float, Any, int]]:
            rows = []
            async with build_context(config, engine, "case-monitor/bench (+http://127.0.0.1/)") as ctx:
                for c in range(1, args.cycles + 1):
                    cycle.value = c
                    now = START + c * cycle_length
                    memory.peak = 0
                    t0 = time.perf_counter()
                    outcomes = await poll_all(ctx, now)
                    elapsed = time.perf_counter() - t0
                    memory.pids |= set(getattr(ctx.parse_pool, "_processes", None) or {})
                    rows.append((elapsed, summarize(outcomes), memory.peak))
                    report(c, rows[-1], args)
            return rows

        with PeakMemory() as memory:
            rows = asyncio.run(run(memory))
        engine.dispose()
        server.terminate()

    worst = max(r[0] for r in rows)
    peaks = [r[2] for r in rows]
    print(f"worst cycle: {worst:.1f} s = {worst / args.cycle_seconds:.0%} of {args.cycle_seconds} s "
          f"({'fits' if worst < args.cycle_seconds else 'DOES NOT FIT'}); peak memory per cycle "
          f"{min(peaks) / 2**20:.0f}-{max(peaks) / 2**20:.0f} MiB (first {peaks[0] / 2**20:.0f}, last {peaks[-1] / 2**20:.0f}); "
          f"parse workers {os.cpu_count()}")


def report(c: int, row: tuple[float, Any, int], args: argparse.Namespace) -> None:
    elapsed, summary, peak = row
    print(f"cycle {c}: {elapsed:6.1f} s ({elapsed / args.cycle_seconds:4.0%} of the cycle)  fetched {summary.ok}  "
          f"not modified {summary.not_modified}  failed {summary.failed}  new entries {summary.new_entries} "
          f"{dict(sorted(summary.verdicts.items()))}  peak {peak / 2**20:.0f} MiB", flush=True)


if __name__ == "__main__":
    main()
