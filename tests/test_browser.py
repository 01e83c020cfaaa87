"""Browser tests in headless Chromium: Debian's `chromium` package driven by Playwright with
that system browser (no browser download; .ci/run installs the package). Skipped where
Playwright or a Chromium executable is missing.

A case page after scanning a labeled stream: timeline order and sources, no CSP violation,
and a phone-width screenshot (written to $SCREENSHOT_DIR when set, CI keeps it).
A rendered digest's "not news" link clicked and confirmed: the development is gone from the
next digest."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select
from webworld import CASE, NOW, scanned_world

from monitor import delivery
from monitor.config import Config
from monitor.mail.transport import make_sender
from monitor.store import feedback
from monitor.store.tables import developments, outbox
from monitor.web import RunningServer

playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
CHROMIUM = next((p for p in (os.environ.get("CHROMIUM_PATH"), shutil.which("chromium"),
                             shutil.which("chromium-browser"), "/usr/lib/chromium/chromium") if p and Path(p).exists()), None)
pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason="no Chromium executable (apt-get install chromium)")]

ROOT = Path(__file__).resolve().parent.parent
STREAM = ROOT / "tests" / "data" / "stream"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Engine, Config, RunningServer]]:
    yield from scanned_world(tmp_path, public_url_is_server=True)


def test_a_case_page_in_chromium(browser: Any, world: tuple[Engine, Config, RunningServer]) -> None:
    _, _, server = world
    page = browser.new_page(viewport={"width": 390, "height": 844})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    response = page.goto(f"{server.url}/cases/{CASE}")
    assert response is not None and response.status == 200
    dates = page.eval_on_selector_all("ol.timeline > li", "items => items.map(i => i.dataset.date)")
    assert len(dates) > 5 and dates == sorted(dates)
    kinds = page.eval_on_selector_all("ol.timeline > li", "items => items.map(i => i.className)")
    assert {"baseline", "development"} <= set(kinds)
    conviction = page.locator("li.development", has_text="3 March 2023").first
    text = conviction.inner_text()
    assert "First reported by" in text and "Reported by" in text and "outlets" in text
    assert conviction.locator("a[rel~=noreferrer]").count() >= 2  # the first report and others
    # the stylesheet applied (no CSP refusal), nothing else loaded
    assert page.eval_on_selector("main", "m => getComputedStyle(m).maxWidth") == "48rem" or \
        page.eval_on_selector("main", "m => getComputedStyle(m).maxWidth").endswith("px")
    assert not [p for p in problems if "Content Security Policy" in p], problems
    # filters work from the form
    page.select_option("select[name=type]", "conviction")
    page.click("form.filters button")
    page.wait_for_load_state()
    kinds = page.eval_on_selector_all("ol.timeline > li .tag:first-of-type", "t => t.map(x => x.textContent)")
    assert kinds and all("convicted" in k or "conviction" in k.lower() for k in kinds), kinds
    page.goto(f"{server.url}/cases/{CASE}?from=2023-03")  # the found developments, with their sources
    folder = Path(os.environ.get("SCREENSHOT_DIR") or Path.cwd())
    folder.mkdir(parents=True, exist_ok=True)
    shot = folder / "case-page-phone.png"
    page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 10_000
    page.close()


def _digest_html(config: Config, who: str) -> str:
    for path in sorted(config.settings.outbox_dir.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if who in str(message["To"]):
            part = message.get_body(("html",))  # type: ignore[attr-defined]
            return str(part.get_content())
    raise AssertionError(f"no digest for {who}")


def test_not_news_clicked_in_a_rendered_digest(browser: Any, world: tuple[Engine, Config, RunningServer]) -> None:
    engine, config, server = world
    with engine.connect() as conn:
        ids = list(conn.execute(select(developments.c.id).where(developments.c.case_id == CASE)).scalars())
    with engine.begin() as conn:
        for who in ("first@example.org", "second@example.org"):
            conn.execute(insert(outbox), [{"subscriber": who, "development_id": i, "promised_at": NOW, "sent": False}
                                          for i in ids])
    sender = make_sender(None, config.settings.outbox_dir)
    assert delivery.send_due(engine, dataclasses.replace(config, subscribers=config.subscribers[:1]), sender, NOW,
                             force=True).sent == ["first@example.org"]
    page = browser.new_page()
    page.set_content(_digest_html(config, "first@example.org"))
    links = page.locator("a.feedback-link", has_text="not news")
    assert links.count() == len(ids)
    links.first.click()
    page.wait_for_url(f"{server.url}/feedback*")
    assert "not news" in page.inner_text("main")
    page.click("form button")
    page.wait_for_load_state()
    assert "will not appear in later digests" in page.inner_text("main")
    labelled = feedback.labels_for(engine, ids)
    assert len(labelled) == 1 and list(labelled.values()) == [["not_news"]]
    # the case page, through the digest's own "view the case" link
    page.set_content(_digest_html(config, "first@example.org"))
    page.locator("a.view-case").first.click()
    page.wait_for_url(f"{server.url}/cases/{CASE}*")
    assert "readers: not news" in page.inner_text("main")
    # the next digest leaves it out
    assert delivery.send_due(engine, config, sender, NOW, force=True).sent == ["second@example.org"]
    page.set_content(_digest_html(config, "second@example.org"))
    assert page.locator("a.feedback-link", has_text="not news").count() == len(ids) - 1
    page.close()
