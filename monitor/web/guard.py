"""ASGI middleware in front of every page: bounded request bodies and strict response headers.

h11 (under uvicorn) already refuses a Content-Length that is not a number (`abc`, `-1`) with
400 before any of this runs. Here: a declared length over MAX_BODY is 413 without reading a
byte; a body that grows past MAX_BODY while streaming (chunked) is 413 at that point; a body
not complete within `body_timeout` seconds (a slow client holding the connection) is 408.
The whole body is read before the page runs, so no page ever holds more than MAX_BODY.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY = 4096

# Nothing from a third party, no script, no inline style, no framing; the page's own
# stylesheet only. Links carry tokens, so no Referer leaves this site.
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"), *SECURITY_HEADERS]})
    await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


class Guard:
    """Reads and bounds the request body, then runs the app on it; adds the security headers."""

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY, body_timeout: float = 10.0) -> None:
        self.app = app
        self.max_body = max_body
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared: int | None = None
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                if not value.isdigit() or declared is not None:
                    await _plain(send, 400, "Bad request.\n")
                    return
                declared = int(value)
        if declared is not None and declared > self.max_body:
            await _plain(send, 413, "Request too large.\n")
            return
        try:
            body = await asyncio.wait_for(self._read(receive), timeout=self.body_timeout)
        except _TooLarge:
            await _plain(send, 413, "Request too large.\n")
            return
        except TimeoutError:
            await _plain(send, 408, "Request timed out.\n")
            return
        if body is None:
            return  # the client went away
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                have = {name.lower() for name, _ in message.get("headers", ())}
                message["headers"] = [*message.get("headers", ()),
                                      *((n, v) for n, v in SECURITY_HEADERS if n not in have)]
            await send(message)

        scope["state"] = {**scope.get("state", {}), "body": body}
        await self.app(scope, replay, send_with_headers)

    async def _read(self, receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
