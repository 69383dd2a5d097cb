"""where each shop's WooCommerce reconciliation pull got to, when it is due, and how it went

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('commerce_connection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_pulled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('pull_due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('pull_locked_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('pull_failures', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('pull_error', sa.String(length=500), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('commerce_connection', schema=None) as batch_op:
        batch_op.drop_column('pull_error')
        batch_op.drop_column('pull_failures')
        batch_op.drop_column('pull_locked_until')
        batch_op.drop_column('pull_due_at')
        batch_op.drop_column('last_pulled_at')
