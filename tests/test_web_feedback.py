"""Feedback from the digest: a rendered digest's "not news" link, clicked and confirmed,
records the label and the development is gone from the next digest; forged and foreign
tokens are refused; `monitor feedback export` writes the labeled-stream format."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import re
from collections.abc import Iterator
from datetime import UTC
from html import unescape
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML
from sqlalchemy import Engine, insert, select
from webworld import CASE, NOW, scanned_world

from monitor import delivery
from monitor.cli import cli
from monitor.config import Config, ensure_secret
from monitor.mail.tokens import sign_feedback, verify_feedback
from monitor.mail.transport import make_sender
from monitor.store import feedback
from monitor.store.tables import developments, outbox
from monitor.store.tables import feedback as feedback_table
from monitor.web import RunningServer

ROOT = Path(__file__).resolve().parent.parent
STREAM = ROOT / "tests" / "data" / "stream"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Engine, Config, RunningServer]]:
    yield from scanned_world(tmp_path)


def _promise(engine: Engine, who: str, ids: list[int]) -> None:
    with engine.begin() as conn:
        conn.execute(insert(outbox), [{"subscriber": who, "development_id": i, "promised_at": NOW, "sent": False}
                                      for i in ids])


def _sent(config: Config, who: str) -> list[email.message.EmailMessage]:
    out = []
    for path in sorted(config.settings.outbox_dir.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if who in str(message["To"]):
            out.append(message)  # type: ignore[arg-type]
    return out


def _html(message: email.message.EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return part.get_content()


def test_not_news_from_a_rendered_digest_drops_the_development_from_the_next(
        world: tuple[Engine, Config, RunningServer]) -> None:
    engine, config, server = world
    with engine.connect() as conn:
        ids = list(conn.execute(select(developments.c.id).where(developments.c.case_id == CASE)
                                .order_by(developments.c.id)).scalars())
    assert len(ids) >= 2
    _promise(engine, "first@example.org", ids)
    _promise(engine, "second@example.org", ids)
    sender = make_sender(None, config.settings.outbox_dir)
    # the first subscriber's digest carries every development, each with its feedback links
    report = delivery.send_due(engine, dataclasses.replace(config, subscribers=config.subscribers[:1]), sender, NOW,
                               force=True)
    assert report.sent == ["first@example.org"]
    (digest,) = _sent(config, "first@example.org")
    html = _html(digest)
    assert html.count(">not news</a>") == len(ids)
    view = re.search(r'href="([^"]*/cases/' + CASE + r'\?t=[^"]+)"', html)
    assert view, "the digest links to the case page"
    assert "/subscriptions/" in html  # and to the subscriber's own page
    # each development says why: the sentence its type was read from
    assert html.count('class="evidence"') == len(ids)
    assert "Read as “convicted” from: <q>Kem Sokha found guilty of treason" in html
    links = [unescape(u) for u in re.findall(r'href="([^"]+)"[^>]*>not news</a>', html)]
    link = links[0]
    token = link.split("token=", 1)[1]
    secret = ensure_secret(config.settings).encode()
    _, development_id, label = verify_feedback(secret, token)
    assert label == "not_news"
    local = server.url + link[link.index("/feedback"):]
    # opening the link (what a mail scanner does) records nothing; the button does
    opened = httpx.get(local)
    assert opened.status_code == 200 and '<form method="post"' in opened.text
    assert feedback.labels_for(engine, [development_id]) == {}
    confirmed = httpx.post(local)
    assert confirmed.status_code == 200 and "not appear in later digests" in confirmed.text
    assert feedback.labels_for(engine, [development_id]) == {development_id: ["not_news"]}
    with engine.connect() as conn:
        who, when = conn.execute(select(feedback_table.c.subscriber, feedback_table.c.created_at)).one()
    assert who == "first@example.org" and when.replace(tzinfo=UTC) == NOW
    # the next digest (the second subscriber's) leaves it out
    report = delivery.send_due(engine, config, sender, NOW, force=True)
    assert report.sent == ["second@example.org"]
    (later,) = _sent(config, "second@example.org")
    assert _html(later).count(">not news</a>") == len(ids) - 1
    shown = {verify_feedback(secret, t)[1] for t in re.findall(r'/feedback\?token=([^"&]+)"', _html(later))}
    assert development_id not in shown and set(ids) - {development_id} <= shown
    # the case page keeps it, marked
    page = httpx.get(f"{server.url}/api/cases/{CASE}").json()["timeline"]
    assert next(r for r in page if r["kind"] == "development" and r["id"] == development_id)["feedback"] == ["not_news"]


def test_forged_and_foreign_feedback_tokens_are_refused(world: tuple[Engine, Config, RunningServer]) -> None:
    engine, config, server = world
    secret = ensure_secret(config.settings).encode()
    with engine.connect() as conn:
        mine = conn.execute(select(developments.c.id).where(developments.c.case_id == CASE)).scalars().first()
        other = conn.execute(select(developments.c.id).where(developments.c.case_id != CASE)).scalars().first()
    good = sign_feedback(secret, "first@example.org", mine, "wrong_type")
    for token, status in [
        (good[:-2] + "AA", 400),  # tampered
        (sign_feedback(b"z" * 32, "first@example.org", mine, "wrong_type"), 400),  # another key
        (sign_feedback(secret, "first@example.org", mine, "delete_everything"), 400),  # no such label
        (sign_feedback(secret, "stranger@example.org", mine, "not_news"), 403),  # not a subscriber
        (sign_feedback(secret, "first@example.org", other, "not_news"), 403),  # a case they do not follow
        (sign_feedback(secret, "first@example.org", 999999, "not_news"), 404),
    ]:
        for method in ("GET", "POST"):
            assert httpx.request(method, f"{server.url}/feedback", params={"token": token}).status_code == status
    assert feedback.export(engine) == []
    assert httpx.post(f"{server.url}/feedback", params={"token": good}).status_code == 200
    assert feedback.labels_for(engine, [mine]) == {mine: ["wrong_type"]}


def test_feedback_export_writes_the_labeled_stream_format(world: tuple[Engine, Config, RunningServer],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    engine, _, _ = world
    with engine.connect() as conn:
        rows = list(conn.execute(select(developments.c.id, developments.c.type)
                                 .where(developments.c.case_id == CASE).order_by(developments.c.id)))
    feedback.record(engine, "first@example.org", rows[0].id, "not_news", NOW)
    feedback.record(engine, "second@example.org", rows[1].id, "wrong_type", NOW)
    monkeypatch.setenv("MONITOR_DATABASE_URL", str(engine.url))
    result = CliRunner().invoke(cli, ["--config", str(ROOT / "config"), "--baseline", str(ROOT / "baseline"),
                                      "feedback", "export"])
    assert result.exit_code == 0, result.output
    exported = YAML(typ="safe").load(result.output)["entries"]
    stream = YAML(typ="safe").load((STREAM / "labels.yaml").read_text(encoding="utf-8"))["entries"]
    assert len(exported) == 2 and set(exported) <= set(stream)  # keyed as the labeled streams are
    first, second = exported.values()
    assert first["verdict"] == "known" and first["feedback"][0]["label"] == "not_news"
    assert second["verdict"] == "new" and second["type"] is None and second["judged_type"] == rows[1].type
    assert second["case"] == CASE and second["feedback"][0]["by"] == "second@example.org"


def test_evidence_is_the_sentence_the_type_was_read_from() -> None:
    from monitor.store.digest_rows import evidence

    why = ["title: 'Kem Sokha'", "type: 'found guilty' -> conviction", "date: 2023-03-03"]
    assert evidence("Verdict day", "The court sat at 9. Kem Sokha was Found  Guilty on Friday. Appeal next.", why) \
        == "Kem Sokha was Found Guilty on Friday."
    assert evidence("Kem Sokha found guilty of treason", "", why) == "Kem Sokha found guilty of treason"
    assert evidence("x", "y", why) == "found guilty"  # not found as written: the words alone
    assert evidence("x", "y", ["title: 'Kem Sokha'"]) == ""
