"""delivery promises: settings, carrier transit days, notice templates, compensation rules,
breaches, vouchers; partial indexes for the monitor on open undelivered orders

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Exact amounts: NUMERIC on PostgreSQL, text on SQLite (balie.db.Money).
MONEY = sa.Numeric(12, 2).with_variant(sa.String(24), "sqlite")
OPEN = "status = 'open' AND delivered_at IS NULL"


def upgrade() -> None:
    op.create_table('promise_carrier_transit',
    sa.Column('shop_id', ID, nullable=False),
    sa.Column('carrier', sa.String(length=64), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_promise_carrier_transit_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', 'carrier', name=op.f('pk_promise_carrier_transit'))
    )
    op.create_table('promise_compensation_rule',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('min_days_late', sa.Integer(), nullable=False),
    sa.Column('min_order_total', MONEY, nullable=False),
    sa.Column('amount', MONEY, nullable=False),
    sa.Column('shop_id', ID, nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_promise_compensation_rule_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promise_compensation_rule'))
    )
    with op.batch_alter_table('promise_compensation_rule', schema=None) as batch_op:
        batch_op.create_index('ix_promise_compensation_rule_shop', ['shop_id', 'min_days_late'], unique=False)

    op.create_table('promise_settings',
    sa.Column('shop_id', ID, nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('cutoff', sa.String(length=5), nullable=False),
    sa.Column('transit_days', sa.Integer(), nullable=False),
    sa.Column('extra_days', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('enabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_promise_settings_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', name=op.f('pk_promise_settings'))
    )
    op.create_table('promise_template',
    sa.Column('shop_id', ID, nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_promise_template_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', 'language', name=op.f('pk_promise_template'))
    )
    op.create_table('promise_breach',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('order_id', ID, nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=16), nullable=False),
    sa.Column('promised_date', sa.Date(), nullable=False),
    sa.Column('new_expected_date', sa.Date(), nullable=False),
    sa.Column('broken_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('detail', sa.String(length=1000), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('watching', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('acted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('conversation_id', ID, nullable=True),
    sa.Column('message_id', ID, nullable=True),
    sa.Column('customer_asked_first', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=False),
    sa.Column('shop_id', ID, nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_promise_breach_conversation_id_conversation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_promise_breach_message_id_message'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['order_id'], ['commerce_order.id'], name=op.f('fk_promise_breach_order_id_commerce_order'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_promise_breach_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promise_breach')),
    sa.UniqueConstraint('order_id', 'generation', name=op.f('uq_promise_breach_order_id_generation'))
    )
    with op.batch_alter_table('promise_breach', schema=None) as batch_op:
        batch_op.create_index('ix_promise_breach_new', ['detected_at'], unique=False, postgresql_where=sa.text("state = 'new'"), sqlite_where=sa.text("state = 'new'"))
        batch_op.create_index('ix_promise_breach_stats', ['shop_id', 'detected_at'], unique=False)
        batch_op.create_index('ix_promise_breach_watching', ['shop_id', 'new_expected_date'], unique=False, postgresql_where=sa.text('watching'), sqlite_where=sa.text('watching'))

    op.create_table('promise_voucher',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('amount', MONEY, nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('order_id', ID, nullable=False),
    sa.Column('customer_id', ID, nullable=True),
    sa.Column('breach_id', ID, nullable=True),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('shop_id', ID, nullable=False),
    sa.ForeignKeyConstraint(['breach_id'], ['promise_breach.id'], name=op.f('fk_promise_voucher_breach_id_promise_breach'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_promise_voucher_customer_id_customer'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['order_id'], ['commerce_order.id'], name=op.f('fk_promise_voucher_order_id_commerce_order'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_promise_voucher_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promise_voucher')),
    sa.UniqueConstraint('shop_id', 'code', name=op.f('uq_promise_voucher_shop_id_code'))
    )
    with op.batch_alter_table('promise_voucher', schema=None) as batch_op:
        batch_op.create_index('ix_promise_voucher_order', ['shop_id', 'order_id'], unique=False)

    with op.batch_alter_table('commerce_order', schema=None) as batch_op:
        batch_op.create_index('ix_commerce_order_promise_date', ['shop_id', 'promised_delivery_date'], unique=False, postgresql_where=sa.text(f"{OPEN} AND promised_delivery_date IS NOT NULL"), sqlite_where=sa.text(f"{OPEN} AND promised_delivery_date IS NOT NULL"))
        batch_op.create_index('ix_commerce_order_promise_status', ['shop_id', 'delivery_status'], unique=False, postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))
        batch_op.create_index('ix_commerce_order_promise_window', ['shop_id', 'promised_window_start'], unique=False, postgresql_where=sa.text(f"{OPEN} AND promised_window_start IS NOT NULL"), sqlite_where=sa.text(f"{OPEN} AND promised_window_start IS NOT NULL"))

    with op.batch_alter_table('commerce_shipment', schema=None) as batch_op:
        batch_op.create_index('ix_commerce_shipment_in_transit', ['shop_id', 'status_at'], unique=False, postgresql_where=sa.text("status = 'in_transit'"), sqlite_where=sa.text("status = 'in_transit'"))



def downgrade() -> None:
    with op.batch_alter_table('commerce_shipment', schema=None) as batch_op:
        batch_op.drop_index('ix_commerce_shipment_in_transit')

    with op.batch_alter_table('commerce_order', schema=None) as batch_op:
        batch_op.drop_index('ix_commerce_order_promise_window')
        batch_op.drop_index('ix_commerce_order_promise_status')
        batch_op.drop_index('ix_commerce_order_promise_date')

    with op.batch_alter_table('promise_voucher', schema=None) as batch_op:
        batch_op.drop_index('ix_promise_voucher_order')

    op.drop_table('promise_voucher')
    with op.batch_alter_table('promise_breach', schema=None) as batch_op:
        batch_op.drop_index('ix_promise_breach_watching')
        batch_op.drop_index('ix_promise_breach_stats')
        batch_op.drop_index('ix_promise_breach_new')

    op.drop_table('promise_breach')
    op.drop_table('promise_template')
    op.drop_table('promise_settings')
    with op.batch_alter_table('promise_compensation_rule', schema=None) as batch_op:
        batch_op.drop_index('ix_promise_compensation_rule_shop')

    op.drop_table('promise_compensation_rule')
    op.drop_table('promise_carrier_transit')
