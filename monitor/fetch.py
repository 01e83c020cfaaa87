"""Fetch owns getting one feed's bytes over HTTP: conditional GET, redirects, limits, errors.

It knows nothing of parsing or storage. The caller hands it an `httpx.AsyncClient` (built by
`make_client`), what it knows of the feed (`FetchRequest`) and the limits to enforce
(`FetchLimits`); it returns a `FetchResult` ("ok", "not_modified" or "gone") or raises a
`FetchError`:

    FetchError            any network, HTTP status or scheme trouble (the message names the feed)
     ├── TooLarge         the body went past FetchLimits.max_bytes (after decompression)
     ├── RedirectLoop     redirects came back to a URL already seen, or went past max_redirects
     └── RetryLater       429 or 503; `retry_after` holds the server's Retry-After in seconds

Lower libraries' exceptions (httpx, ssl, OSError, the decompressors) become a FetchError in
one place, `_errors_as_fetch_error`, raised `from` the original.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import zlib
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import MappingProxyType
from typing import Literal

import httpx

from monitor.errors import FetchError

try:  # httpx[brotli] installs it; without it we simply do not offer "br".
    import brotli  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover
    brotli = None

__all__ = [
    "FetchLimits",
    "FetchRequest",
    "FetchResult",
    "HostLimiter",
    "RedirectLoop",
    "RetryLater",
    "TooLarge",
    "fetch_feed",
    "make_client",
    "make_client_pool",
    "ClientPool",
    "parse_retry_after",
]

ALLOWED_SCHEMES = frozenset({"http", "https"})
# RFC 9110 15.4: the redirects that carry a Location to follow. 300 and 305 are not followed.
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# 301 and 308 are permanent (RFC 9110 15.4.2, 15.4.9): "the client ought to change" its link.
PERMANENT_REDIRECTS = frozenset({301, 308})
# Decompressed output is produced at most this much at a time, so a compression bomb costs
# one chunk of memory before the size cap stops it, not the whole inflated body.
_DECODE_CHUNK = 64 * 1024
_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
)
_ACCEPT_ENCODING = "gzip, deflate, br" if brotli is not None else "gzip, deflate"
# Headers that describe the wire form of the body, false once we hand back decoded bytes.
_WIRE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class TooLarge(FetchError):
    """The feed's body is larger than FetchLimits.max_bytes."""

    hint = "raise the size limit for this feed if the feed is really that large"


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
    elapsed: float = 0.0


@dataclass(frozen=True)
class FetchLimits:
    """How much one fetch may cost: bytes, redirects and seconds."""

    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    connect_timeout: float = 10
    read_timeout: float = 20
    total_timeout: float = 60


class HostLimiter:
    """Caps requests in flight per host and overall, so no one server gets hammered.

    The host slot is taken before the global one, so a request queued behind a busy host
    does not hold a global slot that a request to an idle host could use.
    """

    def __init__(self, per_host: int = 2, total: int = 50) -> None:
        if per_host < 1 or total < 1:
            raise ValueError("HostLimiter needs per_host >= 1 and total >= 1")
        self.per_host = per_host
        self.total = total
        self._global = asyncio.Semaphore(total)
        self._hosts: dict[str, tuple[asyncio.Semaphore, int]] = {}

    @asynccontextmanager
    async def slot(self, url: str | httpx.URL) -> AsyncIterator[None]:
        host = httpx.URL(url).host.lower()
        semaphore, users = self._hosts.get(host, (None, 0))
        if semaphore is None:
            semaphore = asyncio.Semaphore(self.per_host)
        self._hosts[host] = (semaphore, users + 1)
        try:
            async with semaphore, self._global:
                yield
        finally:
            # Forget idle hosts so a long-running daemon does not keep one per host ever seen.
            semaphore, users = self._hosts[host]
            if users == 1:
                del self._hosts[host]
            else:
                self._hosts[host] = (semaphore, users - 1)


def make_client(
    user_agent: str,
    *,
    max_connections: int = 50,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """An AsyncClient for fetch_feed; the caller owns it and must close it (`async with`).

    `user_agent` should name the project and a contact URL, so a server operator who sees
    our polls can tell who we are and how to reach us.
    """
    return httpx.AsyncClient(
        headers={
            "User-Agent": user_agent,
            "Accept": _ACCEPT,
            # We decode these ourselves, in bounded steps (see _Decoder).
            "Accept-Encoding": _ACCEPT_ENCODING,
        },
        # We follow redirects ourselves to cap them, detect loops and spot permanent moves.
        follow_redirects=False,
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        ),
        transport=transport,
        # Proxies and CA bundles come from config, not from the environment (STYLE.md).
        trust_env=False,
    )


class ClientPool:
    """Several AsyncClients, each feed always on the same one.

    httpcore's pool bookkeeping grows with the connections in one pool (PERFORMANCE.md: one
    client of 50 connections does ~760 conditional GETs/s, five of ten ~1,700), so the
    connections are spread over a few small pools. Politeness per host is HostLimiter's job.
    """

    def __init__(self, clients: list[httpx.AsyncClient]) -> None:
        self.clients = clients

    def pick(self, key: str) -> httpx.AsyncClient:
        return self.clients[zlib.crc32(key.encode()) % len(self.clients)]

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()

    async def __aenter__(self) -> ClientPool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def make_client_pool(user_agent: str, *, max_connections: int = 50, per_client: int = 10) -> ClientPool:
    """`max_connections` in all, `per_client` at most in each client's pool."""
    count = max(1, -(-max_connections // per_client))
    share = max(1, max_connections // count)
    return ClientPool([make_client(user_agent, max_connections=share) for _ in range(count)])


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
        async with _slot(limiter, url):
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
                await _drain(response)
                await response.aclose()
        permanent = str(url) if len(seen) > 1 and all_permanent else None
        return replace(result, permanent_url=permanent)


async def _drain(response: httpx.Response, cap: int = 64 * 1024) -> None:
    """Read what is left of a small body (a 304's nothing, a redirect's note) so the
    connection goes back to the pool: httpcore closes one whose response was not read to
    the end, and a poll of unchanged feeds would then pay a new TCP connection per feed."""
    if response.is_stream_consumed or response.is_closed:
        return
    length = response.headers.get("Content-Length")
    if length is not None and (not length.isdigit() or int(length) > cap):
        return
    with contextlib.suppress(httpx.HTTPError):
        read = 0
        async for chunk in response.aiter_raw():
            read += len(chunk)
            if read > cap:
                return


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
    body = await _read_capped(feed, response, limits.max_bytes)
    return FetchResult(
        feed=feed,
        status="ok",
        url=url,
        body=body,
        headers=_public_headers(response),
        etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"),
        retry_after=retry_after,
    )


async def _read_capped(feed: str, response: httpx.Response, max_bytes: int) -> bytes:
    """Read and decode the body, stopping as soon as it passes max_bytes."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge(feed, f"body of {int(declared)} bytes is over the {max_bytes}-byte limit")
    # Content-Length can lie or be absent (chunked), and is the compressed size: count
    # the decoded bytes as they come.
    decoder = _Decoder(response.headers.get("Content-Encoding", ""), feed)
    parts: list[bytes] = []
    size = 0
    async for raw in response.aiter_raw():
        for piece in decoder.decode(raw):
            size += len(piece)
            if size > max_bytes:
                raise TooLarge(feed, f"body is over the {max_bytes}-byte limit (read {size})")
            parts.append(piece)
    for piece in decoder.flush():
        size += len(piece)
        if size > max_bytes:
            raise TooLarge(feed, f"body is over the {max_bytes}-byte limit (read {size})")
        parts.append(piece)
    return b"".join(parts)


class _Decoder:
    """Undo Content-Encoding (RFC 9110 8.4) yielding at most _DECODE_CHUNK bytes a step.

    httpx's own decoders inflate a whole network chunk at once, so a small compressed
    chunk can become hundreds of megabytes before any size check sees it.
    """

    def __init__(self, header: str, feed: str) -> None:
        codings = [c.strip().lower() for c in header.split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        if len(codings) > 1:
            raise FetchError(feed, f"stacked Content-Encoding {header!r} is not supported")
        self.coding = codings[0] if codings else ""
        if self.coding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif self.coding == "deflate":
            # "deflate" is meant to be zlib-wrapped, but some servers send raw deflate.
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS)
            self._first = True
        elif self.coding == "br" and brotli is not None:
            self._brotli = brotli.Decompressor()
        elif self.coding:
            raise FetchError(feed, f"unsupported Content-Encoding {header!r}")

    def decode(self, data: bytes) -> Iterator[bytes]:
        if not self.coding:
            yield data
        elif self.coding == "br":
            yield self._brotli.process(data, output_buffer_limit=_DECODE_CHUNK)
            while not self._brotli.can_accept_more_data():
                yield self._brotli.process(b"", output_buffer_limit=_DECODE_CHUNK)
        else:
            if self.coding == "deflate" and self._first and data:
                self._first = False
                try:
                    zlib.decompressobj(zlib.MAX_WBITS).decompress(data[:64], 1)
                except zlib.error:
                    self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
            yield self._zlib.decompress(data, _DECODE_CHUNK)
            while self._zlib.unconsumed_tail:
                yield self._zlib.decompress(self._zlib.unconsumed_tail, _DECODE_CHUNK)

    def flush(self) -> Iterator[bytes]:
        if self.coding and self.coding != "br":
            yield self._zlib.flush()


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


@asynccontextmanager
async def _slot(limiter: HostLimiter | None, url: httpx.URL) -> AsyncIterator[None]:
    if limiter is None:
        yield
    else:
        async with limiter.slot(url):
            yield
