"""Commands that deliver digests: digest preview/send, subscribers add/remove/list."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Add this module's commands to the `monitor` group."""
