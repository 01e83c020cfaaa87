"""The `monitor` command line: global options, then one subcommand per job.

Every command validates config/ and baseline/ first and refuses a bad config with every
problem listed. A MonitorError becomes one clean message, its hint, and exit code 1 (2
for a refused config); a traceback only with -v. This module only assembles the group:
each command lives in the module of its group, and nothing imports this one.
"""

from __future__ import annotations

import logging
import sys
from importlib.metadata import version
from pathlib import Path

import click

from monitor.cli import baseline, check, daemon, db, digest, export, feedback, scan, subscribers
from monitor.cli._common import State


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version("case-monitor"), "-V", "--version", prog_name="monitor", message="%(prog)s %(version)s")
@click.option("--config", "config_dir", type=click.Path(path_type=Path), default=Path("config"), show_default=True, help="Folder with settings.yaml, feeds.yaml, subscribers.yaml and watchlists/.")
@click.option("--baseline", "baseline_dir", type=click.Path(path_type=Path), default=Path("baseline"), show_default=True, help="Folder with the known state: sources.yaml and cases/*.yaml.")
@click.option("-v", "--verbose", count=True, help="More logging; tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, config_dir: Path, baseline_dir: Path, verbose: int) -> None:
    """Watch news feeds for new developments in the cases you follow."""
    logging.basicConfig(
        level=logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    ctx.obj = State(config_dir, baseline_dir, verbose)


for _command in (check.config_group, scan.scan_command, daemon.run_command, daemon.poll_command,
                 daemon.status_command, daemon.feeds_group, db.db_group, digest.digest_group,
                 subscribers.subscribers_group, baseline.baseline_group, export.export_command,
                 feedback.feedback_group):
    cli.add_command(_command)


def main() -> None:
    cli(prog_name="monitor")


if __name__ == "__main__":
    main()
