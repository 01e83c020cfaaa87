"""Benchmark: the daemon's own polling path over a loopback farm, beside rss2email's.

    .venv/bin/python benchmarks/poll.py [--feeds 1000] [--entries 50] [--r2e-feeds 100]

The farm is served by a separate process on 127.0.0.1 (asyncio streams; each body has an
ETag and a matching If-None-Match gets 304). Its entries look like news: ~1-2 KB each with a
title, author, two or three categories, an HTML summary and HTML content with entities;
2% name a subject of the shipped watchlist with a development word, so classification,
diff and promises run while the clock does. RSS 2.0 (60%) and Atom (40%).

The poller is what `monitor run` runs, with the shipped defaults: the config from config/
and baseline/ (one daily subscriber added, so promises are written), `open_store`,
`build_context` (client pool, host limits, parse workers in processes sized to the machine:
started lazily, inside the clock), and each round read the way the daemon's tick reads it
(`due_states`, one query) and polled by `poll_all`. Timed: the first poll (every entry
new), the digests of what it promised (sent at once, to an outbox folder), and a second poll where every feed
answers 304.

With rss2email importable (`pip install rss2email` in this environment), the same run then
has rss2email 3 poll the first `--r2e-feeds` feeds of the same farm twice, mailing each entry
to an SMTP sink on 127.0.0.1, and prints its entries/s and feeds/s beside ours.

Peak memory is sampled from /proc every 0.1 s: this process plus its parse workers, summed.
"""

from __future__ import annotations

import argparse
import asyncio
import configparser
import cProfile
import dataclasses
import multiprocessing
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

WORDS = ("ministry", "province", "market", "harvest", "council", "river", "festival", "school", "road", "budget",
         "court", "minister", "village", "export", "tourism", "rain", "bridge", "hospital", "police", "trade",
         "garment", "factory", "workers", "wages", "flood", "dam", "fishing", "rice", "temple", "airport")
PLACES = ("Battambang", "Siem Reap", "Kampot", "Kratie", "Takeo", "Kampong Cham", "Stung Treng", "Koh Kong")
DEVELOPMENTS = ("{name} arrested in {place}", "Court charges {name} with incitement", "{name} sentenced to {n} years",
                "{name} released on bail", "{name} summoned for questioning by investigating judges")
AUTHORS = ("Sok Chea", "Mary Jones", "Vann Dara", "Peter Ng", "Lim Sophal")
CATEGORIES = ("Politics", "Economy", "Environment", "Society", "Courts", "Provinces", "Business", "Health")


def _sentence(i: int, j: int, k: int) -> str:
    words = " ".join(WORDS[(i * 7 + j * 3 + k * 11 + m * 5) % len(WORDS)] for m in range(14))
    return f"{words.capitalize()} &amp; the {WORDS[(i + k) % len(WORDS)]}&#8217;s plan in {PLACES[(j + k) % len(PLACES)]}."


def feed_body(i: int, entries: int, names: list[str]) -> bytes:
    """Feed i: RSS 2.0 for 3 in 5, else Atom; `entries` items, newest first; item j of feed i
    names a watched subject when (i * entries + j) % 50 == 7 (2%)."""
    base = 1_764_000_000 + i * 60
    items = []
    for j in range(entries):
        named = (i * entries + j) % 50 == 7 and names
        name = names[(i * entries + j) // 50 % len(names)] if named else None
        items.append(item_xml(i, j, base - j * 3 * 3600, name, "bench"))
    return feed_document(i, items, "bench")


def item_xml(i: int, j: int, when: float, name: str | None, tag: str) -> str:
    """Item j of feed i (RSS 2.0 for 3 feeds in 5, else Atom), published at `when`: news
    of a watched subject with a development word when `name` is given, else unrelated news."""
    place = PLACES[(i + j) % len(PLACES)]
    if name is not None:
        title = DEVELOPMENTS[(i + j) % len(DEVELOPMENTS)].format(name=name, place=place, n=2 + j % 9)
        lead = f"<p>{title} on Tuesday, lawyers &amp; relatives said, in a case rights groups call political.</p>"
    else:
        title = f"{WORDS[(i + j) % len(WORDS)].capitalize()} news from {place}: {WORDS[(i * 3 + j) % len(WORDS)]} report {j}"
        lead = f"<p>{_sentence(i, j, 0)}</p>"
    summary = lead + f"<p>{_sentence(i, j, 1)} {_sentence(i, j, 2)}</p>"
    content = summary + "".join(f"<p>{_sentence(i, j, k)} {_sentence(i, j, k + 1)}</p>" for k in range(3, 5))
    author = AUTHORS[(i + j) % len(AUTHORS)]
    cats = [CATEGORIES[(i + j + c) % len(CATEGORIES)] for c in range(2 + (j % 2))]
    link = f"http://127.0.0.1/story/{i}/{j}"
    if i % 5 < 3:
        return (
            f"<item><guid isPermaLink=\"false\">{tag}-{i}-{j}</guid><title>{title}</title><link>{link}</link>"
            f"<dc:creator>{author}</dc:creator>" + "".join(f"<category>{c}</category>" for c in cats)
            + f"<pubDate>{formatdate(when, usegmt=True)}</pubDate><description><![CDATA[{summary}]]></description>"
            f"<content:encoded><![CDATA[{content}]]></content:encoded></item>"
        )
    stamp = datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f"<entry><id>tag:{tag},2025:{i}-{j}</id><title type=\"html\">{title}</title><link href=\"{link}\"/>"
        f"<author><name>{author}</name><email>desk{i % 7}@outlet.example</email></author>"
        + "".join(f"<category term=\"{c}\"/>" for c in cats)
        + f"<published>{stamp}</published><updated>{stamp}</updated>"
        f"<summary type=\"html\"><![CDATA[{summary}]]></summary><content type=\"html\"><![CDATA[{content}]]></content></entry>"
    )


def feed_document(i: int, items: list[str], tag: str) -> bytes:
    """Feed i's document around its items (RSS 2.0 for 3 feeds in 5, else Atom)."""
    if i % 5 < 3:
        doc = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
               'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
               f"<title>Outlet {i}</title><link>http://127.0.0.1/{i}</link><description>News of outlet {i}</description>"
               f"<language>en</language>{''.join(items)}</channel></rss>")
    else:
        doc = ('<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">'
               f"<title>Outlet {i}</title><id>tag:{tag},2025:{i}</id><updated>2025-11-24T00:00:00Z</updated>{''.join(items)}</feed>")
    return doc.encode()


def serve(feeds: int, entries: int, names: list[str], ready: Any, ports: Any) -> None:
    """The farm (and an SMTP sink for rss2email), in its own process."""
    bodies = {f"/feed/{i}.xml": feed_body(i, entries, names) for i in range(feeds)}

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

    async def smtp(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Just enough SMTP to accept and drop every message."""
        try:
            writer.write(b"220 sink\r\n")
            data = False
            while line := await reader.readline():
                if data:
                    if line == b".\r\n":
                        data = False
                        writer.write(b"250 ok\r\n")
                    continue
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    writer.write(b"250 sink\r\n")
                elif verb == b"DATA":
                    data = True
                    writer.write(b"354 go\r\n")
                elif verb == b"QUIT":
                    writer.write(b"221 bye\r\n")
                    break
                else:
                    writer.write(b"250 ok\r\n")
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        sink = await asyncio.start_server(smtp, "127.0.0.1", 0)
        ports[0] = server.sockets[0].getsockname()[1]
        ports[1] = sink.sockets[0].getsockname()[1]
        ready.set()
        async with server, sink:
            await server.serve_forever()

    asyncio.run(main())


class PeakMemory:
    """Peak of (this process + its parse workers) resident memory, summed, from /proc."""

    def __init__(self) -> None:
        self.pids: set[int] = set()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def rss(pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self.peak = max(self.peak, sum(self.rss(p) for p in {os.getpid(), *self.pids}))

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def rss2email_run(tmp: Path, port: int, smtp_port: int, feeds: int) -> tuple[float, float] | None:
    """rss2email 3 over the first `feeds` feeds: (first run s, second run s), or None."""
    r2e = shutil.which("r2e", path=str(Path(sys.executable).parent)) or shutil.which("r2e")
    if r2e is None:
        return None
    folder = tmp / "r2e"
    folder.mkdir()
    cfg, data = folder / "r2e.cfg", folder / "r2e.json"
    subprocess.run([r2e, "-c", cfg, "-d", data, "new", "bench@example.org"], check=True, capture_output=True)
    parsed = configparser.ConfigParser(interpolation=None)
    parsed.read(cfg)
    parsed["DEFAULT"].update({"email-protocol": "smtp", "smtp-server": "127.0.0.1", "smtp-port": str(smtp_port),
                              "smtp-ssl": "False", "smtp-auth": "False"})
    for i in range(feeds):
        parsed[f"feed.bench{i}"] = {"url": f"http://127.0.0.1:{port}/feed/{i}.xml"}
    with cfg.open("w") as f:
        parsed.write(f)
    times = []
    for _ in range(2):
        started = time.perf_counter()
        done = subprocess.run([r2e, "-c", cfg, "-d", data, "run"], capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            print(f"rss2email failed: {done.stderr[-500:]}", file=sys.stderr)
            return None
    return times[0], times[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--r2e-feeds", type=int, default=100, help="feeds rss2email polls (0: skip it)")
    parser.add_argument("--profile", action="store_true", help="cProfile the poller's process in the first poll (top 30 by own time, on stderr)")
    args = parser.parse_args()

    from monitor import delivery
    from monitor.config import FeedConfig, load_config
    from monitor.daemon import build_context, open_store
    from monitor.mail.transport import make_sender
    from monitor.pipeline import poll_all, summarize
    from monitor.store import feeds as feed_store

    with tempfile.TemporaryDirectory(prefix="monitor-bench-poll-") as scratch:
        tmp = Path(scratch)
        shutil.copytree(ROOT / "config", tmp / "config")
        (tmp / "config" / "subscribers.yaml").write_text("subscribers:\n  - email: desk@example.org\n    frequency: daily\n")
        config = load_config(tmp / "config", ROOT / "baseline", env={"MONITOR_DATA_DIR": str(tmp / "data")})
        names = sorted({s.name for s in config.subjects if s.role == "subject"})[:40]

        mp = multiprocessing.get_context("spawn")
        ready, ports = mp.Event(), mp.Array("i", 2)
        server = mp.Process(target=serve, args=(args.feeds, args.entries, names, ready, ports), daemon=True)
        server.start()
        if not ready.wait(300):
            raise SystemExit("the farm did not start")
        port, smtp_port = ports[0], ports[1]
        config = dataclasses.replace(config, feeds=tuple(
            FeedConfig(name=f"bench {i}", url=f"http://127.0.0.1:{port}/feed/{i}.xml", interval=timedelta(hours=1))
            for i in range(args.feeds)
        ))
        engine = open_store(config)
        feed_store.sync_feeds(engine, config.feeds, datetime.now(UTC))
        settings = config.settings

        async def run(memory: PeakMemory) -> dict[str, Any]:
            out: dict[str, Any] = {}
            async with build_context(config, engine, "case-monitor/bench (+http://127.0.0.1/)") as ctx:
                for which, later in (("first", timedelta(0)), ("second", settings.max_interval + timedelta(days=2))):
                    if args.profile and which == "first":
                        profiler.enable()
                    started = time.perf_counter()
                    now = datetime.now(UTC)
                    # The daemon's tick: the due feeds' rows in one query, then one round.
                    states = await asyncio.to_thread(feed_store.due_states, engine, now + later)
                    outcomes = await poll_all(ctx, now, states=states)
                    out[which] = (time.perf_counter() - started, summarize(outcomes))
                    profiler.disable()
                    pool = ctx.parse_pool
                    memory.pids |= set(getattr(pool, "_processes", None) or {})
                    if which == "first":
                        started = time.perf_counter()
                        sender = make_sender(None, settings.outbox_dir)
                        report = await asyncio.to_thread(delivery.send_due, engine, config, sender, now, force=True)
                        out["digests"] = (time.perf_counter() - started, len(report.sent))
            return out

        profiler = cProfile.Profile()
        with PeakMemory() as memory:
            results = asyncio.run(run(memory))
        if args.profile:
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(30)
        engine.dispose()
        r2e = None
        if args.r2e_feeds:
            try:
                import rss2email  # noqa: F401
            except ImportError:
                print("rss2email not importable: `.venv/bin/pip install rss2email` to compare", file=sys.stderr)
            else:
                r2e = rss2email_run(tmp, port, smtp_port, min(args.r2e_feeds, args.feeds))
        server.terminate()

    first, s1 = results["first"]
    second, s2 = results["second"]
    digest_s, digests = results["digests"]
    entries = s1.new_entries
    print(f"farm: {args.feeds} feeds x {args.entries} entries ({args.feeds * 3 // 5} RSS, {args.feeds - args.feeds * 3 // 5} Atom), "
          f"~{len(feed_body(1, args.entries, names)) / args.entries:.0f} B/entry; shipped defaults: "
          f"concurrency {settings.concurrency_global}, per host {settings.concurrency_per_host}, "
          f"parse workers {os.cpu_count()} (processes)")
    print(f"first poll:  {first:7.2f} s  {args.feeds / first:7.0f} feeds/s  {entries / first:7.0f} entries/s  "
          f"ok {s1.ok} failed {s1.failed} new {entries} verdicts {dict(sorted(s1.verdicts.items()))}")
    print(f"digests:     {digest_s:7.2f} s  {digests} sent (outbox folder)")
    print(f"second poll: {second:7.2f} s  {args.feeds / second:7.0f} feeds/s  not modified {s2.not_modified} "
          f"failed {s2.failed} new {s2.new_entries}")
    print(f"peak memory: {memory.peak / 2**20:.0f} MiB (poller + parse workers, summed)")
    if r2e is not None:
        n = min(args.r2e_feeds, args.feeds)
        r_first, r_second = r2e
        print(f"rss2email ({n} feeds, {n * args.entries} entries mailed to a loopback SMTP sink):")
        print(f"  first run:  {r_first:7.2f} s  {n * args.entries / r_first:7.0f} entries/s  -> ours {entries / first / (n * args.entries / r_first):.1f}x")
        print(f"  second run: {r_second:7.2f} s  {n / r_second:7.0f} feeds/s (all 304)  -> ours {args.feeds / second / (n / r_second):.1f}x")


if __name__ == "__main__":
    main()
