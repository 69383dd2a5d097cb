"""return cases and their lines, each shop's return settings and exceptions

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Exact amounts: NUMERIC on PostgreSQL, text on SQLite (balie.db.Money).
MONEY = sa.Numeric(12, 2).with_variant(sa.String(24), "sqlite")


def upgrade() -> None:
    op.create_table('return_exception',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('sku_prefix', sa.String(length=64), nullable=False),
    sa.Column('shop_id', ID, nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_return_exception_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_return_exception')),
    sa.UniqueConstraint('shop_id', 'sku_prefix', name=op.f('uq_return_exception_shop_id_sku_prefix'))
    )
    op.create_table('return_settings',
    sa.Column('shop_id', ID, nullable=False),
    sa.Column('policy', sa.String(length=16), nullable=False),
    sa.Column('standard_delivery_cost', MONEY, nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_return_settings_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', name=op.f('pk_return_settings'))
    )
    op.create_table('return_case',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('order_id', ID, nullable=False),
    sa.Column('order_number', sa.String(length=64), nullable=False),
    sa.Column('customer_id', ID, nullable=True),
    sa.Column('lines_key', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivery_unknown', sa.Boolean(), nullable=False),
    sa.Column('period_ends_on', sa.Date(), nullable=True),
    sa.Column('in_time', sa.Boolean(), nullable=False),
    sa.Column('send_back_by', sa.Date(), nullable=False),
    sa.Column('refund_due_on', sa.Date(), nullable=False),
    sa.Column('refund_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('refund_warn_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('goods_received_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('shipment_proof_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivery_refund', MONEY, nullable=False),
    sa.Column('refunded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refunded_amount', MONEY, nullable=True),
    sa.Column('refund_reference', sa.String(length=200), nullable=True),
    sa.Column('conversation_id', ID, nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('shop_id', ID, nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_return_case_conversation_id_conversation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_return_case_customer_id_customer'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['order_id'], ['commerce_order.id'], name=op.f('fk_return_case_order_id_commerce_order'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_return_case_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_return_case')),
    sa.UniqueConstraint('shop_id', 'order_id', 'lines_key', name=op.f('uq_return_case_shop_id_order_id_lines_key'))
    )
    with op.batch_alter_table('return_case', schema=None) as batch_op:
        batch_op.create_index('ix_return_case_order', ['shop_id', 'order_number'], unique=False)

    op.create_table('return_line',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('case_id', ID, nullable=False),
    sa.Column('order_line_id', ID, nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('price', MONEY, nullable=False),
    sa.Column('exception', sa.String(length=16), nullable=True),
    sa.Column('condition', sa.String(length=16), nullable=True),
    sa.Column('labels_attached', sa.Boolean(), nullable=True),
    sa.Column('condition_notes', sa.Text(), nullable=False),
    sa.Column('deduction', MONEY, nullable=False),
    sa.Column('deduction_reason', sa.Text(), nullable=False),
    sa.Column('shop_id', ID, nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['return_case.id'], name=op.f('fk_return_line_case_id_return_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_line_id'], ['commerce_order_line.id'], name=op.f('fk_return_line_order_line_id_commerce_order_line'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_return_line_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_return_line'))
    )
    with op.batch_alter_table('return_line', schema=None) as batch_op:
        batch_op.create_index('ix_return_line_case', ['shop_id', 'case_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('return_line', schema=None) as batch_op:
        batch_op.drop_index('ix_return_line_case')

    op.drop_table('return_line')
    with op.batch_alter_table('return_case', schema=None) as batch_op:
        batch_op.drop_index('ix_return_case_order')

    op.drop_table('return_case')
    op.drop_table('return_settings')
    op.drop_table('return_exception')
