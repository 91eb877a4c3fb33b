"""briefs, and the language each user reads

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 19:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('language', sa.String(length=2), nullable=False, server_default='de'))
    op.create_table(
        'briefs',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('account_id', sa.String(length=64), nullable=False),
        sa.Column('brief_date', sa.Date(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('language', sa.String(length=2), nullable=False),
        sa.Column('input_hash', sa.String(length=64), nullable=False),
        sa.Column('facts', sa.Text(), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('prose_source', sa.String(length=10), nullable=False),
        sa.Column('model', sa.String(length=120), nullable=True),
        sa.Column('prompt_version', sa.String(length=20), nullable=False),
        sa.Column('prompt_tokens', sa.Integer(), nullable=False),
        sa.Column('completion_tokens', sa.Integer(), nullable=False),
        sa.Column('created_by', sa.String(length=120), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('account_id', 'brief_date', 'kind', 'language', name='uq_briefs_key'),
    )
    with op.batch_alter_table('briefs', schema=None) as batch_op:
        batch_op.create_index('ix_briefs_account_id', ['account_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('briefs', schema=None) as batch_op:
        batch_op.drop_index('ix_briefs_account_id')
    op.drop_table('briefs')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('language')
