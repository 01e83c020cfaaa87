"""What every page needs: the database, the signing key, the clock, the config in force."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from monitor.config import Config


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class WebContext:
    engine: Engine
    secret: bytes
    clock: Callable[[], datetime] = _now
    config_of: Callable[[], Config | None] = lambda: None
    metrics: Any = None  # monitor.web.metrics.Metrics when the daemon serves /metrics
    operator_hash: str | None = None  # argon2/bcrypt hash of the operator password
    public: bool = False  # bound beyond loopback: every page needs a signed link or a login
    extra: dict[str, Any] = field(default_factory=dict)
