"""Feed bodies into entries: every format, stable identity, plain text, hostile input."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from feedserver import BOMB_XML

from monitor.errors import ParseError
from monitor.parse import html_to_text, parse_feed

RSS_092 = b"""<?xml version="1.0"?>
<rss version="0.92"><channel><title>Old outlet</title><link>https://old.example/</link>
<description>RSS 0.92</description>
<item><title>Kem Sokha in court</title><link>https://old.example/1</link>
<description>&lt;p&gt;Hearing &amp;amp; more.&lt;/p&gt;</description></item>
</channel></rss>"""

RSS_10 = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
  xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://rdf.example/"><title>RDF outlet</title><link>https://rdf.example/</link>
<description>RSS 1.0</description><items><rdf:Seq><rdf:li resource="https://rdf.example/1"/></rdf:Seq></items></channel>
<item rdf:about="https://rdf.example/1"><title>Sam Rainsy statement</title><link>https://rdf.example/1</link>
<description>Statement issued.</description><dc:date>2023-03-03T09:00:00+07:00</dc:date></item>
</rdf:RDF>"""

RSS_20 = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>New outlet</title><link>https://new.example/</link>
<description>RSS 2.0</description><language>en</language>
<item><guid isPermaLink="false">new-1</guid><title>Mu Sochua speaks</title><link>https://new.example/1</link>
<pubDate>Fri, 03 Mar 2023 09:00:00 +0700</pubDate><description>Speech.</description></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en"><id>tag:atom.example,2023:feed</id>
<title>Atom outlet</title><updated>2023-03-03T02:00:00Z</updated>
<entry><id>tag:atom.example,2023:1</id><title type="html">Kem Sokha &lt;em&gt;sentenced&lt;/em&gt;</title>
<link rel="alternate" href="https://atom.example/1"/><published>2023-03-03T09:00:00+07:00</published>
<updated>2023-03-03T10:00:00+07:00</updated>
<summary type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>The court <b>convicted</b> him.</p></div></summary>
<content type="html">&lt;p&gt;Full text.&lt;/p&gt;&lt;p&gt;Second paragraph.&lt;/p&gt;</content>
</entry></feed>"""

FRIDAY_UTC = datetime(2023, 3, 3, 2, tzinfo=UTC)


def test_rss_092() -> None:
    feed = parse_feed(RSS_092, source="old.xml")
    assert feed.title == "Old outlet" and feed.problem is None
    (entry,) = feed.entries
    assert entry.title == "Kem Sokha in court"
    assert entry.link == "https://old.example/1"
    assert entry.id == "https://old.example/1"  # no guid: the link
    assert entry.summary == "Hearing & more."
    assert entry.source == "old.xml"
    assert entry.published is None


def test_rss_10() -> None:
    (entry,) = parse_feed(RSS_10, source="rdf.rdf").entries
    assert entry.title == "Sam Rainsy statement"
    assert entry.link == "https://rdf.example/1"
    assert entry.summary == "Statement issued."
    assert entry.published == FRIDAY_UTC


def test_rss_20() -> None:
    feed = parse_feed(RSS_20, source="new.xml", feed="New outlet")
    (entry,) = feed.entries
    assert entry.id == "new-1"
    assert entry.title == "Mu Sochua speaks"
    assert entry.published == FRIDAY_UTC
    assert entry.published.tzinfo is not None
    assert entry.language == "en"
    assert entry.feed == "New outlet"


def test_atom() -> None:
    (entry,) = parse_feed(ATOM, source="a.atom").entries
    assert entry.id == "tag:atom.example,2023:1"
    assert entry.title == "Kem Sokha sentenced"
    assert entry.link == "https://atom.example/1"
    assert entry.published == FRIDAY_UTC  # published, not updated
    assert entry.summary == "The court convicted him."
    assert entry.content == "Full text.\nSecond paragraph."


def _item(inner: str) -> bytes:
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>https://t.example/</link>'
        f"<description>d</description><item>{inner}</item></channel></rss>"
    ).encode()


def test_entry_id_is_guid_then_link_then_a_hash() -> None:
    with_guid = _item("<guid>g-1</guid><link>https://t.example/1</link><title>A</title>")
    with_link = _item("<link>https://t.example/1</link><title>A</title>")
    bare = _item("<title>A</title><description>text</description><pubDate>Fri, 03 Mar 2023 09:00:00 GMT</pubDate>")
    assert parse_feed(with_guid, source="s").entries[0].id == "g-1"
    assert parse_feed(with_link, source="s").entries[0].id == "https://t.example/1"
    hashed = parse_feed(bare, source="s").entries[0].id
    assert hashed.startswith("sha256:")
    # stable within a run, across sources, and not tied to the position in the feed
    assert parse_feed(bare, source="other").entries[0].id == hashed
    two = _item("<title>Z</title></item><item><title>A</title><description>text</description>"
                "<pubDate>Fri, 03 Mar 2023 09:00:00 GMT</pubDate>")
    assert parse_feed(two, source="s").entries[1].id == hashed
    # different title or date: a different id
    other = _item("<title>B</title><pubDate>Fri, 03 Mar 2023 09:00:00 GMT</pubDate>")
    assert parse_feed(other, source="s").entries[0].id != hashed


def test_the_hash_id_is_stable_across_processes() -> None:
    """Python's hash() is salted per process; the fallback id must not be."""
    code = (
        "from monitor.parse import parse_feed;"
        "body=b'<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T</title>"
        "<item><title>Kem Sokha</title><pubDate>Fri, 03 Mar 2023 09:00:00 GMT</pubDate></item></channel></rss>';"
        "print(parse_feed(body, source='x').entries[0].id)"
    )
    ids = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env={"PYTHONHASHSEED": str(seed), "PATH": ""}).stdout.strip()
        for seed in (1, 2)
    }
    assert len(ids) == 1 and next(iter(ids)).startswith("sha256:")


def test_guid_whitespace_is_trimmed() -> None:
    assert parse_feed(_item("<guid>\n  g-2  \n</guid><title>A</title>"), source="s").entries[0].id == "g-2"


def test_html_is_stripped_and_entities_decoded() -> None:
    body = _item(
        "<guid>h</guid><title>Court &amp;amp; &lt;b&gt;Kem Sokha&lt;/b&gt;&amp;#8217;s appeal</title>"
        "<description>&lt;p&gt;First&amp;nbsp;line &amp;mdash; &lt;a href='x'&gt;link&lt;/a&gt;.&lt;/p&gt;"
        "&lt;script&gt;alert('Kem Sokha')&lt;/script&gt;&lt;style&gt;p{color:red}&lt;/style&gt;"
        "&lt;p&gt;Second&lt;br/&gt;third&lt;/p&gt;&lt;!-- hidden --&gt;</description>"
    )
    entry = parse_feed(body, source="s").entries[0]
    # an inline tag may leave a space where it was ("Kem Sokha \u2019s"); the words are what count
    assert entry.title.replace(" \u2019", "\u2019") == "Court & Kem Sokha\u2019s appeal"
    assert entry.summary.replace(" .", ".") == "First line \u2014 link.\nSecond\nthird"
    assert "<" not in entry.summary and "&" not in entry.summary
    assert "alert" not in entry.summary and "color" not in entry.summary


def test_html_to_text() -> None:
    assert html_to_text("") == ""
    assert html_to_text("plain & simple") == "plain & simple"
    assert html_to_text("a &lt;b&gt; c") == "a <b> c"  # decoded text is not re-parsed as markup
    assert html_to_text("<div>one</div><div>two</div>") == "one\ntwo"
    assert html_to_text("<ul><li>x</li><li>y</li></ul>") == "x\ny"


BILLION_LAUGHS = BOMB_XML  # the same body tests/feedserver.py serves at /bomb.xml

QUADRATIC_BLOWUP = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "' + b"x" * 50_000 + b'">]>'
    b'<rss version="2.0"><channel><title>q</title><item><guid>q-1</guid><title>'
    + b"&a;" * 20_000
    + b"</title></item></channel></rss>"
)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("body", [BILLION_LAUGHS, QUADRATIC_BLOWUP], ids=["billion-laughs", "quadratic-blowup"])
def test_an_entity_bomb_is_defused(body: bytes) -> None:
    started = time.monotonic()
    try:
        feed = parse_feed(body, source="bomb.xml")
    except ParseError as exc:
        assert "bomb.xml" in str(exc)
    else:
        for entry in feed.entries:
            assert len(entry.title) + len(entry.summary) < 1_000_000
    assert time.monotonic() - started < 10


@pytest.mark.parametrize(
    "body",
    [
        b"<!DOCTYPE html><html><head><title>Not found</title></head><body><h1>404</h1></body></html>",
        b"<html><body><p>Moved</p></body></html>",
        b"",
        b"Service temporarily unavailable",
        b'{"error": "not a feed"}',
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Cut off</title><desc',
        b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>Hi</title></head>'
        b"<body><p>A page</p></body></html>",
        b"<CHANNEL><TITLE>Cut off</TITLE><ABSTRACT>",
        b"<root><channel><title>Not at the root</title></channel></root>",
    ],
    ids=["html5", "html", "empty", "text", "json", "truncated-without-entries", "xhtml", "truncated-cdf",
         "channel-not-root"],
)
def test_a_body_that_is_not_a_feed_raises_parse_error_naming_the_source(body: bytes) -> None:
    with pytest.raises(ParseError) as info:
        parse_feed(body, source="https://news.example/feed")
    assert "https://news.example/feed" in str(info.value)


def test_the_feed_name_is_preferred_in_errors() -> None:
    with pytest.raises(ParseError, match="Example News"):
        parse_feed(b"<html></html>", source="https://news.example/feed", feed="Example News")


def test_a_valid_feed_with_no_entries_is_not_an_error() -> None:
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title></channel></rss>'
    feed = parse_feed(body, source="quiet.xml")
    assert feed.entries == () and feed.problem is None


# feedparser's own corpus of odd and broken feeds, in ../shared beside the repository.
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "feedparser-tests" / "tests"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"feedparser test corpus not at {CORPUS}")


@needs_corpus
def test_every_well_formed_file_of_the_feedparser_corpus_is_a_feed() -> None:
    """Among them the CDF channels (Microsoft's Channel Definition Format) with no item yet:
    feedparser reads them but gives them no version; they were refused as not a feed."""
    refused = []
    for path in sorted((CORPUS / "wellformed").rglob("*.xml")):
        try:
            parse_feed(path.read_bytes(), source=str(path))
        except ParseError as exc:
            refused.append(f"{path.relative_to(CORPUS)}: {exc}")
    assert not refused, "\n".join(refused)


@needs_corpus
def test_a_cdf_channel_gives_its_title_and_its_items() -> None:
    cdf = CORPUS / "wellformed" / "cdf"
    channels = sorted(cdf.glob("channel_*.xml"))
    assert len(channels) == 7
    assert parse_feed((cdf / "channel_title.xml").read_bytes(), source="cdf").title == "Example feed"
    item = parse_feed((cdf / "item_title.xml").read_bytes(), source="cdf").entries
    assert [e.title for e in item] == ["Example item"]


def test_a_cdf_channel_with_a_prolog_and_lower_case_tags_is_a_feed() -> None:
    body = (b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- a comment -->\n<!DOCTYPE CHANNEL>\n'
            b'<channel href="https://cdf.example/"><title>CDF outlet</title>'
            b'<item href="https://cdf.example/1"><title>Kem Sokha in court</title></item></channel>')
    feed = parse_feed(body, source="cdf.xml")
    assert feed.title == "CDF outlet"
    assert [(e.title, e.link) for e in feed.entries] == [("Kem Sokha in court", "https://cdf.example/1")]
    empty = b'<?xml version="1.0"?><CHANNEL HREF="https://cdf.example/"><TITLE>Quiet</TITLE></CHANNEL>'
    assert parse_feed(empty, source="cdf.xml").entries == ()


def test_a_malformed_feed_with_entries_keeps_them_and_says_why() -> None:
    body = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
            b"<item><guid>k-1</guid><title>Kept</title></item><item><title>Lost & broken")
    feed = parse_feed(body, source="half.xml")
    assert [e.id for e in feed.entries][:1] == ["k-1"]
    assert feed.problem


def test_declared_encoding_is_honoured() -> None:
    body = '<?xml version="1.0" encoding="windows-1252"?><rss version="2.0"><channel><title>T</title>' \
           "<item><guid>e</guid><title>Caf\u00e9 \u2014 d\u00e9j\u00e0</title></item></channel></rss>"
    entry = parse_feed(body.encode("windows-1252"), source="enc.xml").entries[0]
    assert entry.title == "Caf\u00e9 \u2014 d\u00e9j\u00e0"


def test_khmer_text_survives_parsing() -> None:
    body = _item("<guid>km</guid><title>កឹម សុខា ត្រូវ\u200bតុលាការ\u200bផ្តន្ទាទោស</title>")
    assert parse_feed(body, source="km.xml").entries[0].title == "កឹម សុខា ត្រូវ\u200bតុលាការ\u200bផ្តន្ទាទោស"
