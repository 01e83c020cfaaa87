"""Digest rendering: one Digest in, one multipart email out (plain text and HTML), no I/O.

Everything that came from a feed (titles, summaries, outlet names, links) is untrusted:
it is autoescaped in HTML, stripped of control characters before it goes into a header,
and a link is only rendered as a link when it is http(s).
"""

from __future__ import annotations

import re
import secrets
import textwrap
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from functools import lru_cache
from urllib.parse import urlsplit

import css_inline
from jinja2 import Environment, PackageLoader, select_autoescape

from monitor.errors import DeliveryError
from monitor.model import (
    CONTEXT_EVENTS,
    TYPE_WORDS,
    Digest,
    DigestDevelopment,
    EventDate,
    KnownEvent,
    Precision,
    Report,
    Subject,
)

from .whom import headline, whom

SUBJECT_MAX = 120

_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

# Bidi embeddings, overrides and isolates can make a subject line read backwards (CVE-2021-42574
# style spoofing); zero-width joiners (U+200C/D) are kept: Khmer and Indic scripts need them.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def type_in_words(development_type: str) -> str:
    """'bail' -> 'released on bail'; an unknown type reads as its words."""
    return TYPE_WORDS.get(development_type, development_type.replace("_", " ").strip())


def format_event_date(when: EventDate) -> str:
    """'3 March 2023', 'March 2023' or '2023', depending on how precisely it is known."""
    value = when.value
    if when.precision is Precision.YEAR:
        return f"{value.year}"
    if when.precision is Precision.MONTH:
        return f"{_MONTHS[value.month - 1]} {value.year}"
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


# The same outlets and titles recur in every subscriber's digest of a run: compute once.
@lru_cache(maxsize=65536)
def clean_line(text: str | None) -> str:
    """One line of untrusted text: no CR/LF or other control characters, single spaces."""
    if not text:
        return ""
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if char in _BIDI_CONTROLS or category in ("Cc", "Zl", "Zp"):
            kept.append(" ")
        else:
            kept.append(char)
    return " ".join("".join(kept).split())


@lru_cache(maxsize=65536)
def safe_href(url: str | None) -> str:
    """The URL if it is an absolute http(s) link, else '' (javascript:, data:, mailto: ...)."""
    if not url:
        return ""
    url = url.strip()
    if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") or c.isspace() for c in url):
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    return url


def _shorten(text: str, limit: int) -> str:
    """Cut at a word boundary and add an ellipsis when `text` is longer than `limit`."""
    if len(text) <= limit:
        return text
    if limit <= 1:
        return "…"[:limit]
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:—-") + "…"


def _join_words(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _people_phrase(people: tuple[str, ...], fallback: str) -> str:
    names = [clean_line(p) for p in people if clean_line(p)]
    if not names:
        return clean_line(fallback)
    if len(names) > 2:
        return f"{names[0]}, {names[1]} and {len(names) - 2} other{'s' if len(names) > 3 else ''}"
    return _join_words(names)


# --- The view: what the templates show, already cleaned and ordered. ---


@dataclass(frozen=True)
class ReportView:
    outlet: str
    title: str
    href: str  # '' when the link is not http(s): the template shows text only
    published: str


@dataclass(frozen=True)
class EventView:
    date: str
    type: str
    summary: str


@dataclass(frozen=True)
class DevelopmentView:
    type: str
    date: str
    summary: str
    people: tuple[str, ...]
    first: ReportView | None
    others: tuple[ReportView, ...]
    feedback: tuple[tuple[str, str], ...] = ()  # (words, signed link): "not news", ...
    evidence: str = ""  # the sentence the type was read from
    who: str = ""  # the watched people it happened to; '' when the headline (summary) says whom

    @property
    def heading(self) -> str:
        """'Kem Sokha: convicted', or 'Pardoned' when the headline below says whom."""
        return f"{self.who}: {self.type}" if self.who else self.type.capitalize()

    @property
    def index_line(self) -> str:
        """One line for the digest's index: whom, what, when, and a short summary."""
        line = f"{self.heading} · {self.date}" + (f": {self.summary}" if self.summary else "")
        return line if len(line) <= 100 else line[:99].rstrip() + "…"


@dataclass(frozen=True)
class CaseView:
    id: str
    title: str
    developments: tuple[DevelopmentView, ...]
    context: tuple[EventView, ...]
    url: str = ""  # "view the case": the case's page, signed for this subscriber


@lru_cache(maxsize=65536)
def _report_view(report: Report) -> ReportView:
    published = ""
    if report.published is not None:
        stamp = report.published
        if stamp.tzinfo is not None:
            stamp = stamp.astimezone(UTC)
        published = f"{stamp.day} {_MONTHS[stamp.month - 1]} {stamp.year}"
    return ReportView(
        outlet=clean_line(report.outlet) or "Unknown outlet",
        title=clean_line(report.title),
        href=safe_href(report.link),
        published=published,
    )


def _newest_key(development: DigestDevelopment) -> tuple[object, ...]:
    """Newest first: the event date, then the first report's time, then the id as tiebreak."""
    first = development.reports[0].published if development.reports else None
    first_ts = first.timestamp() if first is not None and first.tzinfo is not None else 0.0
    return (development.date.value, first_ts, development.development_id)


def _case_context(developments: list[DigestDevelopment]) -> tuple[EventView, ...]:
    """The case's last known events before the digest's developments, newest first, up to 3.

    Shown once per case: with two developments of one case, the later one's context would
    repeat the earlier one, which the reader is looking at already.
    """
    in_digest = {(d.type, d.date.value) for d in developments}
    seen: set[tuple[object, ...]] = set()
    events: list[KnownEvent] = []
    for development in developments:
        for event in development.context:
            key = (event.type, event.date.value, event.summary)
            if key in seen or (event.type, event.date.value) in in_digest:
                continue
            seen.add(key)
            events.append(event)
    events.sort(key=lambda e: e.date.value, reverse=True)
    return tuple(
        EventView(
            date=format_event_date(e.date),
            type=type_in_words(e.type),
            summary=clean_line(e.summary),
        )
        for e in events[:CONTEXT_EVENTS]
    )


FEEDBACK_WORDS = {"not_news": "not news", "wrong_type": "wrong type", "wrong_case": "wrong case"}


def _feedback(links: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple((words, safe_href(links[label])) for label, words in FEEDBACK_WORDS.items()
                 if safe_href(links.get(label)))


def group_by_case(developments: tuple[DigestDevelopment, ...], case_urls: Mapping[str, str] | None = None,
                  feedback_urls: Mapping[int, Mapping[str, str]] | None = None, *, language: str | None = None,
                  subjects: Mapping[str, Subject] | None = None,
                  case_subjects: Mapping[str, tuple[str, ...]] | None = None) -> list[CaseView]:
    """Developments grouped by case, newest first within a case and across cases; with the
    signed "view the case" and feedback links when given. Each headline is in `language`
    when a source has one; each says whom it happened to (whom.py)."""
    subjects = subjects or {}
    case_urls = case_urls or {}
    feedback_urls = feedback_urls or {}
    ordered = sorted(developments, key=_newest_key, reverse=True)
    groups: dict[str, list[DigestDevelopment]] = {}
    for development in ordered:  # dict order: cases in the order of their newest development
        groups.setdefault(development.case_id, []).append(development)
    cases = []
    for case_id, members in groups.items():
        views = []
        for d in members:
            reports = [_report_view(r) for r in d.reports]
            title = headline(d, language)
            views.append(
                DevelopmentView(
                    type=type_in_words(d.type),
                    date=format_event_date(d.date),
                    summary=clean_line(title),
                    who=_people_phrase(whom(d, title, subjects, case_subjects), ""),
                    people=tuple(p for p in (clean_line(p) for p in d.people) if p),
                    first=reports[0] if reports else None,
                    others=tuple(reports[1:]),
                    feedback=_feedback(feedback_urls.get(d.development_id, {})),
                    evidence=_shorten(clean_line(d.evidence), 300),
                )
            )
        title = clean_line(members[0].case_title) or clean_line(case_id)
        cases.append(CaseView(case_id, title, tuple(views), _case_context(members),
                              safe_href(case_urls.get(case_id))))
    return cases


# --- The subject line. ---


def _strip_leading_names(summary: str, people: tuple[str, ...]) -> str:
    """'Kem Sokha sentenced to ...' -> 'sentenced to ...' when the subject names him already."""
    for name in sorted((clean_line(p) for p in people), key=len, reverse=True):
        if name and summary.lower().startswith(name.lower() + " "):
            return summary[len(name) + 1 :].lstrip(" ,:;—-")
    return summary


def subject_line(developments: tuple[DigestDevelopment, ...], coverage_count: int = 0, *,
                 language: str | None = None, subjects: Mapping[str, Subject] | None = None,
                 case_subjects: Mapping[str, tuple[str, ...]] | None = None) -> str:
    """A subject that says what happened and to whom, under SUBJECT_MAX characters, on one
    line: "Kem Sokha: convicted — ..." in a person's case; in an organisation's or a victim's
    case the headline, in the subscriber's `language` when a source has one, says whom
    ("Pardoned — Kem Ley's killer has life term cut to 20 years")."""
    subjects = subjects or {}
    ordered = sorted(developments, key=_newest_key, reverse=True)
    if not ordered:
        if coverage_count:
            noun = "article" if coverage_count == 1 else "articles"
            return f"No new developments; {coverage_count} {noun} of coverage"
        return "No new developments"
    if len(ordered) == 1:
        d = ordered[0]
        title = clean_line(headline(d, language))
        people = whom(d, title, subjects, case_subjects)
        if not people:
            if not title:  # no headline to say whom: the case, never a name it did not happen to
                return _shorten(f"{type_in_words(d.type).capitalize()} in {clean_line(d.case_title or d.case_id)} "
                                f"on {format_event_date(d.date)}", SUBJECT_MAX)
            head = type_in_words(d.type).capitalize()
            return f"{head} — {_shorten(title, SUBJECT_MAX - len(head) - 3)}"
        who = _shorten(_people_phrase(people, d.case_title or d.case_id), 60)
        head = f"{who}: {type_in_words(d.type)}"
        summary = _strip_leading_names(title, people)
        if not summary:
            return _shorten(f"{head} on {format_event_date(d.date)}", SUBJECT_MAX)
        room = SUBJECT_MAX - len(head) - 3
        if room < 12:
            return _shorten(head, SUBJECT_MAX)
        return f"{head} — {_shorten(summary, room)}"
    prefix = f"{len(ordered)} developments: "
    items = [_list_item(d, language, subjects, case_subjects) for d in ordered]
    best = f"{prefix}{_shorten(items[0], SUBJECT_MAX - len(prefix) - 14)} and {len(items) - 1} more"
    for shown in range(1, len(items) + 1):
        text = prefix + _list_items(items[:shown], len(items) - shown)
        if len(text) > SUBJECT_MAX:
            break
        best = text
    return best


def _list_item(d: DigestDevelopment, language: str | None, subjects: Mapping[str, Subject],
               case_subjects: Mapping[str, tuple[str, ...]] | None) -> str:
    """'Kem Sokha convicted'; the headline itself when it says whom (whom.py)."""
    title = clean_line(headline(d, language))
    people = whom(d, title, subjects, case_subjects)
    if people:
        return f"{_people_phrase(people, '')} {type_in_words(d.type)}"
    if title:
        return _shorten(title, 60)
    return f"{type_in_words(d.type)} in {clean_line(d.case_title or d.case_id)}"


def _list_items(items: list[str], more: int) -> str:
    """'A convicted, B arrested and 2 more'; semicolons when an item has its own 'and'."""
    if any(" and " in item or "," in item for item in items):
        return "; ".join(items) + (f"; and {more} more" if more else "")
    if more:
        return ", ".join(items) + f" and {more} more"
    return _join_words(items)


# --- The email. ---


def make_environment() -> Environment:
    """The Jinja environment for the package templates, HTML autoescaped."""
    env = Environment(
        loader=PackageLoader("monitor.digest", "templates"),
        autoescape=select_autoescape(
            enabled_extensions=("html", "html.j2"), default_for_string=True, default=False
        ),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["wrap"] = _wrap
    return env


_INLINER = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


@lru_cache(maxsize=65536)
def _wrap(text: str, indent: str = "", first: str | None = None, width: int = 76) -> str:
    """Plain-text paragraphs wrapped for mail readers; URLs are never broken."""
    return textwrap.fill(
        text,
        width=width,
        initial_indent=indent if first is None else first,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def _period_label(period: str) -> str:
    daily = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", period)
    if daily:
        year, month, day = (int(g) for g in daily.groups())
        if 1 <= month <= 12:
            return f"Daily digest, {day} {_MONTHS[month - 1]} {year}"
    weekly = re.fullmatch(r"(\d{4})-W(\d{2})", period)
    if weekly:
        return f"Weekly digest, week {int(weekly.group(2))} of {weekly.group(1)}"
    if period.startswith("immediate"):
        return "Alert"
    return f"Digest {clean_line(period)}"


def message_id(sender: str) -> str:
    """A new Message-ID, unique per digest: a rebuilt database never reuses one for new
    content. Delivery stores it at claim, so a resend of that digest keeps it."""
    digest = secrets.token_hex(12)
    _, sender_address = parseaddr(sender)
    domain = sender_address.rpartition("@")[2] if "@" in sender_address else ""
    domain = re.sub(r"[^A-Za-z0-9.-]", "", domain) or "localhost"
    return f"<digest-{digest}@{domain}>"


def _recipient(name: str, email: str) -> str:
    """'Name <address>' with the display name cleaned; an unusable address is refused."""
    address = email.strip()
    try:
        if not address or any(c.isspace() or unicodedata.category(c) == "Cc" for c in address):
            raise ValueError(address)
        return str(Address(display_name=clean_line(name), addr_spec=address))
    except (ValueError, IndexError) as exc:
        raise DeliveryError(
            clean_line(address) or "(no address)",
            "not a usable email address",
            hint="fix the subscriber's address in the config",
        ) from exc


# SMTP line endings; headers are folded only past RFC 5322's hard limit, so a long URL in
# List-Unsubscribe stays a plain <URL> that mail clients can read (folding would turn it
# into an RFC 2047 encoded word, which RFC 2369 headers must not be).
MAIL_POLICY = policy.SMTP.clone(max_line_length=998)


def render_digest(
    digest: Digest,
    *,
    sender: str,
    env: Environment | None = None,
    list_unsubscribe_post_url: str = "",
    now: datetime | None = None,
) -> EmailMessage:
    """Render `digest` as a multipart/alternative email (text/plain, then text/html).

    `list_unsubscribe_post_url` is the RFC 8058 one-click endpoint for the List-Unsubscribe
    header when it differs from the link in the body (`digest.unsubscribe_url`, which may
    open a confirmation page). The Date header is `digest.generated_at`, else `now`, else
    the current time.
    """
    if env is None:
        env = make_environment()
    else:
        env.filters.setdefault("wrap", _wrap)
    subscriber = digest.subscriber
    language = subscriber.language
    cases = group_by_case(digest.developments, digest.case_urls, digest.feedback_urls, language=language,
                          subjects=digest.subjects, case_subjects=digest.case_subjects)
    show_coverage = bool(subscriber.coverage and digest.coverage)
    coverage = [_report_view(r) for r in digest.coverage] if show_coverage else []
    unsubscribe_href = safe_href(digest.unsubscribe_url)
    subject = clean_line(subject_line(digest.developments, len(coverage), language=language,
                                      subjects=digest.subjects, case_subjects=digest.case_subjects))
    context = {
        "subject": subject,
        "period": _period_label(digest.period),
        "cases": cases,
        "development_count": len(digest.developments),
        "coverage": coverage,
        "subscriber_email": clean_line(subscriber.email),
        "frequency": clean_line(subscriber.frequency),
        "watchlists": [clean_line(w) for w in subscriber.watchlists],
        "followed_cases": [clean_line(c) for c in subscriber.cases],
        "unsubscribe_url": unsubscribe_href,
        "manage_url": safe_href(digest.manage_url),
        "instance": clean_line(digest.extra.get("instance", "")) or "Case monitor",
    }

    text = env.get_template("digest.txt.j2").render(context)
    text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
    html = _INLINER.inline(env.get_template("digest.html.j2").render(context))

    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = sender
    message["To"] = _recipient(subscriber.name, subscriber.email)
    message["Subject"] = subject
    stamp = digest.generated_at or now or datetime.now(UTC)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    message["Date"] = format_datetime(stamp)
    message["Message-ID"] = message_id(sender)
    message["Auto-Submitted"] = "auto-generated"
    header_url = safe_href(list_unsubscribe_post_url) or unsubscribe_href
    if header_url:
        message["List-Unsubscribe"] = f"<{header_url}>"
        if header_url.lower().startswith("https:"):  # RFC 8058 section 3.1: HTTPS only
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    # quoted-printable keeps every line under RFC 5322's 998 octets and needs no 8BITMIME.
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    return message
