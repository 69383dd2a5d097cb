"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('agent',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent')),
    sa.UniqueConstraint('email', name=op.f('uq_agent_email'))
    )
    op.create_table('shop',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('webhook_url', sa.String(length=2000), nullable=True),
    sa.Column('webhook_secret', sa.String(length=128), nullable=False),
    sa.Column('reopen_window_days', sa.Integer(), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shop')),
    sa.UniqueConstraint('public_key', name=op.f('uq_shop_public_key'))
    )
    op.create_table('api_token',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('agent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agent.id'], name=op.f('fk_api_token_agent_id_agent'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_api_token_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash'))
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_api_token_shop_id'), ['shop_id'], unique=False)

    op.create_table('audit_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('actor_agent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['actor_agent_id'], ['agent.id'], name=op.f('fk_audit_event_actor_agent_id_agent'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_audit_event_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_object', ['shop_id', 'object_type', 'object_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_shop_id'), ['shop_id'], unique=False)

    op.create_table('canned_reply',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('shortcut', sa.String(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_canned_reply_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_canned_reply')),
    sa.UniqueConstraint('shop_id', 'shortcut', name=op.f('uq_canned_reply_shop_id_shortcut'))
    )
    with op.batch_alter_table('canned_reply', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_canned_reply_shop_id'), ['shop_id'], unique=False)

    op.create_table('customer',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('merged_into_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['merged_into_id'], ['customer.id'], name=op.f('fk_customer_merged_into_id_customer'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_customer_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer'))
    )
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_shop_id'), ['shop_id'], unique=False)

    op.create_table('membership',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('agent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agent.id'], name=op.f('fk_membership_agent_id_agent'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_membership_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership')),
    sa.UniqueConstraint('shop_id', 'agent_id', name=op.f('uq_membership_shop_id_agent_id'))
    )
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_membership_shop_id'), ['shop_id'], unique=False)

    op.create_table('team',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_team_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_team')),
    sa.UniqueConstraint('shop_id', 'name', name=op.f('uq_team_shop_id_name'))
    )
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_team_shop_id'), ['shop_id'], unique=False)

    op.create_table('web_session',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('agent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agent.id'], name=op.f('fk_web_session_agent_id_agent'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_web_session_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_session')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_web_session_token_hash'))
    )
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_session_agent_id'), ['agent_id'], unique=False)

    op.create_table('conversation',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=False),
    sa.Column('assignee_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('team_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('snoozed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('waiting_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_response_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_activity_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('preview', sa.String(length=200), nullable=False),
    sa.Column('message_count', sa.Integer(), nullable=False),
    sa.Column('tags', sa.String(length=1000), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['agent.id'], name=op.f('fk_conversation_assignee_id_agent'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_conversation_customer_id_customer')),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_conversation_shop_id_shop'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_conversation_team_id_team'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation'))
    )
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index('ix_conversation_inbox', ['shop_id', 'status', 'last_activity_at', 'id'], unique=False)
        batch_op.create_index('ix_conversation_waiting', ['shop_id', 'status', 'waiting_since', 'id'], unique=False)
        batch_op.create_index('ix_conversation_recent', ['shop_id', 'last_activity_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversation_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index('ix_conversation_thread', ['shop_id', 'customer_id', 'channel', 'status'], unique=False)

    op.create_table('identity',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('value', sa.String(length=320), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_identity_customer_id_customer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_identity_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity')),
    sa.UniqueConstraint('shop_id', 'kind', 'value', name=op.f('uq_identity_shop_id_kind_value'))
    )
    with op.batch_alter_table('identity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_identity_shop_id'), ['shop_id'], unique=False)

    op.create_table('team_member',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('team_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('agent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agent.id'], name=op.f('fk_team_member_agent_id_agent'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_team_member_shop_id_shop'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_team_member_team_id_team'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_team_member')),
    sa.UniqueConstraint('team_id', 'agent_id', name=op.f('uq_team_member_team_id_agent_id'))
    )
    with op.batch_alter_table('team_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_team_member_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_team_member_shop_id'), ['shop_id'], unique=False)

    op.create_table('conversation_tag',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('conversation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tag', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_conversation_tag_conversation_id_conversation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_conversation_tag_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_tag')),
    sa.UniqueConstraint('conversation_id', 'tag', name=op.f('uq_conversation_tag_conversation_id_tag'))
    )
    with op.batch_alter_table('conversation_tag', schema=None) as batch_op:
        batch_op.create_index('ix_conversation_tag_lookup', ['shop_id', 'tag', 'conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversation_tag_shop_id'), ['shop_id'], unique=False)

    op.create_table('message',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('conversation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('author_agent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('author_customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('html', sa.Text(), nullable=True),
    sa.Column('external_id', sa.String(length=500), nullable=True),
    sa.Column('delivery_state', sa.String(length=16), nullable=True),
    sa.Column('delivery_error', sa.String(length=1000), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['author_agent_id'], ['agent.id'], name=op.f('fk_message_author_agent_id_agent'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['author_customer_id'], ['customer.id'], name=op.f('fk_message_author_customer_id_customer')),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_message_conversation_id_conversation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_message_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message')),
    sa.UniqueConstraint('shop_id', 'channel', 'external_id', name=op.f('uq_message_shop_id_channel_external_id'))
    )
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_author_customer_id'), ['author_customer_id'], unique=False)
        batch_op.create_index('ix_message_conversation', ['conversation_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_shop_id'), ['shop_id'], unique=False)

    op.create_table('attachment',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=255), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_attachment_message_id_message'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_attachment_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment'))
    )
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachment_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_shop_id'), ['shop_id'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=1000), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('shop_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_outbox_message_id_message'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_outbox_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('message_id', name=op.f('uq_outbox_message_id'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_shop_id'), ['shop_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_shop_id'))
        batch_op.drop_index('ix_outbox_due')

    op.drop_table('outbox')
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachment_shop_id'))
        batch_op.drop_index(batch_op.f('ix_attachment_message_id'))

    op.drop_table('attachment')
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_shop_id'))
        batch_op.drop_index('ix_message_conversation')
        batch_op.drop_index(batch_op.f('ix_message_author_customer_id'))

    op.drop_table('message')
    with op.batch_alter_table('conversation_tag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_tag_shop_id'))
        batch_op.drop_index('ix_conversation_tag_lookup')

    op.drop_table('conversation_tag')
    with op.batch_alter_table('team_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_team_member_shop_id'))
        batch_op.drop_index(batch_op.f('ix_team_member_agent_id'))

    op.drop_table('team_member')
    with op.batch_alter_table('identity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_shop_id'))
        batch_op.drop_index(batch_op.f('ix_identity_customer_id'))

    op.drop_table('identity')
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.drop_index('ix_conversation_thread')
        batch_op.drop_index(batch_op.f('ix_conversation_shop_id'))
        batch_op.drop_index('ix_conversation_recent')
        batch_op.drop_index('ix_conversation_waiting')
        batch_op.drop_index('ix_conversation_inbox')
        batch_op.drop_index(batch_op.f('ix_conversation_assignee_id'))

    op.drop_table('conversation')
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_session_agent_id'))

    op.drop_table('web_session')
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_team_shop_id'))

    op.drop_table('team')
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_membership_shop_id'))
        batch_op.drop_index(batch_op.f('ix_membership_agent_id'))

    op.drop_table('membership')
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_shop_id'))

    op.drop_table('customer')
    with op.batch_alter_table('canned_reply', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_canned_reply_shop_id'))

    op.drop_table('canned_reply')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_shop_id'))
        batch_op.drop_index('ix_audit_event_object')

    op.drop_table('audit_event')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_shop_id'))
        batch_op.drop_index(batch_op.f('ix_api_token_agent_id'))

    op.drop_table('api_token')
    op.drop_table('shop')
    op.drop_table('agent')

