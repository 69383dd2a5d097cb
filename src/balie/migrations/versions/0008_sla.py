"""the snooze wake-up's index; SLA timers on conversations, the shop's SLA targets

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # The worker's snooze wake-up looked through every conversation of every shop each second.
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.create_index('ix_conversation_snoozed', ['snoozed_until'], unique=False,
                              postgresql_where=sa.text("status = 'snoozed'"),
                              sqlite_where=sa.text("status = 'snoozed'"))


def downgrade() -> None:
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.drop_index('ix_conversation_snoozed', postgresql_where=sa.text("status = 'snoozed'"),
                            sqlite_where=sa.text("status = 'snoozed'"))
