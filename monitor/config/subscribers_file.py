"""config/subscribers.yaml: reading it into Subscribers, and adding or removing one
subscriber by editing the text in place, so every comment and the order survive."""

from __future__ import annotations

import io
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from monitor.errors import ConfigError, Problem
from monitor.model import Subscriber

from .schema import Document, SubscribersFile, read_document, validate
from .yamlfile import load_yaml, round_trip

SUBSCRIBERS_FILE = "subscribers.yaml"
_DEFAULTS = Subscriber(email="")
_EMPTY = re.compile(r"^(\s*subscribers:)\s*(?:\[\s*\])?\s*(#.*)?$")  # `subscribers: []  # c`


def read_subscribers(
    path: Path,
) -> tuple[Document[SubscribersFile] | None, list[Subscriber], list[Problem]]:
    """The subscribers of `path` (none when the file does not exist); emails unique."""
    if not path.is_file():
        return None, [], []
    doc, problems = read_document(path, SubscribersFile)
    if doc is None:
        return None, [], problems
    subscribers: list[Subscriber] = []
    seen: dict[str, int] = {}
    for i, s in enumerate(doc.model.subscribers):
        key = s.email.casefold()
        if key in seen:
            problems.append(
                doc.problem(
                    ("subscribers", i, "email"),
                    f"duplicate subscriber '{s.email}' (also subscribers[{seen[key]}])",
                )
            )
            continue
        seen[key] = i
        subscribers.append(
            Subscriber(
                email=s.email,
                name=s.name,
                watchlists=tuple(s.watchlists),
                cases=tuple(s.cases),
                frequency=s.frequency,
                at=s.at,
                timezone=s.timezone,
                coverage=s.coverage,
                language=s.language,
            )
        )
    return doc, subscribers, problems


def add_subscriber(path: Path, subscriber: Subscriber) -> None:
    """Append `subscriber` to the file (created if missing); refuses a duplicate email or
    an invalid result with ConfigError, leaving the file untouched."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    root, seq, problems = _parse(path, text)
    if problems:
        raise ConfigError(problems)
    for i, item in enumerate(seq or ()):
        if (
            isinstance(item, dict)
            and str(item.get("email", "")).casefold() == subscriber.email.strip().casefold()
        ):
            raise ConfigError(
                [
                    Problem(
                        str(path),
                        seq.lc.item(i)[0] + 1 if seq is not None else 1,
                        f"subscribers[{i}].email",
                        f"'{subscriber.email}' is already subscribed",
                    )
                ]
            )
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    if seq is not None and len(seq) and seq.fa.flow_style():
        seq.append(_as_yaml_map(subscriber))
        seq.fa.set_block_style()
        buffer = io.StringIO()
        round_trip().dump(root, buffer)
        new_text = buffer.getvalue()
    elif seq is not None and len(seq):
        dash = _dash_column(lines, seq)
        end = _item_end(lines, seq.lc.item(len(seq) - 1)[0], dash)
        lines[end:end] = _render(subscriber, dash)
        new_text = "".join(lines)
    elif isinstance(root, CommentedMap) and "subscribers" in root:
        line = root.lc.key("subscribers")[0]
        lines[line] = _EMPTY.sub(_no_value, lines[line].rstrip("\r\n")) + "\n"
        lines[line + 1 : line + 1] = _render(subscriber, 2)
        new_text = "".join(lines)
    else:
        new_text = "".join(lines) + "subscribers:\n" + "".join(_render(subscriber, 2))
    _check_and_write(path, new_text)


def remove_subscriber(path: Path, email: str) -> Subscriber:
    """Remove the subscriber with `email` (case-insensitive) and return it; ConfigError
    if there is none. Comments on their own lines are kept, even those above the entry."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    root, seq, problems = _parse(path, text)
    if problems:
        raise ConfigError(problems)
    _, subscribers, problems = read_subscribers(path)
    if problems:
        raise ConfigError(problems)
    wanted = email.strip().casefold()
    index = next((i for i, s in enumerate(subscribers) if s.email.casefold() == wanted), None)
    if index is None or seq is None:
        raise ConfigError([Problem(str(path), None, "subscribers", f"no subscriber '{email}'")])
    lines = text.splitlines(keepends=True)
    if seq.fa.flow_style():
        del seq[index]
        buffer = io.StringIO()
        round_trip().dump(root, buffer)
        new_text = buffer.getvalue()
    else:
        dash = _dash_column(lines, seq)
        start = seq.lc.item(index)[0]
        end = _item_end(lines, start, dash)
        del lines[start:end]
        new_text = "".join(lines)
    _check_and_write(path, new_text)
    return subscribers[index]


def update_subscriber(path: Path, subscriber: Subscriber) -> Subscriber:
    """Replace the entry of `subscriber.email` (case-insensitive) in place, where it stands,
    and return the old one; ConfigError if there is none or the result is invalid."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    root, seq, problems = _parse(path, text)
    if problems:
        raise ConfigError(problems)
    _, subscribers, problems = read_subscribers(path)
    if problems:
        raise ConfigError(problems)
    wanted = subscriber.email.strip().casefold()
    index = next((i for i, s in enumerate(subscribers) if s.email.casefold() == wanted), None)
    if index is None or seq is None:
        raise ConfigError([Problem(str(path), None, "subscribers", f"no subscriber '{subscriber.email}'")])
    lines = text.splitlines(keepends=True)
    if seq.fa.flow_style():
        seq[index] = _as_yaml_map(subscriber)
        seq.fa.set_block_style()
        buffer = io.StringIO()
        round_trip().dump(root, buffer)
        new_text = buffer.getvalue()
    else:
        dash = _dash_column(lines, seq)
        start = seq.lc.item(index)[0]
        end = _item_end(lines, start, dash)
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        lines[start:end] = _render(subscriber, dash)
        new_text = "".join(lines)
    _check_and_write(path, new_text)
    return subscribers[index]


def _no_value(match: re.Match[str]) -> str:
    return match.group(1) + (f"  {match.group(2)}" if match.group(2) else "")


def _parse(path: Path, text: str) -> tuple[Any, CommentedSeq | None, list[Problem]]:
    if not text.strip():
        return None, None, []
    root, problems = load_yaml(path)
    if problems:
        return None, None, problems
    if root is not None and not isinstance(root, CommentedMap):
        return (
            None,
            None,
            [Problem(str(path), 1, "", "expected a mapping with the key 'subscribers'")],
        )
    seq = root.get("subscribers") if root is not None else None
    if seq is not None and not isinstance(seq, CommentedSeq):
        return (
            None,
            None,
            [
                Problem(
                    str(path),
                    root.lc.key("subscribers")[0] + 1 if root is not None else 1,
                    "subscribers",
                    "expected a list of subscribers",
                )
            ],
        )
    return root, seq, []


def _dash_column(lines: list[str], seq: CommentedSeq) -> int:
    """Column of the '-' that starts the sequence's items."""
    line, column = seq.lc.item(0)
    dash = lines[line].rfind("-", 0, column + 1)
    return dash if dash >= 0 else max(column - 2, 0)


def _item_end(lines: list[str], start: int, dash: int) -> int:
    """Index of the line after the item starting at `start`: its content lines, not the
    blank or comment lines that follow it (they belong to what comes next)."""
    end = start + 1
    last = start + 1
    while end < len(lines):
        stripped = lines[end].strip()
        indent = len(lines[end]) - len(lines[end].lstrip())
        if stripped and not stripped.startswith("#"):
            if indent <= dash:
                break
            last = end + 1
        end += 1
    return last


def _as_yaml_map(subscriber: Subscriber) -> CommentedMap:
    """Only what differs from the defaults, in the order of the file format."""
    data = CommentedMap()
    data["email"] = subscriber.email.strip()
    for key in ("name", "watchlists", "cases", "frequency", "at", "timezone", "coverage", "language"):
        value = getattr(subscriber, key)
        if value == getattr(_DEFAULTS, key):
            continue
        if isinstance(value, tuple):
            value = CommentedSeq(value)
            value.fa.set_flow_style()
        elif key == "at":
            value = DoubleQuotedScalarString(value)  # 07:00 unquoted is a number in YAML 1.1
        data[key] = value
    return data


def _render(subscriber: Subscriber, dash: int) -> list[str]:
    yaml = round_trip()
    yaml.indent(mapping=2, sequence=2, offset=0)  # "- email: ..." at column 0, then shifted
    buffer = io.StringIO()
    yaml.dump([_as_yaml_map(subscriber)], buffer)
    return [" " * dash + line for line in buffer.getvalue().splitlines(keepends=True)]


def _check_and_write(path: Path, text: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        probe = Path(scratch) / path.name
        probe.write_text(text, encoding="utf-8")
        root, problems = load_yaml(probe)
        if not problems:
            _, problems = validate(SubscribersFile, root, probe)
        if not problems:
            _, _, problems = read_subscribers(probe)
    if problems:
        raise ConfigError([Problem(str(path), p.line, p.path, p.message) for p in problems])
    # Replace atomically: a reader (the daemon reloading config) sees old or new, never half.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
