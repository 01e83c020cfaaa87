"""The one table of development types agrees with every place that names a type."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from monitor.judge import lexicon
from monitor.judge.verdict import Judge
from monitor.model import (
    DEVELOPMENT_TYPE_TABLE,
    DEVELOPMENT_TYPES,
    TYPE_FAMILY,
    TYPE_WORDS,
    Case,
    Entry,
    Judgement,
    Subject,
    Verdict,
)


def test_type_ids_are_unique_and_each_has_family_and_words() -> None:
    assert len(set(DEVELOPMENT_TYPES)) == len(DEVELOPMENT_TYPES)
    for development_type in DEVELOPMENT_TYPE_TABLE:
        assert development_type.family and development_type.words, development_type
    assert set(TYPE_FAMILY) == set(TYPE_WORDS) == set(DEVELOPMENT_TYPES)


def test_every_type_a_language_pack_names_is_in_the_table() -> None:
    named = {t for _scripts, types, _masks in lexicon.spaced_by_script() for t in types} | set(lexicon.UNSPACED_TYPES)
    assert named <= set(DEVELOPMENT_TYPES), named - set(DEVELOPMENT_TYPES)


def _judge_in_order(*titles_and_days: tuple[str, str]) -> list[Judgement]:
    person = Subject(name="Jane Doe", aliases=("Jane Doe",), cases=("doe-case",))
    judge = Judge([person], {"doe-case": Case(id="doe-case", title="Doe", subjects=("Jane Doe",))}, [])
    out = []
    for i, (title, day) in enumerate(titles_and_days):
        published = datetime.combine(date.fromisoformat(day), time(9), tzinfo=UTC)
        entry = Entry(id=f"e{i}", source="s", title=title, link=f"https://example.invalid/{i}", published=published)
        out.append(judge.judge(entry, now=published)[0])
    return out


def test_a_sentence_handed_down_weeks_after_the_verdict_is_sentencing_not_a_second_verdict() -> None:
    verdict, sentence = _judge_in_order(("Court finds Jane Doe guilty of sedition", "2024-05-02"),
                                        ("Jane Doe jailed for five years", "2024-06-20"))
    assert (verdict.verdict, verdict.development.type) == (Verdict.NEW, "conviction")
    assert (sentence.verdict, sentence.development.type) == (Verdict.NEW, "sentencing")


def test_the_same_verdict_told_again_days_later_stays_a_duplicate_of_the_verdict() -> None:
    verdict, again = _judge_in_order(("Court finds Jane Doe guilty of sedition", "2024-05-02"),
                                     ("Jane Doe sentenced to five years in prison", "2024-05-03"))
    assert again.verdict is Verdict.DUPLICATE and again.duplicate_of == "e0"


def test_a_mixed_verdict_is_a_conviction() -> None:
    (mixed,) = _judge_in_order(("Court convicts Jane Doe of subversion, acquits her of fraud", "2024-05-02"),)
    assert (mixed.verdict, mixed.development.type) == (Verdict.NEW, "conviction")


def test_an_appeal_against_an_acquittal_is_an_appeal() -> None:
    (appeal,) = _judge_in_order(("Prosecutors appeal against acquittal of Jane Doe", "2024-05-02"),)
    assert (appeal.verdict, appeal.development.type) == (Verdict.NEW, "appeal")
