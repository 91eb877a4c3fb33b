"""mail drafts for rule breaches and their decision log

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 21:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'mail_drafts',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('trigger_key', sa.String(length=200), nullable=False),
        sa.Column('audience', sa.String(length=10), nullable=False),
        sa.Column('account_id', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('language', sa.String(length=2), nullable=False),
        sa.Column('recipient', sa.String(length=200), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('thread_id', sa.String(length=200), nullable=False),
        sa.Column('created_by', sa.String(length=120), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('decided_by', sa.String(length=120), nullable=True),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('trigger_key', 'audience', name='uq_mail_drafts_trigger'),
    )
    with op.batch_alter_table('mail_drafts', schema=None) as batch_op:
        batch_op.create_index('ix_mail_drafts_account_id', ['account_id'], unique=False)
    op.create_table(
        'draft_events',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('draft_id', sa.String(length=36), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('actor', sa.String(length=120), nullable=False),
        sa.Column('action', sa.String(length=12), nullable=False),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.Column('model', sa.String(length=120), nullable=True),
        sa.Column('prompt_version', sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(['draft_id'], ['mail_drafts.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('draft_events', schema=None) as batch_op:
        batch_op.create_index('ix_draft_events_draft_id', ['draft_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('draft_events', schema=None) as batch_op:
        batch_op.drop_index('ix_draft_events_draft_id')
    op.drop_table('draft_events')
    with op.batch_alter_table('mail_drafts', schema=None) as batch_op:
        batch_op.drop_index('ix_mail_drafts_account_id')
    op.drop_table('mail_drafts')
