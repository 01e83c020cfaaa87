"""`monitor baseline draft`: propose a baseline from the documents a team already has."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click

from monitor import draft as drafting
from monitor.cli._common import State, reports_errors, url_reader
from monitor.config import Config, load_config
from monitor.config.values import parse_event_date
from monitor.errors import MonitorError
from monitor.model import EventDate


@click.group("baseline")
def baseline_group() -> None:
    """Draft a baseline from documents."""


@baseline_group.command("draft")
@click.argument("sources", nargs=-1, required=True)
@click.option("--watchlist", "watchlist_name", default=None, help="Draft for this watchlist's subjects and cases only (default: all).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None, help="New folder to write the draft to (default: ./baseline-draft-DATE). Never overwritten.")
@click.option("--diff", "diff", is_flag=True, help="Write nothing: print the drafted events already in the baseline, new, or in conflict.")
@click.option("--date", "dates", multiple=True, metavar="DOCUMENT=DATE", help="A document's date where its text says none (file name or URL = YYYY-MM-DD); repeatable.")
@click.pass_obj
@reports_errors
def draft_command(state: State, sources: tuple[str, ...], watchlist_name: str | None, out_dir: Path | None,
                  diff: bool, dates: tuple[str, ...]) -> None:
    """Read text, Markdown, HTML or PDF documents (files, folders, URLs) and propose the dated
    events they report for the watched subjects, in the baseline format (sources.yaml,
    cases/*.yaml), each with the sentence it came from as a comment."""
    config = _config(state)
    subjects, cases = config.subjects, dict(config.cases)
    if watchlist_name is not None:
        chosen = next((w for w in config.watchlists if w.name == watchlist_name), None)
        if chosen is None:
            names = ", ".join(w.name for w in config.watchlists)
            raise MonitorError(f"no watchlist '{watchlist_name}'", hint=f"watchlists: {names}")
        subjects, cases = chosen.subjects, {c.id: cases[c.id] for c in chosen.cases}

    def warn(message: str) -> None:
        click.echo(f"monitor: {message}", err=True)

    documents, failures = drafting.read_documents(sources, url_reader(config), warn, _given_dates(dates))
    if not documents:
        raise MonitorError("no document could be read", hint="give text, Markdown, HTML or PDF files, folders or URLs")
    result = drafting.Drafter(subjects, cases).draft(documents)
    for doc in documents:
        when = f"{doc.date} ('{doc.date_text}')" if doc.date else "no date of its own: relative dates left unresolved"
        click.echo(f"{doc.id}: {doc.location}: {doc.title or '(no headline)'}; {when}", err=True)
    if diff:
        for c in drafting.compare(result, cases):
            e = c.event
            line = f"{c.status:8} {e.case} {e.date} {e.type} [{', '.join(e.sources)}]"
            if c.known is not None:
                line += f"  baseline: {c.known.date} {c.known.type}: {c.known.summary}"
            click.echo(line)
    else:
        out = out_dir or drafting.default_out(Path.cwd())
        drafting.write_draft(result, out, cases)
        click.echo(f"wrote {len(result.all_events)} events in {len(result.events)} case(s) from "
                   f"{len(documents)} document(s) to {out}")
    if result.candidates:
        click.echo("candidate subjects (not on the watchlist, seen often next to case words): "
                   + ", ".join(f"{n} ({c})" for n, c in result.candidates))
    click.echo(f"monitor: {result.undated_skipped} event mention(s) without a date were not proposed", err=True)
    if failures:
        sys.exit(1)


def _config(state: State) -> Config:
    """The config and, where there is one, the baseline; a first draft needs no baseline."""
    if state.baseline_dir.is_dir():
        return state.config
    with tempfile.TemporaryDirectory() as empty:
        return load_config(state.config_dir, Path(empty))


def _given_dates(values: tuple[str, ...]) -> dict[str, EventDate]:
    given: dict[str, EventDate] = {}
    for value in values:
        name, sep, when = value.rpartition("=")
        try:
            if not sep or not name:
                raise ValueError("expected DOCUMENT=YYYY-MM-DD")
            given[name] = parse_event_date(when)
        except ValueError as exc:
            raise click.BadParameter(f"{value!r}: {exc}", param_hint="--date") from None
    return given
