"""The judge's memory: a Judge that knows the baseline and everything a database has seen.

The judge and the store never import each other; this composer reads one and builds the other.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from monitor.judge.verdict import Judge
from monitor.model import Case, Subject
from monitor.store.judgements import load_known_events, recent_stories


def load_judge(engine: Engine, subjects: Iterable[Subject], cases: dict[str, Case], languages: Iterable[Path] = ()) -> Judge:
    """A Judge that knows the baseline and everything this database has seen."""
    judge = Judge(subjects, cases, load_known_events(engine), languages)
    today = datetime.now(UTC).date()
    for story in recent_stories(engine):
        day = story.published.date() if story.published else today
        judge.remember_story(story.entry_key, story.root_key, story.people, day, story.title, story.summary)
    return judge
