"""Compose match, classify and diff into one verdict per entry, in publication order.

The Judge holds the only mutable state of the decision: the known events it learns as it
goes, so that the second outlet to report a story is a duplicate of the first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime

from sqlalchemy import Engine

from monitor.judge.classify import Classifier
from monitor.judge.diff import Decision, KnownEvents, decide, remember, story_text
from monitor.judge.match import Matcher, MatchResult
from monitor.judge.textnorm import normalize
from monitor.model import Case, Entry, Judgement, KnownEvent, Subject, Verdict
from monitor.store.judgements import load_known_events, recent_stories


class Judge:
    """Judges entries one at a time against the baseline and everything judged before."""

    def __init__(self, subjects: Iterable[Subject], cases: Mapping[str, Case], known: Iterable[KnownEvent]) -> None:
        subject_list = list(subjects)
        self.subjects = {s.name: s for s in subject_list}
        self.cases = dict(cases)
        self.matcher = Matcher(subject_list, self.cases.values())
        self.classifier = Classifier(self.subjects, self.cases)
        organisations = frozenset(s.name for s in subject_list if s.kind != "person")
        self.known = KnownEvents(organisations=organisations, cases_of={s.name: s.cases for s in subject_list})
        self.known.add_all(known)

    def remember_story(self, entry_key: str, root_key: str, people: Iterable[str], published: date, title: str, summary: str) -> None:
        """Restore a near-duplicate fingerprint from the store (state carried across runs)."""
        self.known.remember_story(entry_key, root_key, list(people), published, story_text(normalize(title), normalize(summary)))

    def judge(self, entry: Entry, *, now: datetime | None = None) -> tuple[Judgement, KnownEvent | None]:
        """The entry's verdict, and the known event it added when it is `new`."""
        published = (entry.published or now or datetime.now(UTC)).date()
        match = self.matcher.match(entry)
        reading = self.classifier.classify(match, published)
        decision = decide(entry, match, reading, self.known, published)
        event = remember(entry, match, decision, self.known, published)
        return self._judgement(entry, match, decision, reading.candidates), event

    def _judgement(self, entry: Entry, match: MatchResult, decision: Decision, candidates: list) -> Judgement:  # type: ignore[type-arg]
        cases: list[str] = []
        if decision.development is not None:
            cases.append(decision.development.case)
        for c in candidates:
            if c.development.case not in cases:
                cases.append(c.development.case)
        if not cases:
            for person in match.people:
                subject = self.subjects[person]
                if subject.cases and subject.cases[0] not in cases:
                    cases.append(subject.cases[0])
        return Judgement(
            entry=entry,
            verdict=decision.verdict,
            people=match.people,
            cases=tuple(cases) if decision.verdict is not Verdict.NONE else (),
            development=decision.development if decision.verdict in (Verdict.NEW, Verdict.DUPLICATE) else None,
            duplicate_of=decision.duplicate_of,
            why=tuple(_why(match, decision)),
        )


def _why(match: MatchResult, decision: Decision) -> list[str]:
    reasons: list[str] = []
    seen: set[str] = set()
    for m in match.mentions:
        if m.subject in seen:
            continue
        seen.add(m.subject)
        alias = f" (alias '{m.alias}')" if m.alias != m.subject else ""
        role = "" if m.subject in match.people else " [not a case subject]"
        reasons.append(f"{m.field}: '{m.subject}'{alias}{role}")
    dev = decision.development
    if dev is not None:
        reasons.append(f"type: '{dev.evidence}' -> {dev.type}")
        reasons.append(f"date: {dev.date}{' (background)' if dev.background else ''}")
        reasons.append(f"case: {dev.case}")
    if decision.known_event is not None:
        e = decision.known_event
        origin = f"entry {e.entry_id}" if e.entry_id else "baseline"
        reasons.append(f"known: {e.date} {e.type} of {e.case} ({origin})")
    if decision.reason:
        reasons.append(f"verdict: {decision.reason}")
    return reasons


def load_judge(engine: Engine, subjects: Iterable[Subject], cases: dict[str, Case]) -> Judge:
    """A Judge that knows the baseline and everything this database has seen."""
    judge = Judge(subjects, cases, load_known_events(engine))
    for row in recent_stories(engine):
        published = row["published"]
        day = published.date() if isinstance(published, datetime) else datetime.now(UTC).date()
        root = str(row["duplicate_of"] or row["entry_key"])
        judge.remember_story(str(row["entry_key"]), root, row["people"], day, str(row["title"]), str(row["summary"]))  # type: ignore[arg-type]
    return judge
