"""Dates named in a sentence, resolved against the entry's publication day.

find_dates works on normalised text (monitor.judge.textnorm.normalize), as classify calls it.
"""

from __future__ import annotations

from datetime import date

import pytest

from monitor.judge.dates import find_dates, period_end
from monitor.judge.textnorm import normalize
from monitor.model import EventDate, Precision

SATURDAY = date(2023, 3, 4)


def found(text: str, published: date = SATURDAY) -> list[tuple[str, str]]:
    """(date, precision) of every date in the sentence, in text order."""
    return [(str(d.value), d.value.precision.value) for d in find_dates(normalize(text), published)]


def only(text: str, published: date = SATURDAY) -> tuple[str, str]:
    dates = found(text, published)
    assert len(dates) == 1, dates
    return dates[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The court ruled on Friday.", ("2023-03-03", "day")),
        ("The court ruled Friday.", ("2023-03-03", "day")),
        ("He was arrested on Monday.", ("2023-02-27", "day")),
        ("He was arrested last Saturday.", ("2023-02-25", "day")),  # not the day of publication
        ("He was freed yesterday.", ("2023-03-03", "day")),
        ("He was freed today.", ("2023-03-04", "day")),
        ("He was arrested two weeks ago.", ("2023-02-18", "day")),
        ("He was arrested 2 weeks ago.", ("2023-02-18", "day")),
        ("He was charged three days ago.", ("2023-03-01", "day")),
        ("He was summoned last month.", ("2023-02", "month")),
        ("He went into exile in 2017.", ("2017", "year")),
        ("He was banned last year.", ("2022", "year")),
        ("He was convicted on 3 March 2023.", ("2023-03-03", "day")),
        ("He was convicted on 3rd March 2023.", ("2023-03-03", "day")),
        ("He was convicted on March 3, 2023.", ("2023-03-03", "day")),
        ("He was convicted on March 3rd 2023.", ("2023-03-03", "day")),
        ("He was convicted on 2023-03-03.", ("2023-03-03", "day")),
        ("He was convicted on March 3.", ("2023-03-03", "day")),
        ("He was convicted in March 2023.", ("2023-03", "month")),
        ("He was convicted in March.", ("2023-03", "month")),
    ],
)
def test_english_dates(text: str, expected: tuple[str, str]) -> None:
    assert only(text) == expected


def test_a_weekday_named_on_the_day_of_publication_is_that_day() -> None:
    assert only("The court ruled on Friday.", date(2023, 3, 3)) == ("2023-03-03", "day")


@pytest.mark.parametrize(
    ("text", "published", "expected"),
    [
        # "December 30" read on 2 January is the December just gone, not one a year ahead
        ("He was arrested on December 30.", date(2024, 1, 2), ("2023-12-30", "day")),
        ("He was arrested on 30 December.", date(2024, 1, 2), ("2023-12-30", "day")),
        ("He was arrested in December.", date(2024, 1, 2), ("2023-12", "month")),
        ("He was arrested on December 30.", date(2023, 12, 31), ("2023-12-30", "day")),
        ("He was arrested on January 1.", date(2024, 1, 2), ("2024-01-01", "day")),
        ("He was summoned last month.", date(2024, 1, 10), ("2023-12", "month")),
        ("He was detained yesterday.", date(2024, 1, 1), ("2023-12-31", "day")),
    ],
)
def test_dates_without_a_year_near_new_year(text: str, published: date, expected: tuple[str, str]) -> None:
    assert only(text, published) == expected


def test_a_date_without_a_year_may_be_a_couple_of_days_ahead() -> None:
    # A hearing announced for "March 6" in a story of 4 March is this year's.
    assert only("The hearing is set for March 6.") == ("2023-03-06", "day")
    # A far-future month-day is last year's.
    assert only("He was arrested on November 20.") == ("2022-11-20", "day")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ថ្ងៃទី៣ ខែមីនា ឆ្នាំ២០២៣", ("2023-03-03", "day")),  # Khmer digits
        ("ថ្ងៃទី3 ខែមីនា ឆ្នាំ2023", ("2023-03-03", "day")),  # ASCII digits
        ("ថ្ងៃទី\u200b៣\u200bខែ\u200bមីនា\u200bឆ្នាំ\u200b២០២៣", ("2023-03-03", "day")),  # zero-width spaces
        ("កាលពីថ្ងៃសុក្រ", ("2023-03-03", "day")),  # "last Friday"
        ("កាលពីម្សិលមិញ", ("2023-03-03", "day")),  # "yesterday"
        ("ម្សិលមិញ", ("2023-03-03", "day")),
        ("ថ្ងៃទី២៧ ខែកុម្ភៈ", ("2023-02-27", "day")),  # no year: the latest 27 February
        ("កាលពីខែមុន", ("2023-02", "month")),  # "last month"
        ("ឆ្នាំ២០១៧", ("2017", "year")),
    ],
)
def test_khmer_dates(text: str, expected: tuple[str, str]) -> None:
    assert only(text) == expected


def test_several_dates_come_in_text_order() -> None:
    assert found("Arrested on 3 September 2017, he was moved to house arrest in 2018 and freed on Friday.") == [
        ("2017-09-03", "day"), ("2018", "year"), ("2023-03-03", "day"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "He faces up to 30 years in prison.",
        "The 118 senior members were banned.",
        "He spoke for two hours.",
    ],
)
def test_no_date_where_none_is_named(text: str) -> None:
    assert [d for d in found(text) if d[1] == "day"] == []


def test_a_year_far_in_the_future_is_not_an_event_date() -> None:
    assert found("The plan runs until 2030.") == []


def test_period_end() -> None:
    assert period_end(EventDate(date(2023, 2, 1), Precision.MONTH)) == date(2023, 2, 28)
    assert period_end(EventDate(date(2024, 2, 1), Precision.MONTH)) == date(2024, 2, 29)
    assert period_end(EventDate(date(2017, 1, 1), Precision.YEAR)) == date(2017, 12, 31)
    assert period_end(EventDate(date(2023, 3, 3))) == date(2023, 3, 3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Marc Lefèvre a été arrêté le 1er mars.", ("2023-03-01", "day")),  # French ordinal
        ("Juan Pérez fue detenido el 1º de marzo.", ("2023-03-01", "day")),  # Spanish ordinal
        ("La audiencia será el próximo lunes.", ("2023-03-06", "day")),
        ("L'audience aura lieu lundi prochain.", ("2023-03-06", "day")),
        ("He will be heard next Monday.", ("2023-03-06", "day")),
    ],
)
def test_ordinals_and_the_coming_weekday_in_each_language(text: str, expected: tuple[str, str]) -> None:
    assert only(text) == expected


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Held since 3 March.", "since"),
        ("Detenido hasta el 3 de marzo.", "since"),
        ("Placé en détention jusqu'au 3 mars.", "since"),
        ("Под стражей до 3 марта.", "since"),
        ("The lawyer said on Friday.", "reported"),
        ("Su abogado dijo el viernes.", "reported"),
        ("Адвокат заявил в пятницу.", "reported"),
    ],
)
def test_a_span_edge_or_a_day_of_speaking_is_no_event_day_in_each_language(text: str, kind: str) -> None:
    (mention,) = find_dates(normalize(text), SATURDAY)
    assert getattr(mention, kind), mention
