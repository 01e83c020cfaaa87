"""monitor.schedule: pure functions, a fixed clock and a seeded random.Random."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from monitor.schedule import (
    adaptive_interval,
    backoff_delay,
    jittered,
    next_poll_after_error,
    parse_interval,
)

NOW = datetime(2023, 3, 3, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=5)
MAX = timedelta(hours=24)
DEFAULT = timedelta(hours=1)


def rng() -> random.Random:
    return random.Random(20230303)


# -- backoff_delay -------------------------------------------------------------------------


def test_no_errors_no_delay() -> None:
    assert backoff_delay(0, rng=rng()) == 0


def test_first_error_waits_exactly_base() -> None:
    assert backoff_delay(1, base=60, rng=rng()) == 60


@pytest.mark.parametrize("errors, cap", [(2, 120), (3, 240), (5, 960), (8, 7680)])
def test_backoff_draws_within_base_and_doubling_cap(errors: int, cap: float) -> None:
    r = rng()
    draws = [backoff_delay(errors, base=60, ceiling=6 * 3600, rng=r) for _ in range(500)]
    assert all(60 <= d <= cap for d in draws)
    assert max(draws) - min(draws) > (cap - 60) * 0.8  # jittered across the range, not fixed


def test_backoff_stops_at_ceiling_even_for_huge_counts() -> None:
    r = rng()
    draws = [backoff_delay(n, base=60, ceiling=3600, rng=r) for n in (20, 100, 10_000)]
    assert all(60 <= d <= 3600 for d in draws)


def test_backoff_is_deterministic_for_a_seed() -> None:
    assert backoff_delay(4, rng=rng()) == backoff_delay(4, rng=rng())


# -- adaptive_interval --------------------------------------------------------------------


def interval(times: list[datetime]) -> timedelta:
    return adaptive_interval(times, now=NOW, minimum=MIN, maximum=MAX, default=DEFAULT)


def test_one_entry_a_day_polls_daily() -> None:
    times = [NOW - timedelta(days=d) for d in range(28)]  # 28 entries in 4 weeks
    assert interval(times) == timedelta(days=1)


def test_busy_feed_polled_more_often_down_to_minimum() -> None:
    four_a_day = [NOW - timedelta(hours=6 * i) for i in range(4 * 28)]
    assert interval(four_a_day) == timedelta(hours=6)
    constant = [NOW - timedelta(minutes=i) for i in range(20_000)]
    assert interval(constant) == MIN


def test_rare_feed_clamped_to_maximum() -> None:
    assert interval([NOW - timedelta(days=3)]) == MAX  # one a month: 4 weeks, over 24 h


def test_only_old_entries_means_maximum() -> None:
    assert interval([NOW - timedelta(weeks=10), NOW - timedelta(weeks=12)]) == MAX


def test_no_entry_times_uses_default() -> None:
    assert interval([]) == DEFAULT
    too_long = adaptive_interval([], now=NOW, minimum=MIN, maximum=MAX, default=timedelta(days=9))
    assert too_long == MAX


def test_future_entries_count_as_recent() -> None:
    times = [NOW + timedelta(days=1)] * 28
    assert interval(times) == timedelta(days=1)


def test_minimum_over_maximum_is_refused() -> None:
    with pytest.raises(ValueError, match="longer than maximum"):
        adaptive_interval([], now=NOW, minimum=MAX, maximum=MIN, default=DEFAULT)


# -- jittered -----------------------------------------------------------------------------


def test_jitter_only_delays_within_fraction() -> None:
    r = rng()
    hour = timedelta(hours=1)
    dues = [jittered(NOW, hour, r) for _ in range(200)]
    assert all(NOW <= d <= NOW + timedelta(minutes=6) for d in dues)
    assert len(set(dues)) > 150


def test_zero_fraction_is_exact_and_negative_refused() -> None:
    assert jittered(NOW, timedelta(hours=1), rng(), fraction=0) == NOW
    with pytest.raises(ValueError):
        jittered(NOW, timedelta(hours=1), rng(), fraction=-0.1)


# -- parse_interval -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("1h", timedelta(hours=1)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
        ("1h30m", timedelta(minutes=90)),
        (" 15M ", timedelta(minutes=15)),
    ],
)
def test_parse_interval(text: str, expected: timedelta) -> None:
    assert parse_interval(text) == expected


@pytest.mark.parametrize("text", ["", "15", "m", "1.5h", "-5m", "15 m", "15min", "0m", "1y"])
def test_parse_interval_refuses_bad_input_clearly(text: str) -> None:
    with pytest.raises(ValueError, match="invalid interval") as info:
        parse_interval(text)
    assert repr(text) in str(info.value)


# -- next_poll_after_error ----------------------------------------------------------------


def test_without_retry_after_backs_off() -> None:
    first = next_poll_after_error(NOW, 1, None, rng())
    assert first == NOW + timedelta(seconds=60)
    later = next_poll_after_error(NOW, 6, None, rng())
    assert NOW + timedelta(seconds=60) <= later <= NOW + timedelta(seconds=60 * 32)


def test_retry_after_is_honoured_even_past_backoff() -> None:
    due = next_poll_after_error(NOW, 1, 7200, rng())
    assert NOW + timedelta(hours=2) <= due <= NOW + timedelta(hours=2, minutes=12)


def test_retry_after_shorter_than_base_is_raised_to_base() -> None:
    for retry_after in (0, 5):
        due = next_poll_after_error(NOW, 1, retry_after, rng())
        assert NOW + timedelta(seconds=60) <= due <= NOW + timedelta(seconds=66)


def test_absurd_retry_after_is_capped() -> None:
    due = next_poll_after_error(NOW, 1, 10 * 365 * 86400, rng())
    assert NOW + timedelta(days=7) <= due <= NOW + timedelta(days=7.7 + 0.01)
