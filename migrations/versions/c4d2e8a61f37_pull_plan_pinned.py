"""the pull's plan pinned: no index on jobs.change_seq alone (issue 18)

An up-to-date pull asks for one technician's jobs with `change_seq` in an empty range. With an
index on `change_seq` alone beside `(technician_id, change_seq)`, PostgreSQL's planner switched
between them as the table grew (the pull at 100,000 jobs cost 2.1x its time at 1,000). Only
the pair is left, so the plan is an index range scan on it at any size; writes keep one index
less to maintain.

The change numbers themselves need no migration: on PostgreSQL they are now the writing
transaction's id plus the change counter's value, which stays as it was (so every number made
from now on is above every cursor handed out before); SQLite keeps the counter.

Revision ID: c4d2e8a61f37
Revises: c4e1f2a9b7d3
Create Date: 2026-12-03 17:45:00.000000

"""
from alembic import op

revision = "c4d2e8a61f37"
down_revision = "c4e1f2a9b7d3"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index("ix_jobs_change_seq", table_name="jobs")


def downgrade():
    op.create_index("ix_jobs_change_seq", "jobs", ["change_seq"], unique=False)
