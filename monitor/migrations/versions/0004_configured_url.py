"""feeds.configured_url: a permanent redirect's new URL survives restarts

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 18:00:00

Before this, the start of the daemon (or `poll`) put back the URL of feeds.yaml over a
feed's moved URL, since nothing recorded which URL the config had named.
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('feeds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('configured_url', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('feeds', schema=None) as batch_op:
        batch_op.drop_column('configured_url')
