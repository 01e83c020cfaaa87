"""The monitor's exceptions: one root, a tree that mirrors the domain.

    MonitorError
     ├── ConfigError          config/ or baseline/ refused (carries every Problem found)
     ├── FeedError            one feed failed; carries the feed's name or source
     │    ├── FetchError      network, HTTP status, size or redirect trouble
     │    └── ParseError      the body is not a feed we can read
     ├── StoreError           the database refused or is out of date
     └── DeliveryError        one subscriber's mail could not be handed over

Each error knows a hint that tells the user what to do next; the CLI prints message and
hint on one line each and exits non-zero, with a traceback only under -v.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


class MonitorError(Exception):
    """Root of every error the monitor raises on purpose."""

    hint: str = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a config or baseline file: where, and why.

    A warning is worth telling but refuses nothing: the config still loads.
    """

    file: str
    line: int | None
    path: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        key = f" {self.path}:" if self.path else ""
        label = " warning:" if self.severity == "warning" else ""
        return f"{where}:{label}{key} {self.message}"


class ConfigError(MonitorError):
    """config/ or baseline/ is invalid; `problems` lists every problem at once."""

    hint = "fix the files named above, then run 'monitor config check'"

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        super().__init__(
            f"{count} problem{'s' if count != 1 else ''} in the configuration:\n"
            + "\n".join(f"  {p}" for p in self.problems)
        )


class FeedError(MonitorError):
    """One feed could not be read; the others go on."""

    def __init__(self, feed: str, message: str, *, hint: str | None = None) -> None:
        self.feed = feed
        super().__init__(f"{feed}: {message}", hint=hint)


class FetchError(FeedError):
    """The feed's server could not be reached, refused, or sent too much."""


class ParseError(FeedError):
    """The body fetched or read is not a feed."""


class StoreError(MonitorError):
    """The database refused an operation or its schema is out of date."""

    hint = "run 'monitor db upgrade'"


class DeliveryError(MonitorError):
    """A digest could not be handed to the mail server for one subscriber."""

    def __init__(self, subscriber: str, message: str, *, hint: str | None = None) -> None:
        self.subscriber = subscriber
        super().__init__(f"{subscriber}: {message}", hint=hint)
