"""A language the package does not ship, added by a user as a file in config/languages/.

The worked example of the README: Indonesian, with a watched person, read end to end by
`monitor scan` and `monitor config check` as a user runs them (a subprocess).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.judge import lexicon

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # subprocesses, as a user runs them

INDONESIAN = """\
language: id
name: Indonesian
spacing: words
types:
  arrest: [ditangkap, menangkap, ditahan polisi]
  conviction: [divonis, dijatuhi hukuman]
  release: [dibebaskan]
negations: [menuntut, mendesak, akan]
dates:
  days_before: {kemarin: 1, hari ini: 0}
  weekdays: {senin: 0, selasa: 1, rabu: 2, kamis: 3, jumat: 4, sabtu: 5, minggu: 6}
"""

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Kabar</title><language>id</language>
<item><guid>https://kabar.example/1</guid><title>Aktivis Jane Doe ditangkap kemarin</title>
<link>https://kabar.example/1</link><pubDate>Thu, 02 May 2024 09:00:00 +0700</pubDate>
<description>Polisi menangkap Jane Doe di rumahnya.</description></item>
<item><guid>https://kabar.example/2</guid><title>Kelompok HAM mendesak Jane Doe dibebaskan</title>
<link>https://kabar.example/2</link><pubDate>Fri, 03 May 2024 09:00:00 +0700</pubDate>
<description>Mereka menuntut agar Jane Doe dibebaskan.</description></item>
</channel></rss>
"""

WATCHLIST = """\
name: example
subjects:
  - name: Jane Doe
    aliases: ["Jane Doe"]
    cases: [doe-case]
cases:
  - id: doe-case
    title: Jane Doe's case
    subjects: [Jane Doe]
"""

FEEDS = """\
feeds:
  - name: Kabar
    url: https://kabar.example/feed
    language: id
"""


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    config, baseline = tmp_path / "config", tmp_path / "baseline"
    (config / "watchlists").mkdir(parents=True)
    (config / "watchlists" / "example.yaml").write_text(WATCHLIST, encoding="utf-8")
    (config / "feeds.yaml").write_text(FEEDS, encoding="utf-8")
    (baseline / "cases").mkdir(parents=True)
    (baseline / "sources.yaml").write_text("sources: []\n", encoding="utf-8")
    (tmp_path / "kabar.xml").write_text(FEED, encoding="utf-8")
    yield config, baseline
    lexicon.install()  # other tests in this process read the shipped packs only


def monitor(config: Path, baseline: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "monitor", "--config", str(config), "--baseline", str(baseline), *args],
                          capture_output=True, text=True, cwd=REPO, check=False)


def scan(config: Path, baseline: Path) -> list[dict]:
    run = monitor(config, baseline, "scan", str(config.parent / "kabar.xml"))
    return [json.loads(line) for line in run.stdout.splitlines()], run.stderr


def test_without_a_pack_the_language_is_matched_by_name_only_and_said_so(folders: tuple[Path, Path]) -> None:
    config, baseline = folders
    lines, stderr = scan(config, baseline)
    assert [line["verdict"] for line in lines] == ["mention", "mention"]
    assert "language 'id'" in stderr
    check = monitor(config, baseline, "config", "check")
    assert check.returncode == 0 and "feeds.yaml" in check.stderr and "'id'" in check.stderr


def test_a_pack_in_config_languages_makes_the_language_read(folders: tuple[Path, Path]) -> None:
    config, baseline = folders
    (config / "languages").mkdir()
    (config / "languages" / "id.yaml").write_text(INDONESIAN, encoding="utf-8")
    lines, stderr = scan(config, baseline)
    arrest, call = lines
    assert arrest["verdict"] == "new"
    assert arrest["development"] == {"case": "doe-case", "type": "arrest", "date": "2024-05-01"}
    assert call["verdict"] == "mention"  # a call for release is a wish, not a release
    assert "language 'id'" not in stderr
    check = monitor(config, baseline, "config", "check")
    assert check.returncode == 0 and "'id'" not in check.stderr


@pytest.mark.parametrize(("text", "line", "reason"), [
    ("language: id\nspacing: words\ntypes:\n  arested: [ditangkap]\n", 4, "unknown development type"),
    ("language: id\nspacing: words\ntypes:\n  arrest:\n  - re: '(ditangkap'\n", 5, "bad regular expression"),
    ("language: id\nspacing: sometimes\n", 2, "spacing"),
    ("language: id\nspacing: words\nwords: [x]\n", 3, "unknown key"),
])
def test_a_bad_pack_is_refused_with_its_file_and_line(folders: tuple[Path, Path], text: str, line: int, reason: str) -> None:
    config, baseline = folders
    (config / "languages").mkdir()
    (config / "languages" / "id.yaml").write_text(text, encoding="utf-8")
    check = monitor(config, baseline, "config", "check")
    assert check.returncode == 2
    assert f"id.yaml:{line}" in check.stderr and reason in check.stderr, check.stderr


ASSET_FREEZE_WATCHLIST = WATCHLIST.replace("subjects:\n", """types:
  - id: asset_freeze
    words: assets frozen
    family: ban
    after: ban
subjects:
""", 1)

ENGLISH_WORDS = """\
language: en
spacing: words
types:
  asset_freeze: [froze the assets of, assets frozen, assets were frozen]
"""

FREEZE_FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Wire</title><language>en</language>
<item><guid>https://wire.example/1</guid><title>Court froze the assets of Jane Doe on Monday</title>
<link>https://wire.example/1</link><pubDate>Thu, 02 May 2024 09:00:00 +0000</pubDate></item>
</channel></rss>
"""


def test_a_watchlist_adds_its_own_type_and_a_pack_gives_its_words(folders: tuple[Path, Path]) -> None:
    config, baseline = folders
    (config / "watchlists" / "example.yaml").write_text(ASSET_FREEZE_WATCHLIST, encoding="utf-8")
    (config / "languages").mkdir()
    # A pack for a shipped language adds to it: English keeps all its own words.
    (config / "languages" / "en.yaml").write_text(ENGLISH_WORDS, encoding="utf-8")
    feed = config.parent / "wire.xml"
    feed.write_text(FREEZE_FEED.replace("</channel>", """<item><guid>https://wire.example/2</guid>
<title>Jane Doe arrested at her home</title><link>https://wire.example/2</link>
<pubDate>Fri, 03 May 2024 09:00:00 +0000</pubDate></item></channel>"""), encoding="utf-8")
    run = monitor(config, baseline, "scan", str(feed))
    freeze, arrest = [json.loads(line) for line in run.stdout.splitlines()]
    assert freeze["verdict"] == "new"
    assert freeze["development"] == {"case": "doe-case", "type": "asset_freeze", "date": "2024-04-29"}
    assert (arrest["verdict"], arrest["development"]["type"]) == ("new", "arrest")
    # The baseline may use the watchlist's type too.
    (baseline / "cases" / "doe-case.yaml").write_text(
        "id: doe-case\ntitle: Jane Doe's case\nsubjects: [Jane Doe]\nevents:\n"
        "  - {date: 2024-04-29, type: asset_freeze, summary: Her assets were frozen.}\n", encoding="utf-8")
    run = monitor(config, baseline, "scan", str(feed))
    assert json.loads(run.stdout.splitlines()[0])["verdict"] == "known"


@pytest.mark.parametrize(("declared", "reason"), [
    ("  - {id: arrest, words: arrested again}\n", "already a development type"),
    ("  - {id: asset_freeze, words: assets frozen, after: bann}\n", "did you mean 'ban'"),
])
def test_a_watchlist_type_that_cannot_be_is_refused_with_its_line(folders: tuple[Path, Path], declared: str, reason: str) -> None:
    config, baseline = folders
    (config / "watchlists" / "example.yaml").write_text(WATCHLIST.replace("subjects:\n", "types:\n" + declared + "subjects:\n", 1),
                                                        encoding="utf-8")
    check = monitor(config, baseline, "config", "check")
    assert check.returncode == 2
    assert "example.yaml:3" in check.stderr and reason in check.stderr, check.stderr
