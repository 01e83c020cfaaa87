"""Say which developments an entry reports, in which case, and when they happened.

Works sentence by sentence on the normalised text that match produced: a development is a
type word (lexicon) that is not a wish, a threat or a denial, in a sentence that names a
watched subject (or follows a title that does), dated by the nearest date expression and
otherwise by the entry's publication day. A sentence that recalls the past ("who was
arrested in 2017", "five years after") yields a background candidate, never news.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import ahocorasick

from monitor import lexicon
from monitor.dates import DateMention, find_dates, period_end
from monitor.match import MatchResult
from monitor.model import DEVELOPMENT_TYPES, Case, Development, EventDate, Subject
from monitor.textnorm import KHMER_CHARS, normalize

# Sentences after this many in summary+content are background far more often than news.
MAX_SENTENCES = 8
# An event dated longer ago than this before publication is a recap, not the day's news.
NEWS_WINDOW = timedelta(days=30)

_SENTENCE_END = re.compile(
    r"(?<!\bmr)(?<!\bmrs)(?<!\bms)(?<!\bdr)(?<!\bst)(?<!\bu\.s)(?<!\bjan)(?<!\bfeb)(?<!\baug)"
    r"(?<!\bsept)(?<!\boct)(?<!\bnov)(?<!\bdec)(?<!\bno)(?<!\b[a-z])[.!?]+[\"')\]]*\s+|[។៕]+\s*|\n+"
)
_HARD_BREAK = re.compile(r"[;:\u2014|]|\s-\s")
_DENIAL = re.compile(lexicon.ENGLISH_DENIALS)
_CLAUSE_BREAK = re.compile(r"[,;:()\u2014]|\s-\s|\bbut\b|\bwhile\b|\bwhereas\b|\band\b|\bafter\b|\bbefore\b")
_ENGLISH_TYPES = {
    t: re.compile("|".join(f"(?:{p})" for p in pats)) for t, pats in lexicon.ENGLISH_TYPES.items()
}
_ENGLISH_MASKS = re.compile("|".join(f"(?:{p})" for p in lexicon.ENGLISH_NOT_EVENTS))
_ENGLISH_NEGATION = re.compile(lexicon.ENGLISH_NEGATIONS)
_ENGLISH_RECAP = re.compile(lexicon.ENGLISH_RECAP)
_DISCUSSION_TITLE = re.compile(lexicon.ENGLISH_DISCUSSION_TITLE)
_PRECEDENCE = {t: i for i, t in enumerate(DEVELOPMENT_TYPES)}
_WINDOW = 60  # characters before a type word searched for a negation or recap cue
_KHMER_WINDOW = 24  # Khmer packs a clause into far fewer characters


def _khmer_automaton() -> ahocorasick.Automaton:
    automaton = ahocorasick.Automaton()
    phrases: dict[str, tuple[str, str]] = {}
    for type_, words in lexicon.KHMER_TYPES.items():
        for word in words:
            phrases.setdefault(normalize(word), ("type", type_))
    for word in lexicon.KHMER_NOT_EVENTS:
        phrases[normalize(word)] = ("mask", "")
    for word in lexicon.KHMER_NEGATIONS:
        phrases.setdefault(normalize(word), ("negation", ""))
    for word in lexicon.KHMER_RECAP:
        phrases.setdefault(normalize(word), ("recap", ""))
    for word in lexicon.KHMER_DENIALS:
        phrases.setdefault(normalize(word), ("denial", ""))
    for key, (kind, type_) in phrases.items():
        automaton.add_word(key, (len(key), kind, type_))
    automaton.make_automaton()
    return automaton


_KHMER = _khmer_automaton()


@dataclass(frozen=True)
class Candidate:
    """A development an entry may report, with what the decision needs to know about it."""

    development: Development
    field: str  # title | summary | content
    sentence: int  # 0 for the title and for the lead sentence of the body
    dated: bool  # the sentence named a date (else the publication day was assumed)
    date_text: str = ""

    @property
    def is_news(self) -> bool:
        return not self.development.background

    @property
    def rank(self) -> tuple[int, int, int, int]:
        """Order of importance: title first, then the lead, then by precedence of type."""
        field_rank = 0 if self.field == "title" else 1
        return (
            int(self.development.background),
            field_rank,
            self.sentence,
            _PRECEDENCE.get(self.development.type, 99),
        )


@dataclass
class Reading:
    """What classify made of an entry: its candidates, and how the piece is told."""

    candidates: list[Candidate] = field(default_factory=list)
    retrospective: bool = False  # the title looks back: "five years after", "anniversary"
    discussion: bool = False  # explainer, opinion, interview, timeline
    forward_looking: bool = False  # wishes, plans, schedules, denials: nothing happened yet
    title_outlook: bool = False  # the headline itself only looks ahead

    @property
    def news(self) -> list[Candidate]:
        return [c for c in self.candidates if c.is_news]


@dataclass(frozen=True)
class _Hit:
    type: str
    start: int
    end: int
    text: str


class Classifier:
    """Built once per config (cases and subjects); `classify` is then pure."""

    def __init__(self, subjects: Mapping[str, Subject], cases: Mapping[str, Case]) -> None:
        self.subjects = subjects
        self.cases = cases

    def classify(self, match: MatchResult, published: date) -> Reading:
        """Every development candidate in the entry, most important first, and its tone."""
        reading = Reading()
        if not match.people:
            return reading
        # A teaser summary ("[…]") with the story in the content: the content is the body.
        summary, content = match.fields["summary"], match.fields["content"]
        body_field = "content" if len(content) > len(summary) else "summary"
        if not match.fields[body_field]:
            body_field = "summary" if summary else "content"
        body = match.fields[body_field]
        body_sentences = _sentences(body)[:MAX_SENTENCES] if body else []
        lead_people = self._people_in(match, body_field, *body_sentences[0]) if body_sentences else ()
        title = match.fields["title"]
        title_people = self._people_in(match, "title", 0, len(title))
        reading.retrospective = _looks_back(title)
        reading.discussion = bool(_DISCUSSION_TITLE.search(title))
        if _DENIAL.search(title) or any(kind == "denial" for _, (_, kind, _) in _KHMER.iter(title)):
            reading.forward_looking = True  # "reports of a pardon are false": nothing happened
            return reading
        if not reading.discussion:
            self._sentence(reading, match, "title", 0, 0, len(title), published, title_people or lead_people)
            # A headline about what will or may happen ("ban to expire next week") makes the
            # lead's undated events part of that outlook, not news.
            title_hits = _find_hits(title)[0] if title else []
            reading.title_outlook = bool(title_hits) and not any(c.field == "title" for c in reading.candidates) and reading.forward_looking
        for index, (start, end) in enumerate(body_sentences):
            fallback = title_people if index == 0 else ()
            self._sentence(reading, match, body_field, index, start, end, published, fallback)
        reading.candidates = _dated_by_lead(reading.candidates)
        reading.candidates.sort(key=lambda c: c.rank)
        return reading

    def _sentence(
        self,
        reading: Reading,
        match: MatchResult,
        field: str,
        index: int,
        start: int,
        end: int,
        published: date,
        fallback_people: tuple[str, ...],
    ) -> None:
        text = match.fields[field][start:end]
        hits, negations, recaps = _find_hits(text)
        if not hits:
            return
        people = self._people_in(match, field, start, end) or fallback_people
        if not people:
            return
        if _DENIAL.search(text) or any(kind == "denial" for _, (_, kind, _) in _KHMER.iter(text)):
            reading.forward_looking = True
            return
        dates = _assign_dates(text, hits, find_dates(text, published))
        lead = field == "title" or index == 0
        for hit in hits:
            clause = _clause_before(text, hit.start)
            if _ENGLISH_NEGATION.search(clause) or any(
                hit.start - _KHMER_WINDOW <= pos < hit.start for pos in negations
            ):
                reading.forward_looking = True
                continue
            when = dates.get(hit)
            if when is not None and when.value.value > published + timedelta(days=1):
                reading.forward_looking = True  # scheduled: "to hear the appeal next Tuesday"
                continue
            recap = bool(_ENGLISH_RECAP.search(text[max(0, hit.start - _WINDOW) : hit.start])) or any(
                hit.start - _KHMER_WINDOW <= pos < hit.start for pos in recaps
            )
            case = self._case_for(match, people, field, start, end)
            if case is None:
                continue
            if when is not None:
                event_date, dated, date_text = when.value, True, when.text
                background = reading.retrospective or period_end(event_date) < published - NEWS_WINDOW
            else:
                event_date, dated, date_text = EventDate(published), False, ""
                # An undated event after the lead is as likely background as news.
                background = recap or reading.retrospective or reading.title_outlook or not lead
            members = set(self.cases[case].subjects) if case in self.cases else set()
            involved = tuple(p for p in people if p in members) or tuple(
                p for p in match.people if p in members
            ) or people
            development = Development(
                case=case, type=hit.type, date=event_date, subjects=involved,
                evidence=hit.text, background=background,
            )
            reading.candidates.append(Candidate(development, field, index, dated, date_text))

    def _people_in(self, match: MatchResult, field: str, start: int, end: int) -> tuple[str, ...]:
        names: list[str] = []
        for m in match.mentions:
            if m.field == field and start <= m.start < end and m.subject in match.people:
                if m.subject not in names:
                    names.append(m.subject)
        return tuple(names)

    def _case_for(
        self, match: MatchResult, people: tuple[str, ...], field: str, start: int, end: int
    ) -> str | None:
        """The case the sentence is about: its subjects' cases, scored by case keywords."""
        scores: dict[str, float] = {}
        order: dict[str, int] = {}
        # Where a sentence names a person, the case is one of theirs; the organisation they
        # belong to decides only when it stands alone ("51 CNRP members convicted").
        persons = [p for p in people if (s := self.subjects.get(p)) is not None and s.kind == "person"]
        for person in persons or people:
            subject = self.subjects.get(person)
            if subject is None:
                continue
            for rank, case in enumerate(subject.cases):
                if case in self.cases:
                    # A subject's first case is its main one; a person outranks the
                    # organisation they belong to.
                    weight = (1.0 - 0.3 * min(rank, 2)) if subject.kind == "person" else (0.25 - 0.05 * min(rank, 2))
                    scores[case] = scores.get(case, 0.0) + weight
                    order.setdefault(case, len(order))
        for hit in match.keywords:
            in_sentence = hit.field == field and start <= hit.start < end
            case = self.cases.get(hit.case)
            if hit.case not in scores and in_sentence and case is not None and any(
                p in case.subjects and self.subjects[p].kind == "person" for p in match.people if p in self.subjects
            ):
                # "cleared three years after his Kem Ley memorial arrest": the sentence's words
                # name another case of someone the entry is about.
                scores[hit.case] = 0.0
                order.setdefault(hit.case, len(order))
            if hit.case in scores:
                scores[hit.case] += 2.0 if in_sentence else 0.5
        if not scores:
            return None
        return max(scores, key=lambda c: (scores[c], -order[c]))


def _dated_by_lead(candidates: list[Candidate]) -> list[Candidate]:
    """A headline rarely carries the date; its lead does ("sentenced on Friday"). An undated
    headline candidate takes the date of a dated lead candidate of the same family and case."""
    lead = [c for c in candidates if c.field != "title" and c.sentence == 0 and c.dated and c.is_news]
    out: list[Candidate] = []
    for c in candidates:
        if c.field == "title" and not c.dated and c.is_news:
            same = next(
                (d for d in lead if d.development.family == c.development.family and d.development.case == c.development.case),
                None,
            )
            if same is not None:
                c = replace(c, development=replace(c.development, date=same.development.date), dated=True, date_text=same.date_text)
        out.append(c)
    return out


def _looks_back(title: str) -> bool:
    """A title whose look-back cue comes before any event it names is a retrospective
    ("Five years after Kem Sokha's arrest"); "X cleared three years after arrest" is news."""
    if not title:
        return False
    cues = [m.start() for m in _ENGLISH_RECAP.finditer(title)]
    cues += [end + 1 - length for end, (length, kind, _) in _KHMER.iter(title) if kind == "recap"]
    if not cues:
        return False
    hits, _, _ = _find_hits(title)
    return all(hit.start > min(cues) for hit in hits)


def _assign_dates(text: str, hits: list[_Hit], dates: list[DateMention]) -> dict[_Hit, DateMention]:
    """Give each date to the type word nearest to it in the same clause, and each type word
    the nearest date it was given: in "convicts 51 over the aborted 2019 homecoming" the
    year belongs to the homecoming, not to the verdict."""
    given: dict[_Hit, list[tuple[int, DateMention]]] = {}
    for d in dates:
        best, best_distance = None, 10**9
        for hit in hits:
            lo, hi = (hit.end, d.start) if d.start >= hit.end else (d.end, hit.start)
            if lo < hi and _HARD_BREAK.search(text, lo, hi):
                continue
            distance = max(0, hi - lo) * (1 if d.start >= hit.end else 2)  # dates usually follow
            if distance < best_distance:
                best, best_distance = hit, distance
        if best is not None:
            given.setdefault(best, []).append((best_distance, d))
    return {hit: min(options, key=lambda o: o[0])[1] for hit, options in given.items()}


def _sentences(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        if m.start() > start:
            spans.append((start, m.start()))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def _clause_before(text: str, position: int) -> str:
    window = text[max(0, position - _WINDOW) : position]
    breaks = list(_CLAUSE_BREAK.finditer(window))
    return window[breaks[-1].end() :] if breaks else window


def _find_hits(text: str) -> tuple[list[_Hit], list[int], list[int]]:
    """Type words of the sentence (longest wins where they overlap), negation and recap cues."""
    raw: list[_Hit] = []
    masks: list[tuple[int, int]] = [m.span() for m in _ENGLISH_MASKS.finditer(text)]
    negations: list[int] = []
    recaps: list[int] = []
    for type_, pattern in _ENGLISH_TYPES.items():
        for m in pattern.finditer(text):
            raw.append(_Hit(type_, m.start(), m.end(), m.group(0)))
    if KHMER_CHARS.search(text):
        for end_index, (length, kind, type_) in _KHMER.iter(text):
            start, end = end_index + 1 - length, end_index + 1
            if kind == "type":
                raw.append(_Hit(type_, start, end, text[start:end]))
            elif kind == "mask":
                masks.append((start, end))
            elif kind == "negation":
                negations.append(start)
            elif kind == "recap":
                recaps.append(start)
    raw = [h for h in raw if not any(s <= h.start and h.end <= e for s, e in masks)]
    raw.sort(key=lambda h: (-(h.end - h.start), _PRECEDENCE.get(h.type, 99)))
    kept: list[_Hit] = []
    for hit in raw:
        if not any(hit.start < k.end and k.start < hit.end for k in kept):
            kept.append(hit)
    kept.sort(key=lambda h: h.start)
    return kept, negations, recaps
