"""Each language pack's examples are its test (Duckling's corpus beside its rules).

monitor/languages/examples/<code>.yaml holds phrases that name one watched person, each with
its publication day and what the judgement must read from it: a development's type and date
(at the precision the text gives), or no development and why (a wish, a denial, a look
back, another object, a step that is not the outcome). A language is not done until its
examples pass; every change to the words leaves an example pinned here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from monitor.judge.verdict import Judge
from monitor.model import Case, Entry, EventDate, KnownEvent, Precision, Subject, Verdict

# A sentence is handed down after a verdict: a sentencing example is read in a case whose
# guilty verdict the monitor already knows (without one, "sentenced to six years" is the verdict
# itself and reads as a conviction; tests/test_judgments.py pins that).
VERDICT_BEFORE_SENTENCE = timedelta(days=60)
EXAMPLES = Path(__file__).resolve().parents[1] / "monitor" / "languages" / "examples"
NO_DEVELOPMENT_REASONS = {"wish", "denial", "look_back", "other_object", "step", "plan", "description", "statement"}


def _examples() -> list[pytest.param]:
    params = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
        subject = data["subject"]
        for i, example in enumerate(data["examples"]):
            params.append(pytest.param(subject, example, id=f"{path.stem}-{i + 1}"))
    return params


def _date_of(text: str) -> tuple[date, Precision]:
    parts = str(text).split("-")
    if len(parts) == 1:
        return date(int(parts[0]), 1, 1), Precision.YEAR
    if len(parts) == 2:
        return date(int(parts[0]), int(parts[1]), 1), Precision.MONTH
    return date.fromisoformat(str(text)), Precision.DAY


def test_every_shipped_language_has_examples() -> None:
    from monitor.judge import lexicon

    have = {p.stem for p in EXAMPLES.glob("*.yaml")}
    assert lexicon.LANGUAGES <= have, f"packs without examples: {sorted(lexicon.LANGUAGES - have)}"


@pytest.mark.parametrize(("subject", "example"), _examples())
def test_language_example(subject: dict, example: dict) -> None:
    person = Subject(name=subject["name"], aliases=tuple(subject["aliases"]), cases=("example-case",))
    case = Case(id="example-case", title="The example case", subjects=(person.name,))
    published = datetime.combine(date.fromisoformat(str(example["published"])), time(9), tzinfo=UTC)
    expect = example["expect"]
    known = [
        KnownEvent(case=case.id, type="conviction", date=EventDate(published.date() - VERDICT_BEFORE_SENTENCE),
                   summary="the verdict", subjects=(person.name,))
    ] if expect.get("type") == "sentencing" else []
    judge = Judge([person], {case.id: case}, known)
    entry = Entry(id="example", source="examples", title=example["text"], link="https://example.invalid/1",
                  published=published, summary=example.get("body", ""))
    judgement, _event = judge.judge(entry, now=published)
    assert person.name in judgement.people, f"the subject is not matched in {example['text']!r}"
    if "none" in expect:
        assert expect["none"] in NO_DEVELOPMENT_REASONS, f"unknown reason {expect['none']!r}"
        assert judgement.verdict not in (Verdict.NEW, Verdict.DUPLICATE), (
            f"{example['text']!r} is no development ({expect['none']}) but was read as "
            f"{judgement.development.type if judgement.development else judgement.verdict}: {judgement.why}")
        return
    assert judgement.verdict is Verdict.NEW and judgement.development is not None, (
        f"{example['text']!r}: expected {expect['type']}, got {judgement.verdict}: {judgement.why}")
    assert judgement.development.type == expect["type"], judgement.why
    if "date" in expect:
        value, precision = _date_of(expect["date"])
        assert (judgement.development.date.value, judgement.development.date.precision) == (value, precision), judgement.why
