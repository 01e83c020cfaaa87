"""The words of every language we read, compiled from the language packs in monitor/languages/.

One YAML file per language says how its script is spaced and lists, by meaning, the words
that name a development type, a date, or a non-event (a wish, a denial, a look back). This
module reads them all and merges them by spacing: languages written with spaces between
words are matched as word-bounded regular expressions, languages written without (Khmer,
Chinese, Burmese, Thai) as substrings of normalised text. Nothing here names a language:
adding one is adding a file (monitor/languages/README.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
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
            "speech", "look_back_titles", "discussion_titles")
DATE_KEYS = ("months", "weekdays", "days_before", "weeks", "days_after", "months_before", "years_before",
             "numbers", "units", "ago")
UNITS = ("day", "week", "month", "year")
TOP_KEYS = frozenset({"language", "name", "spacing", "types", "dates", *CUE_KEYS})
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
    """One language file, validated: every problem with file, line and key."""
    file = str(path)
    problems: list[Problem] = []
    try:
        data = YAML(typ="rt").load(path.read_text(encoding="utf-8"))
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
    merged.dates = {**base.dates}
    for key, value in extra.dates.items():
        merged.dates[key] = ({**base.dates.get(key, {}), **value} if isinstance(value, dict)
                             else [*base.dates.get(key, ()), *value])
    return merged


def _merged(packs: Iterable[LanguagePack], spacing: str) -> list[LanguagePack]:
    return [p for p in packs if p.spacing == spacing]


def _alternation(regexes: Iterable[str]) -> str:
    parts = [f"(?:{r})" for r in regexes]
    return "|".join(parts) if parts else r"(?!x)x"  # a pattern that never matches


_PACKS: dict[str, LanguagePack] = {}
SPACED: list[LanguagePack] = []
UNSPACED: list[LanguagePack] = []
LANGUAGES: frozenset[str] = frozenset()
SPACED_TYPES: dict[str, tuple[str, ...]] = {}
UNSPACED_TYPES: dict[str, tuple[str, ...]] = {}
MONTHS: dict[str, int] = {}
SPACED_MONTHS: dict[str, int] = {}
UNSPACED_MONTHS: dict[str, int] = {}
WEEKDAYS: dict[str, int] = {}
SPACED_WEEKDAYS: dict[str, int] = {}
UNSPACED_WEEKDAYS: dict[str, int] = {}
RELATIVE_DAYS: dict[str, int] = {}
SPACED_RELATIVE_DAYS: dict[str, int] = {}
UNSPACED_RELATIVE_DAYS: dict[str, int] = {}
RELATIVE_WEEKS: dict[str, int] = {}  # phrase -> weeks before publication
FUTURE_DAYS: dict[str, int] = {}
RELATIVE_MONTHS: dict[str, int] = {}
RELATIVE_YEARS: dict[str, int] = {}
NUMBERS: dict[str, int] = {}  # number words of every pack -> value ("three", "три", "üç")
AGO_UNITS: dict[str, str] = {}  # unit words -> day | week | month | year
AGO_TEMPLATES: list[tuple[str, str]] = []  # (spacing, "{n} {unit} ago") of every pack
_INSTALLED: tuple[object, ...] | None = None
_ON_INSTALL: list[Callable[[], None]] = []


def spaced_cue(kind: str) -> str:
    """One regex for a cue kind over every spaced language (and unspaced `re:` entries)."""
    return _alternation(r for p in _PACKS.values() for r in p.cues.get(kind, ()))


def unspaced_cue(kind: str) -> tuple[str, ...]:
    return tuple(w for p in UNSPACED for w in p.phrases.get("cues", {}).get(kind, ()))


def _dates(key: str, spacing: str | None = None) -> dict[str, int]:
    out: dict[str, int] = {}
    for pack in _PACKS.values():
        if spacing is None or pack.spacing == spacing:
            value = pack.dates.get(key, {})
            out.update(value if isinstance(value, dict) else {w: 0 for w in value})
    return out


def _build(packs: dict[str, LanguagePack]) -> None:
    """Merge `packs` into the tables the readers compile (by spacing, then by meaning)."""
    global _PACKS, SPACED, UNSPACED, LANGUAGES
    _PACKS = packs
    SPACED = _merged(packs.values(), "words")
    UNSPACED = _merged(packs.values(), "none")
    LANGUAGES = frozenset(packs)
    SPACED_TYPES.clear()
    for pack in SPACED:
        for type_, regexes in pack.types.items():
            SPACED_TYPES[type_] = SPACED_TYPES.get(type_, ()) + tuple(regexes)
    UNSPACED_TYPES.clear()
    for pack in UNSPACED:
        for type_, phrases in pack.phrases.get("types", {}).items():
            UNSPACED_TYPES[type_] = UNSPACED_TYPES.get(type_, ()) + tuple(phrases)
    NUMBERS.clear()
    AGO_UNITS.clear()
    AGO_TEMPLATES.clear()
    for pack in packs.values():
        NUMBERS.update(pack.dates.get("numbers", {}))
        AGO_UNITS.update(pack.dates.get("units", {}))
        AGO_TEMPLATES.extend((pack.spacing, t) for t in pack.dates.get("ago", ()))
    for table, key, spacing in (
        (MONTHS, "months", None), (SPACED_MONTHS, "months", "words"), (UNSPACED_MONTHS, "months", "none"),
        (WEEKDAYS, "weekdays", None), (SPACED_WEEKDAYS, "weekdays", "words"), (UNSPACED_WEEKDAYS, "weekdays", "none"),
        (RELATIVE_DAYS, "days_before", None), (SPACED_RELATIVE_DAYS, "days_before", "words"),
        (UNSPACED_RELATIVE_DAYS, "days_before", "none"), (RELATIVE_WEEKS, "weeks", None),
        (FUTURE_DAYS, "days_after", None), (RELATIVE_MONTHS, "months_before", None), (RELATIVE_YEARS, "years_before", None),
    ):
        table.clear()
        table.update(_dates(key, spacing))


def on_install(compile_: Callable[[], None]) -> Callable[[], None]:
    """Register a reader's compile step; it runs now and after every `install`."""
    _ON_INSTALL.append(compile_)
    compile_()
    return compile_


def install(folders: Iterable[Path] = ()) -> None:
    """Read the shipped packs and those in `folders` (a user's config/languages/), and
    recompile every reader with them. A bad pack raises ConfigError naming file and line."""
    global _INSTALLED
    wanted = tuple(Path(f) for f in folders if Path(f).is_dir())
    # The packs as they are on disk now, and the types they may name: an edit or a
    # watchlist's new type is read again, an unchanged set is not compiled twice.
    key = (tuple((p, p.stat().st_mtime_ns, p.stat().st_size) for f in wanted for p in sorted(f.glob("*.yaml"))),
           tuple(DEVELOPMENT_TYPES))
    if key == _INSTALLED:
        return
    _build(load_packs((PACKS, *wanted)))
    _INSTALLED = key
    for compile_ in _ON_INSTALL:
        compile_()


install()


def language_packs() -> frozenset[str]:
    """The languages the judgement has words for (ISO 639 codes of the installed packs)."""
    return LANGUAGES
