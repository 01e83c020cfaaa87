"""Find the watched subjects and case keywords an entry names, with one automaton for all.

Every alias, short form, exclusion and case keyword of every watchlist goes into a single
Aho-Corasick automaton, so a watchlist of thousands of names costs about what ten cost
(PERFORMANCE.md: 91-115 MB/s whatever the size, against 0.007 MB/s for a regex per name).
Boundaries are checked after the fact, by the rule of the script on each side of the hit
(scripts.py): in scripts with spaces a hit must not touch a letter or digit of such a
script; in scripts without (Han, kana, Thai, Lao, Tibetan, Myanmar, Khmer) it may sit
inside running text but must not cut a cluster in two.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import ahocorasick

from monitor.judge.scripts import ends_clean, starts_clean
from monitor.judge.textnorm import normalize
from monitor.model import Case, Entry, Mention, Subject

FIELDS = ("title", "summary", "content")

_ALIAS, _SHORT, _EXCLUSION, _KEYWORD = "alias", "short", "exclusion", "keyword"


@dataclass(frozen=True)
class KeywordHit:
    """A case keyword found in an entry."""

    case: str
    keyword: str
    field: str
    start: int
    end: int


@dataclass(frozen=True)
class MatchResult:
    """The normalised text of an entry and everything the watchlists found in it."""

    fields: dict[str, str]
    mentions: tuple[Mention, ...]
    keywords: tuple[KeywordHit, ...]
    people: tuple[str, ...]  # watched subjects (role "subject"), in order of first mention
    others: tuple[str, ...]  # officials, lawyers, rights workers named

    @property
    def names_subject(self) -> bool:
        return bool(self.people)


@dataclass(frozen=True)
class _Pattern:
    kind: str
    target: str  # subject name or case id
    original: str  # the alias as the watchlist spells it, for `why`


class Matcher:
    """Built once per config; `match` is then a pure function of the entry."""

    def __init__(self, subjects: Iterable[Subject], cases: Iterable[Case]) -> None:
        self.subjects = {s.name: s for s in subjects}
        self._automaton = ahocorasick.Automaton()
        table: dict[str, list[_Pattern]] = {}

        def add(text: str, pattern: _Pattern) -> None:
            # A Tibetan name often closes on a tsheg ("བླ་མ་") that the text may replace
            # with a shad or a space: the name is the syllables, without it.
            key = normalize(text).strip().rstrip("\u0f0b")
            if key:
                table.setdefault(key, []).append(pattern)

        for subject in self.subjects.values():
            for alias in (subject.name, *subject.aliases):
                add(alias, _Pattern(_ALIAS, subject.name, alias))
            for short in subject.short_forms:
                add(short, _Pattern(_SHORT, subject.name, short))
            for phrase in subject.exclusions:
                add(phrase, _Pattern(_EXCLUSION, subject.name, phrase))
        for case in cases:
            for keyword in case.keywords:
                add(keyword, _Pattern(_KEYWORD, case.id, keyword))
        for key, patterns in table.items():
            self._automaton.add_word(key, (len(key), tuple(patterns)))
        if table:
            self._automaton.make_automaton()
        self._empty = not table

    def match(self, entry: Entry) -> MatchResult:
        fields = {name: normalize(getattr(entry, name)) for name in FIELDS}
        full: list[Mention] = []
        short: list[Mention] = []
        keywords: list[KeywordHit] = []
        exclusions: dict[str, list[tuple[str, int, int]]] = {}
        for name, text in fields.items():
            if not text or self._empty:
                continue
            for end_index, (length, patterns) in self._automaton.iter(text):
                start, end = end_index + 1 - length, end_index + 1
                if not _on_boundary(text, start, end):
                    continue
                for p in patterns:
                    if p.kind == _EXCLUSION:
                        exclusions.setdefault(p.target, []).append((name, start, end))
                    elif p.kind == _KEYWORD:
                        keywords.append(KeywordHit(p.target, p.original, name, start, end))
                    else:
                        hit = Mention(p.target, p.original, name, start, end)
                        (full if p.kind == _ALIAS else short).append(hit)

        def excluded(m: Mention) -> bool:
            return any(
                f == m.field and s <= m.start and m.end <= e
                for f, s, e in exclusions.get(m.subject, ())
            )

        mentions = [m for m in full if not excluded(m)]
        named = {m.subject for m in mentions}
        # A short form ("Sokha") counts only where the full name is in the same entry.
        mentions += [m for m in short if m.subject in named and not excluded(m)]
        mentions.sort(key=lambda m: (FIELDS.index(m.field), m.start))
        people: list[str] = []
        others: list[str] = []
        for m in mentions:
            subject = self.subjects[m.subject]
            bucket = people if subject.is_watched else others
            if m.subject not in bucket:
                bucket.append(m.subject)
        return MatchResult(fields, tuple(mentions), tuple(keywords), tuple(people), tuple(others))


def _on_boundary(text: str, start: int, end: int) -> bool:
    """True when text[start:end] is a whole word, or a whole run of clusters in a script
    written without spaces."""
    return starts_clean(text, start) and ends_clean(text, end)
