"""Find the dates a sentence names and resolve them against the entry's publication day.

"on Friday", "last month", "in 2017", "3 March 2023", "ថ្ងៃទី៣ ខែមីនា ឆ្នាំ២០២៣": each
becomes an EventDate with the precision the words allow. Works on normalised text.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from monitor.judge import lexicon
from monitor.model import EventDate, Precision


@dataclass(frozen=True)
class DateMention:
    """A date expression found in a sentence, resolved."""

    start: int
    end: int
    text: str
    value: EventDate
    weak: bool = False  # "today", "this week": says only that the story is current
    reported: bool = False  # "said on Monday": when someone spoke, not when it happened
    since: bool = False  # "since 2019", "until March": the edge of a span, not an event's day
    yearless: bool = False  # "on July 29": in a look-back piece, the anniversary, not the event


def _alternation(words: object) -> str:
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))  # type: ignore[attr-defined]


_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}
_NUMBER = r"(\d{1,2}|" + "|".join(_NUMBER_WORDS) + ")"
_PATTERNS: list[tuple[str, re.Pattern[str]]] = []


def _ago_patterns() -> list[re.Pattern[str]]:
    """Each pack's "{n} {unit} ago" templates ("hace {n} {unit}", "{n} {unit} назад",
    "{n}{unit}前"), with the number words and unit words of every pack."""
    numbers = _alternation(lexicon.NUMBERS) or r"(?!x)x"
    units = _alternation(lexicon.AGO_UNITS) or r"(?!x)x"
    out = []
    for spacing, template in lexicon.AGO_TEMPLATES:
        body = re.escape(template).replace(r"\{n\}", rf"(\d{{1,3}}|{numbers})").replace(r"\{unit\}", rf"({units})")
        if spacing == "none":
            body = body.replace("\\ ", r"\s?")
        out.append(re.compile(rf"(?<!\w){body}(?!\w)" if spacing == "words" else rf"(?<!\d){body}"))
    return out


_SPAN_EDGE: re.Pattern[str] = re.compile(r"(?!x)x")  # compiled from the packs (_compile)
_REPORTED: re.Pattern[str] = re.compile(r"(?!x)x")


def _words_before_date(words: list[tuple[str, str]]) -> re.Pattern[str]:
    """Words that stand right before a date ("since", "hasta", "до", "តាំងពី"), as a pattern
    anchored at the end of the text before it; whole words in a spaced script."""
    spaced = _alternation(w for spacing, w in words if spacing == "words")
    unspaced = _alternation(w for spacing, w in words if spacing != "words")
    parts = ([rf"(?<!\w)({spaced})\s+$"] if spaced else []) + ([rf"({unspaced})\s*$"] if unspaced else [])
    return re.compile("|".join(parts) or r"(?!x)x")


def _next_weekday_pattern(weekdays: str) -> re.Pattern[str]:
    """Each pack's "next {day}" templates ("el próximo {day}", "{day} prochain"), one group each."""
    bodies = []
    for spacing, template in lexicon.NEXT_WEEKDAY_TEMPLATES:
        body = re.escape(template).replace(r"\{day\}", f"({weekdays})")
        bodies.append(rf"(?<!\w){body}(?!\w)" if spacing == "words" else body.replace("\\ ", r"\s?"))
    return re.compile("|".join(bodies) or r"(?!x)x")


@lexicon.on_install
def _compile() -> None:
    """Compile the date patterns with the month and weekday names of the installed packs."""
    global _SPAN_EDGE, _REPORTED
    # "since March", "hasta el 5 de junio", "said on Monday", "dijo el lunes": the packs' words.
    _SPAN_EDGE = _words_before_date(lexicon.SPAN_EDGES)
    _REPORTED = _words_before_date(lexicon.REPORTED)
    _ORD = "(?:" + (_alternation(lexicon.ORDINALS) or "(?!x)x") + ")?"
    _LATIN_MONTHS = _alternation(lexicon.SPACED_MONTHS)
    _KHMER_MONTHS = _alternation(lexicon.UNSPACED_MONTHS)
    _MONTH_PHRASES = _alternation(w for w in lexicon.SPACED_MONTHS if not w.isalpha()) or r"(?!x)x"
    _LATIN_WEEKDAYS = _alternation(lexicon.SPACED_WEEKDAYS)
    _KHMER_WEEKDAYS = _alternation(lexicon.UNSPACED_WEEKDAYS)
    # Khmer names its weekdays after a "ថ្ងៃ" (km_weekday); the other unspaced packs list whole
    # weekday words ("星期一", "周一", "တနင်္လာနေ့"), found as they stand.
    _WHOLE_WEEKDAYS = _alternation(w for w in lexicon.UNSPACED_WEEKDAYS if not re.search("[\u1780-\u17ff]", w)) or r"(?!x)x"
    # Myanmar dates: "2023 ခုနှစ် မတ်လ 3 ရက်" (year, month name + "လ", day + "ရက်"); a "လ" that
    # starts a longer syllable ("လွှတ်") is not the month's.
    _MY_MONTH = rf"({_KHMER_MONTHS})\s?လ(?![\u102b-\u103e])"
    # Most specific first: a later pattern never claims text an earlier one matched.
    _PATTERNS[:] = [
        ("iso", re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")),
        ("d_m_y", re.compile(rf"\b(\d{{1,2}}){_ORD} (?:of |de )?({_LATIN_MONTHS})\.?,? (?:de )?(\d{{4}})\b")),
        ("m_d_y", re.compile(rf"\b({_LATIN_MONTHS})\.? (\d{{1,2}}){_ORD},? (\d{{4}})\b")),
        ("km_d_m_y", re.compile(rf"ទី\s?(\d{{1,2}})\s?(?:ខែ)?\s?({_KHMER_MONTHS})\s?ឆ្នាំ\s?(\d{{4}})")),
        ("km_d_m", re.compile(rf"ទី\s?(\d{{1,2}})\s?(?:ខែ)?\s?({_KHMER_MONTHS})")),
        ("km_m_y", re.compile(rf"ខែ\s?({_KHMER_MONTHS})\s?ឆ្នាំ\s?(\d{{4}})")),
        # "2023年3月3日", "3月3日", "2023年3月": Chinese and Japanese number their months.
        ("cjk_y_m_d", re.compile(r"(\d{4})\s?年\s?(\d{1,2})\s?月\s?(\d{1,2})\s?[日号]")),
        ("cjk_m_d", re.compile(r"(?<!\d)(\d{1,2})\s?月\s?(\d{1,2})\s?[日号]")),
        ("cjk_y_m", re.compile(r"(\d{4})\s?年\s?(\d{1,2})\s?月")),
        ("my_y_m_d", re.compile(rf"(\d{{4}})\s?ခုနှစ်\s?{_MY_MONTH}\s?(\d{{1,2}})\s?ရက်")),
        ("my_m_d", re.compile(rf"{_MY_MONTH}\s?(\d{{1,2}})\s?ရက်")),
        ("my_y_m", re.compile(rf"(\d{{4}})\s?ခုနှစ်\s?{_MY_MONTH}")),
        ("m_y", re.compile(rf"\b({_LATIN_MONTHS})\.?,? (?:de )?(\d{{4}})\b")),
        # 14/06 or 14/06/2022: day first, as Cambodian and most non-US outlets write it, unless
        # the first number cannot be a day's month pair ("6/14" is June 14).
        ("numeric", re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})(?:/(\d{4}))?(?![\d/])")),
        ("m_d", re.compile(rf"\b({_LATIN_MONTHS})\.? (\d{{1,2}}){_ORD}\b(?! (?:years?|months?|days?|weeks?|people|activists))")),
        ("d_m", re.compile(rf"\b(\d{{1,2}}){_ORD} (?:of |de )?({_LATIN_MONTHS})\b")),
        ("ago", re.compile(rf"\b{_NUMBER} (day|week|month|year)s? ago\b")),
        ("km_ago", re.compile(r"(\d{1,2})\s?(ថ្ងៃ|សប្តាហ៍|ខែ|ឆ្នាំ)\s?មុន")),
        *(("pack_ago", pattern) for pattern in _ago_patterns()),
        ("future", re.compile(r"(?<![0-9])(?<!មួយ)(" + _alternation(lexicon.FUTURE_DAYS) + r")")),
        ("next_weekday", _next_weekday_pattern(_alternation(lexicon.WEEKDAYS))),
        ("rel_day", re.compile(r"\b(" + _alternation(lexicon.SPACED_RELATIVE_DAYS) + r")\b")),
        ("km_rel_day", re.compile("(" + _alternation(lexicon.UNSPACED_RELATIVE_DAYS) + ")")),
        ("rel_week", re.compile(r"(" + _alternation(lexicon.RELATIVE_WEEKS) + r")")),
        ("rel_month", re.compile(r"(" + _alternation(lexicon.RELATIVE_MONTHS) + r")")),
        ("rel_year", re.compile(r"(" + _alternation(lexicon.RELATIVE_YEARS) + r")")),
        ("weekday", re.compile(rf"\b(last |this |on |early |late )?({_LATIN_WEEKDAYS})\b")),
        ("km_weekday", re.compile(rf"(កាលពី)?ថ្ងៃ({_KHMER_WEEKDAYS})")),
        ("whole_weekday", re.compile(rf"()({_WHOLE_WEEKDAYS})")),
        # "in March"; not "the July election", which names an event by its month.
        ("month", re.compile(rf"\b(in|last|this|since|early|late|mid-?|of) ({_LATIN_MONTHS})\b(?!-)(?! (elections?|polls?|votes?|ballot))")),
        # A month written with its preposition or case ending ("en abril", "в апреле", "nisan'da").
        ("month_phrase", re.compile(rf"(?<!\w)({_MONTH_PHRASES})(?!\w)")),
        ("km_month", re.compile(rf"ខែ({_KHMER_MONTHS})")),
        ("cjk_month", re.compile(r"(?<![\d年])(\d{1,2})\s?月(?!\s?\d)")),
        ("my_month", re.compile(_MY_MONTH + r"(?!\s?\d)")),
        ("km_year", re.compile(r"ឆ្នាំ\s?((?:19|20)\d{2})")),
        ("year", re.compile(r"(?<![\d-])((?:19|20)\d{2})(?![\d-])")),
    ]



_WEAK_KINDS = frozenset({"rel_day", "km_rel_day", "rel_week", "rel_month", "rel_year"})
_YEARLESS_KINDS = frozenset({"cjk_m_d", "my_m_d", "km_d_m", "d_m", "m_d"})
_ATTRIBUTIVE = re.compile(r"\b(a|an|his|her|their|its)\s+$")
# "the 2019 return case", "2018 election": a year naming a thing, not dating an event.
_NAMES_A_THING = re.compile(
    r"\s+['\"]?(return|homecoming|case|trial|plot|coup|election|elections|polls?|vote|protests?|crackdown|"
    r"verdict|ruling|law|speech|video|report|statement|commune)\b"
)
_RECURRING = re.compile(r"\b(every|each)\s+$|រៀងរាល់\s*$")


def find_dates(sentence: str, published: date) -> list[DateMention]:
    """Every date the sentence names, resolved against the publication day, in text order."""
    taken: list[tuple[int, int]] = []
    found: list[DateMention] = []
    ago_ends: list[tuple[str, int]] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(sentence):
            start, end = m.span()
            if any(start < e and s < end for s, e in taken):
                continue
            if kind == "year" and (
                _ATTRIBUTIVE.search(sentence, max(0, start - 7), start) or _NAMES_A_THING.match(sentence, end)
            ):
                continue  # "a 2013 speech": the year describes a thing, it dates no event
            if _RECURRING.search(sentence, max(0, start - 8), start):
                continue  # "every 10 July" names no one day
            if any(k == "ago" and 0 <= start - e <= 4 for k, e in ago_ends):
                continue  # "four years ago on Thursday": the weekday belongs to the "ago"
            if kind in ("ago", "km_ago", "pack_ago"):
                ago_ends.append(("ago", end))
            value = _resolve(kind, m.groups(), published)
            if value is None:
                continue
            taken.append((start, end))
            weak = kind in _WEAK_KINDS and value.value >= published - timedelta(days=7)
            since = bool(_SPAN_EDGE.search(sentence, max(0, start - 16), start))
            reported = bool(_REPORTED.search(sentence, max(0, start - 24), start))
            yearless = kind in _YEARLESS_KINDS or (kind == "numeric" and not m.group(3))
            found.append(DateMention(start, end, m.group(0), value, weak=weak, reported=reported, since=since, yearless=yearless))
    found.sort(key=lambda d: d.start)
    return found


def period_end(value: EventDate) -> date:
    """The last day of the period a date names."""
    d = value.value
    if value.precision is Precision.YEAR:
        return date(d.year, 12, 31)
    if value.precision is Precision.MONTH:
        return date(d.year, d.month, calendar.monthrange(d.year, d.month)[1])
    return d


def _day(year: int, month: int, day: int) -> EventDate | None:
    try:
        return EventDate(date(year, month, day))
    except ValueError:
        return None


SCHEDULE_HORIZON = timedelta(days=45)


def _without_year(month: int, day: int, published: date) -> EventDate | None:
    # "on March 3" names the March 3 nearest publication: up to six weeks ahead it is a
    # date being announced ("hearing set for March 3"), further ahead it was last year's.
    value = _day(published.year, month, day)
    if value and value.value > published + SCHEDULE_HORIZON:
        value = _day(published.year - 1, month, day)
    return value


def _month_without_year(month: int, published: date) -> EventDate:
    year = published.year if month <= published.month else published.year - 1
    return EventDate(date(year, month, 1), Precision.MONTH)


def _resolve(kind: str, groups: tuple[str | None, ...], published: date) -> EventDate | None:  # noqa: PLR0911, PLR0912
    g = [x or "" for x in groups]
    months = lexicon.MONTHS
    if kind == "iso":
        return _day(int(g[0]), int(g[1]), int(g[2]))
    if kind in ("d_m_y", "km_d_m_y"):
        return _day(int(g[2]), months[g[1]], int(g[0]))
    if kind in ("cjk_y_m_d", "my_y_m_d"):
        month = int(g[1]) if g[1].isdigit() else months[g[1]]
        return _day(int(g[0]), month, int(g[2])) if 1 <= month <= 12 else None
    if kind == "cjk_m_d":
        month = int(g[0])
        return _without_year(month, int(g[1]), published) if 1 <= month <= 12 else None
    if kind == "my_m_d":
        return _without_year(months[g[0]], int(g[1]), published)
    if kind in ("cjk_y_m", "my_y_m"):
        month = int(g[1]) if g[1].isdigit() else months[g[1]]
        return EventDate(date(int(g[0]), month, 1), Precision.MONTH) if 1 <= month <= 12 else None
    if kind == "cjk_month":
        month = int(g[0])
        return _month_without_year(month, published) if 1 <= month <= 12 else None
    if kind == "my_month":
        return _month_without_year(months[g[0]], published)
    if kind == "m_d_y":
        return _day(int(g[2]), months[g[0]], int(g[1]))
    if kind == "numeric":
        first, second = int(g[0]), int(g[1])
        day, month = (second, first) if second > 12 >= first else (first, second)
        if not 1 <= month <= 12:
            return None
        return _day(int(g[2]), month, day) if g[2] else _without_year(month, day, published)
    if kind in ("km_d_m", "d_m"):
        return _without_year(months[g[1]], int(g[0]), published)
    if kind == "m_d":
        return _without_year(months[g[0]], int(g[1]), published)
    if kind in ("m_y", "km_m_y"):
        return EventDate(date(int(g[1]), months[g[0]], 1), Precision.MONTH)
    if kind in ("ago", "km_ago", "pack_ago"):
        count = _NUMBER_WORDS.get(g[0]) or lexicon.NUMBERS.get(g[0]) or int(g[0])
        unit = {"ថ្ងៃ": "day", "សប្តាហ៍": "week", "ខែ": "month", "ឆ្នាំ": "year"}.get(g[1]) or lexicon.AGO_UNITS.get(g[1], g[1])
        if unit == "day":
            return EventDate(published - timedelta(days=count))
        if unit == "week":
            return EventDate(published - timedelta(weeks=count))
        if unit == "month":
            total = published.year * 12 + published.month - 1 - count
            return EventDate(date(total // 12, total % 12 + 1, 1), Precision.MONTH)
        return EventDate(date(published.year - count, 1, 1), Precision.YEAR)
    if kind == "future":
        return EventDate(published + timedelta(days=lexicon.FUTURE_DAYS[g[0]]))
    if kind == "next_weekday":
        target = lexicon.WEEKDAYS[next(x for x in g if x)]
        return EventDate(published + timedelta(days=(target - published.weekday()) % 7 or 7))
    if kind in ("rel_day", "km_rel_day"):
        return EventDate(published - timedelta(days=lexicon.RELATIVE_DAYS[g[0]]))
    if kind == "rel_week":
        back = 7 * lexicon.RELATIVE_WEEKS[g[0]]
        return EventDate(published - timedelta(days=back))
    if kind == "rel_month":
        total = published.year * 12 + published.month - 1 - lexicon.RELATIVE_MONTHS[g[0]]
        return EventDate(date(total // 12, total % 12 + 1, 1), Precision.MONTH)
    if kind == "rel_year":
        return EventDate(date(published.year - lexicon.RELATIVE_YEARS[g[0]], 1, 1), Precision.YEAR)
    if kind in ("weekday", "km_weekday", "whole_weekday"):
        target = lexicon.WEEKDAYS[g[1]]
        back = (published.weekday() - target) % 7
        if g[0].strip() in ("last", "កាលពី") and back == 0:
            back = 7
        return EventDate(published - timedelta(days=back))
    if kind == "month":
        return _month_without_year(months[g[1]], published)
    if kind in ("km_month", "month_phrase"):
        return _month_without_year(months[g[0]], published)
    if kind in ("year", "km_year"):
        year = int(g[0])
        if year > published.year + 1:
            return None
        return EventDate(date(year, 1, 1), Precision.YEAR)
    return None
