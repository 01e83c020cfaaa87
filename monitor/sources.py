"""Which files a command reads: sources as given, folders as the files in them that fit."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from pathlib import Path


def expand_sources(sources: Iterable[str], suffixes: Collection[str]) -> Iterator[str]:
    """Files as given, folders as their files with one of `suffixes` (sorted, recursive), URLs as given.

    In a folder only files that look like the wanted kind are read (a README beside feeds is
    not an error); a file named explicitly is always read.
    """
    for source in sources:
        if source.startswith(("http://", "https://")):
            yield source
            continue
        path = Path(source)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix.lower() in suffixes:
                    yield str(child)
        else:
            yield source
