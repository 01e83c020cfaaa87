"""Compose match, classify and diff into one verdict per entry, in publication order.

The Judge holds the only mutable state of the decision: the known events it learns as it
goes, so that the second outlet to report a story is a duplicate of the first, and a report
published earlier that arrives later takes the first one's place (verdicts do not depend
on the order feeds arrive in).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

from monitor.judge import lexicon
from monitor.judge.classify import Classifier
from monitor.judge.diff import Decision, KnownEvents, decide, remember, story_text
from monitor.judge.match import Matcher, MatchResult
from monitor.judge.textnorm import normalize
from monitor.model import Case, Entry, Judgement, KnownEvent, Subject, Verdict


class Judge:
    """Judges entries one at a time against the baseline and everything judged before."""

    def __init__(
        self, subjects: Iterable[Subject], cases: Mapping[str, Case], known: Iterable[KnownEvent],
        languages: Iterable[Path] = (),
    ) -> None:
        """`languages`: folders of the user's language packs, read beside the shipped ones."""
        lexicon.install(languages)
        subject_list = list(subjects)
        self.subjects = {s.name: s for s in subject_list}
        self.cases = dict(cases)
        self.matcher = Matcher(subject_list, self.cases.values())
        self.classifier = Classifier(self.subjects, self.cases)
        organisations = frozenset(s.name for s in subject_list if s.kind != "person")
        self.known = KnownEvents(organisations=organisations, cases_of={s.name: s.cases for s in subject_list})
        self.known.add_all(known)

    def reset_memory(self, known: Iterable[KnownEvent]) -> None:
        """Forget every event and story learned; know `known` (the baseline and the
        developments a database holds) instead. Stories are then restored one by one."""
        self.known = KnownEvents(organisations=self.known.organisations, cases_of=self.known.cases_of)
        self.known.add_all(known)

    def learn(self, known: Iterable[KnownEvent]) -> None:
        """Developments judged elsewhere (another daemon) since this Judge last read them."""
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
        superseded = self._superseded(entry, decision)
        if superseded is not None:
            # Published before the report taken for first: this one is the first report.
            event = self.known.reroot(superseded, entry.id, entry.published)
            decision = replace(decision, verdict=Verdict.NEW, duplicate_of=None,
                               reason=f"first report: published before '{superseded}', which arrived first")
            # Its fingerprint joins the story it now heads (near-copies find it as the root).
            remember(entry, match, replace(decision, verdict=Verdict.DUPLICATE, duplicate_of=entry.id), self.known, published)
            judgement = self._judgement(entry, match, decision, reading.candidates)
            return replace(judgement, supersedes=superseded), event
        event = remember(entry, match, decision, self.known, published)
        return self._judgement(entry, match, decision, reading.candidates), event

    def _superseded(self, entry: Entry, decision: Decision) -> str | None:
        """The first report this duplicate was published before, if any."""
        if decision.verdict is not Verdict.DUPLICATE or not decision.duplicate_of or entry.published is None:
            return None
        first = self.known.first_report(decision.duplicate_of)
        if first is None or first.reported_at is None or entry.published >= first.reported_at:
            return None
        return decision.duplicate_of

    def _judgement(self, entry: Entry, match: MatchResult, decision: Decision, candidates: list) -> Judgement:
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
