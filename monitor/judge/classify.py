"""Say which developments an entry reports, in which case, and when they happened.

Works sentence by sentence on the normalised text that match produced: a development is a
type word (lexicon) that is not a wish, a threat or a denial, in a sentence that names a
watched subject (or follows a title that does), dated by the nearest date expression and
otherwise by the entry's publication day. A sentence that recalls the past ("who was
arrested in 2017", "five years after") yields a background candidate, never news.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from monitor.judge.cues import (
    Hit,
    asks,
    assign_dates,
    is_discussion,
    is_look_back_piece,
    looks_back,
    read_sentence,
    sentences,
    speaker_clause,
)
from monitor.judge.dates import DateMention, find_dates, period_end
from monitor.judge.match import MatchResult
from monitor.model import Case, Development, EventDate, Precision, Subject, precedence

# Sentences after this many in summary+content are background far more often than news.
MAX_SENTENCES = 8
# An event dated longer ago than this before publication is a recap, not the day's news.
NEWS_WINDOW = timedelta(days=30)
ANNIVERSARY_REACH = timedelta(days=3)  # a look-back piece marks its anniversary on the day or just after
# Types whose sentences name the day of the next step ("adjourned to 9 May", "remand
# extended until March"): such a day is not when the development happened.
_DATED_BY_TARGET = frozenset({"trial_scheduled", "trial_adjourned", "detention_extended"})

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
            precedence(self.development.type),
        )


@dataclass
class Reading:
    """What classify made of an entry: its candidates, and how the piece is told."""

    candidates: list[Candidate] = field(default_factory=list)
    retrospective: bool = False  # the title looks back: "five years after", "anniversary"
    look_back_piece: bool = False  # an explainer or timeline: nothing in it is news
    discussion: bool = False  # explainer, opinion, interview, timeline
    forward_looking: bool = False  # wishes, plans, schedules, denials: nothing happened yet
    title_outlook: bool = False  # the headline itself only looks ahead

    @property
    def news(self) -> list[Candidate]:
        return [c for c in self.candidates if c.is_news]


class Classifier:
    """Built once per config (cases and subjects); `classify` is then pure."""

    def __init__(self, subjects: Mapping[str, Subject], cases: Mapping[str, Case]) -> None:
        self.subjects = subjects
        self.cases = cases
        # Someone whose death is known is not arrested, charged or freed: in "police detain
        # an activist at the memorial for slain critic Kem Ley" the arrest is another's.
        self.dead = frozenset(
            person for case in cases.values() for event in case.events if event.type == "death"
            for person in (event.subjects or case.subjects)
        )

    def classify(self, match: MatchResult, published: date, *, max_sentences: int | None = MAX_SENTENCES) -> Reading:
        """Every development candidate in the entry, most important first, and its tone.

        A feed entry is read to its eighth body sentence; `max_sentences=None` reads a whole
        document (a baseline draft), where most events are background and are kept as such.
        """
        reading = Reading()
        if not match.people:
            return reading
        # A teaser summary ("[…]") with the story in the content: the content is the body.
        summary, content = match.fields["summary"], match.fields["content"]
        body_field = "content" if len(content) > len(summary) else "summary"
        if not match.fields[body_field]:
            body_field = "summary" if summary else "content"
        body = match.fields[body_field]
        body_sentences = sentences(body)[:max_sentences] if body else []
        lead_people = self._people_in(match, body_field, *body_sentences[0]) if body_sentences else ()
        title = match.fields["title"]
        title_people = self._people_in(match, "title", 0, len(title))
        reading.retrospective = looks_back(title)
        reading.look_back_piece = is_look_back_piece(title)
        reading.discussion = is_discussion(title) or self._official_speaks(match, title)
        headline = read_sentence(title)
        if headline.denies:
            reading.forward_looking = True  # "reports of a pardon are false": nothing happened
            return reading
        if asks(title):
            # "Will the court free him?": whatever the piece says is an outlook.
            reading.forward_looking = reading.title_outlook = True
        elif not reading.discussion:
            self._sentence(
                reading, match, "title", 0, 0, len(title), published,
                # A headline without a name ("Cambodia bars Candlelight Party") is about the
                # lead's people, or an organisation named further down; never a person
                # mentioned in passing.
                title_people or lead_people or tuple(p for p in match.people if self.subjects[p].kind != "person"),
            )
            # A headline about what will or may happen ("ban to expire next week") makes the
            # lead's undated events part of that outlook, not news.
            reading.title_outlook = headline.calls or (
                bool(headline.hits) and reading.forward_looking
                and not any(c.field == "title" for c in reading.candidates)
            )
        told: DateMention | None = None  # the last day the body named, for the sentences after it
        for index, (start, end) in enumerate(body_sentences):
            # "On Friday the court found him guilty": a sentence that names nobody is about
            # the people of the headline (or of the lead).
            fallback = title_people or (lead_people if index else ())
            told = self._sentence(reading, match, body_field, index, start, end, published, fallback, told)
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
        told: DateMention | None = None,
    ) -> DateMention | None:
        """Add the sentence's candidates; returns the latest day it names (or `told`)."""
        text = match.fields[field][start:end]
        found = find_dates(text, published)
        recent = [d for d in found if d.value.precision is Precision.DAY and not d.weak and not d.since
                  and published - NEWS_WINDOW <= d.value.value <= published + timedelta(days=1)]
        told = recent[-1] if recent else told
        # A name is no cue: "Can" (Turkish name, English "can") negates nothing in "Can Atalay
        # tahliye edildi". Names are hidden, offsets kept, before the cues are read.
        names = [(m.start - start, m.end - start) for m in match.mentions
                 if m.field == field and start <= m.start and m.end <= end]
        cues = read_sentence(_names_hidden(text, names) if names else text)
        if not cues.hits:
            return told
        people = self._people_in(match, field, start, end) or fallback_people
        if not people:
            return told
        if cues.denies:
            reading.forward_looking = True
            return told
        dates = assign_dates(text, cues.hits, found, cues.masks)
        lead = field == "title" or index == 0
        living = tuple(p for p in people if p not in self.dead) or tuple(
            p for p in (*fallback_people, *match.people) if p not in self.dead
        )
        for hit in cues.hits:
            if cues.negated(hit):
                reading.forward_looking = True
                continue
            when = dates.get(hit)
            if when is not None and _names_next_step(hit, when, published):
                when = None
            if when is not None and when.value.value > published + timedelta(days=1):
                reading.forward_looking = True  # scheduled: "to hear the appeal next Tuesday"
                continue
            recap = cues.recalled(hit)
            concerned = people if hit.type == "death" or not living else living
            case = self._case_for(match, concerned, field, start, end)
            if case is None:
                continue
            if when is not None:
                event_date, dated, date_text = when.value, True, when.text
                # A look-back piece's "today" only says when it was written.
                # ("Today, 16 November, marks seven years since ...": the day of writing.)
                # A day without its year, days before publication, is the anniversary the
                # piece marks ("arrested on July 29"); a week back it is what it restates.
                loose = (
                    when.weak or event_date.precision is not Precision.DAY or event_date.value == published
                    or (when.yearless and published - event_date.value <= ANNIVERSARY_REACH)
                )
                background = (
                    (reading.retrospective and loose) or reading.discussion or reading.look_back_piece
                    or period_end(event_date) < published - NEWS_WINDOW
                )
            elif not lead and told is not None and not recap and not reading.retrospective:
                # "The list grew on Wednesday. The court found him guilty ...": the day the
                # story is about carries to the sentences that tell it.
                event_date, dated, date_text = told.value, False, told.text
                background = reading.title_outlook or reading.discussion
            else:
                event_date, dated, date_text = EventDate(published), False, ""
                # An undated event after the lead is as likely background as news.
                background = recap or reading.retrospective or reading.title_outlook or reading.discussion or not lead
            members = set(self.cases[case].subjects) if case in self.cases else set()
            involved = tuple(p for p in concerned if p in members) or tuple(
                p for p in match.people if p in members
            ) or concerned
            development = Development(
                case=case, type=hit.type, date=event_date, subjects=involved,
                evidence=text[hit.start : hit.end], background=background,
            )
            reading.candidates.append(Candidate(development, field, index, dated, date_text))
        return told

    def _official_speaks(self, match: MatchResult, title: str) -> bool:
        """"Hun Manet says Sam Rainsy can come home": an official's statement is a mention."""
        head = speaker_clause(title)
        if not head:
            return False
        named = {m.subject for m in match.mentions if m.field == "title" and m.end <= len(head)}
        return bool(named) and all(not self.subjects[n].is_watched for n in named if n in self.subjects)

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
        elsewhere: dict[str, int] = {}
        for hit in match.keywords:
            in_sentence = hit.field == field and start <= hit.start < end
            hit_case = self.cases.get(hit.case)
            if hit.case not in scores and in_sentence and hit_case is not None and any(
                p in hit_case.subjects and self.subjects[p].kind == "person" and p not in self.dead
                for p in match.people
                if p in self.subjects
            ):
                # "cleared three years after his Kem Ley memorial arrest": the sentence's words
                # name another case of someone the entry is about.
                scores[hit.case] = 0.0
                order.setdefault(hit.case, len(order))
            if hit.case in scores:
                if in_sentence:
                    scores[hit.case] += 2.0
                elif elsewhere.get(hit.case, 0) < 2:  # the rest of the entry only tips a balance
                    elsewhere[hit.case] = elsewhere.get(hit.case, 0) + 1
                    scores[hit.case] += 0.2
        if not scores:
            return None
        return max(scores, key=lambda c: (scores[c], -order[c]))


def _names_next_step(hit: Hit, when: DateMention, published: date) -> bool:
    """"Trial set for 3 June", "adjourned to July", "9 Mayıs'a ertelendi": the day named with
    a scheduling word is the next hearing's, and the setting is the news, told on the day of
    publication. A day of the past week ("set the date yesterday") is when it was set; a
    dated past day after an adjournment ("extended on 12 March 2022") is when it happened."""
    if hit.type not in _DATED_BY_TARGET:
        return False
    if published - timedelta(days=7) <= when.value.value <= published and when.value.precision is Precision.DAY:
        return False
    if hit.type == "trial_scheduled" and when.start >= hit.start:
        return True  # a year-less one may even read as past
    # A year-less day that reads as months ago is the next step's, whichever side of the
    # word it stands ("9 May" in February: this coming May).
    if when.yearless and when.value.value < published - NEWS_WINDOW:
        return True
    return when.start >= hit.start and (when.yearless or when.value.value > published)


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


def _names_hidden(text: str, spans: list[tuple[int, int]]) -> str:
    """The sentence with each named span's letters replaced by "_" (same length, same spaces)."""
    chars = list(text)
    for a, b in spans:
        for i in range(a, b):
            if not chars[i].isspace():
                chars[i] = "_"
    return "".join(chars)
