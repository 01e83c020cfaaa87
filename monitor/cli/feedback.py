"""`monitor feedback export`: readers' labels in the format of the labeled streams."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

import click

from monitor.cli._common import State, open_database, reports_errors
from monitor.store import feedback

HEADER = """\
# Readers' feedback from digests (monitor feedback export), in the format of the labeled
# streams (tests/data/stream/labels.yaml), keyed by the first report's id as its feed gives
# it. A development marked "not news" is labelled known; "wrong type" keeps the case and
# leaves the type open (judged_type says what the monitor said); "wrong case" keeps the type
# and leaves the case open (judged_case). `feedback` lists who said what, when.
"""


def _q(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def write_labels(labels: Iterable[feedback.Label], out: TextIO) -> int:
    by_entry: dict[str, list[feedback.Label]] = {}
    for label in labels:
        by_entry.setdefault(label.entry_id, []).append(label)
    out.write(HEADER + "entries:\n" if by_entry else HEADER + "entries: {}\n")
    for entry_id, items in by_entry.items():
        first = items[0]
        said = {i.label for i in items}
        published = first.published.isoformat() if first.published else "?"
        out.write(f"  # [{first.feed} {published}] {' '.join(first.title.split())}\n")
        out.write(f"  {_q(entry_id)}:\n")
        if "not_news" in said:
            out.write("    verdict: known\n")
            out.write(f"    people: {_q(list(first.people))}\n    case: {_q(first.case_id)}\n")
        else:
            out.write("    verdict: new\n")
            out.write(f"    people: {_q(list(first.people))}\n")
            out.write(f"    case: {_q(first.case_id) if 'wrong_case' not in said else 'null'}\n")
            if "wrong_case" in said:
                out.write(f"    judged_case: {_q(first.case_id)}\n")
            out.write(f"    type: {_q(first.type) if 'wrong_type' not in said else 'null'}\n")
            if "wrong_type" in said:
                out.write(f"    judged_type: {_q(first.type)}\n")
            out.write(f"    date: {first.date}\n")
        out.write("    trap: false\n    feedback:\n")
        for i in items:
            when = i.created_at.isoformat() if i.created_at else None
            out.write(f"      - {{label: {i.label}, by: {_q(i.subscriber)}, at: {_q(when)}, development: {i.development_id}}}\n")
    return len(by_entry)


@click.group("feedback")
def feedback_group() -> None:
    """Readers' labels from the digest's "not news", "wrong type" and "wrong case" links."""


@feedback_group.command("export")
@click.option("--out", "out_path", type=click.Path(path_type=Path), default=None, help="File to write; default stdout.")
@click.pass_obj
@reports_errors
def export_command(state: State, out_path: Path | None) -> None:
    """Write every labelled entry as a labeled stream's labels.yaml."""
    engine = open_database(state.config)
    try:
        labels = feedback.export(engine)
    finally:
        engine.dispose()
    if out_path is None:
        write_labels(labels, sys.stdout)
        return
    with out_path.open("w", encoding="utf-8") as f:
        n = write_labels(labels, f)
    click.echo(f"wrote {n} labelled entries to {out_path}", err=True)
