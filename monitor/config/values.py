"""Parsers for the small value types that config files share: intervals, sizes, dates,
e-mail addresses, times of day, time zones, URLs, the SMTP URL; and the "did you mean" hint."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.model import EventDate, Precision, SmtpTarget

_INTERVAL_PART = re.compile(r"(\d+)\s*([smhdw])")
_INTERVAL_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?", re.IGNORECASE)
_SIZE_UNITS = {
    "b": 1,
    "kb": 1000,
    "kib": 1024,
    "mb": 1000**2,
    "mib": 1024**2,
    "gb": 1000**3,
    "gib": 1024**3,
}
# Deliberately loose: the mail server is the judge; this catches typos and display names.
_EMAIL = re.compile(
    r"[^@\s<>(),;:\"\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)
_TIME_OF_DAY = re.compile(r"(\d{1,2}):(\d{2})")
_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_SMTP_SECURITY = {"smtp": "plain", "smtp+starttls": "starttls", "smtps": "tls"}
_SMTP_PORTS = {"plain": 25, "starttls": 587, "tls": 465}
_SMTP_GRAMMAR = (
    "smtp://[user@]host[:port] (plain; ?starttls=1 for STARTTLS), smtp+starttls://... "
    "or smtps://... (implicit TLS)"
)
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """'; did you mean 'x'?' when a choice is close to `word`, else ''."""
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def primary_language(tag: str) -> str:
    """The language of a language tag, lower case: "zh-TW" and "zh_tw" -> "zh"."""
    return re.split(r"[-_]", tag.strip(), maxsplit=1)[0].casefold()


def parse_interval(value: object) -> timedelta:
    """'90s', '15m', '1h', '1h30m', '1d', '2w' -> timedelta (at least one second)."""
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str) or isinstance(value, bool):
        raise ValueError(
            f"expected an interval such as '15m', '1h' or '1d', got {value!r}"
            + (
                " (a bare number has no unit: write '30m' or '1h')"
                if isinstance(value, int)
                else ""
            )
        )
    text = value.strip().lower().replace(" ", "")
    parts = _INTERVAL_PART.findall(text)
    if not text or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"expected an interval such as '15m', '1h' or '1d', got {value!r}")
    seconds = sum(int(n) * _INTERVAL_UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise ValueError(f"interval must be longer than zero, got {value!r}")
    return timedelta(seconds=seconds)


def format_interval(value: timedelta) -> str:
    """The inverse of parse_interval: timedelta(minutes=90) -> '1h30m'."""
    seconds = int(value.total_seconds())
    out = []
    for unit in ("d", "h", "m", "s"):
        size = _INTERVAL_UNITS[unit]
        if seconds >= size:
            out.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(out) or "0s"


def parse_size(value: object) -> int:
    """10485760, '10MB' (powers of 1000) or '10MiB' (powers of 1024) -> bytes."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value <= 0:
            raise ValueError(f"expected a positive number of bytes, got {value}")
        return value
    if isinstance(value, str):
        match = _SIZE.fullmatch(value.strip())
        if match:
            number = float(match.group(1)) * _SIZE_UNITS[(match.group(2) or "b").lower()]
            if number >= 1:
                return int(number)
    raise ValueError(f"expected a size such as 10485760, '10MB' or '10MiB', got {value!r}")


def parse_event_date(value: object) -> EventDate:
    """YYYY-MM-DD, YYYY-MM or YYYY (YAML may hand over a date or an int) -> EventDate."""
    if isinstance(value, EventDate):
        return value
    if isinstance(value, datetime):
        return EventDate(value.date(), Precision.DAY)
    if isinstance(value, date):
        return EventDate(value, Precision.DAY)
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"{value:04d}"
    if isinstance(value, str):
        match = _DATE.fullmatch(value.strip())
        if match:
            year, month, day = match.groups()
            try:
                if day is not None:
                    return EventDate(date(int(year), int(month), int(day)), Precision.DAY)
                if month is not None:
                    return EventDate(date(int(year), int(month), 1), Precision.MONTH)
                return EventDate(date(int(year), 1, 1), Precision.YEAR)
            except ValueError as exc:
                raise ValueError(f"{value!r} is not a real date ({exc})") from None
    raise ValueError(f"expected a date as YYYY-MM-DD, YYYY-MM or YYYY, got {value!r}")


def parse_email(value: object) -> str:
    """A bare address (no display name); the domain is lower-cased."""
    if not isinstance(value, str):
        raise ValueError(f"expected an e-mail address, got {value!r}")
    text = value.strip()
    if not _EMAIL.fullmatch(text):
        raise ValueError(f"{value!r} is not an e-mail address (expected name@example.org)")
    local, domain = text.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def parse_time_of_day(value: object) -> str:
    """'7:00' or '07:00' -> '07:00'."""
    match = _TIME_OF_DAY.fullmatch(value.strip()) if isinstance(value, str) else None
    if match and int(match.group(1)) < 24 and int(match.group(2)) < 60:
        return f"{int(match.group(1)):02d}:{match.group(2)}"
    hint = ' (quote it: at: "07:00")' if isinstance(value, int) else ""
    raise ValueError(f"expected a time of day as HH:MM, got {value!r}{hint}")


def parse_timezone(value: object) -> str:
    """An IANA zone name that this system's zone database knows, e.g. 'Asia/Phnom_Penh'."""
    if isinstance(value, str) and value.strip():
        try:
            ZoneInfo(value.strip())
        except (ZoneInfoNotFoundError, ValueError):
            pass
        else:
            return value.strip()
    raise ValueError(f"{value!r} is not an IANA time zone (expected e.g. 'Europe/Paris', 'UTC')")


_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")


def parse_language_tag(value: object) -> str:
    """A BCP 47 language tag as feeds write them ('en', 'km', 'pt-BR'), kept as written."""
    if isinstance(value, str) and _LANGUAGE_TAG.fullmatch(value.strip()):
        return value.strip()
    raise ValueError(f"{value!r} is not a language tag (expected e.g. 'en', 'km', 'pt-BR': the code feeds use)")


def parse_http_url(value: object) -> str:
    """An absolute http:// or https:// URL with a host."""
    if isinstance(value, str):
        parts = urlsplit(value.strip())
        if parts.scheme.lower() in ("http", "https") and parts.hostname:
            return value.strip()
    raise ValueError(f"expected an http:// or https:// URL, got {value!r}")


def parse_smtp_url(value: object, password: str | None = None) -> SmtpTarget:
    """The smtp_url grammar, the only one: settings check it at load, mail uses the result.

    `smtp://user@host:25?starttls=1` is the same as `smtp+starttls://user@host:25`;
    `?timeout=SECONDS` sets the socket timeout. A password in the URL is accepted;
    `password` (from the environment) wins over it. Errors never echo the URL, which may
    hold the password.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected an SMTP URL: {_SMTP_GRAMMAR}")
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        raise ValueError("not a valid SMTP URL (bad host or port)") from None
    scheme = parts.scheme.lower()
    security = _SMTP_SECURITY.get(scheme)
    if security is None:
        raise ValueError(f"unknown scheme {scheme!r}: use {_SMTP_GRAMMAR}")
    if not parts.hostname:
        raise ValueError("the SMTP URL names no host")
    if parts.path not in ("", "/"):
        raise ValueError("the SMTP URL may not have a path")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"starttls", "timeout"})
    if unknown:
        raise ValueError(f"unknown SMTP URL option {unknown[0]!r} (known: starttls, timeout)")
    if "starttls" in query:
        flag = query["starttls"][-1].lower()
        if flag not in _TRUE | _FALSE:
            raise ValueError("starttls must be 1 or 0")
        if flag in _TRUE:
            if security == "tls":
                raise ValueError("smtps:// is already TLS; drop ?starttls=1")
            security = "starttls"
    extra: dict[str, float] = {}
    if "timeout" in query:
        try:
            timeout = float(query["timeout"][-1])
        except ValueError:
            raise ValueError("timeout must be a number of seconds") from None
        if not 0 < timeout <= 600:
            raise ValueError("timeout must be between 0 and 600 seconds")
        extra["timeout"] = timeout
    url_password = unquote(parts.password) if parts.password is not None else None
    return SmtpTarget(
        host=parts.hostname,
        port=port or _SMTP_PORTS[security],
        security=security,
        username=unquote(parts.username) if parts.username else None,
        password=password if password is not None else url_password,
        **extra,
    )
