"""indexes for every per-feed and per-development query

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 17:00:00

Before this, the adaptive interval's query (publication times of one feed) scanned the
whole entries table once per changed feed: a first poll grew with the square of the feeds.
"""

from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

INDEXES = [
    ('ix_entries_feed_published', 'entries', ['feed', 'published', 'first_seen']),
    ('ix_entries_development', 'entries', ['development_id', 'verdict', 'published']),
    ('ix_entries_duplicate_of', 'entries', ['duplicate_of']),
    ('ix_entries_first_seen', 'entries', ['first_seen']),
    ('ix_developments_first_entry_key', 'developments', ['first_entry_key']),
    ('ix_outbox_entry_id', 'outbox', ['entry_id']),
    ('ix_feeds_next_poll_at', 'feeds', ['next_poll_at']),
]


def upgrade() -> None:
    # Plain CREATE INDEX (no batch copy of the table): SQLite and PostgreSQL both take it.
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
