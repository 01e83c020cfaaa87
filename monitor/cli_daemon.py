"""Commands that poll feeds: run, poll, status, feeds test (issue: the polling daemon)."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Add this module's commands to the `monitor` group."""
