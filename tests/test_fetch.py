"""monitor.fetch against a real server on 127.0.0.1 (tests/feedserver.py), plus a few
httpx.MockTransport cases for answers the server cannot be made to give."""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from collections.abc import Callable

import httpx
import pytest
from feedserver import FEED_XML, FeedServer

from monitor.errors import FeedError, FetchError
from monitor.fetch import (
    FetchLimits,
    FetchRequest,
    FetchResult,
    HostLimiter,
    RedirectLoop,
    RetryLater,
    TooLarge,
    fetch_feed,
    make_client,
    parse_retry_after,
)

UA = "case-monitor/test (+https://example.invalid/contact)"
FEED = "test-feed"
FAST = FetchLimits(
    max_bytes=256 * 1024, max_redirects=5, connect_timeout=1, read_timeout=1, total_timeout=1.5
)


def fetch(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    limits: FetchLimits = FAST,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FetchResult:
    async def go() -> FetchResult:
        async with make_client(UA, transport=transport) as client:
            request = FetchRequest(FEED, url, etag=etag, last_modified=last_modified)
            return await fetch_feed(client, request, limits)

    return asyncio.run(go())


def fetch_error(url: str, kind: type[FetchError] = FetchError, **kwargs: object) -> FetchError:
    with pytest.raises(kind) as info:
        fetch(url, **kwargs)  # type: ignore[arg-type]
    assert info.value.feed == FEED
    assert str(info.value).startswith(f"{FEED}: ")
    return info.value


def mock(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.MockTransport:
    return httpx.MockTransport(handler)


# -- success and conditional GET ----------------------------------------------------------


def test_ok_returns_body_validators_and_headers(feed_server: FeedServer) -> None:
    result = fetch(feed_server.url("/feed.xml"))
    assert result.status == "ok"
    assert result.body == FEED_XML
    assert result.url == feed_server.url("/feed.xml")
    assert result.etag and result.etag.startswith('"')
    assert result.last_modified == "Wed, 01 Mar 2023 09:00:00 GMT"
    assert result.headers["content-type"] == "application/rss+xml; charset=utf-8"
    assert result.permanent_url is None and result.retry_after is None
    assert result.elapsed > 0
    ((_, _, headers),) = feed_server.requests
    assert headers["user-agent"] == UA
    assert "gzip" in headers["accept-encoding"]
    assert "if-none-match" not in headers and "if-modified-since" not in headers


def test_etag_and_last_modified_sent_back_and_304_has_no_body(feed_server: FeedServer) -> None:
    first = fetch(feed_server.url("/feed.xml"))
    second = fetch(feed_server.url("/feed.xml"), etag=first.etag, last_modified=first.last_modified)
    assert second.status == "not_modified"
    assert second.body == b""
    assert (second.etag, second.last_modified) == (first.etag, first.last_modified)
    _, _, headers = feed_server.requests[-1]
    assert headers["if-none-match"] == first.etag
    assert headers["if-modified-since"] == first.last_modified


def test_last_modified_only_gives_304(feed_server: FeedServer) -> None:
    feed_server.add("/dated.xml", FEED_XML, etag=None)
    result = fetch(feed_server.url("/dated.xml"), last_modified="Thu, 02 Mar 2023 00:00:00 GMT")
    assert result.status == "not_modified"
    assert result.etag is None


def test_changed_etag_wins_over_matching_last_modified(feed_server: FeedServer) -> None:
    # RFC 9110 13.1.3: If-None-Match takes precedence; a stale ETag means a full body.
    result = fetch(
        feed_server.url("/feed.xml"), etag='"old"', last_modified="Thu, 02 Mar 2023 00:00:00 GMT"
    )
    assert result.status == "ok" and result.body == FEED_XML


def test_304_without_validators_keeps_the_stored_ones() -> None:
    result = fetch(
        "https://feeds.example/x.xml",
        etag='"v1"',
        last_modified="Wed, 01 Mar 2023 09:00:00 GMT",
        transport=mock(lambda request: httpx.Response(304)),
    )
    assert result.status == "not_modified"
    assert result.etag == '"v1"'
    assert result.last_modified == "Wed, 01 Mar 2023 09:00:00 GMT"


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
def test_compressed_body_is_decoded(feed_server: FeedServer, coding: str) -> None:
    result = fetch(feed_server.url(f"/{coding}/feed.xml"))
    assert result.body == FEED_XML
    assert "content-encoding" not in result.headers  # the body handed back is decoded


@pytest.mark.parametrize(
    "path",
    [
        "/malformed.xml",
        "/bomb.xml",
        "/page.html",
        "/charset/cp1252-says-utf8.xml",
        "/charset/utf8-says-cp1252.xml",
    ],
)
def test_bad_content_is_passed_on_unjudged(feed_server: FeedServer, path: str) -> None:
    # Judging bodies is the parse stage's job; fetch hands over bytes and Content-Type.
    result = fetch(feed_server.url(path))
    resource = feed_server._routes[path]
    assert result.status == "ok"
    assert result.body == resource.body
    assert result.headers["content-type"] == resource.content_type


# -- redirects ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/moved/301", "/moved/308", "/redirect/301/redirect/308/feed.xml"]
)
def test_permanent_redirect_chain_reports_new_url(feed_server: FeedServer, path: str) -> None:
    result = fetch(feed_server.url(path))
    assert result.status == "ok" and result.body == FEED_XML
    assert result.url == result.permanent_url == feed_server.url("/feed.xml")


@pytest.mark.parametrize(
    "path", ["/redirect/302/feed.xml", "/redirect/301/redirect/307/feed.xml", "/chain/5"]
)
def test_temporary_hop_in_chain_keeps_stored_url(feed_server: FeedServer, path: str) -> None:
    result = fetch(feed_server.url(path))
    assert result.status == "ok"
    assert result.url.endswith(("/feed.xml", "/chain/0"))
    assert result.permanent_url is None


@pytest.mark.parametrize("path", ["/loop/a", "/loop/self"])
def test_redirect_loop_is_an_error(feed_server: FeedServer, path: str) -> None:
    error = fetch_error(feed_server.url(path), RedirectLoop)
    assert "loop" in str(error)
    assert len(feed_server.requests) <= 2


def test_too_many_redirects_is_an_error(feed_server: FeedServer) -> None:
    error = fetch_error(feed_server.url("/chain/6"), RedirectLoop)
    assert "more than 5 redirects" in str(error)
    assert len(feed_server.requests) == 6


def test_redirect_to_other_scheme_is_refused(feed_server: FeedServer) -> None:
    feed_server.add_redirect("/to-file", "file:///etc/passwd", 301)
    error = fetch_error(feed_server.url("/to-file"))
    assert "only http and https" in str(error)


def test_redirect_without_location_is_an_error() -> None:
    error = fetch_error("http://feeds.example/", transport=mock(lambda r: httpx.Response(302)))
    assert "302" in str(error) and "Location" in str(error)


# -- statuses -----------------------------------------------------------------------------


def test_410_is_gone(feed_server: FeedServer) -> None:
    result = fetch(feed_server.url("/gone"))
    assert result.status == "gone" and result.body == b""


def test_429_retry_after_seconds(feed_server: FeedServer) -> None:
    error = fetch_error(feed_server.url("/status/429?retry_after=120"), RetryLater)
    assert isinstance(error, RetryLater) and error.retry_after == 120
    assert "429" in str(error)


def test_503_retry_after_http_date(feed_server: FeedServer) -> None:
    error = fetch_error(feed_server.url("/status/503?retry_after_date=3600"), RetryLater)
    assert isinstance(error, RetryLater) and error.retry_after == pytest.approx(3600, abs=1)
    assert "503" in str(error)


def test_503_without_retry_after(feed_server: FeedServer) -> None:
    error = fetch_error(feed_server.url("/status/503"), RetryLater)
    assert isinstance(error, RetryLater) and error.retry_after is None


@pytest.mark.parametrize("code", [400, 403, 404, 500, 502])
def test_other_error_status_names_the_code(feed_server: FeedServer, code: int) -> None:
    error = fetch_error(feed_server.url(f"/status/{code}"))
    assert not isinstance(error, RetryLater)
    assert f"HTTP {code}" in str(error)


def test_retry_after_forms() -> None:
    date = "Wed, 01 Mar 2023 09:00:00 GMT"
    assert parse_retry_after("120") == 120
    assert parse_retry_after(" 0 ") == 0
    assert parse_retry_after("Wed, 01 Mar 2023 09:02:00 GMT", date) == 120
    assert parse_retry_after("Wed, 01 Mar 2023 08:00:00 GMT", date) == 0  # past: now
    assert parse_retry_after("-5") is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


# -- size and time limits ----------------------------------------------------------------


def _peak_memory(call: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        call()
    except FetchError:
        pass
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak


def test_endless_stream_is_capped_with_bounded_memory(feed_server: FeedServer) -> None:
    limits = FetchLimits(max_bytes=1024 * 1024, total_timeout=5)
    error = fetch_error(feed_server.url("/huge"), TooLarge, limits=limits)
    assert "1048576-byte limit" in str(error)
    peak = _peak_memory(lambda: fetch(feed_server.url("/huge"), limits=limits))
    assert peak < 4 * limits.max_bytes


def test_gzip_bomb_is_capped_on_decoded_size(feed_server: FeedServer) -> None:
    limits = FetchLimits(max_bytes=1024 * 1024, total_timeout=5)
    fetch_error(feed_server.url("/gzip-bomb.xml"), TooLarge, limits=limits)
    # 32 MiB inflate from 32 KiB: memory must track the cap, not the inflated size.
    peak = _peak_memory(lambda: fetch(feed_server.url("/gzip-bomb.xml"), limits=limits))
    assert peak < 4 * limits.max_bytes


def test_declared_length_over_cap_is_refused_before_reading(feed_server: FeedServer) -> None:
    feed_server.add("/big.xml", b"x" * (FAST.max_bytes + 1))
    error = fetch_error(feed_server.url("/big.xml"), TooLarge)
    assert str(FAST.max_bytes + 1) in str(error)


def test_short_body_against_content_length_is_an_error(feed_server: FeedServer) -> None:
    fetch_error(feed_server.url("/lying-length"))


@pytest.mark.slow
def test_slow_drip_is_cut_at_total_timeout(feed_server: FeedServer) -> None:
    # A byte every 0.2 s never trips the 1 s read timeout; only the whole-request one can.
    started = time.monotonic()
    error = fetch_error(feed_server.url("/drip?every=0.2&size=100"))
    took = time.monotonic() - started
    assert "within 1.5 s" in str(error)
    assert 1.4 < took < 3
    assert isinstance(error.__cause__, TimeoutError)


@pytest.mark.slow
def test_stalled_body_hits_read_timeout(feed_server: FeedServer) -> None:
    error = fetch_error(feed_server.url("/stall?seconds=5"))
    assert "sent nothing for 1 s" in str(error)
    assert isinstance(error.__cause__, httpx.ReadTimeout)


# -- network errors and schemes ---------------------------------------------------------


def test_connection_refused_is_a_fetch_error(free_port: int) -> None:
    error = fetch_error(f"http://127.0.0.1:{free_port}/feed.xml")
    assert isinstance(error.__cause__, httpx.ConnectError)


def test_transport_errors_are_translated_once() -> None:
    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("certificate verify failed", request=request)

    error = fetch_error("https://feeds.example/", transport=mock(boom))
    assert "certificate verify failed" in str(error)
    assert isinstance(error.__cause__, httpx.ConnectError)
    assert isinstance(error, FeedError)


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://feeds.example/x.xml", "javascript:alert(1)", "feeds"]
)
def test_only_http_and_https_are_fetched(url: str) -> None:
    def never(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request may be sent")

    error = fetch_error(url, transport=mock(never))
    assert "only http and https" in str(error)


# -- concurrency --------------------------------------------------------------------------


def _fetch_many(server: FeedServer, count: int, limiter: HostLimiter | None) -> None:
    async def go() -> None:
        async with make_client(UA) as client:
            requests = [
                FetchRequest(f"feed-{i}", server.url(f"/slow?delay=0.2&n={i}"))
                for i in range(count)
            ]
            results = await asyncio.gather(
                *(fetch_feed(client, r, FAST, limiter=limiter) for r in requests)
            )
        assert all(r.status == "ok" for r in results)

    asyncio.run(go())


def test_without_limiter_requests_overlap(feed_server: FeedServer) -> None:
    _fetch_many(feed_server, 5, None)
    assert feed_server.max_in_flight == 5  # the server can see concurrency, so the tests below mean it


def test_host_limiter_caps_requests_per_host(feed_server: FeedServer) -> None:
    _fetch_many(feed_server, 5, HostLimiter(per_host=2, total=10))
    assert feed_server.max_in_flight == 2


def test_host_limiter_caps_requests_overall(feed_server: FeedServer) -> None:
    _fetch_many(feed_server, 5, HostLimiter(per_host=10, total=3))
    assert feed_server.max_in_flight == 3


def test_host_limiter_lets_other_hosts_through_and_forgets_idle_ones() -> None:
    limiter = HostLimiter(per_host=1, total=10)

    async def go() -> None:
        inside = asyncio.Event()
        release = asyncio.Event()

        async def hold(url: str) -> None:
            async with limiter.slot(url):
                inside.set()
                await release.wait()

        holder = asyncio.create_task(hold("https://a.example/1"))
        await inside.wait()
        async with asyncio.timeout(1):  # another host is not blocked by a.example's slot
            async with limiter.slot("https://b.example/feed"):
                pass
        blocked = asyncio.create_task(hold("https://A.example/2"))  # same host, any case
        await asyncio.sleep(0.05)
        assert not blocked.done()
        release.set()
        await asyncio.gather(holder, blocked)
        assert limiter._hosts == {}

    asyncio.run(go())


def test_freshness_from_cache_control_or_expires() -> None:
    from monitor.fetch import parse_freshness

    date = "Wed, 01 Mar 2023 09:00:00 GMT"
    assert parse_freshness({"Cache-Control": "public, max-age=600"}) == 600
    assert parse_freshness({"Cache-Control": "max-age=600", "Expires": "Wed, 01 Mar 2023 12:00:00 GMT", "Date": date}) == 600
    assert parse_freshness({"Expires": "Wed, 01 Mar 2023 10:00:00 GMT", "Date": date}) == 3600
    assert parse_freshness({"Expires": "0"}) == 0
    assert parse_freshness({}) is None


class _TinyProxy:
    """A forward HTTP proxy on 127.0.0.1 that records the absolute URLs it is asked for."""

    def __init__(self) -> None:
        import http.server
        import threading
        import urllib.request

        seen: list[str] = []
        self.seen = seen

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                seen.append(self.path)
                opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
                with opener.open(self.path, timeout=5) as upstream:  # only 127.0.0.1 in these tests
                    body = upstream.read()
                    self.send_response(upstream.status)
                    self.send_header("Content-Type", upstream.headers.get("Content-Type", "application/xml"))
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _fetch_via(url: str, proxy: str | None) -> str:
    async def go() -> str:
        async with make_client(UA, proxy=proxy) as client:
            return (await fetch_feed(client, FetchRequest(feed="f", url=url), FetchLimits())).status

    return asyncio.run(go())


def test_the_proxy_setting_and_the_proxy_environment_are_honoured(feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    setting, environment = _TinyProxy(), _TinyProxy()
    try:
        url = feed_server.url("/feed.xml")
        assert _fetch_via(url, setting.url) == "ok" and setting.seen == [url]  # the setting
        monkeypatch.setenv("HTTP_PROXY", environment.url)
        assert _fetch_via(url, None) == "ok" and environment.seen == [url]  # HTTP_PROXY
        assert _fetch_via(url, setting.url) == "ok" and setting.seen == [url, url]  # the setting wins
        assert environment.seen == [url]
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        assert _fetch_via(url, None) == "ok" and environment.seen == [url]  # NO_PROXY: direct
    finally:
        setting.close()
        environment.close()
