"""call-off period column

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 01:20:48
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('call_offs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('period', sa.String(length=7), nullable=True))
    # backfill existing rows from the date (ISO text on SQLite, a date on PostgreSQL)
    if op.get_bind().dialect.name == "sqlite":
        op.execute("UPDATE call_offs SET period = substr(call_off_date, 1, 7)")
    else:
        op.execute("UPDATE call_offs SET period = to_char(call_off_date, 'YYYY-MM')")
    with op.batch_alter_table('call_offs', schema=None) as batch_op:
        batch_op.alter_column('period', existing_type=sa.String(length=7), nullable=False)
        batch_op.create_index('ix_call_offs_account_article_period',
                              ['account_id', 'article_id', 'period', 'qty'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('call_offs', schema=None) as batch_op:
        batch_op.drop_index('ix_call_offs_account_article_period')
        batch_op.drop_column('period')
