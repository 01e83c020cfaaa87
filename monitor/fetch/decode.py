"""Bounded decoding of a feed's body: Content-Encoding undone a chunk at a time under a size cap.

A compression bomb costs one chunk of memory before the cap stops it, not the inflated body.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterator

import httpx

from monitor.errors import FetchError

try:  # httpx[brotli] installs it; without it we simply do not offer "br".
    import brotli
except ImportError:  # pragma: no cover
    brotli = None

# Decompressed output is produced at most this much at a time, so a compression bomb costs
# one chunk of memory before the size cap stops it, not the whole inflated body.
_DECODE_CHUNK = 64 * 1024
ACCEPT_ENCODING = "gzip, deflate, br" if brotli is not None else "gzip, deflate"


class TooLarge(FetchError):
    """The feed's body is larger than FetchLimits.max_bytes."""

    hint = "raise the size limit for this feed if the feed is really that large"


async def drain(response: httpx.Response, cap: int = 64 * 1024) -> None:
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


async def read_capped(feed: str, response: httpx.Response, max_bytes: int) -> bytes:
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
