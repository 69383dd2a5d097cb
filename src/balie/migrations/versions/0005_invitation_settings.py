"""invitations: the shop's reply-time target, and one invitation per visit in the database

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table('invitation_settings',
    sa.Column('shop_id', ID, nullable=False),
    sa.Column('reply_target_seconds', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_invitation_settings_shop_id_shop'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', name=op.f('pk_invitation_settings'))
    )
    # Nothing has written invitations before this revision, so no duplicates can stand in the way.
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.create_index('uq_invitation_visit', ['shop_id', 'visitor_id', 'visit'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_index('uq_invitation_visit')

    op.drop_table('invitation_settings')
