"""The database schema: SQLAlchemy Core tables, the single source for Alembic migrations.

UNIQUE constraints are the real dedup (STYLE.md): one row per entry key, one promise per
(subscriber, development), one digest per (subscriber, period).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

feeds = Table(
    "feeds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("url", Text, nullable=False),
    # The URL in feeds.yaml when the row was last synced: `url` differs after a permanent
    # redirect, and stays moved until the configured URL itself changes.
    Column("configured_url", Text),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("interval_seconds", Integer),
    Column("next_poll_at", DateTime(timezone=True)),
    Column("last_success_at", DateTime(timezone=True)),
    Column("last_status", String(40)),
    Column("error_count", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("last_error_at", DateTime(timezone=True)),
    Column("failing_since", DateTime(timezone=True)),  # the current run of failures began; null when the last poll worked
    Column("problem", Text),  # what feedparser noticed in the last body (bozo)
    Column("disabled_reason", Text),  # e.g. 410 Gone
    Column("entry_count", Integer, nullable=False, default=0),
    # With workers: shared, a dispatcher leases a due feed while its poll job is queued or
    # running, so no other dispatcher queues it again (store/dispatch.py).
    Column("lease_until", DateTime(timezone=True)),
)

known_events = Table(
    "known_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", String(200), nullable=False, index=True),
    Column("type", String(40), nullable=False),
    Column("date", Date, nullable=False),
    Column("precision", String(10), nullable=False),
    Column("summary", Text, nullable=False),
    Column("subjects", JSON, nullable=False),
    Column("sources", JSON, nullable=False),
)

developments = Table(
    "developments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", String(200), nullable=False, index=True),
    Column("type", String(40), nullable=False),
    Column("date", Date, nullable=False),
    Column("precision", String(10), nullable=False),
    Column("subjects", JSON, nullable=False),
    Column("summary", Text, nullable=False),
    Column("first_entry_key", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

entries = Table(
    "entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("entry_key", Text, nullable=False, unique=True),
    Column("feed", String(200), nullable=False, default=""),
    Column("source", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("link", Text, nullable=False),
    Column("summary", Text, nullable=False, default=""),
    Column("language", String(40)),  # declared by the entry or its feed ("km", "en-GB"); a headline's language
    Column("published", DateTime(timezone=True), index=True),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("verdict", String(20), nullable=False, index=True),
    Column("people", JSON, nullable=False),
    Column("cases", JSON, nullable=False),
    Column("development_id", Integer, ForeignKey("developments.id")),
    # The development as this entry told it (a duplicate may give another date or type).
    Column("dev_case", String(200)),
    Column("dev_type", String(40)),
    Column("dev_date", Date),
    Column("dev_precision", String(10)),
    Column("duplicate_of", Text),
    Column("why", JSON, nullable=False),
)

mentions = Table(
    "mentions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("entry_id", Integer, ForeignKey("entries.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("subject", String(200), nullable=False, index=True),
    Column("alias", Text, nullable=False),
    Column("field", String(20), nullable=False),
)

tombstones = Table(
    "tombstones",
    metadata,
    Column("entry_key", Text, primary_key=True),
    Column("pruned_at", DateTime(timezone=True), nullable=False),
)

suppressions = Table(
    "suppressions",
    metadata,
    Column("email", String(320), primary_key=True),
    Column("reason", String(40), nullable=False),
    Column("detail", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

digests = Table(
    "digests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subscriber", String(320), nullable=False),
    Column("period", String(80), nullable=False),
    Column("message_id", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("status", String(20), nullable=False, default="pending"),  # pending | sent | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("sent_at", DateTime(timezone=True)),
    UniqueConstraint("subscriber", "period", name="uq_digests_subscriber_period"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subscriber", String(320), nullable=False),
    Column("development_id", Integer, ForeignKey("developments.id"), nullable=True),
    Column("entry_id", Integer, ForeignKey("entries.id"), nullable=True),  # coverage items
    Column("promised_at", DateTime(timezone=True), nullable=False),
    Column("digest_id", Integer, ForeignKey("digests.id"), nullable=True, index=True),
    Column("sent", Boolean, nullable=False, default=False),
    UniqueConstraint("subscriber", "development_id", name="uq_outbox_subscriber_development"),
    UniqueConstraint("subscriber", "entry_id", name="uq_outbox_subscriber_entry"),
)

subscriber_schedule = Table(
    "subscriber_schedule",
    metadata,
    Column("subscriber", String(320), primary_key=True),
    Column("next_digest_at", DateTime(timezone=True)),
    Column("last_period", String(80)),
)

# The daemons of this database: each beats every few seconds; `monitor status` shows the
# ones alive (store/daemons.py).
daemons = Table(
    "daemons",
    metadata,
    Column("id", String(120), primary_key=True),  # host:pid:random
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("driver", String(20), nullable=False),  # embedded | shared
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("beat_at", DateTime(timezone=True), nullable=False),
    Column("polls", Integer, nullable=False, default=0),
    Column("digests", Integer, nullable=False, default=0),
)

# One row: bumped by every judging transaction that stored something, so a daemon knows
# whether the judge's memory another daemon wrote is ahead of its own (memory.py).
judge_state = Table(
    "judge_state",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False, default=0),
    Column("reroots", Integer, nullable=False, default=0),  # first reports replaced (supersede)
)

# What readers said of a development from a digest's links: who, what, when. A labelled
# development is left out of later digests (store/feedback.py).
feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("development_id", Integer, ForeignKey("developments.id"), nullable=False, index=True),
    Column("subscriber", String(320), nullable=False),
    Column("label", String(20), nullable=False),  # not_news | wrong_type | wrong_case
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("subscriber", "development_id", "label", name="uq_feedback_subscriber_development_label"),
)

Index("ix_outbox_pending", outbox.c.subscriber, outbox.c.sent)

# Every per-feed or per-development query finds its rows through an index, so a poll costs
# the same whatever the size of the history (tests/test_query_plans.py holds them to it).
# One feed's recent publication times (the adaptive interval), read from the index alone:
Index("ix_entries_feed_published", entries.c.feed, entries.c.published, entries.c.first_seen)
# A development's entries (its first report's time; supersede; digests), read from the index:
Index("ix_entries_development", entries.c.development_id, entries.c.verdict, entries.c.published)
Index("ix_entries_duplicate_of", entries.c.duplicate_of)
Index("ix_entries_first_seen", entries.c.first_seen)  # pruning
Index("ix_developments_first_entry_key", developments.c.first_entry_key)
Index("ix_outbox_entry_id", outbox.c.entry_id)  # pruning keeps entries an outbox row holds
Index("ix_feeds_next_poll_at", feeds.c.next_poll_at)  # the daemon's tick: which feeds are due
