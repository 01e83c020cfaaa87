"""Language pack files: read, validate (file, line and reason for every problem) and merge.

A pack is one YAML file per language (format: monitor/languages/README.md). A user's pack
for a language the package ships adds its words to the shipped one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from monitor.errors import ConfigError, Problem
from monitor.judge.textnorm import fold_letters, normalize
from monitor.model import DEVELOPMENT_TYPES

PACKS = Path(__file__).resolve().parent.parent / "languages"

# Cue lists every pack may give (each a list of phrases or {re: ...} entries).
CUE_KEYS = ("not_events", "negations", "appeals", "denials", "recap", "neutral", "imperatives",
            "speech", "look_back_titles", "discussion_titles", "clause_breaks")
DATE_KEYS = ("months", "weekdays", "days_before", "weeks", "days_after", "months_before", "years_before",
             "numbers", "units", "ago", "next_weekday", "span_edges", "reported", "ordinals")
UNITS = ("day", "week", "month", "year")
TOP_KEYS = frozenset({"language", "name", "spacing", "types", "dates", "abbreviations", *CUE_KEYS})
SPACINGS = ("words", "none")


@dataclass
class LanguagePack:
    """One language's words, as read from its file (phrases normalised, regexes kept)."""

    code: str
    name: str
    spacing: str
    file: str
    types: dict[str, list[str]] = field(default_factory=dict)  # type -> regexes
    cues: dict[str, list[str]] = field(default_factory=dict)  # cue kind -> regexes
    phrases: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # "types"/cue -> key -> phrases
    dates: dict[str, Any] = field(default_factory=dict)
    abbreviations: list[str] = field(default_factory=list)  # words whose full stop ends no sentence


def _entries(value: Any, spacing: str, where: str, problems: list[Problem], file: str) -> tuple[list[str], list[str]]:
    """(regexes, bare phrases) of one list: phrases become word-bounded regexes in a spaced script."""
    regexes: list[str] = []
    phrases: list[str] = []
    if not isinstance(value, list):
        problems.append(Problem(file, None, where, "expected a list of phrases"))
        return regexes, phrases
    for i, item in enumerate(value):
        if isinstance(item, Mapping) and set(item) == {"re"}:
            try:
                re.compile(str(item["re"]))
            except re.error as exc:
                problems.append(Problem(file, _line(value, i), f"{where}[{i}]", f"bad regular expression: {exc}"))
                continue
            regexes.append(fold_letters(str(item["re"])))
        elif isinstance(item, str) and item.strip():
            phrase = normalize(item.strip())
            if spacing == "words":
                regexes.append(rf"(?<!\w){re.escape(phrase)}(?!\w)")
            else:
                phrases.append(phrase)
        else:
            problems.append(Problem(file, _line(value, i), f"{where}[{i}]", "expected a phrase or {re: pattern}"))
    return regexes, phrases


def _line(container: Any, key: Any) -> int | None:
    try:
        if isinstance(container, list):
            return int(container.lc.item(key)[0]) + 1  # type: ignore[attr-defined]
        return int(container.lc.key(key)[0]) + 1
    except (AttributeError, KeyError, IndexError, TypeError):
        return None


def read_pack(path: Path, types: Iterable[str] = DEVELOPMENT_TYPES) -> tuple[LanguagePack | None, list[Problem]]:
    """One language file, validated: every problem with file, line and key.

    Every command reads the packs at start, so they are parsed with the fast safe loader;
    only a pack with a problem is read again, keeping line numbers, to say where it is.
    """
    pack, problems = _read_pack(path, types, "safe")
    return (pack, problems) if not problems else _read_pack(path, types, "rt")


def _read_pack(path: Path, types: Iterable[str], loader: str) -> tuple[LanguagePack | None, list[Problem]]:
    file = str(path)
    problems: list[Problem] = []
    try:
        data = YAML(typ=loader).load(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError) as exc:
        return None, [Problem(file, None, "", f"cannot read language pack: {exc}")]
    if not isinstance(data, Mapping):
        return None, [Problem(file, 1, "", "expected a mapping with language, spacing and types")]
    for key in data:
        if key not in TOP_KEYS:
            problems.append(Problem(file, _line(data, key), str(key), f"unknown key (allowed: {', '.join(sorted(TOP_KEYS))})"))
    code, spacing = str(data.get("language", "")).strip(), str(data.get("spacing", "words"))
    if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]+)?", code):
        problems.append(Problem(file, _line(data, "language"), "language", "expected an ISO 639 code such as 'en' or 'zh'"))
    if spacing not in SPACINGS:
        problems.append(Problem(file, _line(data, "spacing"), "spacing", f"expected one of {', '.join(SPACINGS)}"))
    pack = LanguagePack(code=code, name=str(data.get("name", code)), spacing=spacing, file=file)
    known = set(types)
    for type_, words in (data.get("types") or {}).items():
        if type_ not in known:
            problems.append(Problem(file, _line(data["types"], type_), f"types.{type_}", "unknown development type"))
            continue
        regexes, phrases = _entries(words, spacing, f"types.{type_}", problems, file)
        pack.types[type_] = regexes
        pack.phrases.setdefault("types", {})[type_] = phrases
    for kind in CUE_KEYS:
        if kind in data:
            regexes, phrases = _entries(data[kind], spacing, kind, problems, file)
            pack.cues[kind] = regexes
            pack.phrases.setdefault("cues", {})[kind] = phrases
    abbreviations = data.get("abbreviations") or []
    if not isinstance(abbreviations, list) or not all(isinstance(a, str) and a.strip() for a in abbreviations):
        problems.append(Problem(file, _line(data, "abbreviations"), "abbreviations", "expected a list of words ('mr', 'u.s')"))
    else:
        pack.abbreviations = [normalize(a.strip()).rstrip(".") for a in abbreviations]
    dates = data.get("dates") or {}
    for key in dates:
        if key not in DATE_KEYS:
            problems.append(Problem(file, _line(dates, key), f"dates.{key}", f"unknown key (allowed: {', '.join(DATE_KEYS)})"))
    for word, unit in (dates.get("units") or {}).items():
        if unit not in UNITS:
            problems.append(Problem(file, _line(dates["units"], word), f"dates.units.{word}", f"expected one of {', '.join(UNITS)}"))
    for i, template in enumerate(dates.get("ago") or ()):
        if "{n}" not in str(template) or "{unit}" not in str(template):
            problems.append(Problem(file, _line(dates["ago"], i), f"dates.ago[{i}]", "a template with {n} and {unit}, e.g. '{n} {unit} ago'"))
    for i, template in enumerate(dates.get("next_weekday") or ()):
        if "{day}" not in str(template):
            problems.append(Problem(file, _line(dates["next_weekday"], i), f"dates.next_weekday[{i}]",
                                    "a template with {day}, e.g. 'next {day}'"))
    pack.dates = {k: ({normalize(str(w)): (str(n) if k == "units" else int(n)) for w, n in v.items()} if isinstance(v, Mapping)
                      else [normalize(str(w)) for w in v]) for k, v in dates.items() if k in DATE_KEYS}
    return (None if problems else pack), problems


def load_packs(folders: Iterable[Path] = (PACKS,)) -> dict[str, LanguagePack]:
    """Every pack in the folders, later folders adding to (or overriding) earlier ones."""
    packs: dict[str, LanguagePack] = {}
    problems: list[Problem] = []
    for folder in folders:
        for path in sorted(folder.glob("*.yaml")):
            pack, found = read_pack(path)
            problems += found
            if pack is not None:
                packs[pack.code] = _merge(packs[pack.code], pack) if pack.code in packs else pack
    if problems:
        raise ConfigError(problems)
    return packs


def _merge(base: LanguagePack, extra: LanguagePack) -> LanguagePack:
    """A user's pack for a shipped language adds its words to the shipped ones."""
    merged = LanguagePack(code=base.code, name=base.name, spacing=base.spacing, file=f"{base.file} + {extra.file}")
    for type_ in {*base.types, *extra.types}:
        merged.types[type_] = [*base.types.get(type_, ()), *extra.types.get(type_, ())]
    for kind in {*base.cues, *extra.cues}:
        merged.cues[kind] = [*base.cues.get(kind, ()), *extra.cues.get(kind, ())]
    for group in ("types", "cues"):
        mine, theirs = base.phrases.get(group, {}), extra.phrases.get(group, {})
        merged.phrases[group] = {k: [*mine.get(k, ()), *theirs.get(k, ())] for k in {*mine, *theirs}}
    merged.abbreviations = [*base.abbreviations, *extra.abbreviations]
    merged.dates = {**base.dates}
    for key, value in extra.dates.items():
        merged.dates[key] = ({**base.dates.get(key, {}), **value} if isinstance(value, dict)
                             else [*base.dates.get(key, ()), *value])
    return merged
