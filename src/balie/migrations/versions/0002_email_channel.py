"""email channel: support addresses (mailbox) and the e-mail parts of a message

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "mailbox",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("imap_host", sa.String(length=255), nullable=True),
        sa.Column("imap_port", sa.Integer(), nullable=True),
        sa.Column("imap_security", sa.String(length=16), nullable=False),
        sa.Column("imap_user", sa.String(length=320), nullable=True),
        sa.Column("imap_password", sa.String(length=500), nullable=True),
        sa.Column("imap_folder", sa.String(length=255), nullable=False),
        sa.Column("imap_uidvalidity", sa.Integer(), nullable=True),
        sa.Column("imap_last_uid", sa.Integer(), nullable=False),
        sa.Column("imap_failures", sa.Integer(), nullable=False),
        sa.Column("imap_error", sa.String(length=1000), nullable=True),
        sa.Column("imap_next_poll_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("imap_locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("smtp_host", sa.String(length=255), nullable=True),
        sa.Column("smtp_port", sa.Integer(), nullable=True),
        sa.Column("smtp_security", sa.String(length=16), nullable=False),
        sa.Column("smtp_user", sa.String(length=320), nullable=True),
        sa.Column("smtp_password", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shop_id", ID, nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name=op.f("fk_mailbox_shop_id_shop"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mailbox")),
        sa.UniqueConstraint("address", name=op.f("uq_mailbox_address")),
    )
    with op.batch_alter_table("mailbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mailbox_shop_id"), ["shop_id"], unique=False)
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel_address", sa.String(length=320), nullable=True))
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("full_text", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("raw_path", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("flags", sa.String(length=200), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_column("flags")
        batch_op.drop_column("raw_path")
        batch_op.drop_column("full_text")
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.drop_column("channel_address")
    with op.batch_alter_table("mailbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mailbox_shop_id"))
    op.drop_table("mailbox")
