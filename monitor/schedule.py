"""Schedule owns when each feed is polled next: pure functions of the clock and the past.

No I/O, no scheduler, no reading of the clock: `now` and a `random.Random` are passed in,
so the same inputs always give the same times.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence
from datetime import datetime, timedelta

__all__ = [
    "adaptive_interval",
    "backoff_delay",
    "jittered",
    "next_poll_after_error",
    "parse_interval",
]

DEFAULT_BACKOFF_BASE = 60.0
DEFAULT_BACKOFF_CEILING = 6 * 3600.0
# The longest a server's Retry-After may push a feed back; past it we assume a misconfigured
# server (a date years ahead) rather than stop polling the feed for good.
DEFAULT_RETRY_AFTER_CAP = 7 * 24 * 3600.0
WEEK = timedelta(weeks=1)

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_INTERVAL = re.compile(r"(?:\d+[smhdw])+")
_PART = re.compile(r"(\d+)([smhdw])")


def backoff_delay(
    error_count: int,
    *,
    base: float = DEFAULT_BACKOFF_BASE,
    ceiling: float = DEFAULT_BACKOFF_CEILING,
    rng: random.Random,
) -> float:
    """Seconds to wait after `error_count` consecutive failures (0 after none).

    Exponential backoff, cap = min(ceiling, base * 2**(error_count - 1)), with full jitter
    (AWS Architecture Blog, "Exponential Backoff And Jitter") so feeds that failed together,
    say on one host's outage, do not all come back at once. Unlike textbook full jitter the
    draw is from [base, cap], not [0, cap]: a failing feed is never retried sooner than base.
    """
    if error_count <= 0:
        return 0.0
    low = min(base, ceiling)
    # 2**63 times any sane base is past any ceiling; clamping the exponent avoids overflow.
    cap = min(ceiling, base * 2.0 ** min(error_count - 1, 63))
    return rng.uniform(low, max(low, cap))


def adaptive_interval(
    entry_times: Sequence[datetime],
    *,
    now: datetime,
    minimum: timedelta,
    maximum: timedelta,
    default: timedelta,
    weeks: int = 4,
) -> timedelta:
    """How often to poll a feed, from how often it published over the last `weeks` weeks.

    Like Miniflux's entry-frequency scheduler: with n entries a week, poll every week / n,
    clamped to [minimum, maximum]. A feed with entries but none in the window is quiet:
    poll it every `maximum`. With no entry times at all we know nothing yet (a new feed,
    or one whose entries carry no dates): use `default`, clamped likewise.
    Entries dated after `now` (clock skew, scheduled posts) count as published now.
    """
    if minimum > maximum:
        raise ValueError(f"minimum interval {minimum} is longer than maximum {maximum}")
    if not entry_times:
        return _clamp(default, minimum, maximum)
    since = now - weeks * WEEK
    recent = sum(1 for t in entry_times if t >= since)
    if recent == 0:
        return maximum
    return _clamp(weeks * WEEK / recent, minimum, maximum)


def jittered(
    due: datetime, interval: timedelta, rng: random.Random, fraction: float = 0.1
) -> datetime:
    """`due` pushed later by a random part (up to `fraction`) of `interval`.

    Spreads feeds that share an interval across it instead of polling them in bursts.
    Only ever later: a due time that honours a server's Retry-After stays honoured.
    """
    if fraction < 0:
        raise ValueError(f"jitter fraction must be >= 0, not {fraction}")
    return due + interval * rng.uniform(0, fraction)


def parse_interval(text: str) -> timedelta:
    """Parse "30s", "15m", "1h", "2d", "1w", or a sum such as "1h30m" into a timedelta > 0."""
    value = text.strip().lower() if isinstance(text, str) else None
    if not value or not _INTERVAL.fullmatch(value):
        raise ValueError(
            f"invalid interval {text!r}: expected a whole number and a unit, "
            "s, m, h, d or w (e.g. '30s', '15m', '1h30m', '2d')"
        )
    seconds = sum(int(n) * _UNITS[unit] for n, unit in _PART.findall(value))
    if seconds == 0:
        raise ValueError(f"invalid interval {text!r}: must be longer than zero")
    return timedelta(seconds=seconds)


def next_poll_after_error(
    now: datetime,
    error_count: int,
    retry_after: float | None,
    rng: random.Random,
    *,
    base: float = DEFAULT_BACKOFF_BASE,
    ceiling: float = DEFAULT_BACKOFF_CEILING,
    retry_after_cap: float = DEFAULT_RETRY_AFTER_CAP,
) -> datetime:
    """When to poll a feed again after its `error_count`-th consecutive failure.

    A server's Retry-After (RFC 9110 10.2.3) wins over our backoff, in both directions:
    it knows when it will be back. It is held to at least `base`, because "0" or a date
    already past would otherwise retry a failing feed in a tight loop, and to at most
    `retry_after_cap`. A small jitter (up to 10%, only later) keeps the feeds of one host
    that all got the same HTTP-date from returning in the same instant.
    Without Retry-After: backoff_delay.
    """
    if retry_after is not None and math.isfinite(retry_after):
        delay = min(max(retry_after, base), retry_after_cap)
        return jittered(now + timedelta(seconds=delay), timedelta(seconds=delay), rng)
    return now + timedelta(seconds=backoff_delay(error_count, base=base, ceiling=ceiling, rng=rng))


def _clamp(value: timedelta, low: timedelta, high: timedelta) -> timedelta:
    return max(low, min(high, value))
