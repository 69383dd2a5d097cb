"""orders, shipments, tracking events, platform connections, webhook deliveries

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Exact amounts: NUMERIC on PostgreSQL, text on SQLite (balie.db.Money).
MONEY = sa.Numeric(12, 2).with_variant(sa.String(24), "sqlite")


def upgrade() -> None:
    op.create_table('commerce_connection',
    sa.Column('shop_id', ID, nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('secret', sa.String(length=256), nullable=False),
    sa.Column('api_url', sa.String(length=2000), nullable=True),
    sa.Column('api_key', sa.String(length=256), nullable=True),
    sa.Column('api_secret', sa.String(length=256), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_commerce_connection_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', 'platform', name=op.f('pk_commerce_connection'))
    )
    op.create_table('commerce_webhook_delivery',
    sa.Column('shop_id', ID, nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('delivery_id', sa.String(length=128), nullable=False),
    sa.Column('topic', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_commerce_webhook_delivery_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', 'platform', 'delivery_id', name=op.f('pk_commerce_webhook_delivery'))
    )
    op.create_table('commerce_order',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=True),
    sa.Column('customer_id', ID, nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('payment_status', sa.String(length=32), nullable=False),
    sa.Column('total', MONEY, nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('promised_delivery_date', sa.Date(), nullable=True),
    sa.Column('promised_window_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('promised_window_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivery_status', sa.String(length=24), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('source_updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('shop_id', ID, nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_commerce_order_customer_id_customer'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_commerce_order_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commerce_order')),
    sa.UniqueConstraint('shop_id', 'number', name=op.f('uq_commerce_order_shop_id_number'))
    )
    with op.batch_alter_table('commerce_order', schema=None) as batch_op:
        batch_op.create_index('ix_commerce_order_customer', ['shop_id', 'customer_id', 'placed_at'], unique=False)

    op.create_table('commerce_order_line',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('order_id', ID, nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('price', MONEY, nullable=False),
    sa.Column('cost_price', MONEY, nullable=True),
    sa.Column('shop_id', ID, nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['commerce_order.id'], name=op.f('fk_commerce_order_line_order_id_commerce_order'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_commerce_order_line_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commerce_order_line'))
    )
    with op.batch_alter_table('commerce_order_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_commerce_order_line_order_id'), ['order_id'], unique=False)

    op.create_table('commerce_shipment',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('order_id', ID, nullable=True),
    sa.Column('order_number', sa.String(length=64), nullable=False),
    sa.Column('carrier', sa.String(length=64), nullable=False),
    sa.Column('tracking_code', sa.String(length=128), nullable=False),
    sa.Column('tracking_url', sa.String(length=2000), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=24), nullable=True),
    sa.Column('status_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('shop_id', ID, nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['commerce_order.id'], name=op.f('fk_commerce_shipment_order_id_commerce_order'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_commerce_shipment_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commerce_shipment')),
    sa.UniqueConstraint('shop_id', 'carrier', 'tracking_code', name=op.f('uq_commerce_shipment_shop_id_carrier_tracking_code'))
    )
    with op.batch_alter_table('commerce_shipment', schema=None) as batch_op:
        batch_op.create_index('ix_commerce_shipment_number', ['shop_id', 'order_number'], unique=False)
        batch_op.create_index('ix_commerce_shipment_order', ['shop_id', 'order_id'], unique=False)

    op.create_table('commerce_tracking_event',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('shipment_id', ID, nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('raw_status', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('shop_id', ID, nullable=False),
    sa.ForeignKeyConstraint(['shipment_id'], ['commerce_shipment.id'], name=op.f('fk_commerce_tracking_event_shipment_id_commerce_shipment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_commerce_tracking_event_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commerce_tracking_event')),
    sa.UniqueConstraint('shipment_id', 'status', 'occurred_at', name=op.f('uq_commerce_tracking_event_shipment_id_status_occurred_at'))
    )


def downgrade() -> None:
    op.drop_table('commerce_tracking_event')
    with op.batch_alter_table('commerce_shipment', schema=None) as batch_op:
        batch_op.drop_index('ix_commerce_shipment_order')
        batch_op.drop_index('ix_commerce_shipment_number')

    op.drop_table('commerce_shipment')
    with op.batch_alter_table('commerce_order_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_commerce_order_line_order_id'))

    op.drop_table('commerce_order_line')
    with op.batch_alter_table('commerce_order', schema=None) as batch_op:
        batch_op.drop_index('ix_commerce_order_customer')

    op.drop_table('commerce_order')
    op.drop_table('commerce_webhook_delivery')
    op.drop_table('commerce_connection')
