"""Feed health: whether a feed is failing, gone or silent. Pure functions of a feed's row, its
entries' publication times and the clock; no I/O.

Silence is Huginn's `expected_update_period`, learned instead of configured: a feed's
rhythm is the gaps between its newest entries, and it is silent once the time since its
newest entry is longer than any gap of that rhythm (and three usual gaps, and a day). A
feed with fewer than MIN_HISTORY dated entries has no rhythm yet, so it is never called
silent; nor is a feed the monitor has not polled successfully since it should have
published (then it is failing, or the monitor was not running).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.model import FeedHealth

MIN_HISTORY = 5  # entries with distinct times before a rhythm is learned
HISTORY = 30  # the newest entries the rhythm is learned from
MIN_SILENCE = timedelta(days=1)  # never silent sooner: an hourly feed sleeps at night


@dataclass(frozen=True)
class Rhythm:
    """How often a feed publishes: its usual (median) and its longest recent gap."""

    usual: timedelta
    longest: timedelta

    @property
    def expected(self) -> timedelta:
        """The longest silence that is still the feed's rhythm (expected_update_period)."""
        return max(self.longest, 3 * self.usual, MIN_SILENCE)


def rhythm(times: Sequence[datetime]) -> Rhythm | None:
    """The rhythm of the newest HISTORY publication times; None with fewer than MIN_HISTORY."""
    newest = sorted(set(times), reverse=True)[:HISTORY]
    if len(newest) < MIN_HISTORY:
        return None
    gaps = sorted(a - b for a, b in zip(newest, newest[1:], strict=False))
    return Rhythm(usual=gaps[len(gaps) // 2], longest=gaps[-1])


def assess(
    feed: str,
    *,
    now: datetime,
    failing_after: timedelta,
    error_count: int,
    failing_since: datetime | None,
    last_error: str | None,
    last_success_at: datetime | None,
    disabled_reason: str | None,
    times: Sequence[datetime],
) -> FeedHealth | None:
    """The trouble of one enabled feed, or None when it is healthy (or too new to tell)."""
    if disabled_reason:
        return FeedHealth(feed, "gone", None, f"gone: {disabled_reason}; polling stopped until its url changes")
    if error_count and failing_since is not None:
        failing = now - failing_since
        if failing >= failing_after:
            return FeedHealth(feed, "failing", failing_since,
                              f"failing for {duration(failing)} (since {stamp(failing_since)}, "
                              f"{error_count} attempt{'s' if error_count != 1 else ''}): {last_error or 'no detail'}")
        return None
    pace = rhythm(times)
    if pace is None or last_success_at is None:
        return None
    newest = max(times)
    silence = now - newest
    if silence <= pace.expected or last_success_at < newest + pace.expected:
        return None
    return FeedHealth(feed, "silent", newest,
                      f"silent for {duration(silence)}: no new entry since {stamp(newest)}; it usually publishes "
                      f"every {duration(pace.usual)} (longest recent gap {duration(pace.longest)})")


def duration(span: timedelta) -> str:
    """'3 days', '1 day 4 h', '5 h', '20 min': the two largest units, rounded down."""
    minutes = max(0, int(span.total_seconds() // 60))
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} day{'s' if days != 1 else ''}" + (f" {hours} h" if hours else "")
    if hours:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    return f"{minutes} min"


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")
