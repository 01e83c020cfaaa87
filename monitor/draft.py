"""`monitor baseline draft`: propose a baseline from the documents a team already has.

A document (text, Markdown, HTML or PDF, from a file or a URL) is read as one long feed
entry: its headline as the title, its text as the body, its own date (a dateline or a date
near the top) as the publication day. The same Matcher and Classifier that judge the feeds
read it, to its last sentence, and every development they find, news or background, becomes
a proposed event of the case it belongs to. Nothing here reads a date or an event word
itself: one reader for feeds and documents.

A document without a date of its own resolves none of its relative dates ("on Friday",
"last month"): it is read against two reference days far apart, and only the events whose
date comes out the same both times (an absolute date: "3 September 2017", "in 2015") are kept.

Composer layer: it calls the judge and writes YAML; reading a URL is handed in by the
command line (the fetch stage, as for `monitor scan`).
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlparse

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from monitor.digest.render import format_event_date
from monitor.errors import MonitorError
from monitor.judge import lexicon
from monitor.judge.classify import Candidate, Classifier
from monitor.judge.cues import read_sentence, sentences
from monitor.judge.dates import find_dates, period_end
from monitor.judge.diff import SAME_DAY_TOLERANCE
from monitor.judge.match import Matcher, MatchResult
from monitor.judge.textnorm import normalize
from monitor.model import TYPE_FAMILY, TYPE_WORDS, Case, Entry, EventDate, KnownEvent, Precision, Subject
from monitor.parse import html_to_text
from monitor.sources import expand_sources

DOCUMENT_SUFFIXES = frozenset({".txt", ".text", ".md", ".markdown", ".html", ".htm", ".pdf"})
# "Near the top": a document's own date is a dateline or a date this close to its start.
TOP_CHARACTERS = 700
# Headline candidates: a short line (words), not a sentence, among the first lines.
_HEADLINE_WORDS = (4, 25)
_HEADLINE_LINES = 5
# A document without a date is read against these two days: a date that comes out the same
# against both is absolute; one that moves with them was relative and cannot be resolved.
_REFERENCE_DAYS = (date(2200, 6, 15), date(2301, 2, 9))
# Candidate subjects: a capitalised run of 2-4 words, seen this often next to case words.
_NAME = re.compile(r"(?<![\w'’-])(?:[^\W\d_a-z][\w'’-]+)(?:\s+[^\W\d_a-z][\w'’-]+){1,3}(?![\w'’-])")
CANDIDATE_MIN_COUNT = 2
_METADATA = re.compile(r"^\s*(?:[*_]{1,2})?([^:*_\n.]{1,40}?)(?:[*_]{1,2})?\s*:\s*(?:[*_]{1,2})?\s*(.+?)\s*$")
_MARKDOWN_HEADING = re.compile(r"^\s*#{1,3}\s+(.+?)\s*#*\s*$")
_MARKDOWN_MARKS = re.compile(r"^\s*#{1,6}\s+|\*\*|__|^\s*[-*+]\s+|^\s*>\s?", re.M)
_TERMINAL = re.compile(r"[.)\]!?;:,]\s*$")


@dataclass(frozen=True)
class Document:
    """One source document, as read: where from, its headline, outlet, own date and text."""

    id: str
    location: str  # file path or URL
    title: str
    outlet: str
    date: EventDate | None  # None: the document says no date of its own
    date_text: str  # the words the date was read from
    body: str  # paragraphs, one a line


@dataclass
class DraftEvent:
    """A proposed baseline event, with the sentence it came from."""

    case: str
    type: str
    date: EventDate
    subjects: tuple[str, ...]
    sources: list[str]
    evidence: str
    evidence_source: str

    @property
    def family(self) -> str:
        return TYPE_FAMILY.get(self.type, self.type)


@dataclass
class Draft:
    """What the documents say: their records, the proposed events by case, candidate subjects."""

    documents: list[Document]
    events: dict[str, list[DraftEvent]] = field(default_factory=dict)
    candidates: list[tuple[str, int]] = field(default_factory=list)
    undated_skipped: int = 0  # events the documents tell without any date (not proposed)

    @property
    def all_events(self) -> list[DraftEvent]:
        return [e for events in self.events.values() for e in events]


# --- reading documents ---


def read_documents(
    sources: Iterable[str],
    fetch_url: Callable[[str], tuple[bytes, dict[str, str]]],
    warn: Callable[[str], None],
    dates: Mapping[str, EventDate] | None = None,
) -> tuple[list[Document], list[str]]:
    """Every document of the sources; one that cannot be read is reported and skipped.

    `dates` gives a document's date where the person knows it (by file name or URL): it wins
    over the one read from the text.
    """
    documents: list[Document] = []
    failures: list[str] = []
    for number, source in enumerate(expand_sources(sources, DOCUMENT_SUFFIXES), start=1):
        try:
            if source.startswith(("http://", "https://")):
                body, headers = fetch_url(source)
                kind = _kind(source, body, headers.get("content-type", ""))
            else:
                try:
                    body = Path(source).read_bytes()
                except OSError as exc:
                    raise MonitorError(f"{source}: cannot read file: {exc.strerror or exc}") from exc
                kind = _kind(source, body, "")
            text = _text_of(source, body, kind)
        except MonitorError as exc:
            failures.append(source)
            warn(f"error: {exc}")
            continue
        given = None
        for key, value in (dates or {}).items():
            if source == key or Path(source).name == key:
                given = value
        documents.append(make_document(f"doc-{number:03d}", source, text, kind, given))
    return documents, failures


def _kind(source: str, body: bytes, content_type: str) -> str:
    suffix = Path(urlparse(source).path).suffix.lower()
    if body.startswith(b"%PDF") or suffix == ".pdf" or "pdf" in content_type:
        return "pdf"
    head = body[:2000].lower()
    if suffix in (".html", ".htm") or "html" in content_type or b"<html" in head or b"<!doctype html" in head:
        return "html"
    if suffix in (".md", ".markdown"):
        return "markdown"
    return "text"


def _text_of(source: str, body: bytes, kind: str) -> str:
    if kind == "pdf":
        try:
            from pypdf import PdfReader
            from pypdf.errors import PyPdfError

            reader = PdfReader(io.BytesIO(body))
            return "\n\n".join((page.extract_text() or "") for page in reader.pages)
        except (PyPdfError, ValueError, OSError) as exc:
            raise MonitorError(f"{source}: cannot read PDF: {exc}") from exc
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return body.decode("latin-1")


def make_document(doc_id: str, location: str, raw: str, kind: str = "text", given: EventDate | None = None) -> Document:
    """A document's headline, outlet, own date and text, from its raw content."""
    title, outlet = "", ""
    if kind == "html":
        m = re.search(r"<h1\b[^>]*>(.*?)</h1>", raw, re.S | re.I) or re.search(r"<title\b[^>]*>(.*?)</title>", raw, re.S | re.I)
        title = html_to_text(m.group(1)) if m else ""
        raw = re.sub(r"<head\b.*?</head>", "", raw, flags=re.S | re.I)
        text = html_to_text(raw)
    else:
        lines = raw.splitlines()
        body_lines: list[str] = []
        for i, line in enumerate(lines):
            meta = _METADATA.match(line) if i < _HEADLINE_LINES else None
            key = meta.group(1).casefold() if meta else ""
            if meta and any(w in key for w in ("outlet", "publisher", "source")) and not outlet:
                outlet = meta.group(2)
                continue
            if meta and any(w in key for w in ("title", "headline")) and not title:
                title = meta.group(2)
                continue
            heading = _MARKDOWN_HEADING.match(line) if kind == "markdown" else None
            if heading and not title:
                title = heading.group(1)
                continue
            if heading and normalize(heading.group(1)) == normalize(title):
                continue  # the headline again, as the first heading
            body_lines.append(line)
        text = html_to_text(_MARKDOWN_MARKS.sub("", "\n".join(body_lines)) if kind == "markdown" else "\n".join(body_lines))
    if not title:
        title = _headline(text)
    if title:
        # The headline is the title, not also the first sentence of the body.
        kept = [p for p in text.split("\n") if normalize(p) != normalize(title)]
        text = "\n".join(kept)
    if not outlet and location.startswith(("http://", "https://")):
        outlet = urlparse(location).hostname or ""
    own, said = _own_date(text)
    if given is not None:
        own, said = given, "given on the command line"
    return Document(doc_id, location, title.strip(), outlet.strip(), own, said, text)


def _headline(text: str) -> str:
    """The first short line of the top that is not a sentence or a caption."""
    for line in text.split("\n")[:_HEADLINE_LINES]:
        words = len(line.split())
        if _HEADLINE_WORDS[0] <= words <= _HEADLINE_WORDS[1] and not _TERMINAL.search(line):
            return line
    return ""


def _own_date(text: str) -> tuple[EventDate | None, str]:
    """The first complete date (day, month and year) near the top of the text."""
    top = normalize(text[:TOP_CHARACTERS])
    first, second = (find_dates(top, ref) for ref in _REFERENCE_DAYS)
    absolute = {(d.start, d.value) for d in second}
    for mention in first:
        if (mention.start, mention.value) in absolute and mention.value.precision is Precision.DAY:
            return mention.value, mention.text
    return None, ""


# --- drafting ---


class Drafter:
    """The judge's reader (Matcher and Classifier), pointed at documents instead of entries."""

    def __init__(self, subjects: Sequence[Subject], cases: Mapping[str, Case]) -> None:
        self.subjects = {s.name: s for s in subjects}
        self.cases = dict(cases)
        self.matcher = Matcher(list(subjects), self.cases.values())
        self.classifier = Classifier(self.subjects, self.cases)
        self._aliases = {normalize(a) for s in subjects for a in (s.name, *s.aliases, *s.short_forms)}

    def draft(self, documents: Sequence[Document]) -> Draft:
        result = Draft(list(documents))
        names: Counter[str] = Counter()
        for doc in documents:
            events, skipped = self.read(doc)
            result.undated_skipped += skipped
            for event in events:
                self._add(result, event)
            names.update(self.names_near_case_words(doc))
        for events in result.events.values():
            events.sort(key=lambda e: (e.date.value, e.date.precision is not Precision.DAY))
        result.candidates = sorted(
            ((n, c) for n, c in names.items() if c >= CANDIDATE_MIN_COUNT), key=lambda x: (-x[1], x[0])
        )
        return result

    def read(self, doc: Document) -> tuple[list[DraftEvent], int]:
        """The events one document tells, and how many it tells with no date at all."""
        match, raw_sentences = self._match(doc)
        if doc.date is not None and doc.date.precision is Precision.DAY:
            kept, skipped = self._dated(self.classifier.classify(match, doc.date.value, max_sentences=None).candidates)
        else:
            readings = [self.classifier.classify(match, ref, max_sentences=None).candidates for ref in _REFERENCE_DAYS]
            second = {_key(c): c.development.date for c in readings[1]}
            kept = [c for c in readings[0] if c.dated and second.get(_key(c)) == c.development.date]
            skipped = len({_key(c) for c in readings[0]}) - len(kept)
        events = []
        for c in kept:
            dev = c.development
            events.append(DraftEvent(
                case=dev.case, type=dev.type, date=dev.date, subjects=dev.subjects, sources=[doc.id],
                evidence=self._evidence(match, c, raw_sentences, doc), evidence_source=doc.id,
            ))
        return events, skipped

    def _match(self, doc: Document) -> tuple[MatchResult, list[str]]:
        published = datetime.combine(doc.date.value, datetime.min.time(), UTC) if doc.date else None
        entry = Entry(id=doc.id, source=doc.location, title=doc.title, link="", published=published, content=doc.body)
        raw = [doc.body[a:b].strip() for a, b in sentences(doc.body)]
        return self.matcher.match(entry), raw

    @staticmethod
    def _dated(candidates: list[Candidate]) -> tuple[list[Candidate], int]:
        # Dated by its own words; or news dated by the day the sentences before it named, or
        # (headline and lead) by the document's day. An undated recollection has no date to give.
        kept = [c for c in candidates if c.dated or (c.is_news and (c.date_text or c.field == "title" or c.sentence == 0))]
        return kept, len(candidates) - len(kept)

    @staticmethod
    def _evidence(match: MatchResult, c: Candidate, raw_sentences: list[str], doc: Document) -> str:
        if c.field == "title":
            return doc.title
        spans = sentences(match.fields[c.field])
        if c.sentence >= len(spans):
            return ""
        a, b = spans[c.sentence]
        wanted = match.fields[c.field][a:b].strip()
        # The normal form is case-folded: show the document's own words where they line up.
        for i, sentence in enumerate(raw_sentences):
            if wanted.startswith(normalize(sentence)[:40]):
                text = sentence
                j = i + 1
                while len(normalize(text)) < len(wanted) and j < len(raw_sentences):
                    text += " " + raw_sentences[j]
                    j += 1
                return text
        return wanted

    def _add(self, result: Draft, event: DraftEvent) -> None:
        """Fold an event told again (same case and type, one date within the other) into the first."""
        events = result.events.setdefault(event.case, [])
        for known in events:
            if known.type == event.type and _within(known.date, event.date):
                if event.evidence_source not in known.sources:
                    known.sources.append(event.evidence_source)
                if _rank(event.date) < _rank(known.date):
                    known.date, known.evidence, known.evidence_source = event.date, event.evidence, event.evidence_source
                known.subjects = tuple(dict.fromkeys((*known.subjects, *event.subjects)))
                return
        events.append(event)

    def names_near_case_words(self, doc: Document) -> Counter[str]:
        """Capitalised names in sentences that tell a development or name a case word, that no
        watchlist knows (a heuristic for scripts written with spaces and capitals)."""
        found: Counter[str] = Counter()
        keywords = {normalize(k) for case in self.cases.values() for k in case.keywords}
        for a, b in sentences(doc.body):
            raw = doc.body[a:b]
            text = normalize(raw)
            if not read_sentence(text).hits and not any(k in text for k in keywords):
                continue
            for m in _NAME.finditer(raw):
                name = " ".join(m.group(0).split())
                folded = normalize(name)
                if any(word in lexicon.MONTHS or word in lexicon.WEEKDAYS for word in folded.split()):
                    continue  # "In November", "On Friday": a date, not a name
                if any(alias in folded or folded in alias for alias in self._aliases):
                    continue
                if not raw[:m.start()].strip() and len(name.split()) > 2:
                    # A sentence's first word is capitalised anyway ("Lawyer Sok Dara said").
                    name = " ".join(name.split()[1:])
                found[name] += 1
        return found


def _key(c: Candidate) -> tuple[str, int, str, str, str]:
    return (c.field, c.sentence, c.development.type, c.development.case, c.development.evidence)


def _rank(value: EventDate) -> int:
    return {Precision.DAY: 0, Precision.MONTH: 1, Precision.YEAR: 2}[value.precision]


def _within(a: EventDate, b: EventDate) -> bool:
    """One date lies within the other's period (2019 holds 2019-11-14), or they are equal."""
    a_lo, a_hi = a.value, period_end(a)
    b_lo, b_hi = b.value, period_end(b)
    return (a_lo <= b_lo and b_hi <= a_hi) or (b_lo <= a_lo and a_hi <= b_hi)


def same_event(draft: EventDate, known: EventDate) -> bool:
    """The monitor's own rule for a known event: the periods meet, with a week's tolerance."""
    return draft.value - SAME_DAY_TOLERANCE <= period_end(known) and known.value <= period_end(draft) + SAME_DAY_TOLERANCE


# --- comparing with a baseline ---


@dataclass(frozen=True)
class Comparison:
    """A drafted event against an existing baseline: already there, new, or conflicting."""

    status: str  # there | new | conflict
    event: DraftEvent
    known: KnownEvent | None = None


def compare(draft: Draft, cases: Mapping[str, Case]) -> list[Comparison]:
    """Each drafted event: matched by a known event of its case (same type family, dates that
    meet within a week: the rule that makes a feed entry `known`), in conflict with one (same
    case and type, another date), or new."""
    out: list[Comparison] = []
    for event in draft.all_events:
        known = cases[event.case].events if event.case in cases else ()
        there = next((k for k in known if TYPE_FAMILY.get(k.type, k.type) == event.family and same_event(event.date, k.date)), None)
        if there is not None:
            out.append(Comparison("there", event, there))
            continue
        other = next((k for k in known if k.type == event.type), None)
        out.append(Comparison("conflict" if other is not None else "new", event, other))
    return out


def recall(draft: Draft, cases: Mapping[str, Case]) -> tuple[int, int, int, int]:
    """(baseline events the draft holds, baseline events, drafted events no baseline event
    matches, drafted events): the figures the proof pins."""
    known = [k for case in cases.values() for k in case.events]
    held = sum(
        1 for k in known
        if any(e.case == k.case and e.family == TYPE_FAMILY.get(k.type, k.type) and same_event(e.date, k.date)
               for e in draft.all_events)
    )
    extra = sum(1 for c in compare(draft, cases) if c.status != "there")
    return held, len(known), extra, len(draft.all_events)


# --- writing ---


def summary(event: DraftEvent, case: Case | None) -> str:
    """A fixed, plain pattern built from the facts: who, what (type in words), when, which case."""
    who = ", ".join(event.subjects) or (", ".join(case.subjects) if case else "")
    when = date_words(event.date)
    where = f" ({case.title})" if case is not None and case.title else ""
    return f"{who}: {TYPE_WORDS.get(event.type, event.type)}, {when}{where}."


def date_words(value: EventDate) -> str:
    """'on 3 March 2023', 'in March 2023', 'in 2023': the digest's date words with their preposition."""
    return ("on " if value.precision is Precision.DAY else "in ") + format_event_date(value)


def _yaml() -> YAML:
    yaml = YAML()
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    yaml.representer.ignore_aliases = lambda *args: True  # one date told twice is written twice, not as &id001
    return yaml


def _date_value(value: EventDate) -> object:
    if value.precision is Precision.YEAR:
        return value.value.year
    if value.precision is Precision.MONTH:
        return str(value)
    return value.value


def _comment(text: str) -> str:
    return " ".join(text.split()).replace("#", "")


def write_draft(draft: Draft, out: Path, cases: Mapping[str, Case]) -> list[Path]:
    """The drafted baseline in the documented format: sources.yaml, cases/<id>.yaml, and
    candidate-subjects.yaml. Refuses a folder that already holds anything."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise MonitorError(f"{out} already exists and is not empty: a draft never overwrites",
                           hint="name a new folder with --out, or compare with --diff")
    (out / "cases").mkdir(parents=True, exist_ok=True)
    yaml = _yaml()
    written: list[Path] = []

    sources = CommentedSeq()
    for i, doc in enumerate(draft.documents):
        record = CommentedMap()
        record["id"] = doc.id
        record["outlet"] = doc.outlet or "unknown"
        record["title"] = doc.title
        if doc.date is not None:
            record["date"] = _date_value(doc.date)
        if doc.location.startswith(("http://", "https://")):
            record["url"] = doc.location
        else:
            record["file"] = Path(doc.location).name
        notes = []
        if not doc.outlet:
            notes.append("outlet not stated in the document: fill it in")
        if not doc.title:
            notes.append("no headline found")
        notes.append(f"date read from '{_comment(doc.date_text)}'" if doc.date is not None
                     else "the document states no date of its own: its relative dates were not resolved")
        sources.append(record)
        sources.yaml_set_comment_before_after_key(i, before="; ".join(notes), indent=2)
    root = CommentedMap()
    root["sources"] = sources
    root.yaml_set_start_comment("Drafted by `monitor baseline draft` from the documents below: check every entry.")
    path = out / "sources.yaml"
    with path.open("w", encoding="utf-8") as fh:
        yaml.dump(root, fh)
    written.append(path)

    for case_id, events in sorted(draft.events.items()):
        case = cases.get(case_id)
        tree = CommentedMap()
        tree["id"] = case_id
        tree["title"] = case.title if case else case_id
        tree["subjects"] = list(case.subjects) if case else []
        tree["status"] = ""
        seq = CommentedSeq()
        for i, event in enumerate(events):
            item = CommentedMap()
            item["date"] = _date_value(event.date)
            item["type"] = event.type
            item["summary"] = summary(event, case)
            if case is None or set(event.subjects) != set(case.subjects):
                item["subjects"] = list(event.subjects)
            item["sources"] = list(event.sources)
            seq.append(item)
            seq.yaml_set_comment_before_after_key(
                i, before=f'{event.evidence_source}: "{_comment(event.evidence)}"', indent=2
            )
        tree["events"] = seq
        tree.yaml_set_start_comment("Drafted: each event's comment is the sentence it was read from. Write the status.")
        path = out / "cases" / f"{case_id}.yaml"
        with path.open("w", encoding="utf-8") as fh:
            yaml.dump(tree, fh)
        written.append(path)

    names = CommentedMap()
    names["candidates"] = [CommentedMap(name=n, seen=c) for n, c in draft.candidates]
    names.yaml_set_start_comment(
        "Names seen often next to case words that no watchlist knows: candidates, not added.\n"
        "Add the ones that are subjects to a watchlist (config/watchlists/), with their aliases."
    )
    path = out / "candidate-subjects.yaml"
    with path.open("w", encoding="utf-8") as fh:
        yaml.dump(names, fh)
    written.append(path)
    return written


def default_out(base: Path, today: date | None = None) -> Path:
    """A new folder beside the working directory: baseline-draft-YYYY-MM-DD[-N]."""
    stamp = (today or datetime.now(UTC).date()).isoformat()
    candidate = base / f"baseline-draft-{stamp}"
    n = 2
    while candidate.exists():
        candidate = base / f"baseline-draft-{stamp}-{n}"
        n += 1
    return candidate


