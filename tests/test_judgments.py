"""A court judgment is one story however an outlet states it, and its stated type is a claim.

Outlets report one ruling as a verdict ("convicted"), a sentence ("jailed for six years") or an
appeal court's ruling ("term cut to five years"); a digest must not alert twice for it, and
must not say "sentenced" in a later step when nothing was decided before. A look-back piece's
year-less date is the anniversary, not a new event.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from monitor.judge.verdict import Judge
from monitor.model import Case, Entry, EventDate, KnownEvent, Subject, Verdict

PERSON = Subject(name="Zhang Wei", aliases=("Zhang Wei", "张伟", "ژانگ وی"), cases=("zhang-case",))
CASE = Case(id="zhang-case", title="Zhang Wei's trial", subjects=(PERSON.name,))


def _judge(known: list[KnownEvent] | None = None) -> Judge:
    return Judge([PERSON], {CASE.id: CASE}, known or [])


def _entry(entry_id: str, title: str, day: date, body: str = "") -> Entry:
    return Entry(id=entry_id, source="test", title=title, link=f"https://example.invalid/{entry_id}",
                 published=datetime.combine(day, time(9), tzinfo=UTC), summary=body)


@pytest.mark.parametrize("title", [
    "Zhang Wei sentenced to six years in prison",
    "张伟被判处有期徒刑十年",
    "ژانگ وی به شش سال زندان محکوم شد",
])
def test_a_first_sentence_is_the_verdict(title: str) -> None:
    judgement, _ = _judge().judge(_entry("a", title, date(2024, 5, 2)))
    assert judgement.verdict is Verdict.NEW
    assert judgement.development is not None and judgement.development.type == "conviction", judgement.why


def test_a_sentence_months_after_the_verdict_is_a_sentencing() -> None:
    verdict = KnownEvent(case=CASE.id, type="conviction", date=EventDate(date(2024, 3, 1)),
                         summary="found guilty", subjects=(PERSON.name,))
    judgement, _ = _judge([verdict]).judge(_entry("b", "张伟被判处有期徒刑十年", date(2024, 5, 2)))
    assert judgement.verdict is Verdict.NEW
    assert judgement.development is not None and judgement.development.type == "sentencing", judgement.why


@pytest.mark.parametrize(("first", "twin"), [
    ("ژانگ وی به شش سال زندان محکوم شد", "Zhang Wei convicted of subversion"),
    ("Zhang Wei found guilty of subversion", "张伟被判处有期徒刑十年"),
    ("Appeals court upholds Zhang Wei's conviction", "Zhang Wei jailed for five years"),
])
def test_one_judgment_told_two_ways_alerts_once(first: str, twin: str) -> None:
    judge = _judge()
    day = date(2024, 5, 2)
    one, _ = judge.judge(_entry("first", first, day))
    two, _ = judge.judge(_entry("twin", twin, day + timedelta(days=1)))
    assert one.verdict is Verdict.NEW, one.why
    assert two.verdict is Verdict.DUPLICATE and two.duplicate_of == "first", two.why


def test_a_judgment_weeks_later_is_a_new_development() -> None:
    judge = _judge()
    one, _ = judge.judge(_entry("verdict", "Zhang Wei found guilty of subversion", date(2024, 3, 1)))
    two, _ = judge.judge(_entry("ruling", "Appeals court upholds Zhang Wei's conviction", date(2024, 6, 10)))
    assert one.verdict is Verdict.NEW and two.verdict is Verdict.NEW, two.why


def test_an_anniversary_piece_dates_the_anniversary_not_a_new_arrest() -> None:
    arrest = KnownEvent(case=CASE.id, type="arrest", date=EventDate(date(2022, 7, 29)),
                        summary="arrested at home", subjects=(PERSON.name,))
    body = "Zhang Wei was arrested on July 29 at his home and has been held since."
    look_back, _ = _judge([arrest]).judge(
        _entry("lb", "One year behind bars: Zhang Wei marks anniversary of his arrest", date(2023, 7, 31), body))
    assert look_back.verdict not in (Verdict.NEW, Verdict.DUPLICATE), look_back.why
    # The same sentence under a news headline is news: the year-less day is this year's.
    news, _ = _judge([arrest]).judge(_entry("news", "Zhang Wei detained again", date(2023, 7, 31), body))
    assert news.verdict is Verdict.NEW, news.why


def test_a_judgment_days_after_a_guilty_plea_is_its_sentence() -> None:
    judge = _judge()
    plea, _ = judge.judge(_entry("plea", "Zhang Wei pleads guilty to fraud", date(2025, 1, 22)))
    sentence, _ = judge.judge(_entry("sentence", "Zhang Wei jailed for three years", date(2025, 1, 28)))
    assert plea.development is not None and plea.development.type == "guilty_plea", plea.why
    assert sentence.verdict is Verdict.NEW, sentence.why
    assert sentence.development is not None and sentence.development.type == "sentencing", sentence.why


@pytest.mark.parametrize("title", [
    "Zhang Wei davası 9 Mayıs'a ertelendi",
    "Zhang Wei's trial adjourned to 9 May",
    "Court extends Zhang Wei's detention until 3 June",
])
def test_the_day_of_the_next_step_does_not_date_the_step(title: str) -> None:
    # A year-less "9 May" in February would otherwise read as last May's, a known event.
    earlier = KnownEvent(case=CASE.id, type="trial_adjourned", date=EventDate(date(2021, 5, 9)),
                         summary="adjourned", subjects=(PERSON.name,))
    judgement, _ = _judge([earlier]).judge(_entry("adj", title, date(2022, 2, 14)))
    assert judgement.verdict is Verdict.NEW, judgement.why
    assert judgement.development is not None and judgement.development.date == EventDate(date(2022, 2, 14)), judgement.why


def test_a_mixed_verdict_told_as_an_acquittal_and_as_a_sentence_alerts_once() -> None:
    judge = _judge()
    one, _ = judge.judge(_entry("first", "Zhang Wei cleared of collusion", date(2023, 6, 25)))
    two, _ = judge.judge(_entry("twin", "Zhang Wei gets suspended three-year sentence", date(2023, 6, 26)))
    assert one.verdict is Verdict.NEW, one.why
    assert two.verdict is Verdict.DUPLICATE and two.duplicate_of == "first", two.why
