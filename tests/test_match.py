"""Matching watched subjects in entries, with the shipped watchlist (config/watchlists/).

Names in Latin and Khmer, invisible characters, case, possessives, short forms, exclusions,
word boundaries, and officials who are context, never subjects.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.judge.match import Matcher, MatchResult
from monitor.model import Entry
from monitor.parse import parse_feed

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    config = load_config(REPO / "config", REPO / "baseline")
    return Matcher(config.subjects, config.cases.values())


def match(matcher: Matcher, title: str, summary: str = "", content: str = "") -> MatchResult:
    entry = Entry(id="e", source="test", title=title, link="", published=datetime(2023, 3, 3, tzinfo=UTC),
                  summary=summary, content=content)
    return matcher.match(entry)


@pytest.mark.parametrize(
    "title",
    [
        "Kem Sokha appears in court",
        "KEM SOKHA APPEARS IN COURT",
        "kem sokha appears in court",
        "Kem Sokha's lawyers appeal",
        "Kem Sokha\u2019s lawyers appeal",  # typographic apostrophe
        "Court hears Kem Sokha.",
        "(Kem Sokha) in court",
        "Kem  Sokha in court",  # two spaces
        "Kem\u00a0Sokha in court",  # no-break space
        "Kem\u200b Sokha in court",  # zero-width space beside the space
        "Ke\u200bm Sokha in court",  # zero-width space inside the name
        "Kem Sokha\u200b in court",
    ],
)
def test_the_full_latin_name_is_found(matcher: Matcher, title: str) -> None:
    assert match(matcher, title).people == ("Kem Sokha",)


@pytest.mark.parametrize(
    "title",
    [
        "កឹម សុខា ចូលសវនាការ",  # with the space between family and given name
        "កឹមសុខា ចូលសវនាការ",  # without it
        "កឹម\u200bសុខា ចូលសវនាការ",  # a zero-width space instead
        "កឹម\u200b សុខា ចូលសវនាការ",
        "លោក\u200bកឹម\u200bសុខា\u200bចូល\u200bសវនាការ",  # ZWSP between every word, as Khmer sites write
        "តុលាការ​កាត់ទោស លោក កឹម សុខា ២៧ឆ្នាំ",
    ],
)
def test_the_full_khmer_name_is_found(matcher: Matcher, title: str) -> None:
    assert match(matcher, title).people == ("Kem Sokha",)


def test_every_alias_maps_to_the_canonical_name(matcher: Matcher) -> None:
    result = match(matcher, "Sâm Rângsi and មូ សុខហួរ speak", "Cambodia National Rescue Party leaders")
    assert set(result.people) == {"Sam Rainsy", "Mu Sochua", "CNRP"}


def test_a_short_form_alone_names_no_one(matcher: Matcher) -> None:
    assert match(matcher, "Sokha arrives in Phnom Penh").people == ()
    assert match(matcher, "សុខា មកដល់ភ្នំពេញ").people == ()
    assert match(matcher, "Rainsy writes again", "Sochua replies").people == ()


def test_a_short_form_counts_with_the_full_name_in_the_same_entry(matcher: Matcher) -> None:
    result = match(matcher, "Sokha sentenced", "Opposition leader Kem Sokha was sentenced on Friday.")
    assert result.people == ("Kem Sokha",)
    title_hits = [m for m in result.mentions if m.field == "title"]
    assert [(m.subject, m.alias) for m in title_hits] == [("Kem Sokha", "Sokha")]


@pytest.mark.parametrize(
    "title",
    [
        "ASEAN ministers meet at Sokha Hotel",
        "Sokha Phnom Penh Hotel to host summit",
        "Sokha Beach Resort reopens after renovation",
        "Sam Sokha wins boxing title",
        "Chea Sokha named provincial governor",
        "សណ្ឋាគារសុខា បើកជាថ្មី",
        "Preah Neak Poan temple restored",
    ],
)
def test_exclusions_name_no_subject(matcher: Matcher, title: str) -> None:
    assert match(matcher, title).people == ()


def test_an_exclusion_does_not_hide_the_real_subject_elsewhere(matcher: Matcher) -> None:
    result = match(matcher, "Kem Sokha's supporters gather outside Sokha Hotel")
    assert result.people == ("Kem Sokha",)
    result = match(matcher, "Sam Sokha and Kem Sokha both in the news")
    assert result.people == ("Kem Sokha",)


def test_a_short_form_inside_an_exclusion_does_not_count(matcher: Matcher) -> None:
    result = match(matcher, "Kem Sokha", "Delegates stayed at the Sokha Hotel.")
    assert all(m.field == "title" for m in result.mentions)


@pytest.mark.parametrize(
    "title",
    ["Kem Sokhan opens a shop", "Kem Sokhas", "AKem Sokha", "Kem Sokha2 account", "Kem Leyton visits"],
)
def test_names_are_whole_words(matcher: Matcher, title: str) -> None:
    assert match(matcher, title).people == ()


def test_officials_and_rights_workers_are_context_not_people(matcher: Matcher) -> None:
    result = match(matcher, "Hun Sen speaks at a ceremony", "Am Sam Ath of Licadho commented.")
    assert result.people == ()
    assert set(result.others) == {"Hun Sen", "Am Sam Ath"}
    result = match(matcher, "Hun Sen says Kem Sokha may be pardoned")
    assert result.people == ("Kem Sokha",)
    assert result.others == ("Hun Sen",)
    assert match(matcher, "ហ៊ុន សែន ថ្លែងសុន្ទរកថា").people == ()


def test_people_are_in_order_of_first_mention(matcher: Matcher) -> None:
    result = match(matcher, "Mu Sochua and Sam Rainsy", "Kem Sokha was not there.")
    assert result.people == ("Mu Sochua", "Sam Rainsy", "Kem Sokha")


def test_html_is_stripped_before_matching() -> None:
    body = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
    <link>https://t.example/</link><description>d</description>
    <item><guid>h1</guid><title>Court &lt;b&gt;ruling&lt;/b&gt;</title>
    <description>&lt;p&gt;Opposition leader &lt;a href="/kem"&gt;Kem&lt;/a&gt; &lt;b&gt;Sokha&lt;/b&gt; was &lt;i&gt;sentenced&lt;/i&gt;.&lt;/p&gt;</description></item>
    <item><guid>h2</guid><title>Hotel news</title>
    <description>&lt;p&gt;&lt;img alt="Kem Sokha" src="kem-sokha.jpg"&gt; Tourism is up.&lt;/p&gt;&lt;!-- Kem Sokha --&gt;</description></item>
    <item><guid>h3</guid><title>Kem&amp;nbsp;Sokha&amp;#8217;s appeal</title><description>x</description></item>
    </channel></rss>"""
    config = load_config(REPO / "config", REPO / "baseline")
    matcher = Matcher(config.subjects, config.cases.values())
    entries = {e.id: e for e in parse_feed(body, source="html.xml").entries}
    assert matcher.match(entries["h1"]).people == ("Kem Sokha",)
    assert matcher.match(entries["h2"]).people == ()  # names in attributes and comments are not text
    assert matcher.match(entries["h3"]).people == ("Kem Sokha",)


def test_a_name_wrapped_across_lines_inside_html_is_found() -> None:
    body = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
    <link>https://t.example/</link><description>d</description>
    <item><guid>w1</guid><title>Court ruling</title>
    <description>&lt;p&gt;The court sentenced opposition leader Kem
    Sokha to 27 years of house arrest.&lt;/p&gt;</description></item>
    </channel></rss>"""
    config = load_config(REPO / "config", REPO / "baseline")
    matcher = Matcher(config.subjects, config.cases.values())
    entry = parse_feed(body, source="wrapped.xml").entries[0]
    assert matcher.match(entry).people == ("Kem Sokha",)


def test_case_keywords_are_found(matcher: Matcher) -> None:
    result = match(matcher, "Kem Sokha treason trial", "ក្បត់ជាតិ")
    assert {(k.case, k.field) for k in result.keywords} >= {("kem-sokha-treason", "title"), ("kem-sokha-treason", "summary")}
