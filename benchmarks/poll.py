"""Benchmark: poll 1,000 feeds x 50 entries from a loopback server, then again unchanged.

    .venv/bin/python benchmarks/poll.py [--feeds 1000] [--entries 50] [--parse threads|processes]

The server runs in its own process (asyncio streams, bodies generated there, each with an
ETag; a matching If-None-Match gets 304), so it does not compete with the poller for the
GIL. The poller is the production path: pipeline.poll_all with a real Judge built from
config/ and baseline/, a SQLite database in a temporary folder. Prints seconds, requests/s,
entries/s, peak memory (max RSS) and the ratio second/first.
Targets (issue 3, 2 cores): first poll < 30 s, second >= 10x faster, peak < 300 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import multiprocessing
import pstats
import resource
import sys
import tempfile
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORDS = ("ministry", "province", "market", "harvest", "council", "river", "festival", "school", "road", "budget",
         "court", "minister", "village", "export", "tourism", "rain", "bridge", "hospital", "police", "trade")


def feed_body(i: int, entries: int) -> bytes:
    """RSS 2.0 (even i) or Atom (odd i), `entries` items with a few sentences each."""
    base = 1_700_000_000 + i * 3600
    items = []
    for j in range(entries):
        words = " ".join(WORDS[(i * 7 + j * 3 + k) % len(WORDS)] for k in range(12))
        title = f"Feed {i} story {j}: {WORDS[(i + j) % len(WORDS)]} news"
        summary = f"<p>{words.capitalize()}.</p><p>{words[::-1]} in the {WORDS[j % len(WORDS)]}.</p>"
        when = base - j * 1800
        if i % 2 == 0:
            items.append(
                f"<item><guid>bench-{i}-{j}</guid><title>{title}</title><link>http://127.0.0.1/{i}/{j}</link>"
                f"<pubDate>{formatdate(when, usegmt=True)}</pubDate><description><![CDATA[{summary}]]></description></item>"
            )
        else:
            stamp = datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            items.append(
                f"<entry><id>bench-{i}-{j}</id><title>{title}</title><link href=\"http://127.0.0.1/{i}/{j}\"/>"
                f"<updated>{stamp}</updated><summary type=\"html\"><![CDATA[{summary}]]></summary></entry>"
            )
    if i % 2 == 0:
        doc = (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Bench {i}</title>'
               f"<link>http://127.0.0.1/{i}</link><description>d</description>{''.join(items)}</channel></rss>")
    else:
        doc = (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
               f"<title>Bench {i}</title><id>bench-{i}</id><updated>2024-01-01T00:00:00Z</updated>{''.join(items)}</feed>")
    return doc.encode()


def serve(feeds: int, entries: int, ready: multiprocessing.synchronize.Event, port_box: multiprocessing.sharedctypes.Synchronized) -> None:  # type: ignore[name-defined]
    bodies = {f"/feed/{i}.xml": feed_body(i, entries) for i in range(feeds)}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                inm = next((line.split(":", 1)[1].strip() for line in lines[1:] if line.lower().startswith("if-none-match:")), None)
                body = bodies.get(path)
                if body is None:
                    writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                else:
                    etag = f'"{path}"'
                    if inm == etag:
                        writer.write(f"HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\n\r\n".encode())
                    else:
                        writer.write(
                            f"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nETag: {etag}\r\n"
                            f"Content-Length: {len(body)}\r\n\r\n".encode() + body
                        )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        port_box.value = server.sockets[0].getsockname()[1]
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(main())


async def poll(ctx, now):  # type: ignore[no-untyped-def]
    from monitor.pipeline import poll_all, summarize

    started = time.perf_counter()
    outcomes = await poll_all(ctx, now, in_flight=100)
    return time.perf_counter() - started, summarize(outcomes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--parse", choices=("threads", "processes"), default="processes")
    parser.add_argument("--connections", type=int, default=20, help="in all, over pools of 5")
    parser.add_argument("--profile", choices=("first", "second"), help="cProfile one poll (top 25 by internal time)")
    args = parser.parse_args()

    from monitor.config import FeedConfig, load_config
    from monitor.fetch import FetchLimits, HostLimiter, make_client_pool
    from monitor.memory import load_judge
    from monitor.pipeline import PollContext
    from monitor.store import feeds as feed_store
    from monitor.store.db import open_engine, upgrade
    from monitor.store.judgements import seed_baseline

    mp = multiprocessing.get_context("spawn")
    ready, port = mp.Event(), mp.Value("i", 0)
    server = mp.Process(target=serve, args=(args.feeds, args.entries, ready, port), daemon=True)
    server.start()
    ready.wait(60)
    config = load_config(ROOT / "config", ROOT / "baseline", env={})
    settings = config.settings
    pool: Executor | None = ProcessPoolExecutor(2, mp_context=mp) if args.parse == "processes" else None
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_engine(f"sqlite:///{tmp}/bench.db")
        upgrade(engine)
        seed_baseline(engine, config.cases)
        feeds = {
            f"bench {i}": FeedConfig(name=f"bench {i}", url=f"http://127.0.0.1:{port.value}/feed/{i}.xml", interval=timedelta(hours=1))
            for i in range(args.feeds)
        }
        feed_store.sync_feeds(engine, feeds.values(), datetime.now(UTC))

        async def run() -> list[tuple[float, object]]:
            # Small pools: httpcore's bookkeeping grows with the connections in one (PERFORMANCE.md).
            async with make_client_pool("case-monitor/bench", max_connections=args.connections, per_client=5) as client:
                ctx = PollContext(
                    engine=engine, client=client, settings=settings, feeds=feeds,
                    judge_factory=lambda: load_judge(engine, config.subjects, dict(config.cases), config.language_dirs),
                    limits=FetchLimits(), limiter=HostLimiter(per_host=args.connections, total=args.connections), parse_pool=pool,
                )
                if pool is not None:  # start the workers before the clock does
                    list(pool.map(abs, range(4)))
                results = []
                for which in ("first", "second"):
                    if args.profile == which:
                        profiler.enable()
                    results.append(await poll(ctx, datetime.now(UTC)))
                    if args.profile == which:
                        profiler.disable()
                return results

        profiler = cProfile.Profile()
        (first, s1), (second, s2) = asyncio.run(run())
        if args.profile:
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(25)
        engine.dispose()
    if pool is not None:
        pool.shutdown()
    server.terminate()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    entries = s1.new_entries  # type: ignore[attr-defined]
    print(f"feeds {args.feeds} x {args.entries} entries, parse in {args.parse}")
    print(f"first poll:  {first:6.2f} s  {args.feeds / first:7.0f} req/s  {entries / first:7.0f} entries/s  "
          f"ok {s1.ok} failed {s1.failed} new {entries} verdicts {dict(s1.verdicts)}")  # type: ignore[attr-defined]
    print(f"second poll: {second:6.2f} s  {args.feeds / second:7.0f} req/s  not modified {s2.not_modified} "  # type: ignore[attr-defined]
          f"failed {s2.failed} new {s2.new_entries}")  # type: ignore[attr-defined]
    print(f"ratio second/first: {second / first:.3f}  ({first / second:.1f}x faster)")
    print(f"peak memory (max RSS): poller {own:.0f} MB, largest child process {workers:.0f} MB")


if __name__ == "__main__":
    main()
