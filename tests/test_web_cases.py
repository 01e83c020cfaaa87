"""The case pages and their JSON twins, on a database that scanned the labeled stream; who
may see them when the pages are bound beyond loopback."""

from __future__ import annotations

import dataclasses
import html
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from monitor.cli import cli
from monitor.config import Config, load_config
from monitor.mail.tokens import sign_unsubscribe, sign_view
from monitor.model import Subscriber
from monitor.store.db import open_engine
from monitor.web import RunningServer, WebContext, make_app, serve_in_thread
from monitor.web.auth import COOKIE, hash_password, is_public

ROOT = Path(__file__).resolve().parent.parent
STREAM = ROOT / "tests" / "data" / "stream"
SECRET = b"s" * 32
CASE = "kem-sokha-treason"


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Config]]:
    db = tmp_path_factory.mktemp("cases") / "state.db"
    result = CliRunner().invoke(cli, ["--config", str(ROOT / "config"), "--baseline", str(ROOT / "baseline"),
                                      "scan", str(STREAM), "--state", f"sqlite:///{db}"])
    assert result.exit_code == 0, result.output
    config = load_config(ROOT / "config", ROOT / "baseline")
    other = next(c for c in config.cases if c != CASE)
    config = dataclasses.replace(config, subscribers=(
        Subscriber("reader@example.org", cases=(CASE,)), Subscriber("other@example.org", cases=(other,))))
    engine = open_engine(f"sqlite:///{db}")
    yield engine, config
    engine.dispose()


def _serve(scanned: tuple[Engine, Config], public: bool = False, operator_hash: str | None = None) -> RunningServer:
    engine, config = scanned
    return serve_in_thread(make_app(WebContext(engine, SECRET, config_of=lambda: config, public=public,
                                               operator_hash=operator_hash)))


@pytest.fixture(scope="module")
def local(scanned: tuple[Engine, Config]) -> Iterator[RunningServer]:
    server = _serve(scanned)
    yield server
    server.stop()


def test_cases_lists_every_case_with_counts(local: RunningServer, scanned: tuple[Engine, Config]) -> None:
    _, config = scanned
    data = httpx.get(f"{local.url}/api/cases").json()["cases"]
    assert {c["id"] for c in data} == set(config.cases)
    sokha = next(c for c in data if c["id"] == CASE)
    assert sokha["developments"] >= 1 and sokha["baseline_events"] >= 1 and sokha["last_development"]
    page = httpx.get(f"{local.url}/cases")
    assert page.status_code == 200 and config.cases[CASE].title in page.text
    assert f'href="/cases/{CASE}"' in page.text


def test_a_case_timeline_interleaves_baseline_and_developments_by_date(local: RunningServer) -> None:
    data = httpx.get(f"{local.url}/api/cases/{CASE}").json()
    timeline = data["timeline"]
    assert [r["date"] for r in timeline] == sorted(r["date"] for r in timeline)
    kinds = [r["kind"] for r in timeline]
    assert "baseline" in kinds and "development" in kinds
    conviction = next(r for r in timeline if r["kind"] == "development" and r["type"] == "conviction")
    assert conviction["date"] == "2023-03-03" and conviction["precision"] == "day"
    assert conviction["first"]["verdict"] == "new"
    assert conviction["outlets"] == len({conviction["first"]["outlet"], *(s["outlet"] for s in conviction["others"])})
    assert conviction["outlets"] >= 2 and not conviction["single_source"]
    assert conviction["why"]
    page = httpx.get(f"{local.url}/cases/{CASE}").text
    assert f"Reported by {conviction['outlets']} outlets" in page
    assert page.index("3 March 2023") > page.index("known before")  # baseline first, then later news
    singles = [r for r in timeline if r["kind"] == "development" and r["single_source"]]
    if singles:
        assert "single source" in page


def test_filters_by_type_and_period(local: RunningServer) -> None:
    only = httpx.get(f"{local.url}/api/cases/{CASE}", params={"type": "conviction"}).json()["timeline"]
    assert only and {r["type"] for r in only} == {"conviction"}
    period = httpx.get(f"{local.url}/api/cases/{CASE}", params={"from": "2023-03", "to": "2023"}).json()["timeline"]
    assert period and all("2023-03-01" <= r["date"] <= "2023-12-31" for r in period)
    assert httpx.get(f"{local.url}/api/cases/{CASE}", params={"from": "March"}).status_code == 400
    assert httpx.get(f"{local.url}/cases/{CASE}", params={"type": "<script>"}).status_code == 400
    assert httpx.get(f"{local.url}/cases/{CASE}", params={"type": "conviction", "from": "2023"}).status_code == 200


def test_a_development_page_shows_every_source_and_the_deciding_text(local: RunningServer) -> None:
    timeline = httpx.get(f"{local.url}/api/cases/{CASE}").json()["timeline"]
    conviction = next(r for r in timeline if r["kind"] == "development" and r["type"] == "conviction")
    data = httpx.get(f"{local.url}/api/developments/{conviction['id']}").json()
    assert data == conviction
    page = httpx.get(f"{local.url}/developments/{conviction['id']}")
    assert page.status_code == 200
    assert "The text that decided it" in page.text
    for source in [data["first"], *data["others"]]:
        assert html.escape(source["link"]) in page.text
    assert httpx.get(f"{local.url}/developments/999999").status_code == 404
    assert httpx.get(f"{local.url}/api/developments/abc").status_code == 404
    assert httpx.get(f"{local.url}/cases/no-such-case").status_code == 404


def test_loopback_is_not_public_and_other_addresses_are() -> None:
    assert not is_public("127.0.0.1") and not is_public("::1") and not is_public("localhost")
    assert is_public("0.0.0.0") and is_public("") and is_public("192.0.2.1") and is_public("::")


def test_a_public_address_needs_a_signed_link_or_a_login(scanned: tuple[Engine, Config]) -> None:
    hashed = hash_password("correct horse")
    server = _serve(scanned, public=True, operator_hash=hashed)
    try:
        url = server.url
        for path in ("/cases", f"/cases/{CASE}", "/api/cases", f"/api/cases/{CASE}", "/developments/1"):
            response = httpx.get(url + path)
            assert response.status_code == 403, path
            assert "Kem Sokha" not in response.text
        mine = sign_view(SECRET, "reader@example.org")
        assert httpx.get(f"{url}/cases/{CASE}", params={"t": mine}).status_code == 200
        listed = httpx.get(f"{url}/api/cases", params={"t": mine}).json()["cases"]
        assert [c["id"] for c in listed] == [CASE]
        page = httpx.get(f"{url}/cases", params={"t": mine}).text
        assert f"/cases/{CASE}?t={mine}" in page  # links keep the token
        # another subscriber's link opens only their cases
        theirs = sign_view(SECRET, "other@example.org")
        assert httpx.get(f"{url}/cases/{CASE}", params={"t": theirs}).status_code == 403
        # a forged link, an unsubscribe token, a link for someone not subscribed
        for token in (mine[:-2] + "AA", sign_unsubscribe(SECRET, "reader@example.org"),
                      sign_view(SECRET, "stranger@example.org"), sign_view(b"x" * 32, "reader@example.org")):
            assert httpx.get(f"{url}/cases/{CASE}", params={"t": token}).status_code == 403
        # the operator: HTTP Basic, or the login form's cookie
        assert httpx.get(f"{url}/cases/{CASE}", auth=("operator", "correct horse")).status_code == 200
        assert httpx.get(f"{url}/cases/{CASE}", auth=("operator", "wrong")).status_code == 403
        assert httpx.post(f"{url}/login", data={"password": "wrong"}).status_code == 401
        with httpx.Client(base_url=url) as client:
            response = client.post("/login", data={"password": "correct horse"})
            assert response.status_code == 303
            cookie = response.headers["set-cookie"]
            assert COOKIE in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
            assert client.get(f"/cases/{CASE}").status_code == 200
            assert client.get("/api/cases").json()["cases"]
        forged = httpx.get(f"{url}/cases", cookies={COOKIE: "operator"})
        assert forged.status_code == 403
    finally:
        server.stop()


def test_password_guessing_pauses_logins(scanned: tuple[Engine, Config]) -> None:
    server = _serve(scanned, public=True, operator_hash=hash_password("right"))
    try:
        statuses = [httpx.post(f"{server.url}/login", data={"password": f"guess{i}"}).status_code for i in range(11)]
        assert statuses == [401] * 10 + [429]
        assert httpx.post(f"{server.url}/login", data={"password": "right"}).status_code == 429
    finally:
        server.stop()


def test_no_password_set_means_no_login(scanned: tuple[Engine, Config]) -> None:
    server = _serve(scanned, public=True, operator_hash=None)
    try:
        assert httpx.post(f"{server.url}/login", data={"password": ""}).status_code == 401
        assert httpx.get(f"{server.url}/cases", auth=("operator", "")).status_code == 403
    finally:
        server.stop()


def test_json_is_json(local: RunningServer) -> None:
    response = httpx.get(f"{local.url}/api/cases/{CASE}")
    assert response.headers["content-type"].startswith("application/json")
    json.loads(response.text)


def test_monitor_export_csv_and_json_hold_the_case_pages_data(scanned: tuple[Engine, Config], local: RunningServer,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import csv
    import io

    engine, _ = scanned
    monkeypatch.setenv("MONITOR_DATABASE_URL", str(engine.url))
    base = ["--config", str(ROOT / "config"), "--baseline", str(ROOT / "baseline"), "export"]
    result = CliRunner().invoke(cli, [*base, "--format", "json", "--case", CASE])
    assert result.exit_code == 0, result.output
    exported = json.loads(result.output)["cases"]
    assert [c["id"] for c in exported] == [CASE]
    assert exported[0]["timeline"] == httpx.get(f"{local.url}/api/cases/{CASE}").json()["timeline"]
    result = CliRunner().invoke(cli, [*base, "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    mine = [r for r in rows if r["case_id"] == CASE]
    assert len(mine) == len(exported[0]["timeline"])
    conviction = next(r for r in mine if r["type"] == "conviction" and r["kind"] == "development")
    assert conviction["date"] == "2023-03-03" and int(conviction["outlets"]) >= 2 and conviction["first_link"]
    assert CliRunner().invoke(cli, [*base, "--case", "nope"]).exit_code == 1


def test_the_operator_hash_comes_from_the_environment_only(tmp_path: Path) -> None:
    from monitor.config import load_settings

    hashed = hash_password("pw")
    settings = load_settings(tmp_path, env={"MONITOR_OPERATOR_PASSWORD_HASH": hashed})
    assert settings.operator_password_hash == hashed and hashed not in repr(settings)
