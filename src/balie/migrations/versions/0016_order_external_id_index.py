"""index commerce_order (shop_id, external_id)

WooCommerce's order.deleted carries only the order's WooCommerce id; Shopify's fulfillments
and privacy requests name orders by Shopify's id. Without an index each of them read every
order of the table (a sequential scan over a million orders on PostgreSQL).

Built inside the migration's transaction: writes to commerce_order wait while it is built
(a few seconds for a million orders); reads go on.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('commerce_order', schema=None) as batch_op:
        batch_op.create_index('ix_commerce_order_external', ['shop_id', 'external_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('commerce_order', schema=None) as batch_op:
        batch_op.drop_index('ix_commerce_order_external')
