"""/subscriptions/<token>: a subscriber changes frequency, time, zone and cases in
config/subscribers.yaml (comments kept), or unsubscribes; bad input and bad tokens refused."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from monitor.config import Config, ensure_secret, load_config
from monitor.mail.tokens import sign_manage, sign_view
from monitor.store import suppressions
from monitor.web import RunningServer, WebContext, make_app, serve_in_thread

ROOT = Path(__file__).resolve().parent.parent
SUBSCRIBERS = """\
# who gets digests
subscribers:
  # the research desk
  - email: desk@example.org
    frequency: daily
    at: "07:30"
  - email: other@example.org   # keeps its comment
"""


@pytest.fixture
def site(tmp_path: Path, sqlite_engine: Engine) -> Iterator[tuple[Path, bytes, RunningServer]]:
    shutil.copytree(ROOT / "config", tmp_path / "config")
    (tmp_path / "config" / "subscribers.yaml").write_text(SUBSCRIBERS)
    holder: dict[str, Config] = {}

    def config_of() -> Config:  # what the daemon's reload does, on every request
        holder["c"] = load_config(tmp_path / "config", ROOT / "baseline")
        return holder["c"]

    secret = ensure_secret(config_of().settings).encode()
    server = serve_in_thread(make_app(WebContext(sqlite_engine, secret, config_of=config_of)))
    yield tmp_path / "config" / "subscribers.yaml", secret, server
    server.stop()


def test_a_subscriber_changes_frequency_time_zone_and_cases(site: tuple[Path, bytes, RunningServer]) -> None:
    path, secret, server = site
    url = f"{server.url}/subscriptions/{sign_manage(secret, 'desk@example.org')}"
    page = httpx.get(url)
    assert page.status_code == 200 and "desk@example.org" in page.text and 'value="07:30"' in page.text
    response = httpx.post(url, data={"frequency": "weekly", "at": "9:15", "timezone": "Asia/Phnom_Penh",
                                     "cases": ["kem-sokha-treason"]})
    assert response.status_code == 200 and "Saved" in response.text
    text = path.read_text()
    assert "# who gets digests" in text and "# the research desk" in text and "# keeps its comment" in text
    desk = next(s for s in load_config(path.parent, ROOT / "baseline").subscribers if s.email == "desk@example.org")
    assert (desk.frequency, desk.at, desk.timezone, desk.cases) == ("weekly", "09:15", "Asia/Phnom_Penh",
                                                                    ("kem-sokha-treason",))
    assert text.index("desk@example.org") < text.index("other@example.org")  # where it stood


@pytest.mark.parametrize("form", [
    {"frequency": "hourly", "at": "07:00", "timezone": "UTC", "cases": ["kem-sokha-treason"]},
    {"frequency": "daily", "at": "25:00", "timezone": "UTC", "cases": ["kem-sokha-treason"]},
    {"frequency": "daily", "at": "07:00", "timezone": "Mars/Olympus", "cases": ["kem-sokha-treason"]},
    {"frequency": "daily", "at": "07:00", "timezone": "UTC", "cases": ["no-such-case"]},
    {"frequency": "daily", "at": "07:00", "timezone": "UTC"},
])
def test_bad_input_is_refused_and_the_file_untouched(site: tuple[Path, bytes, RunningServer],
                                                     form: dict[str, object]) -> None:
    path, secret, server = site
    before = path.read_text()
    response = httpx.post(f"{server.url}/subscriptions/{sign_manage(secret, 'desk@example.org')}", data=form)
    assert response.status_code == 400 and "Not saved" in response.text
    assert path.read_text() == before


def test_bad_tokens_are_refused(site: tuple[Path, bytes, RunningServer]) -> None:
    path, secret, server = site
    before = path.read_text()
    good = sign_manage(secret, "desk@example.org")
    for token, status in [(good[:-2] + "AA", 400), (sign_view(secret, "desk@example.org"), 400),
                          (sign_manage(b"q" * 32, "desk@example.org"), 400),
                          (sign_manage(secret, "stranger@example.org"), 404)]:
        for method in ("GET", "POST"):
            response = httpx.request(method, f"{server.url}/subscriptions/{token}",
                                     data={"frequency": "weekly", "at": "07:00", "timezone": "UTC"})
            assert response.status_code == status
    assert path.read_text() == before


def test_the_unsubscribe_button_is_one_click(site: tuple[Path, bytes, RunningServer], sqlite_engine: Engine) -> None:
    _, secret, server = site
    url = f"{server.url}/subscriptions/{sign_manage(secret, 'desk@example.org')}"
    page = httpx.get(url).text
    action = page.split('<form method="post" action="', 2)[2].split('"', 1)[0]
    assert action.startswith("/unsubscribe?token=")
    assert httpx.post(server.url + action.replace("&amp;", "&")).status_code == 200
    assert [s.email for s in suppressions.list_suppressions(sqlite_engine)] == ["desk@example.org"]
    assert "is unsubscribed" in httpx.get(url).text
