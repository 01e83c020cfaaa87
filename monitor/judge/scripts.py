"""What each writing system does between words, as data: match and textnorm read it.

A script written with spaces between words (Latin, Cyrillic, Greek, Arabic, Hebrew,
Devanagari, Hangul, ...) needs a name to be a whole word: no letter or digit of such a
script may touch it on either side. A script written without them (Han, kana, Thai, Lao,
Tibetan, Myanmar, Khmer) has no word boundary to look for, so a name is found as a run of
characters inside running text; what it must not do there is cut a cluster in two: end
before a sign that belongs to its last letter, or start on a sign that belongs to the
letter before it. Every character not listed here is treated as written with spaces.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from dataclasses import dataclass


@dataclass(frozen=True)
class Script:
    """One writing system and the rule a name found in it must follow."""

    name: str
    ranges: tuple[tuple[int, int], ...]  # inclusive code point ranges
    spaced: bool  # words are separated by spaces: a name must be a whole word
    # Letters (beyond the combining marks Mn/Mc, which always do) that belong to the
    # cluster of the letter before them: a name must not end just before one.
    continues: str = ""
    # Signs that bind the letter after them to the cluster before (a virama that stacks
    # the next consonant, a vowel written before its consonant): a name must not start
    # just after one, nor end on one.
    binds: str = ""
    # Syllables are delimited by a mark (Tibetan tsheg): a name starts where a syllable
    # does, but may end before a particle written onto its last syllable.
    marked_syllables: bool = False


SCRIPTS: tuple[Script, ...] = (
    # --- written with spaces between words (listed for the record; unlisted means spaced) ---
    Script("Latin", ((0x0041, 0x005A), (0x0061, 0x007A), (0x00C0, 0x024F), (0x1E00, 0x1EFF)), spaced=True),
    Script("Greek", ((0x0370, 0x03FF), (0x1F00, 0x1FFF)), spaced=True),
    Script("Cyrillic", ((0x0400, 0x052F), (0x1C80, 0x1C8F), (0x2DE0, 0x2DFF), (0xA640, 0xA69F)), spaced=True),
    Script("Armenian", ((0x0530, 0x058F),), spaced=True),
    Script("Hebrew", ((0x0590, 0x05FF),), spaced=True),
    Script("Arabic", ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)),
           spaced=True),
    Script("Devanagari", ((0x0900, 0x097F), (0xA8E0, 0xA8FF)), spaced=True),
    Script("Bengali", ((0x0980, 0x09FF),), spaced=True),
    Script("Georgian", ((0x10A0, 0x10FF),), spaced=True),
    Script("Hangul", ((0x1100, 0x11FF), (0x3130, 0x318F), (0xAC00, 0xD7AF)), spaced=True),
    # --- written without spaces between words ---
    Script(
        "Thai", ((0x0E00, 0x0E7F),), spaced=False,
        continues="\u0e30\u0e32\u0e33\u0e45",  # SARA A, SARA AA, SARA AM, LAKKHANGYAO
        binds="\u0e40\u0e41\u0e42\u0e43\u0e44",  # SARA E, AE, O, AI MAIMUAN, AI MAIMALAI
    ),
    Script(
        "Lao", ((0x0E80, 0x0EFF),), spaced=False,
        continues="\u0eb0\u0eb2\u0eb3",  # VOWEL SIGN A, AA, AM
        binds="\u0ec0\u0ec1\u0ec2\u0ec3\u0ec4",  # VOWEL SIGN E, EI, O, AY, AI
    ),
    Script("Tibetan", ((0x0F00, 0x0FFF),), spaced=False, marked_syllables=True),
    Script(
        "Myanmar", ((0x1000, 0x109F), (0xA9E0, 0xA9FF), (0xAA60, 0xAA7F)), spaced=False,
        binds="\u1039",  # VIRAMA: stacks the next consonant under this one
    ),
    Script(
        "Khmer", ((0x1780, 0x17FF), (0x19E0, 0x19FF)), spaced=False,
        binds="\u17d2",  # COENG: the next consonant is a subscript of this syllable
    ),
    Script(
        "Han",
        (
            (0x2E80, 0x2FDF), (0x3005, 0x3007), (0x3021, 0x3029), (0x3038, 0x303B), (0x3400, 0x4DBF),
            (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3FFFD),
        ),
        spaced=False,
        continues="\u3005",  # IDEOGRAPHIC ITERATION MARK repeats the character before it
    ),
    Script(
        "Kana", ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F)), spaced=False,
        # Small kana close the mora of the kana before them; the prolonged sound mark and
        # iteration marks lengthen or repeat it.
        continues="ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿーゝゞヽヾ",
    ),
)

DEFAULT = Script("Other", (), spaced=True)  # digits, punctuation and every script not listed

_TABLE = sorted((start, end, script) for script in SCRIPTS for start, end in script.ranges)
_STARTS = [start for start, _, _ in _TABLE]
_LATIN = SCRIPTS[0]


def script_of(char: str) -> Script:
    code = ord(char)
    if code < 0x80:
        return _LATIN if char.isalpha() else DEFAULT
    i = bisect_right(_STARTS, code) - 1
    if i >= 0 and code <= _TABLE[i][1]:
        return _TABLE[i][2]
    return DEFAULT


def unspaced_class() -> str:
    """A regular-expression character class body of every script written without spaces."""
    return "".join(
        f"{chr(start)}-{chr(end)}" for script in SCRIPTS if not script.spaced for start, end in script.ranges
    )


def _is_mark(char: str) -> bool:
    return unicodedata.category(char) in ("Mn", "Mc")


def _joins(before: str, char: str) -> bool:
    """True when `before` and `char` are letters of one word in a script with spaces, or of
    one syllable in a script that marks its syllables."""
    if not before.isalnum():
        return False
    script, previous = script_of(char), script_of(before)
    if script.spaced:
        return previous.spaced
    return script.marked_syllables and previous is script


def starts_clean(text: str, start: int) -> bool:
    """A name found at text[start:] does not start inside a word or cluster."""
    first = text[start]
    if _is_mark(first):
        return False  # a vowel sign, subscript or tone mark of the letter before
    if start == 0:
        return True
    before = text[start - 1]
    return before not in script_of(before).binds and not _joins(before, first)


def ends_clean(text: str, end: int) -> bool:
    """A name found at text[:end] does not end inside a word or cluster."""
    if end >= len(text):
        return True
    last, after = text[end - 1], text[end]
    if last in script_of(last).binds:
        return False
    if _is_mark(after) or after in script_of(after).continues:
        return False
    script = script_of(last)
    return not (script.spaced and after.isalnum() and script_of(after).spaced)
