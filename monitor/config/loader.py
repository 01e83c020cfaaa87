"""load_config: every file of config/ and baseline/ read, validated and cross-checked,
with every problem reported at once in one ConfigError."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from monitor.errors import ConfigError, Problem
from monitor.model import Case, Subject, Subscriber

from .baseline import merge_baseline, read_baseline
from .feeds import FeedConfig, load_feeds
from .settings import Settings, read_settings
from .subscribers_file import SUBSCRIBERS_FILE, read_subscribers
from .watchlists import (
    Watchlist,
    build_watchlists,
    read_watchlists,
    register_watchlist_types,
    suggest,
    with_cases,
)

WATCHLISTS_FOLDER = "watchlists"


@dataclass(frozen=True)
class Config:
    """Everything the monitor is told: settings, what to watch, where, and for whom."""

    config_dir: Path
    baseline_dir: Path
    settings: Settings
    watchlists: tuple[Watchlist, ...]
    feeds: tuple[FeedConfig, ...]
    subscribers: tuple[Subscriber, ...]
    subjects: tuple[Subject, ...]  # of all watchlists; a name is declared once
    cases: Mapping[str, Case]  # id -> case with the baseline's status and known events

    @property
    def language_dirs(self) -> tuple[Path, ...]:
        """Where a user adds or overrides language packs (config/languages/*.yaml)."""
        return (self.config_dir / "languages",)

    def subject(self, name: str) -> Subject:
        return next(s for s in self.subjects if s.name == name)


def load_config(
    config_dir: Path, baseline_dir: Path, env: Mapping[str, str] | None = None
) -> Config:
    """Read and check config/ and baseline/; ConfigError lists every problem found."""
    config_dir, baseline_dir = Path(config_dir), Path(baseline_dir)
    problems: list[Problem] = []

    if not config_dir.is_dir():
        problems.append(Problem(str(config_dir), None, "", "config directory not found"))
    settings, found = read_settings(config_dir, env)
    problems += found

    watchlists: list[Watchlist] = []
    complete = False  # every watchlist read: only then is an undeclared name a mistake
    if config_dir.is_dir():
        documents, found = read_watchlists(config_dir / WATCHLISTS_FOLDER)
        problems += found
        complete = not found
        problems += register_watchlist_types(documents)
        watchlists, found = build_watchlists(documents, complete)
        problems += found
    subjects = tuple(s for w in watchlists for s in w.subjects)
    cases = {c.id: c for w in watchlists for c in w.cases}

    baseline, found = read_baseline(baseline_dir)
    problems += found
    cases, found = merge_baseline(baseline, cases, {s.name for s in subjects}, complete)
    problems += found

    feeds, found = load_feeds(config_dir, settings)
    problems += found

    subscriber_doc, subscribers, found = read_subscribers(config_dir / SUBSCRIBERS_FILE)
    problems += found
    if subscriber_doc is not None and complete:
        problems += _check_subscribers(subscriber_doc, watchlists)

    if problems or settings is None:
        raise ConfigError(sorted(problems, key=lambda p: (p.file, p.line or 0)))
    return Config(
        config_dir=config_dir,
        baseline_dir=baseline_dir,
        settings=settings,
        watchlists=tuple(with_cases(w, cases) for w in watchlists),
        feeds=tuple(feeds),
        subscribers=tuple(subscribers),
        subjects=subjects,
        cases=MappingProxyType(cases),
    )


def _check_subscribers(doc, watchlists: list[Watchlist]) -> list[Problem]:
    """Watchlists and cases a subscriber names exist; chosen cases lie in chosen watchlists."""
    problems = []
    by_name = {w.name: w for w in watchlists}
    case_home = {c.id: w.name for w in watchlists for c in w.cases}
    for i, s in enumerate(doc.model.subscribers):
        for j, name in enumerate(s.watchlists):
            if name not in by_name:
                problems.append(
                    doc.problem(
                        ("subscribers", i, "watchlists", j),
                        f"unknown watchlist '{name}'{suggest(name, by_name)}",
                    )
                )
        for j, case_id in enumerate(s.cases):
            if case_id not in case_home:
                problems.append(
                    doc.problem(
                        ("subscribers", i, "cases", j),
                        f"unknown case '{case_id}'{suggest(case_id, case_home)} (no watchlist declares it)",
                    )
                )
            elif s.watchlists and case_home[case_id] not in s.watchlists:
                problems.append(
                    doc.problem(
                        ("subscribers", i, "cases", j),
                        f"case '{case_id}' belongs to watchlist '{case_home[case_id]}', which this subscriber does not follow",
                    )
                )
    return problems
