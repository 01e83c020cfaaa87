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

from monitor.fetch.decode import TooLarge
from monitor.fetch.policy import (
    FetchLimits,
    FetchRequest,
    FetchResult,
    RedirectLoop,
    RetryLater,
    fetch_feed,
    parse_freshness,
    parse_retry_after,
)
from monitor.fetch.pool import ClientPool, HostLimiter, make_client, make_client_pool

__all__ = [
    "ClientPool",
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
    "parse_freshness",
    "parse_retry_after",
]
