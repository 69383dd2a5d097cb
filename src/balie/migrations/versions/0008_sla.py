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
TIMER_COLUMNS = ('first_response_due_at', 'next_response_due_at', 'resolution_due_at', 'sla_due_at', 'sla_warn_at',
                 'sla_paused_at', 'sla_met_at')


def upgrade() -> None:
    # The worker's snooze wake-up looked through every conversation of every shop each second.
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.create_index('ix_conversation_snoozed', ['snoozed_until'], unique=False,
                              postgresql_where=sa.text("status = 'snoozed'"),
                              sqlite_where=sa.text("status = 'snoozed'"))

    # Existing conversations start without timers: their promises begin with the next message.
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        for name in TIMER_COLUMNS:
            batch_op.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sla_calendar_fallback', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('sla_timers', sa.JSON(), nullable=True))
        batch_op.create_index('ix_conversation_sla', ['shop_id', 'status', 'sla_due_at', 'id'], unique=False)

    op.create_table('sla_policy',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('near', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('shop_id', ID, nullable=False),
    sa.CheckConstraint('near > 0 AND near < 1', name=op.f('ck_sla_policy_near')),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_sla_policy_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_policy')),
    sa.UniqueConstraint('shop_id', name=op.f('uq_sla_policy_shop_id'))
    )
    op.create_table('sla_target',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('business', sa.Boolean(), nullable=False),
    sa.Column('shop_id', ID, nullable=False),
    sa.CheckConstraint('minutes >= 1 AND minutes <= 527040', name=op.f('ck_sla_target_minutes')),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_sla_target_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_target')),
    sa.UniqueConstraint('shop_id', 'channel', 'priority', 'kind',
                        name=op.f('uq_sla_target_shop_id_channel_priority_kind'))
    )


def downgrade() -> None:
    op.drop_table('sla_target')
    op.drop_table('sla_policy')
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.drop_index('ix_conversation_sla')
        batch_op.drop_column('sla_timers')
        batch_op.drop_column('sla_calendar_fallback')
        for name in reversed(TIMER_COLUMNS):
            batch_op.drop_column(name)

    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.drop_index('ix_conversation_snoozed', postgresql_where=sa.text("status = 'snoozed'"),
                            sqlite_where=sa.text("status = 'snoozed'"))
