"""several daemons on one database: heartbeats, the judge's version, feed leases

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 19:00:00

`daemons` holds one row per running daemon (its heartbeat, for `monitor status`);
`judge_state` one row whose version every judging transaction bumps, so a daemon reloads
what another one judged before it judges; `feeds.lease_until` is the dispatcher's lease on
a feed whose poll job is queued (workers: shared).
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'daemons',
        sa.Column('id', sa.String(length=120), nullable=False),
        sa.Column('host', sa.String(length=255), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=False),
        sa.Column('driver', sa.String(length=20), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('beat_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('polls', sa.Integer(), nullable=False),
        sa.Column('digests', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_daemons')),
    )
    op.create_table(
        'judge_state',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('reroots', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_judge_state')),
    )
    op.execute("INSERT INTO judge_state (id, version, reroots) VALUES (1, 0, 0)")
    with op.batch_alter_table('feeds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('feeds', schema=None) as batch_op:
        batch_op.drop_column('lease_until')
    op.drop_table('judge_state')
    op.drop_table('daemons')
