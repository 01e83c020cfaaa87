"""A watched name is never read as a cue word: "Can Atalay" (a Turkish name) is not the
English modal "can", "Will Smith" is no promise. Names are hidden before cues are read."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from monitor.judge.verdict import Judge
from monitor.model import Case, Entry, Subject, Verdict


@pytest.mark.parametrize(
    ("name", "title", "expected"),
    [
        ("Can Atalay", "Can Atalay tahliye edildi", "release"),
        ("Can Atalay", "Mahkeme Can Atalay'ı tahliye etti", "release"),
        ("Will Doe", "Will Doe arrested in the capital", "arrest"),
    ],
)
def test_a_name_is_no_cue(name: str, title: str, expected: str) -> None:
    person = Subject(name=name, aliases=(name,), cases=("c",))
    judge = Judge([person], {"c": Case(id="c", title="c", subjects=(name,))}, [])
    published = datetime.combine(date(2024, 5, 2), time(9), tzinfo=UTC)
    entry = Entry(id="e", source="s", title=title, link="https://example.invalid/1", published=published)
    judgement, _ = judge.judge(entry, now=published)
    assert judgement.verdict is Verdict.NEW, judgement.why
    assert judgement.development is not None and judgement.development.type == expected
