"""The desk's search map in list order (SQLite): ix_job_search_map_created

A page of a common name's newest matches is found by walking the map by created_at instead
of sorting every match (fieldapp/jobs/search_index.py, `walk_is_cheaper`; issue 17). Nothing
on PostgreSQL: its page already walks ix_jobs_created.

Revision ID: d7a3c1e9f402
Revises: d20a1c5e9b47
"""
from alembic import op

revision = "d7a3c1e9f402"
down_revision = "d20a1c5e9b47"
branch_labels = None
depends_on = None

CREATE = ("CREATE INDEX IF NOT EXISTS ix_job_search_map_created ON job_search_map "
          "(created_at, job_id)")


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        bind.exec_driver_sql(CREATE)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        bind.exec_driver_sql("DROP INDEX IF EXISTS ix_job_search_map_created")
