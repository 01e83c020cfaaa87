"""One normal form for every text the monitor compares: aliases, keywords and entries.

Match and classify both work on this form, so an offset found by one is valid in the other.
"""

from __future__ import annotations

import re
import unicodedata

# Invisible characters that feeds put inside names (Khmer is often written with zero-width
# spaces between words), typographic apostrophes, Khmer digits, and the two spellings of
# the Khmer subscript "ta" (COENG DA and COENG TA are used interchangeably in print).
_TRANSLATE = {
    0x200B: None,  # ZERO WIDTH SPACE
    0x200C: None,  # ZERO WIDTH NON-JOINER
    0x200D: None,  # ZERO WIDTH JOINER
    0x2060: None,  # WORD JOINER
    0xFEFF: None,  # BOM
    0x00AD: None,  # SOFT HYPHEN
    0x2019: "'",
    0x2018: "'",
    0x02BC: "'",
    0x201C: '"',
    0x201D: '"',
    0x2013: "-",
    0x2014: "-",
    0x00A0: " ",
    **{0x17E0 + d: str(d) for d in range(10)},  # Khmer digits
}
_COENG_DA = "\u17d2\u178a"
_COENG_TA = "\u17d2\u178f"

_KHMER = "\u1780-\u17ff\u19e0-\u19ff"
# Spaces between two Khmer letters carry no word boundary we can rely on: Khmer writes
# "កឹម សុខា" and "កឹមសុខា" alike, so both sides drop them before comparing.
_KHMER_GAP = re.compile(f"(?<=[{_KHMER}])[ \t]+(?=[{_KHMER}])")
_SPACES = re.compile(r"[ \t\r\f\v]+")

KHMER_CHARS = re.compile(f"[{_KHMER}]")


def normalize(text: str) -> str:
    """NFKC, case-folded, invisible characters dropped, spaces folded (Khmer gaps removed)."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_TRANSLATE)
    if _COENG_DA in text:
        text = text.replace(_COENG_DA, _COENG_TA)
    if "\u17b2" in text or "អោយ" in text:
        # "to let/for": ឲ្យ (QOO TYPE TWO), ឱ្យ and អោយ are one word spelled three ways.
        text = text.replace("\u17b2", "\u17b1").replace("អោយ", "\u17b1\u17d2\u1799")
    text = _SPACES.sub(" ", text)
    if KHMER_CHARS.search(text):
        text = _KHMER_GAP.sub("", text)
    return text


def is_khmer(char: str) -> bool:
    return "\u1780" <= char <= "\u17ff" or "\u19e0" <= char <= "\u19ff"


def continues_khmer_cluster(char: str) -> bool:
    """True for a Khmer dependent vowel, sign or subscript marker (U+17B6..U+17D3, U+17DD).

    A match that ends just before one of these has cut a syllable in two.
    """
    return "\u17b6" <= char <= "\u17d3" or char == "\u17dd"
