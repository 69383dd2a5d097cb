"""automation rules and their run log

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table('automation_rule',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('trigger', sa.String(length=32), nullable=False),
    sa.Column('hours', sa.Integer(), nullable=True),
    sa.Column('conditions', sa.JSON(), nullable=False),
    sa.Column('actions', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('shop_id', ID, nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_automation_rule_shop_id_shop'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_automation_rule'))
    )
    with op.batch_alter_table('automation_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_automation_rule_shop_id'), ['shop_id'], unique=False)

    op.create_table('automation_run',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('rule_id', ID, nullable=True),
    sa.Column('rule_name', sa.String(length=200), nullable=False),
    sa.Column('conversation_id', ID, nullable=False),
    sa.Column('trigger', sa.String(length=32), nullable=False),
    sa.Column('event_key', sa.String(length=200), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('results', sa.JSON(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('shop_id', ID, nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'],
                            name=op.f('fk_automation_run_conversation_id_conversation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rule_id'], ['automation_rule.id'],
                            name=op.f('fk_automation_run_rule_id_automation_rule'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_automation_run_shop_id_shop'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_automation_run')),
    sa.UniqueConstraint('rule_id', 'event_key', name=op.f('uq_automation_run_rule_id_event_key'))
    )
    with op.batch_alter_table('automation_run', schema=None) as batch_op:
        batch_op.create_index('ix_automation_run_conversation', ['shop_id', 'conversation_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('automation_run', schema=None) as batch_op:
        batch_op.drop_index('ix_automation_run_conversation')

    op.drop_table('automation_run')
    with op.batch_alter_table('automation_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_automation_rule_shop_id'))

    op.drop_table('automation_rule')
