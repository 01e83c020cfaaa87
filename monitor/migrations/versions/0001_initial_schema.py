"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 11:25:25.233458
"""

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('developments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('precision', sa.String(length=10), nullable=False),
    sa.Column('subjects', sa.JSON(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('first_entry_key', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_developments'))
    )
    with op.batch_alter_table('developments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_developments_case_id'), ['case_id'], unique=False)

    op.create_table('digests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscriber', sa.String(length=320), nullable=False),
    sa.Column('period', sa.String(length=80), nullable=False),
    sa.Column('message_id', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digests')),
    sa.UniqueConstraint('subscriber', 'period', name='uq_digests_subscriber_period')
    )
    op.create_table('feeds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('etag', sa.Text(), nullable=True),
    sa.Column('last_modified', sa.Text(), nullable=True),
    sa.Column('interval_seconds', sa.Integer(), nullable=True),
    sa.Column('next_poll_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_status', sa.String(length=40), nullable=True),
    sa.Column('error_count', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_error_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('problem', sa.Text(), nullable=True),
    sa.Column('disabled_reason', sa.Text(), nullable=True),
    sa.Column('entry_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feeds')),
    sa.UniqueConstraint('name', name=op.f('uq_feeds_name'))
    )
    op.create_table('known_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('precision', sa.String(length=10), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('subjects', sa.JSON(), nullable=False),
    sa.Column('sources', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_known_events'))
    )
    with op.batch_alter_table('known_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_known_events_case_id'), ['case_id'], unique=False)

    op.create_table('subscriber_schedule',
    sa.Column('subscriber', sa.String(length=320), nullable=False),
    sa.Column('next_digest_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_period', sa.String(length=80), nullable=True),
    sa.PrimaryKeyConstraint('subscriber', name=op.f('pk_subscriber_schedule'))
    )
    op.create_table('suppressions',
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('email', name=op.f('pk_suppressions'))
    )
    op.create_table('tombstones',
    sa.Column('entry_key', sa.Text(), nullable=False),
    sa.Column('pruned_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('entry_key', name=op.f('pk_tombstones'))
    )
    op.create_table('entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_key', sa.Text(), nullable=False),
    sa.Column('feed', sa.String(length=200), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('link', sa.Text(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('published', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('verdict', sa.String(length=20), nullable=False),
    sa.Column('people', sa.JSON(), nullable=False),
    sa.Column('cases', sa.JSON(), nullable=False),
    sa.Column('development_id', sa.Integer(), nullable=True),
    sa.Column('dev_case', sa.String(length=200), nullable=True),
    sa.Column('dev_type', sa.String(length=40), nullable=True),
    sa.Column('dev_date', sa.Date(), nullable=True),
    sa.Column('dev_precision', sa.String(length=10), nullable=True),
    sa.Column('duplicate_of', sa.Text(), nullable=True),
    sa.Column('why', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['development_id'], ['developments.id'], name=op.f('fk_entries_development_id_developments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entries')),
    sa.UniqueConstraint('entry_key', name=op.f('uq_entries_entry_key'))
    )
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entries_published'), ['published'], unique=False)
        batch_op.create_index(batch_op.f('ix_entries_verdict'), ['verdict'], unique=False)

    op.create_table('mentions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('alias', sa.Text(), nullable=False),
    sa.Column('field', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], name=op.f('fk_mentions_entry_id_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentions'))
    )
    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mentions_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mentions_subject'), ['subject'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscriber', sa.String(length=320), nullable=False),
    sa.Column('development_id', sa.Integer(), nullable=True),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('promised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('digest_id', sa.Integer(), nullable=True),
    sa.Column('sent', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['development_id'], ['developments.id'], name=op.f('fk_outbox_development_id_developments')),
    sa.ForeignKeyConstraint(['digest_id'], ['digests.id'], name=op.f('fk_outbox_digest_id_digests')),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], name=op.f('fk_outbox_entry_id_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('subscriber', 'development_id', name='uq_outbox_subscriber_development'),
    sa.UniqueConstraint('subscriber', 'entry_id', name='uq_outbox_subscriber_entry')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_digest_id'), ['digest_id'], unique=False)
        batch_op.create_index('ix_outbox_pending', ['subscriber', 'sent'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_pending')
        batch_op.drop_index(batch_op.f('ix_outbox_digest_id'))

    op.drop_table('outbox')
    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mentions_subject'))
        batch_op.drop_index(batch_op.f('ix_mentions_entry_id'))

    op.drop_table('mentions')
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entries_verdict'))
        batch_op.drop_index(batch_op.f('ix_entries_published'))

    op.drop_table('entries')
    op.drop_table('tombstones')
    op.drop_table('suppressions')
    op.drop_table('subscriber_schedule')
    with op.batch_alter_table('known_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_known_events_case_id'))

    op.drop_table('known_events')
    op.drop_table('feeds')
    op.drop_table('digests')
    with op.batch_alter_table('developments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_developments_case_id'))

    op.drop_table('developments')
