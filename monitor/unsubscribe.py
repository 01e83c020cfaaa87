"""The unsubscribe endpoint: RFC 8058 one-click POST, and a confirmation page for GET.

GET never unsubscribes (mail scanners follow links); it shows a page whose button POSTs.
A POST with a valid token puts the address on the suppression list, which wins over
config. A forged or damaged token gets 400 and changes nothing.
"""

from __future__ import annotations

import html
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import Engine

from monitor.mail.tokens import InvalidToken, verify_unsubscribe
from monitor.store import outbox

log = logging.getLogger(__name__)

PATH = "/unsubscribe"
MAX_BODY = 4096

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;
line-height:1.5}}button{{font-size:1rem;padding:.6rem 1.2rem}}</style></head>
<body><h1>{title}</h1>{body}</body></html>
"""


def _page(title: str, body: str) -> bytes:
    return _PAGE.format(title=html.escape(title), body=body).encode("utf-8")


class UnsubscribeServer(ThreadingHTTPServer):
    """An HTTP server that knows the engine, the signing key and the clock."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], engine: Engine, secret: bytes,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self.secret = secret
        self.clock = clock or (lambda: datetime.now(UTC))
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class _Handler(BaseHTTPRequestHandler):
    server: UnsubscribeServer
    server_version = "case-monitor"
    sys_version = ""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib's name
        log.debug("unsubscribe endpoint: " + format, *args)

    def _token(self) -> tuple[str, str] | None:
        """(email, scope) from ?token=..., or None after answering 404/400."""
        parts = urlsplit(self.path)
        if parts.path.rstrip("/") != PATH:
            self._reply(404, _page("Not found", "<p>Nothing here.</p>"))
            return None
        token = parse_qs(parts.query).get("token", [""])[0]
        try:
            return verify_unsubscribe(self.server.secret, token)
        except InvalidToken:
            self._reply(400, _page("Invalid link", "<p>This unsubscribe link is not valid. "
                                   "Use the link from a recent digest.</p>"))
            return None

    def do_GET(self) -> None:  # noqa: N802 - stdlib's name
        found = self._token()
        if found is None:
            return
        email, _ = found
        action = html.escape(self.path, quote=True)
        body = (f"<p>Stop sending digests to <strong>{html.escape(email)}</strong>?</p>"
                f'<form method="post" action="{action}">'
                '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
                "<button type=\"submit\">Unsubscribe</button></form>")
        self._reply(200, _page("Unsubscribe", body))

    def do_POST(self) -> None:  # noqa: N802 - stdlib's name
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._reply(413, _page("Too large", "<p>Request too large.</p>"))
            return
        if length:
            self.rfile.read(length)  # RFC 8058: "List-Unsubscribe=One-Click"; the token is the proof
        found = self._token()
        if found is None:
            return
        email, scope = found
        try:
            outbox.suppress(self.server.engine, email, "unsubscribe", f"one-click ({scope})", self.server.clock())
        except Exception:
            log.exception("unsubscribe endpoint: cannot record the unsubscribe of %s", email)
            self._reply(503, _page("Try again", "<p>Could not record that just now; please try again.</p>"))
            return
        log.info("unsubscribed %s", email)
        self._reply(200, _page("Unsubscribed", f"<p>{html.escape(email)} will get no more digests.</p>"))

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
        self.end_headers()
        self.wfile.write(body)


def start_server(engine: Engine, secret: bytes, host: str, port: int,
                 clock: Callable[[], datetime] | None = None) -> tuple[UnsubscribeServer, threading.Thread]:
    """Bind and serve in a daemon thread; stop with `server.shutdown(); server.server_close()`."""
    server = UnsubscribeServer((host, port), engine, secret, clock)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name="unsubscribe-http", daemon=True)
    thread.start()
    log.info("unsubscribe endpoint listening on %s", server.url)
    return server, thread
