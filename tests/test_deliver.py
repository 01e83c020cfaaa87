"""Delivery against a real SMTP server on 127.0.0.1 (aiosmtpd), and to an outbox folder."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from smtpserver import HOST, SmtpTestServer

from monitor.config import load_settings
from monitor.digest.render import render_digest
from monitor.digest.sample import SENDER, kem_sokha_conviction, make_digest
from monitor.errors import ConfigError, DeliveryError
from monitor.mail.transport import (
    OutboxFolderSender,
    RecipientRefused,
    SmtpSender,
    TransientDeliveryError,
    make_sender,
)
from monitor.model import SmtpTarget


def digest_for(email: str, name: str = "Sophea") -> EmailMessage:
    development = kem_sokha_conviction(summary="កឹម សុខា sentenced to 27 years of house arrest")
    return render_digest(make_digest(development, email=email, name=name), sender=SENDER)


def sender_for(server: SmtpTestServer, **kwargs: object) -> SmtpSender:
    return SmtpSender(SmtpTarget(HOST, server.port, timeout=5), **kwargs)  # type: ignore[arg-type]


def smtp_target(url: str, password: str | None = None) -> SmtpTarget | None:
    """The target as the settings build it from MONITOR_SMTP_URL and MONITOR_SMTP_PASSWORD."""
    env = {"MONITOR_SMTP_URL": url, "MONITOR_SECRET": "unused"}
    if password is not None:
        env["MONITOR_SMTP_PASSWORD"] = password
    return load_settings(Path("/nonexistent/config"), env=env).smtp


# --- SMTP URLs ---


@pytest.mark.parametrize(
    ("url", "host", "port", "security"),
    [
        ("smtp://mail.example.org", "mail.example.org", 25, "plain"),
        ("smtp://mail.example.org:2525", "mail.example.org", 2525, "plain"),
        ("smtp://mail.example.org:587?starttls=1", "mail.example.org", 587, "starttls"),
        ("smtp+starttls://mail.example.org", "mail.example.org", 587, "starttls"),
        ("smtps://mail.example.org", "mail.example.org", 465, "tls"),
        ("SMTPS://127.0.0.1:1465/", "127.0.0.1", 1465, "tls"),
    ],
)
def test_parse_smtp_url(url: str, host: str, port: int, security: str) -> None:
    settings = smtp_target(url)
    assert (settings.host, settings.port, settings.security) == (host, port, security)
    assert settings.username is None and settings.password is None


def test_user_and_password_from_the_url_are_percent_decoded() -> None:
    settings = smtp_target(
        "smtps://monitor%40example.org:p%40ss%3Aword@mail.example.org?timeout=7"
    )
    assert settings.username == "monitor@example.org"
    assert settings.password == "p@ss:word"
    assert settings.timeout == 7


def test_password_passed_in_wins_over_the_url() -> None:
    settings = smtp_target("smtps://user:in-url@mail.example.org", password="from-env")
    assert settings.password == "from-env"
    assert smtp_target("smtps://user@mail.example.org", password="pw").password == "pw"


def test_repr_redacts_the_password() -> None:
    settings = smtp_target("smtps://user:hunter2@mail.example.org")
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings)
    assert "hunter2" not in repr(SmtpSender(settings))
    assert "'***'" in repr(settings)


@pytest.mark.parametrize(
    "url",
    [
        "http://mail.example.org",
        "smtp://",
        "smtp://mail.example.org:notaport",
        "smtp://mail.example.org/path",
        "smtp://mail.example.org?tls=1",
        "smtp://mail.example.org?starttls=maybe",
        "smtps://mail.example.org?starttls=1",
        "smtp://mail.example.org?timeout=-1",
    ],
)
def test_bad_smtp_urls_are_config_errors_that_never_echo_the_password(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        smtp_target(url.replace("://", "://user:hunter2@", 1) if "://" in url[:9] else url)
    assert "hunter2" not in str(info.value)


def test_make_sender_uses_smtp_when_configured_else_the_outbox(tmp_path: Path) -> None:
    assert isinstance(make_sender(None, tmp_path), OutboxFolderSender)
    assert isinstance(make_sender(smtp_target("  "), tmp_path), OutboxFolderSender)
    sender = make_sender(smtp_target("smtps://u@mail.example.org", "pw"), tmp_path)
    assert isinstance(sender, SmtpSender)
    assert sender.settings.password == "pw"


# --- Outbox folder ---


def test_outbox_folder_writes_a_parseable_eml(tmp_path: Path) -> None:
    folder = tmp_path / "outbox" / "new"
    sender = OutboxFolderSender(folder, clock=lambda: datetime(2023, 3, 3, 18, 0, 1, tzinfo=UTC))
    message = digest_for("ana@example.org")
    with sender.session() as session:
        path = session.send(message)
    files = list(folder.iterdir())
    assert files == [path]
    assert path.name.startswith("20230303T180001000000Z-digest-")
    assert path.name.endswith("-example-org.eml")
    parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert parsed["Subject"] == message["Subject"]
    assert parsed["Message-ID"] == message["Message-ID"]
    plain = parsed.get_body(("plain",))
    assert plain is not None and "កឹម សុខា" in plain.get_content()


def test_outbox_folder_that_cannot_be_written_is_a_delivery_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(DeliveryError) as info:
        OutboxFolderSender(blocker / "outbox").send(digest_for("ana@example.org"))
    assert info.value.subscriber == "ana@example.org"


# --- SMTP ---


def test_smtp_delivers_the_digest(smtp_server: SmtpTestServer) -> None:
    message = digest_for("ana@example.org")
    sender_for(smtp_server).send(message)
    [received] = smtp_server.messages
    assert received.mail_from == "monitor@example.org"
    assert received.rcpt_tos == ("ana@example.org",)
    assert received.message["Subject"] == message["Subject"]
    assert received.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    plain = received.message.get_body(("plain",))
    assert plain is not None and "កឹម សុខា" in plain.get_content()


def test_a_session_reuses_one_connection(smtp_server: SmtpTestServer) -> None:
    with sender_for(smtp_server).session() as session:
        for address in ("a@example.org", "b@example.org", "c@example.org"):
            session.send(digest_for(address))
    assert [m.rcpt_tos for m in smtp_server.messages] == [
        ("a@example.org",), ("b@example.org",), ("c@example.org",)
    ]  # fmt: skip
    assert smtp_server.handler.connections == 1


def test_refused_recipient_fails_alone_and_the_session_goes_on(smtp_server: SmtpTestServer) -> None:
    smtp_server.refuse("gone@example.org")
    with sender_for(smtp_server).session() as session:
        with pytest.raises(RecipientRefused) as info:
            session.send(digest_for("gone@example.org"))
        session.send(digest_for("ana@example.org"))
    assert info.value.subscriber == "gone@example.org"
    assert info.value.code == 550
    assert "550" in str(info.value) and info.value.hint
    assert not isinstance(info.value, TransientDeliveryError)
    assert [m.rcpt_tos for m in smtp_server.messages] == [("ana@example.org",)]
    assert smtp_server.handler.connections == 1


@pytest.mark.parametrize("code", [451, 421])
def test_temporary_failure_is_transient_and_a_retry_succeeds(
    smtp_server: SmtpTestServer, code: int
) -> None:
    smtp_server.defer(1, code=code)
    with sender_for(smtp_server).session() as session:
        with pytest.raises(TransientDeliveryError) as info:
            session.send(digest_for("ana@example.org"))
        session.send(digest_for("ana@example.org"))  # 421 closed the connection: reconnects
    assert info.value.code == code
    assert info.value.subscriber == "ana@example.org"
    assert not isinstance(info.value, RecipientRefused)
    assert len(smtp_server.messages) == 1


def test_server_gone_is_transient_and_delivery_resumes_when_it_is_back(
    smtp_server: SmtpTestServer,
) -> None:
    sender = sender_for(smtp_server)
    with sender.session() as session:
        session.send(digest_for("a@example.org"))
        smtp_server.stop()  # vanishes mid-batch
        with pytest.raises(TransientDeliveryError) as info:
            session.send(digest_for("b@example.org"))
        assert info.value.subscriber == "b@example.org"
        with pytest.raises(TransientDeliveryError):  # still down: connection refused
            session.send(digest_for("b@example.org"))
        smtp_server.start()
        session.send(digest_for("b@example.org"))
    assert [m.rcpt_tos for m in smtp_server.messages] == [("a@example.org",), ("b@example.org",)]


def test_connection_refused_is_transient(smtp_server: SmtpTestServer) -> None:
    smtp_server.stop()
    with pytest.raises(TransientDeliveryError) as info:
        sender_for(smtp_server).send(digest_for("ana@example.org"))
    assert "unreachable" in str(info.value)


def test_message_without_recipient_is_refused_before_connecting(
    smtp_server: SmtpTestServer,
) -> None:
    message = EmailMessage()
    message["From"] = SENDER
    message.set_content("hello")
    with pytest.raises(DeliveryError):
        sender_for(smtp_server).send(message)
    assert smtp_server.handler.connections == 0


# --- TLS and login (need openssl to make a throwaway certificate) ---


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
         "-subj", f"/CN={HOST}", "-addext", f"subjectAltName=IP:{HOST}"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


def client_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


@pytest.fixture
def starttls_server(certificate: tuple[Path, Path]) -> Iterator[SmtpTestServer]:
    server = SmtpTestServer(
        users={"monitor": "s3cret"}, tls_context=server_context(certificate), require_starttls=True
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_starttls_and_login(
    starttls_server: SmtpTestServer, certificate: tuple[Path, Path]
) -> None:
    settings = smtp_target(f"smtp://monitor@{HOST}:{starttls_server.port}?starttls=1", "s3cret")
    SmtpSender(settings, ssl_context=client_context(certificate)).send(
        digest_for("ana@example.org")
    )
    assert [m.rcpt_tos for m in starttls_server.messages] == [("ana@example.org",)]


def test_wrong_password_is_a_delivery_error_with_a_hint(
    starttls_server: SmtpTestServer, certificate: tuple[Path, Path]
) -> None:
    settings = smtp_target(f"smtp+starttls://monitor@{HOST}:{starttls_server.port}", "wrong")
    with pytest.raises(DeliveryError) as info:
        SmtpSender(settings, ssl_context=client_context(certificate)).send(
            digest_for("ana@example.org")
        )
    assert not isinstance(info.value, TransientDeliveryError | RecipientRefused)
    assert "password" in info.value.hint and "wrong" not in str(info.value)
    assert starttls_server.messages == []


def test_untrusted_certificate_is_refused(starttls_server: SmtpTestServer) -> None:
    settings = smtp_target(f"smtp+starttls://monitor@{HOST}:{starttls_server.port}", "s3cret")
    with pytest.raises(DeliveryError) as info:
        SmtpSender(settings).send(digest_for("ana@example.org"))  # system CAs only
    assert "certificate" in str(info.value)
    assert starttls_server.messages == []


def test_implicit_tls(certificate: tuple[Path, Path]) -> None:
    server = SmtpTestServer(ssl_context=server_context(certificate))
    server.start()
    try:
        settings = smtp_target(f"smtps://{HOST}:{server.port}")
        SmtpSender(settings, ssl_context=client_context(certificate)).send(
            digest_for("ana@example.org")
        )
    finally:
        server.stop()
    assert [m.rcpt_tos for m in server.messages] == [("ana@example.org",)]
