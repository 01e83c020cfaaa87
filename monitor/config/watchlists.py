"""config/watchlists/*.yaml -> Watchlists of Subjects and Cases, with every name and case
id cross-checked (a case's subjects are declared; a subject's cases exist)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from monitor.errors import Problem
from monitor.model import BUILT_IN_TYPES, DEVELOPMENT_TYPES, Case, DevelopmentType, Subject, register_type

from .schema import Document, WatchlistFile, read_document
from .values import did_you_mean

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Watchlist:
    """A named set of subjects and the cases they are part of."""

    name: str
    description: str
    subjects: tuple[Subject, ...]
    cases: tuple[Case, ...]


def yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in YAML_SUFFIXES and p.is_file())


def read_watchlists(folder: Path) -> tuple[list[Document[WatchlistFile]], list[Problem]]:
    if not folder.is_dir():
        return [], [
            Problem(
                str(folder),
                None,
                "",
                "watchlists folder not found: add at least one watchlist (*.yaml)",
            )
        ]
    files = yaml_files(folder)
    if not files:
        return [], [Problem(str(folder), None, "", "no watchlists: add at least one *.yaml file")]
    documents, problems = [], []
    for path in files:
        document, found = read_document(path, WatchlistFile)
        problems.extend(found)
        if document is not None:
            documents.append(document)
    return documents, problems


def suggest(name: str, names: Iterable[str]) -> str:
    """Did-you-mean that also catches a difference of case only."""
    names = list(names)
    for candidate in names:
        if candidate.casefold() == name.casefold():
            return f"; did you mean '{candidate}'?"
    return did_you_mean(name, names)


def build_watchlists(
    documents: list[Document[WatchlistFile]], complete: bool = True
) -> tuple[list[Watchlist], list[Problem]]:
    """Subjects and cases of every watchlist, linked both ways (Subject.cases, Case.subjects).

    When a watchlist file was refused (`complete` false), names it would have declared are
    not reported as unknown: one mistake gives one problem, not a cascade.
    """
    problems: list[Problem] = []
    watchlist_names: dict[str, str] = {}
    subject_at: dict[str, tuple[Document[WatchlistFile], int]] = {}
    case_at: dict[str, tuple[Document[WatchlistFile], int]] = {}
    alias_owner: dict[str, str] = {}

    for doc in documents:
        name = doc.model.name or Path(doc.file).stem
        if name in watchlist_names:
            problems.append(
                doc.problem(
                    ("name",), f"watchlist '{name}' is also declared in {watchlist_names[name]}"
                )
            )
        watchlist_names.setdefault(name, doc.file)
        for i, subject in enumerate(doc.model.subjects):
            if subject.name in subject_at:
                other = subject_at[subject.name][0].file
                problems.append(
                    doc.problem(
                        ("subjects", i, "name"),
                        f"subject '{subject.name}' is already declared in {other}",
                    )
                )
                continue
            subject_at[subject.name] = (doc, i)
            for alias in _aliases(subject.name, subject.aliases):
                owner = alias_owner.setdefault(alias.casefold(), subject.name)
                if owner != subject.name:
                    loc = (
                        ("subjects", i, "aliases", subject.aliases.index(alias))
                        if alias in subject.aliases
                        else ("subjects", i, "name")
                    )
                    problems.append(
                        doc.problem(
                            loc,
                            f"alias '{alias}' also names '{owner}': an entry could not tell them apart",
                        )
                    )
        for i, case in enumerate(doc.model.cases):
            if case.id in case_at:
                problems.append(
                    doc.problem(
                        ("cases", i, "id"),
                        f"case '{case.id}' is already declared in {case_at[case.id][0].file}",
                    )
                )
                continue
            case_at[case.id] = (doc, i)

    # Membership is declared on either side; both sides must name something declared.
    members: dict[str, list[str]] = {case_id: [] for case_id in case_at}
    for case_id, (doc, i) in case_at.items():
        for j, name in enumerate(doc.model.cases[i].subjects):
            if name not in subject_at:
                if complete:
                    problems.append(
                        doc.problem(
                            ("cases", i, "subjects", j),
                            f"unknown subject '{name}'{suggest(name, subject_at)} (subjects are declared under 'subjects:' in a watchlist)",
                        )
                    )
            elif name not in members[case_id]:
                members[case_id].append(name)
    for name, (doc, i) in subject_at.items():
        for j, case_id in enumerate(doc.model.subjects[i].cases):
            if case_id not in case_at:
                if complete:
                    problems.append(
                        doc.problem(
                            ("subjects", i, "cases", j),
                            f"unknown case '{case_id}'{suggest(case_id, case_at)} (no watchlist declares it)",
                        )
                    )
            elif name not in members[case_id]:
                members[case_id].append(name)
    for case_id, (doc, i) in case_at.items():
        if not members[case_id] and complete:
            problems.append(
                doc.problem(
                    ("cases", i),
                    f"case '{case_id}' has no subjects: list them in its 'subjects' or in a subject's 'cases'",
                )
            )

    watchlists = []
    for doc in documents:
        name = doc.model.name or Path(doc.file).stem
        subjects = tuple(
            Subject(
                name=s.name,
                kind=s.kind,
                role=s.role,
                aliases=_aliases(s.name, s.aliases),
                short_forms=tuple(dict.fromkeys(s.short_forms)),
                exclusions=tuple(dict.fromkeys(s.exclusions)),
                # The subject's own order first: its first case is its main one.
                cases=tuple(dict.fromkeys(
                    [c for c in s.cases if s.name in members.get(c, ())]
                    + [c for c, names in members.items() if s.name in names]
                )),
                watchlist=name,
            )
            for s in doc.model.subjects
            if subject_at.get(s.name, (None,))[0] is doc
        )
        cases = tuple(
            Case(id=c.id, title=c.title, subjects=tuple(members[c.id]), keywords=tuple(c.keywords))
            for c in doc.model.cases
            if case_at.get(c.id, (None,))[0] is doc
        )
        watchlists.append(Watchlist(name, doc.model.description, subjects, cases))
    return watchlists, problems


def _aliases(name: str, aliases: Iterable[str]) -> tuple[str, ...]:
    """The canonical name first, then the declared aliases, without repeats."""
    return tuple(dict.fromkeys([name, *aliases]))


def with_cases(watchlist: Watchlist, cases: dict[str, Case]) -> Watchlist:
    """The watchlist with its cases replaced by their merged (baseline) versions."""
    return replace(watchlist, cases=tuple(cases[c.id] for c in watchlist.cases))


def register_watchlist_types(documents: list[Document[WatchlistFile]]) -> list[Problem]:
    """Join each watchlist's own development types to the vocabulary, before the baseline
    (which may use them) is read. A type may not redefine a built-in one."""
    problems: list[Problem] = []
    for doc in documents:
        for i, declared in enumerate(doc.model.types):
            if declared.id in BUILT_IN_TYPES:
                problems.append(doc.problem(("types", i, "id"), f"'{declared.id}' is already a development type"))
                continue
            if declared.after is not None and declared.after not in DEVELOPMENT_TYPES:
                problems.append(doc.problem(
                    ("types", i, "after"),
                    f"unknown development type '{declared.after}'{did_you_mean(declared.after, DEVELOPMENT_TYPES)}",
                ))
                continue
            register_type(DevelopmentType(declared.id, declared.family or declared.id, declared.words), declared.after)
    return problems
