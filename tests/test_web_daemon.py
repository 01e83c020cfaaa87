"""The daemon's web pages, served from its own event loop: /metrics scraped while it polls,
/healthz, and the one-click unsubscribe through the daemon's port."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from feedserver import FeedServer
from prometheus_client.parser import text_string_to_metric_families
from test_daemon import ROOT, SETTINGS, Daemon, Site, feeds_yaml

from monitor.config import ensure_secret, load_config
from monitor.mail.tokens import sign_unsubscribe

pytestmark = pytest.mark.slow

NAME = re.compile(r"monitor_[a-z][a-z0-9_]*")


@pytest.fixture
def running(tmp_path: Path, free_port: int, feed_server: FeedServer) -> Iterator[tuple[Daemon, str]]:
    shutil.copytree(ROOT / "config", tmp_path / "config")
    shutil.copytree(ROOT / "baseline", tmp_path / "baseline")
    (tmp_path / "config" / "settings.yaml").write_text(SETTINGS + f"http_port: {free_port}\n")
    (tmp_path / "config" / "subscribers.yaml").write_text("subscribers:\n  - email: desk@example.org\n")
    site = Site(feed_server)
    (tmp_path / "config" / "feeds.yaml").write_text(feeds_yaml(feed_server, "a", "b"))
    d = Daemon(tmp_path)
    d.start()
    try:
        yield d, f"http://127.0.0.1:{free_port}"
    finally:
        if d.proc is not None and d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()
    assert site


def _samples(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = sample.name + ("{" + ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items())) + "}"
                                 if sample.labels else "")
            out[key] = sample.value
    return out


def _get(url: str) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=5)
    except httpx.HTTPError:
        return None


@pytest.mark.timeout(90)
def test_metrics_scraped_while_polling_and_healthz(running: tuple[Daemon, str]) -> None:
    daemon, base = running
    daemon.wait_for(lambda: (r := _get(f"{base}/metrics")) is not None
                    and _samples(r.text).get("monitor_polls_total{outcome=ok}", 0) >= 2, "two polls counted")
    response = httpx.get(f"{base}/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)
    # Prometheus conventions: one prefix, counters end in _total, durations in seconds.
    for family in text_string_to_metric_families(response.text):
        if family.name.startswith(("python_", "process_")):
            continue
        assert NAME.fullmatch(family.name), family.name
        if family.type == "histogram":
            assert family.name.endswith("_seconds")
    assert all(k.split("{")[0].endswith(("_total", "_created")) for k in samples if k.startswith("monitor_polls"))
    assert samples["monitor_database_up"] == 1
    assert sum(v for k, v in samples.items() if k.startswith("monitor_entries_judged_total")) >= 10
    assert samples["monitor_entries_stored{verdict=none}"] >= 1
    assert samples["monitor_poll_duration_seconds_count"] >= 2
    assert samples["monitor_fetch_duration_seconds_count"] >= 2  # one per feed request
    assert samples["monitor_judge_duration_seconds_count"] >= 10  # one per entry judged
    assert "monitor_digests_sent_total" in samples and "monitor_digests_pending" in samples
    assert "monitor_feed_errors_total" in response.text or "monitor_feed_errors" in response.text
    assert samples["monitor_last_successful_poll_timestamp_seconds"] > time.time() - 60

    health = httpx.get(f"{base}/healthz").json()
    assert health["status"] == "ok" and health["database"] == "ok"
    assert 0 <= health["last_successful_poll_age_seconds"] < 60
    assert httpx.get(f"{base}/healthz", params={"max_poll_age": "100000"}).status_code == 200


@pytest.mark.timeout(90)
def test_one_click_unsubscribe_through_the_daemon(running: tuple[Daemon, str], monkeypatch: pytest.MonkeyPatch) -> None:
    daemon, base = running
    daemon.wait_for(lambda: _get(f"{base}/healthz") is not None, "the web pages")
    monkeypatch.setenv("MONITOR_DATA_DIR", str(daemon.tmp / "data"))
    config = load_config(daemon.config, daemon.baseline)
    secret = ensure_secret(config.settings).encode()
    token = sign_unsubscribe(secret, "desk@example.org")
    response = httpx.post(f"{base}/unsubscribe", params={"token": token}, content=b"List-Unsubscribe=One-Click",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200 and "desk@example.org" in response.text
