"""drop the shop_id-only indexes of conversation, message and identity

Each table has composite indexes that start with shop_id. The single-column index only
cost writes on ingest's hot path, and PostgreSQL chose it for prepared statements planned
before the tables had statistics, filtering thousands of rows per message.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("conversation", "message", "identity")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_index(f"ix_{table}_shop_id")


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.create_index(f"ix_{table}_shop_id", ["shop_id"], unique=False)
