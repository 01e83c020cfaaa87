"""Structured logging: one line per event, `event=poll.ok feed="Khmer Times" new=3`; and
redact_url, which every place that shows a URL with a password uses.

Every line about a feed carries `feed=`, so `grep 'feed="Khmer Times"'` tells its story.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

__all__ = ["format_fields", "log_event", "redact_url", "setup_logging"]

_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/+@")


def _value(value: Any) -> str:
    if value is None:
        return "-"
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    if text and all(c in _PLAIN for c in text):
        return text
    # Quote anything with spaces, quotes or newlines: a title from a feed cannot forge a
    # second log line or a field (header injection's cousin).
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def format_fields(event: str, **fields: Any) -> str:
    """`event=<event> k=v ...` with values quoted where needed."""
    parts = [f"event={event}"]
    parts.extend(f"{key}={_value(value)}" for key, value in fields.items())
    return " ".join(parts)


def log_event(logger: logging.Logger, event: str, *, level: int = logging.INFO, exc_info: bool = False, **fields: Any) -> None:
    """Log one event as one line."""
    if logger.isEnabledFor(level):
        logger.log(level, format_fields(event, **fields), exc_info=exc_info)


def redact_url(url: str, mask: str = "***") -> str:
    """`scheme://user:password@host/...` with the password masked, so log lines, errors and
    `redacted()` never show it; a URL without a password comes back as it is. Split at the
    last '@' so an unescaped '@' or '/' in the password is masked too."""
    scheme, sep, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in userinfo:
        return url
    return f"{scheme}://{userinfo.split(':', 1)[0]}:{mask}@{host}"


def setup_logging(verbose: int = 0) -> None:
    """INFO lines from the monitor on stderr (DEBUG with -vv); other libraries at WARNING."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("monitor").setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
