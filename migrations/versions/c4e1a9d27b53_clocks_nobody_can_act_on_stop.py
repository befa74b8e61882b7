"""clocks nobody can act on stop: first contact once a visit is agreed, every clock of a
completed job (issue 17: an alarm only while someone can still act on it)

From now on the jobs service stops these as it goes (fieldapp/core/sla.py says which). Rows
made before are stopped here, at the best moment on record: the first assignment for a first
contact (else the job's last change), the completion for a completed job. Data only.

Revision ID: c4e1a9d27b53
Revises: c4d2e8a61f37
Create Date: 2026-12-03 18:00:00

"""
from alembic import op

revision = 'c4e1a9d27b53'
down_revision = 'c4d2e8a61f37'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("""
        UPDATE sla_clocks SET stopped_at = COALESCE(
            (SELECT MIN(a.assigned_at) FROM job_assignments a WHERE a.job_id = sla_clocks.job_id),
            (SELECT j.updated_at FROM jobs j WHERE j.id = sla_clocks.job_id))
        WHERE name = 'first_contact' AND met_at IS NULL AND stopped_at IS NULL
          AND job_id IN (SELECT id FROM jobs
                         WHERE status <> 'new' OR scheduled_start IS NOT NULL)""")
    op.execute("""
        UPDATE sla_clocks SET stopped_at = (
            SELECT COALESCE(j.completed_at, j.updated_at) FROM jobs j
            WHERE j.id = sla_clocks.job_id)
        WHERE met_at IS NULL AND stopped_at IS NULL
          AND job_id IN (SELECT id FROM jobs WHERE status = 'completed')""")


def downgrade():
    pass  # which clocks ran before cannot be told apart from those stopped since: kept
