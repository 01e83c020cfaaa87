"""Composes delivery: which digests are due, what they carry, render, send, mark sent.

Plain functions of (engine, config, sender, now); no scheduler, no clock of their own.

The life of a digest:

1. *Claim*: when a subscriber's digest is due, one `digests` row is created for
   (subscriber, period) and every unclaimed promise of theirs moves into it, in one
   transaction. UNIQUE(subscriber, period) makes a second claim of a period impossible.
2. *Attempt*: `begin_attempt` counts the attempt and holds a lease (next_attempt_at) so no
   other process sends it meanwhile.
3. *Send*, then *mark sent* only after the server accepted. A RecipientRefused marks the
   digest failed and suppresses the address (bounce); a TransientDeliveryError keeps it
   pending until its backoff ends.

Crash between accept and mark (documented at-least-once): the digest stays pending with its
lease; when the lease ends it is sent again, with the same rows and the same Message-ID,
and marked. A digest's rows are frozen at claim, so the resend is the same message, and a
mail client that has it already can drop it by Message-ID. At most one resend per crash.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol
from urllib.parse import quote

from jinja2 import Environment
from sqlalchemy import Engine

from monitor.config import Config, ensure_secret
from monitor.digest.render import make_environment, message_id, render_digest
from monitor.errors import DeliveryError
from monitor.mail.calendar import latest_slot, next_slot, period_of
from monitor.mail.tokens import sign_feedback, sign_manage, sign_unsubscribe, sign_view
from monitor.mail.transport import RecipientRefused, TransientDeliveryError
from monitor.model import Digest, DigestDevelopment, Subject, Subscriber
from monitor.store import digest_rows, digests, feedback, outbox, suppressions
from monitor.store.digests import DigestRow
from monitor.store.shared import subscriber_key, utc

log = logging.getLogger(__name__)

RETRY_BASE = timedelta(minutes=2)
RETRY_CEILING = timedelta(hours=1)
UNSUBSCRIBE_PATH = "/unsubscribe"
FEEDBACK_PATH = "/feedback"
_TICK = timedelta(microseconds=1)


class Session(Protocol):
    def send(self, message: EmailMessage) -> object: ...


class Sender(Protocol):
    def session(self) -> Any: ...  # a context manager yielding a Session


@dataclass
class DeliveryReport:
    """What one send_due call did, by subscriber email."""

    sent: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # refused for good
    retrying: list[tuple[str, str]] = field(default_factory=list)  # kept pending, backoff
    deferred: list[str] = field(default_factory=list)  # not tried: the server was down
    suppressed: list[str] = field(default_factory=list)  # on the suppression list

    @property
    def ok(self) -> bool:
        return not (self.failed or self.retrying or self.deferred)

    def summary(self) -> str:
        return (f"{len(self.sent)} sent, {len(self.retrying)} to retry, {len(self.deferred)} deferred, "
                f"{len(self.failed)} failed, {len(self.suppressed)} suppressed")


def retry_delay(attempts: int) -> timedelta:
    """Backoff after the `attempts`-th failed attempt: 2, 4, 8 ... minutes, at most an hour."""
    return min(RETRY_CEILING, RETRY_BASE * 2 ** max(attempts - 1, 0))


def watchlist_cases(config: Config) -> dict[str, frozenset[str]]:
    """Watchlist name -> the ids of its cases (what `outbox.promise` needs)."""
    return {w.name: frozenset(c.id for c in w.cases) for w in config.watchlists}


@dataclass(frozen=True)
class Audience:
    """What delivery needs of the config, read once per run: who gets mail, from whom, about what."""

    subscribers: tuple[Subscriber, ...]
    case_titles: dict[str, str]
    subjects: dict[str, Subject]  # by canonical name: whom a subject line may name
    case_subjects: dict[str, tuple[str, ...]]
    sender: str
    public_url: str
    secret: bytes

    @classmethod
    def of(cls, config: Config) -> Audience:
        return cls(
            subscribers=tuple(config.subscribers),
            case_titles={case_id: case.title for case_id, case in config.cases.items()},
            subjects={s.name: s for s in config.subjects},
            case_subjects={case_id: case.subjects for case_id, case in config.cases.items()},
            sender=config.settings.sender,
            public_url=config.settings.public_url,
            secret=ensure_secret(config.settings).encode("utf-8"),
        )

    def unsubscribe_url(self, email: str) -> str:
        token = sign_unsubscribe(self.secret, subscriber_key(email))
        return f"{self.public_url.rstrip('/')}{UNSUBSCRIBE_PATH}?token={token}"

    def manage_url(self, email: str) -> str:
        return f"{self.public_url.rstrip('/')}/subscriptions/{sign_manage(self.secret, subscriber_key(email))}"

    def case_url(self, email: str, case_id: str) -> str:
        """The digest's "view the case" link: the case page, signed for this subscriber."""
        token = sign_view(self.secret, subscriber_key(email))
        return f"{self.public_url.rstrip('/')}/cases/{quote(case_id, safe='')}?t={token}"

    def feedback_urls(self, email: str, development_id: int) -> dict[str, str]:
        """One signed link per label: a click says "not news", "wrong type" or "wrong case"."""
        base = f"{self.public_url.rstrip('/')}{FEEDBACK_PATH}?token="
        return {label: base + sign_feedback(self.secret, subscriber_key(email), development_id, label)
                for label in feedback.LABELS}


# --- Assembling and rendering. ---


class Composer:
    """Builds and renders digests for one run; developments are loaded once and shared."""

    def __init__(self, engine: Engine, audience: Audience, now: datetime) -> None:
        self.engine = engine
        self.audience = audience
        self.now = utc(now)
        self.env: Environment = make_environment()
        self._titles = audience.case_titles
        self._developments: dict[int, DigestDevelopment] = {}

    def developments(self, ids: Iterable[int]) -> tuple[DigestDevelopment, ...]:
        wanted = list(dict.fromkeys(ids))
        missing = [i for i in wanted if i not in self._developments]
        if missing:
            self._developments.update(digest_rows.load_developments(self.engine, missing, self._titles))
        return tuple(self._developments[i] for i in wanted if i in self._developments)

    def digest(self, subscriber: Subscriber, period: str, development_ids: Iterable[int],
               entry_ids: Iterable[int]) -> Digest:
        coverage = digest_rows.load_coverage(self.engine, entry_ids) if subscriber.coverage else []
        wanted = list(development_ids)
        dropped = feedback.labelled(self.engine, wanted)  # readers said: not news, wrong type or case
        shown = tuple(d for d in self.developments(wanted) if d.development_id not in dropped)
        email = subscriber.email
        return Digest(
            subscriber=subscriber,
            period=period,
            developments=shown,
            coverage=tuple(coverage),
            unsubscribe_url=self.audience.unsubscribe_url(email),
            generated_at=self.now,
            case_urls={c: self.audience.case_url(email, c) for c in dict.fromkeys(d.case_id for d in shown)},
            feedback_urls={d.development_id: self.audience.feedback_urls(email, d.development_id) for d in shown},
            manage_url=self.audience.manage_url(email),
            subjects=self.audience.subjects,
            case_subjects=self.audience.case_subjects,
        )

    def render(self, digest: Digest, fixed_message_id: str | None = None) -> EmailMessage:
        message = render_digest(digest, sender=self.audience.sender, env=self.env,
                                list_unsubscribe_post_url=digest.unsubscribe_url, now=self.now)
        if fixed_message_id:  # the one stored at claim, even if the sender setting changed since
            message.replace_header("Message-ID", fixed_message_id)
        return message


def preview(engine: Engine, config: Config, subscriber: Subscriber, now: datetime) -> tuple[Digest, EmailMessage]:
    """The next digest `subscriber` would get (claimed-but-unsent ones included); writes nothing."""
    now = utc(now)
    development_ids: list[int] = []
    entry_ids: list[int] = []
    for row in digests.open_digests(engine, subscriber.email):
        more = digests.digest_items(engine, row.id)
        development_ids += more[0]
        entry_ids += more[1]
    more = outbox.unclaimed_items(engine, subscriber.email)
    development_ids += more[0]
    entry_ids += more[1]
    if subscriber.frequency == "immediate":
        first = min(development_ids, default=None)
        period = f"immediate:{first}" if first is not None else "immediate"
    else:
        stored = digests.next_digest_at(engine, subscriber.email)
        period = period_of(subscriber, stored if stored and stored >= now else next_slot(subscriber, now))
    composer = Composer(engine, Audience.of(config), now)
    digest = composer.digest(subscriber, period, development_ids, entry_ids)
    return digest, composer.render(digest)


# --- Deciding what is due and claiming it. ---


def _claim(engine: Engine, sender: str, subscriber: Subscriber, base: str, now: datetime,
           coverage: bool) -> DigestRow | None:
    """Claim `base`, or `base#2`, `base#3` ... when an earlier digest of that period exists."""
    for n in range(1, 100):
        period = base if n == 1 else f"{base}#{n}"
        mid = message_id(sender)
        row = digests.claim_digest(engine, subscriber.email, period, mid, now, coverage=coverage)
        if row is not None:
            return row
        if not digests.period_taken(engine, subscriber.email, period):
            return None  # nothing pending to claim
    return None


def claim_due(engine: Engine, sender: str, subscriber: Subscriber, pending: tuple[int, int],
              now: datetime, force: bool = False, quiet: timedelta = timedelta(0)) -> DigestRow | None:
    """Claim `subscriber`'s digest if it is due at `now` (any pending row when `force`).

    immediate: due when a development is pending and none has come for `quiet` (or the
    oldest has waited five times that), so a burst is one mail; coverage rides along,
    never alone;
    daily/weekly: due at subscriber_schedule.next_digest_at, set on first sight, then moved
    to the next slot after each due time, whether or not anything was pending.
    """
    developments, coverage = pending
    wants_coverage = subscriber.coverage
    has_work = developments > 0 or (wants_coverage and coverage > 0)
    if subscriber.frequency == "immediate":
        if not (developments or (force and has_work)):
            return None
        if quiet and not force:
            span = outbox.unclaimed_span(engine, subscriber.email)
            if span is not None and now - span[1] < quiet and now - span[0] < 5 * quiet:
                return None  # still in a burst: gather what comes next into the same mail
        dev_ids, entry_ids = outbox.unclaimed_items(engine, subscriber.email)
        if not dev_ids and not entry_ids:
            return None
        base = f"immediate:{min(dev_ids)}" if dev_ids else f"immediate:e{min(entry_ids)}"
        return _claim(engine, sender, subscriber, base, now, coverage=True)
    stored = digests.next_digest_at(engine, subscriber.email)
    if stored is None or next_slot(subscriber, stored) != stored:
        # First sight, or the subscriber's time, zone or frequency changed since.
        stored = next_slot(subscriber, min(stored or now, now))
        digests.set_next_digest_at(engine, subscriber.email, stored)
    due = stored <= now
    if not (due or force) or not has_work:
        if due:
            digests.set_next_digest_at(engine, subscriber.email, next_slot(subscriber, now + _TICK))
        return None
    base = period_of(subscriber, latest_slot(subscriber, now) if due else now)
    row = _claim(engine, sender, subscriber, base, now, coverage=wants_coverage)
    if due:
        digests.set_next_digest_at(engine, subscriber.email, next_slot(subscriber, now + _TICK),
                                  last_period=row.period if row else None)
    return row


# --- Sending. ---


def send_due(engine: Engine, config: Config, sender: Sender, now: datetime, *, force: bool = False,
             emails: Collection[str] | None = None) -> DeliveryReport:
    """Send every digest due at `now` (with `force`, everything pending), one email each.

    `emails` restricts the run to those subscribers (a per-subscriber job). Each subscriber
    is isolated: a refusal or an unexpected error stops only theirs. A server that is down
    (connection refused, timeout, 421) stops the run; the rest stays pending for next time.
    """
    now = utc(now)
    audience = Audience.of(config)
    report = DeliveryReport()
    only = {subscriber_key(e) for e in emails} if emails is not None else None
    blocked = suppressions.suppressed_emails(engine)
    pending = outbox.pending_counts(engine)
    open_by_subscriber: dict[str, list[DigestRow]] = {}
    for row in digests.open_digests(engine):
        open_by_subscriber.setdefault(row.subscriber, []).append(row)

    work: list[tuple[Subscriber, DigestRow]] = []
    for subscriber in audience.subscribers:
        key = subscriber_key(subscriber.email)
        if only is not None and key not in only:
            continue
        if key in blocked:
            report.suppressed.append(subscriber.email)
            continue
        try:
            work += [(subscriber, row) for row in open_by_subscriber.get(key, [])]
            claimed = claim_due(engine, audience.sender, subscriber, pending.get(key, (0, 0)), now, force,
                                config.settings.immediate_quiet_period)
            if claimed is not None:
                work.append((subscriber, claimed))
        except Exception as exc:  # one subscriber's bad schedule (say, a zone) stops only them
            log.exception("digest for %s: cannot schedule", subscriber.email)
            report.retrying.append((subscriber.email, f"cannot schedule: {exc}"))
    if not work:
        return report

    composer = Composer(engine, audience, now)
    server_down = False
    with sender.session() as session:
        for subscriber, row in work:
            if server_down:
                report.deferred.append(subscriber.email)
                continue
            server_down = _send_one(engine, composer, session, subscriber, row, now, force, report)
    log.info("digests: %s", report.summary())
    return report


def _send_one(engine: Engine, composer: Composer, session: Session, subscriber: Subscriber,
              row: DigestRow, now: datetime, force: bool, report: DeliveryReport) -> bool:
    """Attempt one digest; True when the server looks down and the run should stop."""
    attempt = row.attempts + 1
    if not digests.begin_attempt(engine, row.id, now, now + retry_delay(attempt), force=force):
        return False  # another process holds it, or it waits out its backoff
    try:
        development_ids, entry_ids = digests.digest_items(engine, row.id)
        digest = composer.digest(subscriber, row.period, development_ids, entry_ids)
        message = composer.render(digest, row.message_id)
    except Exception as exc:  # a bad address or a bug for this subscriber stops only them
        log.exception("digest %s for %s: cannot compose", row.period, subscriber.email)
        digests.mark_retry(engine, row.id, str(exc), now + retry_delay(attempt))
        report.retrying.append((subscriber.email, str(exc)))
        return False
    try:
        session.send(message)
    except RecipientRefused as exc:
        log.warning("digest %s for %s: %s; address suppressed", row.period, subscriber.email, exc)
        digests.mark_failed(engine, row.id, str(exc))
        suppressions.suppress(engine, subscriber.email, "bounce", str(exc), now)
        report.failed.append((subscriber.email, str(exc)))
        return False
    except TransientDeliveryError as exc:
        log.warning("digest %s for %s: %s; retry in %s", row.period, subscriber.email, exc, retry_delay(attempt))
        digests.mark_retry(engine, row.id, str(exc), now + retry_delay(attempt))
        report.retrying.append((subscriber.email, str(exc)))
        return exc.code is None or exc.code == 421  # connection-level, not this recipient
    except DeliveryError as exc:
        # Login, sender or TLS refused: a settings problem for every digest, so stop the run;
        # a 5xx on DATA is about this message only. Either way it is retried after backoff.
        log.error("digest %s for %s: %s", row.period, subscriber.email, exc)
        digests.mark_retry(engine, row.id, str(exc), now + retry_delay(attempt))
        report.retrying.append((subscriber.email, str(exc)))
        return "refused the message" not in str(exc)
    except Exception as exc:  # a bug in a sender must not lose the digest or stop the others
        log.exception("digest %s for %s: unexpected error", row.period, subscriber.email)
        digests.mark_retry(engine, row.id, repr(exc), now + retry_delay(attempt))
        report.retrying.append((subscriber.email, repr(exc)))
        return False
    digests.mark_sent(engine, row.id, now)
    report.sent.append(subscriber.email)
    return False
