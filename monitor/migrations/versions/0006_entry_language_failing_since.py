"""entries.language: the language an entry or its feed declared; feeds.failing_since

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 19:00:00

A digest's headline prefers a source in the subscriber's language (subscribers.yaml
`language`); an entry stored before this has none, and its development keeps the first
report's headline. feeds.failing_since is when a feed's current run of failures began
(feed health: the operator hears of a feed failing for a day); null while it succeeds.
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=40), nullable=True))
    with op.batch_alter_table('feeds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failing_since', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('feeds', schema=None) as batch_op:
        batch_op.drop_column('failing_since')
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_column('language')
