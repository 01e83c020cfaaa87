"""A real SMTP server for delivery tests: aiosmtpd on 127.0.0.1, an ephemeral port, in-process.

It records what it accepts and can misbehave on demand: refuse a recipient for good (550 on
RCPT), defer N times (421 or 451), require a login, or vanish and come back (stop/restart).
Take the `smtp_server` fixture (tests/conftest.py) for a started one.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"  # never anything else: tests must not reach the network


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class RecordingHandler:
    """aiosmtpd handler: records messages; refusals and deferrals are set by the test."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.messages: list[Received] = []
        self.refused: dict[str, str] = {}
        self._deferrals = 0
        self._deferral_reply = "451 4.3.0 Try again later"
        self.connections = 0

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:  # fmt: skip
        with self._lock:
            self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:  # fmt: skip
        with self._lock:
            if self._deferrals > 0:
                self._deferrals -= 1
                return self._deferral_reply
            reply = self.refused.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8")
        with self._lock:
            self.messages.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), data))
        return "250 Message accepted for delivery"

    def refuse(self, address: str, reply: str = "550 5.1.1 No such user here") -> None:
        with self._lock:
            self.refused[address.lower()] = reply

    def defer(self, times: int, code: int = 451) -> None:
        text = {421: "421 4.3.2 Service not available, closing channel"}.get(
            code, f"{code} 4.3.0 Try again later"
        )
        with self._lock:
            self._deferrals = times
            self._deferral_reply = text


class _Controller(Controller):
    """Controller that binds port 0 and learns the port the kernel gave it."""

    def _trigger_server(self) -> None:
        if self.port == 0 and isinstance(self.server, asyncio.Server):
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


class SmtpTestServer:
    """A started aiosmtpd server with a recording handler; stop() and restart() on one port."""

    def __init__(self, *, users: dict[str, str] | None = None, **smtp_kwargs: Any) -> None:
        self.handler = RecordingHandler()
        self._users = users
        self._smtp_kwargs = smtp_kwargs
        self.port = 0
        self._controller: _Controller | None = None

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> AuthResult:  # fmt: skip
        if isinstance(auth_data, LoginPassword) and self._users is not None:
            user = auth_data.login.decode()
            if self._users.get(user) == auth_data.password.decode():
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def start(self) -> None:
        kwargs = dict(self._smtp_kwargs)
        if self._users is not None:
            kwargs.setdefault("authenticator", self._authenticate)
            kwargs.setdefault("auth_required", True)  # over TLS only (aiosmtpd's default)
        # A fresh loop each time: a stopped controller has closed its own.
        controller = _Controller(
            self.handler, hostname=HOST, port=self.port, loop=asyncio.new_event_loop(), **kwargs
        )
        try:
            controller.start()
        except BaseException:
            controller.loop.close()
            raise
        self._controller = controller
        self.port = controller.port

    def stop(self) -> None:
        """Stop listening: clients now get 'connection refused' (the server vanished)."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self._controller is not None

    @property
    def url(self) -> str:
        return f"smtp://{HOST}:{self.port}"

    @property
    def messages(self) -> list[Received]:
        with self.handler._lock:
            return list(self.handler.messages)

    def refuse(self, address: str, reply: str = "550 5.1.1 No such user here") -> None:
        self.handler.refuse(address, reply)

    def defer(self, times: int, code: int = 451) -> None:
        self.handler.defer(times, code)
