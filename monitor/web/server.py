"""uvicorn as a task of the caller's event loop (the daemon), or in a thread of its own (tests).

The socket is bound before serving, so a busy port is an OSError at start (logged by the
daemon, not fatal) and port 0 gives a free port whose number is known at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Generator
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

BODY_TIMEOUT = 10.0  # seconds a client gets to send a whole request body
HEADER_TIMEOUT = 10.0  # seconds a client gets to send a request line and its headers
KEEP_ALIVE = 5  # seconds an idle keep-alive connection is kept
MAX_CONNECTIONS = 200  # beyond this uvicorn answers 503


class _Server(uvicorn.Server):
    """uvicorn.Server that leaves signals to its host: the daemon owns SIGTERM and SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class _H11WithHeaderTimeout(H11Protocol):
    """uvicorn's h11 protocol, plus a deadline for the request head: a client that trickles
    its headers (slowloris) is cut off after `header_timeout` seconds instead of holding a
    connection for ever (uvicorn's own timer only covers idle keep-alive connections, and any
    byte received resets it)."""

    header_timeout = HEADER_TIMEOUT
    _head_timer: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_expired)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_expired(self) -> None:
        self._head_timer = None
        if (self.cycle is None or self.cycle.response_complete) and not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not None and not self.cycle.response_complete:
            self._disarm()  # the head is in: the body has the guard's deadline

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def _config(app: Any, header_timeout: float = HEADER_TIMEOUT) -> uvicorn.Config:
    protocol = type("H11Protocol", (_H11WithHeaderTimeout,), {"header_timeout": header_timeout})
    return uvicorn.Config(
        app,
        http=protocol,  # h11, a strict parser: bad Content-Length, bad header lines -> 400
        ws="none",
        lifespan="off",
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,  # never trust X-Forwarded-For from whoever connects
        limit_concurrency=MAX_CONNECTIONS,
        timeout_keep_alive=KEEP_ALIVE,
        timeout_graceful_shutdown=2,
        h11_max_incomplete_event_size=16 * 1024,  # request line + headers
    )


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    host = f"[{host}]" if ":" in str(host) else host
    return f"http://{host}:{port}"


class WebServer:
    """The web pages as a task of the running event loop: `await start()`, `await stop()`."""

    def __init__(self, app: Any, host: str, port: int, header_timeout: float = HEADER_TIMEOUT) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.url = ""
        self._server = _Server(_config(app, header_timeout))
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        sock = bind(self.host, self.port)  # OSError (port busy) goes to the caller
        self.url = _url(sock)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="web")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._server.should_exit = True
        try:
            await asyncio.wait_for(self._task, timeout=5)
        except (TimeoutError, asyncio.CancelledError):
            self._task.cancel()
        self._task = None


class RunningServer:
    """uvicorn serving in a thread with its own loop; `stop()` ends it."""

    def __init__(self, app: Any, host: str, port: int, header_timeout: float = HEADER_TIMEOUT) -> None:
        self._server = _Server(_config(app, header_timeout))
        self._sock = bind(host, port)
        self.url = _url(self._sock)
        self._thread = threading.Thread(target=self._run, name="web", daemon=True)

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._sock]))

    def start(self) -> RunningServer:
        self._thread.start()
        for _ in range(500):
            if self._server.started or not self._thread.is_alive():
                break
            threading.Event().wait(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self._sock.close()


def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0,
                    header_timeout: float = HEADER_TIMEOUT) -> RunningServer:
    return RunningServer(app, host, port, header_timeout).start()
