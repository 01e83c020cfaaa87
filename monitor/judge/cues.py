"""Recognise the words of a sentence that matter to classify: event words, and the cues
that turn them into wishes, denials or recollections.

Compiled once from `lexicon` (English regular expressions, one Khmer automaton); works on
text in textnorm's normal form. Knows nothing of subjects, cases or verdicts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import ahocorasick

from monitor.judge import lexicon
from monitor.judge.dates import DateMention
from monitor.judge.textnorm import UNSPACED_CHARS, normalize
from monitor.model import precedence

# Arabic-script punctuation (، ؛ ؟) and the full stops of unspaced scripts (。 ။) break as
# their Latin counterparts do (fullwidth ，：； are folded to , : ; by NFKC).
_HARD_BREAK = re.compile(r"[;:\u2014|؛]|\s-\s")
_EDITORS_NOTE = re.compile(r"\([^()]{0,120}\)\.?")
_TITLE_BREAK = re.compile(r"[,;:\u2014|៖،؛၊]|\s-\s")
_DATE_REACH = 90  # characters: a date further from every event word dates none of them
_WINDOW = 60  # characters before a type word searched for a negation or recap cue
_UNSPACED_WINDOW = 24  # a script without spaces packs a clause into far fewer characters
_RECALL_WINDOW = 100  # "five years since Kem Sokha, president of the CNRP, was arrested"


def _phrase_automaton() -> ahocorasick.Automaton:
    """One automaton over the phrases of every language written without spaces."""
    automaton = ahocorasick.Automaton()
    phrases: dict[str, tuple[str, str]] = {}
    for type_, words in lexicon.UNSPACED_TYPES.items():
        for word in words:
            phrases.setdefault(normalize(word), ("type", type_))
    for word in lexicon.unspaced_cue("not_events"):
        phrases[normalize(word)] = ("mask", "")
    for word in lexicon.unspaced_cue("negations"):
        phrases.setdefault(normalize(word), ("negation", ""))
    for word in lexicon.unspaced_cue("recap"):
        phrases.setdefault(normalize(word), ("recap", ""))
    for word in lexicon.unspaced_cue("denials"):
        phrases.setdefault(normalize(word), ("denial", ""))
    for word in lexicon.unspaced_cue("appeals"):
        phrases[normalize(word)] = ("appeal", "")
    for word in lexicon.unspaced_cue("neutral"):
        phrases[normalize(word)] = ("neutral", "")
    for key, (kind, type_) in phrases.items():
        automaton.add_word(key, (len(key), kind, type_))
    automaton.make_automaton()
    return automaton




_DENIAL: Any = None
_SPACED_PACKS: Any = None
_SENTENCE_END: Any = None
_CLAUSE_BREAK: Any = None
_NEGATION: Any = None
_APPEALS: Any = None
_IMPERATIVE: Any = None
_SPEECH: Any = None
_RECAP: Any = None
_DISCUSSION_TITLE: Any = None
_LOOK_BACK_TITLE: Any = None
_PHRASES: Any = None


@lexicon.on_install
def _compile() -> None:
    """Compile the installed language packs into the patterns and the automaton below."""
    global _DENIAL, _SPACED_PACKS, _NEGATION, _APPEALS, _IMPERATIVE, _SPEECH, _RECAP, _DISCUSSION_TITLE, _LOOK_BACK_TITLE, _PHRASES, _SENTENCE_END, _CLAUSE_BREAK
    _DENIAL = re.compile(lexicon.spaced_cue("denials"))
    # A full stop after an abbreviation of any pack ("Mr.", "U.S.", "Jan.") or a lone letter
    # ends no sentence; the full stops of other scripts do, and so does a line break.
    not_after = "".join(f"(?<!\\b{re.escape(a)})" for a in lexicon.abbreviations())
    _SENTENCE_END = re.compile(
        not_after + r"(?<!\b[a-z])[.!?؟]+[\"')\]]*\s+|[។៕。။]+\s*|\n+"
    )
    # Punctuation breaks a clause in every script; words ("but", "while") come from the packs.
    _CLAUSE_BREAK = re.compile(r"[,;:()\u2014،؛]|\s-\s|" + lexicon.spaced_cue("clause_breaks"))
    _SPACED_PACKS = []
    for scripts, types, masks in lexicon.spaced_by_script():
        letters = "".join(lexicon.SCRIPT_LETTERS[s] for s in sorted(scripts))
        _SPACED_PACKS.append((
            re.compile(f"[{letters}]") if letters else None,
            {t: re.compile("|".join(f"(?:{p})" for p in pats)) for t, pats in types.items() if pats},
            re.compile("|".join(f"(?:{p})" for p in masks)) if masks else None,
        ))
    _NEGATION = re.compile(lexicon.spaced_cue("negations"))
    _APPEALS = re.compile(lexicon.spaced_cue("appeals"))
    _IMPERATIVE = re.compile(lexicon.spaced_cue("imperatives"))
    _SPEECH = re.compile(lexicon.spaced_cue("speech"))
    _RECAP = re.compile(lexicon.spaced_cue("recap"))
    _DISCUSSION_TITLE = re.compile(lexicon.spaced_cue("discussion_titles"))
    _LOOK_BACK_TITLE = re.compile(lexicon.spaced_cue("look_back_titles"))
    _PHRASES = _phrase_automaton()


@dataclass(frozen=True)
class Hit:
    """An event word in a sentence."""

    type: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class SentenceCues:
    """A sentence's event words and what surrounds them."""

    text: str
    hits: list[Hit]
    negations: list[int]  # Khmer cue positions
    recaps: list[int]
    masks: list[tuple[int, int]]  # phrases that only describe ("house arrest", "ផែនការវិលត្រឡប់")
    appeal: int | None = None  # where a Khmer call ("អំពាវនាវ") starts: it reaches the sentence's end

    @property
    def denies(self) -> bool:
        """"Reports of a pardon are untrue": nothing in the sentence happened."""
        return bool(_DENIAL.search(self.text)) or any(
            kind == "denial" for _, (_, kind, _) in _PHRASES.iter(self.text)
        )

    @property
    def calls(self) -> bool:
        """A call or demand anywhere in the sentence ("urges", "អំពាវនាវ")."""
        return self.appeal is not None or bool(_APPEALS.search(self.text))

    def negated(self, hit: Hit) -> bool:
        """A wish, a plan, a threat or a refusal: "called for the release of"."""
        clause = _clause_before(self.text, hit.start)
        return (
            bool(_NEGATION.search(clause))
            or (not clause.strip() and bool(_IMPERATIVE.match(self.text, hit.start)))
            or bool(_APPEALS.search(self.text, 0, hit.start))
            or (self.appeal is not None and self.appeal < hit.start)
            or any(hit.start - _UNSPACED_WINDOW <= pos < hit.start for pos in self.negations)
        )

    def recalled_in_clause(self, hit: Hit) -> bool:
        """Told as a memory within its own clause ("who was arrested", "ខ្លះនៅតែនិរទេស")."""
        return bool(_RECAP.search(_clause_before(self.text, hit.start))) or any(
            hit.start - _UNSPACED_WINDOW <= pos < hit.start for pos in self.recaps
        )

    def recalled(self, hit: Hit) -> bool:
        """Told as a memory: "who was arrested", "years after his arrest"."""
        return bool(_RECAP.search(self.text[max(0, hit.start - _RECALL_WINDOW) : hit.start])) or any(
            hit.start - _UNSPACED_WINDOW <= pos < hit.start for pos in self.recaps
        )


def read_sentence(text: str) -> SentenceCues:
    hits, negations, recaps, masks, appeal = _scan(text)
    return SentenceCues(text, hits, negations, recaps, masks, appeal)


def is_discussion(title: str) -> bool:
    """Opinion, analysis, interview: a piece that argues or talks rather than reports."""
    return bool(_DISCUSSION_TITLE.search(title))


def speaker_clause(title: str) -> str:
    """The part of a headline that names who speaks ("Chin Malin: ...", "Hun Sen says ..."),
    or "" when it is not a statement."""
    for mark in (":", "៖"):
        head, sep, _ = title.partition(mark)
        if sep and len(head) <= 60:
            return head
    m = _SPEECH.search(title)
    return title[: m.start()] if m and m.start() <= 60 else ""


def is_look_back_piece(title: str) -> bool:
    """Explainer, timeline, profile: every event in it is retold, however precisely dated."""
    return bool(_LOOK_BACK_TITLE.search(title))


def asks(title: str) -> bool:
    """"Will the court free him? Ruling due Wednesday": a headline that asks reports nothing yet."""
    return "?" in title or "؟" in title


def looks_back(title: str) -> bool:
    """A retrospective: an explainer or timeline, or a headline whose look-back cue comes
    before any event it names ("Five years after Kem Sokha's arrest"); "X cleared three
    years after arrest" is news."""
    if not title:
        return False
    if is_look_back_piece(title):
        return True
    cues = [m.start() for m in _RECAP.finditer(title)]
    cues += [end + 1 - length for end, (length, kind, _) in _PHRASES.iter(title) if kind == "recap"]
    if not cues:
        return False
    # The cue covers its own clause: in "Seven years after Kem Ley's killing, a memorial
    # ends in an arrest" the arrest, after the comma, is the news.
    first = min(cues)
    brk = _TITLE_BREAK.search(title, first)
    scope_end = brk.start() if brk else len(title)
    headline = read_sentence(title)
    return all(
        first < hit.start < scope_end
        for hit in headline.hits
        if not headline.negated(hit) and not headline.recalled_in_clause(hit)
    )


def assign_dates(text: str, hits: list[Hit], dates: list[DateMention],
                 masks: list[tuple[int, int]] = ()) -> dict[Hit, DateMention]:  # type: ignore[assignment]
    """Give each date to the type word nearest to it in the same clause, and each type word
    the nearest date it was given: in "convicts 51 over the aborted 2019 homecoming" the
    year belongs to the homecoming, not to the verdict."""
    given: dict[Hit, list[tuple[int, DateMention]]] = {}
    for d in dates:
        if d.since or d.reported:
            continue  # "held since 2019": a span's start, not when this event happened
        if any(e <= d.start <= e + 3 or s <= d.start < e for s, e in masks):
            continue  # "the 2019 return plan": the date of what the phrase describes
        best, best_distance = None, 10**9
        for hit in hits:
            lo, hi = (hit.end, d.start) if d.start >= hit.end else (d.end, hit.start)
            if lo < hi and _HARD_BREAK.search(text, lo, hi):
                continue
            if hi - lo > _DATE_REACH:
                continue
            distance = max(0, hi - lo) * (1 if d.start >= hit.end else 2)  # dates usually follow
            if distance < best_distance:
                best, best_distance = hit, distance
        if best is not None:
            given.setdefault(best, []).append((best_distance, d))
    return {hit: min(options, key=lambda o: o[0])[1] for hit, options in given.items()}


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans, without wire editors' notes such as "(Adds reaction)"."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        if m.start() > start:
            spans.append((start, m.start()))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return [(a, b) for a, b in spans if not _EDITORS_NOTE.fullmatch(text[a:b].strip())]


def _clause_before(text: str, position: int) -> str:
    window = text[max(0, position - _WINDOW) : position]
    breaks = list(_CLAUSE_BREAK.finditer(window))
    return window[breaks[-1].end() :] if breaks else window


def _find_hits(text: str) -> tuple[list[Hit], list[int], list[int]]:
    hits, negations, recaps, _masks, _appeal = _scan(text)
    return hits, negations, recaps


def _scan(text: str) -> tuple[list[Hit], list[int], list[int], list[tuple[int, int]], int | None]:
    """Type words of the sentence (longest wins where they overlap), negation and recap cues."""
    raw: list[Hit] = []
    masks: list[tuple[int, int]] = []
    negations: list[int] = []
    recaps: list[int] = []
    neutral: list[tuple[int, int]] = []
    appeals: list[int] = []
    for script, types, not_events in _SPACED_PACKS:  # each spaced pack, if its script is here
        if script is not None and not script.search(text):
            continue
        if not_events is not None:
            masks += [m.span() for m in not_events.finditer(text)]
        for type_, pattern in types.items():
            for m in pattern.finditer(text):
                raw.append(Hit(type_, m.start(), m.end(), m.group(0)))
    if UNSPACED_CHARS.search(text):
        for end_index, (length, kind, type_) in _PHRASES.iter(text):
            start, end = end_index + 1 - length, end_index + 1
            if kind == "type":
                raw.append(Hit(type_, start, end, text[start:end]))
            elif kind == "mask":
                masks.append((start, end))
            elif kind == "negation":
                negations.append(start)
            elif kind == "recap":
                recaps.append(start)
            elif kind == "neutral":
                neutral.append((start, end))
            elif kind == "appeal":
                appeals.append(start)
    # "ជនមិនស្គាល់មុខ" (unknown men): a "not" that negates nothing.
    negations = [p for p in negations if not any(s <= p < e for s, e in neutral)]

    raw = [h for h in raw if not any(s <= h.start and h.end <= e for s, e in masks)]
    # "upheld the conviction", "តម្កល់ទោសដាក់ពន្ធនាគារ": the verdict is what the ruling upheld.
    rulings = [h for h in raw if h.type == "appeal_ruling"]
    raw = [
        h for h in raw
        if not (h.type == "conviction" and any(0 <= h.start - r.end <= 16 for r in rulings))
    ]
    # "convicts 14 democrats, acquits two": a mixed verdict is a conviction; the acquittals
    # are its minority part, never the development a digest should state.
    if any(h.type == "conviction" for h in raw):
        raw = [h for h in raw if h.type != "acquittal"]
    raw.sort(key=lambda h: (-(h.end - h.start), precedence(h.type)))
    kept: list[Hit] = []
    for hit in raw:
        if not any(hit.start < k.end and k.start < hit.end for k in kept):
            kept.append(hit)
    kept.sort(key=lambda h: h.start)
    return kept, negations, recaps, masks, min(appeals) if appeals else None
