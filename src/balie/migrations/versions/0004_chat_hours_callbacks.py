"""chat widget, opening hours, call-backs and invitations

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table('invitation_rule',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('trigger', sa.String(length=32), nullable=False),
    sa.Column('threshold', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('message_nl', sa.Text(), nullable=False),
    sa.Column('message_en', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('shop_id', ID, nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_invitation_rule_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation_rule'))
    )
    with op.batch_alter_table('invitation_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitation_rule_shop_id'), ['shop_id'], unique=False)

    op.create_table('opening_interval',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('opens', sa.Integer(), nullable=False),
    sa.Column('closes', sa.Integer(), nullable=False),
    sa.Column('shop_id', ID, nullable=False),
    sa.CheckConstraint('opens >= 0 AND opens < closes AND closes <= 1440', name=op.f('ck_opening_interval_minutes')),
    sa.CheckConstraint('weekday >= 0 AND weekday <= 6', name=op.f('ck_opening_interval_weekday')),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_opening_interval_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opening_interval'))
    )
    with op.batch_alter_table('opening_interval', schema=None) as batch_op:
        batch_op.create_index('ix_opening_interval_lookup', ['shop_id', 'channel', 'weekday'], unique=False)

    op.create_table('widget_settings',
    sa.Column('shop_id', ID, nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('secret', sa.String(length=128), nullable=False),
    sa.Column('allowed_origins', sa.Text(), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('whatsapp', sa.String(length=32), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('callback_minutes', sa.Integer(), nullable=False),
    sa.Column('callback_attempts', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_widget_settings_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', name=op.f('pk_widget_settings'))
    )
    op.create_table('callback',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('customer_id', ID, nullable=False),
    sa.Column('conversation_id', ID, nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('topic', sa.Text(), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('window_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('assignee_id', ID, nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('shop_id', ID, nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['agent.id'], name=op.f('fk_callback_assignee_id_agent'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_callback_conversation_id_conversation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_callback_customer_id_customer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_callback_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callback'))
    )
    with op.batch_alter_table('callback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_callback_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_callback_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_callback_queue', ['shop_id', 'status', 'due_at', 'id'], unique=False)

    op.create_table('chat_visitor',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('customer_id', ID, nullable=True),
    sa.Column('verified', sa.Boolean(), nullable=False),
    sa.Column('conversation_id', ID, nullable=True),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('seen_message_id', ID, nullable=True),
    sa.Column('agent_seen_message_id', ID, nullable=True),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('shop_id', ID, nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_chat_visitor_conversation_id_conversation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_chat_visitor_customer_id_customer'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_chat_visitor_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_visitor')),
    sa.UniqueConstraint('key', name=op.f('uq_chat_visitor_key')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_chat_visitor_token_hash'))
    )
    with op.batch_alter_table('chat_visitor', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_visitor_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_chat_visitor_shop_id'), ['shop_id'], unique=False)

    op.create_table('callback_attempt',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('callback_id', ID, nullable=False),
    sa.Column('agent_id', ID, nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('shop_id', ID, nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agent.id'], name=op.f('fk_callback_attempt_agent_id_agent'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['callback_id'], ['callback.id'], name=op.f('fk_callback_attempt_callback_id_callback'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_callback_attempt_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callback_attempt'))
    )
    with op.batch_alter_table('callback_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_callback_attempt_callback_id'), ['callback_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_callback_attempt_shop_id'), ['shop_id'], unique=False)

    op.create_table('invitation',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('rule_id', ID, nullable=False),
    sa.Column('visitor_id', ID, nullable=False),
    sa.Column('visit', sa.Integer(), nullable=False),
    sa.Column('shown_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('conversation_id', ID, nullable=True),
    sa.Column('callback_id', ID, nullable=True),
    sa.Column('shop_id', ID, nullable=False),
    sa.ForeignKeyConstraint(['callback_id'], ['callback.id'], name=op.f('fk_invitation_callback_id_callback'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_invitation_conversation_id_conversation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['rule_id'], ['invitation_rule.id'], name=op.f('fk_invitation_rule_id_invitation_rule'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_invitation_shop_id_shop'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['visitor_id'], ['chat_visitor.id'], name=op.f('fk_invitation_visitor_id_chat_visitor'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation'))
    )
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.create_index('ix_invitation_rule', ['shop_id', 'rule_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitation_visitor_id'), ['visitor_id'], unique=False)

    op.create_table('page_event',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('visitor_id', ID, nullable=False),
    sa.Column('visit', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('product', sa.String(length=200), nullable=False),
    sa.Column('cart_value', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('checkout_step', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('shop_id', ID, nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_page_event_shop_id_shop'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['visitor_id'], ['chat_visitor.id'], name=op.f('fk_page_event_visitor_id_chat_visitor'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_page_event'))
    )
    with op.batch_alter_table('page_event', schema=None) as batch_op:
        batch_op.create_index('ix_page_event_visitor', ['shop_id', 'visitor_id', 'id'], unique=False)

    with op.batch_alter_table('agent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('shop', schema=None) as batch_op:
        # Existing shops are Dutch and Belgian: the default zone.
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), nullable=False,
                                      server_default='Europe/Amsterdam'))



def downgrade() -> None:
    with op.batch_alter_table('agent', schema=None) as batch_op:
        batch_op.drop_column('last_seen_at')

    with op.batch_alter_table('shop', schema=None) as batch_op:
        batch_op.drop_column('time_zone')

    with op.batch_alter_table('page_event', schema=None) as batch_op:
        batch_op.drop_index('ix_page_event_visitor')

    op.drop_table('page_event')
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitation_visitor_id'))
        batch_op.drop_index('ix_invitation_rule')

    op.drop_table('invitation')
    with op.batch_alter_table('callback_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_callback_attempt_shop_id'))
        batch_op.drop_index(batch_op.f('ix_callback_attempt_callback_id'))

    op.drop_table('callback_attempt')
    with op.batch_alter_table('chat_visitor', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_visitor_shop_id'))
        batch_op.drop_index(batch_op.f('ix_chat_visitor_customer_id'))

    op.drop_table('chat_visitor')
    with op.batch_alter_table('callback', schema=None) as batch_op:
        batch_op.drop_index('ix_callback_queue')
        batch_op.drop_index(batch_op.f('ix_callback_customer_id'))
        batch_op.drop_index(batch_op.f('ix_callback_conversation_id'))

    op.drop_table('callback')
    op.drop_table('widget_settings')
    with op.batch_alter_table('opening_interval', schema=None) as batch_op:
        batch_op.drop_index('ix_opening_interval_lookup')

    op.drop_table('opening_interval')
    with op.batch_alter_table('invitation_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitation_rule_shop_id'))

    op.drop_table('invitation_rule')
