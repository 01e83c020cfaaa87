"""Whom a development happened to, and which headline a subscriber reads: no I/O.

A development in a person's case happened to that person: "Kem Sokha: convicted". In an
organisation's case it happened to someone the watchlist does not name (a former member of
the party), and in a victim's case to someone else again (the victim's killer, pardoned):
naming the watched subject there says "CNRP died" or "Kem Ley pardoned". So the names
before the type are only the living people of the watchlist that the headline itself
names; when there are none, the entry's own headline says whom ("Pardoned — Kem Ley's
killer has life term cut to 20 years"). Nothing here knows a language: names are found by
the watchlist's aliases in every script, and the rest is the headline as the outlet wrote it.
"""

from __future__ import annotations

from collections.abc import Mapping

from monitor.model import DigestDevelopment, Report, Subject


def primary_language(tag: str | None) -> str:
    """'en-GB' -> 'en'; '' when there is no tag."""
    return (tag or "").strip().replace("_", "-").split("-", 1)[0].casefold()


def headline_report(development: DigestDevelopment, language: str | None) -> Report | None:
    """The report whose title heads the development: the first report, unless it is not in
    `language` and another report with a title is (the earliest such one)."""
    if not development.reports:
        return None
    first = development.reports[0]
    wanted = primary_language(language)
    if not wanted or primary_language(first.language) == wanted:
        return first
    return next((r for r in development.reports if r.title.strip() and primary_language(r.language) == wanted), first)


def headline(development: DigestDevelopment, language: str | None) -> str:
    """The development's headline: its summary (the first report's title), or the title of
    the first source in the subscriber's `language` when the first report is in another."""
    report = headline_report(development, language)
    if report is None or report is development.reports[0] or not report.title.strip():
        return development.summary
    return report.title


def _is_word_edge(text: str, index: int) -> bool:
    """No ASCII letter or digit continues a Latin-script name across `index` ('Ley' is not in
    'Leyla'); scripts written without spaces have no such edge and always pass."""
    if index <= 0 or index >= len(text):
        return True
    return not (text[index - 1].isascii() and text[index - 1].isalnum() and text[index].isascii() and text[index].isalnum())


def names(text: str, subject: Subject) -> bool:
    """Whether `text` names `subject` by its name, an alias or a short form (case-folded)."""
    folded = text.casefold()
    for alias in (subject.name, *subject.aliases, *subject.short_forms):
        wanted = alias.strip().casefold()
        if not wanted:
            continue
        start = folded.find(wanted)
        while start >= 0:
            if _is_word_edge(folded, start) and _is_word_edge(folded, start + len(wanted)):
                return True
            start = folded.find(wanted, start + 1)
    return False


def whom(development: DigestDevelopment, title: str, subjects: Mapping[str, Subject],
         case_subjects: Mapping[str, tuple[str, ...]] | None = None) -> tuple[str, ...]:
    """The watched people a development happened to, as a subject line may name them; () when
    it happened to someone the watchlist does not name, and the headline must say whom.

    The living people of the development that `title` names; else, in a person's case (its
    subjects all living people), those people; else (). Without the watchlist's subjects (a
    sample digest), the development's living people as before.
    """
    dead = set(development.dead)
    if not subjects:
        return tuple(p for p in development.people if p not in dead)

    def living(name: str) -> bool:
        subject = subjects.get(name)
        return subject is not None and subject.kind != "organisation" and name not in dead

    named = tuple(p for p in development.people if living(p) and names(title, subjects[p]))
    if named:
        return named
    own = (case_subjects or {}).get(development.case_id) or development.people
    if own and all(living(p) for p in own):  # a person's case, whose headline names no one
        return tuple(p for p in own if p in development.people) or tuple(own)
    return ()
