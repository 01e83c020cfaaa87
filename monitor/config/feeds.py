"""config/feeds.yaml -> FeedConfigs: unique names and URLs, intervals within the settings'
bounds. A feed without an interval gets default_interval here, so after loading every
FeedConfig has one and no caller needs a fallback."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from monitor.errors import Problem

from .schema import FeedsFile, read_document
from .settings import Settings
from .values import format_interval, primary_language
from .yamlfile import line_of

FEEDS_FILE = "feeds.yaml"
NO_LANGUAGE_PACK = "has no language pack: entries in it are matched by name but no development can be read from them"


@dataclass(frozen=True)
class FeedConfig:
    """One feed to poll, as declared in feeds.yaml."""

    name: str
    url: str
    language: str | None = None
    interval: timedelta = field(kw_only=True)  # its own, or default_interval
    enabled: bool = True
    tags: tuple[str, ...] = ()
    line: int | None = None  # where declared in feeds.yaml


def load_feeds(
    config_dir: Path, settings: Settings | None
) -> tuple[list[FeedConfig], list[Problem]]:
    path = config_dir / FEEDS_FILE
    if not path.is_file():
        return [], []
    doc, problems = read_document(path, FeedsFile)
    if doc is None:
        return [], problems
    feeds: list[FeedConfig] = []
    names: dict[str, int] = {}
    urls: dict[str, int] = {}
    for i, feed in enumerate(doc.model.feeds):
        line = line_of(doc.root, ("feeds", i))
        if feed.name.casefold() in names:
            problems.append(
                doc.problem(
                    ("feeds", i, "name"),
                    f"duplicate feed name '{feed.name}' (first declared on line {names[feed.name.casefold()]})",
                )
            )
            continue
        names[feed.name.casefold()] = line or 0
        if feed.url in urls:
            problems.append(
                doc.problem(
                    ("feeds", i, "url"),
                    f"duplicate feed URL (first declared on line {urls[feed.url]})",
                )
            )
            continue
        urls[feed.url] = line or 0
        if settings is None:
            continue  # settings refused (reported there): no default interval, no Config
        interval = feed.interval
        if interval is None:
            interval = settings.default_interval  # _check keeps it within the bounds
        elif not settings.min_interval <= interval <= settings.max_interval:
            problems.append(
                doc.problem(
                    ("feeds", i, "interval"),
                    (
                        f"interval {format_interval(interval)} is outside min_interval "
                        f"({format_interval(settings.min_interval)}) .. max_interval "
                        f"({format_interval(settings.max_interval)}) of settings.yaml"
                    ),
                )
            )
        feeds.append(
            FeedConfig(
                name=feed.name,
                url=feed.url,
                language=feed.language,
                interval=interval,
                enabled=feed.enabled,
                tags=tuple(feed.tags),
                line=line,
            )
        )
    return feeds, problems


def language_warnings(
    config_dir: Path, feeds: Iterable[FeedConfig], languages: Collection[str]
) -> list[Problem]:
    """A warning for each feed whose `language` is not among `languages` (the ones the
    judgement has words for, which the caller knows and config does not)."""
    file = str(Path(config_dir) / FEEDS_FILE)
    return [
        Problem(
            file,
            feed.line,
            "",
            f"feed '{feed.name}': language '{feed.language}' {NO_LANGUAGE_PACK}",
            severity="warning",
        )
        for feed in feeds
        if feed.language and primary_language(feed.language) not in languages
    ]
