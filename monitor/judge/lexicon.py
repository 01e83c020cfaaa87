"""The words of every language we read, merged from the language packs into the tables the
readers (cues, dates) compile.

Languages written with spaces between words are matched as word-bounded regular expressions,
languages written without (Khmer, Chinese, Burmese, Thai) as substrings of normalised text.
Nothing here names a language: adding one is adding a file (monitor/languages/README.md).
`install` reads the shipped packs and a user's, and recompiles every reader registered with
`on_install`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

from monitor.judge.packs import PACKS, LanguagePack, load_packs
from monitor.model import DEVELOPMENT_TYPES


def _merged(packs: Iterable[LanguagePack], spacing: str) -> list[LanguagePack]:
    return [p for p in packs if p.spacing == spacing]


def _alternation(regexes: Iterable[str]) -> str:
    parts = [f"(?:{r})" for r in regexes]
    return "|".join(parts) if parts else r"(?!x)x"  # a pattern that never matches


_PACKS: dict[str, LanguagePack] = {}
SPACED: list[LanguagePack] = []
UNSPACED: list[LanguagePack] = []
LANGUAGES: frozenset[str] = frozenset()
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
NEXT_WEEKDAY_TEMPLATES: list[tuple[str, str]] = []  # (spacing, "next {day}", "{day} prochain")
SPAN_EDGES: list[tuple[str, str]] = []  # (spacing, "since"): a date after it bounds a span
REPORTED: list[tuple[str, str]] = []  # (spacing, "said on"): a date after it is when someone spoke
ORDINALS: list[str] = []  # "st", "er", "o": what follows a day's number ("1st", "1er", "1º")
_INSTALLED: tuple[object, ...] | None = None
_ON_INSTALL: list[Callable[[], None]] = []


# Letters of the scripts written with spaces, so that a sentence is read only by the packs
# whose script it contains: an English sentence never runs the Cyrillic or Arabic patterns.
SCRIPT_LETTERS: dict[str, str] = {
    "latin": "A-Za-z\u00c0-\u024f\u1e00-\u1eff",
    "cyrillic": "\u0400-\u052f",
    "greek": "\u0370-\u03ff",
    "armenian": "\u0530-\u058f",
    "hebrew": "\u0590-\u05ff",
    "arabic": "\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff",
    "devanagari": "\u0900-\u097f",
    "georgian": "\u10a0-\u10ff",
    "ethiopic": "\u1200-\u137f",
}


def _scripts_of(regexes: Iterable[str]) -> frozenset[str]:
    """The scripts a pack's patterns are written in (escapes such as \\b and \\w ignored)."""
    letters = re.sub(r"\\.", "", "".join(regexes))
    return frozenset(name for name, span in SCRIPT_LETTERS.items() if re.search(f"[{span}]", letters))


def spaced_by_script() -> list[tuple[frozenset[str], dict[str, list[str]], list[str]]]:
    """Per pack: its scripts (empty: read every sentence), the type regexes of a spaced
    language, and the mask regexes of any (an unspaced pack's `re:` masks included)."""
    out = []
    for pack in _PACKS.values():
        types = pack.types if pack.spacing == "words" else {}
        masks = pack.cues.get("not_events", [])
        if types or masks:
            # An unspaced script has no letters table here: its patterns read every sentence.
            scripts = _scripts_of([r for rs in types.values() for r in rs] + masks) if pack.spacing == "words" else frozenset()
            out.append((scripts, types, masks))
    return out


def spaced_cue(kind: str) -> str:
    """One regex for a cue kind over every spaced language (and unspaced `re:` entries)."""
    return _alternation(r for p in _PACKS.values() for r in p.cues.get(kind, ()))


def abbreviations() -> list[str]:
    """Words of every pack whose full stop ends no sentence ("mr.", "u.s.", "jan.")."""
    return list(dict.fromkeys(a for p in _PACKS.values() for a in p.abbreviations))


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
    UNSPACED_TYPES.clear()
    for pack in UNSPACED:
        for type_, phrases in pack.phrases.get("types", {}).items():
            UNSPACED_TYPES[type_] = UNSPACED_TYPES.get(type_, ()) + tuple(phrases)
    NUMBERS.clear()
    AGO_UNITS.clear()
    AGO_TEMPLATES.clear()
    NEXT_WEEKDAY_TEMPLATES.clear()
    SPAN_EDGES.clear()
    REPORTED.clear()
    ORDINALS.clear()
    for pack in packs.values():
        NUMBERS.update(pack.dates.get("numbers", {}))
        AGO_UNITS.update(pack.dates.get("units", {}))
        AGO_TEMPLATES.extend((pack.spacing, t) for t in pack.dates.get("ago", ()))
        NEXT_WEEKDAY_TEMPLATES.extend((pack.spacing, t) for t in pack.dates.get("next_weekday", ()))
        SPAN_EDGES.extend((pack.spacing, w) for w in pack.dates.get("span_edges", ()))
        REPORTED.extend((pack.spacing, w) for w in pack.dates.get("reported", ()))
        ORDINALS.extend(w for w in pack.dates.get("ordinals", ()) if w not in ORDINALS)
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
