"""Turn the bytes of one feed into entries: feedparser, plain text, stable identity.

feedparser never raises on a bad feed; it sets `bozo`. The policy is ours: a feed that
yields entries despite a problem keeps them and reports the problem; a body that yields
nothing and is not a feed at all is a ParseError for that feed.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from typing import Any

import feedparser

from monitor.errors import ParseError
from monitor.feedread import read_feed
from monitor.model import Entry

_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->|<[^>]*>", re.S | re.I)
_BLOCK_TAG = re.compile(r"<\s*/?\s*(p|br|div|li|h[1-6]|tr|td|blockquote|ul|ol|table|section|article)\b[^>]*>", re.I)
_PARAGRAPH_BREAK = re.compile(r"\r?\n[ \t]*\r?\n")
_LINE_BREAK = re.compile(r"\r?\n|\r")
_SPACE = re.compile(r"[ \t\r\f\v\u00a0]+")
_LINES = re.compile(r"\s*\n\s*")


def _inline_tag_gap(match: re.Match[str]) -> str:
    # "<b>Kem Sokha</b>'s" must read "Kem Sokha's"; a script or style block is a gap.
    return " " if match.group(1) else ""


@dataclass(frozen=True)
class ParsedFeed:
    """What one feed body held: its title, entries, and the problem feedparser noticed."""

    title: str
    entries: tuple[Entry, ...]
    problem: str | None = None
    # RSS <ttl>: minutes the feed may be cached before it is fetched again (RSS 2.0 spec).
    ttl_minutes: int | None = None


def html_to_text(markup: str) -> str:
    """Strip tags and entities; block tags become line breaks so sentences stay apart."""
    if not markup:
        return ""
    # A single line break is wrapping ("Kem\nSokha" is one name); a blank line or a block
    # tag ends a paragraph.
    markup = _PARAGRAPH_BREAK.sub("\x00", markup)
    markup = _LINE_BREAK.sub(" ", markup)
    if "<" in markup:
        markup = _BLOCK_TAG.sub("\x00", markup)
        markup = _TAG.sub(_inline_tag_gap, markup)
    markup = markup.replace("\x00", "\n")
    text = html.unescape(markup) if "&" in markup else markup
    text = _SPACE.sub(" ", text)
    return _LINES.sub("\n", text).strip()


def parse_feed(
    body: bytes,
    *,
    source: str,
    feed: str = "",
    headers: Mapping[str, str] | None = None,
    language: str | None = None,
) -> ParsedFeed:
    """Parse one feed body; `source` names the file or URL in errors and in every entry."""
    # The lxml fast path reads well-formed RSS/Atom as feedparser would, or refuses.
    # Sanitising and relative-URI resolution cost ~39% of feedparser's time
    # (PERFORMANCE.md); we strip all markup ourselves, so neither is needed.
    parsed = read_feed(body, headers or {}) or feedparser.parse(
        BytesIO(body),
        response_headers=dict(headers or {}),
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    problem = _describe_problem(parsed) if parsed.get("bozo") else None
    if not parsed.entries:
        # feedparser reads CDF (Microsoft's Channel Definition Format) but gives it no
        # version: a well-formed <CHANNEL> document with no <ITEM> yet is a feed, empty.
        readable = parsed.get("version") or (problem is None and is_cdf(body))
        if problem is not None or not readable:
            raise ParseError(
                feed or source,
                f"not a readable feed ({problem or 'no RSS or Atom elements found'})",
                hint="check the URL: it may serve an HTML page or an error document",
            )
    feed_language = language or parsed.feed.get("language") or None
    entries = tuple(
        _to_entry(raw, source=source, feed=feed, language=feed_language) for raw in parsed.entries
    )
    ttl = str(parsed.feed.get("ttl", "") or "").strip()
    return ParsedFeed(
        title=html_to_text(parsed.feed.get("title", "")), entries=entries, problem=problem,
        ttl_minutes=int(ttl) if ttl.isdigit() else None,
    )


# What may come before a document's root element: a byte-order mark, white space, the XML
# declaration and other processing instructions, comments, a DOCTYPE.
_PROLOG = re.compile(rb"(?:\xef\xbb\xbf|\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>)*", re.S | re.I)
_CDF_ROOT = re.compile(rb"<channel[\s>/]", re.I)


def is_cdf(body: bytes) -> bool:
    """The document's root element is CDF's <CHANNEL> (RSS nests <channel> inside <rss>)."""
    head = body[:65536]
    prolog = _PROLOG.match(head)
    return bool(_CDF_ROOT.match(head, prolog.end() if prolog else 0))


def _describe_problem(parsed: Any) -> str:
    exc = parsed.get("bozo_exception")
    if exc is None:
        return "malformed feed"
    name = type(exc).__name__
    return f"{name}: {exc}"


def _to_entry(raw: Any, *, source: str, feed: str, language: str | None) -> Entry:
    title = html_to_text(raw.get("title", ""))
    summary = html_to_text(raw.get("summary", ""))
    content = ""
    for part in raw.get("content", ()) or ():
        value = html_to_text(part.get("value", ""))
        if value and value != summary:
            content = value if not content else f"{content}\n{value}"
    link = (raw.get("link") or "").strip()
    published = _entry_time(raw)
    digest = hashlib.sha256(f"{title}\n{summary}\n{content}".encode()).hexdigest()
    entry_id = (raw.get("id") or "").strip() or link
    if not entry_id:
        # No guid and no link: identity is what the entry says and when (STYLE: never the
        # position in the feed, which shifts as entries come and go).
        stamp = published.isoformat() if published else ""
        entry_id = "sha256:" + hashlib.sha256(f"{title}\n{stamp}".encode()).hexdigest()[:32]
    entry_language = (raw.get("language") or language or "") or None
    return Entry(
        id=entry_id,
        source=source,
        title=title,
        link=link,
        published=published,
        summary=summary,
        content=content,
        language=entry_language,
        feed=feed,
        content_hash=digest,
    )


def _entry_time(raw: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = raw.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), UTC)
            except (OverflowError, ValueError):
                continue
    return None


def parse_in_worker(
    body: bytes, source: str, feed: str, headers: dict[str, str], language: str | None
) -> tuple[ParsedFeed | None, str | None]:
    """parse_feed for a worker process (or a thread): errors come back as text (ParseError's
    constructor does not survive pickling). Lives here, not in the pipeline, so a worker
    imports only this module and feedparser."""
    try:
        return parse_feed(body, source=source, feed=feed, headers=headers, language=language), None
    except ParseError as exc:
        return None, str(exc).removeprefix(f"{feed}: ")
