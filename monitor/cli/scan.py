"""`monitor scan`: replay feed files or URLs through the judge; one JSON line per entry."""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import click

from monitor import scan
from monitor.cli._common import State, reports_errors, url_reader
from monitor.config import NO_LANGUAGE_PACK
from monitor.judge.lexicon import language_packs
from monitor.memory import load_judge
from monitor.store.db import open_engine, upgrade
from monitor.store.judgements import seed_baseline


@click.command("scan")
@click.argument("sources", nargs=-1, required=True)
@click.option("--state", "state_url", default=None, help="Database URL to judge against and record into (default: a fresh in-memory one seeded from the baseline).")
@click.pass_obj
@reports_errors
def scan_command(state: State, sources: tuple[str, ...], state_url: str | None) -> None:
    """Judge the entries of feed FILES, folders of them, or URLs; print one JSON line each.

    Sends nothing. Lines come oldest publication first; the fields are described in
    README.md, section "`monitor scan`: the contract".
    """
    config = state.config
    with tempfile.TemporaryDirectory(prefix="monitor-scan-") as scratch:
        # Without --state, a throwaway database in a file (not in memory): what a scan stores
        # then costs disk, not memory.
        engine = open_engine(state_url or f"sqlite:///{Path(scratch) / 'scan.db'}")
        try:
            upgrade(engine)
            seed_baseline(engine, config.cases)
            report = scan.ScanReport()
            now = datetime.now(UTC)

            def warn(message: str) -> None:
                click.echo(f"monitor: {message}", err=True)

            judge = load_judge(engine, config.subjects, dict(config.cases), config.language_dirs)
            with scan.spool_entries(sources, url_reader(config), report, warn) as spool:
                for language in scan.languages_without_pack(spool, language_packs()):
                    warn(f"warning: language '{language}' {NO_LANGUAGE_PACK}")
                scan.judge_spool(engine, judge, spool, now, sys.stdout, report)
            sys.stdout.flush()
        finally:
            engine.dispose()
    counts = ", ".join(f"{k} {v}" for k, v in sorted(report.verdicts.items())) or "no entries"
    click.echo(f"monitor: scanned {report.entries} entries ({counts}); {len(report.failures)} source(s) failed", err=True)
    if report.failures:
        sys.exit(1)
