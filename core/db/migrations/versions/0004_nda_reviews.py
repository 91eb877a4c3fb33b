"""NDA reviews

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 04:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'nda_reviews',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('account_id', sa.String(length=64), nullable=True),
        sa.Column('file_name', sa.String(length=255), nullable=False),
        sa.Column('content_sha256', sa.String(length=64), nullable=False),
        sa.Column('upload_path', sa.String(length=500), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('verdict', sa.String(length=12), nullable=True),
        sa.Column('language', sa.String(length=2), nullable=False),
        sa.Column('document', sa.Text(), nullable=False),
        sa.Column('report', sa.Text(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('created_by', sa.String(length=120), nullable=False),
        sa.Column('job_id', sa.String(length=36), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('nda_reviews', schema=None) as batch_op:
        batch_op.create_index('ix_nda_reviews_account_id', ['account_id'], unique=False)
        batch_op.create_index('ix_nda_reviews_content_sha256', ['content_sha256'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('nda_reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_nda_reviews_content_sha256')
        batch_op.drop_index('ix_nda_reviews_account_id')
    op.drop_table('nda_reviews')
