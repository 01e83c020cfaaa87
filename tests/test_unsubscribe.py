"""The unsubscribe page on 127.0.0.1 (Starlette on uvicorn): forged tokens refused, one-click POST suppresses."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import Engine

from monitor.mail.tokens import sign_unsubscribe
from monitor.store import suppressions
from monitor.web import RunningServer, WebContext, make_app, serve_in_thread

SECRET = b"k" * 32
NOW = datetime(2023, 3, 3, 10, tzinfo=UTC)


@pytest.fixture
def server(sqlite_engine: Engine) -> Iterator[RunningServer]:
    server = serve_in_thread(make_app(WebContext(sqlite_engine, SECRET, clock=lambda: NOW)))
    try:
        yield server
    finally:
        server.stop()


def test_one_click_post_suppresses_the_subscriber(server: RunningServer, sqlite_engine: Engine) -> None:
    token = sign_unsubscribe(SECRET, "sophea@example.org")
    response = httpx.post(f"{server.url}/unsubscribe?token={token}", content=b"List-Unsubscribe=One-Click",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200
    assert "sophea@example.org" in response.text
    (suppression,) = suppressions.list_suppressions(sqlite_engine)
    assert (suppression.email, suppression.reason, suppression.created_at) == ("sophea@example.org", "unsubscribe", NOW)
    assert httpx.post(f"{server.url}/unsubscribe?token={token}").status_code == 200  # twice is fine


def test_get_only_shows_a_confirmation_page(server: RunningServer, sqlite_engine: Engine) -> None:
    token = sign_unsubscribe(SECRET, "sophea@example.org")
    response = httpx.get(f"{server.url}/unsubscribe?token={token}")
    assert response.status_code == 200
    assert '<form method="post"' in response.text and "sophea@example.org" in response.text
    assert suppressions.list_suppressions(sqlite_engine) == []


@pytest.mark.parametrize("token", [
    sign_unsubscribe(b"another-secret-of-16+", "sophea@example.org"),  # signed with another key
    sign_unsubscribe(SECRET, "sophea@example.org")[:-2] + "AA",  # tampered tag
    "",
    "not a token",
])
def test_a_forged_token_is_refused(server: RunningServer, sqlite_engine: Engine, token: str) -> None:
    for method in ("GET", "POST"):
        response = httpx.request(method, f"{server.url}/unsubscribe", params={"token": token})
        assert response.status_code == 400
    assert suppressions.list_suppressions(sqlite_engine) == []


def test_other_paths_are_not_found(server: RunningServer) -> None:
    assert httpx.get(f"{server.url}/admin").status_code == 404
