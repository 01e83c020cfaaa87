"""The parse fast path (monitor/feedread.py) against feedparser itself: for every feed of
feedparser's own test corpus and of tests/data, the fast path either refuses it or gives
feedparser's entries, field for field, as the monitor reads them."""

from __future__ import annotations

import random
import warnings
from io import BytesIO
from pathlib import Path
from typing import Any

import feedparser
import pytest

from monitor import feedread
from monitor.errors import ParseError
from monitor.parse import _to_entry, html_to_text, parse_feed

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpora" / "feedparser-tests" / "tests"
DATA = REPO / "tests" / "data"
FEED_SUFFIXES = {".xml", ".rss", ".atom", ".rdf"}
# No headers (a file), an HTTP answer with a base, a language and an XML type, and one with
# text/xml (which RFC 3023 reads as US-ASCII, so feedparser flags most bodies).
HEADER_SETS: tuple[dict[str, str], ...] = (
    {},
    {"content-type": "application/xml", "content-language": "fr_CA", "content-location": "http://example.org/feeds/x.xml"},
    {"content-type": "text/xml"},
)


def _view(parsed: Any) -> tuple[Any, ...]:
    """What parse_feed takes from a feedparser result: the feed's title, language and ttl, and
    every entry as the monitor builds it."""
    language = parsed.feed.get("language") or None
    entries = tuple(_to_entry(raw, source="s", feed="f", language=language) for raw in parsed.entries)
    ttl = str(parsed.feed.get("ttl", "") or "").strip()
    return html_to_text(parsed.feed.get("title", "")), language, ttl, entries


def _reference(body: bytes, headers: dict[str, str]) -> tuple[Any, ...]:
    with warnings.catch_warnings():
        # feedparser warns when `updated_parsed` falls back to `published_parsed`.
        warnings.simplefilter("ignore", DeprecationWarning)
        parsed = feedparser.parse(BytesIO(body), response_headers=dict(headers), sanitize_html=False,
                                  resolve_relative_uris=False)
        assert not parsed.get("bozo"), f"the fast path accepted a body feedparser flags: {parsed.get('bozo_exception')}"
        return _view(parsed)


def _accepted_and_equal(body: bytes, headers: dict[str, str]) -> bool:
    """False when the fast path refuses; True when it reads the body exactly as feedparser."""
    try:
        fast = feedread.read_feed(body, headers, strict=True)
    except feedread.Refused:
        return False
    assert fast is not None
    assert _view(fast) == _reference(body, headers)
    return True


def _feed_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in FEED_SUFFIXES and p.is_file())


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared/corpora not beside the repository")
@pytest.mark.parametrize("headers", HEADER_SETS, ids=["file", "http-xml", "text-xml"])
def test_corpus_refused_or_equal(headers: dict[str, str]) -> None:
    files = _feed_files(CORPUS)
    assert len(files) > 1700
    accepted = [path for path in files if _accepted_and_equal(path.read_bytes(), headers)]
    # Last count (file headers): 641 of 1,768. Most of the corpus tests one feed-level
    # element each, with no entry, or is Atom 0.3 / CDF / XHTML content: all refused.
    if headers.get("content-type") != "text/xml":
        assert len(accepted) >= 600


def test_repository_feeds_refused_or_equal() -> None:
    files = _feed_files(DATA)
    assert files
    accepted = [path for path in files for headers in HEADER_SETS[:2] if _accepted_and_equal(path.read_bytes(), headers)]
    # Every RSS 2.0, RSS 1.0 and Atom file of the repository but one (Atom with XHTML) is read fast.
    assert len(accepted) >= 2 * (len(files) - 2)


RSS = """<?xml version="1.0" encoding="{encoding}"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:media="http://search.yahoo.com/mrss/" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:sl="http://purl.org/rss/1.0/modules/slash/"
  xmlns:x="http://example.org/ext">
<channel><title>Outlet &amp; Co</title><link>https://outlet.example/</link><ttl>45</ttl><language>km</language>
<atom:link rel="self" href="https://outlet.example/feed"/>
<image><title>Logo</title><url>https://outlet.example/logo.png</url><link>https://outlet.example/</link></image>
{items}
</channel></rss>"""

ITEMS = {
    "plain": "<item><title>Kem Sokha</title><link>https://outlet.example/1</link><guid>https://outlet.example/1</guid>"
             "<pubDate>Fri, 03 Mar 2023 09:00:00 +0700</pubDate><description>&lt;p&gt;Court &amp;amp; more&lt;/p&gt;</description></item>",
    "content before description": "<item><title>A</title><content:encoded><![CDATA[<p>Full</p>]]></content:encoded>"
             "<description>Short</description></item>",
    "two descriptions": "<item><title>A</title><description>One</description><description>Two</description></item>",
    "media caption": "<item><title>A</title><description>D</description><media:content url='https://x.example/p.jpg'>"
             "<media:title>Photo</media:title><media:description type='plain'>Caption</media:description></media:content></item>",
    "media title first": "<item><media:title>Photo</media:title><title>Real</title></item>",
    "empty title then title": "<item><title></title><dc:title>Second</dc:title></item>",
    "guid not permalink": "<item><guid isPermaLink='false'>42</guid><title>A</title></item>",
    "guid True": "<item><guid isPermaLink='True'>/relative/42</guid><title>A</title></item>",
    "relative link": "<item xml:base='https://base.example/dir/'><title>A</title><link>../a?x=1&amp;amp;y=2</link></item>",
    "dc date and pubDate": "<item><title>A</title><dc:date>2023-03-01T00:00:00Z</dc:date><pubDate>garbage</pubDate></item>",
    "dates only updated": "<item><title>A</title><dc:date>2023-03-01</dc:date></item>",
    "source resets title": "<item><title>A</title><source url='https://s.example/'>S</source><media:title>M</media:title></item>",
    "unknown extensions": "<item><title>A</title><sl:comments>3</sl:comments><x:thing a='1'>t</x:thing>"
             "<x:wrap><x:inner>i</x:inner></x:wrap><comments>https://c.example/</comments>"
             "<category domain='d'>Cat</category><dc:creator>Me</dc:creator><author>me@x.example (Me)</author>"
             "<enclosure url='https://e.example/a.mp3' length='1' type='audio/mpeg'/></item>",
    "item language": "<item><title>A</title><dc:language>en</dc:language></item>",
    "atom link in item": "<item><title>A</title><atom:link href='/rel' rel='alternate'/></item>",
    "c1 and mojibake": "<item><title>\u0093Quoted\u0094 caf\u00c3\u00a9</title></item>",
    "no id no link": "<item><title>Only a title</title></item>",
}


@pytest.mark.parametrize("shape", sorted(ITEMS))
@pytest.mark.parametrize("headers", HEADER_SETS[:2], ids=["file", "http-xml"])
def test_entry_shapes_read_as_feedparser_reads_them(shape: str, headers: dict[str, str]) -> None:
    body = RSS.format(encoding="utf-8", items=ITEMS[shape] * 2).encode()
    assert _accepted_and_equal(body, headers), f"{shape} refused"


ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="de" xml:base="https://atom.example/blog/">
<title type="html">Blog &lt;b&gt;name&lt;/b&gt;</title><id>tag:atom.example,2023:feed</id>
<entry><id>tag:atom.example,2023:1</id><title>One</title><link href="posts/1"/>
<link rel="enclosure" href="/a.mp3"/><published>2023-03-03T09:00:00+07:00</published>
<author><name>N</name><email>n@atom.example</email></author><category term="t"/>
<summary type="html">&lt;p&gt;S&lt;/p&gt;</summary><content type="html">&lt;p&gt;C&lt;/p&gt;</content></entry>
<entry xml:base="/other/"><id>urn:uuid:1</id><title>Two</title><updated>2023-03-04T00:00:00Z</updated>
<content type="text">Plain &amp; simple</content></entry>
<entry><id>relative-id</id><title>Three</title></entry>
</feed>"""


def test_atom_with_bases_is_read_as_feedparser_reads_it() -> None:
    for headers in HEADER_SETS[:2]:
        assert _accepted_and_equal(ATOM.encode(), headers)


def test_windows_1252_declared_feed_is_read_as_feedparser_reads_it() -> None:
    body = RSS.format(encoding="windows-1252", items=ITEMS["plain"].replace("Court", "Cour\u2019s caf\u00e9")).encode("cp1252")
    assert _accepted_and_equal(body, {})


@pytest.mark.parametrize(
    ("why", "body"),
    [
        ("xhtml content", ATOM.replace('<content type="text">Plain &amp; simple</content>',
                                       '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">X</div></content>')),
        ("doctype", RSS.replace('<rss version', '<!DOCTYPE rss [<!ENTITY e "x">]>\n<rss version').format(
            encoding="utf-8", items=ITEMS["plain"])),
        ("unknown default namespace", RSS.format(encoding="utf-8", items=ITEMS["plain"].replace(
            "<item>", "<item xmlns='http://example.org/not-rss'>"))),
        ("known prefix rebound", RSS.format(encoding="utf-8", items=ITEMS["plain"]).replace(
            'xmlns:x="http://example.org/ext"', 'xmlns:x="http://example.org/ext" xmlns:content="http://purl.org/dc/elements/1.1/"')),
        ("markup in a description", RSS.format(encoding="utf-8", items="<item><description><b>x</b></description></item>")),
        ("not well-formed", RSS.format(encoding="utf-8", items=ITEMS["plain"]).replace("</channel>", "")),
        ("no entries", RSS.format(encoding="utf-8", items="")),
    ],
)
def test_what_the_fast_path_is_unsure_of_is_refused(why: str, body: str) -> None:
    with pytest.raises(feedread.Refused):
        feedread.read_feed(body.encode(), {}, strict=True)
    assert feedread.read_feed(body.encode(), {}) is None


def test_refused_feeds_still_parse_through_feedparser() -> None:
    body = ATOM.replace('<content type="text">Plain &amp; simple</content>',
                        '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Kem <b>Sokha</b></p></div></content>')
    feed = parse_feed(body.encode(), source="atom.xml")
    assert [entry.title for entry in feed.entries] == ["One", "Two", "Three"]
    assert feed.entries[1].summary == "Kem Sokha"


def test_a_broken_body_is_still_an_error_naming_the_feed() -> None:
    with pytest.raises(ParseError, match="Broken Outlet"):
        parse_feed(b"<html><body>Service unavailable</body></html>", source="https://broken.example/feed",
                   feed="Broken Outlet")


# --- a random mix of every element shape the fast path models, in any order and nesting ---

_NS = ('xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
      'xmlns:media="http://search.yahoo.com/mrss/" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" '
      'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:slash="http://purl.org/rss/1.0/modules/slash/" xmlns:x="http://example.org/ext"')

_DATES = ["Fri, 03 Mar 2023 09:00:00 +0700", "2023-03-01T00:00:00Z", "2023-03-01", "garbage", "", "Thu, 01 Jan 2004 19:48:21 GMT", "2004-02-28T18:14:55-08:00", "Sun, 31 Dec 9999 23:59:59 -9999"]


def _date_el(rng: random.Random) -> str:
    tag = rng.choice(["pubDate", "dc:date", "published", "updated", "created", "dcterms:modified", "dcterms:created", "dcterms:issued", "issued", "modified", "lastBuildDate"])
    return f"<{tag}>{rng.choice(_DATES)}</{tag}>"


def _base(rng: random.Random) -> str:
    return rng.choice(["", "", "", ' xml:base="https://b.example/d/"', ' xml:base="/abs/"', ' xml:base="rel/"', ' xml:lang="km"'])


_PIECES = [
 lambda r: f"<title{_base(r)}>T{r.randint(0,9)} &amp; caf\u00e9</title>", lambda r: "<title></title>", lambda r: "<dc:title>D</dc:title>",
 lambda r: "<media:title>M</media:title>", lambda r: '<title type="html">&lt;b&gt;H&lt;/b&gt;</title>', lambda r: "<title>  \u0093q\u0094  </title>",
 lambda r: "<description>D1</description>", lambda r: "<description></description>", lambda r: "<dc:description>D2</dc:description>",
 lambda r: '<media:description type="plain">MD</media:description>', lambda r: "<itunes:summary>IS</itunes:summary>", lambda r: "<summary>S</summary>",
 lambda r: "<content:encoded><![CDATA[<p>C &amp; c</p>]]></content:encoded>", lambda r: '<content type="html">&lt;p&gt;X&lt;/p&gt;</content>', lambda r: "<content>plain</content>",
 lambda r: f"<link{_base(r)}>https://l.example/a</link>", lambda r: "<link>/rel?a=1&amp;amp;b=2&amp;c;</link>", lambda r: "<link></link>", lambda r: "<link>  </link>",
 lambda r: f'<atom:link href="h{r.randint(0,3)}"/>', lambda r: '<atom:link rel="self" href="s"/>', lambda r: '<atom:link href="x" type="application/xhtml+xml"/>',
 lambda r: '<link href="y" rel="Alternate" type="TEXT/HTML"/>', lambda r: '<link url="u"/>', lambda r: '<link href=""/>',
 lambda r: f"<guid{_base(r)}>G</guid>", lambda r: '<guid isPermaLink="false">G2</guid>', lambda r: '<guid isPermaLink="true">/rel</guid>', lambda r: "<id>I</id>", lambda r: "<guid></guid>",
 _date_el, _date_el, _date_el,
 lambda r: "<dc:language>en</dc:language>", lambda r: "<language> fr </language>", lambda r: "<ttl>5</ttl>",
 lambda r: "<category>c</category>", lambda r: "<author>a@b.example (A)</author>", lambda r: "<dc:creator>Me</dc:creator>",
 lambda r: '<enclosure url="e" length="1" type="audio/mpeg"/>', lambda r: "<comments>c</comments>", lambda r: "<slash:comments>3</slash:comments>",
 lambda r: '<source url="https://s.example/">S</source>', lambda r: '<media:content url="m"><media:title>MT</media:title><media:description>MC</media:description></media:content>',
 lambda r: "<media:group><media:title>G</media:title><title>inner</title></media:group>", lambda r: '<media:thumbnail url="t"/>',
 lambda r: '<x:thing a="1">t</x:thing>', lambda r: "<x:wrap><x:inner>i</x:inner><title>wrapped</title></x:wrap>", lambda r: "<x:date>2020</x:date>",
 lambda r: "<author><name>N</name><email>e@x.example</email></author>", lambda r: '<category term="t" scheme="s"/>',
 lambda r: "<itunes:author>IA</itunes:author>", lambda r: "<itunes:duration>1:00</itunes:duration>",
]


_CHANNEL = [lambda r: "<title>Chan</title>", lambda r: "<title></title>", lambda r: "<language>km</language>", lambda r: "<dc:language>th</dc:language>",
  lambda r: "<ttl> 30 </ttl>", lambda r: "<ttl>x</ttl>", lambda r: "<image><title>Img</title><url>u</url><link>l</link></image>",
  lambda r: "<textInput><title>TI</title><name>n</name><link>l</link><description>d</description></textInput>",
  lambda r: "<description>Chan desc</description>", lambda r: "<itunes:summary>CS</itunes:summary>", lambda r: "<link>https://c.example/</link>",
  lambda r: '<atom:link rel="self" href="s"/>', _date_el, lambda r: "<dc:title>DT</dc:title>", lambda r: "<media:title>MT</media:title>"]


def _item(r: random.Random, tag: str) -> str:
    kids = "".join(r.choice(_PIECES)(r) for _ in range(r.randint(0, 9)))
    return f"<{tag}{_base(r)}>{kids}</{tag}>"


def _random_feed(r: random.Random) -> str:
    kind = r.choice(["rss", "rss", "atom", "rdf"])
    def chan() -> str:
        return "".join(r.choice(_CHANNEL)(r) for _ in range(r.randint(0, 5)))

    if kind == "rss":
        items = "".join(_item(r, "item") for _ in range(r.randint(1, 3)))
        mix = [chan(), items, chan()] if r.random() < 0.2 else [chan(), items]
        return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0" {_NS}{_base(r)}><channel>{"".join(mix)}</channel></rss>'
    if kind == "atom":
        items = "".join(_item(r, "entry") for _ in range(r.randint(1, 3)))
        return f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" {_NS}{_base(r)}>{chan()}{items}</feed>'
    items = "".join(_item(r, "item").replace("<item", '<item rdf:about="about:x"', 1) if r.random() < 0.5 else _item(r, "item") for _ in range(r.randint(1, 3)))
    return (f'<?xml version="1.0" encoding="utf-8"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" {_NS}>'
            f'<channel rdf:about="c">{chan()}</channel>{"<image><title>I</title></image>" if r.random()<0.3 else ""}{items}</rdf:RDF>')


@pytest.mark.slow
def test_random_feeds_refused_or_equal() -> None:
    rng = random.Random(11)
    accepted = 0
    for _ in range(400):
        body = _random_feed(rng).encode()
        accepted += _accepted_and_equal(body, rng.choice(HEADER_SETS[:2]))
    assert accepted > 250
