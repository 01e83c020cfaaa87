"""Which entries a judge sees, and in what order: one of each, oldest publication first.

Verdicts must not depend on the order feeds arrive in, so every composer (scan, poll)
hands entries to the Judge through these two functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from monitor.model import Entry


def unique_entries(entries: Iterable[Entry]) -> list[Entry]:
    """Drop repeats of one entry, keeping the first: same key, same link, or the same
    content twice in one feed. The same text from two outlets is kept (and judged a
    duplicate): that is a second source for the story, which the digest lists."""
    seen: set[str] = set()
    out: list[Entry] = []
    for entry in entries:
        keys = {f"key:{entry.key}", f"hash:{entry.feed or entry.source}:{entry.content_hash}"}
        if entry.link:
            keys.add(f"link:{entry.link}")
        if keys & seen:
            continue
        seen |= keys
        out.append(entry)
    return out


def publication_order(entries: list[Entry]) -> list[Entry]:
    """Oldest publication first; undated entries last, in the order they were read."""
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(entries, key=lambda e: e.published or far)
