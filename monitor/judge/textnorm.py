"""One normal form for every text the monitor compares: aliases, keywords and entries.

Match and classify both work on this form, so an offset found by one is valid in the other.
"""

from __future__ import annotations

import re
import unicodedata
from importlib.resources import files

from monitor.judge.scripts import unspaced_class


def _traditional_to_simplified() -> dict[int, str]:
    """OpenCC's character table (TSCharacters: traditional -> simplified, first choice).

    Character for character, so an offset stays valid; chains (A -> B -> C) resolved.
    """
    text = (files("opencc_purepy") / "dicts" / "TSCharacters.txt").read_text(encoding="utf-8")
    table: dict[str, str] = {}
    for line in text.splitlines():
        key, _, values = line.partition("\t")
        value = values.split()[0] if values.split() else ""
        if len(key) == 1 and len(value) == 1 and key != value:
            table[key] = value
    for key, value in table.items():
        seen = {key}
        while value in table and value not in seen:
            seen.add(value)
            value = table[value]
        table[key] = value
    return {ord(k): v for k, v in table.items()}


# Digits of the scripts we read, as ASCII (Arabic-Indic, Persian, Devanagari, Thai, Lao,
# Tibetan, Myanmar, Khmer).
_DIGIT_ZEROS = (0x0660, 0x06F0, 0x0966, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x17E0)

# Invisible characters that feeds put inside names (Khmer is often written with zero-width
# spaces between words), typographic apostrophes, digits, the letter variants of Arabic and
# Persian, Turkish dotless i, traditional Chinese (as simplified), and the two spellings of
# the Khmer subscript "ta" (COENG DA and COENG TA are used interchangeably in print).
_TRANSLATE = {
    **_traditional_to_simplified(),
    0x200B: None,  # ZERO WIDTH SPACE
    0x200C: None,  # ZERO WIDTH NON-JOINER
    0x200D: None,  # ZERO WIDTH JOINER
    0x2060: None,  # WORD JOINER
    0xFEFF: None,  # BOM
    0x00AD: None,  # SOFT HYPHEN
    0x0640: None,  # ARABIC TATWEEL (kashida): stretches a word, is no letter
    0x2019: "'",
    0x2018: "'",
    0x02BC: "'",
    0x201C: '"',
    0x201D: '"',
    0x2013: "-",
    0x2014: "-",
    0x00A0: " ",
    0x06CC: "\u064a",  # FARSI YEH -> ARABIC YEH
    0x06A9: "\u0643",  # KEHEH (Persian kaf) -> ARABIC KAF
    0x0131: "i",  # DOTLESS I: "Kırımlı" and "KIRIMLI" (casefolded "kirimli") are one name
    **{zero + d: str(d) for zero in _DIGIT_ZEROS for d in range(10)},
}
_COENG_DA = "\u17d2\u178a"
_COENG_TA = "\u17d2\u178f"

_KHMER = "\u1780-\u17ff\u19e0-\u19ff"
# Spaces between two letters of a script written without spaces carry no word boundary we
# can rely on: Khmer writes "កឹម សុខា" and "កឹមសុខា" alike, Chinese and Japanese "安倍 晋三" and
# "安倍晋三", so both sides drop them before comparing.
_UNSPACED = unspaced_class()
_UNSPACED_GAP = re.compile(f"(?<=[{_UNSPACED}])[ \t]+(?=[{_UNSPACED}])")
_UNSPACED_CHAR = re.compile(f"[{_UNSPACED}]")
_SPACES = re.compile(r"[ \t\r\f\v]+")
# In Persian a zero-width non-joiner ends a part of a compound word ("علی‌اکبر"): a space,
# where elsewhere it is dropped.
_ARABIC_ZWNJ = re.compile("(?<=[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff])\u200c")

KHMER_CHARS = re.compile(f"[{_KHMER}]")
# A character of any script written without spaces (Khmer, Han, Myanmar, Thai, ...).
UNSPACED_CHARS = _UNSPACED_CHAR


def fold_letters(pattern: str) -> str:
    """The letter folds of `normalize` alone (no case-folding, no space handling), for a
    language pack's regular expressions: "gözaltı" in a pattern meets "gözalti" in text."""
    pattern = pattern.replace("\u0130", "i").translate(_TRANSLATE)
    return pattern.replace(_COENG_DA, _COENG_TA)


def normalize(text: str) -> str:
    """NFKC, case-folded, invisible characters dropped, spaces folded, letter variants and
    digits folded (traditional Chinese as simplified), gaps in unspaced scripts removed."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    if "\u0130" in text:
        # Turkish dotted capital I: casefold gives "i" and a combining dot above.
        text = text.replace("\u0130", "i")
    if "\u200c" in text:
        text = _ARABIC_ZWNJ.sub(" ", text)
    text = text.casefold().translate(_TRANSLATE)
    if _COENG_DA in text:
        text = text.replace(_COENG_DA, _COENG_TA)
    if "\u17b2" in text or "អោយ" in text:
        # "to let/for": ឲ្យ (QOO TYPE TWO), ឱ្យ and អោយ are one word spelled three ways.
        text = text.replace("\u17b2", "\u17b1").replace("អោយ", "\u17b1\u17d2\u1799")
    text = _SPACES.sub(" ", text)
    if _UNSPACED_CHAR.search(text):
        text = _UNSPACED_GAP.sub("", text)
    return text
