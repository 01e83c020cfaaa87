"""The plain values that flow through the pipeline: frozen dataclasses, no I/O.

Every stage takes and returns these; none of them knows about HTTP, SQL or SMTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import overload


class Verdict(StrEnum):
    """What an entry means for the people who follow a case (README.md, the verdict table)."""

    NEW = "new"
    DUPLICATE = "duplicate"
    KNOWN = "known"
    MENTION = "mention"
    NONE = "none"


class Precision(StrEnum):
    """How exactly a date is known: "on 3 March 2023", "in March 2023", "in 2023"."""

    DAY = "day"
    MONTH = "month"
    YEAR = "year"


@overload
def utc(moment: datetime) -> datetime: ...
@overload
def utc(moment: None) -> None: ...
def utc(moment: datetime | None) -> datetime | None:
    """An aware UTC datetime (SQLite hands back naive ones: we only ever store UTC)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class DevelopmentType:
    """One kind of development: its id, the family it folds with, and what a digest says.

    Family: types that the same story can be told as ("freed" = "pardoned"; "cleared" =
    "charges dropped"; "blocked from flying home" and "homecoming bid fails" are one story).
    """

    id: str
    family: str
    words: str


# The one table of development types, in the order of precedence used when one sentence
# names several ("upholds the conviction", "appeals the verdict", "released on bail after
# arrest": the later stage of a case wins). Everything else is derived from it.
DEVELOPMENT_TYPE_TABLE: tuple[DevelopmentType, ...] = (
    DevelopmentType("pardon", family="release", words="pardoned"),
    DevelopmentType("appeal_ruling", family="appeal_ruling", words="appeal ruling"),
    DevelopmentType("acquittal", family="cleared", words="acquitted"),
    DevelopmentType("appeal", family="appeal", words="appeal filed"),
    DevelopmentType("conviction", family="verdict", words="convicted"),
    DevelopmentType("sentencing", family="sentence", words="sentenced"),
    DevelopmentType("guilty_plea", family="plea", words="pleaded guilty"),
    DevelopmentType("charges_dropped", family="cleared", words="charges dropped"),
    DevelopmentType("death", family="death", words="died"),
    DevelopmentType("attack", family="attack", words="attacked"),
    DevelopmentType("health_in_custody", family="health", words="health at risk in custody"),
    DevelopmentType("bail", family="release", words="released on bail"),
    DevelopmentType("release", family="release", words="released"),
    DevelopmentType("prison_transfer", family="transfer", words="moved to another prison"),
    DevelopmentType("ban_lifted", family="rehabilitation", words="ban lifted"),
    DevelopmentType("rehabilitation", family="rehabilitation", words="political rights restored"),
    DevelopmentType("dissolution", family="dissolution", words="dissolved"),
    DevelopmentType("travel_ban", family="travel_ban", words="barred from travel"),
    DevelopmentType("ban", family="ban", words="banned"),
    DevelopmentType("detention_extended", family="detention", words="detention extended"),
    DevelopmentType("arrest", family="arrest", words="arrested"),
    DevelopmentType("charge", family="charge", words="charged"),
    DevelopmentType("summons", family="summons", words="summoned"),
    DevelopmentType("trial_resumed", family="trial", words="trial resumed"),
    DevelopmentType("trial_adjourned", family="adjourned", words="trial adjourned"),
    DevelopmentType("trial_opened", family="trial", words="trial opened"),
    DevelopmentType("hearing", family="trial", words="hearing held"),
    DevelopmentType("trial_scheduled", family="schedule", words="trial date set"),
    DevelopmentType("exile", family="movement", words="went into exile"),
    DevelopmentType("return", family="movement", words="returned"),
)
# One court judgment is told as a verdict, a sentence, an appeal court's ruling or, when it is
# mixed, an acquittal ("convicted", "jailed for six years", "term cut to five years on appeal",
# "cleared of collusion"): reports of one person's judgment within a few days of each other
# are one story whichever of these they state.
JUDGMENT_FAMILIES: frozenset[str] = frozenset({"verdict", "sentence", "appeal_ruling", "cleared"})
# In precedence order; a watchlist's own types join them (register_type), so these three
# are the live vocabulary, never rebound.
DEVELOPMENT_TYPES: list[str] = [t.id for t in DEVELOPMENT_TYPE_TABLE]
TYPE_FAMILY: dict[str, str] = {t.id: t.family for t in DEVELOPMENT_TYPE_TABLE}
TYPE_WORDS: dict[str, str] = {t.id: t.words for t in DEVELOPMENT_TYPE_TABLE}
BUILT_IN_TYPES: frozenset[str] = frozenset(t.id for t in DEVELOPMENT_TYPE_TABLE)


def register_type(development_type: DevelopmentType, after: str | None = None) -> None:
    """Add a type a watchlist declares, ranked right after `after` (else last); a type
    already registered keeps its place, so reading a config twice changes nothing."""
    if development_type.id in TYPE_FAMILY:
        return
    index = DEVELOPMENT_TYPES.index(after) + 1 if after in DEVELOPMENT_TYPES else len(DEVELOPMENT_TYPES)
    DEVELOPMENT_TYPES.insert(index, development_type.id)
    TYPE_FAMILY[development_type.id] = development_type.family
    TYPE_WORDS[development_type.id] = development_type.words


def precedence(type_id: str) -> int:
    """A type's rank when one sentence names several: the later stage of a case wins."""
    return DEVELOPMENT_TYPES.index(type_id) if type_id in TYPE_FAMILY else len(DEVELOPMENT_TYPES)

# How many of a case's last known events a digest shows before a development, for context.
CONTEXT_EVENTS = 3


@dataclass(frozen=True)
class EventDate:
    """A date and how precisely it is known; `value` is the first day of the period."""

    value: date
    precision: Precision = Precision.DAY

    def __str__(self) -> str:
        if self.precision is Precision.YEAR:
            return f"{self.value.year:04d}"
        if self.precision is Precision.MONTH:
            return f"{self.value.year:04d}-{self.value.month:02d}"
        return self.value.isoformat()


@dataclass(frozen=True)
class Source:
    """Where a known event was reported: outlet, title, date, optional link."""

    outlet: str
    title: str = ""
    date: date | None = None
    link: str = ""


@dataclass(frozen=True)
class Subject:
    """A watched person or organisation, with every name the feeds may use for it."""

    name: str
    kind: str = "person"  # person | organisation
    role: str = "subject"  # subject | official | lawyer | rights_worker | other
    aliases: tuple[str, ...] = ()
    short_forms: tuple[str, ...] = ()
    exclusions: tuple[str, ...] = ()
    cases: tuple[str, ...] = ()
    watchlist: str = ""

    @property
    def is_watched(self) -> bool:
        """Only case subjects make an entry news; officials and lawyers are context."""
        return self.role == "subject"


@dataclass(frozen=True)
class KnownEvent:
    """One dated event of a case timeline, from the baseline or seen by the monitor."""

    case: str
    type: str
    date: EventDate
    summary: str
    subjects: tuple[str, ...] = ()
    sources: tuple[Source, ...] = ()
    entry_id: str | None = None  # set when the monitor itself saw the event in an entry
    reported_at: datetime | None = None  # when that entry was published (its first report)


@dataclass(frozen=True)
class Case:
    """A matter that subjects are part of, with its timeline of known events."""

    id: str
    title: str
    subjects: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    status: str = ""
    events: tuple[KnownEvent, ...] = ()


@dataclass(frozen=True)
class Entry:
    """One item of a feed, as parsed; text fields are plain text (HTML stripped)."""

    id: str
    source: str
    title: str
    link: str
    published: datetime | None
    summary: str = ""
    content: str = ""
    language: str | None = None
    feed: str = ""
    content_hash: str = ""

    @property
    def key(self) -> str:
        """Identity in the store. A guid that is a URL, URN or tag URI is global; a bare one
        ("1234") is unique only within its feed, so it is scoped by the feed's name."""
        if "://" in self.id or self.id.startswith(("urn:", "tag:", "sha256:")):
            return self.id
        return f"{self.feed or self.source}#{self.id}"


@dataclass(frozen=True)
class Mention:
    """A subject named in an entry: where, and under which alias."""

    subject: str
    alias: str
    field: str  # title | summary | content
    start: int
    end: int


@dataclass(frozen=True)
class Development:
    """An event that an entry reports: case, type, when it happened, who it concerns."""

    case: str
    type: str
    date: EventDate
    subjects: tuple[str, ...] = ()
    summary: str = ""
    evidence: str = ""  # the words that named the type, for `why`
    background: bool = False  # a recap of an older event, not the news of the day

    @property
    def family(self) -> str:
        return TYPE_FAMILY.get(self.type, self.type)


@dataclass(frozen=True)
class Judgement:
    """The outcome of match, classify and diff for one entry (the `monitor scan` line)."""

    entry: Entry
    verdict: Verdict
    people: tuple[str, ...] = ()
    cases: tuple[str, ...] = ()
    development: Development | None = None
    duplicate_of: str | None = None
    why: tuple[str, ...] = ()
    # A report published before the one the monitor took for first (it arrived later):
    # this entry becomes the first report and that one, named here, a duplicate of it.
    supersedes: str | None = None


# --- What a digest is made of (built from the store, rendered by `digest`). ---


@dataclass(frozen=True)
class Report:
    """One entry that reported a development: the outlet and its link."""

    outlet: str
    title: str
    link: str
    published: datetime | None
    language: str | None = None  # as the entry or its feed declared it ("km", "en-GB")
    type_phrase: str = ""  # the words the development's type was read from, as the judge said


@dataclass(frozen=True)
class DigestDevelopment:
    """A development as a subscriber sees it: what, when, who reported it, and context."""

    development_id: int
    case_id: str
    case_title: str
    type: str
    date: EventDate
    summary: str
    people: tuple[str, ...]
    reports: tuple[Report, ...]  # first reporter first, duplicates folded in
    context: tuple[KnownEvent, ...] = ()  # the case's last known events before this one
    evidence: str = ""  # the sentence of the first report that the type was read from
    # Watched people whose death the store holds before this development (in any case): it
    # did not happen to them (a victim's case: "Kem Ley's killer pardoned", never "Kem Ley").
    dead: tuple[str, ...] = ()


@dataclass(frozen=True)
class Subscriber:
    """Someone who receives digests (config/subscribers.yaml)."""

    email: str
    name: str = ""
    watchlists: tuple[str, ...] = ()  # empty: all
    cases: tuple[str, ...] = ()  # empty: all cases of the chosen watchlists
    frequency: str = "daily"  # immediate | daily | weekly
    at: str = "07:00"
    timezone: str = "UTC"
    coverage: bool = False
    language: str | None = None  # a headline in this language is preferred when a source has one


@dataclass(frozen=True)
class Digest:
    """Everything one email says: its developments grouped by case, newest first."""

    subscriber: Subscriber
    period: str  # e.g. "2023-03-03" (daily), "2023-W09" (weekly), "immediate:<id>"
    developments: tuple[DigestDevelopment, ...]
    coverage: tuple[Report, ...] = ()
    unsubscribe_url: str = ""
    generated_at: datetime | None = None
    extra: dict[str, str] = field(default_factory=dict)
    case_urls: Mapping[str, str] = field(default_factory=dict)  # case id -> "view the case" link
    # development id -> feedback label ("not_news", "wrong_type", "wrong_case") -> signed link
    feedback_urls: Mapping[int, Mapping[str, str]] = field(default_factory=dict)
    manage_url: str = ""  # the subscriber's page: frequency, time, zone, cases
    # The watchlists' subjects by canonical name: which are organisations, and the names a
    # headline may call them by (subject lines say whom a development happened to).
    subjects: Mapping[str, Subject] = field(default_factory=dict)
    case_subjects: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # case id -> its subjects


@dataclass(frozen=True)
class FeedHealth:
    """A feed that needs the operator (monitor/health.py): `state` is failing, gone or
    silent, since `since`; `detail` says it in one line."""

    feed: str
    state: str
    since: datetime | None
    detail: str


# --- Where digests are handed over (parsed by config from smtp_url, used by mail). ---


@dataclass(frozen=True)
class SmtpTarget:
    """An SMTP server and how to talk to it; `security` is 'plain', 'starttls' or 'tls'
    (implicit TLS). Its repr never shows the password."""

    host: str
    port: int
    security: str = "plain"
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0  # seconds, per socket operation

    def __repr__(self) -> str:
        password = "'***'" if self.password else repr(self.password)
        return (
            f"SmtpTarget(host={self.host!r}, port={self.port}, security={self.security!r}, "
            f"username={self.username!r}, password={password}, timeout={self.timeout})"
        )

    __str__ = __repr__
