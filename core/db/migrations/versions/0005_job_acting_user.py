"""jobs: the user a job acts for, as a column (lists filter by it in SQL, before their limit)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 18:00:00
"""
import json

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('jobs') as batch:
        batch.add_column(sa.Column('acting_user_id', sa.String(length=120), nullable=True))
    jobs = sa.table('jobs', sa.column('id', sa.String), sa.column('principal', sa.Text),
                    sa.column('acting_user_id', sa.String))
    connection = op.get_bind()
    for job_id, principal in connection.execute(sa.select(jobs.c.id, jobs.c.principal)).all():
        user_id = json.loads(principal).get('user_id')
        connection.execute(jobs.update().where(jobs.c.id == job_id).values(acting_user_id=user_id))
    op.create_index('ix_jobs_acting_user_id', 'jobs', ['acting_user_id'])


def downgrade() -> None:
    op.drop_index('ix_jobs_acting_user_id', table_name='jobs')
    with op.batch_alter_table('jobs') as batch:
        batch.drop_column('acting_user_id')
