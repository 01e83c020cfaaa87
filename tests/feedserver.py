"""A real HTTP/1.1 server on 127.0.0.1 for tests: serves feeds, and misbehaves on demand.

    with FeedServer() as server:
        server.add("/news.xml", RSS, etag='"v1"')
        url = server.url("/news.xml")
        ...
        server.requests   # [(method, path, {lowercased header: value}), ...]

Or take the `feed_server` fixture (tests/conftest.py).

Every resource added with `add` is served with an ETag and a Last-Modified (unless told
not to) and answers 304 to a matching conditional request (RFC 9110 13.1.1, 13.1.3:
If-None-Match wins over If-Modified-Since). Besides what you add, these paths are built in:

    /feed.xml                        a small valid RSS 2.0 feed (FEED_XML)
    /malformed.xml                   truncated XML
    /bomb.xml                        billion laughs: nested entity expansion
    /page.html                       an HTML page, not a feed
    /charset/cp1252-says-utf8.xml    body in windows-1252, header says utf-8
    /charset/utf8-says-cp1252.xml    body in utf-8, header says windows-1252
    /gzip/feed.xml  /deflate/feed.xml  /br/feed.xml    FEED_XML with Content-Encoding
    /gzip-bomb.xml                   32 MiB of zeros, gzip-encoded (about 32 KiB on the wire)
    /gone                            410 Gone
    /moved/301  /moved/308           permanent redirect to /feed.xml
    /redirect/<code>/<rest>          <code> redirect to /<rest>, so chains compose:
                                     /redirect/301/redirect/302/feed.xml
    /chain/<n>                       n 302 redirects, then FEED_XML
    /loop/a  /loop/b  /loop/self     redirect loops
    /status/<code>?retry_after=N     any status; Retry-After as delay-seconds
    /status/<code>?retry_after_date=N   ... or as an HTTP-date N seconds after Date
    /drip?every=S&size=N             Content-Length N, then one byte every S seconds
    /stall?seconds=S                 headers, then nothing for S seconds, then the body
    /slow?delay=S                    waits S seconds before answering with FEED_XML
    /huge                            an endless chunked stream of XML
    /lying-length                    says Content-Length 100 and sends 50 bytes, then closes

`max_in_flight` counts the most requests handled at once (for concurrency limits).
It never binds anything but 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import socket
import threading
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["AUTO", "BOMB_XML", "FEED_XML", "FeedServer"]

AUTO = "auto"  # add(..., etag=AUTO): derive a strong ETag from the body
LAST_MODIFIED = "Wed, 01 Mar 2023 09:00:00 GMT"

FEED_XML = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
<title>Test feed</title><link>http://127.0.0.1/</link><description>test</description>
<item><guid>item-1</guid><title>First item</title><link>http://127.0.0.1/1</link>
<pubDate>Wed, 01 Mar 2023 09:00:00 GMT</pubDate><description>One.</description></item>
</channel></rss>
"""

_ACCENTED = "Caf\u00e9 \u2019quoted\u2019 \u2013 na\u00efve"
_CHARSET_XML = (
    f'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>{_ACCENTED}</title>'
    f"<item><guid>c-1</guid><title>{_ACCENTED}</title></item></channel></rss>\n"
)

BOMB_XML = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>&lol9;</title>
<item><guid>bomb</guid><title>&lol9;</title></item></channel></rss>
"""

RSS = "application/rss+xml; charset=utf-8"


@dataclass(frozen=True)
class Resource:
    body: bytes
    status: int = 200
    content_type: str = RSS
    etag: str | None = None
    last_modified: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


@cache
def _gzip_bomb() -> bytes:
    return gzip.compress(b"\0" * (32 * 1024 * 1024), compresslevel=9)


def _encode(body: bytes, encoding: str | None) -> bytes:
    if encoding is None:
        return body
    if encoding == "gzip":
        return gzip.compress(body)
    if encoding == "deflate":
        return zlib.compress(body)
    if encoding == "br":
        import brotli  # type: ignore[import-untyped]

        return bytes(brotli.compress(body))
    raise ValueError(f"unknown encoding {encoding!r}")


class FeedServer:
    """A threaded HTTP server on 127.0.0.1 with an ephemeral port; a context manager."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._routes: dict[str, Resource] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._add_builtins()

    # -- setup -------------------------------------------------------------------------

    def add(
        self,
        path: str,
        body: bytes | str,
        *,
        content_type: str = RSS,
        etag: str | None = AUTO,
        last_modified: str | None = LAST_MODIFIED,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        encoding: str | None = None,
    ) -> None:
        """Serve `body` at `path`. encoding: None, "gzip", "deflate" or "br" on the wire."""
        raw = body.encode("utf-8") if isinstance(body, str) else body
        if etag == AUTO:
            etag = '"' + hashlib.sha256(raw).hexdigest()[:16] + '"'
        extra = dict(headers or {})
        if encoding is not None:
            extra["Content-Encoding"] = encoding
        self._routes[path] = Resource(
            body=_encode(raw, encoding),
            status=status,
            content_type=content_type,
            etag=etag,
            last_modified=last_modified,
            headers=tuple(extra.items()),
        )

    def add_redirect(self, path: str, to: str, status: int = 302) -> None:
        """Answer `path` with a redirect to `to` (a path or an absolute URL)."""
        self._routes[path] = Resource(
            body=b"", status=status, content_type="text/plain", headers=(("Location", to),)
        )

    def _add_builtins(self) -> None:
        self.add("/feed.xml", FEED_XML)
        self.add("/malformed.xml", FEED_XML[: len(FEED_XML) // 2] + b"<item><title>oops")
        self.add("/bomb.xml", BOMB_XML)
        self.add(
            "/page.html",
            b"<!DOCTYPE html><html><head><title>Not a feed</title></head>"
            b"<body><p>Hello</p></body></html>",
            content_type="text/html; charset=utf-8",
        )
        self.add(
            "/charset/cp1252-says-utf8.xml",
            _CHARSET_XML.encode("cp1252"),
            content_type="application/rss+xml; charset=utf-8",
        )
        self.add(
            "/charset/utf8-says-cp1252.xml",
            _CHARSET_XML.encode("utf-8"),
            content_type="application/rss+xml; charset=windows-1252",
        )
        for coding in ("gzip", "deflate", "br"):
            self.add(f"/{coding}/feed.xml", FEED_XML, encoding=coding)
        self.add("/gone", b"gone", status=410, content_type="text/plain")
        self.add_redirect("/moved/301", "/feed.xml", 301)
        self.add_redirect("/moved/308", "/feed.xml", 308)
        self.add_redirect("/loop/a", "/loop/b")
        self.add_redirect("/loop/b", "/loop/a")
        self.add_redirect("/loop/self", "/loop/self", 301)

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> FeedServer:
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.feeds = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._stopping.set()  # ends drips, stalls and endless streams
        self._httpd.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:  # wake handlers blocked reading an idle keep-alive socket
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()  # joins the handler threads
        assert self._thread is not None
        self._thread.join()
        self._httpd = None

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def paths(self) -> list[str]:
        """Paths requested so far, in order."""
        return [path for _, path, _ in self.requests]


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins handler threads: no leaks between tests
    block_on_close = True
    feeds: FeedServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return  # the client hung up (as it should on a capped or timed-out body)
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        with self.server.feeds._lock:
            self.server.feeds._connections.add(self.connection)

    def finish(self) -> None:
        with self.server.feeds._lock:
            self.server.feeds._connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        feeds = self.server.feeds
        headers = {k.lower(): v for k, v in self.headers.items()}
        feeds.requests.append((self.command, self.path, headers))
        with feeds._lock:
            feeds.in_flight += 1
            feeds.max_in_flight = max(feeds.max_in_flight, feeds.in_flight)
        try:
            self._route(feeds, headers)
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        finally:
            with feeds._lock:
                feeds.in_flight -= 1

    # -- routing -------------------------------------------------------------------------

    def _route(self, feeds: FeedServer, headers: dict[str, str]) -> None:
        split = urlsplit(self.path)
        path, query = split.path, {k: v[-1] for k, v in parse_qs(split.query).items()}
        parts = path.strip("/").split("/")
        resource = feeds._routes.get(path)
        if resource is not None:
            self._serve(resource, headers)
        elif parts[0] == "redirect" and len(parts) >= 3:
            rest = "/" + "/".join(parts[2:]) + (f"?{split.query}" if split.query else "")
            self._plain(int(parts[1]), b"", extra={"Location": rest})
        elif parts[0] == "chain" and len(parts) == 2:
            n = int(parts[1])
            if n > 0:
                self._plain(302, b"", extra={"Location": f"/chain/{n - 1}"})
            else:
                self._serve(feeds._routes["/feed.xml"], headers)
        elif parts[0] == "status" and len(parts) == 2:
            extra = {}
            if "retry_after" in query:
                extra["Retry-After"] = query["retry_after"]
            if "retry_after_date" in query:
                now = time.time()
                extra["Date"] = formatdate(now, usegmt=True)
                extra["Retry-After"] = formatdate(
                    now + float(query["retry_after_date"]), usegmt=True
                )
            self._plain(int(parts[1]), b"status", extra=extra)
        elif path == "/gzip-bomb.xml":
            self._plain(200, _gzip_bomb(), extra={"Content-Encoding": "gzip"})
        elif path == "/drip":
            self._drip(float(query.get("every", "1")), int(query.get("size", "100")))
        elif path == "/stall":
            self._stall(float(query.get("seconds", "5")))
        elif path == "/slow":
            feeds._stopping.wait(float(query.get("delay", "0.3")))
            self._serve(feeds._routes["/feed.xml"], headers)
        elif path == "/huge":
            self._endless()
        elif path == "/lying-length":
            self._lying_length()
        else:
            self._plain(404, b"not found")

    def _serve(self, res: Resource, headers: dict[str, str]) -> None:
        validators = {}
        if res.etag:
            validators["ETag"] = res.etag
        if res.last_modified:
            validators["Last-Modified"] = res.last_modified
        if res.status == 200 and _not_modified(res, headers):
            self.send_response(304)
            for name, value in validators.items():
                self.send_header(name, value)
            self.end_headers()
            return
        extra = {**validators, **dict(res.headers)}
        self._plain(res.status, res.body, content_type=res.content_type, extra=extra)

    def _plain(
        self,
        status: int,
        body: bytes,
        *,
        content_type: str = "application/rss+xml",
        extra: Mapping[str, str] | None = None,
    ) -> None:
        extra = dict(extra or {})
        self.send_response_only(status)
        if "Date" not in extra:
            self.send_header("Date", self.date_time_string())
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _drip(self, every: float, size: int) -> None:
        self.send_response(200)
        self.send_header("Content-Type", RSS)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        self.wfile.flush()
        for _ in range(size):
            if self.server.feeds._stopping.wait(every):
                break
            self.wfile.write(b"x")
            self.wfile.flush()
        self.close_connection = True

    def _stall(self, seconds: float) -> None:
        self.send_response(200)
        self.send_header("Content-Type", RSS)
        self.send_header("Content-Length", str(len(FEED_XML)))
        self.end_headers()
        self.wfile.flush()
        if not self.server.feeds._stopping.wait(seconds):
            self.wfile.write(FEED_XML)
        self.close_connection = True

    def _endless(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", RSS)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"<item><title>more</title></item>\n" * 2000  # about 64 KiB
        frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        while not self.server.feeds._stopping.is_set():
            self.wfile.write(frame)
        self.close_connection = True

    def _lying_length(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", RSS)
        self.send_header("Content-Length", "100")
        self.end_headers()
        self.wfile.write(b"x" * 50)
        self.close_connection = True


def _not_modified(res: Resource, headers: dict[str, str]) -> bool:
    """RFC 9110 13.1.2 and 13.1.3: If-None-Match (weak comparison) wins over If-Modified-Since."""
    inm = headers.get("if-none-match")
    if inm is not None:
        if res.etag is None:
            return False
        if inm.strip() == "*":
            return True
        tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
        return res.etag.removeprefix("W/") in tags
    ims = headers.get("if-modified-since")
    if ims is not None and res.last_modified is not None:
        try:
            return parsedate_to_datetime(res.last_modified) <= parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
    return False
