"""blocked and muted customers, the customer's language, acknowledgement settings per channel

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=2), server_default='', nullable=False))
        batch_op.add_column(sa.Column('block_state', sa.String(length=8), server_default='', nullable=False))
        batch_op.add_column(sa.Column('blocked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('blocked_by_id', ID, nullable=True))
        batch_op.add_column(sa.Column('block_reason', sa.String(length=500), server_default='', nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_customer_blocked_by_id_agent'), 'agent', ['blocked_by_id'],
                                    ['id'], ondelete='SET NULL')

    op.create_table('acknowledgement_setting',
    sa.Column('shop_id', ID, nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_acknowledgement_setting_shop_id_shop'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', 'channel', name=op.f('pk_acknowledgement_setting'))
    )


def downgrade() -> None:
    op.drop_table('acknowledgement_setting')

    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_customer_blocked_by_id_agent'), type_='foreignkey')
        batch_op.drop_column('block_reason')
        batch_op.drop_column('blocked_by_id')
        batch_op.drop_column('blocked_at')
        batch_op.drop_column('block_state')
        batch_op.drop_column('language')
