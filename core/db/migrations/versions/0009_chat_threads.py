"""Chat threads: who owns a conversation (its turns live in the checkpointer)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 07:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'chat_threads',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('user_id', sa.String(length=120), nullable=False),
        sa.Column('title', sa.String(length=120), nullable=False),
        sa.Column('turns', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_chat_threads_user_updated', 'chat_threads', ['user_id', 'updated_at'])


def downgrade() -> None:
    op.drop_index('ix_chat_threads_user_updated', table_name='chat_threads')
    op.drop_table('chat_threads')
