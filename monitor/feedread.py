"""The parse fast path: read well-formed RSS 2.0, RSS 1.0 and Atom 1.0 feeds with lxml, and
give back exactly what feedparser would give on the fields the monitor reads.

Why: feedparser costs ~250 us an entry even with sanitising off (PERFORMANCE.md); parsing was
the largest per-entry cost of a scan and of a first poll. lxml builds the tree in C; this
module then replays, in one pass over the tree, the part of feedparser's rules that decides
the fields `parse.py` reads (entries: title, summary, content, link, id, published/updated/
created dates, language; the feed: title, language, ttl), with feedparser's own helpers for
encodings, URLs and dates, so the result is feedparser's.

Anything the reader is not sure of raises `Refused`, and `read_feed` returns None so the
caller runs feedparser: not well-formed XML, a DOCTYPE or entity declarations, an encoding
feedparser would flag or override, namespace prefixes that feedparser would map differently
(an unknown namespace as default, a prefix bound twice, a known prefix rebound), an element
or attribute shape it does not model (XHTML or base64 content, out-of-line content, markup
inside a text element, nested entries, CDF), or a feed without entries. tests/test_feedread.py
holds it equal to feedparser, field for field, over feedparser's own test corpus.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from feedparser.api import StrictFeedParser
from feedparser.datetimes import _parse_date
from feedparser.encodings import convert_to_utf8
from feedparser.html import _cp1252
from feedparser.mixin import _FeedParserMixin
from feedparser.sanitizer import RE_DOCTYPE_PATTERN, RE_ENTITY_PATTERN
from feedparser.urls import _urljoin, make_safe_absolute_uri
from feedparser.util import FeedParserDict
from lxml import etree

__all__ = ["Refused", "read_feed"]


class Refused(Exception):
    """The fast path is not sure it reads this body as feedparser does."""


# feedparser's namespace table: a known URI (lowercased) -> its canonical prefix ('' = core).
_KNOWN: dict[str, str] = {uri.lower(): prefix for uri, prefix in _FeedParserMixin.namespaces.items()}
_CANONICAL = frozenset(prefix.lower() for prefix in _KNOWN.values() if prefix)
_XML_NS = "http://www.w3.org/XML/1998/namespace"
_RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_ATOM_NS = "http://www.w3.org/2005/Atom"
_RSS10_NS = "http://purl.org/rss/1.0/"
_REFUSED_NS = frozenset({"http://www.w3.org/1999/xlink", "http://www.w3.org/1998/math/mathml", "http://www.w3.org/2000/svg"})
# Every element name feedparser has a handler for (start or end): an unknown element must
# not be one of them, or feedparser would treat it as something else.
_HANDLED = frozenset(
    name.split("_", 2)[2] if name.startswith("_start_") else name[len("_end_"):]
    for name in dir(StrictFeedParser)
    if name.startswith(("_start_", "_end_"))
)
# Keys an unknown element must not be stored under: the ones parse.py reads (or their
# *_parsed forms), and the ones FeedParserDict maps onto them.
_READ = frozenset({"title", "summary", "content", "link", "id", "language", "ttl", "published", "updated", "created"})
_FORBIDDEN_UNKNOWN = _READ | frozenset(
    key for key, real in FeedParserDict.keymap.items() if (real if isinstance(real, str) else real[0]) in _READ
)
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_TEXT_TYPES = frozenset({"text/plain", "text/html"})
_RELATIVE = _FeedParserMixin.can_be_relative_uri
_DECLARATION = re.compile(rb"""xmlns(?::([^\s=/>]+))?\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_ROOT_START = re.compile(rb"<\w")
_BASE_ATTRIBUTE = re.compile(rb"base\s*=")
_C1 = re.compile("[\x80-\x9f]")
_LINK_ENTITY = re.compile("&([A-Za-z0-9_]+);")
_AUTHOR_PARTS = frozenset({"name", "email", "uri", "url", "homepage"})
_IMAGE_PARTS = frozenset({"title", "link", "url", "width", "height", "description"})
_TEXTINPUT_PARTS = frozenset({"title", "link", "description", "name"})
# Known elements whose feedparser handlers write only fields the monitor never reads and
# touch none of the state that decides the fields it does; text only (no child elements),
# except the containers listed with the children they may hold.
_INERT_LEAVES = frozenset({
    "author", "managingeditor", "dc_author", "dc_creator", "itunes_author", "contributor",
    "dc_contributor", "webmaster", "dc_publisher", "itunes_owner",
    "category", "keywords", "dc_subject", "media_category", "itunes_category", "itunes_keywords", "media_keywords",
    "rights", "copyright", "dc_rights", "subtitle", "tagline", "itunes_subtitle", "info", "feedburner_browserfriendly",
    "generator", "cloud", "enclosure", "expirationdate", "newlocation",
    "media_thumbnail", "media_player", "media_credit", "media_rating", "media_restriction", "media_license",
    "itunes_image", "itunes_link", "itunes_block", "itunes_explicit",
})
_INERT_CONTAINERS: dict[str, frozenset[str]] = {
    "author": _AUTHOR_PARTS,
    "contributor": _AUTHOR_PARTS,
    "itunes_owner": frozenset({"itunes_name", "itunes_email"}),
    "itunes_category": frozenset({"itunes_category"}),
}
# Elements that only hold others: feedparser pushes nothing for them that matters.
_TRANSPARENT = frozenset({"media_content", "media_group"})


def read_feed(body: bytes, headers: Mapping[str, str], *, strict: bool = False) -> FeedParserDict | None:
    """feedparser.parse's result for this body (the fields the monitor reads), or None when
    the fast path is not sure. With `strict`, a refusal raises `Refused` and a fault in this
    reader raises too (tests); otherwise any fault is a refusal: feedparser reads the body."""
    try:
        return _Reader(dict(headers)).read(body)
    except Refused:
        if strict:
            raise
        return None
    except Exception:
        if strict:
            raise
        return None


def _fix(text: str) -> str:
    """feedparser's last touches on every value: text that is UTF-8 read as Latin-1 is
    re-read, and C1 controls become the Windows-1252 characters they stand for."""
    if text.isascii():
        return text
    try:
        text = text.encode("iso-8859-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    if _C1.search(text):
        text = text.translate(_cp1252)
    return text


def _content_type(attrs: Mapping[str, str], default: str) -> str:
    """The content type feedparser gives a text element; only plain text and escaped HTML
    are read alike (XHTML is re-serialised by feedparser, other types may be base64)."""
    if "mode" in attrs:
        raise Refused("content mode")
    content_type = _FeedParserMixin.map_content_type(attrs.get("type", default))
    if content_type not in _TEXT_TYPES:
        raise Refused(f"content type {content_type!r}")
    return content_type


def _leaf_text(element: Any) -> str:
    if len(element):
        raise Refused(f"markup inside <{element.tag}>")
    return element.text or ""


class _Reader:
    """One body's walk: the state feedparser keeps that decides the fields we read."""

    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers
        self.feed: dict[str, Any] = {}
        self.entries: list[dict[str, Any]] = []
        self.entry: dict[str, Any] = {}
        self.depths: dict[str, int] = {}  # feedparser's property_depth_map for the entry
        self.version = ""
        self.infeed = self.inentry = self.inimage = self.intextinput = self.insource = False
        self.has_content = False
        self.guidislink = False
        self.title_depth = -1
        self.base = ""
        self.static_base = False  # no xml:base in the body: the base never changes
        self.basestack: list[str] = []
        self.same_base: dict[str, str] = {}
        self.keys: dict[str, tuple[str, bool]] = {}
        self.unknown_prefix: dict[str, str] = {}

    # -- the document ---------------------------------------------------------------

    def read(self, body: bytes) -> FeedParserDict:
        result: dict[str, Any] = {}
        data = convert_to_utf8(self.headers, body, result)
        if result.get("bozo") or not result.get("encoding"):
            raise Refused("encoding feedparser flags")
        start = _ROOT_START.search(data)
        head = data[: start.start() + 1] if start and start.start() else b""
        if RE_DOCTYPE_PATTERN.search(head) or RE_ENTITY_PATTERN.search(head) or b"<!DOCTYPE" in head:
            raise Refused("DOCTYPE")
        self._declarations(data)
        parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True,
            remove_pis=True, strip_cdata=True, huge_tree=False, recover=False,
        )
        try:
            root = etree.fromstring(data, parser)
        except etree.XMLSyntaxError as exc:
            raise Refused(f"not well-formed: {exc}") from exc
        if root.getroottree().docinfo.doctype:
            raise Refused("DOCTYPE")
        content_location = self.headers.get("content-location", "")
        self.base = make_safe_absolute_uri("", content_location) or make_safe_absolute_uri(content_location) or ""
        # feedparser re-joins the base with itself at every element; with no xml:base in the
        # body and a base that joins to itself, that is a no-op we can skip.
        self.static_base = not _BASE_ATTRIBUTE.search(data) and (
            not self.base or (make_safe_absolute_uri(self.base, self.base) or self.base) == self.base)
        language = self.headers.get("content-language")
        if language:
            self.feed["language"] = language.replace("_", "-")
        self._root(root, language)
        if not self.entries:
            raise Refused("no entries")
        return FeedParserDict(bozo=False, entries=self.entries, feed=self.feed, version=self.version,
                              encoding=result["encoding"])

    def _declarations(self, data: bytes) -> None:
        """How feedparser will name each namespace, from every xmlns declaration in the body
        (a declaration-like string in text only makes the check stricter)."""
        prefixes_of: dict[str, set[str]] = {}
        uris_of: dict[str, set[str]] = {}
        known_prefixes: set[str] = set()
        for match in _DECLARATION.finditer(data):
            raw_prefix, double, single = match.groups()
            raw_uri = double if double is not None else single
            if b"&" in raw_uri:
                raise Refused("entity in a namespace")
            uri = raw_uri.decode("utf-8")
            lower = uri.lower()
            if "backend.userland.com/rss" in lower:
                lower = "http://backend.userland.com/rss"
            if lower in _REFUSED_NS:
                raise Refused(f"namespace {uri}")
            canonical = _KNOWN.get(lower)
            if lower == _RSS10_NS and not self.version:
                self.version = "rss10"
            if raw_prefix is None:
                if canonical is None and uri:
                    raise Refused("unknown default namespace")
                continue
            prefix = raw_prefix.decode("utf-8")
            uris_of.setdefault(prefix, set()).add(lower)
            if canonical is not None:
                if prefix in _CANONICAL and prefix != canonical.lower():
                    raise Refused(f"prefix {prefix} bound to another namespace")
                known_prefixes.add(prefix)
            else:
                prefixes_of.setdefault(uri, set()).add(prefix)
        for uri, prefixes in prefixes_of.items():
            (prefix, *others) = prefixes
            if others or len(uris_of[prefix]) != 1 or prefix.lower() in _CANONICAL or prefix.lower() in known_prefixes:
                raise Refused(f"namespace {uri} named ambiguously")
            self.unknown_prefix[uri] = prefix.lower()

    def _key(self, tag: Any) -> tuple[str, bool]:
        """feedparser's name for an element (its handler's suffix), and whether it has a prefix."""
        found = self.keys.get(tag)
        if found is not None:
            return found
        if not isinstance(tag, str) or not tag.isascii():
            raise Refused("element name")
        if tag[0] == "{":
            uri, local = tag[1:].split("}", 1)
        else:
            uri, local = "", tag
        lower = uri.lower()
        if "backend.userland.com/rss" in lower:
            lower = "http://backend.userland.com/rss"
        canonical = _KNOWN.get(lower)
        if canonical is None:
            prefix = self.unknown_prefix.get(uri)
            if prefix is None:
                raise Refused(f"namespace {uri}")
            key = f"{prefix}_{local.lower()}"
            if key in _HANDLED:
                raise Refused(f"unknown namespace element <{key}> has a handler")
            found = (key, True)
        else:
            prefix = canonical.lower()
            found = (f"{prefix}_{local.lower()}" if prefix else local.lower(), bool(prefix))
        self.keys[tag] = found
        return found

    def _attrs(self, items: list[tuple[str, str]]) -> dict[str, str]:
        """feedparser's attribute dict: names lowercased, rel and type values lowercased."""
        attrs: dict[str, str] = {}
        for name, value in items:
            if not name.isascii():
                raise Refused("attribute name")
            if name[0] == "{":
                uri, local = name[1:].split("}", 1)
                if uri == _XML_NS:
                    key = "xml:" + local.lower()
                elif uri == _RDF_NS:
                    key = "rdf:" + local.lower()
                else:
                    raise Refused("namespaced attribute")
            else:
                key = name.lower()
            if key in attrs:
                raise Refused("attribute named twice")
            if key in ("rel", "type"):
                value = value.lower() or value
            attrs[key] = value
        return attrs

    # -- the walk ---------------------------------------------------------------------

    def _root(self, root: Any, baselang: str | None) -> None:
        key, _ = self._key(root.tag)
        attrs = self._attrs(root.items())
        if key == "rss":
            version = attrs.get("version", "")
            if not self.version:
                self.version = "rss20" if version.startswith("2.") else "rss"
        elif key == "feed" and root.tag == f"{{{_ATOM_NS}}}feed":
            self.version = "atom10"
        elif key == "rdf_rdf" and self.version == "rss10":
            pass
        else:
            raise Refused(f"root <{key}>")
        if key != "rdf_rdf":
            lang = attrs.get("xml:lang", attrs.get("lang"))
            if lang == "":
                lang = None
            elif lang is None:
                lang = baselang
            if lang:
                self.feed["language"] = lang.replace("_", "-")
        self._enter(attrs)
        if key == "feed":
            self.infeed = True
        for child in root:
            self._element(child, 2)
        self.infeed = False
        self._leave()

    def _enter(self, attrs: Mapping[str, str]) -> None:
        """feedparser's xml:base tracking at an element's start."""
        if self.static_base:
            return
        given = (attrs.get("xml:base", attrs.get("base")) if attrs else None) or self.base
        if self.base:
            if given == self.base:
                same = self.same_base.get(given)
                if same is None:
                    same = self.same_base[given] = make_safe_absolute_uri(given, given) or given
                self.base = same
            else:
                self.base = make_safe_absolute_uri(self.base, given) or self.base
        elif given:
            self.base = _urljoin(self.base, given)
        self.basestack.append(self.base)

    def _leave(self) -> None:
        if self.static_base:
            return
        self.basestack.pop()
        if self.basestack and self.basestack[-1]:
            self.base = self.basestack[-1]

    def _element(self, element: Any, depth: int) -> None:
        key, prefixed = self._key(element.tag)
        items = element.items()
        attrs = self._attrs(items) if items else {}
        static = self.static_base
        if not static:
            self._enter(attrs)
        handler = _HANDLERS.get(key)
        if handler is not None:
            handler(self, element, key, attrs, depth)
        elif key in _INERT_LEAVES:
            allowed = _INERT_CONTAINERS.get(key)
            if allowed is not None:
                self._inert_children(element, allowed, depth)
            elif len(element):
                raise Refused(f"elements inside <{key}>")
        elif key in _TRANSPARENT:
            for child in element:
                self._element(child, depth + 1)
        elif key in _HANDLED:
            raise Refused(f"element <{key}>")
        else:
            self._unknown(element, key, attrs, depth)
        if not static:
            self._leave()

    def _inert_children(self, element: Any, allowed: frozenset[str], depth: int) -> None:
        for child in element:
            key, _ = self._key(child.tag)
            if key not in allowed:
                raise Refused(f"<{key}> inside an author or category")
            attrs = self._attrs(child.items())
            self._enter(attrs)
            if key in _INERT_CONTAINERS:
                self._inert_children(child, _INERT_CONTAINERS[key], depth + 1)
            elif len(child):
                raise Refused(f"elements inside <{key}>")
            self._leave()

    def _unknown(self, element: Any, key: str, attrs: dict[str, str], depth: int) -> None:
        # feedparser pushes an unknown element without attributes and stores its text under
        # its name; one with attributes is stored as that dict. Neither touches what we read,
        # except a channel's <ttl>.
        if key in _FORBIDDEN_UNKNOWN or key.endswith("_parsed"):
            if key != "ttl":
                raise Refused(f"unknown element <{key}>")
            if attrs:
                raise Refused("<ttl> with attributes")
            self._pop("ttl", _leaf_text(element), depth, True)
            return
        for child in element:
            self._element(child, depth + 1)

    # -- feedparser's pop(): where a text element's value lands ----------------------------

    def _context(self) -> dict[str, Any]:
        if self.insource:
            return {}
        if self.inimage and "image" in self.feed:
            return self.feed["image"]
        if self.intextinput:
            return self.feed["textinput"]
        if self.inentry:
            return self.entry
        return self.feed

    def _pop(self, name: str, text: str, depth: int, expecting_text: bool) -> str:
        output = text.strip()
        if not expecting_text:
            return output
        if name in _RELATIVE and output and (name != "id" or self.guidislink):
            output = _urljoin(self.base or "", output)
        output = _fix(output)
        if name == "title" and -1 < self.title_depth <= depth:
            return output
        if self.inentry and not self.insource:
            entry = self.entry
            if name == "content":
                entry.setdefault("content", []).append({"value": output})
            elif name == "link":
                if not self.inimage:
                    output = _LINK_ENTITY.sub(r"&\g<1>", output.replace("&amp;", "&"))
                    entry["link"] = output
            else:
                if name == "description":
                    name = "summary"
                old = self.depths.get(name)
                if old is None or depth <= old:
                    self.depths[name] = depth
                    entry[name] = output
        elif self.infeed or self.insource:
            context = self._context()
            if name == "description":
                name = "subtitle"
            context[name] = output
            if name == "link":
                output = _LINK_ENTITY.sub(r"&\g<1>", output)
                context[name] = output
        return output

    # -- the handlers feedparser would call -------------------------------------------------

    def _channel(self, element: Any, key: str, attrs: dict[str, str], depth: int) -> None:
        if depth != 2 or "lastmod" in attrs or "href" in attrs:
            raise Refused("channel")
        self.infeed = True
        for child in element:
            self._element(child, depth + 1)
        self.infeed = False

    def _item(self, element: Any, key: str, attrs: dict[str, str], depth: int) -> None:
        if self.inentry or self.insource or self.inimage or self.intextinput:
            raise Refused("nested entry")
        if "lastmod" in attrs or "href" in attrs:
            raise Refused("CDF item")
        self.entry = {}
        self.depths = {}
        self.entries.append(self.entry)
        self.inentry = True
        self.guidislink = False
        self.title_depth = -1
        about = attrs.get("rdf:about")
        if about:
            self.entry["id"] = about
        for child in element:
            self._element(child, depth + 1)
        self.inentry = False
        self.has_content = False

    def _image(self, element: Any, key: str, attrs: dict[str, str], depth: int) -> None:
        if self.inentry or self.inimage or self.intextinput or self.insource:
            raise Refused("image inside an entry")
        self.feed.setdefault("image", {})
        self.inimage = True
        self.title_depth = -1
        self._parts(element, _IMAGE_PARTS, depth)
        self.inimage = False

    def _textinput(self, element: Any, key: str, attrs: dict[str, str], depth: int) -> None:
        if self.inentry or self.inimage or self.intextinput or self.insource:
            raise Refused("textinput inside an entry")
        self.feed.setdefault("textinput", {})
        self.intextinput = True
        self.title_depth = -1
        self._parts(element, _TEXTINPUT_PARTS, depth)
        self.intextinput = False

    def _parts(self, element: Any, allowed: frozenset[str], depth: int) -> None:
        for child in element:
            key, prefixed = self._key(child.tag)
            if prefixed or key not in allowed:
                raise Refused(f"<{key}> inside an image or textinput")
            if key in ("title", "link", "description"):
                self._element(child, depth + 1)
            else:
                self._enter(self._attrs(child.items()))
                _leaf_text(child)
                self._leave()

    def _source(self, element: Any, key: str, attrs: dict[str, str], depth: int) -> None:
        _leaf_text(element)
        self.title_depth = -1

    def _title(self, element: Any, key: str, attrs: dict[str, str], depth: int) -> None:
        text = _leaf_text(element)
        _content_type(attrs, "text/plain")
        saved = self.title_depth
        value = self._pop("title", text, depth, self.infeed or self.inentry or self.insource)
        if value:
            self.title_depth = depth
        if key == "media_title":
            self.title_depth = saved

    def _description(self, element: Any, key: str, attrs: dict[str, str], depth: int) -> None:
        if "summary" in self._context() and not self.has_content:
            self._content(element, "content", attrs, depth)
            return
        text = _leaf_text(element)
        _content_type(attrs, "text/html")
        self._pop("description", text, depth, self.infeed or self.inentry or self.insource)

    def _summary(self, element: Any, key: str, attrs: dict[str, str], depth: int) -> None:
        if "summary" in self._context() and not self.has_content:
            self._content(element, "content", attrs, depth)
            return
        text = _leaf_text(element)
        _content_type(attrs, "text/plain")
        self._pop("summary", text, depth, True)

    def _content(self, element: Any, key: str, attrs: dict[str, str], depth: int) -> None:
        if not self.inentry or self.insource:
            raise Refused("content outside an entry")
        self.has_content = True
        text = _leaf_text(element)
        _content_type(attrs, "text/html" if key in ("content_encoded", "fullitem") else "text/plain")
        if attrs.get("src"):
            raise Refused("out-of-line content")
        value = self._pop("content", text, depth, True)
        self._context().setdefault("summary", value)

    def _link(self, element: Any, key: str, attrs: dict[str, str], depth: int) -> None:
        attrs = dict(attrs)
        rel = attrs.setdefault("rel", "alternate")
        attrs.setdefault("type", "application/atom+xml" if rel == "self" else "text/html")
        href = attrs.get("url", attrs.get("uri", attrs.get("href")))
        if href:
            attrs.pop("url", None)
            attrs.pop("uri", None)
            attrs["href"] = href
        if "href" in attrs:
            if len(element):
                raise Refused("elements inside <link>")
            href = _urljoin(self.base or "", attrs["href"])
            if attrs["rel"] == "alternate" and _FeedParserMixin.map_content_type(attrs["type"]) in _HTML_TYPES:
                self._context()["link"] = href
            return
        self._pop("link", _leaf_text(element), depth, self.infeed or self.inentry or self.insource)

    def _guid(self, element: Any, key: str, attrs: dict[str, str], depth: int) -> None:
        text = _leaf_text(element)
        self.guidislink = attrs.get("ispermalink", "true") == "true"
        value = self._pop("id", text, depth, True)
        if self.guidislink:
            self._context().setdefault("link", value)

    def _date(self, element: Any, key: str, attrs: dict[str, str], depth: int) -> None:
        name = _DATE_KINDS[key]
        value = self._pop(name, _leaf_text(element), depth, True)
        self._context()[f"{name}_parsed"] = _parse_date(value)

    def _language(self, element: Any, key: str, attrs: dict[str, str], depth: int) -> None:
        self._pop("language", _leaf_text(element), depth, True)

    def _refuse(self, element: Any, key: str, attrs: dict[str, str], depth: int) -> None:
        raise Refused(f"<{key}> where it is not expected")


_DATE_KINDS = {
    "published": "published", "pubdate": "published", "issued": "published", "dcterms_issued": "published",
    "updated": "updated", "modified": "updated", "lastbuilddate": "updated", "dc_date": "updated",
    "dcterms_modified": "updated", "created": "created", "dcterms_created": "created",
}
_Handler = Callable[[_Reader, Any, str, dict[str, str], int], None]
_HANDLERS: dict[str, _Handler] = {
    "channel": _Reader._channel,
    "item": _Reader._item,
    "entry": _Reader._item,
    "image": _Reader._image,
    "textinput": _Reader._textinput,
    "source": _Reader._source,
    "title": _Reader._title,
    "dc_title": _Reader._title,
    "media_title": _Reader._title,
    "description": _Reader._description,
    "dc_description": _Reader._description,
    "media_description": _Reader._description,
    "summary": _Reader._summary,
    "itunes_summary": _Reader._summary,
    "content": _Reader._content,
    "content_encoded": _Reader._content,
    "fullitem": _Reader._content,
    "link": _Reader._link,
    "guid": _Reader._guid,
    "id": _Reader._guid,
    "language": _Reader._language,
    "dc_language": _Reader._language,
    "rss": _Reader._refuse,
    "feed": _Reader._refuse,
    **{key: _Reader._date for key in _DATE_KINDS},
}
