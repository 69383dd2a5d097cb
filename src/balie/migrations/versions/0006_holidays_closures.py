"""business calendar: the shop's public holidays, and its dated closures and extra openings

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table('dated_hours',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('opens', sa.Integer(), nullable=True),
    sa.Column('closes', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('shop_id', ID, nullable=False),
    sa.CheckConstraint('(opens IS NULL AND closes IS NULL) OR (opens >= 0 AND opens < closes AND closes <= 1440)',
                       name=op.f('ck_dated_hours_minutes')),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_dated_hours_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dated_hours'))
    )
    with op.batch_alter_table('dated_hours', schema=None) as batch_op:
        batch_op.create_index('ix_dated_hours_lookup', ['shop_id', 'day'], unique=False)

    with op.batch_alter_table('shop', schema=None) as batch_op:
        # Existing shops are Dutch and Belgian: they keep the Dutch holidays until an admin
        # chooses the Belgian ones or none. The server default fills the existing rows; new
        # rows get theirs from the model.
        batch_op.add_column(sa.Column('holiday_country', sa.String(length=2), nullable=True, server_default='NL'))


def downgrade() -> None:
    with op.batch_alter_table('shop', schema=None) as batch_op:
        batch_op.drop_column('holiday_country')

    with op.batch_alter_table('dated_hours', schema=None) as batch_op:
        batch_op.drop_index('ix_dated_hours_lookup')

    op.drop_table('dated_hours')
