"""A world for several `monitor run` daemons on one PostgreSQL: a farm of slow loopback
feeds that records every request's start and end, and the daemons as real subprocesses.

    farm = FeedFarm(120, sleep=(0.2, 1.5), release_over=30)   # feed i goes live at i/120 of 30 s
    cluster = Cluster(tmp_path, pg_url, farm, smtp_url, subscribers=30, interval="10s")
    cluster.start(3); ... cluster.kill(0); ... cluster.terminate()

Feed i serves one file of the labeled stream (tests/data/stream), so several feeds carry
the same entries and several outlets the same developments: what must become one `new`
development whichever daemon sees it first. Only 127.0.0.1 is ever bound or reached.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STREAM = ROOT / "tests" / "data" / "stream"
FEED_FILES = sorted(p for p in STREAM.iterdir() if p.suffix in (".xml", ".atom", ".rdf"))


_ITEM = re.compile(r"<item\b.*?</item>|<entry\b.*?</entry>", re.DOTALL)


def _split(xml: str) -> tuple[str, list[str], str]:
    """A feed's text around its items: (before the first, the items, after the last)."""
    items = list(_ITEM.finditer(xml))
    return xml[: items[0].start()], [m.group(0) for m in items], xml[items[-1].end():]


@dataclass(frozen=True)
class Request:
    feed: int
    start: float  # time.monotonic()
    end: float
    status: int
    cut: bool = False  # the client went away before the answer was written (killed)


class FeedFarm:
    """`count` feeds at /f/<i>; each request sleeps a random 0.2-1.5 s (seeded) before it
    answers. Feed i serves stream file i % 6, whose items trickle in over `release_over`
    seconds from `go()` (the k-th of n at k/n of it; every feed of one file shows the same
    items), with an ETag, so a poll between two releases is a 304."""

    def __init__(self, count: int, *, sleep: tuple[float, float] = (0.2, 1.5), release_over: float = 30.0,
                 seed: int = 12) -> None:
        self.count = count
        self.sleep = sleep
        self.release_over = release_over
        self.t0 = float("inf")  # set by go()
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._files = [_split(f.read_text(encoding="utf-8")) for f in FEED_FILES]
        farm = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                start = time.monotonic()
                match = re.fullmatch(r"/f/(\d+)", self.path)
                if match is None or int(match.group(1)) >= farm.count:
                    self.send_error(404)
                    return
                feed = int(match.group(1))
                with farm._lock:
                    pause = farm._rng.uniform(*farm.sleep)
                time.sleep(pause)
                body = farm.body(feed, start)
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                status = 304 if self.headers.get("If-None-Match") == etag else 200
                cut = False
                try:
                    self.send_response(status)
                    self.send_header("ETag", etag)
                    if status == 200:
                        self.send_header("Content-Type", "application/xml")
                        self.send_header("Content-Length", str(len(body)))
                    else:
                        self.send_header("Content-Length", "0")
                    self.end_headers()
                    if status == 200:
                        self.wfile.write(body)
                except OSError:
                    cut = True  # the daemon went away (killed) mid-request
                finally:
                    with farm._lock:
                        farm.requests.append(Request(feed, start, time.monotonic(), status, cut))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def go(self) -> None:
        """Start the release clock."""
        self.t0 = time.monotonic()

    def body(self, feed: int, at: float) -> bytes:
        head, items, tail = self._files[feed % len(self._files)]
        shown = [item for k, item in enumerate(items) if at >= self.t0 + self.release_over * k / len(items)]
        return (head + "".join(shown) + tail).encode("utf-8")

    def url(self, feed: int) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/f/{feed}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def overlaps(self) -> list[tuple[int, Request, Request]]:
        """Two requests for one feed at the same time: a feed polled twice at once."""
        out = []
        by_feed: dict[int, list[Request]] = {}
        for r in sorted(self.requests, key=lambda r: r.start):
            by_feed.setdefault(r.feed, []).append(r)
        for feed, rs in by_feed.items():
            for a, b in zip(rs, rs[1:], strict=False):
                if b.start < a.end - 0.01:
                    out.append((feed, a, b))
        return out

    def lateness(self, since: float, until: float, interval: float) -> float:
        """How much later than `interval` (plus 10% jitter) a feed's next request came, at
        worst, between `since` and `until`: the machine's own delay."""
        by_feed: dict[int, list[float]] = {}
        for r in self.requests:
            if since <= r.start <= until:
                by_feed.setdefault(r.feed, []).append(r.start)
        gaps = [b - a for starts in by_feed.values() for a, b in zip(sorted(starts), sorted(starts)[1:], strict=False)]
        return max([0.0] + [g - interval * 1.1 for g in gaps])

    def first_after(self, moment: float) -> dict[int, float]:
        """Per feed, when its first request after `moment` started."""
        out: dict[int, float] = {}
        for r in self.requests:
            if r.start >= moment and (r.feed not in out or r.start < out[r.feed]):
                out[r.feed] = r.start
        return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


JOB_POLL = re.compile(r"event=job\.poll feed=(\S+) due=(\S+) status=(\S+) new=\S+ daemon=(\S+)")


class Cluster:
    """Daemons sharing one database: one config folder, one log file each."""

    def __init__(self, tmp: Path, database_url: str, farm: FeedFarm, smtp_url: str, *, subscribers: int,
                 interval: str = "10s", stalled_after: str = "4s", quiet: str = "2s", workers: str = "shared") -> None:
        self.tmp = tmp
        self.database_url = database_url
        self.smtp_url = smtp_url
        self.config = tmp / "config"
        self.baseline = tmp / "baseline"
        shutil.copytree(ROOT / "config", self.config)
        shutil.copytree(ROOT / "baseline", self.baseline)
        (self.config / "settings.yaml").write_text(
            f"workers: {workers}\nstalled_after: {stalled_after}\nmin_interval: 1s\ndefault_interval: {interval}\n"
            f"max_interval: 1m\nimmediate_quiet_period: {quiet}\n")
        (self.config / "feeds.yaml").write_text("feeds:\n" + "".join(
            f"  - name: feed-{i:04d}\n    url: {farm.url(i)}\n    interval: {interval}\n" for i in range(farm.count)))
        (self.config / "subscribers.yaml").write_text("subscribers:\n" + "".join(
            f"  - email: reader{n:03d}@example.org\n    frequency: immediate\n" for n in range(subscribers)))
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []
        self.killed_at: dict[int, float] = {}

    def start(self, count: int = 1) -> list[int]:
        started = []
        for _ in range(count):
            n = len(self.procs)
            log = self.tmp / f"daemon{n}.log"
            env = {**os.environ, "MONITOR_DATA_DIR": str(self.tmp / f"data{n}"), "MONITOR_DATABASE_URL": self.database_url,
                   "MONITOR_SMTP_URL": self.smtp_url, "MONITOR_HTTP_PORT": str(free_port()),
                   "MONITOR_SECRET": "cluster-test-secret-0123456789abcdef"}
            with log.open("ab") as out:
                self.procs.append(subprocess.Popen(
                    [sys.executable, "-m", "monitor", "--config", str(self.config), "--baseline", str(self.baseline), "run"],
                    cwd=self.tmp, env=env, stdout=out, stderr=subprocess.STDOUT))
            self.logs.append(log)
            started.append(n)
        return started

    def text(self, n: int) -> str:
        return self.logs[n].read_text(encoding="utf-8", errors="replace")

    def wait_for(self, check: Callable[[], bool], what: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for n, proc in enumerate(self.procs):
                if n not in self.killed_at and proc.poll() is not None:
                    raise AssertionError(f"daemon {n} died:\n{self.text(n)[-4000:]}")
            if check():
                return
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}:\n" + "\n".join(self.text(n)[-3000:] for n in range(len(self.procs))))

    def started(self, n: int) -> bool:
        return "event=daemon.started" in self.text(n)

    def kill(self, n: int) -> float:
        self.procs[n].send_signal(signal.SIGKILL)
        self.procs[n].wait()
        self.killed_at[n] = time.monotonic()
        return self.killed_at[n]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A one-shot `monitor` command on the same config and database."""
        env = {**os.environ, "MONITOR_DATA_DIR": str(self.tmp / "data-cli"), "MONITOR_DATABASE_URL": self.database_url}
        return subprocess.run(
            [sys.executable, "-m", "monitor", "--config", str(self.config), "--baseline", str(self.baseline), *args],
            cwd=self.tmp, env=env, capture_output=True, text=True, timeout=60)

    def terminate(self, timeout: float = 30, only: list[int] | None = None) -> dict[int, int]:
        """SIGTERM every daemon alive (or those of `only`); their exit codes."""
        alive = [n for n, p in enumerate(self.procs) if p.poll() is None and (only is None or n in only)]
        for n in alive:
            self.procs[n].send_signal(signal.SIGTERM)
        codes = {}
        for n in alive:
            codes[n] = self.procs[n].wait(timeout=timeout)
        return codes

    def cleanup(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    def polls(self) -> list[tuple[int, str, str, str]]:
        """(daemon index, feed, due, status) of every poll job that polled."""
        out = []
        for n in range(len(self.procs)):
            for feed, due, status, _daemon in JOB_POLL.findall(self.text(n)):
                out.append((n, feed, due, status))
        return out

    def polls_by_daemon(self) -> Counter[int]:
        return Counter(n for n, *_ in self.polls())
