"""The settings table, settings.yaml and the environment: the only module that reads
os.environ. Every setting has a name, type, default and help (Datasette's SETTINGS).

Precedence: MONITOR_<NAME> (or MONITOR_<NAME>_FILE, a file holding the value) over
config/settings.yaml over the default. Secrets (smtp_password, secret) come only from the
environment, and are redacted in repr() and redacted().
"""

from __future__ import annotations

import os
import secrets as _secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from monitor.errors import ConfigError, Problem
from monitor.logs import redact_url
from monitor.model import SmtpTarget

from .values import (
    did_you_mean,
    format_interval,
    parse_email,
    parse_http_url,
    parse_interval,
    parse_size,
    parse_smtp_url,
)
from .yamlfile import load_yaml, to_plain

ENV_PREFIX = "MONITOR_"
SETTINGS_FILE = "settings.yaml"
REDACTED = "********"


def _text(value: object) -> str:
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise ValueError(f"expected text, got {value!r}")


def _path(value: object) -> Path:
    return Path(_text(value)).expanduser()


def _int(minimum: int, maximum: int | None = None) -> Callable[[object], int]:
    def parse(value: object) -> int:
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and value.strip().isdigit():
            number = int(value.strip())
        if number is None:
            raise ValueError(f"expected a whole number, got {value!r}")
        if number < minimum or (maximum is not None and number > maximum):
            bound = (
                f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
            )
            raise ValueError(f"expected a number {bound}, got {number}")
        return number

    return parse


def _database_url(value: object) -> str:
    text = _text(value)
    if "://" not in text:
        raise ValueError(
            f"expected a database URL such as 'sqlite:///data/monitor.db' or "
            f"'postgresql+psycopg://user@host/db', got {value!r}"
        )
    return text


def _smtp_url(value: object) -> str:
    """Checked by the one SMTP grammar at load, so a bad URL is refused here, not at send
    time; kept as written for display, parsed into Settings.smtp."""
    parse_smtp_url(value)
    return _text(value)


def _sender(value: object) -> str:
    text = _text(value)
    _, address = parseaddr(text)
    if "@" not in address:
        raise ValueError(
            f"expected a sender such as 'Case Monitor <monitor@example.org>', got {value!r}"
        )
    return text


def _contact_url(value: object) -> str:
    text = _text(value)
    if text.startswith("mailto:") and "@" in text:
        return text
    try:
        return parse_http_url(text)
    except ValueError:
        raise ValueError(f"expected an http(s):// or mailto: URL, got {value!r}") from None


@dataclass(frozen=True)
class Setting:
    """One row of the settings table."""

    name: str  # key in settings.yaml; a dot nests it ("concurrency.global")
    type: str  # for humans: text, path, url, interval, integer, size
    default: object  # as one would write it in settings.yaml; None: unset
    help: str
    parse: Callable[[object], object]
    secret: bool = False  # environment only; redacted

    @property
    def attribute(self) -> str:
        return self.name.replace(".", "_")

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.attribute.upper()

    @property
    def parsed_default(self) -> Any:
        """The default as its typed value: what Settings and the loader both start from."""
        return None if self.default is None else self.parse(self.default)


def _workers(value: object) -> str:
    text = _text(value).strip().lower()
    if text not in ("embedded", "shared"):
        raise ValueError(f"expected 'embedded' or 'shared', got {value!r}")
    return text


def _quiet_period(value: object) -> timedelta:
    """An interval, or 0 / '0s' / 'off' for none."""
    if value in (0, "0", "0s", "off", False):
        return timedelta(0)
    return parse_interval(value)


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "data_dir",
        "path",
        "data",
        "Folder for the SQLite database, the outbox and the generated secret "
        "(relative paths are relative to the current directory).",
        _path,
    ),
    Setting(
        "database_url",
        "url",
        None,
        "SQLAlchemy database URL; default sqlite:///<data_dir>/monitor.db. "
        "Use postgresql+psycopg://... for several daemons.",
        _database_url,
    ),
    Setting(
        "smtp_url",
        "url",
        None,
        "smtp://[user@]host[:port] (plain; ?starttls=1 or smtp+starttls:// for STARTTLS) or "
        "smtps://... (implicit TLS); unset: digests are written as .eml files to the outbox "
        "folder in data_dir.",
        _smtp_url,
    ),
    Setting(
        "smtp_password",
        "secret",
        None,
        "SMTP password; only from MONITOR_SMTP_PASSWORD or MONITOR_SMTP_PASSWORD_FILE.",
        _text,
        secret=True,
    ),
    Setting(
        "sender", "text", "Case Monitor <monitor@localhost>", "From: address of digests.", _sender
    ),
    Setting(
        "operator_email",
        "text",
        None,
        "Where feed health goes: once a day while a feed has been failing for feed_failing_after, "
        "has gone (410) or is silent for longer than its usual rhythm, a mail lists them. Unset: "
        "only `monitor status` and the log say so.",
        parse_email,
    ),
    Setting(
        "feed_failing_after",
        "interval",
        "1d",
        "How long a feed fails without a success before the operator's mail lists it.",
        parse_interval,
    ),
    Setting(
        "secret",
        "secret",
        None,
        "Key that signs unsubscribe tokens; only from MONITOR_SECRET or MONITOR_SECRET_FILE. "
        "Unset: generated once and kept in <data_dir>/secret.",
        _text,
        secret=True,
    ),
    Setting(
        "operator_password_hash",
        "secret",
        None,
        "argon2 hash of the operator's password for the web pages on a public address; only from "
        "MONITOR_OPERATOR_PASSWORD_HASH or MONITOR_OPERATOR_PASSWORD_HASH_FILE. Unset: no operator login.",
        _text,
        secret=True,
    ),
    Setting(
        "user_agent_contact",
        "url",
        None,
        "URL or mailto: put in the User-Agent so feed operators can reach you.",
        _contact_url,
    ),
    Setting(
        "proxy",
        "url",
        None,
        "HTTP proxy for fetching feeds (http://[user:password@]host:port). Unset: the "
        "HTTP_PROXY, HTTPS_PROXY and NO_PROXY environment variables apply, if set.",
        parse_http_url,
    ),
    Setting(
        "default_interval",
        "interval",
        "30m",
        "How often a feed is polled when it sets no interval.",
        parse_interval,
    ),
    Setting(
        "min_interval",
        "interval",
        "5m",
        "Shortest poll interval a feed may ask for.",
        parse_interval,
    ),
    Setting(
        "max_interval",
        "interval",
        "24h",
        "Longest poll interval a feed may ask for (and longest backoff).",
        parse_interval,
    ),
    Setting(
        "immediate_quiet_period",
        "interval",
        "2m",
        "An immediate subscriber's mail waits until no new development has come for this long "
        "(at most five times as long in all), so a burst is one mail; 0s: send at once.",
        _quiet_period,
    ),
    Setting(
        "max_entry_age_days",
        "integer",
        None,
        "Hold back entries published more than this many days ago; unset: off.",
        _int(1),
    ),
    Setting(
        "retention_days",
        "integer",
        180,
        "Days to keep entries before pruning them (tombstones stay).",
        _int(1),
    ),
    Setting(
        "http_host",
        "text",
        "127.0.0.1",
        "Address the web pages listen on; any but loopback makes the case pages need a signed link or a login.",
        _text,
    ),
    Setting("http_port", "integer", 8080, "Port of the web endpoint.", _int(1, 65535)),
    Setting(
        "public_url",
        "url",
        None,
        "Base URL of the links in digests; default http://<http_host>:<http_port> "
        "(127.0.0.1 when listening on all addresses).",
        parse_http_url,
    ),
    Setting(
        "max_feed_bytes",
        "size",
        "10MiB",
        "Largest feed body read; bigger ones fail (bytes, or '10MB', '10MiB').",
        parse_size,
    ),
    Setting("concurrency.global", "integer", 20, "Feeds fetched at once, in all.", _int(1)),
    Setting("concurrency.per_host", "integer", 4, "Feeds fetched at once from one host.", _int(1)),
    Setting(
        "workers",
        "text",
        "embedded",
        "embedded: this daemon polls and mails alone (APScheduler; SQLite or PostgreSQL). shared: "
        "several daemons share the work of one PostgreSQL database through its job queue "
        "(Procrastinate); needs a postgresql:// database_url.",
        _workers,
    ),
    Setting(
        "stalled_after",
        "interval",
        "30s",
        "With workers: shared, a daemon silent (no heartbeat) this long is taken for dead and "
        "its jobs in flight are run again by the others.",
        parse_interval,
    ),
)
SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}
_GROUPS = {s.name.split(".")[0] for s in SETTINGS if "." in s.name}


def _fill_derived(values: dict[str, Any]) -> dict[str, Any]:
    """Fill the defaults that follow from other settings: database_url from data_dir,
    public_url from http_host and http_port."""
    if values["database_url"] is None:
        values["database_url"] = f"sqlite:///{values['data_dir'] / 'monitor.db'}"
    if values["public_url"] is None:
        host = values["http_host"]
        host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        host = f"[{host}]" if ":" in str(host) else host
        values["public_url"] = f"http://{host}:{values['http_port']}"
    return values


# The fields' defaults come from the table, so the two cannot disagree.
_DEFAULTS: dict[str, Any] = _fill_derived({s.attribute: s.parsed_default for s in SETTINGS})


@dataclass(frozen=True)
class Settings:
    """Typed settings after defaults, settings.yaml and the environment are applied."""

    data_dir: Path = _DEFAULTS["data_dir"]
    database_url: str = _DEFAULTS["database_url"]
    smtp_url: str | None = _DEFAULTS["smtp_url"]
    smtp_password: str | None = field(default=_DEFAULTS["smtp_password"], repr=False)
    sender: str = _DEFAULTS["sender"]
    operator_email: str | None = _DEFAULTS["operator_email"]
    feed_failing_after: timedelta = _DEFAULTS["feed_failing_after"]
    secret: str | None = field(default=_DEFAULTS["secret"], repr=False)
    operator_password_hash: str | None = field(default=_DEFAULTS["operator_password_hash"], repr=False)
    user_agent_contact: str | None = _DEFAULTS["user_agent_contact"]
    proxy: str | None = _DEFAULTS["proxy"]
    default_interval: timedelta = _DEFAULTS["default_interval"]
    min_interval: timedelta = _DEFAULTS["min_interval"]
    max_interval: timedelta = _DEFAULTS["max_interval"]
    immediate_quiet_period: timedelta = _DEFAULTS["immediate_quiet_period"]
    max_entry_age_days: int | None = _DEFAULTS["max_entry_age_days"]
    retention_days: int = _DEFAULTS["retention_days"]
    http_host: str = _DEFAULTS["http_host"]
    http_port: int = _DEFAULTS["http_port"]
    public_url: str = _DEFAULTS["public_url"]
    max_feed_bytes: int = _DEFAULTS["max_feed_bytes"]
    concurrency_global: int = _DEFAULTS["concurrency_global"]
    concurrency_per_host: int = _DEFAULTS["concurrency_per_host"]
    workers: str = _DEFAULTS["workers"]
    stalled_after: timedelta = _DEFAULTS["stalled_after"]
    # smtp_url as mail takes it, built at load; smtp_password wins over one in the URL.
    smtp: SmtpTarget | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.smtp_url is not None:
            object.__setattr__(self, "smtp", parse_smtp_url(self.smtp_url, self.smtp_password))

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def secret_file(self) -> Path:
        return self.data_dir / "secret"

    def redacted(self) -> dict[str, Any]:
        """Every setting by its settings.yaml name, JSON-friendly, secrets masked."""
        out: dict[str, Any] = {}
        for setting in SETTINGS:
            value = getattr(self, setting.attribute)
            if setting.secret:
                value = REDACTED if value else None
            elif isinstance(value, timedelta):
                value = format_interval(value)
            elif isinstance(value, Path):
                value = str(value)
            elif isinstance(value, str) and "://" in value:
                value = redact_url(value, REDACTED)
            out[setting.name] = value
        return out

    def __repr__(self) -> str:
        body = ", ".join(f"{k.replace('.', '_')}={v!r}" for k, v in self.redacted().items())
        return f"Settings({body})"


def load_settings(config_dir: Path, env: Mapping[str, str] | None = None) -> Settings:
    """config_dir/settings.yaml with environment overrides; ConfigError lists every problem."""
    settings, problems = read_settings(config_dir, env)
    if problems or settings is None:
        raise ConfigError(problems)
    return settings


def read_settings(
    config_dir: Path, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> tuple[Settings | None, list[Problem]]:
    """Settings and the problems found; Settings is None when any problem was found."""
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    problems: list[Problem] = []
    values: dict[str, object] = {s.name: s.parsed_default for s in SETTINGS}

    path = config_dir / SETTINGS_FILE
    if path.is_file():
        values.update(_read_file(path, problems))
    values.update(_read_env(env, problems))

    if problems:
        return None, problems
    kwargs: dict[str, Any] = {SETTINGS_BY_NAME[name].attribute: value for name, value in values.items()}
    data_dir = kwargs["data_dir"]
    assert isinstance(data_dir, Path)
    kwargs["data_dir"] = data_dir if data_dir.is_absolute() else cwd / data_dir
    _fill_derived(kwargs)
    if kwargs["secret"] is None:
        kwargs["secret"] = _read_secret_file(kwargs["data_dir"] / "secret", problems)
    settings = Settings(**kwargs)
    problems.extend(_check(settings, path))
    return (None, problems) if problems else (settings, [])


def _read_file(path: Path, problems: list[Problem]) -> dict[str, object]:
    root, found = load_yaml(path)
    problems.extend(found)
    if found or root is None:
        return {}
    file = str(path)
    if not isinstance(root, CommentedMap):
        problems.append(Problem(file, 1, "", "expected a mapping of setting names to values"))
        return {}
    values: dict[str, object] = {}
    for key, value, line in _flatten(root, file, problems):
        setting = SETTINGS_BY_NAME.get(key)
        if setting is None:
            hint = (
                did_you_mean(key, SETTINGS_BY_NAME) or f" (settings: {', '.join(SETTINGS_BY_NAME)})"
            )
            problems.append(Problem(file, line, key, f"unknown setting '{key}'{hint}"))
        elif setting.secret:
            problems.append(
                Problem(
                    file,
                    line,
                    key,
                    f"secrets are read only from the environment: remove it here and set "
                    f"{setting.env} or {setting.env}_FILE",
                )
            )
        elif value is None:
            values[key] = setting.parsed_default
        else:
            try:
                values[key] = setting.parse(to_plain(value))
            except ValueError as exc:
                problems.append(Problem(file, line, key, str(exc)))
    return values


def _flatten(root: CommentedMap, file: str, problems: list[Problem]):
    for key, value in root.items():
        line = root.lc.key(key)[0] + 1
        key = str(key)
        if key in _GROUPS:
            if not isinstance(value, CommentedMap):
                members = [
                    s.name.split(".", 1)[1] for s in SETTINGS if s.name.startswith(key + ".")
                ]
                problems.append(
                    Problem(file, line, key, f"expected a mapping with keys {', '.join(members)}")
                )
                continue
            for sub, sub_value in value.items():
                yield f"{key}.{sub}", sub_value, value.lc.key(sub)[0] + 1
        else:
            yield key, value, line


def _read_env(env: Mapping[str, str], problems: list[Problem]) -> dict[str, object]:
    values: dict[str, object] = {}
    known: set[str] = set()
    for setting in SETTINGS:
        name, file_name = setting.env, setting.env + "_FILE"
        known.update((name, file_name))
        if name in env and file_name in env:
            problems.append(
                Problem("environment", None, name, f"set {name} or {file_name}, not both")
            )
            continue
        if name in env:
            raw, where = env[name], name
        elif file_name in env:
            where = file_name
            try:
                raw = Path(env[file_name]).read_text(encoding="utf-8").rstrip("\r\n")
            except (OSError, UnicodeDecodeError) as exc:
                problems.append(
                    Problem("environment", None, where, f"cannot read {env[file_name]!r}: {exc}")
                )
                continue
        else:
            continue
        if not raw.strip() and setting.default is None:
            values[setting.name] = None
            continue
        try:
            values[setting.name] = setting.parse(raw)
        except ValueError as exc:
            shown = str(exc).replace(repr(raw), "(hidden)") if setting.secret else str(exc)
            problems.append(Problem("environment", None, where, shown))
    for name in env:
        if name.startswith(ENV_PREFIX) and name not in known:
            hint = did_you_mean(name, known)
            if hint:  # other MONITOR_* variables may belong to the CLI or the deployment
                problems.append(
                    Problem("environment", None, name, f"unknown setting variable{hint}")
                )
    return values


def _read_secret_file(path: Path, problems: list[Problem]) -> str | None:
    if not path.exists():
        return None
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(str(path), None, "secret", f"cannot read the stored secret: {exc}"))
        return None


def _check(settings: Settings, path: Path) -> list[Problem]:
    if settings.workers == "shared" and not settings.database_url.startswith("postgresql"):
        return [
            Problem(
                str(path), None, "workers",
                "workers: shared needs a PostgreSQL database_url (postgresql://...); "
                "SQLite runs one daemon (workers: embedded)",
            )
        ]
    if not settings.min_interval <= settings.default_interval <= settings.max_interval:
        return [
            Problem(
                str(path),
                None,
                "default_interval",
                f"default_interval ({format_interval(settings.default_interval)}) must lie between "
                f"min_interval ({format_interval(settings.min_interval)}) and max_interval "
                f"({format_interval(settings.max_interval)})",
            )
        ]
    return []


def ensure_secret(settings: Settings) -> str:
    """The unsubscribe-token key: from the environment, else <data_dir>/secret, created once
    (mode 0600) on first use. Loading settings never writes; this does."""
    if settings.secret:
        return settings.secret
    path = settings.secret_file
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Write aside, then link: the secret appears whole or not at all, and two daemons
        # starting at once agree on one secret (link fails if the other one won).
        temporary = path.with_name(f".secret.{os.getpid()}.{_secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(_secrets.token_urlsafe(32) + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return path.read_text(encoding="utf-8").strip()
