"""baseline/: the sources (sources.yaml) and the known events of each case (cases/*.yaml),
merged into the watchlists' cases; every source id, subject and case id cross-checked."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from monitor.errors import Problem
from monitor.model import Case, KnownEvent, Source

from .schema import BaselineCaseFile, Document, SourcesFile, read_document
from .watchlists import suggest, yaml_files

SOURCES_FILE = "sources.yaml"
CASES_FOLDER = "cases"


@dataclass(frozen=True)
class BaselineDocuments:
    sources: Document[SourcesFile] | None
    cases: tuple[Document[BaselineCaseFile], ...]
    sources_valid: bool = True  # false: sources.yaml was refused, so ids cannot be checked


def read_baseline(baseline_dir: Path) -> tuple[BaselineDocuments, list[Problem]]:
    problems: list[Problem] = []
    if not baseline_dir.is_dir():
        return BaselineDocuments(None, (), False), [
            Problem(str(baseline_dir), None, "", "baseline directory not found")
        ]
    sources = None
    if (baseline_dir / SOURCES_FILE).is_file():
        sources, problems = read_document(baseline_dir / SOURCES_FILE, SourcesFile)
    sources_valid = not problems
    cases = []
    folder = baseline_dir / CASES_FOLDER
    for path in yaml_files(folder) if folder.is_dir() else []:
        document, found = read_document(path, BaselineCaseFile)
        problems.extend(found)
        if document is not None:
            cases.append(document)
    return BaselineDocuments(sources, tuple(cases), sources_valid), problems


def merge_baseline(
    documents: BaselineDocuments, cases: dict[str, Case], subjects: set[str], complete: bool = True
) -> tuple[dict[str, Case], list[Problem]]:
    """`cases` (from the watchlists) with status and known events from the baseline.

    `complete` false (a watchlist was refused): unknown case ids and subject names are not
    reported, as the refused file may declare them.
    """
    problems: list[Problem] = []
    sources: dict[str, Source] = {}
    if documents.sources is not None:
        doc = documents.sources
        for i, s in enumerate(doc.model.sources):
            if s.id in sources:
                problems.append(
                    doc.problem(("sources", i, "id"), f"source '{s.id}' is declared twice")
                )
                continue
            sources[s.id] = Source(
                outlet=s.outlet,
                title=s.title,
                date=s.date.value if s.date is not None else None,
                link=s.url or s.file,
            )
    sources_file = documents.sources.file if documents.sources else SOURCES_FILE

    merged = dict(cases)
    seen: dict[str, str] = {}
    for case_doc in documents.cases:
        model = case_doc.model
        if model.id not in cases:
            if complete:
                problems.append(
                    case_doc.problem(
                        ("id",),
                        f"case '{model.id}' is not declared in any watchlist{suggest(model.id, cases)}",
                    )
                )
            continue
        if model.id in seen:
            problems.append(
                case_doc.problem(
                    ("id",), f"case '{model.id}' already has a baseline in {seen[model.id]}"
                )
            )
            continue
        seen[model.id] = case_doc.file
        for j, name in enumerate(model.subjects):
            if name not in subjects and complete:
                problems.append(
                    case_doc.problem(
                        ("subjects", j), f"unknown subject '{name}'{suggest(name, subjects)}"
                    )
                )
        case = cases[model.id]
        events = []
        for i, event in enumerate(model.events):
            for j, name in enumerate(event.subjects or ()):
                if name not in subjects and complete:
                    problems.append(
                        case_doc.problem(
                            ("events", i, "subjects", j),
                            f"unknown subject '{name}'{suggest(name, subjects)}",
                        )
                    )
            for j, source_id in enumerate(event.sources):
                if source_id not in sources and documents.sources_valid:
                    problems.append(
                        case_doc.problem(
                            ("events", i, "sources", j),
                            f"unknown source '{source_id}'{suggest(source_id, sources)} (sources are declared in {sources_file})",
                        )
                    )
            events.append(
                KnownEvent(
                    case=model.id,
                    type=event.type,
                    date=event.date,
                    summary=event.summary,
                    subjects=tuple(event.subjects) if event.subjects is not None else case.subjects,
                    sources=tuple(sources[s] for s in event.sources if s in sources),
                )
            )
        events.sort(key=lambda e: e.date.value)  # stable: same-day events keep file order
        merged[model.id] = replace(case, status=model.status, events=tuple(events))
    return merged, problems
