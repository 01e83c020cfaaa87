"""Connections: httpx clients spread over small pools, and a cap on requests per host.

httpcore's pool bookkeeping grows with pool size, so many small clients beat one large one.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from monitor.fetch.decode import ACCEPT_ENCODING

_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
)


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
    proxy: str | None = None,
) -> httpx.AsyncClient:
    """An AsyncClient for fetch_feed; the caller owns it and must close it (`async with`).

    `proxy` (the `proxy` setting) carries every request; without it, the environment's
    HTTP_PROXY, HTTPS_PROXY and NO_PROXY apply (httpx's trust_env).

    `user_agent` should name the project and a contact URL, so a server operator who sees
    our polls can tell who we are and how to reach us.
    """
    return httpx.AsyncClient(
        headers={
            "User-Agent": user_agent,
            "Accept": _ACCEPT,
            # We decode these ourselves, in bounded steps (see _Decoder).
            "Accept-Encoding": ACCEPT_ENCODING,
        },
        # We follow redirects ourselves to cap them, detect loops and spot permanent moves.
        follow_redirects=False,
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        ),
        transport=transport,
        proxy=proxy,
        # The setting wins over the environment; many NGO networks need a proxy.
        trust_env=proxy is None,
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


def make_client_pool(
    user_agent: str, *, max_connections: int = 50, per_client: int = 10, proxy: str | None = None
) -> ClientPool:
    """`max_connections` in all, `per_client` at most in each client's pool."""
    count = max(1, -(-max_connections // per_client))
    share = max(1, max_connections // count)
    return ClientPool([make_client(user_agent, max_connections=share, proxy=proxy) for _ in range(count)])


@asynccontextmanager
async def host_slot(limiter: HostLimiter | None, url: httpx.URL) -> AsyncIterator[None]:
    if limiter is None:
        yield
    else:
        async with limiter.slot(url):
            yield
