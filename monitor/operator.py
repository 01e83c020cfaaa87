"""Feed health for the operator: which feeds need attention (`monitor status`, the log) and
the operator's mail (setting `operator_email`), at most one a day while any feed is failing
for `feed_failing_after`, gone, or silent for longer than its own rhythm (health.py).

The mail is a row of the digests table, ("operator:<email>", "operator:<UTC day>"): the same
UNIQUE(subscriber, period) that keeps a subscriber's digest single keeps it single, across
restarts and daemons; a refused send stays pending and is retried with the digests' backoff.
Its subscriber column is never a subscriber's address, so delivery never takes it for a
digest, even when the operator is also a subscriber.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from monitor import health
from monitor.config import Config
from monitor.delivery import Sender, retry_delay
from monitor.digest.health_mail import render_health
from monitor.digest.render import message_id
from monitor.errors import DeliveryError
from monitor.mail.transport import RecipientRefused
from monitor.model import FeedHealth, utc
from monitor.store import digests
from monitor.store import feeds as feed_store

log = logging.getLogger("monitor.operator")

PERIOD_PREFIX = "operator:"


def feed_health(engine: Engine, config: Config, now: datetime) -> list[FeedHealth]:
    """The enabled feeds of `config` that need the operator, in feeds.yaml order."""
    now = utc(now)
    rows = {s.name: s for s in feed_store.feed_states(engine)}
    out: list[FeedHealth] = []
    for feed in config.feeds:
        row = rows.get(feed.name)
        if not feed.enabled or row is None:
            continue
        times = feed_store.latest_publication_times(engine, feed.name, health.HISTORY)
        trouble = health.assess(
            feed.name, now=now, failing_after=config.settings.feed_failing_after, error_count=row.error_count,
            failing_since=row.failing_since, last_error=row.last_error, last_success_at=row.last_success_at,
            disabled_reason=row.disabled_reason, times=times,
        )
        if trouble is not None:
            out.append(trouble)
    return out


@dataclass(frozen=True)
class OperatorMail:
    """What one run did: `outcome` is off, healthy, sent, sent_already, waiting, retrying or
    refused; `report` the feeds in trouble; `error` why a send failed."""

    outcome: str
    report: tuple[FeedHealth, ...] = ()
    error: str = ""


def send_operator_mail(engine: Engine, config: Config, sender: Sender, now: datetime) -> OperatorMail:
    """Mail the feeds in trouble to `operator_email`, once per UTC day."""
    now = utc(now)
    settings = config.settings
    address = settings.operator_email
    report = tuple(feed_health(engine, config, now))
    if not address:
        return OperatorMail("off", report)
    if not report:
        return OperatorMail("healthy")
    row = digests.claim_notice(engine, f"{PERIOD_PREFIX}{address}", f"{PERIOD_PREFIX}{now:%Y-%m-%d}",
                               message_id(settings.sender), now)
    if row is None:
        return OperatorMail("sent_already", report)
    attempt = row.attempts + 1
    if not digests.begin_attempt(engine, row.id, now, now + retry_delay(attempt)):
        return OperatorMail("waiting", report)  # another daemon holds it, or it waits out a backoff
    message = render_health(report, sender=settings.sender, to=address, now=now)
    message.replace_header("Message-ID", row.message_id)
    try:
        with sender.session() as session:
            session.send(message)
    except RecipientRefused as exc:
        digests.mark_failed(engine, row.id, str(exc))
        log.error("operator mail to %s refused: %s", address, exc)
        return OperatorMail("refused", report, str(exc))
    except DeliveryError as exc:
        digests.mark_retry(engine, row.id, str(exc), now + retry_delay(attempt))
        log.warning("operator mail to %s: %s; retry in %s", address, exc, retry_delay(attempt))
        return OperatorMail("retrying", report, str(exc))
    digests.mark_sent(engine, row.id, now)
    return OperatorMail("sent", report)
