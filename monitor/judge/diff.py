"""Decide each entry's verdict against what is already known.

Known is the baseline plus every development the monitor has judged `new` before. A
development matches a known event by signature: same case (or the same people), same
family of type ("freed" and "pardoned" are one story), overlapping people, and a date in
the same window. Entries whose developments fail to match may still be a near-copy of an
earlier story (syndicated text, a re-headlined update): a character-shingle fingerprint
catches those within a few days.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from monitor.judge.classify import Candidate, Reading
from monitor.judge.dates import period_end
from monitor.judge.match import MatchResult
from monitor.model import (
    JUDGMENT_FAMILIES,
    TYPE_FAMILY,
    Development,
    Entry,
    EventDate,
    KnownEvent,
    Precision,
    Verdict,
)

SAME_DAY_TOLERANCE = timedelta(days=7)  # "on Friday" vs the day the first outlet said
UNDATED_LOOKBACK = timedelta(days=45)  # an undated restatement refers to a recent event
NEAR_DUPLICATE_WINDOW = timedelta(days=10)
RESTATEMENT_WINDOW = timedelta(days=14)
SENTENCING_WINDOW = timedelta(days=240)  # a sentence follows its verdict or plea within months
JUDGMENT_TOLERANCE = timedelta(days=2)  # "convicted" and "jailed for six years": one day's ruling
_VERDICT_BEFORE_SENTENCE = ("verdict", "plea", "sentence", "appeal_ruling")
NEAR_DUPLICATE_JACCARD = 0.55
_SHINGLE = 5


@dataclass
class Decision:
    """What diff concluded for one entry (judge composes it into a Judgement)."""

    verdict: Verdict
    development: Development | None = None
    duplicate_of: str | None = None
    known_event: KnownEvent | None = None
    reason: str = ""


@dataclass
class _Fingerprint:
    entry_id: str
    root_id: str
    published: date
    shingles: frozenset[str]


@dataclass
class KnownEvents:
    """The memory diff judges against: known events by case, and recent story fingerprints."""

    organisations: frozenset[str] = frozenset()
    cases_of: dict[str, tuple[str, ...]] = field(default_factory=dict)  # subject -> its cases
    by_case: dict[str, list[KnownEvent]] = field(default_factory=dict)
    by_person: dict[str, list[KnownEvent]] = field(default_factory=dict)
    recent: dict[str, deque[_Fingerprint]] = field(default_factory=dict)
    roots: dict[str, str] = field(default_factory=dict)  # entry id -> first entry of its story

    def add(self, event: KnownEvent) -> None:
        self.by_case.setdefault(event.case, []).append(event)
        for person in self._persons(event.subjects):
            self.by_person.setdefault(person, []).append(event)
        if event.entry_id:
            self.roots.setdefault(event.entry_id, event.entry_id)

    def add_all(self, events: Iterable[KnownEvent]) -> None:
        for event in events:
            self.add(event)

    def remember_story(self, entry_id: str, root_id: str, people: Sequence[str], published: date, text: str) -> None:
        """Keep the fingerprint of an entry that reported a development (new or duplicate)."""
        self.roots[entry_id] = self.roots.get(root_id, root_id)
        print_ = _Fingerprint(entry_id, self.roots[entry_id], published, _shingles(text))
        for person in people:
            queue = self.recent.setdefault(person, deque(maxlen=200))
            queue.append(print_)

    def find(self, candidate: Candidate, published: date, named: Sequence[str] = ()) -> KnownEvent | None:
        """The known event this candidate reports again, if any (oldest first)."""
        dev = candidate.development
        pool: list[KnownEvent] = list(self.by_case.get(dev.case, ()))
        seen = {id(e) for e in pool}
        persons = self._persons(dev.subjects)
        related = [e for p in persons for e in self.by_person.get(p, ())]
        if not persons:
            # "51 CNRP members convicted": an organisation's story may have been filed by
            # the first outlet under any case of the organisation or of anyone the entry names.
            cases = {c for name in (*dev.subjects, *named) for c in self.cases_of.get(name, ())}
            related = [e for case in sorted(cases) for e in self.by_case.get(case, ())]
        for event in related:
            if id(event) not in seen:
                pool.append(event)
                seen.add(id(event))
        matches = [
            e
            for e in pool
            if _same_story_kind(dev, e)
            and self._same_people(dev.subjects, e.subjects)
            and _same_time(candidate, e, published)
        ]
        if not matches:
            return None
        # Prefer an event the monitor itself saw (so duplicates point at an entry), then the
        # closest in time.
        return min(matches, key=lambda e: (e.entry_id is None, abs((e.date.value - dev.date.value).days)))

    def near_duplicate(self, people: Sequence[str], published: date, text: str) -> str | None:
        shingles = _shingles(text)
        if not shingles:
            return None
        best, best_score = None, NEAR_DUPLICATE_JACCARD
        for person in people:
            for fp in self.recent.get(person, ()):
                if abs(published - fp.published) > NEAR_DUPLICATE_WINDOW:
                    continue
                score = len(shingles & fp.shingles) / len(shingles | fp.shingles)
                if score >= best_score:
                    best, best_score = fp.root_id, score
        return best

    def verdict_or_sentence(self, candidate: Candidate) -> Candidate:
        """Name a guilty judgment by the step of the case it is.

        A guilty verdict read weeks after the same people's verdict, plea or appeal ruling in
        the same case is a sentence handed down in a later step ("jailed for 44 months", "new
        32-year sentence after the appeal ruling"), not a second verdict. A sentence with no
        verdict or plea before it is the verdict itself: "sentenced to six years" is how most
        outlets report a conviction, and the digest must say "convicted".
        """
        dev = candidate.development
        if dev.type not in ("conviction", "sentencing"):
            return candidate
        judgments = [
            (dev.date.value - event.date.value, self._same_people(dev.subjects, event.subjects),
             TYPE_FAMILY.get(event.type, event.type) == "plea")
            for event in self.by_case.get(dev.case, ())
            if TYPE_FAMILY.get(event.type, event.type) in _VERDICT_BEFORE_SENTENCE
        ]
        # A verdict told again within a week is the same verdict; a plea is no verdict, so
        # the guilty judgment of any later day is its sentence.
        if dev.type == "conviction" and any(
            same and (timedelta(0) if plea else SAME_DAY_TOLERANCE) < gap <= SENTENCING_WINDOW
            for gap, same, plea in judgments
        ):
            return replace(candidate, development=replace(dev, type="sentencing"))
        # Any judgment in the case will do here: in a mass trial the verdict's report may
        # name other defendants than the sentence's.
        if dev.type == "sentencing" and not any(-SAME_DAY_TOLERANCE <= gap <= SENTENCING_WINDOW for gap, _, _ in judgments):
            return replace(candidate, development=replace(dev, type="conviction"))
        return candidate

    def first_report(self, entry_id: str) -> KnownEvent | None:
        """The development whose first report is `entry_id`, if the monitor saw one."""
        for events in self.by_case.values():
            for event in events:
                if event.entry_id == entry_id:
                    return event
        return None

    def reroot(self, old_root: str, entry_id: str, reported_at: datetime | None) -> KnownEvent | None:
        """`entry_id`, published earlier, becomes the first report of `old_root`'s development.

        Verdicts must not depend on the order feeds arrive in: whatever was judged first, the
        earliest published report is the first one and the others are its sources.
        """
        old = self.first_report(old_root)
        if old is None:
            return None
        new = replace(old, entry_id=entry_id, reported_at=reported_at)
        for table in (self.by_case, self.by_person):
            for events in table.values():
                for i, event in enumerate(events):
                    if event is old:
                        events[i] = new
        for key, root in list(self.roots.items()):
            if root == old_root:
                self.roots[key] = entry_id
        self.roots[entry_id] = entry_id
        for queue in self.recent.values():
            for fp in queue:
                if fp.root_id == old_root:
                    fp.root_id = entry_id
        return new

    def root_of(self, entry_id: str) -> str:
        return self.roots.get(entry_id, entry_id)

    def _persons(self, names: Iterable[str]) -> list[str]:
        return [n for n in names if n not in self.organisations]

    def _same_people(self, a: Sequence[str], b: Sequence[str]) -> bool:
        pa, pb = set(self._persons(a)), set(self._persons(b))
        return not pa or not pb or bool(pa & pb)


def decide(entry: Entry, match: MatchResult, reading: Reading, known: KnownEvents, published: date) -> Decision:
    """The verdict for one entry; `known` is read, never changed (see `remember`)."""
    if not match.people:
        return Decision(Verdict.NONE, reason="no watched subject named")
    story = _story_text(match)
    news = reading.news
    if news:
        primary = known.verdict_or_sentence(news[0])
        event = known.find(primary, published, match.people)
        if event is None:
            root = known.near_duplicate(match.people, published, story)
            if root is not None:
                return Decision(Verdict.DUPLICATE, primary.development, root, reason="near-copy of an earlier story")
            return Decision(Verdict.NEW, primary.development, reason="no known event matches")
        if event.entry_id:
            return Decision(
                Verdict.DUPLICATE, primary.development, known.root_of(event.entry_id), event,
                reason=f"same {primary.development.family} as an earlier entry",
            )
        return Decision(Verdict.KNOWN, primary.development, None, event, reason="matches a baseline event")
    root = known.near_duplicate(match.people, published, story)
    if root is not None:
        return Decision(Verdict.DUPLICATE, None, root, reason="near-copy of an earlier story")
    recalled = reading.candidates[0] if reading.candidates else None
    event = known.find(recalled, published, match.people) if recalled is not None else None
    if recalled is not None and event is not None and event.entry_id and published - event.date.value <= RESTATEMENT_WINDOW:
        # "A week after the verdict, ..." restates a story the monitor reported days ago.
        return Decision(
            Verdict.DUPLICATE, recalled.development, known.root_of(event.entry_id), event,
            reason="restates a recent development",
        )
    if reading.retrospective:
        return Decision(Verdict.KNOWN, None, None, event, reason="a look back at past events")
    if recalled is not None and not reading.forward_looking and not reading.discussion and (
        event is not None or recalled.sentence == 0
    ):
        return Decision(Verdict.KNOWN, None, None, event, reason="only recalls past events")
    return Decision(Verdict.MENTION, reason="names a subject but reports no development")


def remember(entry: Entry, match: MatchResult, decision: Decision, known: KnownEvents, published: date) -> KnownEvent | None:
    """Fold a decision into memory; returns the new known event for a `new` entry."""
    story = _story_text(match)
    if decision.verdict is Verdict.NEW and decision.development is not None:
        dev = decision.development
        event = KnownEvent(
            case=dev.case, type=dev.type, date=dev.date, summary=entry.title,
            subjects=dev.subjects, entry_id=entry.id, reported_at=entry.published,
        )
        known.add(event)
        known.remember_story(entry.id, entry.id, match.people, published, story)
        return event
    if decision.verdict is Verdict.DUPLICATE and decision.duplicate_of:
        known.remember_story(entry.id, decision.duplicate_of, match.people, published, story)
    return None


def _same_story_kind(dev: Development, event: KnownEvent) -> bool:
    """Same family of type; or one court judgment told as verdict, sentence or appeal ruling
    by outlets within a couple of days of each other."""
    family = TYPE_FAMILY.get(event.type, event.type)
    if family == dev.family:
        return True
    return (
        family in JUDGMENT_FAMILIES and dev.family in JUDGMENT_FAMILIES
        and abs(dev.date.value - event.date.value) <= JUDGMENT_TOLERANCE
    )


def _same_time(candidate: Candidate, event: KnownEvent, published: date) -> bool:
    dev = candidate.development
    if dev.family == "death":
        return event.date.value <= published  # a person dies once: any later telling restates it
    if not candidate.dated:
        if dev.background:
            return event.date.value <= published
        # Undated news: the publication day was assumed; an event of the same kind in the
        # weeks before is what the entry restates.
        return published - UNDATED_LOOKBACK <= period_end(event.date) and event.date.value <= published + timedelta(days=3)
    lo, hi = _bounds(dev.date.value, dev.date.precision)
    e_lo, e_hi = _bounds(event.date.value, event.date.precision)
    return lo - SAME_DAY_TOLERANCE <= e_hi and e_lo <= hi + SAME_DAY_TOLERANCE


def _bounds(value: date, precision: Precision) -> tuple[date, date]:
    return value, period_end(EventDate(value, precision))


def story_text(title: str, summary: str) -> str:
    """What near-duplicate fingerprints are taken of: headline and start of the summary,
    normalised, without spaces (so Khmer spacing habits do not matter)."""
    return (title + " " + summary[:200]).replace(" ", "")


def _story_text(match: MatchResult) -> str:
    return story_text(match.fields["title"], match.fields["summary"])


def _shingles(text: str) -> frozenset[str]:
    if len(text) < _SHINGLE:
        return frozenset()
    return frozenset(text[i : i + _SHINGLE] for i in range(len(text) - _SHINGLE + 1))
