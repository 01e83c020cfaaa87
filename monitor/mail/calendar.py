"""A subscriber's calendar: when their digests fall due and which period a moment belongs to.

Pure functions of a subscriber and a moment, in the subscriber's own zone (DST-aware).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from monitor.model import Subscriber, utc


def _zone(subscriber: Subscriber) -> ZoneInfo:
    return ZoneInfo(subscriber.timezone or "UTC")


def _at(subscriber: Subscriber) -> time:
    hours, _, minutes = (subscriber.at or "07:00").partition(":")
    return time(int(hours), int(minutes or 0))


def slot_on(subscriber: Subscriber, day: date) -> datetime:
    """The UTC moment of `subscriber`'s local `at` on local `day` (DST-aware)."""
    return datetime.combine(day, _at(subscriber), tzinfo=_zone(subscriber)).astimezone(UTC)


def _is_slot_day(subscriber: Subscriber, day: date) -> bool:
    return subscriber.frequency != "weekly" or day.weekday() == 0  # weekly: Mondays


def next_slot(subscriber: Subscriber, moment: datetime) -> datetime:
    """The first digest time at or after `moment` (daily: every day; weekly: Mondays)."""
    day = utc(moment).astimezone(_zone(subscriber)).date() - timedelta(days=1)
    for _ in range(10):
        if _is_slot_day(subscriber, day) and slot_on(subscriber, day) >= moment:
            return slot_on(subscriber, day)
        day += timedelta(days=1)
    raise AssertionError("no slot within ten days")  # pragma: no cover


def latest_slot(subscriber: Subscriber, moment: datetime) -> datetime:
    """The last digest time at or before `moment`."""
    day = utc(moment).astimezone(_zone(subscriber)).date() + timedelta(days=1)
    for _ in range(10):
        if _is_slot_day(subscriber, day) and slot_on(subscriber, day) <= moment:
            return slot_on(subscriber, day)
        day -= timedelta(days=1)
    raise AssertionError("no slot within ten days")  # pragma: no cover


def period_of(subscriber: Subscriber, moment: datetime) -> str:
    """'2023-03-03' (daily) or '2023-W09' (weekly): the local date or ISO week of `moment`."""
    local = utc(moment).astimezone(_zone(subscriber)).date()
    if subscriber.frequency == "weekly":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    return local.isoformat()
