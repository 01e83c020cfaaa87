"""Reading YAML files with ruamel's round-trip loader, so every value keeps its line."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from monitor.errors import Problem


class _Constructor(RoundTripConstructor):
    """Round-trip constructor that leaves an impossible date (2020-13-01) a string, so the
    schema reports it with its line instead of the loader failing without one."""

    def construct_yaml_timestamp(self, node: Any, values: Any = None) -> Any:
        try:
            return super().construct_yaml_timestamp(node, values)
        except ValueError:
            return self.construct_scalar(node)


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _Constructor.construct_yaml_timestamp)


def round_trip() -> YAML:
    """A loader/dumper that keeps comments, order and line numbers (YAML 1.2)."""
    yaml = YAML(typ="rt")
    yaml.Constructor = _Constructor
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    return yaml


def load_yaml(path: Path) -> tuple[Any, list[Problem]]:
    """The document in `path` as ruamel nodes, or None and the problem that stopped it."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(str(path), None, "", f"not UTF-8 text: {exc}")]
    except OSError as exc:
        return None, [Problem(str(path), None, "", f"cannot read: {exc.strerror or exc}")]
    try:
        return round_trip().load(text), []
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        column = f" (column {mark.column + 1})" if mark is not None else ""
        reason = exc.problem or exc.context or "invalid YAML"
        context = f", {exc.context}" if exc.context and exc.problem else ""
        if exc.context_mark is not None and exc.problem_mark is not None and context:
            context += f" started on line {exc.context_mark.line + 1}"
        return None, [Problem(str(path), line, "", f"invalid YAML{column}: {reason}{context}")]
    except (YAMLError, ValueError, TypeError) as exc:  # a constructor's own complaint
        return None, [Problem(str(path), None, "", f"invalid YAML: {exc}")]


def to_plain(node: Any) -> Any:
    """ruamel's Commented*/Scalar* subclasses -> plain dict, list, str, int, float, bool."""
    if isinstance(node, dict):
        return {to_plain(k): to_plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [to_plain(v) for v in node]
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, str):
        return str(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, datetime):
        return datetime.combine(node.date(), node.time(), node.tzinfo)
    if isinstance(node, date):
        return date(node.year, node.month, node.day)
    return node


def line_of(root: Any, loc: Sequence[Any]) -> int | None:
    """The 1-based line of the deepest node on the key path `loc` that exists in `root`.

    A key that is missing maps to the line of the mapping that lacks it.
    """
    line = _node_line(root)
    node = root
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    return line


def _node_line(node: Any) -> int | None:
    lc = getattr(node, "lc", None)
    return lc.line + 1 if lc is not None and lc.line is not None else None


def format_path(loc: Sequence[Any]) -> str:
    """('subjects', 0, 'aliases', 1) -> 'subjects[0].aliases[1]'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
