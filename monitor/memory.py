"""The judge's memory: a Judge that knows the baseline and everything a database has seen.

Several daemons may judge against one database. Each keeps a Judge in memory, and before
it judges, under the judge lock of the judging transaction, it reads what the others
stored since it last looked (`catch_up`): the developments and story fingerprints added,
or everything again when another daemon replaced a first report. So every verdict is
decided against the whole database, whichever daemon saw an entry first.

The judge and the store never import each other; this composer reads one and builds the other.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine

from monitor.judge.verdict import Judge
from monitor.model import Case, Subject
from monitor.store.judgements import MemoryMarks, StoredStory, load_known_events, memory_marks, recent_stories

__all__ = ["MemoryMarks", "catch_up", "load_judge", "mark"]


def load_judge(engine: Engine, subjects: Iterable[Subject], cases: dict[str, Case], languages: Iterable[Path] = ()) -> Judge:
    """A Judge that knows the baseline and everything this database has seen."""
    judge = Judge(subjects, cases, load_known_events(engine), languages)
    _remember(judge, recent_stories(engine))
    return judge


def _remember(judge: Judge, stories: Iterable[StoredStory]) -> None:
    today = datetime.now(UTC).date()
    for story in stories:
        day = story.published.date() if story.published else today
        judge.remember_story(story.entry_key, story.root_key, story.people, day, story.title, story.summary)


def catch_up(conn: Connection, judge: Judge, marks: MemoryMarks | None) -> MemoryMarks:
    """Bring `judge` up to what the database holds; call under the judge lock (in the
    transaction that will store its verdicts). `marks` is where it last read (None: never
    under the lock, so everything is read again). Returns the new marks."""
    now = memory_marks(conn)
    if marks is not None and now.version == marks.version:
        return marks  # nobody wrote since
    if marks is None or now.reroots != marks.reroots or now.development < marks.development:
        judge.reset_memory(load_known_events(conn))
        _remember(judge, recent_stories(conn))
        return now
    judge.learn(load_known_events(conn, after_development=marks.development))
    _remember(judge, recent_stories(conn, after_entry=marks.entry))
    return now


def mark(conn: Connection) -> MemoryMarks:
    """Where the database stands after this daemon's own write: its Judge already holds it."""
    return memory_marks(conn)
