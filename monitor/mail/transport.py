"""Delivery: hand rendered digests to an SMTP server, or write them as .eml files to a folder.

Errors raised here (all DeliveryError, carrying the recipient):

    DeliveryError                 the server or our settings refused: fix config, then retry
     ├── RecipientRefused         5xx on RCPT: this subscriber only; do not retry as is
     └── TransientDeliveryError   connection refused/lost, timeout, 4xx: retry later

smtplib and socket exceptions are translated in one place, `_translate`. This module never
reads the environment nor parses the SMTP URL: config hands over an SmtpTarget.
"""

from __future__ import annotations

import os
import re
import smtplib
import socket
import ssl
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path

from monitor.errors import DeliveryError
from monitor.model import SmtpTarget


class RecipientRefused(DeliveryError):
    """The server refused this recipient for good (5xx on RCPT TO)."""

    hint = "check the subscriber's address; other subscribers are not affected"

    def __init__(self, subscriber: str, message: str, *, code: int | None = None) -> None:
        self.code = code
        super().__init__(subscriber, message)


class TransientDeliveryError(DeliveryError):
    """The server could not take the message now (unreachable, timed out, 4xx)."""

    hint = "the digest stays in the outbox and is retried later"

    def __init__(self, subscriber: str, message: str, *, code: int | None = None) -> None:
        self.code = code
        super().__init__(subscriber, message)


def _recipients(message: EmailMessage) -> list[str]:
    fields = [str(v) for name in ("To", "Cc", "Bcc") for v in message.get_all(name, [])]
    return [address for _, address in getaddresses(fields) if address]


def _describe(recipients: list[str]) -> str:
    return ", ".join(recipients) or "(no recipient)"


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(text.split())}".strip()


def _translate(exc: BaseException, subscriber: str) -> DeliveryError:
    """The one boundary where smtplib, ssl and socket errors become DeliveryErrors."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = exc.recipients or {}
        code, text = next(iter(refused.values()), (0, b""))
        who = ", ".join(refused) or subscriber
        if 400 <= code < 500:
            return TransientDeliveryError(
                who, f"recipient deferred: {_reply(code, text)}", code=code
            )
        return RecipientRefused(who, f"recipient refused: {_reply(code, text)}", code=code)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return DeliveryError(
            subscriber,
            f"SMTP login refused: {_reply(exc.smtp_code, exc.smtp_error)}",
            hint="check the SMTP user name and password",
        )
    if isinstance(exc, smtplib.SMTPSenderRefused):
        if 400 <= exc.smtp_code < 500:
            return TransientDeliveryError(
                subscriber, f"sender deferred: {_reply(exc.smtp_code, exc.smtp_error)}",
                code=exc.smtp_code,
            )  # fmt: skip
        return DeliveryError(
            subscriber,
            f"sender {exc.sender!r} refused: {_reply(exc.smtp_code, exc.smtp_error)}",
            hint="check the From address: the SMTP server must accept it for this account",
        )
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return TransientDeliveryError(subscriber, f"SMTP server disconnected: {exc}")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return DeliveryError(
            subscriber,
            f"SMTP server does not support a required extension: {exc}",
            hint="use smtps:// or plain smtp:// if the server offers no STARTTLS",
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = _reply(exc.smtp_code, exc.smtp_error)
        if 400 <= exc.smtp_code < 500:
            return TransientDeliveryError(
                subscriber, f"SMTP server deferred: {reply}", code=exc.smtp_code
            )
        return DeliveryError(subscriber, f"SMTP server refused the message: {reply}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return DeliveryError(
            subscriber,
            f"TLS certificate of the SMTP server not trusted: {exc.verify_message}",
            hint="fix the server's certificate or the host name in the SMTP URL",
        )
    if isinstance(exc, ssl.SSLError):
        return TransientDeliveryError(subscriber, f"TLS failure talking to the SMTP server: {exc}")
    if isinstance(exc, socket.gaierror):
        return TransientDeliveryError(subscriber, f"SMTP host not found: {exc}")
    if isinstance(exc, TimeoutError | socket.timeout):
        return TransientDeliveryError(subscriber, "SMTP server timed out")
    if isinstance(exc, OSError | smtplib.SMTPException):
        return TransientDeliveryError(subscriber, f"SMTP server unreachable: {exc}")
    return DeliveryError(subscriber, f"unexpected delivery failure: {exc!r}")


_SMTP_ERRORS = (smtplib.SMTPException, OSError)  # ssl.SSLError and socket errors are OSErrors


class SmtpSession:
    """One SMTP connection for a batch of messages; reconnects if the server dropped it."""

    def __init__(self, sender: SmtpSender) -> None:
        self._sender = sender
        self._smtp: smtplib.SMTP | None = None

    def send(self, message: EmailMessage) -> None:
        """Hand one message over; raise a DeliveryError naming its recipient on failure."""
        recipients = _recipients(message)
        who = _describe(recipients)
        if not recipients:
            raise DeliveryError(who, "the message has no recipient")
        try:
            if self._smtp is None:
                self._smtp = self._sender._connect()
            refused = self._smtp.send_message(message)
        except _SMTP_ERRORS as exc:
            if not _connection_survives(exc):
                self._drop()  # gone or in an unknown state: reconnect at the next send
            raise _translate(exc, who) from exc
        if refused:  # some, not all, recipients refused; digests have one, so rarely seen
            raise _translate(smtplib.SMTPRecipientsRefused(refused), who)

    def close(self) -> None:
        if self._smtp is None:
            return
        try:
            self._smtp.quit()
        except _SMTP_ERRORS:
            pass
        finally:
            self._drop()

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None


def _connection_survives(exc: BaseException) -> bool:
    """After a refused MAIL, RCPT or DATA smtplib sends RSET and the connection is reusable;
    on 421 (RFC 5321 section 3.8: the server is closing) smtplib has closed it already."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code != 421 for code, _ in (exc.recipients or {}).values())
    if isinstance(exc, smtplib.SMTPSenderRefused | smtplib.SMTPDataError):
        return exc.smtp_code != 421
    return False


class SmtpSender:
    """Sends messages through one SMTP server; `session()` reuses a connection for a batch."""

    def __init__(
        self,
        settings: SmtpTarget,
        *,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        self.settings = settings
        self._ssl_context = ssl_context
        self._local_hostname = local_hostname

    def __repr__(self) -> str:
        return f"SmtpSender({self.settings!r})"

    def _context(self) -> ssl.SSLContext:
        return self._ssl_context or ssl.create_default_context()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        smtp: smtplib.SMTP
        if s.security == "tls":
            smtp = smtplib.SMTP_SSL(
                s.host, s.port, local_hostname=self._local_hostname,
                timeout=s.timeout, context=self._context(),
            )  # fmt: skip
        else:
            smtp = smtplib.SMTP(
                s.host, s.port, local_hostname=self._local_hostname, timeout=s.timeout
            )
        try:
            smtp.ehlo()
            if s.security == "starttls":
                smtp.starttls(context=self._context())
                smtp.ehlo()
            if s.username:
                smtp.login(s.username, s.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    @contextmanager
    def session(self) -> Iterator[SmtpSession]:
        """`with sender.session() as s: s.send(m1); s.send(m2)` over one connection.

        The connection opens at the first send. After a TransientDeliveryError the next send
        reconnects; a caller that sees one may prefer to stop the batch and retry later.
        """
        session = SmtpSession(self)
        try:
            yield session
        finally:
            session.close()

    def send(self, message: EmailMessage) -> None:
        """Send one message over a connection of its own."""
        with self.session() as session:
            session.send(message)


class OutboxFolderSender:
    """Writes each message to `<folder>/<timestamp>-<message-id-slug>.eml` (no SMTP needed)."""

    def __init__(self, folder: Path, *, clock: Callable[[], datetime] | None = None) -> None:
        self.folder = Path(folder)
        self._clock = clock or (lambda: datetime.now(UTC))

    def __repr__(self) -> str:
        return f"OutboxFolderSender({str(self.folder)!r})"

    @contextmanager
    def session(self) -> Iterator[OutboxFolderSender]:
        yield self

    def send(self, message: EmailMessage) -> Path:
        """Write the message atomically (temp file, fsync, os.replace); return its path."""
        who = _describe(_recipients(message))
        stamp = self._clock().strftime("%Y%m%dT%H%M%S%fZ")
        slug = re.sub(r"[^A-Za-z0-9]+", "-", str(message.get("Message-ID", ""))).strip("-")
        slug = slug[:80] or "message"
        target = self.folder / f"{stamp}-{slug}.eml"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            data = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".eml")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise DeliveryError(
                who,
                f"cannot write {target}: {exc.strerror or exc}",
                hint="check that the outbox folder is writable",
            ) from exc
        return target


def make_sender(smtp: SmtpTarget | None, outbox_dir: Path) -> SmtpSender | OutboxFolderSender:
    """An SmtpSender when an SMTP server is configured (Settings.smtp), else an
    OutboxFolderSender."""
    if smtp is not None:
        return SmtpSender(smtp)
    return OutboxFolderSender(outbox_dir)
