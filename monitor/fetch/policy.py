"""One feed fetched over HTTP: conditional GET, which statuses and redirects mean what, limits, errors.

Lower libraries' exceptions (httpx, ssl, OSError, the decompressors) become a FetchError in
one place, `_errors_as_fetch_error`, raised `from` the original.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import MappingProxyType
from typing import Literal

import httpx

from monitor.errors import FetchError
from monitor.fetch.decode import brotli, drain, read_capped
from monitor.fetch.pool import HostLimiter, host_slot

ALLOWED_SCHEMES = frozenset({"http", "https"})


# RFC 9110 15.4: the redirects that carry a Location to follow. 300 and 305 are not followed.
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


# 301 and 308 are permanent (RFC 9110 15.4.2, 15.4.9): "the client ought to change" its link.
PERMANENT_REDIRECTS = frozenset({301, 308})


# Headers that describe the wire form of the body, false once we hand back decoded bytes.
_WIRE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class RedirectLoop(FetchError):
    """The feed's redirects loop, or there are more of them than FetchLimits.max_redirects."""

    hint = "check the feed's URL in a browser and store the final one"


class RetryLater(FetchError):
    """The server asked us to come back later (429 Too Many Requests, 503 Unavailable)."""

    def __init__(
        self, feed: str, message: str, *, retry_after: float | None = None, hint: str | None = None
    ) -> None:
        self.retry_after = retry_after
        super().__init__(feed, message, hint=hint)


@dataclass(frozen=True)
class FetchRequest:
    """What the caller knows of a feed: where it is and the validators stored last time."""

    feed: str
    url: str
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class FetchResult:
    """One feed fetched: its body (for "ok"), validators to store, and where it lives now."""

    feed: str
    status: Literal["ok", "not_modified", "gone"]
    url: str
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    etag: str | None = None
    last_modified: str | None = None
    permanent_url: str | None = None
    # Retry-After on a response that is not an error (RFC 9110 10.2.3 allows it on 3xx);
    # errors carry theirs on RetryLater.retry_after.
    retry_after: float | None = None
    # How long the response stays fresh (Cache-Control max-age, else Expires; RFC 9111 4.2.1).
    fresh_for: float | None = None
    elapsed: float = 0.0


@dataclass(frozen=True)
class FetchLimits:
    """How much one fetch may cost: bytes, redirects and seconds."""

    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    connect_timeout: float = 10
    read_timeout: float = 20
    total_timeout: float = 60


async def fetch_feed(
    client: httpx.AsyncClient,
    request: FetchRequest,
    limits: FetchLimits,
    *,
    limiter: HostLimiter | None = None,
) -> FetchResult:
    """GET one feed conditionally, following redirects; raise FetchError on any failure.

    total_timeout bounds the whole fetch, redirects and body included, from the moment the
    first host slot is granted (time queued behind other feeds of the same host is free).
    """
    started = time.monotonic()
    _check_scheme(request.feed, request.url)
    with _errors_as_fetch_error(request.feed, limits):
        async with asyncio.timeout(None) as deadline:
            result = await _follow(client, request, limits, limiter, deadline)
    return replace(result, elapsed=time.monotonic() - started)


@contextmanager
def _errors_as_fetch_error(feed: str, limits: FetchLimits) -> Iterator[None]:
    """The one boundary where other libraries' exceptions become FetchError."""
    try:
        yield
    except FetchError:
        raise
    except TimeoutError as exc:  # asyncio.timeout's deadline; before OSError, its base class
        raise FetchError(
            feed,
            f"no complete response within {limits.total_timeout:g} s",
            hint="the server is too slow; try again later or raise the feed's time limit",
        ) from exc
    except httpx.TimeoutException as exc:
        kind = {
            httpx.ConnectTimeout: f"could not connect within {limits.connect_timeout:g} s",
            httpx.ReadTimeout: f"server sent nothing for {limits.read_timeout:g} s",
        }.get(type(exc), f"timed out ({type(exc).__name__})")
        raise FetchError(feed, kind) from exc
    except (httpx.HTTPError, httpx.InvalidURL, OSError, zlib.error) as exc:
        raise FetchError(feed, f"{type(exc).__name__}: {exc or 'no details'}") from exc
    except Exception as exc:
        if brotli is not None and isinstance(exc, brotli.error):
            raise FetchError(feed, f"bad brotli body: {exc}") from exc
        raise


async def _follow(
    client: httpx.AsyncClient,
    request: FetchRequest,
    limits: FetchLimits,
    limiter: HostLimiter | None,
    deadline: asyncio.Timeout,
) -> FetchResult:
    """Request, and on 3xx request again, until a final response; then map it to a result."""
    feed = request.feed
    headers = {}
    # RFC 9110 13.1.2/13.1.3: send both validators; a server that knows ETags must let
    # If-None-Match take precedence and ignore If-Modified-Since.
    if request.etag:
        headers["If-None-Match"] = request.etag
    if request.last_modified:
        headers["If-Modified-Since"] = request.last_modified
    timeout = httpx.Timeout(
        connect=limits.connect_timeout,
        read=limits.read_timeout,
        write=limits.read_timeout,
        pool=limits.total_timeout,
    )
    url = httpx.URL(request.url)
    seen = [url]
    all_permanent = True
    while True:
        async with host_slot(limiter, url):
            if deadline.when() is None:
                deadline.reschedule(asyncio.get_running_loop().time() + limits.total_timeout)
            req = client.build_request("GET", url, headers=headers, timeout=timeout)
            response = await client.send(req, stream=True)
            try:
                code = response.status_code
                if code in REDIRECT_STATUSES:
                    location = response.headers.get("Location")
                    if not location:
                        raise FetchError(feed, f"HTTP {code} redirect without a Location header")
                    # RFC 9110 10.2.2: Location may be relative to the request's URL.
                    target = url.join(location)
                    _check_scheme(feed, str(target))
                    if target in seen:
                        chain = " -> ".join(str(u) for u in [*seen, target])
                        raise RedirectLoop(feed, f"redirect loop: {chain}")
                    if len(seen) > limits.max_redirects:
                        raise RedirectLoop(
                            feed, f"more than {limits.max_redirects} redirects (last to {target})"
                        )
                    all_permanent = all_permanent and code in PERMANENT_REDIRECTS
                    seen.append(target)
                    url = target
                    continue
                result = await _final(request, response, limits)
            finally:
                await drain(response)
                await response.aclose()
        permanent = str(url) if len(seen) > 1 and all_permanent else None
        return replace(result, permanent_url=permanent)


async def _final(
    request: FetchRequest, response: httpx.Response, limits: FetchLimits
) -> FetchResult:
    """Map the final (non-redirect) response to a FetchResult, or raise."""
    feed, code, url = request.feed, response.status_code, str(response.url)
    retry_after = parse_retry_after(
        response.headers.get("Retry-After"), response.headers.get("Date")
    )
    if code == 304:
        # RFC 9110 15.4.5: a 304 carries the validators a 200 would have; keep ours otherwise.
        return FetchResult(
            feed=feed,
            status="not_modified",
            url=url,
            headers=_public_headers(response),
            etag=response.headers.get("ETag") or request.etag,
            last_modified=response.headers.get("Last-Modified") or request.last_modified,
            retry_after=retry_after,
            fresh_for=parse_freshness(response.headers),
        )
    if code == 410:
        # RFC 9110 15.5.11: gone for good; the caller should stop polling.
        return FetchResult(feed=feed, status="gone", url=url, headers=_public_headers(response))
    if code in (429, 503):
        # RFC 6585 4 and RFC 9110 15.6.4: both may say when to come back with Retry-After.
        when = f", retry after {retry_after:g} s" if retry_after is not None else ""
        raise RetryLater(
            feed, f"HTTP {code} {response.reason_phrase}{when}", retry_after=retry_after
        )
    if not 200 <= code < 300:
        raise FetchError(feed, f"HTTP {code} {response.reason_phrase}")
    body = await read_capped(feed, response, limits.max_bytes)
    return FetchResult(
        feed=feed,
        status="ok",
        url=url,
        body=body,
        headers=_public_headers(response),
        etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"),
        retry_after=retry_after,
        fresh_for=parse_freshness(response.headers),
    )


def parse_retry_after(value: str | None, date: str | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (RFC 9110 10.2.3), or None if absent or bad.

    It is either delay-seconds or an HTTP-date. A date is measured against the response's
    own Date header when there is one, so our clock's skew against the server's does not
    matter; otherwise against our clock. A date in the past means "now" (0).
    """
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    when = _http_date(value)
    if when is None:
        return None
    now = _http_date(date) if date else None
    if now is None:
        now = datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def parse_freshness(headers: Mapping[str, str]) -> float | None:
    """Seconds a response stays fresh (RFC 9111 4.2.1): Cache-Control max-age, else Expires
    measured against the response's Date (our clock without one); None when neither says."""
    for directive in (headers.get("Cache-Control") or "").split(","):
        key, _, value = directive.strip().partition("=")
        if key.strip().lower() == "max-age":
            value = value.strip().strip('"')
            return float(value) if value.isdigit() else None
    expires = headers.get("Expires")
    if expires is None:
        return None
    when = _http_date(expires.strip())
    if when is None:
        return 0.0  # RFC 9111 5.3: an invalid Expires means already expired
    date = headers.get("Date")
    now = _http_date(date) if date else None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _http_date(value: str) -> datetime | None:
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 5.6.7: HTTP-dates are GMT
        when = when.replace(tzinfo=UTC)
    return when


def _check_scheme(feed: str, url: str) -> None:
    try:
        scheme = httpx.URL(url).scheme
    except httpx.InvalidURL as exc:
        raise FetchError(feed, f"invalid URL {url!r}: {exc}") from exc
    if scheme not in ALLOWED_SCHEMES:
        raise FetchError(
            feed,
            f"refusing URL {url!r}: only http and https are fetched",
            hint="give the feed an http:// or https:// URL",
        )


def _public_headers(response: httpx.Response) -> Mapping[str, str]:
    # httpx lowercases keys and joins repeated headers with ", " (RFC 9110 5.3).
    return MappingProxyType({k: v for k, v in response.headers.items() if k not in _WIRE_HEADERS})
