"""The one table of development types agrees with every place that names a type."""

from __future__ import annotations

from monitor.judge import lexicon
from monitor.model import DEVELOPMENT_TYPE_TABLE, DEVELOPMENT_TYPES, TYPE_FAMILY, TYPE_WORDS


def test_type_ids_are_unique_and_each_has_family_and_words() -> None:
    assert len(set(DEVELOPMENT_TYPES)) == len(DEVELOPMENT_TYPES)
    for development_type in DEVELOPMENT_TYPE_TABLE:
        assert development_type.family and development_type.words, development_type
    assert set(TYPE_FAMILY) == set(TYPE_WORDS) == set(DEVELOPMENT_TYPES)


def test_every_type_a_language_pack_names_is_in_the_table() -> None:
    named = set(lexicon.SPACED_TYPES) | set(lexicon.UNSPACED_TYPES)
    assert named <= set(DEVELOPMENT_TYPES), named - set(DEVELOPMENT_TYPES)
