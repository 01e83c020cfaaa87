"""`monitor export`: every case's timeline (what /cases/<id> shows) as CSV or JSON."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any, TextIO

import click

from monitor.cli._common import State, open_database, reports_errors
from monitor.errors import MonitorError
from monitor.store import views

CSV_COLUMNS = (
    "case_id", "case_title", "kind", "id", "date", "precision", "type", "summary", "outlets", "single_source",
    "first_outlet", "first_title", "first_link", "first_published", "other_sources", "why", "feedback",
)


def _csv_row(case_id: str, title: str, row: dict[str, Any]) -> dict[str, Any]:
    out = {"case_id": case_id, "case_title": title, **{k: row.get(k, "") for k in
           ("kind", "id", "date", "precision", "type", "summary")}}
    if row["kind"] == "development":
        first = row.get("first") or {}
        out.update(outlets=row["outlets"], single_source=str(row["single_source"]).lower(),
                   first_outlet=first.get("outlet", ""), first_title=first.get("title", ""),
                   first_link=first.get("link", ""), first_published=first.get("published") or "",
                   other_sources="; ".join(f"{s['outlet']} <{s['link']}>" for s in row["others"]),
                   why=" | ".join(row["why"]), feedback=" ".join(row["feedback"]))
    else:
        out["other_sources"] = "; ".join(s.get("outlet") or s.get("id", "") for s in row.get("sources", []))
    return out


def write_export(cases: list[dict[str, Any]], fmt: str, out: TextIO) -> None:
    if fmt == "json":
        json.dump({"cases": cases}, out, ensure_ascii=False, indent=2)
        out.write("\n")
        return
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, restval="", extrasaction="ignore")
    writer.writeheader()
    for case in cases:
        for row in case["timeline"]:
            writer.writerow(_csv_row(case["id"], case["title"], row))


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="json", show_default=True)
@click.option("--case", "case_ids", multiple=True, help="Only this case (repeatable); default every case.")
@click.option("--out", "out_path", type=click.Path(path_type=Path), default=None, help="File to write; default stdout.")
@click.pass_obj
@reports_errors
def export_command(state: State, fmt: str, case_ids: tuple[str, ...], out_path: Path | None) -> None:
    """Every case's timeline: baseline events and developments by date, with their sources."""
    config = state.config
    unknown = [c for c in case_ids if c not in config.cases]
    if unknown:
        raise MonitorError(f"no case '{unknown[0]}'", hint="the case ids are in config/watchlists/")
    engine = open_database(config)
    try:
        cases = []
        for case_id in case_ids or sorted(config.cases):
            case = config.cases[case_id]
            rows = views.timeline(engine, case_id)
            cases.append({"id": case_id, "title": case.title, "status": case.status,
                          "timeline": [views.as_json(r) for r in rows]})
    finally:
        engine.dispose()
    if out_path is None:
        write_export(cases, fmt, sys.stdout)
        return
    with out_path.open("w", encoding="utf-8", newline="") as f:
        write_export(cases, fmt, f)
    click.echo(f"wrote {sum(len(c['timeline']) for c in cases)} rows of {len(cases)} case(s) to {out_path}", err=True)
